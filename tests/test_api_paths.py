"""Paths under /api/ that are not endpoints: JSON answers, and a missing trailing slash is pointed home."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_api_path_answers_json_404(client_for, alice):
    response = client_for(alice).get("/api/no-such-thing/")
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})
    assert client_for(alice).get("/api/no-such-thing").status_code == 404


def test_a_path_missing_its_trailing_slash_redirects_keeping_method_and_query(client_for, alice):
    client = client_for(alice)
    response = client.get("/api/feed?order=latest&limit=5")
    assert response.status_code == 308
    assert response["Location"] == "/api/feed/?order=latest&limit=5"
    posted = client.post("/api/posts", {"body": "hello"}, format="json")
    assert (posted.status_code, posted["Location"]) == (308, "/api/posts/")
    assert client.get(response["Location"]).status_code == 200
