"""Helpers for the security battery: service calls beside a browser, a browser page signed in as a user."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client


def off_the_browser_thread(function, *args, **kwargs):
    """Runs a service call in another thread.

    Once Playwright has started (a session-wide browser), its event loop runs in the test's
    thread, and a service whose events go out on commit (async_to_sync) refuses to run there.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def session_cookie(user) -> str:
    """`sessionid=<key>` for a fresh session of `user`, as logging in would set it."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture
def page_as(new_page, live_daphne):
    """A browser page whose context is signed in as the user."""

    def open_page(user):
        page = new_page()
        sessionid = session_cookie(user).split("=", 1)[1]
        page.context.add_cookies([{"name": "sessionid", "value": sessionid, "url": live_daphne.url}])
        return page

    return open_page
