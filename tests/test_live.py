"""The live-server helpers say what they claim: `expect` reads every frame, a REST answer that
must succeed fails the test otherwise, and `log_in` signs in through the login page."""

import pytest

from tests.live import Socket, log_in, rest

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_expect_fails_when_another_frame_comes_first(live_daphne, alice):
    with Socket.open(live_daphne, alice) as socket:
        socket.send(type="no.such.type")  # answered with an error frame, before the pong below
        socket.send(type="ping")
        with pytest.raises(AssertionError, match=r"expected pong, got .*unknown_type"):
            socket.expect("pong")
        socket.expect("pong")  # it came after, and nothing else

        socket.send(type="no.such.type")
        socket.send(type="ping")
        assert socket.expect("pong", skip=("error",)) == {"type": "pong"}
        assert [frame["type"] for frame in socket.frames] == ["error", "pong", "error", "pong"]


def test_expect_checks_the_fields_it_names(live_daphne, alice):
    with Socket.open(live_daphne, alice) as socket:
        socket.send(type="no.such.type")
        with pytest.raises(AssertionError, match="error with"):
            socket.expect("error", code="bad_json")
        socket.send(type="no.such.type")
        assert socket.expect("error", code="unknown_type")["type"] == "error"


def test_a_reply_that_must_succeed_fails_the_test_when_it_does_not(live_daphne, alice):
    refused = rest(live_daphne, None, "GET", "/api/me/")
    assert refused.status == 401 and refused.data["detail"]
    with pytest.raises(AssertionError, match="401"):
        refused.json()
    assert rest(live_daphne, alice, "GET", "/api/me/").json()["username"] == "alice"


def test_log_in_goes_through_the_login_page(live_daphne, alice):
    session = log_in(live_daphne, alice)
    assert session.get("/settings/") == 200
    with session.socket() as socket:
        socket.send(type="ping")
        socket.expect("pong")
    assert session.post_form("/logout/", {}) == 302
    assert session.get("/settings/") == 302  # to the login page
    with pytest.raises(AssertionError, match="login as alice"):
        log_in(live_daphne, alice, password="not-the-password")
