"""Chat writes that two requests can race: contact requests and accepts, group membership, seqs.

Each test fires its requests at once from threads, each on its own database connection,
then checks the rows and counters. On SQLite, IMMEDIATE transactions run them one after
another; on PostgreSQL they really overlap.
"""

import pytest

from accounts.models import Contact, ContactRequest
from chat import limits
from chat.models import Conversation, Membership
from realtime.models import Event, UserStream
from tests.concurrency import run_together
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def request_contact(client, username: str):
    return client.post("/api/contact-requests/", {"to": username}, format="json")


def assert_contacts_once(a, b) -> None:
    assert Contact.objects.filter(user=a, contact=b).count() == Contact.objects.filter(user=b, contact=a).count() == 1
    assert Conversation.objects.filter(direct_key=Conversation.key_for_pair(a.pk, b.pk)).count() == 1
    between = ContactRequest.objects.filter(from_user__in=[a, b], to_user__in=[a, b])
    assert not between.filter(status=ContactRequest.Status.PENDING).exists()
    assert between.filter(status=ContactRequest.Status.ACCEPTED).count() == 1


def test_contact_requests_and_accepts_at_once_make_one_pair_of_contacts(make_user, client_for):
    """Both ask at once, twice each: the second to arrive accepts. One request accepted from three
    devices at once: accepted once. No 500, no leftover pending request, one conversation."""
    alice, bob, carol, dave = (make_user() for _ in range(4))
    as_alice, as_bob = client_for(alice), client_for(bob)
    responses = run_together(
        [lambda: request_contact(as_alice, bob.username), lambda: request_contact(as_bob, alice.username)] * 2
    )
    assert sorted(r.status_code for r in responses) in ([201, 201, 201, 400], [201, 201, 400, 400])
    assert any(r.status_code == 201 and r.json()["status"] == "accepted" for r in responses)
    assert_contacts_once(alice, bob)

    request = request_contact(client_for(carol), dave.username).json()
    accept = f"/api/contact-requests/{request['id']}/accept/"
    devices = [client_for(dave) for _ in range(3)]
    responses = run_together([lambda client=client: client.post(accept) for client in devices])
    assert sorted(r.status_code for r in responses) == [200, 409, 409]
    assert_contacts_once(carol, dave)
    assert Event.objects.filter(user=carol, type="contact.accepted").count() == 1


@pytest.fixture
def group_of(befriend):
    """A group made by `admin` with `members`; every one of `others` is a contact of the admin."""

    def make(admin, members, others):
        for person in others:
            befriend(admin, person)
        return ConversationFactory(creator=admin, members=members, title="g")

    return make


def test_membership_changes_at_once(make_user, client_for, group_of, monkeypatch):
    """Adds at once stop at the member limit; adding one person three times and removing another
    (by the admin twice and by leaving) at once leaves each change made once, never a 500."""
    monkeypatch.setattr(limits, "MAX_GROUP_MEMBERS", 5)
    admin, member, leaver = make_user(), make_user(), make_user()
    newcomers = [make_user() for _ in range(4)]
    group = group_of(admin, [member, leaver], newcomers)
    url = f"/api/conversations/{group.pk}/members/"
    remove = f"{url}{leaver.username}/"
    targets = [*newcomers, newcomers[0], newcomers[0]]
    admins = [client_for(admin) for _ in range(len(targets) + 2)]
    as_leaver = client_for(leaver)
    jobs = [
        lambda c=client, n=newcomer: c.post(url, {"usernames": [n.username]}, format="json")
        for client, newcomer in zip(admins, targets, strict=False)
    ]
    jobs += [lambda c=client: c.delete(remove) for client in admins[len(targets) :]]
    jobs.append(lambda: as_leaver.delete(remove))
    responses = run_together(jobs)
    adds, removals = responses[: len(targets)], responses[len(targets) :]
    assert {r.status_code for r in adds} <= {200, 400}
    added = {newcomer.pk for newcomer, r in zip(targets, adds, strict=True) if r.status_code == 200}
    members = list(Membership.objects.filter(conversation=group).values_list("user_id", flat=True))
    assert sorted(members) == sorted({admin.pk, member.pk} | added)
    assert len(members) <= 5
    # Leaving is idempotent (204); removing someone already gone is 404.
    assert {r.status_code for r in removals} <= {204, 404} and 204 in {r.status_code for r in removals}


def test_many_events_for_one_user_at_once_get_unique_gap_free_seqs(make_user, client_for, befriend):
    """Eight people message one user at once, each in their own conversation: seqs 1..n, no gap."""
    target = make_user()
    senders = [make_user() for _ in range(8)]
    conversations = [befriend(sender, target) for sender in senders]
    before = UserStream.objects.get(user=target).last_seq

    def burst(sender, conversation):
        client = client_for(sender)
        url = f"/api/conversations/{conversation.pk}/messages/"
        return lambda: [client.post(url, {"body": f"hi {n}"}, format="json").status_code for n in range(3)]

    results = run_together([burst(s, c) for s, c in zip(senders, conversations, strict=True)])
    assert all(code == 201 for codes in results for code in codes)
    seqs = sorted(Event.objects.filter(user=target, seq__gt=before).values_list("seq", flat=True))
    assert seqs == list(range(before + 1, before + 1 + 3 * len(senders)))
    assert UserStream.objects.get(user=target).last_seq == seqs[-1]


def test_a_send_committed_after_a_newer_one_leaves_the_newer_as_the_conversations_last(
    alice, bob, befriend, client_for, monkeypatch
):
    """On PostgreSQL a send's id is taken with its reads, before its transaction: bob's send, read
    and committed while alice's waits between the two, has the higher id and commits first. The
    conversation list still shows the newest message last, and alice's own send counts as read by
    her without making bob's read."""
    from chat.services import messages as message_services

    chat = befriend(alice, bob)
    as_alice, as_bob = client_for(alice), client_for(bob)
    url = f"/api/conversations/{chat.pk}/messages/"
    reads = message_services._batch_facts
    overtaken = []

    def reads_then_overtaken(checked):
        facts = reads(checked)
        if checked[0].send.sender.pk == alice.pk:
            overtaken.extend(run_together([lambda: as_bob.post(url, {"body": "newer"}, format="json")]))
        return facts

    monkeypatch.setattr(message_services, "_batch_facts", reads_then_overtaken)
    sent = as_alice.post(url, {"body": "older"}, format="json")
    assert (sent.status_code, overtaken[0].status_code) == (201, 201), overtaken[0].content
    newest = max(sent.json()["id"], overtaken[0].json()["id"])
    listed = {c["id"]: c for c in as_alice.get("/api/conversations/").json()}[chat.pk]
    assert listed["last_message"]["id"] == newest
    assert listed["unread_count"] == (1 if newest == overtaken[0].json()["id"] else 0)
    assert Conversation.objects.get(pk=chat.pk).last_message_id == newest
