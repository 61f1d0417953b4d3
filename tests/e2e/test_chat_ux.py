"""The chat page and contact requests as people use them (issue 16): the message menu (recall, quote,
copy), "Read" under my own message, day separators, times said one way in Python and JavaScript, and a
contact request that shows up live with Accept, then Message. Chromium against daphne."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from chat.models import Message
from common.times import day_label, relative_time
from tests.live import log_in

from .test_meet_live import SOCKET_READY

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def send(page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()


def bubble(page, text: str):
    return page.locator("#messages .msg", has_text=text)


def open_chat(new_page, person, conversation):
    page = log_in(new_page(), person)
    page.goto(f"/chat/{conversation.pk}/")
    page.evaluate(SOCKET_READY)
    return page


def test_recall_from_the_menu_vanishes_on_both_sides(new_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    alice_page, bob_page = open_chat(new_page, alice, conversation), open_chat(new_page, bob, conversation)
    send(bob_page, "hello Alice")
    send(alice_page, "sent to the wrong chat")
    expect(bubble(bob_page, "sent to the wrong chat")).to_have_count(1)
    mine = bubble(alice_page, "sent to the wrong chat")
    expect(mine).to_have_attribute("data-id", re.compile(r"\d+"))

    # The menu is a keyboard-reachable button; Escape closes it and gives the focus back.
    actions = mine.get_by_role("button", name="Message actions")
    expect(actions).to_have_attribute("aria-haspopup", "menu")
    actions.focus()
    alice_page.keyboard.press("Enter")
    expect(actions).to_have_attribute("aria-expanded", "true")
    menu = alice_page.get_by_role("menu", name="Message actions")
    expect(menu.get_by_role("menuitem")).to_have_text(["Copy", "Quote", "Recall", "Delete for me"])
    expect(menu.get_by_role("menuitem", name="Copy")).to_be_focused()
    alice_page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Quote")).to_be_focused()
    alice_page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(actions).to_be_focused()
    expect(actions).to_have_attribute("aria-expanded", "false")

    # Someone else's message cannot be recalled from here.
    bubble(alice_page, "hello Alice").get_by_role("button", name="Message actions").click()
    expect(menu.get_by_role("menuitem")).to_have_text(["Copy", "Quote", "Delete for me"])
    alice_page.keyboard.press("Escape")

    message_id = mine.get_attribute("data-id")
    actions.click()
    menu.get_by_role("menuitem", name="Recall").click()
    for page, line in ((alice_page, "You recalled a message"), (bob_page, "Alice recalled a message")):
        item = page.locator(f'.msg[data-id="{message_id}"]')
        expect(item.locator(".body")).to_have_text(line)
        expect(item).to_have_class(re.compile(r"\brecalled\b"))
        expect(page.locator("#messages")).not_to_contain_text("sent to the wrong chat")
        # A recalled line can still be deleted for me, and nothing else.
        item.get_by_role("button", name="Message actions").click()
        expect(page.get_by_role("menu", name="Message actions").get_by_role("menuitem")).to_have_text(["Delete for me"])
        page.keyboard.press("Escape")
    # And after a reload, as the server renders it.
    bob_page.reload()
    expect(bob_page.locator(f'.msg[data-id="{message_id}"] .body')).to_have_text("Alice recalled a message")


def test_delete_for_me_goes_here_and_in_my_other_tab_but_not_for_the_other_person(new_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    alice_page, bob_page = open_chat(new_page, alice, conversation), open_chat(new_page, bob, conversation)
    alice_other_tab = open_chat(new_page, alice, conversation)
    send(bob_page, "zq please forget this")
    send(bob_page, "zq this one stays")
    for page in (alice_page, alice_other_tab):
        expect(bubble(page, "zq this one stays")).to_have_attribute("data-id", re.compile(r"\d+"))
    line = bubble(alice_page, "zq please forget this")
    message_id = line.get_attribute("data-id")

    # Asked first: Cancel keeps it.
    menu = alice_page.get_by_role("menu", name="Message actions")
    line.get_by_role("button", name="Message actions").click()
    menu.get_by_role("menuitem", name="Delete for me").click()
    dialog = alice_page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("still see it")
    dialog.get_by_role("button", name="Cancel").click()
    expect(line).to_have_count(1)
    expect(line.get_by_role("button", name="Message actions")).to_be_focused()

    line.get_by_role("button", name="Message actions").click()
    menu.get_by_role("menuitem", name="Delete for me").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(line).to_have_count(0)
    # The focus goes on to the next message, not to the top of the page.
    expect(bubble(alice_page, "zq this one stays").get_by_role("button", name="Message actions")).to_be_focused()
    expect(bubble(alice_other_tab, "zq please forget this")).to_have_count(0)  # live, by message.hidden
    expect(bubble(alice_other_tab, "zq this one stays")).to_have_count(1)
    expect(bubble(bob_page, "zq please forget this")).to_have_count(1)

    alice_page.reload()
    expect(bubble(alice_page, "zq this one stays")).to_have_count(1)
    expect(alice_page.locator(f'.msg[data-id="{message_id}"]')).to_have_count(0)
    bob_page.reload()
    expect(bubble(bob_page, "zq please forget this")).to_have_count(1)


def test_quote_fills_the_reply_and_the_answer_shows_it(new_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    alice_page, bob_page = open_chat(new_page, alice, conversation), open_chat(new_page, bob, conversation)
    send(bob_page, "Lunch at noon?")
    expect(bubble(alice_page, "Lunch at noon?")).to_have_attribute("data-id", re.compile(r"\d+"))
    question_id = bubble(alice_page, "Lunch at noon?").get_attribute("data-id")
    question = alice_page.locator(f'.msg[data-id="{question_id}"]')
    question.get_by_role("button", name="Message actions").click()
    alice_page.get_by_role("menuitem", name="Quote").click()

    preview = alice_page.locator("#reply-preview")
    expect(preview).to_be_visible()
    expect(preview).to_contain_text("Replying to Bob: Lunch at noon?")
    expect(alice_page.get_by_label("Message", exact=True)).to_be_focused()
    send(alice_page, "Yes, see you there")
    expect(preview).to_be_hidden()

    answer = bubble(bob_page, "Yes, see you there")
    expect(answer.locator(".reply-quote")).to_have_text("Bob: Lunch at noon?")
    stored = Message.objects.get(body="Yes, see you there")
    assert stored.reply_to_id == int(question_id)
    bob_page.reload()
    expect(bubble(bob_page, "Yes, see you there").locator(".reply-quote")).to_have_text("Bob: Lunch at noon?")


def test_read_sits_under_my_last_read_message_and_the_chat_opens_ready_to_type(new_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    alice_page = open_chat(new_page, alice, conversation)
    expect(alice_page.get_by_label("Message", exact=True)).to_be_focused()
    send(alice_page, "first from Alice")
    expect(bubble(alice_page, "first from Alice")).to_have_attribute("data-id", re.compile(r"\d+"))
    expect(alice_page.locator("#read-state")).to_have_text("")

    bob_page = open_chat(new_page, bob, conversation)  # Bob reads it
    expect(bubble(alice_page, "first from Alice").locator("#read-state")).to_have_text("Read")
    send(bob_page, "answer from Bob")
    expect(bubble(alice_page, "answer from Bob")).to_have_count(1)
    # Their message is not mine: "Read" stays under my own.
    expect(bubble(alice_page, "first from Alice").locator("#read-state")).to_have_text("Read")
    expect(bubble(alice_page, "answer from Bob").locator("#read-state")).to_have_count(0)
    # Bob's side: his message, read by Alice, whose page is open.
    expect(bubble(bob_page, "answer from Bob").locator("#read-state")).to_have_text("Read")


def test_the_desktop_pane_says_pick_a_chat(new_page, alice, bob, befriend):
    befriend(alice, bob)
    page = log_in(new_page(), alice)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/chat/")
    expect(page.get_by_role("heading", name="Pick a chat")).to_be_visible()
    expect(page.locator(".empty-pane")).to_contain_text("Choose a conversation")


def test_day_separators_and_times_in_the_chat_list(new_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    from chat.services import message_send

    now = timezone.now()
    moments = [now - timedelta(days=3), now - timedelta(days=1), now - timedelta(seconds=5)]
    for n, moment in enumerate(moments):
        sent, _ = message_send(sender=alice if n % 2 else bob, conversation=conversation, body=f"day {n}")
        Message.objects.filter(pk=sent.pk).update(created_at=moment)
    page = log_in(new_page(), alice)  # the browser's timezone is the server's (UTC), as in CI
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") in ("UTC", "Etc/UTC")
    page.goto(f"/chat/{conversation.pk}/")
    expected = [day_label(moment, now, "en", UTC) for moment in moments]
    assert expected[1:] == ["Yesterday", "Today"]
    expect(page.locator("#messages .day-separator")).to_have_text(expected)
    page.evaluate(SOCKET_READY)
    send(page, "still today")
    expect(page.locator("#messages .day-separator")).to_have_text(expected)  # no second "Today"

    page.set_viewport_size({"width": 1280, "height": 800})
    entry = page.locator(f'#conversation-list [data-conversation="{conversation.pk}"]')
    expect(entry.locator(".last-time time")).to_have_text("now")


# Instants around a fixed "now", said by common/times.py and by static/js/times.js: the same words.
NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
AGO = [
    0,
    30,
    59,
    60,
    61 * 60,
    3600,
    5 * 3600,
    15 * 3600 + 29 * 60,
    15 * 3600 + 31 * 60,
    39 * 3600,
    3 * 86400,
    400 * 86400,
]

SAY = """([now, instants, lang]) => import("/static/js/times.js").then((times) => ({
  relative: instants.map((moment) => times.relativeTime(new Date(moment), new Date(now), lang)),
  day: instants.map((moment) => times.dayLabel(new Date(moment), new Date(now), lang)),
}))"""


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_javascript_says_times_as_the_server_does(browser, daphne_server, locale):
    context = browser.new_context(base_url=daphne_server.url, locale=locale, timezone_id="UTC")
    try:
        page = context.new_page()
        page.goto("/login/")
        lang = "zh" if locale.startswith("zh") else "en"
        assert page.evaluate("import('/static/js/times.js').then((times) => times.languageOf())") == lang
        instants = [NOW - timedelta(seconds=seconds) for seconds in AGO]
        said = page.evaluate(SAY, [NOW.isoformat(), [moment.isoformat() for moment in instants], lang])
        assert said["relative"] == [relative_time(moment, NOW, lang, UTC) for moment in instants]
        assert said["day"] == [day_label(moment, NOW, lang, UTC) for moment in instants]
        assert "刚刚" in said["relative"] if lang == "zh" else "Yesterday 23:59" in said["relative"]
    finally:
        context.close()


def test_a_contact_request_shows_live_and_accept_leads_to_message(new_page, alice, bob):
    alice_page, bob_page = log_in(new_page(), alice), log_in(new_page(), bob)
    bob_page.goto("/contacts/")
    bob_page.evaluate(SOCKET_READY)
    badge = bob_page.locator("#contact-badge")
    expect(badge).to_have_text("")

    alice_page.goto("/contacts/")
    alice_page.get_by_label("Add by username").fill("bob")
    alice_page.get_by_label("Note (optional)").fill("From the climbing gym")
    alice_page.get_by_role("button", name="Send request").click()
    expect(alice_page.get_by_text("Request sent.")).to_be_visible()

    # Live: the badge (with words for screen readers) and the entry, without a reload.
    expect(badge).to_have_text("1")
    expect(bob_page.get_by_role("link", name="Contacts 1 request waiting")).to_be_visible()
    entry = bob_page.locator("#incoming li", has_text="From the climbing gym")
    expect(entry.get_by_role("link", name="Alice")).to_have_attribute("href", "/u/alice/")
    expect(bob_page.locator("#incoming")).not_to_contain_text("No requests.")
    entry.get_by_role("button", name="Accept").click()
    expect(bob_page.get_by_text("You are now contacts.")).to_be_visible()
    expect(badge).to_have_text("")
    bob_page.wait_for_load_state()  # the page's scripts have run (clicked sooner, Remove posts as without them)

    contact = bob_page.locator('[data-contact="alice"]')
    expect(contact.get_by_role("link", name="Alice")).to_have_attribute("href", "/u/alice/")
    # Remove asks first; Cancel keeps the contact.
    contact.get_by_role("button", name="Remove").click()
    dialog = bob_page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Remove Alice (@alice) from your contacts?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(contact).to_have_count(1)

    contact.get_by_role("link", name="Message").click()
    expect(bob_page).to_have_url(re.compile(r"/chat/\d+/$"))
    expect(bob_page.get_by_label("Message", exact=True)).to_be_focused()
