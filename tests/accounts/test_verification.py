"""V badges: identity/organisation asked for and decided in the admin, influencer tiers earned from
reach; the person is told each time, and the badge shows with its label wherever their name does."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import VerificationRequest
from microblog import reads
from microblog.models import PostRead
from microblog.reach_tiers import earned_tiers_compute
from microblog.services import user_follow
from tests.factories import PostFactory
from tests.live import log_in


@pytest.fixture(autouse=True)
def fresh_reads(db):
    reads.buffer().discard()
    yield
    reads.buffer().discard()


def notification_kinds(client_for, user) -> list[str]:
    return [n["kind"] for n in client_for(user).get("/api/notifications/").json()["results"]]


def test_a_request_approved_in_the_admin_gives_the_badge_and_tells_the_person(
    client, client_for, alice, bob, make_user, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    asked = client.post(
        "/settings/verification/",
        {"tier": "organisation", "real_name": "Alice Climbing Club", "reason": "The club's own account"},
    )
    assert asked.status_code == 302
    assert "waiting for an admin" in client.get("/settings/verification/").content.decode()
    again = client.post("/settings/verification/", {"tier": "identity", "real_name": "A", "reason": "again"})
    assert VerificationRequest.objects.filter(user=alice).count() == 1 and again.status_code == 200

    admin = make_user(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    queue = client.get("/admin/accounts/verificationrequest/").content.decode()
    assert "Alice Climbing Club" in queue
    pending = VerificationRequest.objects.get(user=alice)
    with django_capture_on_commit_callbacks(execute=True):
        decided = client.post(
            "/admin/accounts/verificationrequest/", {"action": "approve", "_selected_action": [pending.pk]}
        )
    assert decided.status_code == 302
    alice.refresh_from_db()
    assert alice.verification == "organisation"
    assert notification_kinds(client_for, alice) == ["verified"]
    post = PostFactory(author=alice, body="club news")
    author = client_for(bob).get(f"/api/posts/{post.pk}/").json()["author"]
    assert author["verification"] == {"tier": "organisation", "label": "Verified organisation"}
    client.force_login(bob)
    page = client.get(f"/p/{post.pk}/").content.decode()
    assert 'aria-label="Verified organisation"' in page


def test_a_refused_request_changes_nothing_but_tells_the_person(
    client, client_for, alice, make_user, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    client.post("/settings/verification/", {"tier": "identity", "real_name": "Alice A", "reason": "It is me"})
    client.force_login(make_user(username="admin", is_staff=True, is_superuser=True))
    pending = VerificationRequest.objects.get(user=alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/accounts/verificationrequest/", {"action": "refuse", "_selected_action": [pending.pk]})
    alice.refresh_from_db()
    assert alice.verification == "none"
    assert notification_kinds(client_for, alice) == ["refused"]
    assert client_for(alice).get("/api/users/alice/").status_code == 200


def test_blank_or_unknown_requests_are_refused_with_a_reason(client, alice):
    client.force_login(alice)
    blank = client.post("/settings/verification/", {"tier": "identity", "real_name": " ", "reason": " "})
    earned = client.post("/settings/verification/", {"tier": "influencer", "real_name": "A", "reason": "b"})
    assert blank.status_code == earned.status_code == 200
    assert not VerificationRequest.objects.exists()


def test_earned_tiers_appear_and_disappear_with_thresholds_crossed(
    client_for, alice, bob, make_user, settings, django_capture_on_commit_callbacks
):
    settings.REACH_INFLUENCER_READS, settings.REACH_INFLUENCER_FOLLOWERS = 3, 2
    settings.REACH_TOP_INFLUENCER_READS, settings.REACH_TOP_INFLUENCER_FOLLOWERS = 5, 3
    fans = [make_user(username=f"fan{n}") for n in range(5)]
    for fan in fans[:2]:
        user_follow(follower=fan, followee=alice)
    post = PostFactory(author=alice, body="worth reading")
    for fan in fans[:3]:
        reads.reads_record(fan, [post])
    with django_capture_on_commit_callbacks(execute=True):
        call_command("compute_reach", stdout=StringIO())
    alice.refresh_from_db()
    assert alice.verification == "influencer"

    user_follow(follower=fans[2], followee=alice)
    for fan in fans[3:]:
        reads.reads_record(fan, [post])
    with django_capture_on_commit_callbacks(execute=True):
        earned_tiers_compute()
    alice.refresh_from_db()
    assert alice.verification == "top_influencer"

    # 31 days on, the reads have left the window: the badge goes at the next computation.
    with django_capture_on_commit_callbacks(execute=True):
        earned_tiers_compute(now=timezone.now() + timedelta(days=31))
    alice.refresh_from_db()
    assert alice.verification == "none"
    kinds = [k for k in notification_kinds(client_for, alice) if k in ("verified", "unverified")]
    assert kinds == ["unverified", "verified", "verified"]
    assert PostRead.objects.filter(post=post).count() == 5


def test_a_granted_badge_is_never_taken_by_the_computation(alice, settings):
    alice.verification = "identity"
    alice.save(update_fields=["verification"])
    earned_tiers_compute()
    alice.refresh_from_db()
    assert alice.verification == "identity"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_badges_render_with_their_labels(new_page, daphne_server, make_user):
    kol = make_user(username="kol", display_name="Known Voice")
    kol.verification = "top_influencer"
    kol.save(update_fields=["verification"])
    reader = make_user(username="reader")
    post = PostFactory(author=kol, body="hello readers")
    page = log_in(new_page(), reader)
    for path in (f"/p/{post.pk}/", "/u/kol/", "/explore/"):
        page.goto(path)
        badge = page.get_by_role("img", name="Top influencer").first
        expect(badge).to_be_visible()
        expect(badge).to_have_text("V")


def test_a_contacts_badge_shows_in_the_contact_list_and_the_block_list(client_for, alice, bob, befriend):
    befriend(alice, bob)
    bob.verification = "identity"
    bob.save(update_fields=["verification"])
    badge = {"tier": "identity", "label": "Verified identity"}
    assert [c["verification"] for c in client_for(alice).get("/api/contacts/").json()] == [badge]
    assert client_for(alice).post("/api/blocks/", {"username": "bob"}, format="json").status_code == 201
    assert [c["verification"] for c in client_for(alice).get("/api/blocks/").json()] == [badge]
