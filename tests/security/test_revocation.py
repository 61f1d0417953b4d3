"""Revocation on sockets that are already open, with real clients against a live daphne.

Each test first shows the event flowing (so silence afterwards means something), revokes
over the live server, makes the same things happen again, and counts what the revoked
socket still got within QUIET_SECONDS: it must be nothing. Sockets whose credentials end
must close with 4401.
"""

import time

import pytest

from accounts.services import token_for
from chat.services import conversation_create, message_send
from tests.live import Socket, log_in, rest, session_socket

from .conftest import FIGURES

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def after_revocation(scenario: str, frames: list[dict]) -> list[dict]:
    FIGURES["revocation: scenarios"] += 1
    FIGURES["revocation: events received after revocation"] += len(frames)
    return frames


def closed_in_time(scenario: str, socket: Socket, since: float) -> list[dict]:
    """Waits for the close; the frames that came before it (after the revocation) are returned.
    The time from the revoking request to the close is kept as a figure, not asserted."""
    code, frames, took = socket.wait_closed(since=since)
    assert code == 4401, f"{scenario}: socket not closed (code {code})"
    FIGURES["revocation: sockets closed"] += 1
    FIGURES["revocation: slowest close (ms)"] = max(FIGURES["revocation: slowest close (ms)"], round(took * 1000))
    return frames


def refused_socket_code(server, user_token: str) -> int | None:
    return Socket.open(server, user_token).wait_closed().code


@pytest.fixture
def people(make_user, befriend):
    def make():
        alice, bob, carol = (make_user(username=name) for name in ("alice", "bob", "carol"))
        direct = befriend(alice, bob)
        befriend(alice, carol)
        return alice, bob, carol, direct

    return make()


def test_removing_a_contact_stops_their_typing_reads_and_presence(live_daphne, people):
    alice, bob, _, direct = people
    said, _ = message_send(sender=bob, conversation=direct, body="hi alice")
    bob_socket = Socket.open(live_daphne, bob)
    alice_socket = Socket.open(live_daphne, alice)
    bob_socket.expect("presence", user="alice", online=True)
    alice_socket.send(type="typing", conversation=direct.pk)
    bob_socket.expect("typing", user="alice")

    assert rest(live_daphne, alice, "DELETE", "/api/contacts/bob/").status == 204
    alice_socket.send(type="typing", conversation=direct.pk)
    assert alice_socket.expect("error")["code"] == "not_contacts"
    alice_socket.send(type="read", conversation=direct.pk, up_to=said.pk)
    alice_socket.send(type="message.send", conversation=direct.pk, body="still there?", client_id="late")
    assert alice_socket.expect("error", client_id="late")["code"] == "not_contacts"
    alice_socket.close()  # offline, then online again: neither is bob's business now
    Socket.open(live_daphne, alice).settle()
    assert after_revocation("contact removed", bob_socket.drain()) == []


@pytest.mark.parametrize("how", ["leaves", "is removed"])
def test_a_former_member_stops_getting_the_groups_frames(how, live_daphne, people):
    alice, bob, carol, _ = people
    group, _ = conversation_create(creator=alice, usernames=["bob", "carol"], title="Crew")
    alice_socket, bob_socket, carol_socket = (Socket.open(live_daphne, user) for user in (alice, bob, carol))
    alice_socket.send(type="typing", conversation=group.pk)
    bob_socket.expect("typing", user="alice")
    carol_socket.expect("typing", user="alice")

    remover = bob if how == "leaves" else alice
    assert rest(live_daphne, remover, "DELETE", f"/api/conversations/{group.pk}/members/bob/").status == 204
    # Told once, as a stored event: the removed member and the ones who stay.
    for socket in (bob_socket, carol_socket):
        change = socket.expect("conversation.members")
        assert (change["conversation"], change["removed"], change["by"]) == (group.pk, ["bob"], remover.username)
    # Alice heard bob and carol come online after her, then the same change.
    alice_socket.expect("conversation.members", skip=("presence",), removed=["bob"])
    alice_socket.send(type="typing", conversation=group.pk)
    alice_socket.send(type="message.send", conversation=group.pk, body="without bob", client_id="g1")
    # The ack, and her own message.new (for her other tabs) before or after it.
    sent = alice_socket.expect_all(("message.ack", "message.new"))["message.ack"]["message"]
    carol_socket.expect("message.new", skip=("typing",), message=sent)  # typing is dropped past its rate
    carol_socket.send(type="read", conversation=group.pk, up_to=sent["id"])
    alice_socket.expect("read", user="carol")  # the events happened; bob no longer hears them
    assert after_revocation(f"member {how}", bob_socket.drain()) == []


