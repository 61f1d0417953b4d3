"""The notifications page (issue 16): what was liked, replied to or reposted, quoted by its first words;
repeats grouped ("bob and 2 others liked your post"); tabs for All, Mentions and Requests (contact
requests with Accept and Decline there); opening the page marks everything seen. Also the post action
bar's plain forms, which come back to the page they were sent from (`next`, this site only)."""

import html
import re

import pytest

from accounts.models import ContactRequest
from chat.services import contact_request_send
from microblog.models import Like, Notification, Post

pytestmark = pytest.mark.django_db


def lines(page) -> list[str]:
    """The notification lines of a page, as text (tags dropped, spaces folded); templates excluded."""
    listing = page.content.decode().split('id="notification-list"', 1)[1].split("</ul>", 1)[0]
    items = re.findall(r'<li class="card notification[^"]*".*?</li>', listing, flags=re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", item)).split()) for item in items]


def unread_lines(page) -> int:
    listing = page.content.decode().split('id="notification-list"', 1)[1].split("</ul>", 1)[0]
    return len(re.findall(r'<li class="card notification unread"', listing))


@pytest.fixture
def people(make_user):
    return {name: make_user(username=name, display_name=name.title()) for name in ("bob", "carol", "dan", "eve")}


def test_likes_of_one_post_are_one_line_naming_the_first_and_counting_the_others(
    client, client_for, alice, people, post_as
):
    post = post_as(alice, "Sunrise over the harbour this morning, with the fishing boats going out")
    other = post_as(alice, "a second post")
    for name in ("bob", "carol", "dan"):
        assert client_for(people[name]).post(f"/api/posts/{post['id']}/like/").status_code == 200
    client_for(people["eve"]).post(f"/api/posts/{other['id']}/like/")
    client_for(people["bob"]).post(f"/api/posts/{other['id']}/like/")
    client.force_login(alice)

    shown = lines(client.get("/notifications/"))

    # Newest first: the second post's likes (bob last), then the first post's (dan last).
    assert len(shown) == 2
    assert shown[0].startswith("Bob @bob and Eve liked your post “a second post”")
    assert shown[1].startswith(
        "Dan @dan and 2 others liked your post “Sunrise over the harbour this morning, with the fishing boa…”"
    )


def test_a_reply_says_what_it_answers_and_what_it_says(client, client_for, alice, people, post_as):
    post = post_as(alice, "Who is coming to the harbour walk on Sunday?")
    client_for(people["bob"]).post("/api/posts/", {"body": "Count me in!", "reply_to": post["id"]}, format="json")
    client_for(people["carol"]).post("/api/posts/", {"body": "Me too", "reply_to": post["id"]}, format="json")
    client.force_login(alice)

    shown = lines(client.get("/notifications/"))

    # Each reply is its own line (each says something of its own), quoting the post answered.
    assert [line.split(" · ")[0] for line in shown] == [
        "Carol @carol replied to your post “Who is coming to the harbour walk on Sunday?”",
        "Bob @bob replied to your post “Who is coming to the harbour walk on Sunday?”",
    ]
    assert shown[0].endswith("Me too") and shown[1].endswith("Count me in!")


def test_reposts_quote_the_post_reposted_and_group(client, client_for, alice, people, post_as):
    post = post_as(alice, "Harbour at dawn")
    client_for(people["bob"]).post(f"/api/posts/{post['id']}/repost/", {"comment": "Beautiful!"}, format="json")
    client_for(people["carol"]).post(f"/api/posts/{post['id']}/repost/", {}, format="json")
    client.force_login(alice)

    shown = lines(client.get("/notifications/"))

    assert len(shown) == 1
    assert shown[0].startswith("Carol @carol and Bob reposted your post “Harbour at dawn”")
    assert "/p/{}/".format(post["id"]) in client.get("/notifications/").content.decode()


def test_the_mentions_tab_shows_mentions_and_replies_only(
    client, client_for, alice, people, post_as, django_capture_on_commit_callbacks
):
    post = post_as(alice, "my post")
    client_for(people["bob"]).post(f"/api/posts/{post['id']}/like/")
    with django_capture_on_commit_callbacks(execute=True):  # mentions notify after commit
        client_for(people["carol"]).post("/api/posts/", {"body": "hi @alice"}, format="json")
    client_for(people["dan"]).post("/api/posts/", {"body": "answer", "reply_to": post["id"]}, format="json")
    client_for(people["eve"]).post("/api/users/alice/follow/")
    client.force_login(alice)

    everything = lines(client.get("/notifications/"))
    mentions = lines(client.get("/notifications/?tab=mentions"))

    assert len(everything) == 4
    assert [line.split(" @")[0] for line in mentions] == ["Dan", "Carol"]
    assert "mentioned you" in mentions[1] and "hi @alice" in mentions[1]
    # An unknown tab is the All tab, not an error.
    assert len(lines(client.get("/notifications/?tab=<script>"))) == 4


def test_the_requests_tab_answers_contact_requests_in_place(client, alice, people):
    contact_request_send(sender=people["bob"], to_username="alice", note="from the walk")
    client.force_login(alice)

    page = client.get("/notifications/?tab=requests").content.decode()

    assert 'aria-current="page">Requests (1)' in page
    assert "from the walk" in page and ">Accept</button>" in page and ">Decline</button>" in page
    # The forms post to the contacts page (which works without JavaScript, as ever).
    assert 'action="/contacts/"' in page
    request = ContactRequest.objects.get(from_user=people["bob"])
    client.post("/contacts/", {"action": "accept", "request": request.pk})
    request.refresh_from_db()
    assert request.status == ContactRequest.Status.ACCEPTED
    assert "No contact requests." in client.get("/notifications/?tab=requests").content.decode()


def test_opening_the_page_marks_everything_seen_and_clears_the_badge(client, client_for, alice, people, post_as):
    post = post_as(alice, "seen?")
    client_for(people["bob"]).post(f"/api/posts/{post['id']}/like/")
    client_for(people["carol"]).post("/api/users/alice/follow/")
    client.force_login(alice)
    assert client_for(alice).get("/api/notifications/unread/").json() == {"unread": 2}
    assert '<span class="badge" id="notification-badge">2</span>' in client.get("/explore/").content.decode()

    first = client.get("/notifications/")

    # This view still marks what was new; the badge on it is already empty.
    assert unread_lines(first) == 2
    assert '<span class="badge" id="notification-badge"></span>' in first.content.decode()
    assert client_for(alice).get("/api/notifications/unread/").json() == {"unread": 0}
    assert unread_lines(client.get("/notifications/")) == 0
    # Anything newer stays unread until the page is opened again.
    client_for(people["dan"]).post("/api/users/alice/follow/")
    assert client_for(alice).get("/api/notifications/unread/").json() == {"unread": 1}
    assert Notification.objects.filter(recipient=alice, read=False).count() == 1


def test_empty_tabs_name_the_next_step(client, alice):
    client.force_login(alice)
    assert 'href="/explore/">Find people to follow on Explore</a>' in client.get("/notifications/").content.decode()
    assert 'href="/contacts/">Add a contact</a>' in client.get("/notifications/?tab=requests").content.decode()


# The action bar's forms without JavaScript: each comes back to where it was sent from.


def test_like_and_unlike_come_back_to_the_page_they_were_sent_from(client, alice, bob, post_as):
    post = post_as(alice, "like me")
    client.force_login(bob)
    back = "/explore/?before=99"

    liked = client.post(f"/p/{post['id']}/like/", {"next": back})
    assert liked.status_code == 302 and liked["Location"] == back
    assert Like.objects.filter(user=bob, post_id=post["id"]).exists()
    page = client.get("/explore/").content.decode()
    assert 'aria-pressed="true"' in page and '<span class="count likes">1</span>' in page
    client.post(f"/p/{post['id']}/like/", {"next": back})
    assert not Like.objects.filter(user=bob, post_id=post["id"]).exists()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""])
