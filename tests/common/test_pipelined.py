"""common.pipelined.commit_queued: on PostgreSQL a transaction's COMMIT goes with the pipeline's last
statements, and the atomic block around them behaves as after any commit or any error."""

import pytest
from django.db import IntegrityError, connection, connections, transaction

from common.pipelined import commit_queued, pipelined

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("psycopg's pipeline is PostgreSQL's")


def _set_name(user, name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET first_name = %s WHERE id = %s", [name, user.pk])


def _take_username(user, username: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET username = %s WHERE id = %s", [username, user.pk])


def _name_seen_elsewhere(user) -> str:
    """The user's first name as another connection reads it: only what was committed."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT first_name FROM accounts_user WHERE id = %s", [user.pk])
            return cursor.fetchone()[0]
    finally:
        other.close()


def test_the_commit_goes_when_the_pipeline_ends_and_the_block_runs_its_hooks_after(alice):
    hooks = []
    with transaction.atomic():
        transaction.on_commit(lambda: hooks.append("pushed"))
        with pipelined():
            _set_name(alice, "Otter")
            commit_queued()
        assert _name_seen_elsewhere(alice) == "Otter"  # committed before the block's own end
        assert hooks == []
    assert hooks == ["pushed"]
    # The connection goes on as usual: autocommit again, and a new transaction works.
    assert connection.get_autocommit()
    with transaction.atomic():
        _set_name(alice, "Beaver")
    assert _name_seen_elsewhere(alice) == "Beaver"


def test_a_statement_that_fails_before_the_commit_leaves_nothing_and_runs_no_hook(alice, bob):
    hooks = []

    def store():
        with transaction.atomic():
            transaction.on_commit(lambda: hooks.append("pushed"))
            with pipelined():
                _set_name(alice, "Otter")
                _take_username(alice, bob.username)  # bob's: refused
                commit_queued()

    with pytest.raises(IntegrityError):
        store()
    assert _name_seen_elsewhere(alice) == ""
    assert hooks == []
    with transaction.atomic():
        _set_name(alice, "Beaver")
    assert _name_seen_elsewhere(alice) == "Beaver"


def test_inside_another_transaction_the_commit_is_left_to_the_outermost_block(alice):
    class Undone(Exception):
        pass

    seen_before_the_outer_end = []

    def store_then_undo():
        with transaction.atomic():
            with transaction.atomic(), pipelined():
                _set_name(alice, "Otter")
                commit_queued()
            seen_before_the_outer_end.append(_name_seen_elsewhere(alice))
            raise Undone

    with pytest.raises(Undone):
        store_then_undo()
    assert seen_before_the_outer_end == [""]
    assert _name_seen_elsewhere(alice) == ""


def test_statements_before_a_read_midway_are_undone_with_a_later_failure(alice, bob):
    """The pipeline sends the transaction's BEGIN itself, with its first statements (psycopg would
    wait for it alone): a read midway waits for the statements before it, which are still part of
    the transaction that the later failure rolls back."""

    def store():
        with transaction.atomic(), pipelined():
            _set_name(alice, "Otter")
            with connection.cursor() as cursor:
                cursor.execute("SELECT first_name FROM accounts_user WHERE id = %s", [alice.pk])
                assert cursor.fetchone() == ("Otter",)
            assert _name_seen_elsewhere(alice) == ""  # not committed by the read's sync
            _take_username(alice, bob.username)  # bob's: refused
            commit_queued()

    with pytest.raises(IntegrityError):
        store()
    assert _name_seen_elsewhere(alice) == ""
    assert connection.get_autocommit() and connection.connection.autocommit


def test_a_transaction_left_open_by_the_pipeline_is_the_outer_blocks_to_end(alice):
    """Within a block that has no savepoint of its own, the pipeline's transaction is the outer
    block's: it commits or rolls back with it, and statements after the pipeline are part of it."""

    class Undone(Exception):
        pass

    def store(undo: bool):
        with transaction.atomic():
            with transaction.atomic(savepoint=False), pipelined():
                _set_name(alice, "Otter")
                commit_queued()  # not the outermost block: left to it
            with connection.cursor() as cursor:
                cursor.execute("UPDATE accounts_user SET last_name = %s WHERE id = %s", ["River", alice.pk])
            assert _name_seen_elsewhere(alice) == ""
            if undo:
                raise Undone

    with pytest.raises(Undone):
        store(undo=True)
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == ("", "")
    store(undo=False)
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == ("Otter", "River")
    assert connection.get_autocommit() and connection.connection.autocommit
