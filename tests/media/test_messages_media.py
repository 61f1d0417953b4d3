"""Photos in chat: sent over REST and over a real socket (the same service), pushed and replayed with
the message, detached on recall; and the first photo of a shared post on its card, for the readers
who may see the post only."""

import json

import pytest

from chat.models import Message
from media.models import Media
from microblog.services import post_create, user_follow
from tests.factories import ConversationFactory
from tests.live import Socket, rest
from tests.media.ready import ready_media, use_media_root


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    use_media_root(settings, tmp_path)


@pytest.fixture
def pair(alice, bob, befriend):
    return befriend(alice, bob)


def messages_url(conversation) -> str:
    return f"/api/conversations/{conversation.pk}/messages/"


def ids(media: list[dict]) -> list[int]:
    return [item["id"] for item in media]


@pytest.mark.django_db
def test_a_photo_sent_over_rest_shows_in_the_answer_the_history_and_the_list(client_for, alice, bob, pair):
    photos = [ready_media(alice, width=120, height=90), ready_media(alice)]
    answer = client_for(alice).post(messages_url(pair), {"media": [photos[1].pk, photos[0].pk]}, format="json")
    assert answer.status_code == 201, answer.content
    sent = answer.json()
    assert (sent["body"], ids(sent["media"])) == ("", [photos[1].pk, photos[0].pk])
    assert sent["media"][1]["url"] == f"/media/{photos[0].key}/display"
    assert sent["media"][1]["thumbnail_url"] == f"/media/{photos[0].key}/thumbnail"
    history = client_for(bob).get(messages_url(pair)).json()["results"]
    assert history[-1] == sent
    [listed] = client_for(bob).get("/api/conversations/").json()
    assert listed["last_message"] == sent
    attached = Media.objects.filter(attached_kind="message", attached_id=sent["id"]).order_by("position")
    assert list(attached.values_list("pk", flat=True)) == [photos[1].pk, photos[0].pk]


@pytest.mark.django_db
def test_the_chat_list_page_says_photo_for_a_wordless_photo_message(client, alice, bob, pair, client_for):
    client_for(alice).post(messages_url(pair), {"media": [ready_media(alice).pk]}, format="json")
    client.force_login(bob)
    assert "[Photo]" in client.get("/chat/").content.decode()


@pytest.mark.django_db
def test_photos_that_may_not_be_attached_refuse_the_message(client_for, alice, bob, pair, settings):
    alice_api = client_for(alice)
    used = ready_media(alice)
    alice_api.post(messages_url(pair), {"body": "first", "media": [used.pk]}, format="json")
    missing = Media.objects.order_by("-pk").first().pk + 100
    cases = {
        "someone else's": [ready_media(bob).pk],
        "missing": [missing],
        "processing": [ready_media(alice, status=Media.Status.PROCESSING).pk],
        "already attached": [used.pk],
        "too many": [ready_media(alice).pk for _ in range(settings.MEDIA_PER_ITEM + 1)],
        "not a list": "1",
    }
    answers = {
        name: alice_api.post(messages_url(pair), {"media": media}, format="json") for name, media in cases.items()
    }
    assert {name: (a.status_code, a.json()["code"]) for name, a in answers.items()} == {
        "someone else's": (400, "media_not_found"),
        "missing": (400, "media_not_found"),
        "processing": (400, "media_not_ready"),
        "already attached": (400, "media_in_use"),
        "too many": (400, "too_many_media"),
        "not a list": (400, "invalid"),
    }
    assert answers["someone else's"].json() == answers["missing"].json()
    assert list(Message.objects.values_list("body", flat=True)) == ["first"]
    assert Media.objects.filter(attached_kind="message").count() == 1


@pytest.mark.django_db
def test_recalling_a_message_detaches_its_photos(client_for, alice, bob, pair):
    photo = ready_media(alice)
    sent = client_for(alice).post(messages_url(pair), {"body": "oops", "media": [photo.pk]}, format="json").json()
    recalled = client_for(alice).post(f"/api/messages/{sent['id']}/recall/").json()
    assert (recalled["recalled"], recalled["media"]) == (True, [])
    photo.refresh_from_db()
    assert photo.detached_at is not None
    assert client_for(bob).get(messages_url(pair)).json()["results"][-1]["media"] == []


