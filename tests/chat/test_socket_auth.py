"""Who may open `/ws/`, checked with a real WebSocket client against a live daphne."""

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def close_code(url: str, **kwargs) -> int:
    with connect(url, open_timeout=5, **kwargs) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=5)
    return closed.value.rcvd.code


def session_cookie(client, user) -> str:
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def test_anonymous_socket_is_closed_with_4401(daphne_server):
    assert close_code(daphne_server.ws_url) == 4401


def test_bad_token_is_closed_with_4401(daphne_server):
    assert close_code(f"{daphne_server.ws_url}?token=not-a-token") == 4401


def test_token_socket_without_origin_answers_ping(daphne_server, alice):
    from accounts.services import token_for

    with connect(f"{daphne_server.ws_url}?token={token_for(user=alice).key}", open_timeout=5) as socket:
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=5)) == {"type": "pong"}


def test_session_socket_from_our_origin_is_accepted(daphne_server, client, alice):
    headers = {"Cookie": session_cookie(client, alice)}
    with connect(daphne_server.ws_url, origin=daphne_server.url, additional_headers=headers) as socket:
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=5))["type"] == "pong"


def test_session_socket_from_a_foreign_origin_is_refused_with_4403(daphne_server, client, alice):
    headers = {"Cookie": session_cookie(client, alice)}
    assert close_code(daphne_server.ws_url, origin="https://evil.example", additional_headers=headers) == 4403


def test_session_socket_without_origin_is_refused(daphne_server, client, alice):
    headers = {"Cookie": session_cookie(client, alice)}
    assert close_code(daphne_server.ws_url, additional_headers=headers) == 4403


def test_bad_frames_get_error_frames_and_the_socket_stays_open(daphne_server, alice):
    from accounts.services import token_for

    with connect(f"{daphne_server.ws_url}?token={token_for(user=alice).key}") as socket:
        for bad, code in [
            ("not json", "bad_json"),
            ("[1]", "bad_frame"),
            ('{"type": "nope"}', "unknown_type"),
            ("[" * 5000 + "]" * 5000, "bad_json"),
            ('{"type": "x", "s": "\\ud800"}', "bad_json"),
        ]:
            socket.send(bad)
            frame = json.loads(socket.recv(timeout=5))
            assert (frame["type"], frame["code"]) == ("error", code)
        socket.send(b"\x00binary")
        assert json.loads(socket.recv(timeout=5))["code"] == "bad_frame"
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=5))["type"] == "pong"


def test_api_logout_closes_sockets_opened_with_the_token(daphne_server, alice, client_for):
    from accounts.services import token_for

    key = token_for(user=alice).key
    with connect(f"{daphne_server.ws_url}?token={key}") as socket:
        socket.send(json.dumps({"type": "ping"}))
        socket.recv(timeout=5)
        api = client_for(alice)
        # The logout must go through the live server: its channel layer holds the socket.
        import urllib.request

        request = urllib.request.Request(
            f"{daphne_server.url}/api/auth/logout/", method="POST", headers={"Authorization": f"Token {key}"}
        )
        assert urllib.request.urlopen(request, timeout=5).status == 204
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
        assert closed.value.rcvd.code == 4401
        assert api.get("/api/me/").status_code == 401
