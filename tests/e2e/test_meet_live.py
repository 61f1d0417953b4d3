"""Where the two models meet, live in Chromium: the notifications list, the chat list, a shared
post's card counts, each updating without a reload while someone else acts."""

import re

import pytest
from playwright.sync_api import expect

from microblog.services import post_create
from tests.live import log_in, rest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Waits until the page's one socket is open and its user counted online (the pong comes after).
SOCKET_READY = """async () => {
  const { live } = await import("/static/js/live.js");
  while (!live.socket.open) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => {
    live.onFrame((frame) => frame.type === "pong" && resolve());
    live.send({ type: "ping" });
  });
}"""


def test_notifications_arrive_on_the_open_list_and_mark_read_without_reload(new_page, daphne_server, alice, make_user):
    mallory = make_user(username="mallory", display_name='<img src=x onerror="window.pwned=1">Mal')
    post = post_create(author=alice, body="<b>not bold</b> and a long walk")
    page = log_in(new_page(), alice)
    page.goto("/notifications/")
    expect(page.locator("#no-notifications")).to_be_visible()
    page.evaluate(SOCKET_READY)
    page.evaluate("window.sameDocument = true")

    rest(daphne_server, mallory, "POST", f"/api/posts/{post.pk}/like/").json()
    rest(daphne_server, mallory, "POST", "/api/users/alice/follow/").json()
    items = page.locator("#notification-list li.unread")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("followed you")
    expect(items.nth(1)).to_contain_text("liked your post")
    expect(items.nth(1)).to_contain_text("<b>not bold</b> and a long walk")
    expect(items.first).to_contain_text('<img src=x onerror="window.pwned=1">Mal')
    assert page.locator("#notification-list b").count() == 0
    # The one image of each is the actor's avatar, not the name read as markup.
    assert page.locator("#notification-list img").evaluate_all("images => images.map(i => i.className)") == [
        "avatar",
        "avatar",
    ]
    expect(page.locator("#notification-badge")).to_have_text("2")
    expect(page).to_have_title("(2) Notifications · Tandem")

    page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator("#notification-list li.unread")).to_have_count(0)
    expect(page.locator("#notification-badge")).to_have_text("")
    expect(page).to_have_title("Notifications · Tandem")
    assert page.evaluate("window.sameDocument") is True and page.evaluate("window.pwned") is None
    page.reload()
    expect(page.locator("#notification-list li.unread")).to_have_count(0)


def test_the_chat_list_updates_live_and_a_muted_chat_raises_no_badge(
    new_page, daphne_server, alice, bob, make_user, befriend
):
    carol = make_user(username="carol", display_name="Carol")
    with_bob = befriend(alice, bob)
    with_carol = befriend(alice, carol)
    page = log_in(new_page(), alice)
    page.goto("/chat/")
    page.evaluate(SOCKET_READY)
    page.evaluate("window.sameDocument = true")
    entries = page.locator("#conversation-list > li")
    expect(entries.first).to_have_attribute("data-conversation", str(with_carol.pk))

    rest(daphne_server, bob, "POST", f"/api/conversations/{with_bob.pk}/messages/", {"body": "lunch at 1?"}).json()
    expect(entries.first).to_have_attribute("data-conversation", str(with_bob.pk))
    expect(entries.first.locator(".preview")).to_have_text("lunch at 1?")
    expect(entries.first.locator(".badge")).to_have_text("1")
    expect(page.locator("#chat-badge")).to_have_text("1")
    expect(page).to_have_title("(1) Chat · Tandem")

    rest(daphne_server, alice, "POST", f"/api/conversations/{with_carol.pk}/mute/").json()
    carol_entry = page.locator(f'#conversation-list [data-conversation="{with_carol.pk}"]')
    expect(carol_entry).to_have_class(re.compile("is-muted"))
    rest(daphne_server, carol, "POST", f"/api/conversations/{with_carol.pk}/messages/", {"body": "quiet please"}).json()
    expect(entries.first.locator(".preview")).to_have_text("quiet please")
    expect(carol_entry.locator(".muted-mark")).to_have_text("muted")
    expect(page.locator("#chat-badge")).to_have_text("1")  # the muted chat adds nothing
    expect(page).to_have_title("(1) Chat · Tandem")
    assert page.evaluate("window.sameDocument") is True


