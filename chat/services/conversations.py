"""Conversations: the direct one of two contacts, groups and their members, muting.

Who can be put in a group is chat.services.reach's rule: contacts with no block either way;
anyone else is refused as a non-contact is. A membership's view starts where it begins
(Membership.visible_after_message_id): someone added, or added again after leaving, sees
only what is said from then on.
"""

from django.db import IntegrityError, transaction
from django.db.models import Max

from accounts.models import User
from accounts.selectors import are_contacts
from common.errors import NotFound
from realtime.services import events_publish

from .. import limits
from ..limits import MAX_TITLE
from ..models import Conversation, Membership, Message
from ..selectors import member_ids
from .checks import ChatError, check_text, named_user, user_or_404
from .reach import invitable_contacts

MEMBERS_EVENT = "conversation.members"


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


def direct_conversation_with(*, user: User, username) -> Conversation:
    """The direct conversation with a contact (created on first use); ChatError for anyone else."""
    other = named_user(username)
    if other is None or other.pk == user.pk or not are_contacts(user, other):
        raise ChatError("not_contacts", "Add them as a contact first.", 403)
    return direct_conversation_get_or_create(user, other)


def _invitees(actor: User, usernames) -> list[User]:
    """The people named, each a contact of `actor` with no block either way; else one refusal
    naming those who are not, worded the same whether they are strangers or blocked."""
    if not isinstance(usernames, list) or not all(isinstance(name, str) for name in usernames):
        raise ChatError("invalid", "members must be a list of usernames.")
    wanted = {name.lower() for name in usernames} - {actor.username.lower()}
    if not wanted:
        raise ChatError("invalid", "Name at least one other member.")
    if len(wanted) > limits.MAX_GROUP_MEMBERS - 1:
        raise ChatError("too_many", f"A group holds at most {limits.MAX_GROUP_MEMBERS} members.")
    people = list(invitable_contacts(actor).filter(username_lower__in=wanted))
    if len(people) != len(wanted):
        found = {user.username.lower() for user in people}
        missing = sorted(wanted - found)
        raise ChatError("not_contacts", f"Only your contacts can be added: {', '.join(missing)}.")
    return people


@transaction.atomic
def conversation_create(*, creator: User, usernames, title="") -> tuple[Conversation, bool]:
    """One other member: the direct conversation (created or found). More: a new group."""
    title = check_text(title or "", field="title", max_length=MAX_TITLE, allow_empty=True)
    people = _invitees(creator, usernames)
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
    """Adds contacts to a group `user` administers. Their view starts now: nothing said before
    they joined (or while they were out, for someone added again) is theirs to read."""
    _admin_membership(user, conversation)
    people = _invitees(user, usernames)
    if Membership.objects.filter(conversation=conversation).count() + len(people) > limits.MAX_GROUP_MEMBERS:
        raise ChatError("too_many", f"A group holds at most {limits.MAX_GROUP_MEMBERS} members.")
    # Read under the group's lock (taken above), not from `conversation`, which may be stale.
    latest = Message.objects.filter(conversation=conversation).aggregate(latest=Max("id"))["latest"] or 0
    present = set(Membership.objects.filter(conversation=conversation).values_list("user_id", flat=True))
    joining = [person for person in people if person.pk not in present]
    Membership.objects.bulk_create(
        [
            Membership(
                conversation=conversation, user=person, visible_after_message_id=latest, last_read_message_id=latest
            )
            for person in joining
        ],
        ignore_conflicts=True,
    )
    if joining:
        _publish_members(conversation, by=user, added=joining)
    return people


@transaction.atomic
def group_member_remove(*, user: User, conversation: Conversation, username) -> None:
    """Leave (yourself) or remove (the admin removes someone else)."""
    other = user_or_404(username)
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
