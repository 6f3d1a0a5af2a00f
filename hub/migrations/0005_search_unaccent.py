"""PostgreSQL: a French full-text configuration that ignores accents, so "deneigement"
finds "déneigement".  Needs the ``unaccent`` extension (PostgreSQL's contrib package;
creating it needs a superuser once per database).  Other databases: nothing to do (SQLite's
FTS5 tokenizer already folds diacritics)."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS unaccent;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'hub_french_unaccent') THEN
    CREATE TEXT SEARCH CONFIGURATION hub_french_unaccent (COPY = french);
    ALTER TEXT SEARCH CONFIGURATION hub_french_unaccent
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
  END IF;
END
$$;
"""
DROP = "DROP TEXT SEARCH CONFIGURATION IF EXISTS hub_french_unaccent;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("hub", "0004_staff_group_permissions")]

    operations = [migrations.RunPython(create, drop)]
