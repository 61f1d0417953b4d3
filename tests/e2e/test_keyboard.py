"""Tandem with the keyboard alone, in Chromium: sign up, ask for a contact, the other person accepts,
send a message, like and repost. Every element the Tab key reaches on the way must show that it has
the focus (:focus-visible with an outline or a box-shadow in its computed style)."""

import re
import time

import pytest
from playwright.sync_api import expect

from microblog.models import Like, Post
from microblog.services import post_create
from tests.live import log_in

from .test_meet_live import SOCKET_READY

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-enough-pass-42"

# "" when the focused element shows a focus ring, else what is wrong.
FOCUS_SHOWN = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return "nothing has the focus";
  const label = element.getAttribute("aria-label") || element.textContent || element.name || "";
  const what = `${element.tagName.toLowerCase()} "${label.trim().slice(0, 40)}"`;
  if (!element.matches(":focus-visible")) return `${what} is focused but not :focus-visible`;
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "none";
  return outline || shadow ? "" : `${what} shows no focus ring`;
}"""


def assert_focus_shown(page) -> None:
    assert page.evaluate(FOCUS_SHOWN) == ""


def tab_to(page, target, limit: int = 120) -> None:
    """Presses Tab until `target` has the focus, checking the ring on everything passed on the way."""
    if target.evaluate("(element) => element === document.activeElement"):  # there already (autofocus)
        assert_focus_shown(page)
        return
    for _ in range(limit):
        page.keyboard.press("Tab")
        problem = page.evaluate(FOCUS_SHOWN)
        if problem == "nothing has the focus":  # past the page's end, in the browser's own controls
            continue
        assert problem == ""
        if target.evaluate("(element) => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target}")


def type_into(page, field, text: str) -> None:
    tab_to(page, field)
    page.keyboard.type(text)


def test_sign_up_befriend_chat_like_and_repost_by_keyboard(new_page, make_user):
    bob = make_user(username="bob", display_name="Bob Wu")
    bobs_post = post_create(author=bob, body="Tea at four? #tandem")
    page = new_page()

    # The first Tab on a page reaches the skip link, shown on screen while it has the focus.
    page.goto("/explore/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert_focus_shown(page)
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    # Sign up (the page puts the focus in Username itself).
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign up"))
    page.keyboard.press("Enter")
    type_into(page, page.get_by_label("Username"), "mei")
    type_into(page, page.get_by_label("Display name"), "Mei Chen")
    type_into(page, page.get_by_label("Password", exact=True), PASSWORD)
    type_into(page, page.get_by_label("Password confirmation"), PASSWORD)
    tab_to(page, page.get_by_role("button", name="Sign up"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Welcome to Tandem, Mei Chen!")).to_be_visible()

    # Ask Bob to be a contact: through the tab bar to Contacts, then the form.
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/contacts/$"))
    type_into(page, page.get_by_label("Add by username"), "bob")
    tab_to(page, page.get_by_role("button", name="Send request"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Waiting for an answer")).to_contain_text("@bob")

    # Bob accepts, by keyboard too.
    bob_page = log_in(new_page(), bob)
    bob_page.goto("/contacts/")
    tab_to(bob_page, bob_page.locator("#incoming").get_by_role("button", name="Accept"))
    bob_page.keyboard.press("Enter")
    expect(bob_page.locator("#incoming")).not_to_contain_text("@mei")

    # Mei opens the chat from her contacts; the focus lands in the message box; Enter sends.
    page.goto("/contacts/")
    tab_to(page, page.get_by_role("link", name="Message"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/chat/\d+/$"))
    message_box = page.get_by_label("Message", exact=True)
    expect(message_box).to_be_focused()
    page.evaluate(SOCKET_READY)
    page.keyboard.type("Hello Bob, typed without a mouse")
    page.keyboard.press("Enter")
    expect(page.locator("#messages .msg.mine", has_text="typed without a mouse")).to_have_attribute(
        "data-id", re.compile(r"\d+")
    )

    # Like and repost Bob's post. Checked in the database, so the test holds whether the page answers in
    # place or with a new page.
    page.goto(f"/p/{bobs_post.pk}/")
    post = page.locator(f"#post-{bobs_post.pk}")
    tab_to(page, post.get_by_role("button", name=re.compile(r"^Like")))
    page.keyboard.press("Enter")
    eventually(lambda: Like.objects.filter(post=bobs_post, user__username="mei").exists())
    page.goto(f"/p/{bobs_post.pk}/")
    # The action bar's Repost opens a dialog offering "Repost" or "Repost with comment".
    tab_to(page, page.locator(f"#post-{bobs_post.pk} .action-repost summary"))
    page.keyboard.press("Enter")
    expect(page.locator("#repost-dialog")).to_be_visible()
    tab_to(page, page.locator("#repost-dialog .repost-plain"))
    page.keyboard.press("Enter")
    eventually(lambda: Post.objects.filter(repost_of=bobs_post, author__username="mei").exists())


def eventually(check, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not done in time"
        time.sleep(0.1)


def test_the_focus_check_fails_on_an_element_without_a_ring(new_page):
    """The check is live: with the ring taken away, a focused button fails it."""
    page = new_page()
    page.goto("/login/")
    page.add_style_tag(content=":focus-visible { outline: none !important; box-shadow: none !important; }")
    button = page.get_by_role("button", name="Log in")
    with pytest.raises(AssertionError, match="shows no focus ring"):
        tab_to(page, button)
