"""What a search backend does; `NullBackend` indexes and finds nothing (benchmarks' baseline)."""

from contextlib import contextmanager
from dataclasses import dataclass

from ..query import Query
from ..text import Document

# The four indexes.
POSTS = "post"
MESSAGES = "message"
PEOPLE = "person"
ARTICLES = "article"


@dataclass(frozen=True)
class Entry:
    id: int
    document: Document
    meta: tuple[str, ...] = ()  # author, conversation, tag and audience tokens (search.query)


class SearchBackend:
    def index(self, kind: str, entries: list[Entry], *, new: bool = False) -> None:
        """Adds (or replaces) these rows, in the caller's transaction. `new`: rows inserted in this
        transaction, so none can be in the index yet (an id is never used twice: SQLite's
        AUTOINCREMENT, PostgreSQL's sequences) and there is nothing to replace. Not for
        search_rebuild: a row stored while it runs is indexed by its own transaction too."""
        raise NotImplementedError

    def remove(self, kind: str, ids: list[int]) -> None:
        raise NotImplementedError

    def clear(self, kind: str) -> None:
        raise NotImplementedError

    @contextmanager
    def bulk_load(self, kind: str):
        """Around many `index` calls in a row (search_rebuild): whatever makes them quicker, undone after."""
        yield

    def candidates(
        self,
        kind: str,
        query: Query,
        *,
        meta: tuple[str, ...] = (),
        meta_any: tuple[str, ...] = (),
        limit: int,
        below: int | None = None,
    ) -> list[tuple[int, float]]:
        """(id, relevance) of the newest `limit` rows (ids under `below`, when given) matching every
        clause of `query`, every token of `meta` and, when given, one of `meta_any`; newest (highest id)
        first. Relevance: larger is better."""
        raise NotImplementedError


class NullBackend(SearchBackend):
    def index(self, kind, entries, *, new=False):
        pass

    def remove(self, kind, ids):
        pass

    def clear(self, kind):
        pass

    def candidates(self, kind, query, *, meta=(), meta_any=(), limit, below=None):
        return []
