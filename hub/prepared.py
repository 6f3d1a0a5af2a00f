"""Read queries of the hot signed-in path, compiled once per process and database.

Why: on Mon Espace and the app's routes the ORM spends longer building and compiling a
small query (about 0.8 ms: the queryset's clones, the joins, the quoted columns) than
PostgreSQL spends answering it (0.2–0.5 ms), and every signed-in request runs several.
A :class:`PreparedQuery` is written with the ORM as usual, with a :class:`Slot` wherever
a value changes between calls; the first call compiles it, later calls only bind the
values and run the same SQL.  Rows come back exactly as the queryset would give them
(model instances with their ``select_related`` objects, ``values()`` dicts or
``values_list()`` tuples), through the same converters.

    RECENT = PreparedQuery(lambda: Delivery.objects.filter(
        subscriber_id=Slot("subscriber", models.IntegerField())).order_by("-pk")[:20])
    RECENT.fetch(subscriber=subscriber.pk)

Everything that varies must be a slot: a value written into the query itself (the
language of the moment, ``timezone.now()``) would be frozen at the first call.  The
queries go through Django's cursor, so they are counted and logged like any other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections, router
from django.db.models import Expression, QuerySet
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
)

__all__ = ["PreparedQuery", "Slot"]


class _Marker:
    """A slot's place among the compiled parameters, bound at each call."""

    __slots__ = ("field", "name")

    def __init__(self, name: str, field):
        self.name, self.field = name, field

    def bind(self, values: dict, connection):
        return self.field.get_db_prep_value(values[self.name], connection, prepared=False)


class Slot(Expression):
    """A named value of a :class:`PreparedQuery`, given to ``fetch`` at each call;
    ``output_field`` prepares it for the database as that field would."""

    def __init__(self, name: str, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"

    def as_sql(self, compiler, connection):
        return "%s", [_Marker(self.name, self.output_field)]

    def get_group_by_cols(self):
        return []


class _Compiled:
    """One database's compiled form of a prepared query: the SQL, the parameters with
    their markers, and what turns rows into results."""

    def __init__(self, queryset: QuerySet, alias: str):
        self.alias = alias
        self.query = queryset.query
        self.kind = queryset._iterable_class
        if self.kind not in (ModelIterable, ValuesIterable, ValuesListIterable,
                             FlatValuesListIterable):
            raise TypeError(f"A prepared query returns models, values() or "
                            f"values_list(), not {self.kind.__name__}.")
        if queryset._prefetch_related_lookups:
            raise TypeError("A prepared query runs one statement: no prefetch_related.")
        self.compiler = self.query.get_compiler(using=alias)
        self.sql, self.params = self.compiler.as_sql()
        self.names = {marker.name for marker in self.params if isinstance(marker, _Marker)}
        if self.kind is ModelIterable:
            compiler = self.compiler
            select_fields = compiler.klass_info["select_fields"]
            self.model_span = (select_fields[0], select_fields[-1] + 1)
            self.init_list = [column[0].target.attname
                              for column in compiler.select[slice(*self.model_span)]]
        elif self.kind is ValuesIterable:
            query = self.query
            self.value_names = [*query.extra_select, *query.values_select,
                                *query.annotation_select]
        elif self.kind is ValuesListIterable and (self.query.extra_select
                                                  or self.query.annotation_select):
            raise TypeError("A prepared values_list() names plain fields only.")

    def run(self, values: dict) -> list:
        missing, extra = self.names - values.keys(), values.keys() - self.names
        if missing or extra:
            raise TypeError(f"The slots are {sorted(self.names)}; given {sorted(values)}.")
        connection = connections[self.alias]
        params = [value.bind(values, connection) if isinstance(value, _Marker) else value
                  for value in self.params]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        rows = self.compiler.results_iter(results=[fetched])
        if self.kind is ValuesIterable:
            names = self.value_names
            return [dict(zip(names, row, strict=True)) for row in rows]
        if self.kind is ValuesListIterable:
            return [tuple(row) for row in rows]
        if self.kind is FlatValuesListIterable:
            return [row[0] for row in rows]
        return self._models(rows)

    def _models(self, rows) -> list:
        """``ModelIterable``'s way: the model's columns, then each ``select_related``
        object and annotation from the same row."""
        compiler = self.compiler
        model = compiler.klass_info["model"]
        populators = get_related_populators(compiler.klass_info, compiler.select, self.alias)
        annotations = compiler.annotation_col_map
        start, end = self.model_span
        objects = []
        for row in rows:
            obj = model.from_db(self.alias, self.init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, position in (annotations or {}).items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


class PreparedQuery:
    """A queryset built once by ``build`` (with :class:`Slot` for the values that change)
    and compiled once per database; ``fetch(**values)`` runs it and returns the list
    the queryset would give."""

    def __init__(self, build: Callable[[], QuerySet]):
        self._build = build
        self._compiled: dict[str, _Compiled] = {}
        self._model_class = None
        self._lock = threading.Lock()

    def _for(self, using: str | None) -> _Compiled:
        alias = using or router.db_for_read(self._model()) or "default"
        compiled = self._compiled.get(alias)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(alias)
                if compiled is None:
                    compiled = self._compiled[alias] = _Compiled(self._build(), alias)
        return compiled

    def _model(self):
        if self._model_class is None:
            self._model_class = self._build().model
        return self._model_class

    def fetch(self, using: str | None = None, **values) -> list:
        return self._for(using).run(values)

    def first(self, using: str | None = None, **values):
        """The first row, or ``None``: the query itself should be sliced ``[:1]``."""
        rows = self.fetch(using, **values)
        return rows[0] if rows else None

    def sql(self, using: str = "default") -> str:
        """The compiled statement (for tests and ``EXPLAIN``)."""
        return self._for(using).sql
