"""Live "new posts" on the home feed: a light `feed.new` frame to the followers who may see the post."""

import pytest

from accounts.models import Contact
from microblog.models import Follow, Mute
from tests.factories import PostFactory
from tests.live import Socket, log_in, rest


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_followers_who_may_see_a_post_hear_of_it_and_nobody_else(live_daphne, make_user):
    names = ("bob", "alice", "carol", "dave", "erin", "zed")
    bob, alice, carol, dave, erin, zed = (make_user(username=name) for name in names)
    for follower in (alice, dave, erin):
        Follow.objects.create(follower=follower, followee=bob)
    Mute.objects.create(user=dave, muted=bob)
    Contact.objects.bulk_create([Contact(user=alice, contact=bob), Contact(user=bob, contact=alice)])
    watchers = {user.username: Socket.open(live_daphne, user) for user in (alice, carol, dave, erin)}
    try:
        public = rest(live_daphne, bob, "POST", "/api/posts/", {"body": "hello all"}).json()
        circle = rest(
            live_daphne, bob, "POST", "/api/posts/", {"body": "for me and mine", "visibility": "contacts"}
        ).json()
        by_carol = rest(live_daphne, carol, "POST", "/api/posts/", {"body": "worth passing on"}).json()
        repost = rest(live_daphne, bob, "POST", f"/api/posts/{by_carol['id']}/repost/", {}).json()
        for user in (alice, carol, dave, erin):  # a notification to each closes what they heard
            rest(live_daphne, zed, "POST", f"/api/users/{user.username}/follow/").json()
        # Pushes to one socket keep their order: what came before that notification is all they heard.
        heard = {name: client.until("notification", timeout=10)[:-1] for name, client in watchers.items()}
    finally:
        for client in watchers.values():
            client.close()
    news = {name: [(f["type"], f.get("post"), f.get("author")) for f in frames] for name, frames in heard.items()}
    assert news == {
        "alice": [("feed.new", post["id"], "bob") for post in (public, circle, repost)],
        "carol": [],  # does not follow bob
        "dave": [],  # follows bob but muted him
        "erin": [("feed.new", post["id"], "bob") for post in (public, repost)],  # not a contact: no contacts-only post
    }


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
def test_home_shows_new_posts_live_without_moving_what_the_reader_sees(new_page, make_user):
    alice, bob = make_user(username="alice"), make_user(username="bob")
    Follow.objects.create(follower=alice, followee=bob)
    # Contacts too, only so that bob's page can tell when the server counts alice online.
    Contact.objects.bulk_create([Contact(user=alice, contact=bob), Contact(user=bob, contact=alice)])
    PostFactory(author=bob, body="an older post alice is reading")
    reader = log_in(new_page(), alice)
    reading = reader.locator("article.post").first
    before = reading.bounding_box()
    assert not reader.get_by_role("button", name="new post").is_visible()

    writer = log_in(new_page(), bob)
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
