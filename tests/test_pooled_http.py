"""Every HTTP request on the worker's thread pools (config.pooled, what config.asgi serves HTTP
with): answered to the status, header and byte as Django's own ASGI handler answers it, on a
thread that keeps its database connection between requests. Photo fetches have their own pool
(tests/media/test_serving_path.py); this is the other one: the API, the pages, the forms."""

import re

import pytest
from django.conf import settings
from django.db import connection

from accounts.services import token_for
from config.pooled import FETCH_PREFIXES, PooledHandler
from microblog.models import Post
from tests.live import rest
from tests.media.files import stored_photo, url
from tests.media.test_serving_path import asgi_answer, new_csrf_token_hidden

# The pool's threads read with their own connections: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

JSON = ("Content-Type", "application/json")
FORM = ("Content-Type", "application/x-www-form-urlencoded")


@pytest.fixture
def pooled():
    handler = PooledHandler(fetch_prefixes=FETCH_PREFIXES, fetch_threads=2, threads=2)
    yield handler
    handler.close()


def test_the_api_pages_and_forms_answer_what_djangos_handler_answers(pooled, djangos_handler, make_user):
    user = make_user()
    photo = stored_photo(user)
    token = ("Authorization", f"Token {token_for(user=user).key}")
    too_big = b'{"body": "' + b"x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    asked = [
        # (what, method, path, headers, body, the status both must answer)
        ("who am I, with a token", "GET", "/api/me/", [token], b"", 200),
        ("who am I, without one", "GET", "/api/me/", [], b"", 401),
        ("a post that is not JSON", "POST", "/api/posts/", [token, JSON], b"{not json", 400),
        ("a post with nothing in it", "POST", "/api/posts/", [token, JSON], b"{}", 400),
        ("a post larger than a request may be", "POST", "/api/posts/", [token, JSON], too_big, 413),
        # A page's view, not the API's: the CSRF check refuses it before the view is asked.
        ("a photo POSTed to", "POST", url(photo), [token], b"", 403),
        ("a photo DELETEd", "DELETE", url(photo), [token], b"", 403),
        ("the login page", "GET", "/login/", [], b"", 200),
        ("a login form without its CSRF token", "POST", "/login/", [FORM], b"username=a&password=b", 403),
        ("a page that does not exist", "GET", "/no/such/page/", [], b"", 404),
    ]
    for what, method, path, headers, body, status in asked:
        assert pooled.pool_for({"method": method, "path": path}) == "other", what
        ours = asgi_answer(pooled, path, method=method, headers=headers, body=body)
        theirs = asgi_answer(djangos_handler, path, method=method, headers=headers, body=body)
        assert ours[0] == status, (what, ours[:2], ours[2][:300])
        assert random_tokens_hidden(ours) == random_tokens_hidden(theirs), what
    assert not Post.objects.exists()


def random_tokens_hidden(answer):
    """The answer with its new CSRF cookie, and a form's CSRF token (random each time), written as <new>,
    and a never-cached page's Expires (now, to the second: the two answers of a pair can fall in
    different seconds) as <date>."""
    status, headers, body = new_csrf_token_hidden(answer)
    headers = [(name, b"<date>" if name == b"Expires" else value) for name, value in headers]
    return status, headers, re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"<new>", body)


def test_a_write_on_the_pool_is_stored_and_answered(pooled, make_user):
    user = make_user()
    token = ("Authorization", f"Token {token_for(user=user).key}")
    status, _, body = asgi_answer(
        pooled, "/api/posts/", method="POST", headers=[token, JSON], body=b'{"body": "written on the pool"}'
    )
    assert status == 201, body
    assert Post.objects.get(author=user).body == "written on the pool"


def test_a_pool_thread_keeps_its_database_connection_between_requests(
    pooled, djangos_handler, make_user, connections_opened
):
    """Under Django's ASGI handler each request opened a database connection (bench/RESULTS.md,
    "HTTP: every request on a kept connection")."""
    user = make_user()
    token = ("Authorization", f"Token {token_for(user=user).key}")
    with connections_opened() as by_the_pool:
        for n in range(4):
            assert asgi_answer(pooled, "/api/me/", headers=[token])[0] == 200
            body = b'{"body": "kept %d"}' % n
            assert asgi_answer(pooled, "/api/posts/", method="POST", headers=[token, JSON], body=body)[0] == 201
    with connections_opened() as by_djangos_handler:
        for _ in range(3):
            assert asgi_answer(djangos_handler, "/api/me/", headers=[token])[0] == 200
    assert 1 <= len(by_the_pool) <= 2  # one per thread of the pool, at most
    assert len(by_djangos_handler) == 3  # one per request


def test_a_pool_thread_keeps_its_database_connection_after_a_quiet_hour(make_user, monkeypatch, connections_opened):
    """Connections are kept as long as they work (CONN_MAX_AGE None, config.settings): with an age
    limit, the first request after a quiet spell longer than it opened a new one (on PostgreSQL a new
    backend, about 20 ms; bench/RESULTS.md, "HTTP: every request on a kept connection")."""
    import time
    import types

    from django.db.backends.base import base

    pooled = PooledHandler(fetch_prefixes=FETCH_PREFIXES, fetch_threads=1, threads=1)
    try:
        user = make_user()
        token = ("Authorization", f"Token {token_for(user=user).key}")
        assert asgi_answer(pooled, "/api/me/", headers=[token])[0] == 200  # the thread's connection opened

        # An hour later, as Django's connections see the time (asyncio's clock left alone).
        monkeypatch.setattr(base, "time", types.SimpleNamespace(monotonic=lambda: time.monotonic() + 3600))
        with connections_opened() as opened:
            for _ in range(3):
                assert asgi_answer(pooled, "/api/me/", headers=[token])[0] == 200
        assert opened == []
    finally:
        pooled.close()


@pytest.mark.live
@pytest.mark.skipif(connection.vendor != "postgresql", reason="counts the server's sessions: PostgreSQL's")
def test_the_live_worker_opens_no_database_session_per_request(live_daphne, alice, bob, befriend):
    """Over a live daphne, twenty REST calls, reads and sends, open at most one PostgreSQL session per
    thread of the pool (none when the threads already hold one), where Django's handler opened one
    each; and a message sent over REST from a pool thread still reaches the other member's socket."""
    from tests.live import Socket

    conversation = befriend(alice, bob)

    def sessions() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            return cursor.fetchone()[0]

    with Socket.open(live_daphne, bob) as socket:
        before = sessions()
        for n in range(10):
            assert rest(live_daphne, alice, "GET", "/api/me/").json()["username"] == "alice"
            sent = rest(
                live_daphne,
                alice,
                "POST",
                f"/api/conversations/{conversation.pk}/messages/",
                {"body": f"kept {n}", "client_id": f"kept-{n}"},
            ).json()
            assert socket.expect("message.new", skip=("presence",))["message"]["id"] == sent["id"]
        opened = sessions() - before
    assert opened <= settings.HTTP_THREADS, opened
