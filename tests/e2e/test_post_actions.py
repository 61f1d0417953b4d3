"""Acting on a post from wherever it is shown (issue 16), in Chromium against daphne, at 1280 px and at
390×844: like (the heart fills), reply inline, repost with comment in a dialog and share to a chat, with
no navigation (same URL, same document) and the counts moving; the same actions without JavaScript come
back to the same page; and a contact request seen live, accepted from the notifications page, then
Message opens the chat."""

import pytest
from playwright.sync_api import expect

from chat.models import Message
from microblog.models import Like, Post
from microblog.services import post_create, user_follow
from tests.live import log_in, rest

from .test_meet_live import SOCKET_READY

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [
    pytest.param({"width": 1280, "height": 800}, id="desktop"),
    pytest.param({"width": 390, "height": 844}, id="phone"),
]


@pytest.fixture
def harbour(make_user):
    """alice posts; bob follows her, so the post is in bob's feed."""
    alice = make_user(username="alice", display_name="Alice")
    bob = make_user(username="bob", display_name="Bob")
    user_follow(follower=bob, followee=alice)
    post = post_create(author=alice, body="Harbour at dawn")
    return alice, bob, post


def listed(page, text: str):
    return page.locator("article.post").filter(has_text=text).first


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_like_reply_and_repost_with_comment_from_the_feed_stay_on_the_page(new_page, harbour, viewport):
    _alice, bob, original = harbour
    page = log_in(new_page(), bob)
    page.set_viewport_size(viewport)
    page.goto("/?order=latest")
    page.evaluate("window.sameDocument = true")
    url = page.url
    post = listed(page, "Harbour at dawn")

    like = post.get_by_role("button", name="Like")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(post.locator(".count.likes")).to_have_text("1")
    assert Like.objects.filter(user=bob, post=original).exists()

    post.locator(".action-reply summary").click()
    box = post.get_by_label("Reply to @alice")
    expect(box).to_be_focused()
    box.fill("Lovely light")
    post.get_by_role("button", name="Reply", exact=True).click()
    expect(post.locator(".reply-status")).to_contain_text("Replied.")
    expect(post.locator(".count.replies")).to_have_text("1")
    assert Post.objects.filter(reply_to=original, author=bob, body="Lovely light").exists()

    post.locator(".action-repost summary").click()
    dialog = page.get_by_role("dialog", name="Repost")
    expect(dialog.get_by_role("button", name="Repost", exact=True)).to_be_focused()
    expect(dialog.get_by_label("Your comment")).to_be_hidden()  # the comment box opens only when asked for
    dialog.get_by_role("button", name="Repost with comment").click()
    dialog.get_by_label("Your comment").fill("Worth getting up for")
    dialog.get_by_role("button", name="Post repost").click()
    expect(dialog).to_be_hidden()
    expect(post.locator(".count.reposts")).to_have_text("1")
    expect(post.locator(".action-status")).to_have_text("Reposted with your comment.")
    assert Post.objects.filter(repost_of=original, author=bob, body="Worth getting up for").exists()

    # Unlike: the heart empties, the count goes back.
    like.click()
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(post.locator(".count.likes")).to_have_text("0")
    assert page.url == url and page.evaluate("window.sameDocument") is True
    expect(page.get_by_role("button", name="Delete")).to_have_count(0)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_share_to_a_chat_from_the_feed_picks_a_recent_chat(new_page, harbour, viewport, befriend):
    alice, bob, original = harbour
    conversation = befriend(alice, bob)
    alice_page = log_in(new_page(), alice)
    alice_page.goto(f"/chat/{conversation.pk}/")
    alice_page.evaluate(SOCKET_READY)
    page = log_in(new_page(), bob)
    page.set_viewport_size(viewport)
    page.goto("/?order=latest")
    url = page.url

    listed(page, "Harbour at dawn").get_by_role("link", name="Share to chat").click()
    dialog = page.get_by_role("dialog", name="Share to chat")
    send = dialog.get_by_role("button", name="Send to Alice")
    expect(send).to_be_focused()
    send.click()
    expect(dialog.get_by_role("status")).to_contain_text("Shared with Alice.")
    expect(alice_page.locator("#messages .card-post")).to_contain_text("Harbour at dawn")  # live, as a card
    expect(alice_page.locator("#messages .card-post")).to_contain_text("0 replies · 0 reposts · 0 likes")
    assert Message.objects.filter(conversation=conversation, sender=bob, shared_post=original).count() == 1
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    assert page.url == url

    # A like moves the card's count, in the singular.
    listed(page, "Harbour at dawn").get_by_role("button", name="Like").click()
    expect(alice_page.locator("#messages .card-post")).to_contain_text("0 replies · 0 reposts · 1 like")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_without_javascript_the_same_actions_come_back_to_the_same_page(browser, daphne_server, harbour, viewport):
    _alice, bob, original = harbour
    context = browser.new_context(base_url=daphne_server.url, viewport=viewport, java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        page = log_in(context.new_page(), bob)
        page.goto("/u/alice/")

        def post():
            return listed(page, "Harbour at dawn")

        post().get_by_role("button", name="Like").click()
        expect(post().get_by_role("button", name="Like")).to_have_attribute("aria-pressed", "true")
        assert page.url.endswith(f"/u/alice/#post-{original.pk}")
        expect(post().locator(".count.likes")).to_have_text("1")

        post().locator(".action-reply summary").click()  # a plain <details>
        post().get_by_label("Reply to @alice").fill("From a plain form")
        post().get_by_role("button", name="Reply", exact=True).click()
        expect(post().locator(".count.replies")).to_have_text("1")
        assert page.url.endswith(f"/u/alice/#post-{original.pk}")

        post().locator(".action-repost summary").click()
        post().get_by_label("Your comment").fill("Plainly reposted")
        post().get_by_role("button", name="Repost with comment").click()
        expect(post().locator(".count.reposts")).to_have_text("1")
        assert page.url.endswith(f"/u/alice/#post-{original.pk}")
        expect(page.locator(".flash")).to_contain_text("Reposted.")
        assert Post.objects.filter(repost_of=original, author=bob, body="Plainly reposted").exists()
        assert Post.objects.filter(reply_to=original, author=bob, body="From a plain form").exists()
    finally:
        context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_contact_request_is_seen_live_accepted_from_notifications_then_message(
    new_page, daphne_server, make_user, viewport
):
    alice = make_user(username="alice", display_name="Alice")
    bob = make_user(username="bob", display_name="Bob")
    alice_page = log_in(new_page(), alice)
    alice_page.set_viewport_size(viewport)
    alice_page.goto("/notifications/?tab=requests")
    alice_page.evaluate(SOCKET_READY)
    bob_page = log_in(new_page(), bob)
    bob_page.set_viewport_size(viewport)
    bob_page.goto("/u/alice/")
    bob_page.evaluate("window.sameDocument = true")

    # Add contact works in place on the profile.
    bob_page.get_by_role("button", name="Add contact").click()
    expect(bob_page.get_by_role("status")).to_have_text("Request sent.")
    assert bob_page.url.endswith("/u/alice/") and bob_page.evaluate("window.sameDocument") is True

    # Alice sees it at once: the badge on Contacts, and the request on the open Requests tab.
    expect(alice_page.locator("#contact-badge")).to_have_text("1")
    expect(alice_page.locator("#contact-badge-text")).to_have_text("request waiting")
    request = alice_page.locator("#incoming [data-request]")
    expect(request).to_contain_text("Bob")
    request.get_by_role("button", name="Accept").click()
    expect(request.get_by_role("status")).to_contain_text("You are now contacts.")
    expect(alice_page.locator("#contact-badge")).to_have_text("")
    assert alice_page.url.endswith("/notifications/?tab=requests")
    request.get_by_role("link", name="Message").click()
    alice_page.wait_for_url("**/chat/*/")
    expect(alice_page.get_by_label("Message", exact=True)).to_be_visible()
    assert rest(daphne_server, bob, "GET", "/api/contacts/").data[0]["username"] == "alice"
