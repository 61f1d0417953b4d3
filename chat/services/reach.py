"""Who may reach whom in chat: each relationship rule written once, set-wise.

- Directly: two people talk in their direct conversation while they are contacts and no block
  stands between them, either way (`refused_direct_pairs`; `direct_refused` is its one-pair form).
- Into a group: only a contact with no block either way can be put in a group with you
  (`invitable_contacts`); anyone else is refused exactly as a non-contact is, so the refusal
  does not tell that a block exists.
- Within a group both already share, a block keeps the group and hides the two from each
  other: see chat.selectors.messages_seen_by.
"""

from collections.abc import Iterable

from django.db.models import QuerySet
from django.db.models.functions import Lower

from accounts.models import Contact, User
from accounts.selectors import blocked_pairs_among, people_hidden_from


def refused_direct_pairs(pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (sender id, other id) pairs that may not talk directly, in two queries for any number."""
    pairs = set(pairs)
    if not pairs:
        return set()
    senders = {sender for sender, _ in pairs}
    others = {other for _, other in pairs}
    contacts = set(
        Contact.objects.filter(user_id__in=senders, contact_id__in=others).values_list("user_id", "contact_id")
    )
    blocked = blocked_pairs_among(senders | others)
    return {pair for pair in pairs if pair not in contacts or frozenset(pair) in blocked}


def direct_refused(user: User, other_id: int) -> bool:
    return bool(refused_direct_pairs({(user.pk, other_id)}))


def invitable_contacts(user: User) -> QuerySet[User]:
    """The people `user` may put in a group: active contacts with no block either way."""
    return (
        User.objects.annotate(username_lower=Lower("username"))
        .filter(contact_links__contact=user, is_active=True)
        .exclude(pk__in=people_hidden_from([user.pk]))
    )
