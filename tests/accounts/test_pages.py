"""Browser pages for accounts, through Django's test client (the Playwright flow is in e2e/)."""

import pytest

pytestmark = pytest.mark.django_db


def test_welcome_page_for_visitors(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Create an account" in response.content


def test_signup_signs_the_new_user_in(client):
    response = client.post(
        "/signup/",
        {
            "username": "mei",
            "display_name": "Mei",
            "password1": "a-Long-enough-pass-42",
            "password2": "a-Long-enough-pass-42",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert response.context["user"].username == "mei"


def test_signup_refuses_a_taken_username_in_any_case(client, alice):
    response = client.post(
        "/signup/", {"username": "ALICE", "password1": "a-Long-enough-pass-42", "password2": "a-Long-enough-pass-42"}
    )
    assert response.status_code == 200
    assert not response.context["user"].is_authenticated
    assert "username" in response.context["form"].errors


def test_login_is_limited_and_says_so(client, alice, password):
    for _ in range(5):
        client.post("/login/", {"username": "alice", "password": "wrong"})
    response = client.post("/login/", {"username": "alice", "password": password})
    assert response.status_code == 429
    assert "Retry-After" in response
    assert b"Too many failed logins" in response.content


def test_logout_needs_post(client, alice):
    client.force_login(alice)
    assert client.get("/logout/").status_code == 405
    client.post("/logout/")
    assert client.get("/settings/").status_code == 302


def test_settings_change_display_name_and_bio(client, alice):
    client.force_login(alice)
    response = client.post("/settings/", {"display_name": "Alice L.", "bio": "写代码"}, follow=True)
    assert b"Settings saved." in response.content
    alice.refresh_from_db()
    assert (alice.display_name, alice.bio) == ("Alice L.", "写代码")


def test_password_change(client, alice, password):
    client.force_login(alice)
    new = "another-Long-pass-77"
    client.post("/settings/password/", {"old_password": password, "new_password1": new, "new_password2": new})
    alice.refresh_from_db()
    assert alice.check_password(new)


def test_user_text_is_escaped(client, make_user):
    user = make_user(username="mallory", display_name="<script>alert(1)</script>")
    client.force_login(user)
    response = client.get("/")
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;" in response.content


def test_api_docs_and_schema_are_public(client):
    assert client.get("/api/docs/").status_code == 200
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert "/api/auth/register/" in schema.json()["paths"]
