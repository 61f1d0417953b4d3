"""axe-core (axe-playwright-python) on every main page, signed in and signed out, in the light and the
dark scheme, at phone and desktop widths: no serious or critical violation."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.live import log_in

from .pages import build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BLOCKING = ("serious", "critical")
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


def blocking_violations(page, name: str) -> list[str]:
    """Each serious or critical violation on the page as one line: page, rule, impact, where."""
    results = Axe().run(page)
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]][:5]
            lines.append(f"{name}: {violation['id']} ({violation['impact']}) {violation['help']} at {targets}")
    return lines


def open_context(browser, server, scheme: str, width: str):
    context = browser.new_context(base_url=server.url, viewport=WIDTHS[width], color_scheme=scheme)
    context.set_default_timeout(10_000)
    return context


def scan(page, pages: dict[str, str]) -> list[str]:
    found = []
    for name, path in pages.items():
        page.goto(path)
        page.wait_for_load_state("load")
        found += blocking_violations(page, f"{path} ({name})")
    return found


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_signed_in_pages_have_no_serious_violations(browser, daphne_server, scheme, width):
    world = build_world()
    context = open_context(browser, daphne_server, scheme, width)
    try:
        page = log_in(context.new_page(), world.alice)
        assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
        assert scan(page, world.signed_in_pages()) == []
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_signed_out_pages_have_no_serious_violations(browser, daphne_server, scheme, width):
    world = build_world()
    context = open_context(browser, daphne_server, scheme, width)
    try:
        assert scan(context.new_page(), world.signed_out_pages()) == []
    finally:
        context.close()


def test_the_check_finds_a_violation(browser, daphne_server):
    """The scan is live: a page given a low-contrast line and an unnamed button fails it."""
    context = open_context(browser, daphne_server, "light", "phone")
    try:
        page = context.new_page()
        page.goto("/login/")
        page.evaluate(
            """() => {
              const p = document.createElement("p");
              p.textContent = "barely readable";
              p.style.color = "#bbbbbb";
              document.querySelector("main").append(p, document.createElement("button"));
            }"""
        )
        found = "\n".join(blocking_violations(page, "login"))
        assert "color-contrast (serious)" in found and "button-name (critical)" in found
    finally:
        context.close()
