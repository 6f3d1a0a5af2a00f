"""The staff queue's text search (``requetes.text_search``) served by an index.

PostgreSQL: the ``pg_trgm`` extension, an IMMUTABLE function
``requetes_search_text(reference, address, description)`` (the three columns joined by a
space, lower-cased and without accents: ``unaccent`` itself is only STABLE, so it cannot
appear in an index expression directly; the function names the extension's schema and
dictionary so that it does not depend on ``search_path``) and a GIN trigram index on
that expression.  ``… LIKE '%word%'`` on the expression is then answered from the index
instead of folding every row of the department.  Creating ``pg_trgm`` needs a superuser
(or a trusted extension, PostgreSQL 13+) once per database, like ``unaccent``
(``hub.0005``).

SQLite: nothing to create.  SQLite has no trigram index; ``text_search`` folds the same
joined text with a Python function registered on the connection and scans the
department's rows (a few milliseconds for thousands of rows, the scale SQLite serves
here).
"""

from django.db import migrations

FUNCTION = "requetes_search_text"
INDEX = "requetes_sr_search_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                       "ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'")
        schema = cursor.fetchone()[0]
    unaccent = f'"{schema}".unaccent(\'"{schema}".unaccent\'::regdictionary, '
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}(reference text, address text, "
        "description text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
        f"$$ SELECT lower({unaccent}$1 || ' ' || $2 || ' ' || $3)) $$")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON requetes_servicerequest USING gin "
        f"({FUNCTION}(reference, address, description) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(text, text, text)")


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0005_search_unaccent"),
        ("requetes", "0008_retention"),
    ]

    operations = [migrations.RunPython(create, drop)]
