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


# BM25's term-frequency saturation and length normalisation (FTS5's own constants).
BM25_K1 = 1.2
BM25_B = 0.75
AVERAGE_TOKENS = 24  # about a seeded post's; only relative lengths matter among one query's candidates


def _occurrences(tokens: list[str], phrase: Phrase) -> int:
    """How many times the phrase's tokens stand in a row in `tokens` (the last as a prefix when asked)."""
    wanted, size, found = phrase.tokens, len(phrase.tokens), 0
    for start in range(len(tokens) - size + 1):
        window = tokens[start : start + size]
        if window[:-1] == list(wanted[:-1]) and (
            window[-1].startswith(wanted[-1]) if phrase.prefix else window[-1] == wanted[-1]
        ):
            found += 1
    return found


def relevance(tokens: list[str], phrases: list[Phrase]) -> float:
    """BM25 of one candidate without its IDF: FTS5's bm25() finds each term's document count by
    reading the term's whole posting list (19.9 ms for a word in every one of a million posts,
    against 0.07 ms for its 200 newest matches), and every candidate of a query holds every term
    anyway. 1 + the sum over the phrases of tf(k1 + 1) / (tf + k1(1 - b + b·length/average))."""
    normal = BM25_K1 * (1 - BM25_B + BM25_B * len(tokens) / AVERAGE_TOKENS)
    score = 1.0
    for phrase in phrases:
        tf = _occurrences(tokens, phrase)
        score += tf * (BM25_K1 + 1) / (tf + normal)
    return score


class SqliteBackend(SearchBackend):
    def index(self, kind, entries: list[Entry], *, new: bool = False) -> None:
        if not entries:
            return
        table = TABLES[kind]
        with connection.cursor() as cursor:
            if not new:  # a statement a message's send would pay for nothing (an FTS5 rowid is unique)
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
        under, params = ("AND rowid < %s", [expression, below]) if below is not None else ("", [expression])
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, doc FROM {table} WHERE {table} MATCH %s {under} ORDER BY rowid DESC LIMIT %s",
                [*params, limit],
            )
            rows = cursor.fetchall()
        phrases = [clause for clause in query.clauses if isinstance(clause, Phrase)]
        return [(rowid, relevance(doc.split(" "), phrases) if query.has_text else 0.0) for rowid, doc in rows]


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

# search/migrations/0004 and 0005 are PostgreSQL's alone (its GIN indexes).
FASTUPDATE_OFF: list[str] = []
FASTUPDATE_OFF_REVERSE: list[str] = []
POST_EPOCHS: list[str] = []
POST_EPOCHS_REVERSE: list[str] = []
