"""Shared fixtures: users and API clients, a live daphne, and Chromium through Playwright.

Tests that need PostgreSQL, Redis or a browser skip with a reason when it is missing,
and fail instead when REQUIRE_SERVICES=1 / E2E_REQUIRED=1 (as in CI).
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from .factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
WEBSOCKET_MAX_MESSAGE_SIZE = 131072  # as the Makefile runs daphne
# config.serve is daphne with read deadlines for slow clients; the Makefile's flags.
DAPHNE_FLAGS = ["--http-header-timeout", "10", "--http-body-timeout", "30"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def skip_or_fail(reason: str, required_by: str) -> None:
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason} ({required_by}=1 makes this required)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Login and sign-up counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


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
def client_for(db):
    """An APIClient signed in with the user's token, as a mobile client would be."""
    from accounts.services import token_for

    def build(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user).key}")
        return client

    return build


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url(settings_dict: dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class LiveDaphne:
    """A daphne process on a fixed port, which a test may stop and start again (a worker restart)."""

    def __init__(self, env: dict, log=None):
        self.env = env
        self.log = log  # a file for daphne's stderr (its log lines); None inherits the test's
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "config.serve", "-v", "0", "-b", "127.0.0.1", "-p", str(self.port)]
        command += ["--websocket-max-message-size", str(WEBSOCKET_MAX_MESSAGE_SIZE), *DAPHNE_FLAGS]
        self.process = subprocess.Popen([*command, "config.asgi:application"], cwd=ROOT, env=self.env, stderr=self.log)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.process.kill()
                    pytest.fail("daphne did not start")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def daphne_env() -> dict:
    """The environment of a daphne serving the test database (call with the database set up)."""
    from django.db import connection

    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(connection.settings_dict),
    }


@pytest.fixture(scope="session")
def consumer_threads_close_connections(django_db_setup):
    """For tests that run the consumer in this process: at the end of the session, the threads it
    ran database work in (asgiref's shared one, the presence one) close their connections, which
    they keep open for CONN_MAX_AGE; PostgreSQL refuses to drop a test database still in use."""
    yield
    from asgiref.sync import SyncToAsync
    from django.db import connections

    from chat.consumers import _presence_thread

    for executor in (SyncToAsync.single_thread_executor, _presence_thread):
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


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module.

    Per module, not per session: while Playwright's sync API is open it keeps an event loop
    running in the main thread, where the services' after-commit pushes (async_to_sync) then
    refuse to run; closed at the end of the module, it no longer breaks the tests that follow.
    """
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"{CHROMIUM} is not installed (apt-get install chromium)", "E2E_REQUIRED")
    # That running loop also makes Django refuse the test's own ORM calls as "async unsafe".
    # The ORM use here is the test's, not the app's.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, daphne_server):
    """Opens a page in a fresh browser context (its own cookies: one person each)."""
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
    """Makes two users contacts through the service, as accepting a request does."""
    from chat.services import contact_request_accept, contact_request_send

    def make(a, b):
        request, _ = contact_request_send(sender=a, to_username=b.username)
        return contact_request_accept(user=b, request_id=request.pk)[1]

    return make
