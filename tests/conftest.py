"""Shared fixtures: users and API clients, a live daphne, and Chromium through Playwright.

Tests that need PostgreSQL, Redis or a browser skip with a reason when it is missing,
and fail instead when REQUIRE_SERVICES=1 / E2E_REQUIRED=1 (as in CI).
"""

import contextlib
import gc
import os
import time

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.backends.signals import connection_created
from rest_framework.test import APIClient

from . import factories
from .browser import CHROMIUM
from .factories import PASSWORD, UserFactory
from .live import LiveDaphne, Socket, daphne_env


def skip_or_fail(reason: str, required_by: str) -> None:
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason} ({required_by}=1 makes this required)")
    pytest.skip(reason)


_execute_sql_flush = BaseDatabaseOperations.execute_sql_flush


def _execute_sql_flush_retrying(self, sql_list):
    """Emptying the tables after a live-server test, again if PostgreSQL chose it as a deadlock's
    victim: a daphne still finishing a closed socket's work (presence, a read marker) can hold one
    table while the TRUNCATE holds another. The TRUNCATE is all or nothing, so trying it again is safe."""
    for attempt in range(5):
        try:
            return _execute_sql_flush(self, sql_list)
        except OperationalError as error:
            if "deadlock" not in str(error) or attempt == 4:
                raise
            time.sleep(0.2)


BaseDatabaseOperations.execute_sql_flush = _execute_sql_flush_retrying


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login and sign-up counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _close_sockets():
    """Sockets a test left open are closed when it ends, not whenever they are collected."""
    yield
    for socket in list(Socket.still_open):
        socket.close()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_user(db):
    return UserFactory


@pytest.fixture
def alice(make_user):
    return make_user(username="alice")


@pytest.fixture
def bob(make_user):
    return make_user(username="bob")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def djangos_handler():
    """Django's own ASGI handler. Each request it answers opens a connection in a thread made for
    it, which is gone when the request is: collected here, those connections close (PostgreSQL
    refuses to drop a test database still in use)."""
    from django.core.handlers.asgi import ASGIHandler

    yield ASGIHandler()
    gc.collect()


@pytest.fixture
def connections_opened():
    """`with connections_opened() as opened:` lists the database connections opened meanwhile, by
    any thread (a pool's, a handler's): what keeping connections is checked by."""

    @contextlib.contextmanager
    def counting():
        opened = []

        def count(sender, connection, **kwargs):
            opened.append(connection)

        connection_created.connect(count)
        try:
            yield opened
        finally:
            connection_created.disconnect(count)

    return counting


@pytest.fixture
def client_for(db):
    """An APIClient signed in with the user's token, as a mobile client would be."""
    from accounts.services import token_for

    def build(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user).key}")
        return client

    return build


@pytest.fixture(scope="session")
def consumer_threads_close_connections(django_db_setup):
    """For tests that run the consumer in this process: at the end of the session, the threads it
    ran database work in (asgiref's shared one, the presence one, the chat writer's) close their
    connections, which they keep open; PostgreSQL refuses to drop a test database
    still in use."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    from chat.writer import writer_thread
    from common.hops import connect_thread

    for executor in (SyncToAsync.single_thread_executor, connect_thread, writer_thread):
        executor.submit(connections.close_all).result(timeout=10)


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker):
    """A real daphne process serving config.asgi on the test database.

    Tests that use it need `transactional_db` (or `django_db(transaction=True)`), so
    what they write is committed and visible to the other process.
    """
    server = LiveDaphne(daphne_env())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_daphne(daphne_server):
    """The live daphne, started again if an earlier test stopped it."""
    if daphne_server.process is None:
        daphne_server.start()
    yield daphne_server
    if daphne_server.process is None:
        daphne_server.start()


@pytest.fixture(scope="session")
def browser():
    """Chromium for the whole session, driven from a thread of its own (tests/browser.py): the
    test's thread never has Playwright's event loop running, so what runs after a browser test,
    in any order, may use async_to_sync and the ORM as usual."""
    yield from chromium()


def chromium(extra_args=()):
    """Yields a Chromium on its own Playwright thread, closed after: the session's `browser`, and
    modules' own browsers with more switches (a fake microphone and camera, say)."""
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"{CHROMIUM} is not installed (apt-get install chromium)", "E2E_REQUIRED")
    from .browser import BrowserThread

    owner = BrowserThread(CHROMIUM, extra_args=tuple(extra_args))
    yield owner.browser
    owner.close()


@pytest.fixture
def new_page(browser, daphne_server, transactional_db):
    """Opens a page in a fresh browser context (its own cookies: one person each).

    After the database (`transactional_db`), so the pages close before the tables are emptied: a
    page still open let the daphne write (a read marker, presence) while PostgreSQL truncated the
    tables, and the two deadlocked."""
    contexts = []

    def open_page():
        context = browser.new_context(base_url=daphne_server.url, viewport={"width": 390, "height": 844})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def befriend(db):
    """`befriend(a, b)`: contacts as people become them, a's request accepted by b (the service,
    its events included); returns their direct conversation. For the two rows alone, without a
    request or a conversation, tests/microblog has `contact_rows`."""
    return factories.befriend
