"""People are found by prefix, newest first, however far back they joined (on PostgreSQL a short walk
of the newest rows, then the index: search.backends.postgres.PostgresBackend._people)."""

import pytest

from search.backends import postgres


@pytest.fixture
def people(api):
    def usernames(q):
        response = api.get("/api/search/", {"q": q})
        assert response.status_code == 200, response.content
        return [user["username"] for user in response.json()["users"]]

    return usernames


@pytest.fixture
def short_walk(monkeypatch):
    monkeypatch.setattr(postgres, "PEOPLE_WALK", 3)
    monkeypatch.setattr("search.selectors.CANDIDATES", 2)


def test_someone_who_joined_long_before_the_newest_is_found(make_user, people, short_walk):
    make_user(username="oldtimer", display_name="小王")
    for n in range(6):
        make_user(username=f"newcomer{n}")

    assert people("oldt") == ["oldtimer"]
    assert people("王") == ["oldtimer"]
    assert people("zzyzx") == []


def test_a_prefix_most_people_share_gives_the_newest_matches(make_user, people, short_walk):
    make_user(username="anna_first")
    for n in range(4):
        make_user(username=f"ann{n}")
    make_user(username="bob")

    # The two newest of the five; shorter usernames first, as every people search orders them.
    assert people("ann") == ["ann2", "ann3"]
    # Fewer matches among the newest three than asked for: the rest are read from the index.
    assert people("anna") == ["anna_first"]
