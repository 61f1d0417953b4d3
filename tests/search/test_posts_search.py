"""Post, people and tag search through /api/search/: CJK, folding, phrases, filters, ranking, highlights."""

import pytest

from chat.services import block_create
from microblog.services import post_delete, user_mute


def test_cjk_terms_of_one_two_and_three_characters_inside_sentences(found, alice, post):
    weather = post(alice, "今天北京的天气很好，我们去喝咖啡吧")
    other = post(alice, "上海下雨了")
    assert found("北京") == [weather.pk]
    assert found("天气") == [weather.pk]
    assert found("咖啡") == [weather.pk]
    assert found("喝咖啡") == [weather.pk]
    assert found("海") == [other.pk]
    assert found("我们去") == [weather.pk]
    assert found("京天") == []  # not adjacent in the text: 北京的天气


def test_one_character_term_matches_anywhere(found, alice, post):
    rain = post(alice, "上海下雨了")
    assert found("雨") == [rain.pk]
    assert found("了") == [rain.pk]


def test_mixed_scripts_and_full_width_fold_to_the_same_terms(found, alice, post):
    mixed = post(alice, "Meeting at 星巴克Coffee tomorrow")
    wide = post(alice, "ＴＡＮＤＥＭ ｒｏｃｋｓ")
    assert found("星巴克coffee") == [mixed.pk]
    assert found("COFFEE") == [mixed.pk]
    assert found("tandem") == [wide.pk]
    assert found("ｍｅｅｔｉｎｇ") == [mixed.pk]


def test_words_match_whole_and_a_star_asks_for_a_prefix(found, alice, post):
    thinking = post(alice, "thinking about lunch")
    assert found("think") == []
    assert found("think*") == [thinking.pk]
    assert found("lun*") == [thinking.pk]
    assert found("lunch") == [thinking.pk]
    assert found("th*") == []  # two letters: a whole word only


def test_every_term_must_match(found, alice, post):
    both = post(alice, "red apples and 苹果")
    post(alice, "red cars")
    assert found("red 苹果") == [both.pk]


def test_exact_phrase(found, alice, post):
    exact = post(alice, "the quick brown fox")
    post(alice, "brown and quick, the fox")
    assert sorted(found("quick brown")) == sorted([exact.pk, exact.pk + 1])
    assert found('"quick brown"') == [exact.pk]
    assert found('"北京天气"') == []


def test_from_filter_and_tag_filter(found, alice, bob, post):
    by_alice = post(alice, "coffee time #morning")
    by_bob = post(bob, "coffee for me too #evening")
    assert found("coffee from:alice") == [by_alice.pk]
    assert found("coffee from:@bob") == [by_bob.pk]
    assert found("from:bob") == [by_bob.pk]
    assert found("coffee #Morning") == [by_alice.pk]
    assert found("coffee from:nobody_here") == []


def test_two_mentions_in_a_short_post_outrank_one_in_a_long_post(found, alice, post):
    short = post(alice, "zebra zebra")
    long = post(alice, "zebra " + " ".join(f"filler{i}" for i in range(60)))
    newer_long = post(alice, "a zebra " + " ".join(f"other{i}" for i in range(60)))
    assert found("zebra")[0] == short.pk
    assert set(found("zebra")) == {short.pk, long.pk, newer_long.pk}


def test_highlight_marks_the_match_and_escapes_the_rest(api, alice, post):
    post(alice, '<script>alert("x")</script> <img src=x onerror=alert(1)> 北京欢迎你 COFFEE')
    hit = api.get("/api/search/", {"q": "北京 coffee"}).json()["posts"][0]
    assert "<script>" not in hit["highlight"] and "<img" not in hit["highlight"]
    assert "&lt;script&gt;" in hit["highlight"]
    assert "<mark>北京</mark>" in hit["highlight"]
    assert "<mark>COFFEE</mark>" in hit["highlight"]
    script = api.get("/api/search/", {"q": "script"}).json()["posts"][0]
    assert "&lt;<mark>script</mark>&gt;" in script["highlight"]


def test_visitors_find_public_posts_only_and_members_their_own_view(found, client_for, alice, bob, make_user, post):
    carol = make_user(username="carol")
    public = post(alice, "canary public")
    followers = post(alice, "canary followers", visibility="followers")
    client_for(bob).post("/api/users/alice/follow/")
    assert found("canary") == [public.pk]
    assert sorted(found("canary", client_for(bob))) == sorted([public.pk, followers.pk])
    assert found("canary", client_for(carol)) == [public.pk]
    assert sorted(found("canary", client_for(alice))) == sorted([public.pk, followers.pk])


