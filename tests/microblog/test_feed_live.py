"""Live "new posts" on the home feed: a light `feed.new` frame to the followers who may see the post."""

import json
import urllib.request

import pytest

from accounts.models import Contact
from accounts.services import token_for
from microblog.models import Follow, Mute
from tests.chat.wsclient import SocketClient


def api_json(daphne_server, path: str, user, body: dict | None = None) -> dict:
    """A POST to the live daphne (its writes push through the server's own channel layer and cache)."""
    request = urllib.request.Request(
        daphne_server.url + path,
        method="POST",
        data=json.dumps(body or {}).encode(),
        headers={"Authorization": f"Token {token_for(user=user).key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def frames_until_notification(client: SocketClient) -> list[dict]:
    """Every frame up to the next notification, which closes the window: pushes to one socket keep their order."""
    frames = []
    while True:
        frame = client.recv(timeout=10)
        if frame["type"] == "notification":
            return frames
        frames.append(frame)


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_followers_who_may_see_a_post_hear_of_it_and_nobody_else(live_daphne, make_user):
    names = ("bob", "alice", "carol", "dave", "erin", "zed")
    bob, alice, carol, dave, erin, zed = (make_user(username=name) for name in names)
    for follower in (alice, dave, erin):
        Follow.objects.create(follower=follower, followee=bob)
    Mute.objects.create(user=dave, muted=bob)
    Contact.objects.bulk_create([Contact(user=alice, contact=bob), Contact(user=bob, contact=alice)])
    watchers = {
        user.username: SocketClient(live_daphne.ws_url, token_for(user=user).key) for user in (alice, carol, dave, erin)
    }
    try:
        public = api_json(live_daphne, "/api/posts/", bob, {"body": "hello all"})
        circle = api_json(live_daphne, "/api/posts/", bob, {"body": "for my contacts", "visibility": "contacts"})
        by_carol = api_json(live_daphne, "/api/posts/", carol, {"body": "worth passing on"})
        repost = api_json(live_daphne, f"/api/posts/{by_carol['id']}/repost/", bob)
        for user in (alice, carol, dave, erin):  # a notification to each closes what they heard
            api_json(live_daphne, f"/api/users/{user.username}/follow/", zed)
        heard = {
            name: [(f["post"], f["author"]) for f in frames_until_notification(client) if f["type"] == "feed.new"]
            for name, client in watchers.items()
        }
    finally:
        for client in watchers.values():
            client.close()
    assert heard == {
        "alice": [(public["id"], "bob"), (circle["id"], "bob"), (repost["id"], "bob")],
        "carol": [],  # does not follow bob
        "dave": [],  # follows bob but muted him
        "erin": [(public["id"], "bob"), (repost["id"], "bob")],  # not a contact: no contacts-only post
    }


def log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=f"@{username}", exact=True).wait_for()


def wait_until_online(page, username: str) -> None:
    """The page's socket opens before the server counts it online: news is sent to counted sockets only."""
    for _ in range(200):
        body = page.request.get("/api/contacts/").json()
        contacts = body if isinstance(body, list) else body["results"]
        if any(contact["username"] == username and contact["online"] for contact in contacts):
            return
        page.wait_for_timeout(100)
    pytest.fail(f"{username} never came online")


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_home_shows_new_posts_live_without_moving_what_the_reader_sees(new_page, make_user, password):
    from microblog.services import post_create

    alice, bob = make_user(username="alice"), make_user(username="bob")
    Follow.objects.create(follower=alice, followee=bob)
    # Contacts too, only so that bob's page can tell when the server counts alice online.
    Contact.objects.bulk_create([Contact(user=alice, contact=bob), Contact(user=bob, contact=alice)])
    post_create(author=bob, body="an older post alice is reading")
    reader = new_page()
    log_in(reader, "alice", password)
    reading = reader.locator("article.post").first
    before = reading.bounding_box()
    assert not reader.get_by_role("button", name="new post").is_visible()

    writer = new_page()
    log_in(writer, "bob", password)
    wait_until_online(writer, "alice")
    writer.get_by_label("What's happening?").fill("fresh news")
    writer.get_by_role("button", name="Post", exact=True).click()
    writer.locator("article.post").filter(has_text="fresh news").wait_for()

    announcement = reader.get_by_role("button", name="1 new post")
    announcement.wait_for()
    assert reading.bounding_box() == before
    assert reader.locator("article.post").count() == 1
    announcement.click()
    reader.locator("article.post").filter(has_text="fresh news").wait_for()
    assert reader.locator("article.post").first.text_content().count("fresh news") == 1
