# ruff: noqa: S608  (table names come from TABLES, never from input; every value is a parameter)
"""SQLite FTS5: one virtual table per index, its rowid the indexed row's id.

Columns: `doc` (words and CJK bigrams in text order, so phrases work), `unigrams` (each CJK
character once) and `meta` (author, conversation, tag and audience tokens). The text arrives
folded and split by search.text, so the tokenizer only splits on the spaces between tokens;
unicode61 with diacritics kept, so it changes nothing search.text made. FTS5 walks a match in
descending rowid order without sorting, so "the newest 500 matches" reads 500 entries, not all.
"""

from django.db import connection

from ..query import Phrase, Query, Unigram
from .base import Entry, SearchBackend

TABLES = {
    "post": "search_post_fts",
    "message": "search_message_fts",
    "person": "search_person_fts",
    "article": "search_article_fts",
}


def _quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _clause(clause: Phrase | Unigram) -> str:
    if isinstance(clause, Unigram):
        return f"unigrams : {_quoted(clause.char)}"
    phrase = '"' + " ".join(token.replace('"', '""') for token in clause.tokens) + '"'
    return f"doc : {phrase}{' *' if clause.prefix else ''}"


def match_expression(query: Query, meta: tuple[str, ...], meta_any: tuple[str, ...]) -> str:
    parts = [_clause(clause) for clause in query.clauses]
    parts += [f"meta : {_quoted(token)}" for token in meta]
    if meta_any:
        parts.append("meta : (" + " OR ".join(_quoted(token) for token in meta_any) + ")")
    return " AND ".join(parts)


class SqliteBackend(SearchBackend):
    def index(self, kind, entries: list[Entry]) -> None:
        if not entries:
            return
        table = TABLES[kind]
        with connection.cursor() as cursor:
            cursor.executemany(f"DELETE FROM {table} WHERE rowid = %s", [(entry.id,) for entry in entries])
            cursor.executemany(
                f"INSERT INTO {table} (rowid, doc, unigrams, meta) VALUES (%s, %s, %s, %s)",
                [(entry.id, entry.document.doc, entry.document.uni, " ".join(entry.meta)) for entry in entries],
            )

    def remove(self, kind, ids) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(f"DELETE FROM {TABLES[kind]} WHERE rowid = %s", [(pk,) for pk in ids])

    def clear(self, kind) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLES[kind]}")

    def candidates(self, kind, query, *, meta=(), meta_any=(), limit, below=None):
        expression = match_expression(query, meta, meta_any)
        if not expression:
            return []
        table = TABLES[kind]
        # bm25 is smaller for better matches (negative); the meta column does not count towards it.
        relevance = f"-bm25({table}, 1.0, 1.0, 0.0)" if query.has_text else "0.0"
        under, params = ("AND rowid < %s", [expression, below]) if below is not None else ("", [expression])
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, {relevance} FROM {table} WHERE {table} MATCH %s {under} ORDER BY rowid DESC LIMIT %s",
                [*params, limit],
            )
            return [(row[0], float(row[1])) for row in cursor.fetchall()]


def _fts_table(table: str, prefixes: str) -> str:
    return (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
        f"doc, unigrams, meta, tokenize = 'unicode61 remove_diacritics 0', prefix = '{prefixes}')"
    )


# Created by search/migrations/0001 on SQLite. The triggers take a row out of the index the
# moment its post is deleted (emptied) or gone, its message recalled or gone, its person gone:
# whatever path made the change.
SCHEMA = [
    # Prefix indexes: 3 letters for posts and messages (shorter words match exactly, search.query),
    # 1 to 3 for people, whose names are matched as they are typed.
    _fts_table(TABLES["post"], "3"),
    _fts_table(TABLES["message"], "3"),
    _fts_table(TABLES["person"], "1 2 3"),
    "CREATE TRIGGER IF NOT EXISTS search_post_deleted AFTER UPDATE OF deleted_at ON microblog_post "
    "WHEN new.deleted_at IS NOT NULL BEGIN DELETE FROM search_post_fts WHERE rowid = new.id; END",
    "CREATE TRIGGER IF NOT EXISTS search_post_gone AFTER DELETE ON microblog_post "
    "BEGIN DELETE FROM search_post_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS search_message_recalled AFTER UPDATE OF recalled_at ON chat_message "
    "WHEN new.recalled_at IS NOT NULL BEGIN DELETE FROM search_message_fts WHERE rowid = new.id; END",
    "CREATE TRIGGER IF NOT EXISTS search_message_gone AFTER DELETE ON chat_message "
    "BEGIN DELETE FROM search_message_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS search_person_gone AFTER DELETE ON accounts_user "
    "BEGIN DELETE FROM search_person_fts WHERE rowid = old.id; END",
]

SCHEMA_REVERSE = [
    "DROP TRIGGER IF EXISTS search_post_deleted",
    "DROP TRIGGER IF EXISTS search_post_gone",
    "DROP TRIGGER IF EXISTS search_message_recalled",
    "DROP TRIGGER IF EXISTS search_message_gone",
    "DROP TRIGGER IF EXISTS search_person_gone",
    *[f"DROP TABLE IF EXISTS {TABLES[kind]}" for kind in ("post", "message", "person")],
]

# Created by search/migrations/0002: published articles (a draft is never indexed; articles are
# never unpublished), out of the index the moment the article is gone.
ARTICLE_SCHEMA = [
    _fts_table(TABLES["article"], "3"),
    "CREATE TRIGGER IF NOT EXISTS search_article_gone AFTER DELETE ON articles_article "
    "BEGIN DELETE FROM search_article_fts WHERE rowid = old.id; END",
]

ARTICLE_SCHEMA_REVERSE = [
    "DROP TRIGGER IF EXISTS search_article_gone",
    f"DROP TABLE IF EXISTS {TABLES['article']}",
]
