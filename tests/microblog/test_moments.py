"""Moments on `/`: contacts-only posts of the viewer's chat contacts and the viewer, newest first."""

import pytest

from microblog.models import Mute
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle(alice, bob, carol, make_user, contact_rows, block, post_as):
    """alice's contacts: bob, carol (muted by alice) and erin (who blocked alice); dave is no contact."""
    dave, erin = make_user(username="dave"), make_user(username="erin")
    for person in (bob, carol, erin):
        contact_rows(alice, person)
    Mute.objects.create(user=alice, muted=carol)
    block(erin, alice)
    posts = {
        "mine": post_as(alice, "my moment", visibility="contacts"),
        "bob": post_as(bob, "bob's moment", visibility="contacts"),
        "bob public": post_as(bob, "bob in public"),
        "bob followers": post_as(bob, "bob to followers", visibility="followers"),
        "carol": post_as(carol, "carol's moment", visibility="contacts"),
        "dave": post_as(dave, "dave's moment", visibility="contacts"),
        "erin": post_as(erin, "erin's moment", visibility="contacts"),
    }
    posts["bob reply"] = post_as(bob, "a comment", visibility="contacts", reply_to=posts["mine"]["id"])
    posts["bob later"] = post_as(bob, "bob again", visibility="contacts")
    return posts


def test_moments_hold_contacts_only_posts_of_contacts_and_me_newest_first(client_for, alice, circle):
    body = client_for(alice).get("/api/feed/?order=moments").json()
    assert [item["post"]["body"] for item in body["results"]] == ["bob again", "bob's moment", "my moment"]
    assert body["results"][0]["reasons"] == ["you chat with @bob"] and body["results"][0]["score"] is None
    assert body["results"][-1]["reasons"] == ["your moment"]


def test_moments_page_like_the_other_lists(client_for, alice, circle):
    client = client_for(alice)
    first = client.get("/api/feed/?order=moments&limit=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = client.get(first["next"]).json()
    assert [item["post"]["body"] for item in second["results"]] == ["my moment"] and second["next"] is None
    assert client.get("/api/feed/?order=sideways").status_code == 400


def test_a_contact_sees_moments_that_a_follower_does_not(client_for, bob, carol, circle, make_user, post_as):
    follower = make_user(username="fan")
    client_for(follower).post("/api/users/bob/follow/")
    assert client_for(follower).get("/api/feed/?order=moments").json()["results"] == []
    assert "bob's moment" not in str(client_for(follower).get("/api/feed/?order=latest").json())


def test_the_moments_tab_on_home(client, alice, circle):
    client.force_login(alice)
    page = client.get("/?order=moments").content.decode()
    assert '<strong aria-current="page">Moments</strong>' in page
    assert "bob again" in page and "bob in public" not in page and "carol&#x27;s moment" not in page
    ranked = client.get("/").content.decode()
    assert 'href="?order=moments"' in ranked
    assert '<option value="contacts" selected>' in page and '<option value="contacts" selected>' not in ranked
    posted = client.post("/?order=moments", {"body": "a moment from the tab", "visibility": "contacts"}, follow=True)
    assert posted.redirect_chain[-1][0] == "/?order=moments"
    assert "a moment from the tab" in posted.content.decode()


def test_a_moments_page_costs_the_same_queries_for_5_or_40_contacts(client_for, make_user, contact_rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    costs = []
    for size in (5, 40):
        viewer = make_user()
        for _ in range(size):
            contact = make_user()
            contact_rows(viewer, contact)
            PostFactory(author=contact, visibility="contacts")
        client = client_for(viewer)
        client.get("/api/feed/?order=moments&limit=3")  # the token lookup warms up
        with CaptureQueriesContext(connection) as queries:
            assert len(client.get("/api/feed/?order=moments&limit=3").json()["results"]) == 3
        costs.append(len(queries))
    assert costs[0] == costs[1] == 3, costs  # the page, its photos, the token
