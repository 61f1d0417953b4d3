# ruff: noqa: S608  (table names come from TABLES, never from input; every value is a parameter)
"""PostgreSQL: one table per index, `tsvector` columns with GIN indexes.

The tsvectors are written as literals (each lexeme quoted, with its positions), never through
to_tsvector: the text arrives folded and split by search.text, and PostgreSQL's parser, which
depends on the database's locale, would split CJK differently (or drop it). Queries are tsquery
literals the same way: a phrase is `'a' <-> 'b'`, a prefix `'word':*`.

"The newest N matches": for a frequent term the planner walks the primary key backwards and stops
after N matches; for a rare one it reads the GIN index and sorts the few matches (it knows which
is which from the tsvector column's statistics: ANALYZE after a bulk load, as search_rebuild does).
People are matched by prefix, which the statistics cannot tell apart: `_people` walks a bounded
stretch of the newest, then reads the index.

A term in many posts but none of the newest (on the 1M benchmark "post": in 1M posts, none of the
newest 107k) made that walk read every row until the matches began: 81 ms, where GIN cannot help,
as it cannot give its matches newest first and reading all of them for "post" took 90 ms. So each
post also carries an epoch token (`e{id // EPOCH}`) in `meta`, and one GIN index holds all three
columns, which intersects the term with an epoch by skipping through both lists (0.2 ms for an epoch
without the term): a term the statistics put in more than EPOCH_ABOVE posts is read epoch by
epoch, newest first, until `limit` match (`_by_epoch`: 9-13 ms for "post").

The GIN indexes are built without `fastupdate`: with it, new entries wait in a pending list of up
to 4 MB that every search reads from end to end until a vacuum merges it (measured on the 1M
benchmark after a bulk load: all 50,000 people pending, 10 ms for a prefix matching nobody, and the
planner, costing the list, walked the table instead). Each write updates the index in place.
"""

import time
from contextlib import contextmanager

from django.db import connection

from common.pipelined import write_rows

from ..query import Phrase, Query, Unigram
from .base import Entry, SearchBackend

TABLES = {"post": "search_post", "message": "search_message", "person": "search_person", "article": "search_article"}
# tsvector positions stop at 16383.
MAX_POSITION = 16383


def lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector(tokens: list[str], *, positions: bool) -> str:
    if not positions:
        return " ".join(lexeme(token) for token in dict.fromkeys(tokens))
    found: dict[str, list[int]] = {}
    for index, token in enumerate(tokens[:MAX_POSITION], start=1):
        found.setdefault(token, []).append(index)
    return " ".join(f"{lexeme(token)}:{','.join(map(str, spots[:256]))}" for token, spots in found.items())


def _phrase(clause: Phrase) -> str:
    parts = [lexeme(token) for token in clause.tokens]
    if clause.prefix:
        parts[-1] += ":*"
    return " <-> ".join(parts)


def tsqueries(query: Query, meta: tuple[str, ...], meta_any: tuple[str, ...]) -> dict[str, str]:
    """column → tsquery literal, for the columns the query constrains."""
    doc = [_phrase(c) for c in query.clauses if isinstance(c, Phrase)]
    uni = [lexeme(c.char) for c in query.clauses if isinstance(c, Unigram)]
    metas = [lexeme(token) for token in meta]
    if meta_any:
        metas.append("(" + " | ".join(lexeme(token) for token in meta_any) + ")")
    found = {}
    if doc:
        found["doc"] = " & ".join(f"({part})" for part in doc)
    if uni:
        found["unigrams"] = " & ".join(uni)
    if metas:
        found["meta"] = " & ".join(metas)
    return found


# Posts: ids per epoch token (changing it needs `manage.py search_rebuild --only posts`), and the
# estimated matches above which a query goes epoch by epoch.
EPOCH = 4096
EPOCH_ABOVE = 5000
# At most this many epochs are read (~1M ids, ~50 ms if none held the term): a frequent term's
# matches older than that are not reached, as matches past the newest 200 never are.
EPOCHS_READ = 256
# The planner's statistics of the index columns, as read by `_Statistics`, kept this long.
STATISTICS_SECONDS = 300.0
# Each kind's GIN indexes (posts: one over the three columns, search/migrations/0005).
INDEXES = {
    kind: [f"{table}_all"] if kind == "post" else [f"{table}_{column}" for column in ("doc", "unigrams", "meta")]
    for kind, table in TABLES.items()
}


def epoch_token(pk: int) -> str:
    return f"e{pk // EPOCH}"


