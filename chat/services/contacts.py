"""Contacts and blocks: requests, accepts, declines, removal, blocking.

A declined request holds off the same person asking again for a while (DECLINE_HOLD, or
settings.CONTACT_REQUEST_DECLINE_HOLD): the repeat answers 429 with Retry-After and a reason
that does not say "declined", and the person who declined hears nothing.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Block, Contact, ContactRequest, User
from accounts.selectors import are_contacts, is_blocked_between
from common.errors import NotFound, RateLimited
from realtime.services import events_publish

from ..limits import DECLINE_HOLD, MAX_NOTE
from ..models import Conversation
from ..serializers import ContactRequestSerializer
from .channels import channel_unsubscribe
from .checks import ChatError, check_text, user_or_404
from .conversations import direct_conversation_get_or_create


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


def decline_hold() -> timedelta:
    return getattr(settings, "CONTACT_REQUEST_DECLINE_HOLD", DECLINE_HOLD)


def _check_not_declined_lately(sender: User, receiver: User) -> None:
    """RateLimited while `receiver` declined `sender`'s request less than the hold ago."""
    since = timezone.now() - decline_hold()
    declined_at = (
        ContactRequest.objects.filter(
            from_user=sender, to_user=receiver, status=ContactRequest.Status.DECLINED, responded_at__gt=since
        )
        .order_by("-responded_at")
        .values_list("responded_at", flat=True)
        .first()
    )
    if declined_at is not None:
        wait = (declined_at + decline_hold() - timezone.now()).total_seconds()
        raise RateLimited(retry_after=int(wait) + 1, detail="You asked them recently. You can ask again later.")


@transaction.atomic
def contact_request_send(*, sender: User, to_username, note="") -> tuple[ContactRequest, Conversation | None]:
    """Asks `to_username` to become a contact. If they already asked us, this accepts."""
    note = check_text(note or "", field="note", max_length=MAX_NOTE, allow_empty=True)
    receiver = user_or_404(to_username)
    if receiver.pk == sender.pk:
        raise ChatError("invalid", "You cannot add yourself.")
    if receiver.is_channel or sender.is_channel:
        raise ChatError("channel", "A channel is never a contact: subscribe to it instead.")
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
    _check_not_declined_lately(sender, receiver)
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
    other = user_or_404(username)
    removed, _ = Contact.objects.filter(Q(user=user, contact=other) | Q(user=other, contact=user)).delete()
    if not removed:
        raise NotFound()


@transaction.atomic
def block_create(*, user: User, username) -> Block:
    """Blocks `username`. Their direct conversation goes quiet both ways; groups the two share
    stay, each hidden from the other there (chat.selectors.messages_seen_by)."""
    other = user_or_404(username)
    if other.pk == user.pk:
        raise ChatError("invalid", "You cannot block yourself.")
    block, _ = Block.objects.get_or_create(blocker=user, blocked=other)
    if other.is_channel:
        # Blocking a channel unsubscribes from it; the block keeps it hidden (no re-subscribing, no messages).
        channel_unsubscribe(user=user, channel=other.channel_profile)
    ContactRequest.objects.filter(
        Q(from_user=user, to_user=other) | Q(from_user=other, to_user=user), status=ContactRequest.Status.PENDING
    ).update(status=ContactRequest.Status.DECLINED, responded_at=timezone.now())
    return block


@transaction.atomic
def block_delete(*, user: User, username) -> None:
    other = user_or_404(username)
    Block.objects.filter(blocker=user, blocked=other).delete()