def test_a_blocked_contact_stops_getting_presence_typing_and_reads(live_daphne, people):
    alice, bob, _, direct = people
    said, _ = message_send(sender=bob, conversation=direct, body="hi alice")
    bob_socket = Socket.open(live_daphne, bob)
    alice_socket = Socket.open(live_daphne, alice)
    bob_socket.expect("presence", user="alice", online=True)

    assert rest(live_daphne, alice, "POST", "/api/blocks/", {"username": "bob"}).status == 201
    alice_socket.send(type="typing", conversation=direct.pk)
    assert alice_socket.expect("error")["code"] == "not_contacts"
    alice_socket.send(type="read", conversation=direct.pk, up_to=said.pk)
    alice_socket.settle()
    alice_socket.close()
    Socket.open(live_daphne, alice).settle()
    assert after_revocation("blocked", bob_socket.drain()) == []


def test_token_logout_closes_every_socket_opened_with_that_token(live_daphne, people):
    alice, bob, _, direct = people
    key = token_for(user=alice).key
    phone, tablet = Socket.open(live_daphne, alice), Socket.open(live_daphne, alice)
    browser = log_in(live_daphne, alice)
    tab = browser.socket()
    tab.settle()

    since = time.monotonic()
    assert rest(live_daphne, alice, "POST", "/api/auth/logout/").status == 204
    frames = [*closed_in_time("token logout", phone, since), *closed_in_time("token logout", tablet, since)]
    assert rest(live_daphne, bob, "POST", f"/api/conversations/{direct.pk}/messages/", {"body": "hello?"}).status == 201
    # The browser signed in on its own (a session, not the token) and stays signed in.
    tab.expect("message.new")
    assert after_revocation("token logout", frames) == []
    assert refused_socket_code(live_daphne, key) == 4401
    assert rest(live_daphne, key, "GET", "/api/me/").status == 401


def test_session_logout_closes_the_sockets_of_that_session(live_daphne, people):
    alice, bob, _, direct = people
    browser = log_in(live_daphne, alice)
    assert browser.get("/settings/") == 200  # a page with a form: the CSRF cookie
    tab = browser.socket()
    phone = Socket.open(live_daphne, alice)
    tab.settle()

    ended = browser.session_key
    since = time.monotonic()
    assert browser.post_form("/logout/", {}) == 302
    frames = closed_in_time("session logout", tab, since)
    assert rest(live_daphne, bob, "POST", f"/api/conversations/{direct.pk}/messages/", {"body": "hello?"}).status == 201
    phone.expect("message.new")  # the phone's token was not the session that ended
    assert after_revocation("session logout", frames) == []
    assert "sessionid" not in browser.cookies  # the logout deleted it; a browser that kept it gets nothing:
    assert session_socket(live_daphne, ended).wait_closed().code == 4401


def test_deactivating_a_user_closes_their_sockets_and_ends_their_token(live_daphne, make_user, people):
    alice, bob, _, direct = people
    key = token_for(user=alice).key
    moderator = log_in(live_daphne, make_user(username="moderator", is_staff=True, is_superuser=True))
    assert moderator.get("/admin/accounts/user/") == 200
    own_browser = log_in(live_daphne, alice)
    tab, phone = own_browser.socket(), Socket.open(live_daphne, alice)
    tab.settle()
    phone.settle()

    form = [("action", "deactivate"), ("index", "0"), ("select_across", "0"), ("_selected_action", str(alice.pk))]
    since = time.monotonic()
    assert moderator.post_form("/admin/accounts/user/", form) == 302
    frames = [*closed_in_time("deactivation", tab, since), *closed_in_time("deactivation", phone, since)]
    rest(live_daphne, bob, "POST", f"/api/conversations/{direct.pk}/messages/", {"body": "hello?"})
    assert after_revocation("deactivation", frames) == []
    assert refused_socket_code(live_daphne, key) == 4401
    assert own_browser.socket().wait_closed().code == 4401
    assert rest(live_daphne, key, "GET", "/api/me/").status == 401


