"""The staff queue's text search on the database: every word must appear in the
reference, the address or the description, accents and case ignored ("deneigement"
finds "Déneigement", the hub's ``hub.text.fold``).  Elasticsearch replaces this path when
configured (``search_documents``).

The three columns are searched as one text, joined by a space (a word has no space, so
it is found in the joined text exactly when it is found in one of the columns):

- PostgreSQL: ``requetes_search_text(reference, address, description)``, the IMMUTABLE
  function of migration ``0009_search_trigram`` (lower case and ``unaccent``, the
  extension migration ``hub.0005`` installs), which a GIN trigram index (``pg_trgm``)
  covers: each word's ``LIKE '%word%'`` is answered from the index, not by folding every
  row of the department (~50 ms for 88,000 rows against a few milliseconds);
- SQLite: no trigram index exists there; the joined text is folded by ``fold`` itself,
  a Python function registered on the connection, and the department's rows are
  scanned (fine at the scale SQLite serves here: development, tests, a small city).
"""

from __future__ import annotations

from django.db.models import CharField, F, Func, QuerySet

from hub.text import fold

MAX_QUERY = 100
MAX_WORDS = 8
FIELDS = ("reference", "address", "description")
# The function and index of migration 0009 (PostgreSQL only).
POSTGRES_FUNCTION = "requetes_search_text"


class SearchText(Func):
    """The folded text a word is looked for in: the three columns joined by a space,
    lower case and without accents.  On PostgreSQL the exact expression the trigram
    index is built on, so that the planner can use it."""

    arity = 3
    output_field = CharField()

    def __init__(self, **extra):
        super().__init__(*(F(field) for field in FIELDS), **extra)

    def _joined(self, compiler) -> tuple[list[str], list]:
        """The columns' SQL and their parameters."""
        columns = [compiler.compile(expression) for expression in self.source_expressions]
        return ([column_sql for column_sql, _params in columns],
                [param for _sql, column_params in columns for param in column_params])

    def as_sql(self, compiler, connection, **extra):  # other databases (MySQL, MariaDB)
        columns, params = self._joined(compiler)
        return "LOWER(CONCAT(" + ", ' ', ".join(columns) + "))", params

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function=POSTGRES_FUNCTION, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # Registered on the connection the query runs on (cheap, idempotent), so the
        # function exists whichever thread or test opened it.
        connection.ensure_connection()
        connection.connection.create_function("requetes_fold", 1, fold, deterministic=True)
        columns, params = self._joined(compiler)
        return "requetes_fold(" + " || ' ' || ".join(columns) + ")", params


def words(text: str) -> list[str]:
    """Folded words; NUL bytes (which PostgreSQL refuses in a query) are dropped."""
    text = (text or "")[:MAX_QUERY].replace("\x00", "")
    return [fold(word) for word in text.split()][:MAX_WORDS]


def search(queryset: QuerySet, text: str) -> QuerySet:
    terms = words(text)
    if not terms:
        return queryset
    queryset = queryset.alias(_search_text=SearchText())
    for term in terms:
        queryset = queryset.filter(_search_text__contains=term)
    return queryset
