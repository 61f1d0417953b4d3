"""A broadcast reaches subscribers' open sockets on a live daphne: a socket open before the
subscription (joined live) and one opened after it (joined on connect), never anyone else."""

import pytest

from tests.live import Socket, rest

pytestmark = pytest.mark.django_db(transaction=True)


def test_subscribers_sockets_hear_broadcast_new_and_nobody_else_does(live_daphne, make_user):
    owner, reader, stranger = (make_user(username=name) for name in ("owner", "reader", "stranger"))
    assert (
        rest(live_daphne, owner, "POST", "/api/channels/", {"username": "news", "display_name": "News"}).status == 201
    )
    article = rest(live_daphne, owner, "POST", "/api/articles/", {"title": "Big news", "body": "It happened."}).json()
    rest(live_daphne, owner, "POST", f"/api/articles/{article['id']}/publish/").json()
    with (
        Socket.open(live_daphne, reader) as early,
        Socket.open(live_daphne, stranger) as other,
    ):
        early.send(type="ping")
        early.expect("pong")  # the socket is in place before the subscription
        assert rest(live_daphne, reader, "POST", "/api/channels/news/subscribe/").status == 200
        with Socket.open(live_daphne, reader) as late:
            late.send(type="ping")
            late.expect("pong")
            sent = rest(
                live_daphne,
                owner,
                "POST",
                "/api/channels/news/broadcasts/",
                {"title": "Today", "articles": [article["id"]]},
            )
            assert sent.status == 201, sent.data
            for socket in (early, late):
                frame = socket.expect("broadcast.new")
                assert frame["broadcast"]["title"] == "Today"
                assert [card["title"] for card in frame["broadcast"]["articles"]] == ["Big news"]
                assert frame["conversation"]["kind"] == "channel"
                assert "seq" not in frame  # stored once: no per-subscriber event
            assert not [f for f in other.drain() if f.get("type") == "broadcast.new"]
        rows = rest(live_daphne, reader, "GET", "/api/conversations/").json()
        assert [(row["kind"], row["unread_count"]) for row in rows] == [("channel", 1)]
        # Read-only for subscribers over the socket too: an error frame, and the socket stays open.
        early.send(type="message.send", conversation=rows[0]["id"], client_id="c1", body="hello?")
        assert early.expect("error")["code"] == "read_only"
        early.send(type="typing", conversation=rows[0]["id"])
        assert early.expect("error")["code"] == "read_only"
        # Unsubscribed on another tab: this socket leaves the group at once.
        assert rest(live_daphne, reader, "DELETE", "/api/channels/news/subscribe/").status == 200
        early.send(type="ping")
        early.expect("pong")
