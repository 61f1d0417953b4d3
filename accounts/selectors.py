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
    return User.objects.filter(contact_links__contact=user, is_active=True).order_by("username")


def is_blocked_between(a: User, b: User | int) -> bool:
    """True when either has blocked the other: blocks cut both ways. `b` may be a user or an id."""
    return Block.objects.filter(Q(blocker=a, blocked=b) | Q(blocker=b, blocked=a)).exists()


def blocked_ids(user: User) -> set[int]:
    """Everyone this user blocked or was blocked by."""
    pairs = Block.objects.filter(Q(blocker=user) | Q(blocked=user)).values_list("blocker_id", "blocked_id")
    return {other for pair in pairs for other in pair if other != user.id}


def blocked_by(user: User) -> QuerySet[User]:
    """The people this user blocked."""
    return User.objects.filter(pk__in=Block.objects.filter(blocker=user).values("blocked_id")).order_by("username")


def contact_requests_for(user: User, *, direction: str) -> QuerySet[ContactRequest]:
    requests = ContactRequest.objects.select_related("from_user", "to_user").filter(
        status=ContactRequest.Status.PENDING
    )
    if direction == "outgoing":
        return requests.filter(from_user=user).order_by("-id")
    return requests.filter(to_user=user).order_by("-id")