class _Statistics:
    """How many rows the planner's statistics put each index token in (ANALYZE's most common
    elements; autovacuum keeps them, search_rebuild refreshes them), per database and table."""

    def __init__(self):
        self.tables: dict[tuple[str, str], tuple[float, dict[str, dict[str, float]]]] = {}

    def clear(self) -> None:
        self.tables.clear()

    def rows_with(self, table: str, wanted: dict[str, list[str]]) -> float:
        """The fewest rows any one token of `wanted` (column -> tokens, all required) is in; 0 for a
        token the statistics do not list (rarer than every one they do, or no statistics yet)."""
        columns = self._load(table)
        estimates = [columns.get(column, {}).get(token, 0.0) for column, tokens in wanted.items() for token in tokens]
        return min(estimates, default=0.0)

    def _load(self, table: str) -> dict[str, dict[str, float]]:
        key = (connection.settings_dict["NAME"], table)
        loaded = self.tables.get(key)
        if loaded and time.monotonic() - loaded[0] < STATISTICS_SECONDS:
            return loaded[1]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.reltuples, s.attname, s.most_common_elems::text::text[], s.most_common_elem_freqs "
                "FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = c.relname "
                "AND s.most_common_elems IS NOT NULL WHERE c.oid = %s::regclass",
                [table],
            )
            found = cursor.fetchall()
        columns = {
            column: {token: share * max(rows, 0.0) for token, share in zip(tokens, shares, strict=False)}
            for rows, column, tokens, shares in found
            if column is not None
        }
        self.tables[key] = (time.monotonic(), columns)
        return columns


STATISTICS = _Statistics()


def _required_tokens(query: Query, meta: tuple[str, ...]) -> dict[str, list[str]] | None:
    """column -> the exact tokens every match holds; None when a clause is a prefix (no one token)."""
    phrases = [c for c in query.clauses if isinstance(c, Phrase)]
    if any(phrase.prefix for phrase in phrases):
        return None
    return {
        "doc": [token for phrase in phrases for token in phrase.tokens],
        "unigrams": [c.char for c in query.clauses if isinstance(c, Unigram)],
        "meta": list(meta),
    }


# People: the newest this many read in id order first (a prefix typed as the first letters of a name
# matches most people, and the newest `limit` are a few rows away), then the index.
PEOPLE_WALK = 2000


