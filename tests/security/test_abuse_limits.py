"""Abuse limits: each answers 429 with Retry-After, and a parallel burst gets no more through than the limit.

Logins and sign-ups have their own tests in tests/accounts; the sockets' send rate per user
(an `error` frame with code `rate_limited`) is in tests/chat/test_socket_chat.py.
"""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.test import override_settings

from accounts.models import ContactRequest
from chat.models import Message
from microblog.models import Follow, Post

LIMIT = 2
SMALL_LIMITS = {action: (LIMIT, timedelta(hours=1)) for action in ("post", "message", "contact-request", "follow")}


def _post_json(url: str, body: dict, headers: dict | None = None) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_wrong_passwords_get_no_more_tries_than_the_limit(live_daphne, make_user, password, settings):
    """Counted before the password is checked: on PostgreSQL + Redis, across daphne's threads."""
    make_user(username="burst-target")
    url = f"{live_daphne.url}/api/auth/token/"
    wrong = {"username": "burst-target", "password": "wrong-password"}
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: _post_json(url, wrong), range(20)))
    tried = statuses.count(400)
    print(f"\nburst of 20 wrong passwords: {tried} tried, {statuses.count(429)} refused with 429")
    assert tried <= settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS
    assert statuses.count(429) == 20 - tried
    assert _post_json(url, {"username": "burst-target", "password": password}) == 429


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "locked_out"),
    [
        (0, ["1.1.1.{n}"], True),  # no trusted proxy: a client's own X-Forwarded-For changes nothing
        (1, ["203.0.113.7, 10.0.0.{n}"], False),  # one proxy: its entry (the last) is the address
        (1, ["10.0.0.{n}, 203.0.113.7"], True),  # what the client put before the proxy's entry is ignored
    ],
)
def test_the_address_limit_reads_x_forwarded_for_only_through_trusted_proxies(
    api, settings, make_user, password, proxies, forwarded_for, locked_out
):
    # Both through the `settings` fixture: mixed with @override_settings, its teardown would
    # put the decorator's values back for the rest of the session.
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 3
    settings.TRUSTED_PROXY_COUNT = proxies
    make_user(username="carol")
    for n in range(3):
        header = forwarded_for[0].format(n=n)
        api.post("/api/auth/token/", {"username": f"x{n}", "password": "x"}, HTTP_X_FORWARDED_FOR=header)
    last = forwarded_for[0].format(n=9)
    answer = api.post("/api/auth/token/", {"username": "carol", "password": password}, HTTP_X_FORWARDED_FOR=last)
    assert answer.status_code == (429 if locked_out else 200)


ACTIONS = {
    "post": (lambda c, n, ctx: c.post("/api/posts/", {"body": f"post {n}"}), Post.objects.count),
    "message": (
        lambda c, n, ctx: c.post(
            f"/api/conversations/{ctx['conversation'].pk}/messages/", {"body": f"hi {n}", "client_id": f"c{n}"}
        ),
        Message.objects.count,
    ),
    "contact-request": (
        lambda c, n, ctx: c.post("/api/contact-requests/", {"to": ctx["others"][n].username}),
        ContactRequest.objects.count,
    ),
    "follow": (
        lambda c, n, ctx: c.post(f"/api/users/{ctx['others'][n].username}/follow/"),
        Follow.objects.count,
    ),
}


@override_settings(ACTION_LIMITS=SMALL_LIMITS)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_action_answers_429_with_retry_after_past_its_limit(client_for, alice, make_user, befriend, action):
    send, rows = ACTIONS[action]
    context = {"conversation": befriend(alice, make_user()), "others": [make_user() for _ in range(LIMIT + 1)]}
    client = client_for(alice)
    for n in range(LIMIT):
        assert send(client, n, context).status_code in {200, 201}
    before = rows()
    refused = send(client, LIMIT, context)
    assert refused.status_code == 429, refused.content
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Try again later" in refused.json()["detail"]
    assert rows() == before


@override_settings(ACTION_LIMITS=SMALL_LIMITS)
def test_the_page_forms_share_the_limits(client, alice, make_user):
    client.force_login(alice)
    for n in range(LIMIT):
        assert client.post("/", {"body": f"from the page {n}", "visibility": "public"}).status_code == 302
    refused = client.post("/", {"body": "one too many", "visibility": "public"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    others = [make_user() for _ in range(LIMIT + 1)]
    for other in others[:LIMIT]:
        assert client.post(f"/u/{other.username}/follow/").status_code == 302
    assert client.post(f"/u/{others[-1].username}/follow/").status_code == 429
    assert Post.objects.filter(author=alice).count() == LIMIT


@override_settings(ACTION_LIMITS=SMALL_LIMITS)
def test_the_chat_page_forms_answer_429_with_retry_after(client, alice, make_user, befriend):
    """Past a limit the page answers as the API does, not with a form error the client cannot time."""
    conversation = befriend(alice, make_user())
    others = [make_user() for _ in range(LIMIT + 1)]
    client.force_login(alice)
    for other in others[:LIMIT]:
        assert client.post("/contacts/", {"action": "request", "username": other.username}).status_code == 302
    refused = client.post("/contacts/", {"action": "request", "username": others[-1].username})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert ContactRequest.objects.filter(from_user=alice, to_user__in=others).count() == LIMIT

    for n in range(LIMIT):
        assert client.post(f"/chat/{conversation.pk}/", {"body": f"from the page {n}"}).status_code == 302
    refused = client.post(f"/chat/{conversation.pk}/", {"body": "one too many"})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert Message.objects.filter(sender=alice).count() == LIMIT
