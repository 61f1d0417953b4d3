"""Shared by the browser tests: running services off Playwright's thread, and contacts made that way."""

from concurrent.futures import ThreadPoolExecutor

import pytest


def off_thread(function, *args, **kwargs):
    """Services that push run off this thread: Playwright's event loop runs here."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


@pytest.fixture
def contacts(befriend):
    return lambda a, b: off_thread(befriend, a, b)
