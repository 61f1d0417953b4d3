"""A person signs up, logs out and in again in Chromium, against a live daphne."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-enough-pass-42"


def test_sign_up_log_out_log_in(new_page):
    page = new_page()
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("mei")
    page.get_by_label("Display name").fill("Mei 李")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_text("Welcome to Tandem, Mei 李!").wait_for()
    assert page.get_by_role("link", name="@mei").is_visible()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in", exact=True).click()
    page.get_by_label("Username").fill("MEI")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").filter(has_text="Please enter a correct username and password").wait_for()

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="@mei").wait_for()


def test_the_token_from_the_api_works_for_a_browser_signup(new_page, daphne_server):
    page = new_page()
    page.goto("/signup/")
    page.get_by_label("Username").fill("lin")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("link", name="@lin").wait_for()

    api = page.context.request
    token = api.post("/api/auth/token/", data={"username": "lin", "password": PASSWORD}).json()["token"]
    me = api.get("/api/me/", headers={"Authorization": f"Token {token}"})
    assert me.status == 200
    assert me.json()["username"] == "lin"