class PostgresBackend(SearchBackend):
    def index(self, kind, entries: list[Entry], *, new: bool = False) -> None:
        # One statement either way (the upsert costs a new row nothing more): `new` changes nothing here.
        if not entries:
            return
        table = TABLES[kind]
        rows = [
            (
                entry.id,
                tsvector(entry.document.tokens, positions=True),
                tsvector(entry.document.unigrams, positions=False),
                tsvector([*entry.meta, epoch_token(entry.id)] if kind == "post" else list(entry.meta), positions=False),
            )
            for entry in entries
        ]
        insert = f"INSERT INTO {table} (id, doc, unigrams, meta) "
        upsert = "ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, unigrams = EXCLUDED.unigrams, meta = EXCLUDED.meta"
        with connection.cursor() as cursor:
            # Many rows (a batch of messages is indexed on every commit): one statement of four arrays.
            write_rows(
                cursor,
                rows,
                per_row=f"{insert}VALUES (%s, %s::tsvector, %s::tsvector, %s::tsvector) {upsert}",
                as_columns=f"{insert}SELECT v.id, v.doc::tsvector, v.unigrams::tsvector, v.meta::tsvector "
                f"FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) AS v(id, doc, unigrams, meta) {upsert}",
            )

    def remove(self, kind, ids) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLES[kind]} WHERE id = ANY(%s)", [list(ids)])

    def clear(self, kind) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TABLES[kind]}")

    @contextmanager
    def bulk_load(self, kind):
        """Many rows at once (search_rebuild): the pending list is far quicker for that, so it is on
        while they go in, then merged into the index and off again; then statistics for the planner."""
        table = TABLES[kind]
        indexes = INDEXES[kind]
        with connection.cursor() as cursor:
            for index in indexes:
                cursor.execute(f"ALTER INDEX {index} SET (fastupdate = on)")
        try:
            yield
        finally:  # a load stopped half-way leaves the indexes as every search wants them too
            with connection.cursor() as cursor:
                for index in indexes:
                    cursor.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
                    cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
                cursor.execute(f"ANALYZE {table}")
            STATISTICS.clear()

    def candidates(self, kind, query, *, meta=(), meta_any=(), limit, below=None):
        queries = tsqueries(query, meta, meta_any)
        if not queries:
            return []
        table = TABLES[kind]
        where = " AND ".join(f"{column} @@ %s::tsquery" for column in queries)
        params = list(queries.values())
        if below is not None:
            where += " AND id < %s"
            params.append(below)
        relevance = "ts_rank(doc, %s::tsquery, 1)" if "doc" in queries else "0.0"
        rank_params = [queries["doc"]] if "doc" in queries else []
        if kind == "person":
            return self._people(table, where, params, relevance, rank_params, limit)
        if kind == "post" and not meta_any:
            wanted = _required_tokens(query, meta)
            if wanted is not None and STATISTICS.rows_with(table, wanted) > EPOCH_ABOVE:
                return self._by_epoch(table, where, params, relevance, rank_params, limit, below)
        # The newest `limit` matches, then their rank: the planner picks between walking the primary
        # key backwards until `limit` rows match (a frequent term) and the GIN index then a top-N sort
        # (a rare one), and ts_rank reads only the rows kept.
        sql = (
            f"SELECT id, {relevance} FROM (SELECT id, doc FROM {table} WHERE {where} "
            "ORDER BY id DESC LIMIT %s) AS newest ORDER BY id DESC"
        )
        return _fetch(sql, [*rank_params, *params, limit])

    def _by_epoch(self, table, where, params, relevance, rank_params, limit, below):
        """The newest `limit` matches, epoch by epoch from the newest: a LATERAL query per epoch in
        generate_series' order (a nested loop keeps it), each epoch's matches sorted, the outer LIMIT
        stopping the loop once `limit` rows are out. No ORDER BY outside: it would run every epoch."""
        with connection.cursor() as cursor:
            if below is None:
                cursor.execute(f"SELECT max(id) FROM {table}")
                top = cursor.fetchone()[0] or 0
            else:
                top = below - 1
        rows = _fetch(
            f"SELECT id, {relevance} FROM generate_series(%s, %s, -1) AS epoch(n) "
            f"CROSS JOIN LATERAL (SELECT id, doc FROM {table} WHERE {where} AND meta @@ ('e' || epoch.n)::tsquery "
            "ORDER BY id + 0 DESC LIMIT %s) AS found LIMIT %s",
            [*rank_params, top // EPOCH, max(top // EPOCH - EPOCHS_READ + 1, 0), *params, limit, limit],
        )
        return sorted(rows, reverse=True)

    def _people(self, table, where, params, relevance, rank_params, limit):
        """A prefix's matches are estimated at a fixed share, so the planner walked the whole table for
        one matching nobody (12 ms at 50,000 people) and read the index for one matching everybody
        (45 ms for "b"). Here, in one statement: the newest PEOPLE_WALK rows in id order (a subquery
        with its own LIMIT: the match cannot be pushed into it, so it is a walk of at most that many), and
        only if they hold fewer than `limit` matches (a one-time filter, decided before that branch
        runs), the index below them (`id + 0` keeps the planner off the walk)."""
        rows = _fetch(
            f"WITH walked AS MATERIALIZED (SELECT id, doc FROM (SELECT * FROM {table} ORDER BY id DESC LIMIT %s) "
            f"AS recent WHERE {where} ORDER BY id DESC LIMIT %s) "
            f"SELECT id, {relevance} FROM walked "
            f"UNION ALL SELECT id, {relevance} FROM (SELECT id, doc FROM {table} WHERE {where} AND id < "
            f"(SELECT coalesce(min(id), 0) FROM (SELECT id FROM {table} ORDER BY id DESC LIMIT %s) AS ids) "
            "ORDER BY id + 0 DESC LIMIT %s) AS older WHERE (SELECT count(*) FROM walked) < %s",
            [PEOPLE_WALK, *params, limit, *rank_params, *rank_params, *params, PEOPLE_WALK, limit, limit],
        )
        return sorted(rows, reverse=True)[:limit]


def _fetch(sql: str, params: list) -> list[tuple[int, float]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], float(row[1])) for row in cursor.fetchall()]


