"""A word in many posts but in none of the newest is still found newest first (on PostgreSQL read
epoch by epoch: search.backends.postgres.PostgresBackend._by_epoch; on SQLite FTS5 walks its lists
newest first anyway). The epochs are made tiny here so that a few posts span many of them."""

import pytest
from django.db import connection

from search.backends import postgres
from search.backends.postgres import PostgresBackend


@pytest.fixture
def tiny_epochs(monkeypatch):
    monkeypatch.setattr(postgres, "EPOCH", 4)
    monkeypatch.setattr(postgres, "EPOCH_ABOVE", 3)
    monkeypatch.setattr("search.selectors.CANDIDATES", 5)
    epochs_read = []
    by_epoch = PostgresBackend._by_epoch

    def counted(self, *args, **kwargs):
        epochs_read.append(args)
        return by_epoch(self, *args, **kwargs)

    monkeypatch.setattr(PostgresBackend, "_by_epoch", counted)
    yield epochs_read
    postgres.STATISTICS.clear()


def _analyzed():
    """The planner's statistics, which say which words are frequent (autovacuum's job in real life)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_post")
        postgres.STATISTICS.clear()


def test_a_word_absent_from_the_newest_posts_finds_its_newest_matches(tiny_epochs, post, found, make_user, api):
    alice, bob = make_user(username="alice"), make_user(username="bob")
    coffee = [post(alice if n % 2 else bob, f"coffee and cake {n}") for n in range(14)]
    for n in range(11):
        post(bob, f"只喝茶 tea only {n}")
    _analyzed()

    newest_coffee = {p.pk for p in coffee[-5:]}
    assert set(found("coffee")) == newest_coffee
    assert set(found('"coffee and"')) == newest_coffee
    assert set(found("from:alice coffee")) == {p.pk for p in [p for p in coffee if p.author == alice][-5:]}
    signed_in = api.__class__()
    signed_in.force_authenticate(alice)
    assert set(found("coffee", as_client=signed_in)) == newest_coffee
    assert found("tea coffee") == []
    if connection.vendor == "postgresql":
        assert tiny_epochs, "the frequent word was not read epoch by epoch"


def test_a_rare_word_and_a_prefix_take_the_index_as_before(tiny_epochs, post, found, make_user):
    alice = make_user(username="alice")
    posts = [post(alice, f"coffee number {n}") for n in range(10)]
    quokka = post(alice, "a quokka smiled")
    for n in range(8):
        post(alice, f"tea {n}")
    _analyzed()

    assert found("quokka") == [quokka.pk]
    assert set(found("coff*")) == {p.pk for p in posts[-5:]}
    assert not tiny_epochs


def test_on_postgresql_the_epochs_read_are_bounded(tiny_epochs, monkeypatch, post, found, make_user):
    """A frequent word whose posts are all older than the epochs read is not reached (as any match
    past the newest 200 is not): the cost of a query stays bounded whatever the corpus."""
    if connection.vendor != "postgresql":
        from tests.conftest import skip_or_fail

        skip_or_fail("PostgreSQL's epochs (FTS5 reads its lists newest first)", "REQUIRE_SERVICES")
    monkeypatch.setattr(postgres, "EPOCHS_READ", 3)
    alice = make_user(username="alice")
    coffee = [post(alice, f"coffee and cake {n}") for n in range(12)]
    tea = [post(alice, f"只喝茶 tea only {n}") for n in range(9)]
    _analyzed()

    # Epochs of 4 ids, the newest three read: the tea and the newest few ids before it.
    newest_epoch = tea[-1].pk // 4
    reached = [p.pk for p in coffee if p.pk // 4 > newest_epoch - 3]
    assert len(reached) < 5  # some coffee beyond the bound, fewer than a page within it
    assert set(found("coffee")) == set(reached)
    assert tiny_epochs
    monkeypatch.setattr(postgres, "EPOCHS_READ", 100)
    assert set(found("coffee")) == {p.pk for p in coffee[-5:]}
