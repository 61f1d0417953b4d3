"""Reads of people and their relationships, shared by chat and microblog."""

from django.db.models import Q, QuerySet

from .models import Block, Contact, ContactRequest, User


def user_by_username(username: str) -> User | None:
    return User.objects.filter(username__iexact=username, is_active=True).first()


def are_contacts(a: User, b: User | int) -> bool:
    """`b` may be a user or a user's id (the same query either way)."""
    return Contact.objects.filter(user=a, contact=b).exists()


def contact_ids(user: User) -> set[int]:
    return set(Contact.objects.filter(user=user).values_list("contact_id", flat=True))


def contacts_of(user: User) -> QuerySet[User]:
    contacts = User.objects.filter(contact_links__contact=user, is_active=True)
    return contacts.select_related("avatar").order_by("username")


def is_blocked_between(a: User, b: User | int) -> bool:
    """True when either has blocked the other: blocks cut both ways. `b` may be a user or an id."""
    return Block.objects.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a)).exists()


# Blocks, the one spelling. A block cuts both ways, so every reader asks "hidden from",
# never "blocked by": these three are the set-wise forms every app uses.


def people_hidden_from(user_ids) -> QuerySet:
    """Ids of everyone who blocked, or was blocked by, any of `user_ids` (a list, a set or a subquery).

    A subquery: use it as `__in=` inside a larger query, so the database does the set work.
    """
    # A UNION of the two sides of the block table (SQLite and PostgreSQL both nest it inside `IN`).
    # Not users whose id is in either side: PostgreSQL cannot turn that OR into a join, and scanned
    # the whole users table for it, twice in every visibility check (~5 ms a scan at 50,000 people).
    blocked = Block.objects.filter(blocker_id__in=user_ids).values("blocked_id")
    blockers = Block.objects.filter(blocked_id__in=user_ids).values("blocker_id")
    return blocked.union(blockers)


def blocked_pairs_among(user_ids) -> set[frozenset[int]]:
    """The unordered pairs among `user_ids` with a block in either direction, in one query."""
    ids = set(user_ids)
    pairs = Block.objects.filter(blocker_id__in=ids, blocked_id__in=ids).values_list("blocker_id", "blocked_id")
    return {frozenset(pair) for pair in pairs}


def blocked_ids(user: User) -> set[int]:
    """Everyone this user blocked or was blocked by."""
    pairs = Block.objects.filter(Q(blocker=user) | Q(blocked=user)).values_list("blocker_id", "blocked_id")
    return {other for pair in pairs for other in pair if other != user.id}


def blocked_by(user: User) -> QuerySet[User]:
    """The people this user blocked."""
    blocked = Block.objects.filter(blocker=user).values("blocked_id")
    return User.objects.filter(pk__in=blocked).select_related("avatar").order_by("username")


def contact_requests_for(user: User, *, direction: str) -> QuerySet[ContactRequest]:
    requests = ContactRequest.objects.select_related("from_user__avatar", "to_user__avatar").filter(
        status=ContactRequest.Status.PENDING
    )
    if direction == "outgoing":
        return requests.filter(from_user=user).order_by("-id")
    return requests.filter(to_user=user).order_by("-id")
