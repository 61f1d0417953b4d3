"""One markup for each item, whoever draws it: a chat message (with and without a shared post's card,
recalled or not) and a notification of each kind look the same pushed live, built by the page's
JavaScript from the server's <template>, as rendered by the server on a reload."""

import pytest
from playwright.sync_api import expect

from microblog.services import post_create
from tests.live import log_in, rest

from .test_meet_live import SOCKET_READY

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The element tree of every item under `selector`, keyed by its data-id: tags, classes, attribute
# names and dir, in order; text and attribute values aside (times and ids differ, markup must not).
SHAPES = """(selector) => {
  const shape = (element) => [
    element.tagName.toLowerCase(),
    [...element.classList].sort().join(" "),
    [...element.attributes].map((a) => a.name).filter((name) => name !== "class").sort().join(" "),
    element.getAttribute("dir"),
    [...element.children].map(shape),
  ];
  return Object.fromEntries([...document.querySelectorAll(selector)].map((item) => [item.dataset.id, shape(item)]));
}"""


def shapes(page, selector: str) -> dict:
    return page.evaluate(SHAPES, selector)


def test_a_live_message_has_the_same_markup_as_a_server_rendered_one(new_page, daphne_server, make_user, befriend):
    alice, bob, carol = (make_user(username=name) for name in ("alice", "bob", "carol"))
    befriend(alice, bob)
    befriend(alice, carol)
    group = rest(
        daphne_server, alice, "POST", "/api/conversations/", {"members": ["bob", "carol"], "title": "Trip"}
    ).json()
    post = post_create(author=carol, body="Harbour at dawn")
    messages = f"/api/conversations/{group['id']}/messages/"
    page = log_in(new_page(), bob)
    page.goto(f"/chat/{group['id']}/")
    page.evaluate(SOCKET_READY)
    page.evaluate("window.sameDocument = true")

    plain = rest(daphne_server, alice, "POST", messages, {"body": "hello all", "client_id": "one-source-1"}).json()
    rest(daphne_server, carol, "POST", messages, {"body": "look", "shared_post": post.pk}).json()
    recalled = rest(daphne_server, alice, "POST", messages, {"body": "oops", "shared_post": post.pk}).json()
    rest(daphne_server, alice, "POST", f"/api/messages/{recalled['id']}/recall/").json()
    items = page.locator("#messages .msg[data-id]")
    expect(items).to_have_count(3)
    expect(items.nth(2)).to_have_class("msg recalled")
    assert page.evaluate("window.sameDocument") is True
    live = shapes(page, "#messages .msg[data-id]")

    page.reload()
    expect(items).to_have_count(3)
    rendered = shapes(page, "#messages .msg[data-id]")
    assert live == rendered
    # The live items are what was asked for: a sender shown isolated, with @username; a card.
    first = page.locator(f'.msg[data-id="{plain["id"]}"]')
    expect(first.locator(".who bdi.name")).to_have_text("Alice")
    expect(first.locator(".who .handle")).to_have_text("@alice")
    expect(first).to_have_attribute("data-client-id", "one-source-1")
    expect(items.nth(1).locator(".card-post .handle")).to_have_text("@carol")


def test_a_live_notification_has_the_same_markup_as_a_server_rendered_one(new_page, daphne_server, make_user):
    alice, mallory = make_user(username="alice"), make_user(username="mallory", display_name="Mal")
    post = post_create(author=alice, body="a long walk")
    page = log_in(new_page(), alice)
    page.goto("/notifications/")
    page.evaluate(SOCKET_READY)
    page.evaluate("window.sameDocument = true")

    rest(daphne_server, mallory, "POST", "/api/users/alice/follow/").json()
    rest(daphne_server, mallory, "POST", f"/api/posts/{post.pk}/like/").json()
    rest(daphne_server, mallory, "POST", "/api/posts/", {"body": "agreed", "reply_to": post.pk}).json()
    rest(daphne_server, mallory, "POST", "/api/posts/", {"body": "hi @alice"}).json()
    rest(daphne_server, mallory, "POST", f"/api/posts/{post.pk}/repost/", {}).json()
    items = page.locator("#notification-list li[data-id]")
    expect(items).to_have_count(5)
    assert page.evaluate("window.sameDocument") is True
    live = shapes(page, "#notification-list li[data-id]")
    live_text = items.all_inner_texts()

    page.reload()
    expect(items).to_have_count(5)
    assert shapes(page, "#notification-list li[data-id]") == live
    kinds = sorted(items.evaluate_all("(items) => items.map((item) => item.dataset.kind)"))
    assert kinds == ["follow", "like", "mention", "reply", "repost"]
    # The same words too, times aside (the browser's clock zone against the server's).
    assert [text.split("·")[0] for text in items.all_inner_texts()] == [text.split("·")[0] for text in live_text]
    expect(items.first.locator(".handle")).to_have_text("@mallory")
