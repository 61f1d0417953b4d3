"""The worker's path for photo fetches (config.pooled, what config.asgi serves /media/ with): GET
and HEAD answered in one hop to a pool of threads that keep their database connections.

Whatever it answers must be, to the status, header and byte, what Django's own ASGI handler
answers the same request: the same middleware (security headers, sessions, CSRF, hosts) and the
same view, only run the way a threaded WSGI server runs them. Both are driven here in this
process, over ASGI, with the same requests: every way of asking test_serving.py covers, and
the odd ones a middleware answers itself.
"""

import asyncio
import re

import pytest
from django.test import Client

from accounts.services import token_for
from chat import services as chat
from config.pooled import FETCH_PREFIXES, PooledHandler
from microblog import services as microblog

from .files import stored_photo, url

# The pool's threads read with their own connections: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def handlers(settings, media_root, djangos_handler):
    settings.MEDIA_SERVE = "direct"
    pooled = PooledHandler(fetch_prefixes=("/media/",), fetch_threads=2, threads=2)
    yield pooled, djangos_handler
    pooled.close()


def asgi_answer(
    application, path: str, *, method="GET", headers=(), host="127.0.0.1", body: bytes = b""
) -> tuple[int, list, bytes]:
    """(status, headers in order, body) of one request to an ASGI application, as daphne would send it."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path.partition("?")[0],
        "raw_path": path.partition("?")[0].encode(),
        "query_string": path.partition("?")[2].encode(),
        "root_path": "",
        "headers": [(b"host", host.encode())]
        + [(name.lower().encode(), value.encode()) for name, value in headers]
        + ([(b"content-length", str(len(body)).encode())] if body else []),
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    messages = []

    async def run():
        received = False
        done = asyncio.Event()

        async def receive():
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            messages.append(message)

        await application(scope, receive, send)
        done.set()

    asyncio.run(run())
    start = next(message for message in messages if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in messages if message["type"] == "http.response.body")
    return start["status"], start["headers"], body


def test_the_pooled_path_answers_exactly_what_djangos_handler_answers(handlers, make_user, befriend):
    pooled, django_handler = handlers
    sender, member, stranger = make_user(), make_user(), make_user()
    conversation = befriend(sender, member)
    message, _ = chat.message_send(sender=sender, conversation=conversation, body="a photo")
    in_chat = stored_photo(sender, attach_to=("message", message.pk))
    public = stored_photo(sender, attach_to=("post", microblog.post_create(author=sender, body="hi").pk))
    pages = Client()
    pages.force_login(member)
    member_token = ("Authorization", f"Token {token_for(user=member).key}")
    member_cookie = ("Cookie", f"sessionid={pages.cookies['sessionid'].value}")
    etag = f'"{in_chat.key}.display"'

    asked = [
        # (what, path, method, headers, the status both must answer); the Host header is 127.0.0.1's
        # unless one is given.
        ("a member's token", url(in_chat), "GET", [member_token], 200),
        ("a member's session", url(in_chat, "thumbnail"), "GET", [member_cookie], 200),
        ("a member's HEAD", url(in_chat), "HEAD", [member_token], 200),
        ("a member who has it cached", url(in_chat), "GET", [member_token, ("If-None-Match", etag)], 304),
        ("a stranger's token", url(in_chat), "GET", [("Authorization", f"Token {token_for(user=stranger).key}")], 404),
        ("nobody, a message's photo", url(in_chat), "GET", [], 404),
        ("nobody, a public post's photo", url(public), "GET", [], 200),
        ("a token that is no token", url(public), "GET", [("Authorization", "Token not-a-real-token")], 200),
        ("a key that does not exist", "/media/no-such-key/display", "GET", [member_token], 404),
        ("an unknown variant", f"/media/{in_chat.key}/original", "GET", [member_token], 404),
        # Django's middleware answering for the view: a session that is gone (its cookie deleted),
        # a CSRF cookie that is malformed (a new one set), a host not allowed (400).
        (
            "a session that is no more",
            url(public),
            "GET",
            [("Cookie", "sessionid=abcdefghijklmnopqrstuvwxyz012345")],
            200,
        ),
        ("a malformed CSRF cookie", url(public), "GET", [("Cookie", "csrftoken=not-a-token")], 200),
        ("a host not allowed", url(public), "GET", [("Host", "evil.example")], 400),
    ]
    for what, path, method, headers, status in asked:
        host = dict(headers).pop("Host", "127.0.0.1")
        headers = [(name, value) for name, value in headers if name != "Host"]
        ours = asgi_answer(pooled, path, method=method, headers=headers, host=host)
        theirs = asgi_answer(django_handler, path, method=method, headers=headers, host=host)
        assert ours[0] == status, (what, ours)
        assert new_csrf_token_hidden(ours) == new_csrf_token_hidden(theirs), what


def test_feed_pages_and_searches_are_pooled_and_answer_what_djangos_handler_answers(
    settings, make_user, djangos_handler
):
    """config.asgi pools them too (a new database connection per request cost a feed page more than
    its queries on PostgreSQL): same answers, to the byte."""
    pooled = PooledHandler(fetch_prefixes=FETCH_PREFIXES, fetch_threads=2, threads=2)
    try:
        author = make_user()
        for n in range(3):
            microblog.post_create(author=author, body=f"pooled zebra {n}")
        token = ("Authorization", f"Token {token_for(user=author).key}")
        for path in ("/api/feed/?order=latest", "/api/search/?q=zebra", "/api/search/?q=zebra&type=posts"):
            assert pooled.pool_for({"type": "http", "method": "GET", "path": path.partition("?")[0]}) == "fetch", path
            ours = asgi_answer(pooled, path, headers=[token])
            theirs = asgi_answer(djangos_handler, path, headers=[token])
            assert ours[0] == 200, (path, ours)
            assert ours == theirs, path
            assert b"pooled zebra 2" in ours[2]
    finally:
        pooled.close()


def new_csrf_token_hidden(answer):
    """The answer with a newly set CSRF cookie's value (random each time) written as <new>, and its
    expiry date as <date> (to the second: the two answers of a pair can fall in different seconds)."""
    status, headers, body = answer
    shown = [
        (
            name,
            re.sub(rb"expires=[^;]+", b"expires=<date>", re.sub(rb"^csrftoken=[^;]+", b"csrftoken=<new>", value))
            if name == b"Set-Cookie"
            else value,
        )
        for name, value in headers
    ]
    return status, shown, body


def test_a_pool_thread_keeps_its_database_connection_between_fetches(handlers, make_user, connections_opened):
    """Under Django's ASGI handler each request opened a database connection (bench/RESULTS.md)."""
    pooled, _ = handlers
    uploader = make_user()
    photo = stored_photo(uploader)
    token = ("Authorization", f"Token {token_for(user=uploader).key}")
    with connections_opened() as opened:
        for _ in range(6):
            assert asgi_answer(pooled, url(photo), headers=[token])[0] == 200
    assert len(opened) <= 2  # one per thread of the pool, at most
