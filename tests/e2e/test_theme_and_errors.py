"""The theme switch (Light / Dark / System, kept in a cookie and served in the page's first bytes), the
emoji picker in the chat composer, and what `make run` serves with DEBUG off: Tandem's own 404 page
and the static files through WhiteNoise."""

import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.live import ROOT, fetch, log_in

from .pages import build_world
from .test_meet_live import SOCKET_READY

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DARK_BG = "rgb(22, 24, 28)"  # --bg, dark (tokens.css)
LIGHT_BG = "rgb(245, 246, 247)"  # --bg, light
BODY_BG = "getComputedStyle(document.body).backgroundColor"


def themed_context(browser, server, scheme):
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844}, color_scheme=scheme)
    context.set_default_timeout(10_000)
    return context


def test_the_theme_picked_in_settings_shows_at_once_and_stays_from_the_first_byte(browser, daphne_server, alice):
    context = themed_context(browser, daphne_server, "light")
    try:
        page = log_in(context.new_page(), alice)
        page.goto("/settings/")
        theme = page.get_by_role("group", name="Theme")
        expect(theme.get_by_role("radio", name=re.compile("^System"))).to_be_checked()
        assert page.evaluate(BODY_BG) == LIGHT_BG

        theme.get_by_role("radio", name="Dark").check()
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        expect(page.get_by_role("status")).to_have_text("Saved.")
        assert page.evaluate(BODY_BG) == DARK_BG

        # Another page, then the login page after logging out: the HTML as served already says dark,
        # so the first paint is dark (no script has to run first).
        for path in ("/", "/explore/"):
            served = page.goto(path).text()
            assert '<html lang="en" data-theme="dark">' in served
            assert page.evaluate(BODY_BG) == DARK_BG
        page.get_by_role("button", name="Log out").click()
        assert 'data-theme="dark"' in page.goto("/login/").text()

        # System again: the cookie goes, and the device's light scheme wins.
        page = log_in(page, alice)
        page.goto("/settings/")
        page.get_by_role("group", name="Theme").get_by_role("radio", name=re.compile("^System")).check()
        expect(page.get_by_role("status")).to_have_text("Saved.")
        assert "data-theme" not in page.goto("/").text().split(">", 2)[1]
        assert page.evaluate(BODY_BG) == LIGHT_BG
        assert not [cookie for cookie in context.cookies() if cookie["name"] == "theme"]
    finally:
        context.close()


def test_light_picked_wins_over_a_dark_device_and_the_form_works_without_javascript(browser, daphne_server, alice):
    context = browser.new_context(base_url=daphne_server.url, color_scheme="dark", java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/login/")
        assert page.evaluate(BODY_BG) == DARK_BG  # the device's scheme while nothing is picked
        page.get_by_label("Username").fill(alice.username)
        page.get_by_label("Password").fill("correct-Horse-battery-9")
        page.get_by_role("button", name="Log in").click()
        page.goto("/settings/")
        page.get_by_role("radio", name="Light").check()
        page.get_by_role("button", name="Save theme").click()
        expect(page).to_have_url(re.compile(r"/settings/$"))
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        expect(page.get_by_role("radio", name="Light")).to_be_checked()
        assert page.evaluate(BODY_BG) == LIGHT_BG
        cookie = next(cookie for cookie in context.cookies() if cookie["name"] == "theme")
        assert cookie["value"] == "light" and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    finally:
        context.close()


def test_a_bad_theme_is_refused_and_sets_nothing(alice):
    from django.test import Client

    client = Client()
    client.force_login(alice)
    refused = client.post("/settings/theme/", {"theme": "neon"})
    assert refused.status_code == 400 and "theme" not in refused.cookies
    offsite = client.post("/settings/theme/", {"theme": "dark", "next": "https://elsewhere.example/"})
    assert offsite.status_code == 302 and offsite["Location"] == "/settings/"
    assert offsite.cookies["theme"].value == "dark"
    assert client.get("/settings/theme/").status_code == 405


def test_the_emoji_picker_inserts_at_the_caret_by_keyboard(new_page, daphne_server):
    world = build_world()
    page = log_in(new_page(), world.alice)
    page.goto(f"/chat/{world.conversation.pk}/")
    page.evaluate(SOCKET_READY)
    box = page.get_by_label("Message", exact=True)
    box.fill("Hello world")
    box.evaluate("(box) => { box.focus(); box.setSelectionRange(5, 5); }")
    page.keyboard.press("Tab")
    toggle = page.get_by_role("button", name="Insert emoji")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Emoji")
    expect(panel).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(panel.get_by_role("button", name="grinning face")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(panel.get_by_role("button", name="tears of joy")).to_be_focused()
    page.keyboard.press("Enter")
    expect(panel).to_be_hidden()
    expect(box).to_have_value("Hello😂 world")
    expect(box).to_be_focused()
    assert box.evaluate("(box) => box.selectionStart") == len("Hello😂".encode("utf-16-le")) // 2

    # Escape closes it and gives the focus back to the button.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(toggle).to_be_focused()

    box.focus()
    page.keyboard.press("Enter")
    sent = page.locator("#messages .msg.mine", has_text="Hello😂 world")
    expect(sent).to_have_attribute("data-id", re.compile(r"\d+"))


def test_an_unknown_page_is_tandems_own_404_with_debug_off(daphne_server, alice):
    """The test daphne runs as `make run` does: DEBUG off (the default), static files by WhiteNoise."""
    status, headers, body = fetch(daphne_server, "/no-such-page/")
    page = body.decode()
    assert status == 404
    assert "This page isn't here" in page
    assert 'href="/"' in page and 'href="/explore/"' in page and 'href="/login/"' in page
    assert "URLconf" not in page and "Page not found at" not in page  # Django's debug page
    status, headers, _ = fetch(daphne_server, "/static/css/site.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert fetch(daphne_server, "/static/js/emoji.js")[0] == 200


PRINT_DEBUG = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


@pytest.mark.parametrize(("environment", "debug"), [({}, "False"), ({"DEBUG": "1"}, "True")])
def test_debug_is_off_unless_asked_for(environment, debug):
    env = {key: value for key, value in os.environ.items() if key != "DEBUG"} | environment
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    shown = subprocess.run(
        [sys.executable, "-c", PRINT_DEBUG],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == debug
