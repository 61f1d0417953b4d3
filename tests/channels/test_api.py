"""Channels over REST: creating, subscribing, broadcasting (once a day), who may broadcast, the channel
as a read-only conversation in the subscriber's list with its unread count, private messages and the
keyword auto-reply, blocks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from chat.models import Conversation, Membership, Message
from realtime.models import Event

pytestmark = pytest.mark.django_db


def _channel_row(client):
    rows = client.get("/api/conversations/").json()
    return [row for row in rows if row["kind"] == "channel"]


def test_a_channel_is_an_account_of_kind_channel_owned_by_its_creator(station, api):
    account = User.objects.get(username="teahouse")
    assert account.kind == "channel" and not account.has_usable_password()
    shown = api.get("/api/channels/TeaHouse/").json()
    assert shown["username"] == "teahouse" and shown["display_name"] == "Tea House"
    assert (shown["subscriber_count"], shown["is_subscribed"], shown["owner"]) == (0, False, "owner")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"username": "no spaces", "display_name": "X"}, "invalid_username"),
        ({"username": "teahouse", "display_name": "Another"}, "username_taken"),
        ({"username": "owner", "display_name": "Mine"}, "username_taken"),
        ({"username": "fresh", "display_name": "   "}, "blank"),
    ],
)
def test_a_bad_channel_is_refused_with_a_reason(station, client_for, body, code):
    answer = client_for(station["reader"]).post("/api/channels/", body, format="json")
    assert answer.status_code == 400
    assert code in answer.content.decode()


def test_subscribe_and_unsubscribe_are_idempotent(station, client_for):
    client = client_for(station["reader"])
    for _ in range(2):
        answer = client.post("/api/channels/teahouse/subscribe/")
        assert answer.status_code == 200
        assert (answer.json()["subscriber_count"], answer.json()["is_subscribed"]) == (1, True)
    for _ in range(2):
        answer = client.delete("/api/channels/teahouse/subscribe/")
        assert (answer.json()["subscriber_count"], answer.json()["is_subscribed"]) == (0, False)


def test_a_broadcast_reaches_subscribers_as_an_unread_channel_conversation(station, client_for, broadcast_as):
    reader = client_for(station["reader"])
    reader.post("/api/channels/teahouse/subscribe/")
    [row] = _channel_row(reader)
    assert (row["unread_count"], row["title"], row["channel"]["username"]) == (0, "Tea House", "teahouse")
    events_before = Event.objects.count()
    sent = broadcast_as(station["owner"], station["articles"], body="Two new pieces.")
    assert sent.status_code == 201, sent.content
    assert [card["title"] for card in sent.json()["articles"]] == ["Green", "Black"]
    # Stored once: no event and no row per subscriber.
    assert Event.objects.count() == events_before
    [row] = _channel_row(reader)
    assert row["unread_count"] == 1
    assert row["last_message"]["body"] == "This week\n\nTwo new pieces."
    listed = reader.get("/api/channels/teahouse/broadcasts/").json()["results"]
    assert [b["title"] for b in listed] == ["This week"]
    read = reader.post(f"/api/conversations/{row['id']}/read/", {"up_to": row["last_message"]["id"]}, format="json")
    assert read.status_code == 204
    assert _channel_row(reader)[0]["unread_count"] == 0


def test_the_second_broadcast_of_the_day_gets_429_with_retry_after(station, broadcast_as):
    assert broadcast_as(station["owner"], station["articles"][:1]).status_code == 201
    again = broadcast_as(station["editor"], station["articles"][1:])
    assert again.status_code == 429
    assert 0 < int(again["Retry-After"]) <= 86400


def test_broadcasts_per_day_is_a_setting(station, broadcast_as, settings):
    settings.BROADCASTS_PER_DAY = 2
    assert broadcast_as(station["owner"], station["articles"][:1]).status_code == 201
    assert broadcast_as(station["owner"], station["articles"][1:]).status_code == 201
    assert broadcast_as(station["owner"], station["articles"]).status_code == 429


def test_an_editor_may_broadcast_and_a_subscriber_may_not(station, client_for, broadcast_as, write_article):
    client_for(station["reader"]).post("/api/channels/teahouse/subscribe/")
    own = write_article(station["reader"], "Mine")
    refused = broadcast_as(station["reader"], [own])
    assert refused.status_code == 403
    assert broadcast_as(station["editor"], station["articles"]).status_code == 201


@pytest.mark.parametrize(
    "articles",
    [[], list(range(1, 10)), "1", [True], "other"],
)
def test_a_broadcast_carries_1_to_8_of_the_channels_public_articles(
    station, broadcast_as, write_article, make_user, articles
):
    if articles == "other":
        articles = [write_article(make_user(username="someone"), "Not theirs")]
    answer = broadcast_as(station["owner"], articles)
    assert answer.status_code == 400, answer.content


def test_followers_only_articles_cannot_be_broadcast(station, broadcast_as, write_article):
    private = write_article(station["owner"], "For followers", visibility="followers")
    assert broadcast_as(station["owner"], [private]).status_code == 400


def test_the_channel_conversation_is_read_only_for_subscribers(station, client_for):
    reader = client_for(station["reader"])
    reader.post("/api/channels/teahouse/subscribe/")
    [row] = _channel_row(reader)
    answer = reader.post(f"/api/conversations/{row['id']}/messages/", {"body": "hello?"}, format="json")
    assert answer.status_code == 403
    assert "read-only" in answer.json()["detail"]


def test_a_channel_is_never_a_contact_nor_in_a_group(station, client_for, bob):
    reader = client_for(station["reader"])
    refused = reader.post("/api/contact-requests/", {"to": "teahouse"}, format="json")
    assert refused.status_code in (400, 404), refused.content
    group = reader.post("/api/conversations/", {"members": ["teahouse"]}, format="json")
    assert group.status_code in (400, 403, 404)


def test_a_private_message_reaches_the_inbox_and_the_auto_reply_answers(station, client_for):
    from chat.services import channels

    channels.auto_reply_set(user=station["owner"], channel=station["channel"], keyword="Menu", reply="Green, black.")
    reader = client_for(station["reader"])
    assert reader.post("/api/channels/teahouse/conversation/").status_code == 403  # subscribers only
    reader.post("/api/channels/teahouse/subscribe/")
    opened = reader.post("/api/channels/teahouse/conversation/")
    assert opened.status_code == 200
    conversation = opened.json()
    assert conversation["kind"] == "direct" and conversation["channel"]["username"] == "teahouse"
    sent = reader.post(f"/api/conversations/{conversation['id']}/messages/", {"body": " menu "}, format="json")
    assert sent.status_code == 201, sent.content
    bodies = list(Message.objects.filter(conversation_id=conversation["id"]).values_list("sender__username", "body"))
    assert bodies == [("reader", "menu"), ("teahouse", "Green, black.")]
    inbox = list(channels_inbox(station))
    assert [c.pk for c in inbox] == [conversation["id"]]
    # The owner answers from the inbox, signed as the channel.
    channels.channel_reply(
        user=station["editor"], channel=station["channel"], conversation_id=conversation["id"], body="Welcome"
    )
    page = reader.get(f"/api/conversations/{conversation['id']}/messages/").json()["results"]
    assert [(m["sender"]["username"], m["body"]) for m in page][-1] == ("teahouse", "Welcome")


def channels_inbox(station):
    from chat.channel_data import inbox_of

    return inbox_of(station["channel"])


def test_a_stranger_cannot_answer_as_the_channel(station):
    from chat.services import channels
    from common.errors import NotFound

    with pytest.raises(NotFound):
        channels.channel_reply(user=station["reader"], channel=station["channel"], conversation_id=1, body="x")


def test_blocking_a_channel_unsubscribes_and_hides_it(station, client_for):
    reader = client_for(station["reader"])
    reader.post("/api/channels/teahouse/subscribe/")
    blocked = reader.post("/api/blocks/", {"username": "teahouse"}, format="json")
    assert blocked.status_code in (200, 201), blocked.content
    assert _channel_row(reader) == []
    assert reader.get("/api/channels/teahouse/").status_code == 404
    assert reader.post("/api/channels/teahouse/subscribe/").status_code == 404
    assert client_for(station["owner"]).get("/api/channels/teahouse/").json()["subscriber_count"] == 0


def test_the_conversation_list_costs_the_same_with_channels_in_it(
    station, client_for, make_user, broadcast_as, befriend, bob
):
    """Query count pinned: channels add rows, not queries (their subscribers are never loaded)."""
    from chat.services import message_send

    message_send(sender=bob, conversation=befriend(station["reader"], bob), body="hi")
    reader = client_for(station["reader"])
    with CaptureQueriesContext(connection) as without:
        reader.get("/api/conversations/")
    from chat.services import channels

    for n in range(3):
        owner = make_user(username=f"o{n}")
        channel = channels.channel_create(owner=owner, username=f"chan{n}", display_name=f"Chan {n}")
        for m in range(3):
            channels.channel_subscribe(user=make_user(username=f"s{n}_{m}"), channel=channel)
        channels.channel_subscribe(user=station["reader"], channel=channel)
    reader.post("/api/channels/teahouse/subscribe/")
    broadcast_as(station["owner"], station["articles"])
    with CaptureQueriesContext(connection) as with_channels:
        rows = reader.get("/api/conversations/").json()
    assert [row["kind"] for row in rows].count("channel") == 4
    assert all(row["members"] == [] for row in rows if row["kind"] == "channel")
    assert len(with_channels) == len(without) == 5, [q["sql"][:80] for q in with_channels.captured_queries]
    assert Membership.objects.filter(conversation__kind=Conversation.Kind.CHANNEL).count() == 13
