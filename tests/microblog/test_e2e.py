"""In Chromium against a live daphne: sign up, compose a post with a hashtag, find it on / and its tag page."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

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
    page.get_by_role("button", name="Post").click()
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


def test_a_new_follower_lights_up_the_notification_badge_live(new_page, daphne_server, make_user, password):
    import json
    import urllib.request

    from accounts.services import token_for

    mei = make_user(username="mei")
    fan = make_user(username="fan")
    page = new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="@mei").wait_for()
    # No need to wait for the socket: it resumes from the seq the page was rendered with,
    # so a notification published before it opens is replayed, not missed.
    page.goto("/explore/")
    assert page.locator("#notification-badge").text_content() == ""

    request = urllib.request.Request(
        f"{daphne_server.url}/api/users/{mei.username}/follow/",
        method="POST",
        headers={"Authorization": f"Token {token_for(user=fan).key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response)["followers_count"] == 1
    page.locator("#notification-badge").filter(has_text="1").wait_for()
    page.get_by_role("link", name="Notifications").click()
    page.get_by_text("followed you").wait_for()