def test_blocks_and_mutes_apply(found, client_for, alice, bob, post):
    post(alice, "hidden walrus")
    bob_api = client_for(bob)
    assert len(found("walrus", bob_api)) == 1
    user_mute(user=bob, muted=alice)
    assert found("walrus", bob_api) == []
    client_for(bob).delete("/api/users/alice/mute/")
    assert len(found("walrus", bob_api)) == 1
    block_create(user=alice, username="bob")
    assert found("walrus", bob_api) == []


def test_a_deleted_post_disappears_at_once(found, alice, post):
    gone = post(alice, "ephemeral octopus")
    assert found("octopus") == [gone.pk]
    post_delete(actor=alice, post=gone)
    assert found("octopus") == []
    from search.backends import backend
    from search.query import parse

    assert backend().candidates("post", parse("octopus"), limit=10) == []


def test_people_by_username_and_display_name_prefix(api, make_user):
    make_user(username="wang_xiaoming", display_name="王小明")
    make_user(username="xiaohong", display_name="Little Red")
    inactive = make_user(username="wanderer")
    inactive.is_active = False
    inactive.save()

    def people(q):
        return [u["username"] for u in api.get("/api/search/", {"q": q}).json()["users"]]

    assert people("wa") == ["wang_xiaoming"]
    assert people("王小") == ["wang_xiaoming"]
    assert people("王") == ["wang_xiaoming"]
    assert people("lit") == ["xiaohong"]
    # A word of the username (wang, xiaoming): those whose username starts with it come first.
    assert people("xiao") == ["xiaohong", "wang_xiaoming"]
    assert people("xiaoh") == ["xiaohong"]


def test_display_name_changes_are_searchable(client_for, api, alice):
    client_for(alice).patch("/api/me/", {"display_name": "Tortoise"}, format="json")
    assert [u["username"] for u in api.get("/api/search/", {"q": "tort"}).json()["users"]] == ["alice"]


def test_tags_by_prefix_only_when_a_public_post_carries_them(api, alice, post):
    post(alice, "#Sunrise over the sea")
    post(alice, "#sunset_secret", visibility="followers")
    tags = api.get("/api/search/", {"q": "#sun"}).json()["tags"]
    assert [t["name"] for t in tags] == ["sunrise"]


def test_sections_page_with_their_own_cursors(api, alice, post):
    ids = {post(alice, f"pager {n}").pk for n in range(7)}
    first = api.get("/api/search/", {"q": "pager", "limit": 3}).json()
    assert len(first["posts"]) == 3 and first["next"]["posts"] and first["next"]["users"] is None
    seen = [p["id"] for p in first["posts"]]
    url = first["next"]["posts"]
    while url:
        page = api.get(url).json()
        assert page["users"] == [] and page["tags"] == []
        seen += [p["id"] for p in page["posts"]]
        url = page["next"]["posts"]
    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"q": "x" * 201}, "q"),
        ({"q": " ".join(f"w{i}" for i in range(9))}, "invalid_query"),
        ({"q": "pager", "type": "posts", "cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"q": "pager", "cursor": "eyJvIjoxLCJ0IjoxfQ"}, "invalid_cursor"),
        ({"q": "pager", "type": "everything"}, "type"),
    ],
)
def test_bad_queries_are_refused_with_a_reason(api, params, code):
    response = api.get("/api/search/", params)
    assert response.status_code == 400
    body = response.json()
    assert body.get("code") == code or code in body  # a service's refusal, or the field's error


def test_punctuation_only_and_empty_queries_find_nothing(api, alice, post):
    post(alice, "anything")
    empty = {"posts": [], "users": [], "tags": [], "next": {"posts": None, "users": None, "tags": None}}
    assert api.get("/api/search/").json() == empty
    assert api.get("/api/search/", {"q": "!!! ... ***"}).json() == empty
    assert api.get("/api/search/", {"q": '"" a"b OR NEAR( * ^'}).status_code == 200


def test_searches_past_the_rate_answer_429_with_retry_after(api, settings, client_for, alice):
    from datetime import timedelta

    settings.SEARCH_LIMIT_PER_ADDRESS = (3, timedelta(minutes=1))
    for _ in range(3):
        assert api.get("/api/search/", {"q": "x"}).status_code == 200
    refused = api.get("/api/search/", {"q": "x"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    settings.SEARCH_LIMIT_PER_ADDRESS = (100, timedelta(minutes=1))
    settings.SEARCH_LIMIT_PER_USER = (2, timedelta(minutes=1))
    alice_api = client_for(alice)
    assert [alice_api.get("/api/search/suggest/", {"q": "x"}).status_code for _ in range(3)] == [200, 200, 429]
