"""The phone layout (390x844) against the desktop one (1280x800), in Chromium: the bottom tab bar with
its badges on a phone only, a one-row top bar, tap targets of at least 44 px, buttons on one line,
nothing scrolling sideways, the chat composer pinned above the tab bar, the feed's compose button."""

import pytest
from playwright.sync_api import expect

from chat.services import message_send
from tests.live import log_in

from .pages import build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TAP = 44

# Every control a thumb must hit that is not a link inside running text (WCAG 2.5.8 exempts those):
# [description, width, height] of each one smaller than TAP in either direction. A radio or a checkbox
# counts by its label, which is what takes the tap.
SMALL_TARGETS = """(tap) => {
  const controls = document.querySelectorAll(
    "button, .button, input:not([type=hidden]), select, textarea, summary, nav a, .icon-link, .fab, .back");
  const small = [];
  for (let control of controls) {
    const box_ = "input[type=radio], input[type=checkbox]";
    if (control.matches(box_) && control.closest("label")) control = control.closest("label");
    if (control.matches(".visually-hidden") || control.closest("[hidden], template, dialog:not([open])")) continue;
    const box = control.getBoundingClientRect();
    const style = getComputedStyle(control);
    if (box.width === 0 || box.height === 0 || style.visibility === "hidden") continue;
    // A small box alone in a margin of its own is a target that size (the spacing rule of WCAG 2.5.8).
    const px = (name) => parseFloat(style[name]);
    const margin = control.matches(box_)
      ? [px("marginLeft") + px("marginRight"), px("marginTop") + px("marginBottom")]
      : [0, 0];
    if (box.width + margin[0] < tap || box.height + margin[1] < tap) {
      const name = (control.getAttribute("aria-label") || control.textContent || control.name || "").trim();
      const what = `${control.tagName.toLowerCase()}.${control.className} "${name.slice(0, 30)}"`;
      small.push([what, Math.round(box.width), Math.round(box.height)]);
    }
  }
  return small;
}"""

# Buttons whose label broke onto a second line.
WRAPPED_BUTTONS = """() => {
  // A label on two lines: its visible text's boxes start more than half a line apart. Text only a
  // screen reader gets (.visually-hidden, clipped to 1 px) is left out, and so are a pixel's rounding.
  const wrapped = [];
  for (const button of document.querySelectorAll("button, .button")) {
    if (!button.offsetParent || !button.textContent.trim()) continue;
    const rects = [];
    const walker = document.createTreeWalker(button, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim() || node.parentElement.closest(".visually-hidden")) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      rects.push(...[...range.getClientRects()].filter((r) => r.width > 0));
    }
    if (rects.length < 2) continue;
    const tops = rects.map((r) => r.top);
    const line = Math.min(...rects.map((r) => r.height));
    if (Math.max(...tops) - Math.min(...tops) > line / 2) wrapped.push(button.textContent.trim());
  }
  return wrapped;
}"""

SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def signed_in(browser, server, user, viewport):
    context = browser.new_context(base_url=server.url, viewport=viewport, has_touch=viewport is PHONE)
    context.set_default_timeout(10_000)
    return context, log_in(context.new_page(), user)


def test_phone_pages_have_a_bottom_tab_bar_a_one_row_top_bar_and_big_targets(browser, daphne_server):
    world = build_world()
    context, page = signed_in(browser, daphne_server, world.alice, PHONE)
    try:
        problems = []
        for name, path in world.signed_in_pages().items():
            page.goto(path)
            page.wait_for_load_state("load")
            tabs = page.get_by_role("navigation", name="Main")
            expect(tabs).to_be_visible()
            box = tabs.bounding_box()
            if abs(box["y"] + box["height"] - PHONE["height"]) > 1 or box["width"] != PHONE["width"]:
                problems.append(f"{name}: tab bar not along the bottom edge: {box}")
            header = page.locator("header.topbar").bounding_box()
            if header["height"] > 60:
                problems.append(f"{name}: top bar {header['height']} px tall (one row is under 60)")
            if small := page.evaluate(SMALL_TARGETS, TAP):
                problems.append(f"{name}: targets under {TAP} px: {small}")
            if wrapped := page.evaluate(WRAPPED_BUTTONS):
                problems.append(f"{name}: buttons on two lines: {wrapped}")
            if (overflow := page.evaluate(SIDEWAYS)) > 0:
                problems.append(f"{name}: scrolls sideways by {overflow} px")
        assert problems == [], "\n".join(problems)

        # The five tabs, in order, with the badges that were there (one contact request waits).
        page.goto("/")
        links = page.get_by_role("navigation", name="Main").get_by_role("link")
        expect(links).to_have_count(5)
        expect(links.locator(".tab-label")).to_have_text(["Feed", "Explore", "Chats", "Contacts", "Me"])
        expect(page.locator("#contact-badge")).to_have_text("1")
        expect(page.get_by_role("link", name="Contacts 1 request waiting")).to_be_visible()
        expect(page.get_by_role("link", name="Feed")).to_have_attribute("aria-current", "page")
    finally:
        context.close()


