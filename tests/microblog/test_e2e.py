"""In Chromium against a live daphne: sign up, compose a post with a hashtag, find it on / and its tag page."""

import pytest
from playwright.sync_api import expect

from tests.live import log_in, rest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def open_post(page, text: str) -> None:
    """Opens a listed post's own page through its time link."""
    page.locator("article.post").filter(has_text=text).first.locator("header a[href^='/p/']").click()
    page.locator("article.post.focus").wait_for()


def repost_with_comment(page, comment: str) -> None:
    """The focused post's Repost, "Repost with comment" in the dialog; the page stays where it is."""
    url = page.url
    page.wait_for_load_state("load")  # the page's modules have run (before them, the no-JavaScript fold-out opens)
    page.locator("article.post.focus .action-repost summary").click()
    dialog = page.get_by_role("dialog", name="Repost")
    dialog.get_by_role("button", name="Repost with comment").click()
    dialog.get_by_label("Your comment").fill(comment)
    dialog.get_by_role("button", name="Post repost").click()
    expect(dialog).to_be_hidden()
    assert page.url == url


PASSWORD = "a-Long-enough-pass-42"


def test_compose_a_post_and_find_it_on_home_and_its_tag(new_page):
    page = new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/signup/")
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("link", name="@mei").wait_for()

    box = page.get_by_label("What's happening?")
    box.fill("Snow in #北京 today <script>alert(1)</script>")
    page.locator("#compose-count").filter(has_text="43 / 2000").wait_for()  # the JS counter runs under the CSP
    page.get_by_role("button", name="Post", exact=True).click()
    post = page.locator("article.post").first
    post.get_by_text("<script>alert(1)</script>").wait_for()  # shown as text, not run
    assert post.locator("script").count() == 0

    post.get_by_role("link", name="#北京").click()
    page.wait_for_url("**/tags/**")
    assert page.get_by_role("heading", name="#北京").is_visible()
    assert page.locator("article.post").filter(has_text="Snow in").count() == 1
    page.get_by_role("link", name="Explore").click()
    page.locator("article.post").filter(has_text="Snow in").wait_for()
    assert errors == []


def test_a_new_follower_lights_up_the_notification_badge_live(new_page, daphne_server, make_user):
    mei = make_user(username="mei")
    fan = make_user(username="fan")
    page = log_in(new_page(), mei)
    # No need to wait for the socket: it resumes from the seq the page was rendered with,
    # so a notification published before it opens is replayed, not missed.
    page.goto("/explore/")
    assert page.locator("#notification-badge").text_content() == ""

    assert rest(daphne_server, fan, "POST", f"/api/users/{mei.username}/follow/").json()["followers_count"] == 1
    page.locator("#notification-badge").filter(has_text="1").wait_for()
    page.get_by_role("link", name="Notifications").click()
    page.get_by_text("followed you").wait_for()


def test_follow_and_repost_with_comments_builds_the_chain(new_page, make_user):
    people = {name: make_user(username=name) for name in ("amy", "ben", "cat")}
    amy, ben, cat = new_page(), new_page(), new_page()

    log_in(amy, people["amy"])
    amy.get_by_label("What's happening?").fill("Sunrise over the harbour #photo")
    amy.get_by_role("button", name="Post", exact=True).click()
    amy.locator("article.post").filter(has_text="Sunrise over the harbour").wait_for()

    log_in(ben, people["ben"])
    ben.goto("/u/amy/")
    ben.get_by_role("button", name="Follow").click()
    ben.get_by_role("button", name="Unfollow").wait_for()
    ben.goto("/")
    open_post(ben, "Sunrise over the harbour")
    repost_with_comment(ben, "Beautiful light!")
    ben.goto("/u/ben/")
    open_post(ben, "Beautiful light!")
    ben.locator(".chain").get_by_text("Sunrise over the harbour").wait_for()
    repost_url = ben.url

    log_in(cat, people["cat"])
    cat.goto(repost_url)
    repost_with_comment(cat, "Agreed <b>100%</b>")
    cat.goto("/u/cat/")
    open_post(cat, "Agreed")
    chain = cat.locator(".chain")
    chain.locator(".chain-link").filter(has_text="@ben").filter(has_text="Beautiful light!").wait_for()
    assert chain.locator("blockquote").filter(has_text="@amy").filter(has_text="Sunrise over the harbour").count() == 1
    cat.locator("article.post.focus .post-body").first.get_by_text("Agreed <b>100%</b>").wait_for()

    # The root counts every repost in its chain.
    amy.goto("/u/amy/")
    root = amy.locator("article.post").filter(has_text="Sunrise over the harbour")
    expect(root.locator(".count.reposts")).to_have_text("2")
