"""Arbitrary input to the write endpoints: a 201/200 or a 4xx, never a 500."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


@pytest.fixture(autouse=True)
def unlimited_posting(settings):
    """Hypothesis runs every example against one alice, so her hourly post budget (tested in
    tests/security/test_abuse_limits.py) would run out part-way and turn the fuzzing into 429s."""
    settings.ACTION_LIMITS = {**settings.ACTION_LIMITS, "post": (1_000_000, settings.ACTION_LIMITS["post"][1])}


@pytest.fixture
def target_post(client_for, alice):
    return client_for(alice).post("/api/posts/", {"body": "target"}, format="json").json()


@FUZZ
@given(body=st.text(max_size=2100), visibility=st.sampled_from(["public", "followers", "contacts", "x", ""]))
def test_any_post_body_is_stored_or_refused(client_for, alice, body, visibility):
    response = client_for(alice).post("/api/posts/", {"body": body, "visibility": visibility}, format="json")
    assert response.status_code in {201, 400}
    if response.status_code == 201:
        assert response.json()["body"] == response.json()["body"].strip()


@FUZZ
@given(payload=st.dictionaries(st.sampled_from(["body", "visibility", "reply_to", "comment", "up_to"]), json_values))
def test_any_json_shape_is_refused_cleanly(client_for, alice, target_post, payload):
    client = client_for(alice)
    for path in ["/api/posts/", f"/api/posts/{target_post['id']}/repost/", "/api/notifications/read/"]:
        assert client.post(path, payload, format="json").status_code < 500, path
