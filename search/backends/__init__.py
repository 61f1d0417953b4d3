"""The index behind search, chosen by settings.SEARCH_BACKEND (as FEED_RANKER chooses the ranker).

A backend keeps three indexes, posts, messages and people, each row keyed by the id of what
it indexes, and answers "the newest `limit` ids matching this query, with a relevance".
It never decides who may see what: search.selectors passes every candidate through the
same visibility rules as every other surface.

"" (the default) picks by database: SQLite FTS5 (search.backends.sqlite) or PostgreSQL
tsvector + GIN (search.backends.postgres). A search engine (OpenSearch, say) would be one more
class with these methods, its writes queued on commit instead of made in the transaction.
"""

from functools import cache

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from .base import SearchBackend

VENDOR_BACKENDS = {
    "sqlite": "search.backends.sqlite.SqliteBackend",
    "postgresql": "search.backends.postgres.PostgresBackend",
}


@cache
def _load(path: str) -> SearchBackend:
    return import_string(path)()


def schema_operation(attribute: str):
    """A migration's operation running a backend module's SQL (`attribute`: SCHEMA, ARTICLE_SCHEMA,
    ...; undone by `attribute`_REVERSE) on the database's own backend; nothing on another database."""
    from django.db import migrations

    from . import postgres, sqlite

    def run(schema_editor, name: str) -> None:
        module = {"sqlite": sqlite, "postgresql": postgres}.get(schema_editor.connection.vendor)
        for statement in getattr(module, name) if module else []:
            schema_editor.execute(statement)

    return migrations.RunPython(
        lambda apps, schema_editor: run(schema_editor, attribute),
        lambda apps, schema_editor: run(schema_editor, f"{attribute}_REVERSE"),
    )


def backend() -> SearchBackend:
    path = settings.SEARCH_BACKEND or VENDOR_BACKENDS[connection.vendor]
    return _load(path)
