"""Who may open `/ws/`, checked with a real WebSocket client against a live daphne."""

import pytest

from tests.live import Socket, log_in, rest

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def close_code(server, user=None, **options) -> int:
    """The code the server closes a new socket with, before sending it anything."""
    code, frames, _ = Socket.open(server, user, **options).wait_closed()
    assert frames == []
    return code


def cookie_header(server, user) -> dict:
    """The session cookie of `user`, signed in through the login page."""
    return {"Cookie": f"sessionid={log_in(server, user).session_key}"}


def test_anonymous_socket_is_closed_with_4401(daphne_server):
    assert close_code(daphne_server) == 4401


def test_bad_token_is_closed_with_4401(daphne_server):
    assert close_code(daphne_server, "not-a-token") == 4401


def test_the_token_of_a_deactivated_account_is_closed_with_4401(daphne_server, alice):
    from accounts.services import token_for

    key = token_for(user=alice).key
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert close_code(daphne_server, key) == 4401


def test_a_bad_token_does_not_fall_back_to_a_valid_cookie(daphne_server, alice):
    cookie = cookie_header(daphne_server, alice)
    assert close_code(daphne_server, "not-a-token", additional_headers=cookie) == 4401


def test_token_socket_without_origin_answers_ping(daphne_server, alice):
    with Socket.open(daphne_server, alice) as socket:
        socket.send(type="ping")
        socket.expect("pong")


def test_session_socket_from_our_origin_is_accepted(daphne_server, alice):
    with log_in(daphne_server, alice).socket() as socket:  # the page's origin and its cookie
        socket.send(type="ping")
        socket.expect("pong")


def test_session_socket_from_a_foreign_origin_is_refused_with_4403(daphne_server, alice):
    headers = cookie_header(daphne_server, alice)
    assert close_code(daphne_server, origin="https://evil.example", additional_headers=headers) == 4403


def test_session_socket_without_origin_is_refused(daphne_server, alice):
    headers = cookie_header(daphne_server, alice)
    assert close_code(daphne_server, additional_headers=headers) == 4403


def test_bad_frames_get_error_frames_and_the_socket_stays_open(daphne_server, alice):
    with Socket.open(daphne_server, alice) as socket:
        for bad, code in [
            ("not json", "bad_json"),
            ("[1]", "bad_frame"),
            ('{"type": "nope"}', "unknown_type"),
            ("[" * 5000 + "]" * 5000, "bad_json"),
            ('{"type": "x", "s": "\\ud800"}', "bad_json"),
        ]:
            socket.send_raw(bad)
            socket.expect("error", code=code)
        socket.send_raw(b"\x00binary")
        socket.expect("error", code="bad_frame")
        socket.send(type="ping")
        socket.expect("pong")


def test_api_logout_closes_sockets_opened_with_the_token(daphne_server, alice, client_for):
    with Socket.open(daphne_server, alice) as socket:
        socket.send(type="ping")
        socket.expect("pong")
        api = client_for(alice)
        # The logout must go through the live server: its channel layer holds the socket.
        assert rest(daphne_server, alice, "POST", "/api/auth/logout/").status == 204
        assert socket.wait_closed()[:2] == (4401, [])
        assert api.get("/api/me/").status_code == 401
