"""In Chromium against a live daphne: a subscriber on /chat/ sees a broadcast light the one
Subscriptions row live (the main Chats badge stays dark), opens it, and reads the channel's page."""

import re

import pytest

from tests.e2e.test_meet_live import SOCKET_READY
from tests.live import log_in, rest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_broadcast_lights_the_subscriptions_row_live(new_page, daphne_server, make_user):
    owner, reader = make_user(username="owner"), make_user(username="reader")
    assert (
        rest(daphne_server, owner, "POST", "/api/channels/", {"username": "news", "display_name": "Daily News"}).status
        == 201
    )
    article = rest(daphne_server, owner, "POST", "/api/articles/", {"title": "Big news", "body": "It happened."}).json()
    rest(daphne_server, owner, "POST", f"/api/articles/{article['id']}/publish/").json()
    page = log_in(new_page(), reader)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/c/news/")
    page.get_by_role("button", name="Subscribe").click()
    page.locator("#subscriber-count").filter(has_text="1").wait_for()
    page.goto("/chat/")
    entry = page.locator("#subscriptions-entry")
    entry.wait_for()
    page.evaluate(SOCKET_READY)  # open, and so in the channel's group (joined before it was accepted)
    sent = rest(
        daphne_server,
        owner,
        "POST",
        "/api/channels/news/broadcasts/",
        {"title": "Morning edition", "articles": [article["id"]]},
    )
    assert sent.status == 201, sent.data
    entry.locator(".subscriptions-badge").filter(has_text="1").wait_for()
    assert "Daily News: Morning edition" in entry.locator(".preview").inner_text()
    assert page.locator("#chat-badge").inner_text() == ""
    entry.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/chat/subscriptions/$"))
    row = page.locator("[data-channel-conversation]")
    assert row.locator(".badge").inner_text() == "1"
    row.get_by_role("link").click()
    page.locator("#read-only-note").wait_for()
    page.get_by_role("link", name="Open the channel").click()
    page.locator(".broadcast-title").filter(has_text="Morning edition").wait_for()
    page.locator(".article-card-title").filter(has_text="Big news").wait_for()
    assert errors == []
