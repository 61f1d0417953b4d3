"""Chromium through Playwright's sync API, driven from a thread of its own.

Playwright's sync API runs an asyncio loop in the thread that opened it (in a greenlet beside the
caller's), and asyncio's "running loop" is per thread: opened in the test's thread, it makes every
later `async_to_sync` there refuse to run ("cannot use AsyncToSync in the same thread as an async
event loop") and Django call the test's own ORM use "async unsafe". Its objects are bound to that
thread too (a greenlet cannot be switched to from another thread), so they cannot simply be handed
to the test.

So one thread owns `sync_playwright()` and the browser for the whole session, and the test gets
`Remote` stand-ins: every attribute read or method call on one runs in the browser's thread and
its result comes back (Playwright objects wrapped again, exceptions raised in the test). The
test's thread never has a loop running, whatever ran before it and in whatever order.

Playwright's own `expect` takes these stand-ins (it is taught to, below).
Callbacks given to Playwright (`page.on("dialog", ...)`) run in the browser's thread and get
`Remote` arguments; calls they make on them run there directly.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class BrowserThread:
    """The one thread that talks to Playwright: it starts Chromium, then runs the calls it is given."""

    def __init__(self, executable: str = CHROMIUM, extra_args: list[str] | None = None):
        # Flags beyond CHROMIUM_ARGS, for one test module's browser (fake camera and microphone, say).
        self._extra_args = list(extra_args or [])
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future] | None] = queue.SimpleQueue()
        self._ready: Future = Future()
        self._thread = threading.Thread(target=self._serve, args=(executable,), name="playwright", daemon=True)
        self._thread.start()
        self.browser = Remote(self._ready.result(timeout=60), self)
        _let_playwright_expect_take_remotes()

    def _serve(self, executable: str) -> None:
        from playwright.sync_api import sync_playwright

        try:
            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=[*CHROMIUM_ARGS, *self._extra_args]
            )
        except BaseException as error:
            self._ready.set_exception(error)
            return
        self._ready.set_result(browser)
        try:
            while (call := self._calls.get()) is not None:
                function, answer = call
                try:
                    answer.set_result(function())
                except BaseException as error:
                    answer.set_exception(error)
        finally:
            browser.close()
            playwright.stop()

    def run(self, function: Callable[..., Any], /, *args, **kwargs) -> Any:
        """`function(*args, **kwargs)` in the browser's thread; its result, or its exception raised here."""
        if threading.current_thread() is self._thread:  # a callback Playwright runs: already there
            return function(*args, **kwargs)
        if not self._thread.is_alive():
            raise RuntimeError("the browser's thread has stopped")
        answer: Future = Future()
        self._calls.put((lambda: function(*args, **kwargs), answer))
        return answer.result()

    def close(self) -> None:
        self._calls.put(None)
        self._thread.join(timeout=30)


def _is_playwright(value: Any) -> bool:
    return type(value).__module__.startswith("playwright.")


class Remote:
    """A Playwright object that lives in the browser's thread, used from any thread."""

    __slots__ = ("_owner", "_target")

    def __init__(self, target: Any, owner: BrowserThread):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_owner", owner)

    def _wrap(self, value: Any) -> Any:
        if _is_playwright(value):
            return Remote(value, self._owner)
        if isinstance(value, list | tuple):
            return type(value)(self._wrap(item) for item in value)
        return value

    def _unwrap(self, value: Any) -> Any:
        if isinstance(value, Remote):
            return value._target
        if isinstance(value, list | tuple):
            return type(value)(self._unwrap(item) for item in value)
        if isinstance(value, dict):
            return {key: self._unwrap(item) for key, item in value.items()}
        if callable(value):  # a callback: Playwright calls it in its thread, with its own objects
            return lambda *args, **kwargs: value(*self._wrap(args), **{k: self._wrap(v) for k, v in kwargs.items()})
        return value

    def __getattr__(self, name: str) -> Any:
        value = self._owner.run(getattr, self._target, name)
        if _is_playwright(value) or not callable(value):
            return self._wrap(value)

        def call(*args, **kwargs):
            args, kwargs = self._unwrap(args), self._unwrap(kwargs)
            return self._wrap(self._owner.run(value, *args, **kwargs))

        return call

    def __setattr__(self, name: str, value: Any) -> None:
        self._owner.run(setattr, self._target, name, self._unwrap(value))

    # Dunder methods are looked up on the type, never through __getattr__.
    def __enter__(self) -> Any:
        return self._wrap(self._owner.run(self._target.__enter__))

    def __exit__(self, *exc_info) -> Any:
        return self._owner.run(self._target.__exit__, *exc_info)

    def __repr__(self) -> str:
        return f"Remote({self._owner.run(repr, self._target)})"


def _let_playwright_expect_take_remotes() -> None:
    """Playwright's `expect` (tests import it from playwright.sync_api) accepts a `Remote` page,
    locator or API response: the assertion runs in the browser's thread, and its result is a Remote."""
    from playwright.sync_api import Expect

    dispatch = Expect._dispatch
    if getattr(dispatch, "takes_remotes", False):
        return

    def remote_aware(self, actual, *args, **kwargs):
        if isinstance(actual, Remote):
            return actual._wrap(actual._owner.run(dispatch, self, actual._target, *args, **kwargs))
        return dispatch(self, actual, *args, **kwargs)

    remote_aware.takes_remotes = True
    Expect._dispatch = remote_aware
