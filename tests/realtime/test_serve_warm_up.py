"""config.serve's warm-up, done before the worker listens: every socket's task then shares the
caches made there (with Redis, one connection pool for the worker, not one per socket), and what
start-up made is out of the garbage collector's way."""

import asyncio
import contextvars
import gc

import pytest
from django.core.cache import caches

from config import serve


async def caches_seen_by_two_sockets():
    async def in_a_socket_task():
        return caches["default"]

    return await asyncio.gather(asyncio.create_task(in_a_socket_task()), asyncio.create_task(in_a_socket_task()))


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_after_the_warm_up_every_socket_task_uses_the_caches_made_before_it(restored_gc):
    worker = contextvars.Context()  # a worker's main context, before anything made a cache in it
    worker.run(serve._warm_up)

    first, second = worker.run(asyncio.run, caches_seen_by_two_sockets())

    assert first is second is worker.run(lambda: caches["default"])
    assert gc.get_freeze_count() > 0


def test_without_it_each_socket_task_would_make_its_own():
    # What the warm-up is for: Django keeps a cache object per context.
    first, second = contextvars.Context().run(asyncio.run, caches_seen_by_two_sockets())

    assert first is not second