def test_desktop_has_a_left_rail_and_no_bottom_tab_bar_or_compose_button(browser, daphne_server):
    world = build_world()
    context, page = signed_in(browser, daphne_server, world.alice, DESKTOP)
    try:
        page.goto("/")
        nav = page.get_by_role("navigation", name="Main")
        # The sections stand in a rail on the left, one under another, not in a bar along the bottom.
        box = nav.bounding_box()
        assert box["x"] < 40 and box["width"] < 300 and box["y"] < 120
        feed, explore = nav.get_by_role("link", name="Feed"), nav.get_by_role("link", name="Explore")
        assert explore.bounding_box()["y"] > feed.bounding_box()["y"]
        expect(nav.get_by_role("link", name="Chats")).to_be_visible()
        main = page.locator("main").bounding_box()
        assert main["x"] >= box["x"] + box["width"]
        expect(page.locator(".fab")).to_be_hidden()
        assert page.evaluate(SIDEWAYS) <= 0
    finally:
        context.close()


@pytest.mark.parametrize("width", [640, 800, 1023])
def test_between_phone_and_desktop_the_sections_sit_in_a_one_row_top_bar(browser, daphne_server, width):
    world = build_world()
    context, page = signed_in(browser, daphne_server, world.alice, {"width": width, "height": 900})
    try:
        page.goto("/")
        header = page.locator("header.topbar").bounding_box()
        nav = page.get_by_role("navigation", name="Main").bounding_box()
        assert header["height"] <= 60 and nav["y"] < header["height"]
        assert page.evaluate(SIDEWAYS) <= 0
    finally:
        context.close()


def test_the_feeds_compose_button_puts_the_cursor_in_the_compose_box(browser, daphne_server):
    world = build_world()
    context, page = signed_in(browser, daphne_server, world.alice, PHONE)
    try:
        page.goto("/")
        page.mouse.wheel(0, 2000)
        fab = page.get_by_role("link", name="Write a post")
        expect(fab).to_be_visible()
        box = fab.bounding_box()
        assert box["width"] >= TAP and box["height"] >= TAP
        # Above the tab bar, not over it.
        assert box["y"] + box["height"] <= page.get_by_role("navigation", name="Main").bounding_box()["y"]
        fab.click()
        expect(page.locator("#id_body")).to_be_focused()
        page.goto("/explore/")
        expect(page.locator(".fab")).to_have_count(0)
    finally:
        context.close()


def test_the_chat_composer_stays_pinned_above_the_tab_bar(browser, daphne_server):
    world = build_world()
    for number in range(40):
        message_send(sender=world.bob, conversation=world.conversation, body=f"line {number}\nof a long chat")
    context, page = signed_in(browser, daphne_server, world.alice, PHONE)
    try:
        page.goto(f"/chat/{world.conversation.pk}/")
        composer = page.locator("#composer")
        expect(composer).to_be_visible()
        tab_bar_top = page.get_by_role("navigation", name="Main").bounding_box()["y"]

        def composer_bottom() -> float:
            box = composer.bounding_box()
            return box["y"] + box["height"]

        assert abs(composer_bottom() - tab_bar_top) <= 2
        # The messages scroll inside; the page itself does not, and the composer stays put.
        messages = page.locator("#messages")
        assert messages.evaluate("(list) => list.scrollHeight > list.clientHeight")
        page.mouse.wheel(0, -3000)
        page.mouse.wheel(0, 3000)
        assert abs(composer_bottom() - tab_bar_top) <= 2
        assert page.evaluate("document.documentElement.scrollHeight <= innerHeight + 1")
        assert page.evaluate(SIDEWAYS) <= 0
    finally:
        context.close()