def test_a_shared_cards_counts_change_live_and_it_turns_unavailable_when_deleted(
    new_page, daphne_server, alice, bob, befriend
):
    conversation = befriend(alice, bob)
    post = post_create(author=bob, body="Sunrise at the harbour")
    rest(
        daphne_server, alice, "POST", f"/api/conversations/{conversation.pk}/messages/", {"shared_post": post.pk}
    ).json()
    alice_page = log_in(new_page(), alice)
    bob_page = log_in(new_page(), bob)
    alice_page.goto(f"/chat/{conversation.pk}/")
    card = alice_page.locator(f'.msg[data-shared-post="{post.pk}"] .card-post')
    expect(card).to_contain_text("0 replies · 0 reposts · 0 likes")
    alice_page.evaluate(SOCKET_READY)

    bob_page.goto(f"/p/{post.pk}/")
    bob_page.get_by_role("button", name="Like").click()
    expect(card).to_contain_text("0 replies · 0 reposts · 1 like")
    bob_page.get_by_label("Reply", exact=True).fill("it was lovely")
    bob_page.get_by_role("button", name="Reply").click()
    expect(card).to_contain_text("1 reply · 0 reposts · 1 like")

    bob_page.goto(f"/p/{post.pk}/")
    bob_page.get_by_role("button", name="Delete").click()
    expect(card).to_have_text("This post is unavailable.")


def test_an_open_group_page_shows_who_came_and_went_and_closes_for_whoever_is_out(
    new_page, daphne_server, alice, bob, make_user, befriend
):
    carol, dave = make_user(username="carol"), make_user(username="dave")
    for person in (bob, carol, dave):
        befriend(alice, person)
    group = rest(
        daphne_server, alice, "POST", "/api/conversations/", {"members": ["bob", "carol"], "title": "Trip"}
    ).json()
    bob_page, carol_page = log_in(new_page(), bob), log_in(new_page(), carol)
    for page in (bob_page, carol_page):
        page.goto(f"/chat/{group['id']}/")
        page.evaluate(SOCKET_READY)

    rest(daphne_server, alice, "POST", f"/api/conversations/{group['id']}/members/", {"usernames": ["dave"]}).json()
    rest(daphne_server, alice, "DELETE", f"/api/conversations/{group['id']}/members/bob/").json()
    for page in (bob_page, carol_page):
        expect(page.locator("#messages .msg.system").first).to_have_text("@alice added @dave")
    expect(carol_page.locator("#messages .msg.system").nth(1)).to_have_text("@alice removed @bob")
    expect(bob_page.locator("#messages .msg.system").nth(1)).to_have_text("@alice removed you")
    # Bob is out: his page no longer offers to send, and his chat list says what happened.
    expect(bob_page.get_by_label("Message", exact=True)).to_be_disabled()
    expect(bob_page.get_by_role("button", name="Send")).to_be_disabled()
    entry = bob_page.locator(f'#conversation-list [data-conversation="{group["id"]}"]')
    expect(entry).to_have_class(re.compile(r"\bis-gone\b"))
    expect(entry.locator(".preview")).to_have_text("@alice removed you")
    expect(carol_page.get_by_label("Message", exact=True)).to_be_enabled()

    rest(daphne_server, carol, "DELETE", f"/api/conversations/{group['id']}/members/carol/").json()
    expect(carol_page.locator("#messages .msg.system").nth(2)).to_have_text("You left this group")
    expect(carol_page.get_by_role("button", name="Send")).to_be_disabled()
