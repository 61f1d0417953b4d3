"""The services own the rules: the API and the pages give one answer for each refusal.

Bodies (posts, replies, repost comments) are checked once, in the service: invisible-only
text is blank, lengths are code points. Deleting someone else's post is 403 `not_author`
from both the API and the page; a post the actor may not see is 404 from both.
"""

import pytest

from microblog.models import Post

pytestmark = pytest.mark.django_db

INVISIBLE_ONLY = ["\u200b", "\u202e", "\ufeff", "\u200b\u202e\ufeff \u2066\u2069", "\u0301\u0301"]


@pytest.mark.parametrize("body", INVISIBLE_ONLY)
def test_an_invisible_only_post_or_reply_is_blank_through_the_api(client_for, alice, post_as, body):
    root = post_as(alice, "a visible root")
    api = client_for(alice)
    for payload in ({"body": body}, {"body": body, "reply_to": root["id"]}):
        response = api.post("/api/posts/", payload, format="json")
        assert response.status_code == 400, payload
        assert response.json()["code"] == "blank"
    assert Post.objects.count() == 1


@pytest.mark.parametrize("body", INVISIBLE_ONLY)
def test_an_invisible_only_post_or_reply_is_blank_on_the_pages(client, alice, post_as, body):
    root = post_as(alice, "a visible root")
    client.force_login(alice)
    for path in ("/", f"/p/{root['id']}/"):
        page = client.post(path, {"body": body, "visibility": "public"})
        assert page.status_code == 200, path  # the form again, with the reason
        assert "a post cannot be blank" in page.content.decode()
    assert Post.objects.count() == 1


@pytest.mark.parametrize("comment", INVISIBLE_ONLY)
def test_an_invisible_only_repost_comment_is_no_comment(client_for, alice, bob, post_as, comment):
    root = post_as(alice, "worth passing on")
    api = client_for(bob)
    first = api.post(f"/api/posts/{root['id']}/repost/", {"comment": comment}, format="json")
    again = api.post(f"/api/posts/{root['id']}/repost/", {"comment": comment}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)  # a plain repost, given back the second time
    assert first.json()["body"] == "" and again.json()["id"] == first.json()["id"]
    assert api.get(f"/api/posts/{root['id']}/").json()["repost_count"] == 1


def test_the_api_and_the_pages_refuse_a_long_body_with_one_reason(client, client_for, alice):
    too_long = "字" * 2001
    response = client_for(alice).post("/api/posts/", {"body": too_long}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "too_long"
    client.force_login(alice)
    page = client.post("/", {"body": too_long, "visibility": "public"})
    assert page.status_code == 200 and response.json()["detail"] in page.content.decode()
    assert not Post.objects.exists()


def test_deleting_someone_elses_post_is_403_from_the_api_and_the_page(client, client_for, alice, bob, post_as):
    post = post_as(alice, "mine")
    api = client_for(bob).delete(f"/api/posts/{post['id']}/")
    assert api.status_code == 403 and api.json()["code"] == "not_author"
    client.force_login(bob)
    page = client.post(f"/p/{post['id']}/delete/")
    assert page.status_code == 403
    assert api.json()["detail"] in page.content.decode()
    assert Post.objects.get(pk=post["id"]).deleted_at is None


def test_deleting_a_post_one_may_not_see_is_404_from_the_api_and_the_page(
    client, client_for, alice, bob, post_as, make_user
):
    hidden = post_as(alice, "for my followers", visibility="followers")
    for target in (hidden["id"], 10**9):
        assert client_for(bob).delete(f"/api/posts/{target}/").status_code == 404
        client.force_login(bob)
        assert client.post(f"/p/{target}/delete/").status_code == 404
    assert Post.objects.get(pk=hidden["id"]).deleted_at is None


def test_the_services_check_for_themselves_whoever_calls_them(alice, bob, make_user):
    from microblog import services

    hidden = services.post_create(author=alice, body="for my followers", visibility="followers")
    with pytest.raises(services.MicroblogError) as refused:
        services.post_create(author=bob, body="hi", reply_to=hidden)
    assert refused.value.code == "reply_to_not_found"
    for write in (services.post_like, services.post_bookmark):
        with pytest.raises(services.NotFound):
            write(user=bob, post=hidden)
    with pytest.raises(services.NotFound):
        services.post_repost(author=bob, post=hidden)
    with pytest.raises(services.MicroblogError) as refused:
        services.post_delete(actor=bob, post=services.post_create(author=alice, body="public"))
    assert (refused.value.code, refused.value.status) == ("not_author", 403)
