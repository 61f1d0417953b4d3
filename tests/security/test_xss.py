"""XSS in a real browser: hostile text in every user-written field, on every page and in live updates.

Each payload is an element with a `data-xss` attribute and an event handler that sets a
global marker and opens an alert. A page passes when no dialog opened, the marker is unset,
no `data-xss` element exists (so the text was never parsed as HTML, even where the CSP
would have stopped the script) and the payload shows as text.
"""

import pytest
from playwright.sync_api import expect

from accounts.services import profile_update
from chat.services import message_send
from microblog import services as microblog
from tests.factories import ConversationFactory, PostFactory
from tests.live import log_in, rest

pytestmark = pytest.mark.django_db(transaction=True)


def payload(field: str) -> str:
    """Markup that would set the marker and open an alert, named by its field (50 characters at
    most: a display name's limit, so every field holds its payload whole)."""
    return f'<img data-xss src=x onerror="alert(__xss=1)">{field}'


FIELDS = ("name", "bio", "post", "reply", "repost", "tag", "message", "group", "live-message", "live-post")


@pytest.fixture
def hostile_world(make_user, befriend) -> dict:
    victim = make_user(username="victor")
    mallory = make_user(username="mallory", display_name=payload("name"))
    profile_update(user=mallory, bio=payload("bio"))
    direct = befriend(victim, mallory)
    third = make_user(username="trent")
    befriend(victim, third)
    microblog.user_follow(follower=victim, followee=mallory)
    post = PostFactory(author=mallory, body=f"{payload('post')} @victor #{payload('tag')}# #xss")
    reply = PostFactory(author=mallory, body=payload("reply"), reply_to=post)
    repost, _ = microblog.post_repost(author=mallory, post=post, comment=payload("repost"))
    group = ConversationFactory(creator=mallory, members=[victim, third], title=payload("group"))
    message_send(sender=mallory, conversation=direct, body=payload("message"), client_id="x1")
    message_send(sender=mallory, conversation=group, body=payload("message"), client_id="x2")
    tag = f"/tags/{payload('tag')}/".replace("#", "%23").replace("?", "%3F")
    pages = [
        "/",
        "/?order=latest",
        "/explore/",
        "/explore/?q=xss",
        "/tags/xss/",
        tag,
        f"/p/{post.pk}/",
        f"/p/{reply.pk}/",
        f"/p/{repost.pk}/",
        "/u/mallory/",
        "/notifications/",
        "/chat/",
        f"/chat/{direct.pk}/",
        f"/chat/{group.pk}/",
        "/contacts/",
    ]
    return {"victim": victim, "mallory": mallory, "direct": direct, "pages": pages}


def _inspect(page, seen: set) -> None:
    injected = page.evaluate("document.querySelectorAll('[data-xss]').length")
    ran = page.evaluate("window.__xss !== undefined")
    assert (injected, ran) == (0, False), page.url
    text = page.evaluate("document.body.innerText")
    seen.update(field for field in FIELDS if payload(field) in text)


def test_hostile_text_never_runs_or_becomes_markup(new_page, live_daphne, hostile_world):
    dialogs = []
    page = log_in(new_page(), hostile_world["victim"])
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    rendered = 0
    seen: set[str] = set()
    shown = {}
    for path in hostile_world["pages"]:
        response = page.goto(path, wait_until="domcontentloaded")
        assert response.status < 400, path
        page_seen: set[str] = set()
        _inspect(page, page_seen)
        shown[path] = page_seen
        seen |= page_seen
        rendered += len(page_seen)
    # Each page shows some payload as text: a page that showed none would pass without being tried.
    assert all(shown.values()), [path for path, fields in shown.items() if not fields]

    # Live: the victim watches the chat, then the home page, while mallory writes over REST.
    mallory, direct = hostile_world["mallory"], hostile_world["direct"]
    page.goto(f"/chat/{direct.pk}/")
    live_message = {"body": payload("live-message"), "client_id": "l1"}
    rest(live_daphne, mallory, "POST", f"/api/conversations/{direct.pk}/messages/", live_message).json()
    # expect() polls over the DevTools protocol; wait_for_function's polling evaluates its text in the
    # page, which the page's CSP (no 'unsafe-eval') refuses whenever the first check comes too early.
    expect(page.locator("body")).to_contain_text("live-message")
    live_seen: set[str] = set()
    _inspect(page, live_seen)
    page.goto("/")
    unread = "Number(document.getElementById('notification-badge').textContent) || 0"
    before = page.evaluate(unread)
    rest(live_daphne, mallory, "POST", "/api/posts/", {"body": f"{payload('live-post')} @victor"}).json()
    # The mention's notification arrived over the socket.
    expect(page.locator("#notification-badge")).to_have_text(str(before + 1))
    _inspect(page, live_seen)
    page.goto("/notifications/")
    _inspect(page, live_seen)
    seen |= live_seen
    rendered += len(live_seen)

    pages = len(hostile_world["pages"]) + 2
    print(f"\nXSS: {len(FIELDS)} fields x {pages} pages: {rendered} renderings, 0 scripts run, 0 elements injected")
    assert dialogs == []
    assert seen == set(FIELDS), set(FIELDS) - seen
