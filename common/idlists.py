"""Lists of ids as parameters of a prepared query (common.prepared): one parameter per id, or on
PostgreSQL one array parameter for the whole list.

When psycopg bound on the client (Django's default, before DATABASE_PREPARED_STATEMENTS), a statement
with 700 placeholders was longer than its statement cache takes, so each run split it again with a
regular expression and quoted every value (1.2 ms of CPU and 3.6 ms in all for a 700-id lookup,
against 0.1 and 1.4 ms with one array literal), and PostgreSQL parsed the 700 literals again. With
the server binding, one array parameter still makes one statement (and one prepared plan) of every
list, whatever its length. SQLite keeps its placeholders: its driver caches the
prepared statement, and binds each id in C.

    args = id_args(ids)                       # ("{3,2,1}",) on PostgreSQL, (3, 2, 1, 0, ...) elsewhere
    Post.objects.filter(ids_in("id", args))   # in a Prepared builder, which gets *args
"""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, ForeignObject, Lookup, Q

# Elsewhere each list is padded with 0 (no row has it) to one of these lengths: one statement per length.
LENGTHS = (10, 50, 100, 200, 400, 700, 1000, 2000, 5000)


class InArray(Lookup):
    """`field__in_array="{1,2,3}"`: the value is one of those of a PostgreSQL array literal (one parameter)."""

    lookup_name = "in_array"
    # The literal goes to the database as it is: the field would try to make an int of it.
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        raise NotImplementedError(f"in_array has no SQL for {connection.vendor}")

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs}::bigint[])", [*lhs_params, *rhs_params]


Field.register_lookup(InArray)
# Relations keep lookups of their own (a foreign key's column holds the related row's id).
ForeignObject.register_lookup(InArray)


def padded(ids) -> tuple[int, ...]:
    ids = tuple(ids)
    length = next((length for length in LENGTHS if length >= len(ids)), len(ids))
    return (*ids, *(0,) * (length - len(ids)))


def id_args(ids, using: str = DEFAULT_DB_ALIAS) -> tuple:
    """`ids` as the arguments of a prepared query that reads them with `ids_in`."""
    if connections[using].vendor == "postgresql":
        return ("{" + ",".join(str(int(pk)) for pk in ids) + "}",)
    return padded(ids)


def ids_in(field: str, args: tuple) -> Q:
    """`field` is one of the ids `args` stand for (`id_args`' form: one array literal, or the ids)."""
    if len(args) == 1 and isinstance(args[0], str):
        return Q(**{f"{field}__in_array": args[0]})
    return Q(**{f"{field}__in": args})
