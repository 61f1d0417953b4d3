"""Writes for chat: contacts, conversations, messages. REST views and the /ws/ consumer
both call these, so every path stores the same rows and publishes the same events.

One module per seam; everything callers use is re-exported here, so `from chat import
services; services.message_send_many(...)` keeps working:

- checks: ChatError, text fields, membership, a named person;
- reach: who may reach whom (direct conversations, group invitations), each rule once;
- contacts: requests, accepts, declines (with the hold on repeats), blocks;
- conversations: the direct conversation, groups and their members, muting;
- messages: the send pipeline (group commit) and recall;
- activity: read marks and typing;
- private: taking a public thread private;
- hidden: delete for me.

`check_*` functions validate and raise ChatError; the others write in one transaction and
publish through realtime, whose pushes go out after commit.
"""

from common.errors import NotFound, ServiceError

from ..limits import MAX_BODY, MAX_GROUP_MEMBERS, RECALL_WINDOW
from .activity import conversation_read, typing_send
from .checks import ChatError, check_member_conversation, check_text
from .contacts import (
    block_create,
    block_delete,
    contact_remove,
    contact_request_accept,
    contact_request_decline,
    contact_request_send,
)
from .conversations import (
    MEMBERS_EVENT,
    conversation_create,
    conversation_mute,
    direct_conversation_get_or_create,
    direct_conversation_with,
    group_member_remove,
    group_members_add,
)
from .hidden import message_hide
from .messages import OutgoingMessage, SendResult, message_recall, message_send, message_send_many
from .private import PrivateThread, conversation_from_post, invitable_ids, post_people
from .voice import voice_played

__all__ = [
    "MAX_BODY",
    "MAX_GROUP_MEMBERS",
    "MEMBERS_EVENT",
    "RECALL_WINDOW",
    "ChatError",
    "NotFound",
    "OutgoingMessage",
    "PrivateThread",
    "SendResult",
    "ServiceError",
    "block_create",
    "block_delete",
    "check_member_conversation",
    "check_text",
    "contact_remove",
    "contact_request_accept",
    "contact_request_decline",
    "contact_request_send",
    "conversation_create",
    "conversation_from_post",
    "conversation_mute",
    "conversation_read",
    "direct_conversation_get_or_create",
    "direct_conversation_with",
    "group_member_remove",
    "group_members_add",
    "invitable_ids",
    "message_hide",
    "message_recall",
    "message_send",
    "message_send_many",
    "post_people",
    "typing_send",
    "voice_played",
]
