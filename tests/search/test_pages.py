"""Search in the browser: Explore's suggestions and results, chat search jumping to a message."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PostFactory
from tests.live import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_suggestions_appear_as_you_type_with_one_request_in_flight(new_page, alice, make_user):
    make_user(username="alpinist", display_name="山の人")
    PostFactory(author=alice, body="#Alpine lakes")
    page = new_page()
    log_in(page, alice)
    in_flight, most = [0], [0]

    def started(request):
        if "/api/search/suggest/" in request.url:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])

    def ended(request):
        if "/api/search/suggest/" in request.url:
            in_flight[0] -= 1

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    page.goto("/explore/")
    page.get_by_label("Search posts, people and tags").press_sequentially("alp", delay=40)
    suggestions = page.get_by_role("listbox", name="Suggestions")
    expect(suggestions.get_by_role("option", name="山の人 @alpinist")).to_be_visible()
    expect(suggestions.get_by_role("option", name="#alpine")).to_be_visible()
    assert most[0] == 1
    page.get_by_label("Search posts, people and tags").press("ArrowDown")
    page.get_by_label("Search posts, people and tags").press("Enter")
    expect(page).to_have_url(re.compile(r"/u/alpinist/$"))


def test_results_highlight_safely_and_offer_follow_and_add_contact(new_page, alice, bob):
    payload = '<img src=x onerror="window.pwned=1"> 我们在北京喝咖啡 <script>window.pwned=2</script>'
    PostFactory(author=bob, body=payload)
    page = new_page()
    log_in(page, alice)
    page.goto("/explore/?q=咖啡")
    hit = page.locator(".search-hit").first
    expect(hit.locator("mark")).to_have_text("咖啡")
    expect(hit).to_contain_text("<img src=x")
    assert page.evaluate("window.pwned") is None
    page.goto("/explore/?q=bo")
    person = page.locator(".person-result", has_text="@bob")
    expect(person.get_by_role("button", name="Add contact")).to_be_visible()
    person.get_by_role("button", name="Follow").click()
    expect(page).to_have_url(re.compile(r"/u/bob/$"))
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()


def test_chat_search_opens_the_message_with_its_context(new_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    from chat.services import message_send

    for n in range(80):
        body = "meet at the 咖啡馆 on Friday" if n == 10 else f"history {n:02d}"
        message_send(sender=alice if n % 2 else bob, conversation=conversation, body=body)
    page = new_page()
    log_in(page, alice)
    page.goto("/chat/")
    page.get_by_label("Search your chats").fill("咖啡")
    result = page.locator(".chat-search-hit")
    expect(result).to_have_count(1)
    expect(result.locator("mark")).to_have_text("咖啡")
    result.click()
    expect(page).to_have_url(re.compile(rf"/chat/{conversation.pk}/\?around=\d+$"))
    target = page.locator("#messages li.search-target")
    expect(target).to_contain_text("meet at the 咖啡馆")
    expect(target).to_be_in_viewport()
    expect(page.locator(".msg", has_text="history 09")).to_have_count(1)
    expect(page.locator(".msg", has_text="history 11")).to_have_count(1)
    expect(page.get_by_role("link", name="Jump to the latest")).to_be_visible()
    # Inside the conversation, its own box searches it alone.
    page.get_by_label("Search this chat").fill("history 79")
    expect(page.locator("form.chat-search[data-conversation] .chat-search-hit").first).to_contain_text("history 79")
