"""Django's ASGI handler, with the requests of some paths answered in one hop to a pool of threads.

Under ASGI, Django runs a request to a synchronous view in three thread hops: the synchronous
middleware in a thread made for the request, back to the event loop for the innermost
middleware adapter, and into the thread again for the view. Each request gets a new thread,
so also a new database connection (Django's connections live in thread- and context-local
storage: CONN_MAX_AGE keeps nothing across ASGI requests). For a photo fetch whose check is a
few small queries, that is most of the worker's time (bench/RESULTS.md, "## Media").

`PooledPathsHandler` answers GET and HEAD requests under the given path prefixes the way a
threaded WSGI server would: the same middleware, the same view, through Django's synchronous
handler (`BaseHandler.load_middleware(is_async=False)`), in one hop to a thread of a small
pool whose threads live as long as the process. Each keeps its database connection between
requests, checked at the start and end of each as under WSGI (`request_started` and
`request_finished`, so CONN_MAX_AGE and CONN_HEALTH_CHECKS apply). Every other request goes
through Django's ASGI handler unchanged.
"""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.db import connections
from django.http import FileResponse
from django.urls import set_script_prefix

POOLED_METHODS = frozenset({"GET", "HEAD"})
# What config.asgi pools: photo fetches, feed pages and searches (read-mostly, asked all the time).
POOLED_PREFIXES = ("/media/", "/api/feed/", "/api/search/")


class PooledPathsHandler(ASGIHandler):
    def __init__(self, prefixes: tuple[str, ...], threads: int):
        super().__init__()
        self.prefixes = tuple(prefixes)
        # The same middleware, built for synchronous calls: what Django's WSGI handler runs.
        self.sync_handler = BaseHandler()
        self.sync_handler.load_middleware(is_async=False)
        self.threads = threads
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pooled-http")

    def pooled(self, scope) -> bool:
        return scope["type"] == "http" and scope["method"] in POOLED_METHODS and scope["path"].startswith(self.prefixes)

    async def __call__(self, scope, receive, send):
        if not self.pooled(scope):
            return await super().__call__(scope, receive, send)
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(self.executor, self.respond, scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    # A streamed file is closed after its last block; request_finished with it.
                    await loop.run_in_executor(self.executor, response.close)
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

    def close(self) -> None:
        """Closes each pool thread's database connections and stops the pool (tests, shutdown)."""
        barrier = threading.Barrier(self.threads)

        def close_here():
            # Every thread takes one: the barrier holds each until all have, so none runs twice.
            barrier.wait(timeout=10)
            connections.close_all()

        for future in [self.executor.submit(close_here) for _ in range(self.threads)]:
            future.result(timeout=15)
        self.executor.shutdown()
