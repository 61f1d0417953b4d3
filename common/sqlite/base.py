"""Django's SQLite backend, with each statement's placeholders converted once, not on every run.

Django writes `%s` placeholders and its SQLite cursor turns them into sqlite3's `?` with a regular
expression on every `execute`: a tenth of the CPU of a chat send on the embedded default
(bench/RESULTS.md, "Chat: the idle floor, fourth pass"), for statements that are mostly the same
few strings again and again. Settings name this module as the engine wherever SQLite is used.
"""

from functools import lru_cache

from django.db.backends.sqlite3 import base


@lru_cache(maxsize=2048)
def _qmark_style(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark_style(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)
