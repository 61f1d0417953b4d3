"""Taking a public thread private: a group about a post with people from its thread."""

from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from common.errors import NotFound, ServiceError
from microblog.selectors import post_replies, post_reposts, post_visible

from ..models import Conversation
from .checks import ChatError
from .contacts import contact_request_send
from .conversations import conversation_create
from .messages import message_send
from .reach import invitable_contacts


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


def invitable_ids(user: User) -> set[int]:
    """Ids of the people `user` may put in a group (chat.services.reach)."""
    return set(invitable_contacts(user).values_list("pk", flat=True))


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
    contacts = invitable_ids(creator)
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
            continue  # blocked, already asked or asked too lately: nothing to add
        invited.append(person)
    return PrivateThread(conversation=conversation, invited=invited)