def test_a_next_off_this_site_is_ignored(client, alice, bob, post_as, target):
    post = post_as(alice, "stay home")
    client.force_login(bob)
    response = client.post(f"/p/{post['id']}/like/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == f"/p/{post['id']}/#post-{post['id']}"


def test_an_inline_reply_and_a_repost_come_back_and_never_open_the_new_repost(client, alice, bob, post_as):
    post = post_as(alice, "the original")
    client.force_login(bob)
    back = f"/u/alice/#post-{post['id']}"

    replied = client.post(f"/p/{post['id']}/", {"body": "nice", "visibility": "public", "next": back})
    assert replied.status_code == 302 and replied["Location"] == back
    assert Post.objects.filter(reply_to_id=post["id"], body="nice").exists()

    reposted = client.post(f"/p/{post['id']}/repost/", {"comment": "", "next": back})
    assert reposted.status_code == 302 and reposted["Location"] == back
    repost = Post.objects.get(repost_of_id=post["id"])
    assert f"/p/{repost.pk}/" not in reposted["Location"]
    # Without `next`, the post reposted (not the repost and its Delete button).
    again = client.post(f"/p/{post['id']}/repost/", {"comment": "with words"}, follow=True)
    assert again.redirect_chain[-1][0] == f"/p/{post['id']}/"


def test_every_post_listing_carries_the_action_bar(client, alice, bob, post_as):
    post = post_as(alice, "everywhere #bar")
    client.force_login(bob)
    client.post("/u/alice/follow/")
    for path in (
        "/?order=latest",
        "/explore/",
        "/explore/?q=everywhere",
        "/tags/bar/",
        "/u/alice/",
        f"/p/{post['id']}/",
    ):
        page = client.get(path).content.decode()
        bar = page.split(f'class="post-foot post-actions" data-post="{post["id"]}"', 1)
        assert len(bar) == 2, path
        footer = bar[1].split("</footer>", 1)[0]
        assert f'action="/p/{post["id"]}/like/"' in footer and 'aria-pressed="false"' in footer, path
        assert f'action="/p/{post["id"]}/repost/"' in footer, path
        assert f"/chat/share/?post={post['id']}" in footer, path


def test_the_empty_feed_leads_to_explore_and_an_error_is_not_a_success(client, alice):
    client.force_login(alice)
    page = client.get("/?order=latest").content.decode()
    assert 'href="/explore/">Find people on Explore</a>' in page
    refused = client.post("/contacts/", {"action": "request", "username": "nobody-here"})
    assert '<li class="error">No such user.</li>' in refused.content.decode()
