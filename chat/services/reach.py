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
    senders = {sender for sender, _ in pairs}
    others = {other for _, other in pairs}
    contacts, blocked = contacts_and_blocks_among(senders, others, senders | others)
    return refused_among(pairs, contacts=contacts, blocked=blocked)


def contacts_and_blocks_among(
    sender_ids: set[int], others: set[int], people: set[int]
) -> tuple[set[tuple[int, int]], set[frozenset[int]]]:
    """The senders' contacts among `others`, as (user, contact), and the blocked pairs among
    `people`, either way. One statement, written once, for what was two ORM queries: it runs on
    every message sent and building the ORM's SQL cost more than the database's work
    (bench/RESULTS.md)."""
    senders, others, people = sorted(sender_ids), sorted(others), sorted(people)
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
        return _contacts_and_blocks(cursor.fetchall())


def refused_among(
    pairs: Iterable[tuple[int, int]], *, contacts: set[tuple[int, int]], blocked: set[frozenset[int]]
) -> set[tuple[int, int]]:
    """The rule itself, for pairs whose contacts (user, contact) and blocked pairs are known."""
    return {pair for pair in pairs if pair not in contacts or frozenset(pair) in blocked}


def members_contacts_and_blocks_asked(
    sender_ids: list[int], conversation_ids: list[int]
) -> Callable[[], tuple[set[tuple[int, int]], set[frozenset[int]]]]:
    """Asks, for a batch of sends, what `refused_among` and a group's hidden pairs need, in one
    statement that finds the members itself (`contacts_and_blocks_among` asks with them known):
    each sender's contacts among the other members of their direct conversations, and the blocks
    between two members of one of the conversations (a sender not a member is refused anyway).
    Returns the function that reads the answer as (contacts, blocked pairs): inside `pipelined` the
    question goes out with the send's other reads, in one round trip (PostgreSQL)."""
    arrays = as_arrays(sender_ids) or as_arrays(conversation_ids)
    (senders_in, senders_params), (conversations_in, conversations_params) = (
        one_of(ids, arrays=arrays) for ids in (sender_ids, conversation_ids)
    )
    membership, conversation = Membership._meta.db_table, Conversation._meta.db_table
    read = asked(
        f"SELECT 0, c.user_id, c.contact_id FROM {membership} s "  # noqa: S608
        f"JOIN {conversation} cv ON cv.id = s.conversation_id AND cv.kind = %s "
        f"JOIN {membership} o ON o.conversation_id = s.conversation_id AND o.user_id <> s.user_id "
        f"JOIN {Contact._meta.db_table} c ON c.user_id = s.user_id AND c.contact_id = o.user_id "
        f"WHERE s.conversation_id {conversations_in} AND s.user_id {senders_in} "
        f"UNION ALL SELECT 1, b.blocker_id, b.blocked_id FROM {membership} m "
        f"JOIN {Block._meta.db_table} b ON b.blocker_id = m.user_id "
        f"JOIN {membership} o ON o.conversation_id = m.conversation_id AND o.user_id = b.blocked_id "
        f"WHERE m.conversation_id {conversations_in}",
        [Conversation.Kind.DIRECT.value, *conversations_params, *senders_params, *conversations_params],
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
