"""Who may reach whom in chat: each relationship rule written once, set-wise.

- Directly: two people talk in their direct conversation while they are contacts and no block
  stands between them, either way (`refused_direct_pairs`; `direct_refused` is its one-pair form).
- Into a group: only a contact with no block either way can be put in a group with you
  (`invitable_contacts`); anyone else is refused exactly as a non-contact is, so the refusal
  does not tell that a block exists.
- Within a group both already share, a block keeps the group and hides the two from each
  other: see chat.selectors.messages_seen_by.
"""

from collections.abc import Callable, Iterable

from django.db import connection
from django.db.models import QuerySet
from django.db.models.functions import Lower

from accounts.models import Block, Contact, User
from accounts.selectors import people_hidden_from
from common.pipelined import as_arrays, asked, one_of

from ..models import Conversation, Membership


def refused_direct_pairs(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (sender id, other id) pairs that may not talk directly, in one query for any number."""
    pairs = set(pairs)
    if not pairs:
        return set()
    senders = sorted({sender for sender, _ in pairs})
    others = sorted({other for _, other in pairs})
    people = sorted(set(senders) | set(others))
    # One statement, written once, for what was two ORM queries: it runs on every message sent
    # and building the ORM's SQL cost more than the database's work (bench/RESULTS.md).
    arrays = as_arrays(people)  # one parameter a list, decided once so each list takes the same form
    (senders_in, senders_params), (others_in, others_params), (people_in, people_params) = (
        one_of(ids, arrays=arrays) for ids in (senders, others, people)
    )
    sql = (
        f"SELECT 0, user_id, contact_id FROM {Contact._meta.db_table} "  # noqa: S608
        f"WHERE user_id {senders_in} AND contact_id {others_in} "
        f"UNION ALL SELECT 1, blocker_id, blocked_id FROM {Block._meta.db_table} "
        f"WHERE blocker_id {people_in} AND blocked_id {people_in}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*senders_params, *others_params, *people_params, *people_params])
        contacts, blocked = _contacts_and_blocks(cursor.fetchall())
    return refused_among(pairs, contacts=contacts, blocked=blocked)


def refused_among(
    pairs: Iterable[tuple[int, int]], *, contacts: set[tuple[int, int]], blocked: set[frozenset[int]]
) -> set[tuple[int, int]]:
    """The rule itself, for pairs whose contacts (user, contact) and blocked pairs are known."""
    return {pair for pair in pairs if pair not in contacts or frozenset(pair) in blocked}


def members_contacts_and_blocks_asked(
    sender_ids: list[int], conversation_ids: list[int]
) -> Callable[[], tuple[set[tuple[int, int]], set[frozenset[int]]]]:
    """Asks, for a batch of sends, what `refused_among` and a group's hidden pairs need, in one
    statement: the senders' contacts among the members of the batch's direct conversations, and
    the blocks among the members of all its conversations (a sender not a member is refused
    anyway). Returns the function that reads the answer as (contacts, blocked pairs): inside
    `pipelined` the question goes out with the send's other reads, in one round trip."""
    arrays = as_arrays(sender_ids) or as_arrays(conversation_ids)
    (senders_in, senders_params), (conversations_in, conversations_params) = (
        one_of(ids, arrays=arrays) for ids in (sender_ids, conversation_ids)
    )
    members = f"SELECT user_id FROM {Membership._meta.db_table} WHERE conversation_id {conversations_in}"  # noqa: S608
    direct_members = (
        f"SELECT m.user_id FROM {Membership._meta.db_table} m "  # noqa: S608
        f"JOIN {Conversation._meta.db_table} c ON c.id = m.conversation_id "
        f"WHERE m.conversation_id {conversations_in} AND c.kind = %s"
    )
    read = asked(
        f"SELECT 0, user_id, contact_id FROM {Contact._meta.db_table} "  # noqa: S608
        f"WHERE user_id {senders_in} AND contact_id IN ({direct_members}) "
        f"UNION ALL SELECT 1, blocker_id, blocked_id FROM {Block._meta.db_table} "
        f"WHERE blocker_id IN ({members}) AND blocked_id IN ({members})",
        [
            *senders_params,
            *conversations_params,
            Conversation.Kind.DIRECT.value,
            *conversations_params,
            *conversations_params,
        ],
    )
    return lambda: _contacts_and_blocks(read())


def _contacts_and_blocks(rows) -> tuple[set[tuple[int, int]], set[frozenset[int]]]:
    contacts = {(a, b) for kind, a, b in rows if kind == 0}
    blocked = {frozenset((a, b)) for kind, a, b in rows if kind == 1}
    return contacts, blocked


def direct_refused(user: User, other_id: int) -> bool:
    return bool(refused_direct_pairs({(user.pk, other_id)}))


def invitable_contacts(user: User) -> QuerySet[User]:
    """The people `user` may put in a group: active contacts with no block either way."""
    return (
        User.objects.annotate(username_lower=Lower("username"))
        .filter(contact_links__contact=user, is_active=True)
        .exclude(pk__in=people_hidden_from([user.pk]))
    )
