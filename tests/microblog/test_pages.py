"""The microblog's browser pages, driven with plain form posts (no JavaScript)."""

import pytest

from microblog.models import Follow, Like, Mute, Post

pytestmark = pytest.mark.django_db


def test_signed_out_home_is_the_welcome_page_and_explore_is_public(client, alice, post_as):
    post_as(alice, "public hello #Tandem")
    assert b"Create an account" in client.get("/").content
    explore = client.get("/explore/")
    assert explore.status_code == 200
    assert b"public hello" in explore.content
    assert client.get("/tags/tandem/").status_code == 200
    assert client.get("/u/alice/").status_code == 200
    assert client.get("/notifications/").status_code == 302


def test_compose_on_home_then_see_it_in_the_feed_and_on_the_tag_page(client, alice):
    client.force_login(alice)
    page = client.get("/")
    assert b'name="body"' in page.content and b'name="visibility"' in page.content
    assert b"js/compose.js" in page.content
    response = client.post("/", {"body": "<script>x</script> hi #Café", "visibility": "public"}, follow=True)
    assert b"&lt;script&gt;x&lt;/script&gt; hi" in response.content
    assert b"<script>x</script>" not in response.content
    assert b"&lt;script&gt;x" in client.get("/tags/CAFÉ/").content
    assert client.post("/", {"body": "   ", "visibility": "public"}).status_code == 200
    assert Post.objects.count() == 1


def test_post_page_reply_repost_like_and_delete(client, alice, bob, post_as):
    root = post_as(alice, "root post")
    client.force_login(bob)
    page = client.get(f"/p/{root['id']}/")
    assert b"root post" in page.content and b"Reply" in page.content
    client.post(f"/p/{root['id']}/", {"body": "my reply", "visibility": "public"})
    client.post(f"/p/{root['id']}/like/")
    assert Like.objects.filter(user=bob).count() == 1
    response = client.post(f"/p/{root['id']}/repost/", {"comment": "bob says"}, follow=True)
    repost = Post.objects.get(repost_of_id=root["id"])
    # Back on the post reposted (issue 16: not onto the new repost, next to its Delete button).
    assert response.redirect_chain[-1][0] == f"/p/{root['id']}/"
    assert b"root post" in response.content and b"bob says" in response.content
    client.post(f"/p/{repost.pk}/repost/", {"comment": "again"})
    chained = client.get(f"/p/{Post.objects.get(repost_of_id=repost.pk).pk}/")
    assert b'//<a href="/u/bob/">@bob</a>:' in chained.content
    root_page = client.get(f"/p/{root['id']}/").content
    assert b"my reply" in root_page
    assert b'id="reposts"' in root_page and b"bob says" in root_page
    client.force_login(alice)
    client.post(f"/p/{root['id']}/delete/")
    assert client.get(f"/p/{root['id']}/").status_code == 404
    assert b"deleted" in client.get(f"/p/{repost.pk}/").content


def test_profile_follow_and_mute_buttons_toggle(client, alice, bob):
    client.force_login(bob)
    assert b"Follow" in client.get("/u/alice/").content
    client.post("/u/alice/follow/")
    assert Follow.objects.filter(follower=bob, followee=alice).exists()
    assert b"Unfollow" in client.get("/u/alice/").content
    client.post("/u/alice/follow/")
    assert not Follow.objects.exists()
    client.post("/u/alice/mute/")
    assert Mute.objects.filter(user=bob, muted=alice).exists()
    assert client.get("/u/nobody/").status_code == 404


def test_notifications_page_lists_and_marks_read(client, client_for, alice, bob):
    client_for(bob).post("/api/users/alice/follow/")
    client.force_login(alice)
    page = client.get("/notifications/").content
    # The row itself, not the page's empty <template> for live follows (which says "followed you" too).
    assert b'<a class="actor" href="/u/bob/"><bdi class="name">Bob</bdi></a>' in page and b"followed you" in page
    client.post("/notifications/read/")
    assert client_for(alice).get("/api/notifications/unread/").json() == {"unread": 0}


def test_hidden_posts_are_404_pages(client, alice, bob, post_as):
    hidden = post_as(alice, "for followers", visibility="followers")
    client.force_login(bob)
    assert client.get(f"/p/{hidden['id']}/").status_code == 404
    assert client.post(f"/p/{hidden['id']}/like/").status_code == 404


def test_demo_seed_makes_a_lively_explore_page(client):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")  # safe to run twice
    # Seven of the microblog's demo, and the one carrying her article (articles.demo).
    assert Post.objects.filter(author__username="alice").count() == 8
    explore = client.get("/explore/")
    assert "#北京".encode() in explore.content
    assert b"climbing" in explore.content
    root = Post.objects.get(body__startswith="Morning climb")
    assert (root.repost_count, root.like_count) == (2, 3)
