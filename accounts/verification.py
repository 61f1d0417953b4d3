"""V badges granted on request: a person asks for `identity` or `organisation` (with a real name and
a reason), an admin approves or refuses (the admin's queue), and the person is told (the
`verification_changed` signal, after commit; microblog turns it into a notification).

Earned tiers (influencer, top_influencer) are microblog.reach_tiers'; a granted badge outranks
them and is never taken away by that computation.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import ServiceError

from .models import GRANTED_TIERS, User, VerificationRequest
from .signals import verification_changed

REAL_NAME_MAX = 100
REASON_MAX = 500


class VerificationError(ServiceError):
    def __init__(self, detail: str, *, code: str = "invalid"):
        super().__init__(code, detail, 400)


def verification_announce_on_commit(user: User, outcome: str) -> None:
    transaction.on_commit(lambda: verification_changed.send_robust(sender=None, user=user, outcome=outcome))


def verification_request(*, user: User, tier: str, real_name: str, reason: str) -> VerificationRequest:
    """Queues `user`'s request for a granted badge; refuses an unknown tier, blanks, and a second open request."""
    if tier not in GRANTED_TIERS:
        raise VerificationError("Ask for identity or organisation verification.", code="invalid_tier")
    real_name, reason = real_name.strip(), reason.strip()
    if not real_name or not reason:
        raise VerificationError("Give your real name (or your organisation's) and a reason.", code="blank")
    if len(real_name) > REAL_NAME_MAX or len(reason) > REASON_MAX:
        raise VerificationError(f"Names up to {REAL_NAME_MAX} characters, reasons up to {REASON_MAX}.")
    try:
        with transaction.atomic():
            return VerificationRequest.objects.create(user=user, tier=tier, real_name=real_name, reason=reason)
    except IntegrityError:
        raise VerificationError("Your earlier request is still waiting for an answer.", code="pending") from None


@transaction.atomic
def verification_decide(*, request_id: int, approve: bool, admin: User) -> VerificationRequest | None:
    """An admin's answer to a pending request (None when it was already answered): approving gives the
    badge; either way the person is told."""
    pending = VerificationRequest.objects.select_for_update().filter(pk=request_id, status="pending").first()
    if pending is None:
        return None
    pending.status = VerificationRequest.Status.APPROVED if approve else VerificationRequest.Status.REFUSED
    pending.decided_at = timezone.now()
    pending.decided_by = admin
    pending.save(update_fields=["status", "decided_at", "decided_by"])
    if approve:
        User.objects.filter(pk=pending.user_id).update(verification=pending.tier)
        pending.user.verification = pending.tier
    verification_announce_on_commit(pending.user, "verified" if approve else "refused")
    return pending


def verification_pending(user: User) -> VerificationRequest | None:
    return VerificationRequest.objects.filter(user=user, status="pending").first()
