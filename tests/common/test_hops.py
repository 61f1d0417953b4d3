"""common.hops: a socket's hops into the database threads check a kept connection at most once a
second, and a connection that broke while idle longer than that is replaced before it is used."""

import time

import pytest
from asgiref.sync import async_to_sync
from django.db import connection

from common import hops


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("consumer_threads_close_connections")
def test_a_connection_that_broke_while_idle_is_replaced_without_an_error(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("ends a connection from the server's side: PostgreSQL only")
    monkeypatch.setattr(hops, "HEALTHY_FOR", 0.05)
    # The connect thread's own connection (a hop into the shared thread would, in a test, run in
    # this very thread, on the connection that ends the other).
    backend_pid = hops.in_connect_thread(_backend_pid)
    first = async_to_sync(backend_pid)()
    with connection.cursor() as cursor:  # the server ends the kept connection (a restart, say)
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
    time.sleep(0.2)  # idle longer than HEALTHY_FOR: checked before the next query, and replaced
    second = async_to_sync(backend_pid)()
    assert second != first
    # And a hop soon after a check is not checked again, but still answers.
    assert async_to_sync(backend_pid)() == second
