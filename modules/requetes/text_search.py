"""The staff queue's text search on the database: every word must appear in the
reference, the address or the description, accents and case ignored ("deneigement"
finds "Déneigement", the hub's ``hub.text.fold``).  PostgreSQL folds with ``unaccent``
(the extension migration ``hub.0005`` installs); SQLite with a Python function
registered on the connection.  Elasticsearch replaces this path when configured
(``search_documents``)."""

from __future__ import annotations

import functools
import operator

from django.db.models import CharField, Func, Q, QuerySet

from hub.text import fold

MAX_QUERY = 100
MAX_WORDS = 8
FIELDS = ("reference", "address", "description")


class Folded(Func):
    arity = 1
    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="LOWER", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="LOWER(UNACCENT(%(expressions)s))",
                              **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Registered on the connection the query runs on (cheap, idempotent), so the
        # function exists whichever thread or test opened it.
        connection.ensure_connection()
        connection.connection.create_function("requetes_fold", 1, fold, deterministic=True)
        return super().as_sql(compiler, connection, function="requetes_fold", **extra)


def words(text: str) -> list[str]:
    """Folded words; NUL bytes (which PostgreSQL refuses in a query) are dropped."""
    text = (text or "")[:MAX_QUERY].replace("\x00", "")
    return [fold(word) for word in text.split()][:MAX_WORDS]


def search(queryset: QuerySet, text: str) -> QuerySet:
    terms = words(text)
    if not terms:
        return queryset
    queryset = queryset.alias(**{f"_folded_{field}": Folded(field) for field in FIELDS})
    for term in terms:
        queryset = queryset.filter(functools.reduce(operator.or_, (
            Q(**{f"_folded_{field}__contains": term}) for field in FIELDS)))
    return queryset