def _table(table: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {table} (id bigint PRIMARY KEY, doc tsvector NOT NULL, "
        "unigrams tsvector NOT NULL, meta tsvector NOT NULL)",
        *[
            f"CREATE INDEX IF NOT EXISTS {table}_{column} ON {table} USING gin ({column}) WITH (fastupdate = off)"
            for column in ("doc", "unigrams", "meta")
        ],
    ]


def _follow(source: str, index: str, name: str, *, gone_when: str | None) -> list[str]:
    """Triggers taking rows out of `index` when their `source` row goes (or turns `gone_when`).
    TRUNCATE too: Django's test flush truncates the source tables and knows nothing of these."""
    sql = [
        f"CREATE OR REPLACE FUNCTION {name}_gone() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN DELETE FROM {index} WHERE id = OLD.id; RETURN NULL; END $$",
        f"DROP TRIGGER IF EXISTS {name}_gone ON {source}",
        f"CREATE TRIGGER {name}_gone AFTER DELETE ON {source} FOR EACH ROW EXECUTE FUNCTION {name}_gone()",
        f"CREATE OR REPLACE FUNCTION {name}_truncated() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN TRUNCATE {index}; RETURN NULL; END $$",
        f"DROP TRIGGER IF EXISTS {name}_truncated ON {source}",
        f"CREATE TRIGGER {name}_truncated AFTER TRUNCATE ON {source} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {name}_truncated()",
    ]
    if gone_when:
        sql += [
            f"DROP TRIGGER IF EXISTS {name}_hidden ON {source}",
            f"CREATE TRIGGER {name}_hidden AFTER UPDATE OF {gone_when} ON {source} FOR EACH ROW "
            f"WHEN (NEW.{gone_when} IS NOT NULL) EXECUTE FUNCTION {name}_gone()",
        ]
    return sql


# Created by search/migrations/0001 on PostgreSQL only.
SCHEMA = [
    *[statement for kind in ("post", "message", "person") for statement in _table(TABLES[kind])],
    *_follow("microblog_post", "search_post", "search_post", gone_when="deleted_at"),
    *_follow("chat_message", "search_message", "search_message", gone_when="recalled_at"),
    *_follow("accounts_user", "search_person", "search_person", gone_when=None),
]

SCHEMA_REVERSE = [
    "DROP TRIGGER IF EXISTS search_post_gone ON microblog_post",
    "DROP TRIGGER IF EXISTS search_post_truncated ON microblog_post",
    "DROP TRIGGER IF EXISTS search_post_hidden ON microblog_post",
    "DROP TRIGGER IF EXISTS search_message_gone ON chat_message",
    "DROP TRIGGER IF EXISTS search_message_truncated ON chat_message",
    "DROP TRIGGER IF EXISTS search_message_hidden ON chat_message",
    "DROP TRIGGER IF EXISTS search_person_gone ON accounts_user",
    "DROP TRIGGER IF EXISTS search_person_truncated ON accounts_user",
    *[
        f"DROP FUNCTION IF EXISTS {TABLES[index]}_{kind}()"
        for index in ("post", "message", "person")
        for kind in ("gone", "truncated")
    ],
    *[f"DROP TABLE IF EXISTS {TABLES[kind]}" for kind in ("post", "message", "person")],
]

# Created by search/migrations/0002: published articles (never unpublished), out when gone.
ARTICLE_SCHEMA = [
    *_table(TABLES["article"]),
    *_follow("articles_article", "search_article", "search_article", gone_when=None),
]

ARTICLE_SCHEMA_REVERSE = [
    "DROP TRIGGER IF EXISTS search_article_gone ON articles_article",
    "DROP TRIGGER IF EXISTS search_article_truncated ON articles_article",
    "DROP FUNCTION IF EXISTS search_article_gone()",
    "DROP FUNCTION IF EXISTS search_article_truncated()",
    "DROP TABLE IF EXISTS search_article",
]

# search/migrations/0004: indexes made before fastupdate was turned off, turned off and merged.
FASTUPDATE_OFF = [
    statement
    for kind in ("post", "message", "person", "article")
    for column in ("doc", "unigrams", "meta")
    for statement in (
        f"ALTER INDEX {TABLES[kind]}_{column} SET (fastupdate = off)",
        f"SELECT gin_clean_pending_list('{TABLES[kind]}_{column}'::regclass)",
    )
]

FASTUPDATE_OFF_REVERSE = [
    f"ALTER INDEX {TABLES[kind]}_{column} SET (fastupdate = on)"
    for kind in ("post", "message", "person", "article")
    for column in ("doc", "unigrams", "meta")
]

# search/migrations/0005: every post its epoch token, and one GIN index over the three columns in
# place of one per column (an AND across two indexes reads each term's whole list).
POST_EPOCHS = [
    "DROP INDEX IF EXISTS search_post_doc",
    "DROP INDEX IF EXISTS search_post_unigrams",
    "DROP INDEX IF EXISTS search_post_meta",
    f"UPDATE search_post SET meta = meta || ('e' || (id / {EPOCH}))::tsvector",
    "CREATE INDEX IF NOT EXISTS search_post_all ON search_post USING gin (doc, unigrams, meta) WITH (fastupdate = off)",
    "ANALYZE search_post",
]

POST_EPOCHS_REVERSE = [
    "DROP INDEX IF EXISTS search_post_all",
    *[
        f"CREATE INDEX IF NOT EXISTS search_post_{column} ON search_post USING gin ({column}) WITH (fastupdate = off)"
        for column in ("doc", "unigrams", "meta")
    ],
]
