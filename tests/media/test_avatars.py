"""Avatars: set, replaced and removed through PATCH /api/me/; shown (`avatar_url`) wherever a person
is; and the generated default, an SVG of initials on a colour picked by the username."""

import xml.etree.ElementTree as ET

import pytest

from accounts.avatars import PALETTE
from accounts.models import User
from media.models import Media
from microblog.services import post_create, user_follow
from tests.factories import ConversationFactory
from tests.live import Socket, rest
from tests.media.ready import default_avatar_of, ready_media, use_media_root

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    use_media_root(settings, tmp_path)


def thumbnail_of(media: Media) -> str:
    return f"/media/{media.key}/thumbnail"


def set_avatar(client, media_id):
    return client.patch("/api/me/", {"avatar": media_id}, format="json")


@pytest.mark.django_db
def test_an_avatar_is_set_replaced_and_removed(client_for, alice):
    client = client_for(alice)
    me = client.get("/api/me/").json()
    assert (me["avatar"], me["avatar_url"]) == (None, default_avatar_of("alice"))
    first, second = ready_media(alice), ready_media(alice)

    me = set_avatar(client, first.pk).json()
    assert (me["avatar"], me["avatar_url"]) == (first.pk, thumbnail_of(first))
    first.refresh_from_db()
    assert (first.attached_kind, first.attached_id, first.detached_at) == ("avatar", alice.pk, None)

    me = set_avatar(client, second.pk).json()
    assert (me["avatar"], me["avatar_url"]) == (second.pk, thumbnail_of(second))
    first.refresh_from_db()
    assert first.detached_at is not None  # the replaced one is served to nobody from now on

    # The same one again changes nothing.
    assert set_avatar(client, second.pk).json()["avatar_url"] == thumbnail_of(second)
    second.refresh_from_db()
    assert second.detached_at is None

    me = set_avatar(client, None).json()
    assert (me["avatar"], me["avatar_url"]) == (None, default_avatar_of("alice"))
    second.refresh_from_db()
    assert second.detached_at is not None
    assert client.get("/api/me/").json()["avatar"] is None
    # A replaced avatar is gone for good: it cannot come back.
    assert set_avatar(client, first.pk).json()["code"] == "media_in_use"


@pytest.mark.django_db
def test_an_avatar_that_may_not_be_set_changes_nothing(client_for, alice, bob):
    client = client_for(alice)
    current = ready_media(alice)
    set_avatar(client, current.pk)
    on_a_post = ready_media(alice)
    post_create(author=alice, body="a photo", media=[on_a_post.pk])
    missing = Media.objects.order_by("-pk").first().pk + 100
    cases = {
        "someone else's": ready_media(bob).pk,
        "missing": missing,
        "processing": ready_media(alice, status=Media.Status.PROCESSING).pk,
        "failed": ready_media(alice, status=Media.Status.FAILED).pk,
        "on a post": on_a_post.pk,
    }
    answers = {
        name: client.patch("/api/me/", {"avatar": media_id, "bio": "changed"}, format="json")
        for name, media_id in cases.items()
    }
    assert {name: (a.status_code, a.json()["code"]) for name, a in answers.items()} == {
        "someone else's": (400, "media_not_found"),
        "missing": (400, "media_not_found"),
        "processing": (400, "media_not_ready"),
        "failed": (400, "media_failed"),
        "on a post": (400, "media_in_use"),
    }
    assert answers["someone else's"].json() == answers["missing"].json()
    alice.refresh_from_db()
    assert (alice.avatar_id, alice.bio) == (current.pk, "")
    current.refresh_from_db()
    assert current.detached_at is None
    for value in ("one", 0, -1, True, 2**63, [current.pk]):
        assert client.patch("/api/me/", {"avatar": value}, format="json").status_code == 400, value


@pytest.mark.django_db
def test_avatar_url_is_on_every_person_shown(client_for, alice, bob, befriend):
    photo = ready_media(alice)
    set_avatar(client_for(alice), photo.pk)
    mine = thumbnail_of(photo)
    user_follow(follower=bob, followee=alice)
    user_follow(follower=alice, followee=bob)  # bob is notified, alice the actor
    conversation = befriend(alice, bob)
    created = client_for(alice).post("/api/posts/", {"body": "hello"}, format="json").json()
    message = (
        client_for(alice).post(f"/api/conversations/{conversation.pk}/messages/", {"body": "hi"}, format="json").json()
    )
    bob_api = client_for(bob)

    seen = {
        "post author": created["author"]["avatar_url"],
        "timeline author": bob_api.get("/api/timeline/public/").json()["results"][0]["author"]["avatar_url"],
        "profile": bob_api.get("/api/users/alice/").json()["avatar_url"],
        "followed": bob_api.get("/api/users/bob/following/").json()["results"][0]["avatar_url"],
        "search": bob_api.get("/api/search/?q=alice").json()["users"][0]["avatar_url"],
        "notification actor": bob_api.get("/api/notifications/").json()["results"][0]["actor"]["avatar_url"],
        "message sender": message["sender"]["avatar_url"],
        "history sender": bob_api.get(f"/api/conversations/{conversation.pk}/messages/").json()["results"][-1][
            "sender"
        ]["avatar_url"],
        "conversation member": next(
            member["avatar_url"]
            for member in bob_api.get("/api/conversations/").json()[0]["members"]
            if member["username"] == "alice"
        ),
        "contact": bob_api.get("/api/contacts/").json()[0]["avatar_url"],
    }
    assert seen == dict.fromkeys(seen, mine)
    # Someone without an avatar shows the generated one.
    assert client_for(alice).get("/api/contacts/").json()[0]["avatar_url"] == default_avatar_of("bob")


