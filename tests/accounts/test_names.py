"""Display names that reorder text, show nothing, or pass for someone else are refused with a reason.

Over `PATCH /api/me/`, sign-up over REST, and the sign-up and settings pages: one rule
(accounts.validators, applied by the services). Lengths are counted in code points.
"""

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db

REORDERING = ["\u202eecilA", "\u2066evil\u2069", "Bob\u200f", "\u061cx"]
SHOWING_NOTHING = ["\u0301" * 50, "\ufeff", "\u200b", "\u200b \u200d", "\u2060"]


@pytest.fixture
def carol(make_user):
    return make_user(username="carol", display_name="Caroline")


def patch_name(client, name):
    return client.patch("/api/me/", {"display_name": name}, format="json")


@pytest.mark.parametrize("name", REORDERING)
def test_bidirectional_controls_are_refused(client_for, alice, name):
    answer = patch_name(client_for(alice), name)
    assert answer.status_code == 400, name
    assert answer.json()["code"] == "invalid_display_name"
    assert "bidirectional" in answer.json()["detail"]
    alice.refresh_from_db()
    assert alice.display_name == "Alice"


@pytest.mark.parametrize("name", SHOWING_NOTHING)
def test_names_that_show_nothing_are_refused(client_for, alice, name):
    answer = patch_name(client_for(alice), name)
    assert answer.status_code == 400, repr(name)
    assert "something visible" in answer.json()["detail"]


def test_someone_elses_name_is_refused_in_any_case_or_look_alike_form(client_for, alice, bob, carol):
    client = client_for(alice)
    # bob's display name, carol's username (her display name differs), full-width, hidden joiners.
    for name in ["Bob", "bOB", "ＢＯＢ", "B\u200bob", "carol", "CAROLINE", "Ｃａｒｏｌ"]:
        answer = patch_name(client, name)
        assert answer.status_code == 400, name
        assert answer.json()["code"] == "display_name_taken"
    alice.refresh_from_db()
    assert alice.display_name == "Alice"
    # Her own username is hers to show, in any case; and an empty name shows the username.
    for name in ["alice", "ALICE", "Ａｌｉｃｅ", ""]:
        assert patch_name(client, name).status_code == 200, name


def test_length_is_counted_in_code_points_and_the_error_says_so(client_for, alice):
    client = client_for(alice)
    refused = patch_name(client, "\U0001f600" * 51)
    assert refused.status_code == 400
    assert "code points" in str(refused.json())
    # Fifty emoji are fifty code points (a hundred UTF-16 units): allowed.
    assert patch_name(client, "\U0001f600" * 50).status_code == 200
    assert patch_name(client, "Alice 爱丽丝 café").status_code == 200


def test_sign_up_over_rest_applies_the_same_rule(api, bob):
    body = {"username": "mei", "password": "a-Long-enough-pass-42"}
    for name in ["\u202eieM", "\ufeff", "bob", "BOB"]:
        answer = api.post("/api/auth/register/", {**body, "display_name": name}, format="json")
        assert answer.status_code == 400, repr(name)
        assert answer.json()["detail"]
    assert not User.objects.filter(username="mei").exists()
    answer = api.post("/api/auth/register/", {**body, "display_name": "MEI"}, format="json")
    assert answer.status_code == 201


def test_the_sign_up_page_refuses_with_the_reason(client, bob):
    form = {"username": "mei", "password1": "a-Long-enough-pass-42", "password2": "a-Long-enough-pass-42"}
    refused = client.post("/signup/", {**form, "display_name": "Bob"})
    assert refused.status_code == 400
    assert "someone else" in str(refused.context["form"].errors["display_name"])
    assert not User.objects.filter(username="mei").exists()
    assert client.post("/signup/", {**form, "display_name": "Mei"}).status_code == 302


def test_the_settings_page_refuses_with_the_reason(client, alice):
    client.force_login(alice)
    refused = client.post("/settings/", {"display_name": "\u202eecilA", "bio": "new bio"})
    assert refused.status_code == 400
    assert "bidirectional" in str(refused.context["form"].errors["display_name"])
    assert refused.context["user"].display_name == "Alice"  # the signed-in user was left as saved
    alice.refresh_from_db()
    assert (alice.display_name, alice.bio) == ("Alice", "")
    too_long = client.post("/settings/", {"display_name": "x" * 51})
    assert "code points" in str(too_long.context["form"].errors["display_name"])


def test_a_name_kept_from_before_the_rule_does_not_block_other_settings(client, make_user):
    make_user(username="first", display_name="Sam")
    second = make_user(username="second", display_name="Sam")  # made before names were checked
    client.force_login(second)
    assert client.post("/settings/", {"display_name": "Sam", "bio": "still me"}).status_code == 302
    second.refresh_from_db()
    assert second.bio == "still me"
