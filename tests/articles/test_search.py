"""Articles in the search index: found by their words (CJK inside sentences too) once published,
kept in step with edits and deletions, rebuilt from scratch, refused cleanly when the query is bad."""

import pytest
from django.core.management import call_command

from search.backends import backend

pytestmark = pytest.mark.django_db


@pytest.fixture
def search(api):
    def ids(q, as_client=None):
        response = (as_client or api).get("/api/articles/search/", {"q": q})
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()]

    return ids


def test_words_and_cjk_inside_the_text_are_found_and_follow_edits(search, write_as, client_for, alice):
    article = write_as(alice, title="Morning notes", body="今天北京很冷, so the **coffee** shop was full.")
    assert search("北京") == search("coffee") == search("morning") == [article["id"]]
    assert search("咖啡") == []
    client = client_for(alice)
    response = client.patch(f"/api/articles/{article['id']}/", {"body": "在上海喝咖啡"}, format="json")
    assert response.status_code == 200, response.content
    assert search("咖啡") == [article["id"]]
    assert search("北京") == search("coffee") == []  # the old text is out of the index
    assert search("morning") == [article["id"]]  # the title stayed
    assert client.delete(f"/api/articles/{article['id']}/").status_code == 204
    assert search("咖啡") == search("morning") == []


def test_a_draft_is_found_only_once_published(search, write_as, client_for, alice):
    draft = write_as(alice, title="Zebra crossings", body="Stripes.", publish=False)
    assert search("zebra", as_client=client_for(alice)) == []  # not even by its author
    assert client_for(alice).post(f"/api/articles/{draft['id']}/publish/").status_code == 200
    assert search("zebra") == [draft["id"]]


def test_from_phrase_and_order(search, write_as, alice, bob):
    once = write_as(alice, title="Long read", body="tea " + "and other words " * 200)
    twice = write_as(bob, title="Tea, tea", body="Short.")
    assert search("tea") == [twice["id"], once["id"]]  # twice in a short text outranks once in a long one
    assert search("tea from:alice") == [once["id"]]
    assert search('"other words"') == [once["id"]]
    assert search('"words and other"') == [once["id"]]  # across the repeats
    assert search('"words tea"') == []


def test_a_rebuild_indexes_articles(search, write_as, alice):
    article = write_as(alice, title="Rebuilt", body="From scratch.")
    backend().clear("article")
    assert search("rebuilt") == []
    call_command("search_rebuild", only="articles")
    assert search("rebuilt") == [article["id"]]


def test_a_query_past_the_limits_is_refused_with_a_reason(api):
    response = api.get("/api/articles/search/", {"q": " ".join(f"w{n}" for n in range(9))})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_query"
