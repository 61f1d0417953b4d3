"""Two people in two browser contexts become contacts and chat live, in Chromium against daphne."""

import re

import pytest
from playwright.sync_api import expect

from tests.live import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def send(page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()


def test_become_contacts_and_chat_live(new_page, alice, bob):
    alice_page, bob_page = new_page(), new_page()
    log_in(alice_page, alice)
    log_in(bob_page, bob)

    alice_page.get_by_role("link", name="Contacts").click()
    alice_page.get_by_label("Add by username").fill("bob")
    alice_page.get_by_label("Note (optional)").fill("Hi Bob, it's Alice")
    alice_page.get_by_role("button", name="Send request").click()
    expect(alice_page.get_by_text("Request sent.")).to_be_visible()

    bob_page.goto("/contacts/")
    expect(bob_page.locator("#incoming")).to_contain_text("Hi Bob, it's Alice")
    bob_page.get_by_role("button", name="Accept").click()
    expect(bob_page.get_by_text("You are now contacts.")).to_be_visible()

    alice_page.goto("/chat/")
    alice_page.get_by_role("link", name=re.compile("Bob")).click()
    bob_page.goto("/chat/")
    bob_page.get_by_role("link", name=re.compile("Alice")).click()

    send(alice_page, "Hello Bob!")
    expect(bob_page.locator("#messages")).to_contain_text("Hello Bob!")
    expect(alice_page.locator(".msg.mine").last).not_to_have_class(re.compile("pending"))
    expect(alice_page.locator("#read-state")).to_have_text("Read")

    bob_page.get_by_label("Message", exact=True).press_sequentially("Hi", delay=50)
    expect(alice_page.locator("#typing")).to_contain_text("Bob is typing")  # named as the header names him
    send(bob_page, "<script>window.pwned = true</script><b>bold?</b>")
    expect(alice_page.locator("#messages")).to_contain_text("<script>window.pwned = true</script><b>bold?</b>")
    assert alice_page.evaluate("window.pwned") is None
    assert alice_page.locator("#messages b").count() == 0


def test_nothing_is_lost_or_doubled_across_a_worker_restart(new_page, live_daphne, alice, bob, befriend):
    conversation = befriend(alice, bob)
    alice_page, bob_page = new_page(), new_page()
    log_in(alice_page, alice)
    log_in(bob_page, bob)
    alice_page.goto(f"/chat/{conversation.pk}/")
    bob_page.goto(f"/chat/{conversation.pk}/")
    send(alice_page, "before the drop")
    expect(bob_page.locator("#messages")).to_contain_text("before the drop")
    # The other members are pushed before the sender is answered (chat.writer): both, before the drop.
    expect(alice_page.locator(".msg.pending")).to_have_count(0)

    live_daphne.stop()
    expect(bob_page.locator("#connection")).to_have_text("Reconnecting…")
    for n in range(3):
        send(alice_page, f"while away {n}")
    expect(alice_page.locator(".msg.pending")).to_have_count(3)
    live_daphne.start()

    expect(bob_page.locator("#connection")).to_have_text("", timeout=20_000)
    expect(alice_page.locator(".msg.pending")).to_have_count(0, timeout=20_000)
    for n in range(3):
        expect(bob_page.locator(".msg", has_text=f"while away {n}")).to_have_count(1)
    assert bob_page.locator(".msg").count() == 4
    expect(bob_page.locator("#conversation-list .badge")).to_have_text("")


def test_unread_badge_for_another_conversation(new_page, alice, bob, make_user, befriend):
    carol = make_user(username="carol")
    with_bob, with_carol = befriend(alice, bob), befriend(alice, carol)
    alice_page, carol_page = new_page(), new_page()
    log_in(alice_page, alice)
    log_in(carol_page, carol)
    alice_page.goto(f"/chat/{with_bob.pk}/")
    carol_page.goto(f"/chat/{with_carol.pk}/")
    send(carol_page, "psst, Alice")
    carol_entry = alice_page.locator(f'#conversation-list [data-conversation="{with_carol.pk}"]')
    expect(carol_entry.locator(".badge")).to_have_text("1")
    expect(carol_entry.locator(".preview")).to_have_text("psst, Alice")
    expect(alice_page.locator("#messages")).not_to_contain_text("psst")
    # One socket keeps the navigation live too: the chat badge and the tab title.
    expect(alice_page.locator("#chat-badge")).to_have_text("1")
    expect(alice_page).to_have_title(re.compile(r"^\(1\) "))
    alice_page.goto("/explore/")
    expect(alice_page.locator("#chat-badge")).to_have_text("1")
    send(carol_page, "are you there?")
    expect(alice_page.locator("#chat-badge")).to_have_text("2")
    alice_page.goto(f"/chat/{with_carol.pk}/")
    expect(alice_page.locator("#chat-badge")).to_have_text("")


def test_history_loads_upward_on_scroll(new_page, alice, bob, befriend):
    conversation = befriend(alice, bob)

    from chat.services import message_send

    for n in range(80):
        message_send(sender=alice if n % 2 else bob, conversation=conversation, body=f"history {n:02d}")
    page = new_page()
    log_in(page, alice)
    page.goto(f"/chat/{conversation.pk}/")
    expect(page.locator(".msg")).to_have_count(50)
    expect(page.locator(".msg").first).to_contain_text("history 30")
    page.locator("#messages").evaluate("list => list.scrollTop = 0")
    expect(page.locator(".msg")).to_have_count(80)
    bodies = page.locator(".msg .body").all_text_contents()
    assert bodies == [f"history {n:02d}" for n in range(80)]


def test_share_a_post_into_a_chat_and_take_a_thread_private(new_page, alice, bob, befriend):
    direct = befriend(alice, bob)
    bob_page, alice_page = new_page(), new_page()
    log_in(bob_page, bob)
    bob_page.goto(f"/chat/{direct.pk}/")
    log_in(alice_page, alice)
    alice_page.get_by_label("What's happening?").fill("Harbour walk on Sunday? #walk")
    alice_page.get_by_role("button", name="Post", exact=True).click()
    alice_page.locator("article.post").filter(has_text="Harbour walk").locator("header a[href^='/p/']").click()
    post_url = alice_page.url

    alice_page.locator("article.post.focus").get_by_role("link", name="Share to chat").click()
    # The dialog lists recent chats; a note goes through the full share page.
    alice_page.get_by_role("dialog", name="Share to chat").get_by_role("link", name="All chats, with a note…").click()
    alice_page.get_by_label("Say something to Bob (optional)").fill("look!")
    alice_page.get_by_role("button", name="Send to Bob").click()
    expect(bob_page.locator("#messages .card-post")).to_contain_text("Harbour walk on Sunday?")  # live, as a card
    expect(bob_page.locator("#messages")).to_contain_text("look!")

    bob_page.goto(post_url)
    bob_page.get_by_label("Reply").fill("I'm in!")
    bob_page.get_by_role("button", name="Reply").click()
    bob_page.get_by_text("Replied.").wait_for()

    alice_page.goto(post_url)
    alice_page.get_by_role("link", name="Take it private").click()
    alice_page.get_by_label(re.compile("Bob")).check()
    alice_page.get_by_role("button", name="Start the group").click()
    expect(alice_page.locator("#messages .card-post")).to_contain_text("Harbour walk on Sunday?")
    bob_page.goto("/chat/")
    expect(bob_page.locator("#conversation-list")).to_contain_text("About @alice's post")