def token_login(server, username: str, password: str) -> tuple[int, str | None]:
    """Signing in for a token, as an app does: (the status, the token or None)."""
    reply = rest(server, None, "POST", "/api/auth/token/", {"username": username, "password": password})
    return reply.status, reply.data["token"] if reply.status == 200 else None


def test_a_password_change_rotates_the_token_and_closes_every_other_socket_and_session(live_daphne, password, people):
    alice, bob, _, direct = people
    old_key = token_for(user=alice).key
    phone = Socket.open(live_daphne, alice)
    # Another browser: its HTTP access ends with the change, and its open socket must end too.
    other_browser = log_in(live_daphne, alice, password)
    other_session = other_browser.session_key
    other_tab = other_browser.socket()
    # The browser that changes it follows its session cookie when the server replaces it (the
    # session keeps going under a new key).
    changer = log_in(live_daphne, alice, password)
    assert changer.get("/settings/password/") == 200
    changer_tab = changer.socket()
    for socket in (phone, other_tab, changer_tab):
        socket.settle()
    key_before = changer.session_key

    new = "another-Long-pass-77"
    since = time.monotonic()
    form = {"old_password": password, "new_password1": new, "new_password2": new}
    assert changer.post_form("/settings/password/", form) == 302
    frames = [
        *closed_in_time("password change", phone, since),
        *closed_in_time("password change", other_tab, since),
    ]
    assert rest(live_daphne, bob, "POST", f"/api/conversations/{direct.pk}/messages/", {"body": "hello?"}).status == 201
    changer_tab.expect("message.new")  # the session that made the change goes on, socket included
    assert after_revocation("password change", frames) == []

    assert rest(live_daphne, old_key, "GET", "/api/me/").status == 401
    assert refused_socket_code(live_daphne, old_key) == 4401
    assert session_socket(live_daphne, other_session).wait_closed().code == 4401
    assert other_browser.get("/settings/") == 302
    assert changer.session_key != key_before  # a new key for the session that goes on
    assert changer.get("/settings/") == 200
    changer.socket().settle()
    assert token_login(live_daphne, "alice", password) == (400, None)
    status, new_key = token_login(live_daphne, "alice", new)
    assert status == 200 and new_key != old_key
    assert rest(live_daphne, new_key, "GET", "/api/me/").status == 200


def test_an_administrators_password_reset_signs_the_user_out_everywhere(live_daphne, make_user, people):
    alice, bob, _, direct = people
    old_key = token_for(user=alice).key
    own_browser = log_in(live_daphne, alice)
    tab, phone = own_browser.socket(), Socket.open(live_daphne, alice)
    tab.settle()
    phone.settle()
    moderator = log_in(live_daphne, make_user(username="moderator", is_staff=True, is_superuser=True))
    assert moderator.get(f"/admin/accounts/user/{alice.pk}/password/") == 200

    new = "reset-by-Admin-2026"
    form = {"usable_password": "true", "password1": new, "password2": new}
    since = time.monotonic()
    assert moderator.post_form(f"/admin/accounts/user/{alice.pk}/password/", form) == 302
    frames = [*closed_in_time("password reset", tab, since), *closed_in_time("password reset", phone, since)]
    rest(live_daphne, bob, "POST", f"/api/conversations/{direct.pk}/messages/", {"body": "hello?"})
    assert after_revocation("password reset", frames) == []
    assert rest(live_daphne, old_key, "GET", "/api/me/").status == 401
    assert own_browser.socket().wait_closed().code == 4401
    status, new_key = token_login(live_daphne, "alice", new)
    assert status == 200 and new_key != old_key