@pytest.mark.django_db
def test_a_shared_post_card_shows_its_author_avatar(client_for, alice, bob, befriend):
    photo = ready_media(alice)
    set_avatar(client_for(alice), photo.pk)
    conversation = befriend(alice, bob)
    shared = post_create(author=alice, body="look")
    url = f"/api/conversations/{conversation.pk}/messages/"
    client_for(bob).post(url, {"shared_post": shared.pk}, format="json")
    card = client_for(bob).get(url).json()["results"][-1]["shared_post"]
    assert card["author"]["avatar_url"] == thumbnail_of(photo)


@pytest.mark.django_db
@pytest.mark.parametrize("people", [2, 6])
def test_lists_of_people_with_avatars_cost_the_same_queries(
    client_for, alice, make_user, befriend, django_assert_num_queries, people
):
    group_members = []
    for _ in range(people):
        person = make_user()
        set_avatar(client_for(person), ready_media(person).pk)
        befriend(alice, person)
        group_members.append(person)
    group = ConversationFactory(creator=alice, members=group_members, title="All")
    for person in group_members:
        client_for(person).post(f"/api/conversations/{group.pk}/messages/", {"body": "hi"}, format="json")
    client = client_for(alice)
    # The token, the blocks, the contacts (avatars joined; presence is in the cache).
    with django_assert_num_queries(3):
        contacts = client.get("/api/contacts/").json()
    # The token, the membership check, the page (senders and avatars joined), whether newer ones
    # exist, the page's photos (no cards or reply previews here).
    with django_assert_num_queries(5):
        history = client.get(f"/api/conversations/{group.pk}/messages/").json()["results"]
    shown = [c["avatar_url"] for c in contacts] + [m["sender"]["avatar_url"] for m in history]
    assert len(shown) == 2 * people and all(url.endswith("/thumbnail") for url in shown)


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_socket_opened_before_an_avatar_change_sends_with_the_new_one(daphne_server, alice, bob, befriend):
    conversation = befriend(alice, bob)
    photo = ready_media(alice)
    with Socket.open(daphne_server, alice) as a, Socket.open(daphne_server, bob) as b:
        a.settle()
        b.settle()
        rest(daphne_server, alice, "PATCH", "/api/me/", {"avatar": photo.pk}).json()
        a.send(type="message.send", conversation=conversation.pk, client_id="c1", body="new face")
        ack = a.expect("message.ack", skip=("message.new", "presence"))
        assert ack["message"]["sender"]["avatar_url"] == thumbnail_of(photo)
        assert b.expect("message.new", skip=("presence",))["message"]["sender"]["avatar_url"] == thumbnail_of(photo)


# The generated default -------------------------------------------------------------------------


def relative_luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_every_palette_colour_has_at_least_4_5_to_1_contrast_with_white():
    ratios = {colour: 1.05 / (relative_luminance(colour) + 0.05) for colour in PALETTE}
    assert min(ratios.values()) >= 4.5, ratios


def fetch_svg(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    root = ET.fromstring(response.content)  # noqa: S314  (our own answer, parsed to check it is well-formed)
    return response, root


@pytest.mark.django_db
def test_the_default_avatar_is_initials_on_the_usernames_colour(client, client_for, make_user):
    ada = make_user(username="ada", display_name="Ada Lovelace")
    url = client_for(ada).get("/api/me/").json()["avatar_url"]
    response, root = fetch_svg(client, url)
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "public, max-age=86400"
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response and "Cookie" not in response.get("Vary", "")
    fill = root.find(f"{SVG}rect").get("fill")
    assert fill in PALETTE
    assert root.find(f"{SVG}text").text == "AL"
    # The colour follows the username (any case), whoever asks.
    assert fetch_svg(client, "/avatars/ADA.svg")[1].find(f"{SVG}rect").get("fill") == fill
    colours = {fetch_svg(client, f"/avatars/someone{n}.svg")[1].find(f"{SVG}rect").get("fill") for n in range(40)}
    assert len(colours) >= 5
    # A new display name is a new URL (new initials), not a picture stale for a day.
    renamed = client_for(ada).patch("/api/me/", {"display_name": "Countess"}, format="json").json()["avatar_url"]
    assert renamed != url
    assert fetch_svg(client, renamed)[1].find(f"{SVG}text").text == "C"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("display_name", "initials"),
    [
        ("李雷", "李"),
        ("", "M"),  # the username's
        ('<img src=x onerror="alert(1)"> & Co', "IC"),
        ("\u202e\u200b", "M"),  # nothing visible: the username's
    ],
)
def test_the_default_avatar_escapes_and_keeps_to_visible_letters(client, make_user, display_name, initials):
    make_user(username="mallory", display_name=display_name)
    response, root = fetch_svg(client, "/avatars/mallory.svg")
    text = root.find(f"{SVG}text").text
    assert text == initials
    # Nothing but the three elements, and no attribute a browser would run.
    assert [element.tag for element in root.iter()] == [f"{SVG}svg", f"{SVG}rect", f"{SVG}text"]
    assert not any(name.lower().startswith("on") for element in root.iter() for name in element.attrib)
    assert b"<img" not in response.content and b"onerror" not in response.content
    assert "\u202e".encode() not in response.content


@pytest.mark.django_db
def test_a_name_nobody_has_gets_its_own_initials(client):
    _, root = fetch_svg(client, "/avatars/nobody_here.svg")
    assert root.find(f"{SVG}text").text == "N"
    assert not User.objects.exists()
