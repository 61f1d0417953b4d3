"""Issue 14 item 9, the page side: user text is isolated from what surrounds it, a display name is
shown with its @username wherever it could pass for someone else's, and the pages count length
as the server does (code points, after stripping Python's whitespace)."""

import pytest
from playwright.sync_api import expect

from microblog.models import Post
from microblog.services import post_create
from tests.live import log_in, rest

from .test_meet_live import SOCKET_READY

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SPOOF = "\u202eecilA"  # shows as "Alice" where the right-to-left override is not isolated

# Every text node holding the name, each with: isolated (inside <bdi> or an element with dir=auto,
# whose unicode-bidi then isolates it), and the text of the item it belongs to (to find @username).
OCCURRENCES = """(name) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.data.includes(name)) continue;
    const isolating = node.parentElement.closest("bdi, [dir=auto]");
    const item = node.parentElement.closest("li, article, h1, h2, label, .who, .card-post, p");
    found.push({
      isolated: Boolean(isolating) && ["isolate", "plaintext"].includes(getComputedStyle(isolating).unicodeBidi),
      item: (item ?? node.parentElement).textContent,
    });
  }
  return found;
}"""


def occurrences(page, name: str = SPOOF) -> list[dict]:
    return page.evaluate(OCCURRENCES, name)


def test_a_bidi_spoofing_display_name_is_isolated_and_shown_with_its_username_everywhere(
    new_page, daphne_server, make_user, befriend
):
    # Stored before names were checked (or by any path that does not check them): pages must cope.
    alice = make_user(username="alice", display_name="Alice")
    mallory = make_user(username="mallory", display_name=SPOOF)
    carol = make_user(username="carol")
    befriend(alice, mallory)
    befriend(alice, carol)
    group = rest(
        daphne_server, alice, "POST", "/api/conversations/", {"members": ["mallory", "carol"], "title": "Trip"}
    ).json()
    post = post_create(author=mallory, body="hello from a friend @alice")
    rest(daphne_server, mallory, "POST", f"/api/conversations/{group['id']}/messages/", {"shared_post": post.pk}).json()
    rest(daphne_server, mallory, "POST", "/api/users/alice/follow/").json()
    page = log_in(new_page(), alice)

    checked = []
    for path in (
        f"/p/{post.pk}/",
        "/u/mallory/",
        "/notifications/",
        f"/chat/{group['id']}/",
        "/contacts/",
        "/explore/",
    ):
        page.goto(path)
        found = occurrences(page)
        assert found, f"{path} does not show the name"
        for occurrence in found:
            assert occurrence["isolated"], f"{path}: not isolated in {occurrence['item']!r}"
            assert "@mallory" in occurrence["item"], f"{path}: no @username in {occurrence['item']!r}"
        checked.append(path)

    # Live: a message in the group and a notification arrive, built by the pages' JavaScript.
    page.goto(f"/chat/{group['id']}/")
    page.evaluate(SOCKET_READY)
    rendered = len(occurrences(page))
    rest(daphne_server, mallory, "POST", f"/api/conversations/{group['id']}/messages/", {"body": "live hello"}).json()
    expect(page.locator("#messages .msg", has_text="live hello")).to_have_count(1)
    page.goto("/notifications/")
    page.evaluate(SOCKET_READY)
    page.evaluate("window.sameDocument = true")
    liked = post_create(author=alice, body="something to like")
    rest(daphne_server, mallory, "POST", f"/api/posts/{liked.pk}/like/").json()
    expect(page.locator("#notification-list li[data-kind=like]")).to_have_count(1)
    assert page.evaluate("window.sameDocument") is True
    live = occurrences(page)
    page.goto(f"/chat/{group['id']}/")  # the chat page again, after the live message was stored
    assert len(occurrences(page)) == rendered + 1
    for occurrence in live:
        assert occurrence["isolated"] and "@mallory" in occurrence["item"], occurrence
    assert len(live) == 3  # the follow and the mention rendered, the like pushed


def _server_accepts(server, user, path: str, body: dict) -> bool:
    answer = rest(server, user, "POST", path, body)
    assert answer.status in (201, 400), answer.data
    return answer.status == 201


# Code points of a mix of CJK (one UTF-16 unit each) and emoji outside the BMP (two each).
def cjk_emoji(count: int) -> str:
    return ("汉😀" * count)[:count]


BODIES = {
    "at the limit": lambda limit: cjk_emoji(limit),
    "one over": lambda limit: cjk_emoji(limit + 1),
    "at the limit, with spaces the server strips": lambda limit: "\u3000 " + cjk_emoji(limit) + "\n\u2003",
}


def _page_accepts(page, field, body: str) -> bool:
    """Whether the page lets the text be sent: all of it kept, the field valid, the counter not over."""
    field.fill(body)
    kept = field.evaluate("(field) => field.value")
    valid = field.evaluate("(field) => field.checkValidity()")
    return kept == body and valid


@pytest.mark.parametrize("case", list(BODIES))
def test_the_chat_composer_accepts_a_body_exactly_when_the_server_does(
    new_page, daphne_server, alice, bob, befriend, case
):
    conversation = befriend(alice, bob)
    body = BODIES[case](4000)
    server = _server_accepts(daphne_server, alice, f"/api/conversations/{conversation.pk}/messages/", {"body": body})
    page = log_in(new_page(), alice)
    page.goto(f"/chat/{conversation.pk}/")
    page.evaluate(SOCKET_READY)
    field = page.get_by_label("Message", exact=True)
    assert _page_accepts(page, field, body) == server, (case, server)
    counter = page.locator("#message-count")
    if server:
        expect(counter).to_have_text("4000 / 4000")
        expect(counter).not_to_have_class("over")
        page.get_by_role("button", name="Send").click()  # and the socket's path agrees with REST's
        expect(page.locator(".msg.mine[data-id]")).to_have_count(2)
        expect(page.locator(".msg.pending, .msg.failed")).to_have_count(0)
    else:
        expect(counter).to_have_text("4001 / 4000")
        expect(counter).to_have_class("muted small over")


@pytest.mark.parametrize("case", list(BODIES))
def test_the_post_composer_accepts_a_body_exactly_when_the_server_does(new_page, daphne_server, alice, case):
    from microblog.serializers import MAX_BODY_CHARS

    body = BODIES[case](MAX_BODY_CHARS)
    server = _server_accepts(daphne_server, alice, "/api/posts/", {"body": body})
    page = log_in(new_page(), alice)
    page.goto("/")
    field = page.get_by_label("What's happening?")
    assert _page_accepts(page, field, body) == server, (case, server)
    counter = page.locator("#compose-count")
    expected = MAX_BODY_CHARS if server else MAX_BODY_CHARS + 1
    expect(counter).to_have_text(f"{expected} / {MAX_BODY_CHARS}")
    if server:
        page.get_by_role("button", name="Post").click()
        page.wait_for_url("**/")
        expect(page.locator(".errors, .error")).to_have_count(0)
        assert Post.objects.filter(author=alice).count() == 2