@pytest.mark.django_db
def test_a_shared_post_card_shows_its_first_photo_only_to_readers_who_may_see_the_post(
    client_for, alice, bob, make_user
):
    carol = make_user(username="carol")
    user_follow(follower=bob, followee=alice)  # bob follows alice; carol does not
    group = ConversationFactory(creator=alice, members=[bob, carol], title="Friends")
    photos = [ready_media(alice), ready_media(alice)]
    shared = post_create(author=alice, body="for followers", visibility="followers", media=[p.pk for p in photos])
    client_for(alice).post(messages_url(group), {"shared_post": shared.pk}, format="json")

    bobs = client_for(bob).get(messages_url(group)).json()["results"][-1]["shared_post"]
    assert bobs["image"]["thumbnail_url"] == f"/media/{photos[0].key}/thumbnail"
    assert (bobs["image"]["id"], bobs["media_count"]) == (photos[0].pk, 2)
    carols_view = [
        client_for(carol).get(messages_url(group)).json(),
        client_for(carol).get("/api/conversations/").json(),
    ]
    assert carols_view[0]["results"][-1]["shared_post"] == {"id": shared.pk, "unavailable": True}
    text = json.dumps(carols_view)
    assert not any(photo.key in text for photo in photos)
    # A repost shared into the chat shows the original's first photo.
    public = post_create(author=alice, body="for everyone", media=[ready_media(alice).pk])
    repost = client_for(bob).post(f"/api/posts/{public.pk}/repost/").json()
    client_for(bob).post(messages_url(group), {"shared_post": repost["id"]}, format="json")
    card = client_for(carol).get(messages_url(group)).json()["results"][-1]["shared_post"]
    assert (card["id"], card["image"]["id"]) == (repost["id"], repost["original_media"][0]["id"])


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_photo_sent_over_the_socket_reaches_the_other_member_live(daphne_server, alice, bob, pair):
    photo = ready_media(alice)
    with Socket.open(daphne_server, alice) as a, Socket.open(daphne_server, bob) as b:
        a.settle()
        b.settle()
        a.send(type="message.send", conversation=pair.pk, client_id="p1", media=[photo.pk])
        got = a.expect_all(("message.ack", "message.new"), skip=("presence",))
        ack = got["message.ack"]["message"]
        assert (ack["body"], ids(ack["media"])) == ("", [photo.pk])
        assert ack["media"][0]["thumbnail_url"] == f"/media/{photo.key}/thumbnail"
        received = b.expect("message.new", skip=("presence",))
        assert received["message"] == ack
        # The same upload again is refused (it is attached now), on the socket as over REST.
        a.send(type="message.send", conversation=pair.pk, client_id="p2", body="again", media=[photo.pk])
        refused = a.expect("error", skip=("presence",))
        assert (refused["code"], refused["client_id"]) == ("media_in_use", "p2")
        over_rest = rest(daphne_server, alice, "POST", messages_url(pair), {"body": "x", "media": [photo.pk]})
        assert (over_rest.status, over_rest.data["code"]) == (400, "media_in_use")
    # A resume (on a new socket: one replays nothing it pushed live) renders the message from the store.
    with Socket.open(daphne_server, bob) as again:
        again.send(type="resume", after=received["seq"] - 1)
        replayed = again.until("resume.done")
        assert [frame["message"] for frame in replayed if frame["type"] == "message.new"] == [ack]


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_two_sends_racing_for_one_photo_store_one_message(daphne_server, alice, pair):
    photo = ready_media(alice)
    with Socket.open(daphne_server, alice) as a:
        a.settle()
        for client_id in ("r1", "r2"):
            a.send(type="message.send", conversation=pair.pk, client_id=client_id, body=client_id, media=[photo.pk])
        answers = {}
        while len(answers) < 2:
            frame = a.recv()
            if frame["type"] in ("message.ack", "error"):
                answers[frame["client_id"]] = frame
    assert sorted(frame["type"] for frame in answers.values()) == ["error", "message.ack"]
    assert {frame.get("code") for frame in answers.values()} == {None, "media_in_use"}
    [stored] = Message.objects.filter(conversation=pair)
    photo.refresh_from_db()
    assert (photo.attached_kind, photo.attached_id) == ("message", stored.pk)


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_recall_reaches_the_members_live_and_the_photo_goes(daphne_server, alice, bob, pair):
    photo = ready_media(alice)
    with Socket.open(daphne_server, bob) as b:
        b.settle()
        sent = rest(daphne_server, alice, "POST", messages_url(pair), {"body": "hm", "media": [photo.pk]}).json()
        assert ids(b.expect("message.new", skip=("presence",))["message"]["media"]) == [photo.pk]
        rest(daphne_server, alice, "POST", f"/api/messages/{sent['id']}/recall/").json()
        recalled = b.expect("message.recalled", skip=("presence",))["message"]
        assert (recalled["recalled"], recalled["body"], recalled["media"]) == (True, "", [])
    photo.refresh_from_db()
    assert photo.detached_at is not None
