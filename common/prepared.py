"""A query the ORM builds and compiles once, then runs again with other values.

Building and compiling a queryset is most of what a small query costs: for the audience of a
post (`PostQuerySet.visible_to`, a dozen nested conditions) about 4 ms of Python, for 0.05 ms
in the database. A path that asks the same question many times a second (each photo fetch's
check, media.views) can ask it through `Prepared`:

    @Prepared
    def visible_post(viewer_id: int, post_id: int):
        return Post.objects.visible_to(User(pk=viewer_id)).filter(pk=post_id).values_list("pk", flat=True)

    visible_post(viewer.pk, post.pk)   # -> [post.pk] or []

The first call for a database builds the queryset with stand-in values (one per argument, of
the argument's type: int, str or an aware datetime) and keeps its SQL, its parameters and where
the stand-ins went in them (a datetime in the form the database takes it). Each call then puts
its own values there and runs that SQL: the very statement the ORM would have built for these
values, and rows converted as the ORM converts them.

That holds only when the arguments reach the query as parameters, unchanged. Preparing refuses
(ValueError) when one does not: a stand-in missing from the parameters (used in Python to pick
the query's shape, or dropped by a lookup), changed on its way (`contains` wraps a string in
%...%), or written into the SQL text; and it refuses a builder that runs a query (it would
freeze the answer). Arguments that choose the shape (a signed-in viewer or nobody) get a
Prepared of their own. Only values_list querysets: rows come back as tuples, or values with
flat=True.
"""

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import connections
from django.db.models.query import FlatValuesListIterable, QuerySet, ValuesListIterable

from common.pipelined import asked

# Stand-ins: within a 32-bit column's range (Django drops an out-of-range integer lookup), and
# unlike any constant a query of Tandem's holds.
INT_STAND_IN = 2_147_418_112
STR_STAND_IN = "\x1fprepared-stand-in-{}\x1f"
DATETIME_STAND_IN = datetime(1971, 2, 3, 4, 5, 6, 700000, tzinfo=UTC)


class _Template:
    def __init__(self, queryset: QuerySet, stand_ins: tuple):
        if queryset._iterable_class not in (ValuesListIterable, FlatValuesListIterable):
            raise ValueError("Prepared takes values_list() querysets only")
        self.alias = queryset.db
        # A datetime reaches the parameters as the database takes it (on SQLite a string):
        # its stand-in is looked for in that form, and each call's value put in that form.
        adapt = connections[self.alias].ops.adapt_datetimefield_value
        self.adapters = {which: adapt for which, value in enumerate(stand_ins) if isinstance(value, datetime)}
        stand_ins = tuple(adapt(value) if which in self.adapters else value for which, value in enumerate(stand_ins))
        self.flat = queryset._iterable_class is FlatValuesListIterable
        self.compiler = queryset.query.get_compiler(using=self.alias)
        self.sql, params = self.compiler.as_sql()
        self.params = list(params)
        self.converters = self.compiler.get_converters([s[0] for s in self.compiler.select[: self.compiler.col_count]])
        # (where in the parameters, which argument, the parameter's own type). The type is kept: on
        # PostgreSQL a bigint column's value comes as psycopg's Int8 (an int), which binds it as int8.
        self.slots: list[tuple[int, int, type]] = []
        for at, param in enumerate(self.params):
            for which, stand_in in enumerate(stand_ins):
                if isinstance(param, type(stand_in)) and not isinstance(param, bool) and param == stand_in:
                    self.slots.append((at, which, type(param)))
                elif isinstance(param, str) and str(stand_in) in param:
                    raise ValueError(f"argument {which} reaches the query changed ({param!r})")
        for which, stand_in in enumerate(stand_ins):
            if str(stand_in) in self.sql:
                raise ValueError(f"argument {which} is written into the SQL, not passed as a parameter")
            if all(slot[1] != which for slot in self.slots):
                raise ValueError(f"argument {which} is not a parameter of the query")

    def ask(self, args: tuple) -> Callable[[], list]:
        params = list(self.params)
        if self.adapters:
            args = tuple(self.adapters[which](arg) if which in self.adapters else arg for which, arg in enumerate(args))
        for at, which, kind in self.slots:
            params[at] = args[which] if type(args[which]) is kind else kind(args[which])
        read = asked(self.sql, params, using=self.alias)
        return lambda: self._converted(read())

    def _converted(self, rows: list) -> list:
        if self.converters:
            # The preparing thread's converters: they read settings (USE_TZ, TIME_ZONE), never its database.
            rows = self.compiler.apply_converters(rows, self.converters)
        if self.flat:
            return [row[0] for row in rows]
        return [tuple(row) for row in rows]


def _stand_in(kind: type, position: int):
    if kind is int:
        return INT_STAND_IN + 7 * position
    if kind is str:
        return STR_STAND_IN.format(position)
    if kind is datetime:
        return DATETIME_STAND_IN + timedelta(microseconds=position)
    raise TypeError(f"Prepared takes int, str and (aware) datetime arguments, not {kind.__name__}")


def _refuse_queries(execute, sql, params, many, context):
    raise ValueError("the builder of a Prepared query ran a query while building it")


class Prepared:
    def __init__(self, build: Callable[..., QuerySet]):
        self.build = build
        self._templates: dict[tuple, _Template] = {}
        self._lock = threading.Lock()

    def _template(self, kinds: tuple[type, ...]) -> _Template:
        with self._lock:
            template = self._templates.get(kinds)
            if template is None:
                stand_ins = tuple(_stand_in(kind, position) for position, kind in enumerate(kinds))
                with contextlib.ExitStack() as refusing:
                    for connection in connections.all():
                        refusing.enter_context(connection.execute_wrapper(_refuse_queries))
                    template = _Template(self.build(*stand_ins), stand_ins)
                self._templates[kinds] = template
            return template

    def __call__(self, *args) -> list:
        return self.ask(*args)()

    def ask(self, *args) -> Callable[[], list]:
        """Runs the query and returns the function that reads its rows (common.pipelined.asked):
        inside `pipelined`, what follows goes out with it."""
        kinds = tuple(datetime if isinstance(arg, datetime) else type(arg) for arg in args)
        template = self._templates.get(kinds) or self._template(kinds)
        return template.ask(args)
