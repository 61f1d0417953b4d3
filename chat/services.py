"""Writes for chat: contacts, conversations, messages. REST views and the /ws/ consumer
both call these, so every path stores the same rows and publishes the same events.

`check_*` functions validate and raise ChatError; the others write in one transaction
and publish through realtime, whose pushes go out after commit.
"""

import operator
from dataclasses import dataclass
from datetime import timedelta
from functools import reduce

from django.db import IntegrityError, models, transaction
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Block, Contact, ContactRequest, User
from accounts.selectors import are_contacts, contact_ids, is_blocked_between, user_by_username
from common.errors import NotFound, ServiceError
from microblog.selectors import post_replies, post_reposts, post_visible
from realtime.services import Publication, ephemeral_send, events_publish, events_publish_many

from .cards import post_cards
from .models import Conversation, Membership, Message
from .selectors import conversation_for_member, is_id, member_ids, message_for_member
from .serializers import ContactRequestSerializer, message_data

MAX_BODY = 4000
MAX_GROUP_MEMBERS = 500
RECALL_WINDOW = timedelta(minutes=2)


class ChatError(ServiceError):
    """A chat request the user may fix: ChatError(code, detail, status=400)."""


def check_text(value, *, field: str, max_length: int, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ChatError("invalid", f"{field} must be a string.")
    text = value.strip()
    if not text and not allow_empty:
        raise ChatError("invalid", f"{field} may not be blank.")
    if len(text) > max_length:
        raise ChatError("too_long", f"{field} is limited to {max_length} characters.")
    return text


def check_member_conversation(*, user: User, conversation_id) -> Conversation:
    """The conversation if `user` is a member; NotFound alike when it is not theirs or does not exist."""
    conversation = conversation_for_member(user=user, conversation_id=conversation_id)
    if conversation is None:
        raise NotFound()
    return conversation


# Contacts ------------------------------------------------------------------------------


def _user_or_404(username) -> User:
    user = user_by_username(username) if isinstance(username, str) else None
    if user is None:
        raise NotFound()
    return user


def _publish_request(request: ContactRequest) -> None:
    events_publish(
        user_ids=[request.to_user_id],
        event_type="contact.request",
        ref={"request": request.pk},
        frame={"request": ContactRequestSerializer(request).data},
    )


def _make_contacts(request: ContactRequest) -> Conversation:
    a, b = request.from_user, request.to_user
    Contact.objects.bulk_create([Contact(user=a, contact=b), Contact(user=b, contact=a)], ignore_conflicts=True)
    conversation = direct_conversation_get_or_create(a, b)
    events_publish(
        user_ids=[a.pk, b.pk],
        event_type="contact.accepted",
        ref={"request": request.pk, "conversation_id": conversation.pk},
        frame={"request": ContactRequestSerializer(request).data, "conversation_id": conversation.pk},
    )
    return conversation


@transaction.atomic
def contact_request_send(*, sender: User, to_username, note="") -> tuple[ContactRequest, Conversation | None]:
    """Asks `to_username` to become a contact. If they already asked us, this accepts."""
    note = check_text(note or "", field="note", max_length=200, allow_empty=True)
    receiver = _user_or_404(to_username)
    if receiver.pk == sender.pk:
        raise ChatError("invalid", "You cannot add yourself.")
    _lock_pair(sender.pk, receiver.pk)
    if is_blocked_between(sender, receiver):
        # Said the same way as an unknown user: a block is not revealed.
        raise NotFound()
    if are_contacts(sender, receiver):
        raise ChatError("already_contacts", "You are already contacts.")
    crossing = (
        ContactRequest.objects.select_for_update()
        .filter(from_user=receiver, to_user=sender, status=ContactRequest.Status.PENDING)
        .first()
    )
    if crossing is not None:
        return crossing, _accept(crossing)
    existing = ContactRequest.objects.filter(
        from_user=sender, to_user=receiver, status=ContactRequest.Status.PENDING
    ).first()
    if existing is not None:
        return existing, None
    request = ContactRequest.objects.create(from_user=sender, to_user=receiver, note=note)
    _publish_request(request)
    return request, None


def _accept(request: ContactRequest) -> Conversation:
    request.status = ContactRequest.Status.ACCEPTED
    request.responded_at = timezone.now()
    request.save(update_fields=["status", "responded_at"])
    return _make_contacts(request)


def _lock_pair(first_id: int, second_id: int) -> None:
    """Serializes the contact writes between two people until commit.

    Without it, two people asking each other at once both store a pending request (and
    nobody accepts), and the same request twice at once breaks the one-pending rule with
    a 500. PostgreSQL row locks, taken in id order so that two writers cannot deadlock;
    SQLite's IMMEDIATE transactions serialize every writer already.
    """
    pair = User.objects.select_for_update().filter(pk__in=[first_id, second_id]).order_by("pk")
    list(pair.values_list("pk", flat=True))


def _pending_request_to(user: User, request_id) -> ContactRequest:
    try:
        request_id = int(request_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    sender_ids = ContactRequest.objects.filter(pk=request_id, to_user=user).values_list("from_user_id", flat=True)
    if not sender_ids:
        raise NotFound()
    _lock_pair(sender_ids[0], user.pk)  # before the request's own lock: the order contact_request_send takes
    request = ContactRequest.objects.select_for_update().select_related("from_user", "to_user").get(pk=request_id)
    if request.status != ContactRequest.Status.PENDING:
        raise ChatError("not_pending", f"This request was already {request.status}.", 409)
    return request


@transaction.atomic
def contact_request_accept(*, user: User, request_id) -> tuple[ContactRequest, Conversation]:
    request = _pending_request_to(user, request_id)
    if is_blocked_between(request.from_user, user):
        raise NotFound()
    return request, _accept(request)


@transaction.atomic
def contact_request_decline(*, user: User, request_id) -> ContactRequest:
    request = _pending_request_to(user, request_id)
    request.status = ContactRequest.Status.DECLINED
    request.responded_at = timezone.now()
    request.save(update_fields=["status", "responded_at"])
    return request


@transaction.atomic
def contact_remove(*, user: User, username) -> None:
    other = _user_or_404(username)
    removed, _ = Contact.objects.filter(Q(user=user, contact=other) | Q(user=other, contact=user)).delete()
    if not removed:
        raise NotFound()


@transaction.atomic
def block_create(*, user: User, username) -> Block:
    other = _user_or_404(username)
    if other.pk == user.pk:
        raise ChatError("invalid", "You cannot block yourself.")
    block, _ = Block.objects.get_or_create(blocker=user, blocked=other)
    ContactRequest.objects.filter(
        Q(from_user=user, to_user=other) | Q(from_user=other, to_user=user), status=ContactRequest.Status.PENDING
    ).update(status=ContactRequest.Status.DECLINED, responded_at=timezone.now())
    return block


@transaction.atomic
def block_delete(*, user: User, username) -> None:
    other = _user_or_404(username)
    Block.objects.filter(blocker=user, blocked=other).delete()


# Conversations -------------------------------------------------------------------------


def direct_conversation_get_or_create(a: User, b: User) -> Conversation:
    key = Conversation.key_for_pair(a.pk, b.pk)
    conversation = Conversation.objects.filter(direct_key=key).first()
    if conversation is not None:
        return conversation
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(kind=Conversation.Kind.DIRECT, direct_key=key, created_by=a)
            Membership.objects.bulk_create(
                [Membership(conversation=conversation, user=a), Membership(conversation=conversation, user=b)]
            )
    except IntegrityError:  # created by a concurrent request in the meantime
        conversation = Conversation.objects.get(direct_key=key)
    return conversation


def _contacts_by_username(creator: User, usernames) -> list[User]:
    if not isinstance(usernames, list) or not all(isinstance(name, str) for name in usernames):
        raise ChatError("invalid", "members must be a list of usernames.")
    wanted = {name.lower() for name in usernames} - {creator.username.lower()}
    if not wanted:
        raise ChatError("invalid", "Name at least one other member.")
    if len(wanted) > MAX_GROUP_MEMBERS - 1:
        raise ChatError("too_many", f"A group holds at most {MAX_GROUP_MEMBERS} members.")
    people = list(
        User.objects.annotate(username_lower=Lower("username")).filter(
            contact_links__contact=creator, is_active=True, username_lower__in=wanted
        )
    )
    if len(people) != len(wanted):
        found = {user.username.lower() for user in people}
        missing = sorted(wanted - found)
        raise ChatError("not_contacts", f"Only your contacts can be added: {', '.join(missing)}.")
    return people


@transaction.atomic
def conversation_create(*, creator: User, usernames, title="") -> tuple[Conversation, bool]:
    """One other member: the direct conversation (created or found). More: a new group."""
    title = check_text(title or "", field="title", max_length=100, allow_empty=True)
    people = _contacts_by_username(creator, usernames)
    if len(people) == 1 and not title:
        key = Conversation.key_for_pair(creator.pk, people[0].pk)
        existed = Conversation.objects.filter(direct_key=key).exists()
        return direct_conversation_get_or_create(creator, people[0]), not existed
    conversation = Conversation.objects.create(kind=Conversation.Kind.GROUP, title=title, created_by=creator)
    Membership.objects.bulk_create(
        [Membership(conversation=conversation, user=creator, role=Membership.Role.ADMIN)]
        + [Membership(conversation=conversation, user=person) for person in people]
    )
    return conversation, True


def _admin_membership(user: User, conversation: Conversation) -> Membership:
    # Membership changes of one group run one at a time, so concurrent adds cannot pass the limit.
    Conversation.objects.select_for_update().filter(pk=conversation.pk).values_list("pk").first()
    membership = Membership.objects.filter(conversation=conversation, user=user).first()
    if membership is None:
        raise NotFound()
    if conversation.kind != Conversation.Kind.GROUP:
        raise ChatError("not_group", "Only groups have members to manage.")
    if membership.role != Membership.Role.ADMIN:
        raise ChatError("forbidden", "Only the group's admin can do that.", 403)
    return membership


MEMBERS_EVENT = "conversation.members"


def _publish_members(conversation: Conversation, *, by: User, added=(), removed=()) -> None:
    """Tells the members, and whoever just left or was removed, who came and went (a stored event:
    a removed member's open page learns it is out, and a client that was offline finds it on resume)."""
    change = {
        "conversation": conversation.pk,
        "by": by.username,
        "added": [person.username for person in added],
        "removed": [person.username for person in removed],
    }
    audience = set(member_ids(conversation)) | {person.pk for person in removed}
    events_publish(user_ids=audience, event_type=MEMBERS_EVENT, ref=change, frame=change)


@transaction.atomic
def group_members_add(*, user: User, conversation: Conversation, usernames) -> list[User]:
    _admin_membership(user, conversation)
    people = _contacts_by_username(user, usernames)
    if Membership.objects.filter(conversation=conversation).count() + len(people) > MAX_GROUP_MEMBERS:
        raise ChatError("too_many", f"A group holds at most {MAX_GROUP_MEMBERS} members.")
    # New members start with everything so far counted as read.
    latest = conversation.last_message_id or 0
    present = set(Membership.objects.filter(conversation=conversation).values_list("user_id", flat=True))
    joining = [person for person in people if person.pk not in present]
    Membership.objects.bulk_create(
        [Membership(conversation=conversation, user=person, last_read_message_id=latest) for person in joining],
        ignore_conflicts=True,
    )
    if joining:
        _publish_members(conversation, by=user, added=joining)
    return people


@transaction.atomic
def group_member_remove(*, user: User, conversation: Conversation, username) -> None:
    """Leave (yourself) or remove (the admin removes someone else)."""
    other = _user_or_404(username)
    if other.pk == user.pk:
        if conversation.kind != Conversation.Kind.GROUP:
            raise ChatError("not_group", "You cannot leave a direct conversation.")
        if Membership.objects.filter(conversation=conversation, user=user).delete()[0]:
            _publish_members(conversation, by=user, removed=[user])
        return
    _admin_membership(user, conversation)
    if not Membership.objects.filter(conversation=conversation, user=other).delete()[0]:
        raise NotFound()
    _publish_members(conversation, by=user, removed=[other])


@transaction.atomic
def conversation_mute(*, user: User, conversation: Conversation, muted: bool) -> bool:
    """Mutes (or unmutes) a conversation for `user` alone; their other sockets hear of it.

    Returns whether anything changed. Messages keep arriving as before: muting only
    keeps them out of the unread badge and the tab title.
    """
    changed = Membership.objects.filter(conversation=conversation, user=user).exclude(muted=muted).update(muted=muted)
    if changed:
        body = {"conversation": conversation.pk, "muted": muted}
        events_publish(user_ids=[user.pk], event_type="conversation.muted", ref=body, frame=body)
    return bool(changed)


# Messages ------------------------------------------------------------------------------


@dataclass
class OutgoingMessage:
    """One send as a client asked for it; nothing here is trusted yet."""

    sender: User
    conversation_id: object
    body: object
    client_id: object = None
    reply_to: object = None
    shared_post: object = None


@dataclass
class SendResult:
    message: Message | None = None
    created: bool = False
    error: ServiceError | None = None
    # The message as clients see it (message_data), made once for the push and the answer.
    rendered: dict | None = None


@dataclass
class _Checked:
    index: int
    send: OutgoingMessage
    body: str
    client_id: str
    conversation: Conversation | None = None
    reply_to_id: int | None = None


def _check_fields(send: OutgoingMessage) -> _Checked:
    if send.shared_post is not None and not is_id(send.shared_post):
        raise ChatError("invalid", "shared_post must be a post id.")
    # Sharing a post may come without words, as in WeChat.
    body = check_text(
        "" if send.body is None and send.shared_post is not None else send.body,
        field="body",
        max_length=MAX_BODY,
        allow_empty=send.shared_post is not None,
    )
    client_id = "" if send.client_id is None else send.client_id
    if not isinstance(client_id, str) or len(client_id) > 64:
        raise ChatError("invalid", "client_id must be a string of at most 64 characters.")
    if send.reply_to is not None and not is_id(send.reply_to):
        raise ChatError("invalid", "reply_to must be a message id.")
    if not is_id(send.conversation_id):
        raise NotFound()
    return _Checked(index=-1, send=send, body=body, client_id=client_id, reply_to_id=send.reply_to)


def _direct_refusals(checked: list[_Checked]) -> set[int]:
    """Indexes of sends into direct conversations whose two people are not (or no longer) contacts."""
    pairs = {}
    for item in checked:
        if item.conversation.kind == Conversation.Kind.DIRECT:
            low, high = map(int, item.conversation.direct_key.split(":"))
            pairs[item.index] = (item.send.sender.pk, high if low == item.send.sender.pk else low)
    if not pairs:
        return set()
    senders = {a for a, _ in pairs.values()}
    others = {b for _, b in pairs.values()}
    contacts = set(
        Contact.objects.filter(user_id__in=senders, contact_id__in=others).values_list("user_id", "contact_id")
    )
    everyone = senders | others
    blocks = set(
        Block.objects.filter(blocker_id__in=everyone, blocked_id__in=everyone).values_list("blocker_id", "blocked_id")
    )
    return {index for index, (a, b) in pairs.items() if (a, b) not in contacts or (a, b) in blocks or (b, a) in blocks}


def message_send_many(*, sends: list[OutgoingMessage], _retried: bool = False) -> list[SendResult]:
    """Stores many sends in one transaction (group commit) and pushes `message.new` after it.

    This is the one path for sending: REST sends a batch of one, the socket's writer
    sends whatever is waiting. Each send is checked on its own; a bad one gets its
    error and does not stop the others. Order is kept: per sender, messages get ids
    and seqs in the order given. A client_id the sender already used returns the first
    message (created False) and stores and pushes nothing.
    """
    results = [SendResult() for _ in sends]
    checked: list[_Checked] = []
    for index, send in enumerate(sends):
        try:
            item = _check_fields(send)
        except ServiceError as error:
            results[index].error = error
            continue
        item.index = index
        checked.append(item)
    if not checked:
        return results

    memberships = Membership.objects.filter(
        user_id__in={item.send.sender.pk for item in checked},
        conversation_id__in={item.send.conversation_id for item in checked},
    ).select_related("conversation")
    conversations = {(m.user_id, m.conversation_id): m.conversation for m in memberships}
    with_client_id = [item for item in checked if item.client_id]
    earlier = {
        (m.sender_id, m.client_id): m
        for m in Message.objects.filter(
            sender_id__in={item.send.sender.pk for item in with_client_id},
            client_id__in={item.client_id for item in with_client_id},
        ).select_related("sender")
    }
    reply_targets = dict(
        Message.objects.filter(pk__in={item.reply_to_id for item in checked if item.reply_to_id}).values_list(
            "pk", "conversation_id"
        )
    )

    valid: list[_Checked] = []
    seen_in_batch: dict[tuple[int, str], _Checked] = {}
    for item in checked:
        result = results[item.index]
        item.conversation = conversations.get((item.send.sender.pk, item.send.conversation_id))
        key = (item.send.sender.pk, item.client_id)
        if item.conversation is None:
            result.error = NotFound()
        elif item.client_id and key in earlier:
            if earlier[key].conversation_id != item.conversation.pk:
                result.error = ChatError("client_id_reused", "That client_id was used for another conversation.", 409)
            else:
                result.message = earlier[key]
        elif item.reply_to_id and reply_targets.get(item.reply_to_id) != item.conversation.pk:
            result.error = ChatError("invalid", "reply_to must be a message of this conversation.")
        elif item.send.shared_post is not None and post_visible(item.send.sender, item.send.shared_post) is None:
            # The same answer for a post that does not exist and one the sender may not see.
            result.error = ChatError("invalid", "shared_post must be a post you can see.")
        elif item.client_id and key in seen_in_batch:
            continue  # the same send twice in one batch: answered below with the first one's message
        else:
            if item.client_id:
                seen_in_batch[key] = item
            valid.append(item)
    for index in _direct_refusals(valid):
        results[index].error = ChatError("not_contacts", "You can only message your contacts.", 403)
    valid = [item for item in valid if results[item.index].error is None]

    if valid:
        try:
            _store(valid, results)
        except IntegrityError:
            # The same client_id raced in from another socket or request. Rare: redo the sends
            # one by one, where the retry finds the first message (or fails for another reason).
            if _retried:
                raise
            return [message_send_many(sends=[send], _retried=True)[0] for send in sends]
    for item in checked:
        result = results[item.index]
        first = seen_in_batch.get((item.send.sender.pk, item.client_id)) if item.client_id else None
        if result.message is None and result.error is None and first is not None:
            result.message = results[first.index].message
            result.error = results[first.index].error
    return results


@transaction.atomic
def _store(valid: list[_Checked], results: list[SendResult]) -> None:
    messages = Message.objects.bulk_create(
        [
            Message(
                conversation=item.conversation,
                sender=item.send.sender,
                body=item.body,
                client_id=item.client_id,
                reply_to_id=item.reply_to_id,
                shared_post_id=item.send.shared_post,
            )
            for item in valid
        ]
    )
    latest: dict[int, Message] = {}
    read_by_sender: dict[tuple[int, int], int] = {}
    for item, message in zip(valid, messages, strict=True):
        results[item.index].message = message
        results[item.index].created = True
        latest[message.conversation_id] = message
        read_by_sender[(message.conversation_id, message.sender_id)] = message.pk
    # One UPDATE for all the conversations of the batch, one for the senders' read marks
    # (the sender has read what they wrote), rather than two per conversation.
    Conversation.objects.filter(pk__in=latest).update(
        last_message_id=Case(*[When(pk=cid, then=Value(m.pk)) for cid, m in latest.items()]),
        last_activity_at=Case(
            *[When(pk=cid, then=Value(m.created_at)) for cid, m in latest.items()],
            output_field=models.DateTimeField(),
        ),
    )
    read_marks = [When(conversation_id=cid, user_id=uid, then=Value(mid)) for (cid, uid), mid in read_by_sender.items()]
    Membership.objects.filter(
        reduce(operator.or_, (Q(conversation_id=cid, user_id=uid) for cid, uid in read_by_sender))
    ).update(last_read_message_id=Case(*read_marks, output_field=models.BigIntegerField()))
    members: dict[int, list[int]] = {}
    for conversation_id, user_id in Membership.objects.filter(conversation_id__in=latest).values_list(
        "conversation_id", "user_id"
    ):
        members.setdefault(conversation_id, []).append(user_id)
    publications = []
    for item, message in zip(valid, messages, strict=True):
        recipients = members.get(message.conversation_id, [])
        if message.shared_post_id is None:
            rendered = message_data(message)
            frame = {"message": rendered}
        else:
            frame = _per_reader_frames(message, recipients)
            rendered = frame(message.sender_id)["message"]
        results[item.index].rendered = rendered
        publications.append(
            Publication(user_ids=recipients, event_type="message.new", ref={"message": message.pk}, frame=frame)
        )
    events_publish_many(publications)


def _per_reader_frames(message: Message, reader_ids: list[int]):
    """Frames of a message with a shared post: each reader gets the card they may see."""
    cards = {
        reader.pk: post_cards(reader, [message.shared_post_id])[message.shared_post_id]
        for reader in User.objects.filter(pk__in=reader_ids)
    }
    return lambda reader_id: {"message": message_data(message, cards.get(reader_id))}


def message_send(
    *, sender: User, conversation: Conversation, body, client_id=None, reply_to=None, shared_post=None
) -> tuple[Message, bool]:
    """Sends one message (see message_send_many). Returns (message, created); raises ChatError."""
    outgoing = OutgoingMessage(
        sender=sender,
        conversation_id=conversation.pk,
        body=body,
        client_id=client_id,
        reply_to=reply_to,
        shared_post=shared_post,
    )
    [result] = message_send_many(sends=[outgoing])
    if result.error is not None:
        raise result.error
    return result.message, result.created


@transaction.atomic
def message_recall(*, user: User, message_id) -> Message:
    message = message_for_member(user=user, message_id=message_id)
    if message is None:
        raise NotFound()
    if message.sender_id != user.pk:
        raise ChatError("forbidden", "Only the sender can recall a message.", 403)
    if message.recalled:
        return message
    if timezone.now() - message.created_at > RECALL_WINDOW:
        raise ChatError("too_late", "Messages can be recalled within 2 minutes of sending.")
    message.recalled_at = timezone.now()
    message.save(update_fields=["recalled_at"])
    events_publish(
        user_ids=member_ids(message.conversation),
        event_type="message.recalled",
        ref={"message": message.pk},
        frame={"message": message_data(message)},
    )
    return message


@transaction.atomic
def conversation_read(*, user: User, conversation: Conversation, up_to) -> int:
    """Marks messages up to `up_to` read; tells the other members. Never moves backwards."""
    if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 0:
        raise ChatError("invalid", "up_to must be a message id.")
    newest = conversation.messages.filter(id__lte=up_to).order_by("-id").values_list("id", flat=True).first()
    if newest is None:
        raise ChatError("invalid", "up_to must be a message of this conversation.")
    moved = Membership.objects.filter(conversation=conversation, user=user, last_read_message_id__lt=newest).update(
        last_read_message_id=newest
    )
    others = _told_of_activity(user, conversation) if moved else []
    if others:
        events_publish(
            user_ids=others,
            event_type="read",
            ref={"conversation": conversation.pk, "user": user.username, "up_to": newest},
            frame={"conversation": conversation.pk, "user": user.username, "up_to": newest},
        )
    return newest


def _told_of_activity(user: User, conversation: Conversation) -> list[int]:
    """The members who hear of `user` typing or reading. In a direct conversation, nobody once the
    two are no longer contacts or a block stands between them: the same rule that refuses messages."""
    others = [uid for uid in member_ids(conversation) if uid != user.pk]
    if conversation.kind == Conversation.Kind.DIRECT and others and _direct_refused(user, others[0]):
        return []
    return others


def _direct_refused(user: User, other_id: int) -> bool:
    return not are_contacts(user, other_id) or is_blocked_between(user, other_id)


def typing_send(*, user: User, conversation: Conversation) -> None:
    others = _told_of_activity(user, conversation)
    if conversation.kind == Conversation.Kind.DIRECT and not others:
        raise ChatError("not_contacts", "You can only message your contacts.", 403)
    ephemeral_send(user_ids=others, frame={"type": "typing", "conversation": conversation.pk, "user": user.username})


@dataclass
class PrivateThread:
    conversation: Conversation
    invited: list[User]


def post_people(*, viewer: User, post) -> list[User]:
    """Who a post's thread involves, as the viewer sees it: the author, then repliers and reposters."""
    people: dict[int, User] = {post.author_id: post.author}
    for other in [*post_replies(viewer, post)[:200], *post_reposts(viewer, post)[:200]]:
        people.setdefault(other.author_id, other.author)
    people.pop(viewer.pk, None)
    return list(people.values())


@transaction.atomic
def conversation_from_post(*, creator: User, post_id, usernames) -> PrivateThread:
    """Takes a public thread private: a group with the chosen people who are contacts, opened
    with the post as its first message; the others get a contact request about the post."""
    post = post_visible(creator, post_id)
    if post is None:
        raise NotFound()
    if not isinstance(usernames, list) or not all(isinstance(name, str) for name in usernames):
        raise ChatError("invalid", "members must be a list of usernames.")
    involved = {person.username.lower(): person for person in post_people(viewer=creator, post=post)}
    chosen = {name.lower() for name in usernames}
    if not chosen or not chosen <= set(involved):
        raise ChatError("invalid", "Choose people from the post's author, repliers and reposters.")
    contacts = contact_ids(creator)
    members = [involved[name] for name in sorted(chosen) if involved[name].pk in contacts]
    others = [involved[name] for name in sorted(chosen) if involved[name].pk not in contacts]
    if not members:
        raise ChatError("not_contacts", "None of them is your contact yet: add them first.")
    title = f"About @{post.author.username}'s post"[:100]
    conversation, _ = conversation_create(creator=creator, usernames=[m.username for m in members], title=title)
    message_send(sender=creator, conversation=conversation, body="", shared_post=post.pk)
    invited = []
    for person in others:
        try:
            contact_request_send(sender=creator, to_username=person.username, note=f"About your post: /p/{post.pk}/")
        except ServiceError:
            continue  # blocked or already asked: nothing to add
        invited.append(person)
    return PrivateThread(conversation=conversation, invited=invited)
