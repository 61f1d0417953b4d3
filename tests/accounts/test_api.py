"""The accounts REST API as a client sees it: register, token, logout, me."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def register(api, **fields):
    body = {"username": "mei", "password": "a-Long-enough-pass-42", **fields}
    return api.post("/api/auth/register/", body, format="json")


def test_register_returns_the_user_and_a_working_token(api):
    response = register(api, display_name="Mei 李", email="mei@example.com")
    assert response.status_code == 201
    assert response.data["user"]["username"] == "mei"
    assert response.data["user"]["display_name"] == "Mei 李"
    assert "password" not in response.data["user"]

    api.credentials(HTTP_AUTHORIZATION=f"Token {response.data['token']}")
    me = api.get("/api/me/")
    assert me.status_code == 200
    assert me.data["username"] == "mei"
    assert me.data["last_seq"] == 0


@pytest.mark.parametrize("username", ["ab", "x" * 31, "has space", "emoji😀", "dash-ed", "中文名"])
def test_register_rejects_bad_usernames(api, username):
    response = register(api, username=username)
    assert response.status_code == 400
    assert "username" in response.data


def test_usernames_are_unique_ignoring_case(api, make_user):
    make_user(username="Mei")
    response = register(api, username="mEI")
    assert response.status_code == 400
    assert response.data["username"] == ["That username is taken."]


def test_register_applies_django_password_validators(api):
    response = register(api, password="password")
    assert response.status_code == 400
    assert "password" in response.data


def test_register_ignores_fields_it_does_not_list(api):
    response = register(api, is_staff=True, is_superuser=True)
    assert response.status_code == 201
    from accounts.models import User

    user = User.objects.get(username="mei")
    assert not user.is_staff and not user.is_superuser


def test_token_login_is_case_insensitive(api, alice, password):
    response = api.post("/api/auth/token/", {"username": "ALICE", "password": password}, format="json")
    assert response.status_code == 200
    assert len(response.data["token"]) == 40


def test_bad_pairs_get_one_message_whether_or_not_the_user_exists(api, alice):
    wrong_password = api.post("/api/auth/token/", {"username": "alice", "password": "nope"}, format="json")
    unknown_user = api.post("/api/auth/token/", {"username": "nobody", "password": "nope"}, format="json")
    assert wrong_password.status_code == unknown_user.status_code == 400
    assert wrong_password.data == unknown_user.data


def test_five_failures_from_one_address_lock_it_out_of_the_account_with_retry_after(api, alice, password):
    for _ in range(5):
        assert api.post("/api/auth/token/", {"username": "alice", "password": "x"}, format="json").status_code == 400
    locked = api.post("/api/auth/token/", {"username": "alice", "password": password}, format="json")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 25 * 60
    assert "detail" in locked.json()


def test_unknown_usernames_are_limited_too(api):
    for _ in range(5):
        api.post("/api/auth/token/", {"username": "ghost", "password": "x"}, format="json")
    assert api.post("/api/auth/token/", {"username": "ghost", "password": "x"}, format="json").status_code == 429


def test_a_lock_on_one_account_does_not_lock_other_accounts(api, alice, bob, password):
    for _ in range(5):
        api.post("/api/auth/token/", {"username": "alice", "password": "x"}, format="json")
    assert api.post("/api/auth/token/", {"username": "bob", "password": password}, format="json").status_code == 200


@override_settings(LOGIN_FAILURE_LIMIT_PER_ADDRESS=8)
def test_failures_are_limited_per_client_address(api, make_user, password):
    for n in range(8):
        api.post("/api/auth/token/", {"username": f"someone{n}", "password": "x"}, format="json")
    make_user(username="carol")
    blocked = api.post("/api/auth/token/", {"username": "carol", "password": password}, format="json")
    assert blocked.status_code == 429
    other_address = api.post(
        "/api/auth/token/", {"username": "carol", "password": password}, format="json", REMOTE_ADDR="10.1.2.3"
    )
    assert other_address.status_code == 200


@override_settings(REGISTRATIONS_PER_ADDRESS=3)
def test_registration_is_limited_per_address(api):
    for n in range(3):
        assert register(api, username=f"new{n}").status_code == 201
    limited = register(api, username="new9")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0


def test_logout_revokes_the_token_for_every_client(api, client_for, alice):
    phone = client_for(alice)
    laptop = client_for(alice)
    assert phone.post("/api/auth/logout/").status_code == 204
    assert laptop.get("/api/me/").status_code == 401


def test_me_patch_changes_only_display_name_and_bio(client_for, alice):
    client = client_for(alice)
    response = client.patch(
        "/api/me/", {"display_name": "Alice 爱丽丝", "bio": "hi", "username": "root", "email": "x@y.z"}, format="json"
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert (alice.display_name, alice.bio, alice.username, alice.email) == ("Alice 爱丽丝", "hi", "alice", "")


def test_me_needs_authentication(api):
    assert api.get("/api/me/").status_code == 401


def test_lone_surrogates_and_nan_are_rejected_not_crashed(client_for, alice):
    client = client_for(alice)
    for raw in ['{"bio": "\\ud800"}', '{"bio": NaN}', "[" * 5000 + "]" * 5000]:
        response = client.generic("PATCH", "/api/me/", raw, content_type="application/json")
        assert response.status_code == 400, raw[:20]
    alice.refresh_from_db()
    assert alice.bio == ""
