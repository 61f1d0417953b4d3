"""Django's ASGI handler, with every request answered in one hop to a pool of threads.

Under ASGI, Django runs a request to a synchronous view in three thread hops: the synchronous
middleware in a thread made for the request, back to the event loop for the innermost
middleware adapter, and into the thread again for the view. Each request gets a new thread,
so also a new database connection (Django's connections live in thread- and context-local
storage: CONN_MAX_AGE keeps nothing across ASGI requests). On PostgreSQL a new connection and a
new backend's cold caches cost a small request about 20 ms, more than its queries
(bench/RESULTS.md, "HTTP: every request on a kept connection"); for a photo fetch whose check is
a few small queries, that was most of the worker's time ("## Media").

`PooledHandler` answers each request the way a threaded WSGI server would: the same middleware,
the same view, through Django's synchronous handler (`BaseHandler.load_middleware(is_async=False)`),
in one hop to a thread of a pool whose threads live as long as the process. Each keeps its
database connection between requests, checked at the start and end of each as under WSGI
(`request_started` and `request_finished`, so CONN_MAX_AGE and CONN_HEALTH_CHECKS apply).

Two pools: GET and HEAD under `fetch_prefixes` (photo fetches, feed pages, searches: read-mostly,
asked many at once by one page) have threads of their own, so that a few slow requests of the
rest (an upload processed in the request on the embedded default, say) never hold them up. The
hop is asgiref's `SyncToAsync` with the pool as its executor, so a view's `async_to_sync` (a push
to the channel layer after commit) runs in the worker's event loop, as under Django's handler.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from asgiref.sync import SyncToAsync
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import connections
from django.http import FileResponse
from django.urls import set_script_prefix

FETCH_METHODS = frozenset({"GET", "HEAD"})
# What config.asgi answers on the fetch pool: photo fetches, feed pages and searches.
FETCH_PREFIXES = ("/media/", "/api/feed/", "/api/search/")


@dataclass(frozen=True)
class Pool:
    """A pool's threads, how many, and the hops into them, wrapped once (not once a request)."""

    executor: ThreadPoolExecutor
    size: int
    respond: SyncToAsync
    close_response: SyncToAsync


class PooledHandler(ASGIHandler):
    def __init__(self, *, fetch_prefixes: tuple[str, ...], fetch_threads: int, threads: int):
        super().__init__()
        self.fetch_prefixes = tuple(fetch_prefixes)
        # The same middleware, built for synchronous calls: what Django's WSGI handler runs.
        self.sync_handler = BaseHandler()
        self.sync_handler.load_middleware(is_async=False)
        self.pools = {
            "fetch": self.make_pool(fetch_threads, thread_name_prefix="http-fetch"),
            "other": self.make_pool(threads, thread_name_prefix="http"),
        }

    def make_pool(self, size: int, thread_name_prefix: str) -> Pool:
        executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=thread_name_prefix)
        return Pool(
            executor=executor,
            size=size,
            respond=SyncToAsync(self.respond, thread_sensitive=False, executor=executor),
            close_response=SyncToAsync(self.close_response, thread_sensitive=False, executor=executor),
        )

    def pool_for(self, scope) -> str:
        """`fetch` for a GET or HEAD under the fetch prefixes, `other` for any other request."""
        fetch = scope["method"] in FETCH_METHODS and scope["path"].startswith(self.fetch_prefixes)
        return "fetch" if fetch else "other"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)  # Django's own refusal
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        pool = self.pools[self.pool_for(scope)]
        try:
            response = await pool.respond(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    # A streamed file is closed after its last block; request_finished with it.
                    await pool.close_response(response)
        finally:
            body_file.close()

    def respond(self, scope, body_file):
        """In a pool thread: the request as a threaded WSGI server runs it (signals included)."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.sync_handler.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            # Its bytes are in hand: request_finished now, in the thread that holds the connection.
            response.close()
        return response

    @staticmethod
    def close_response(response) -> None:
        response.close()

    def close(self) -> None:
        """Closes each pool thread's database connections and stops the pools (tests, shutdown)."""
        for pool in self.pools.values():
            barrier = threading.Barrier(pool.size)

            def close_here(barrier=barrier):
                # Every thread takes one: the barrier holds each until all have, so none runs twice.
                barrier.wait(timeout=10)
                connections.close_all()

            for future in [pool.executor.submit(close_here) for _ in range(pool.size)]:
                future.result(timeout=15)
            pool.executor.shutdown()
