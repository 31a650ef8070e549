"""A GIN index for full-text search of records, on PostgreSQL only.

The expression must match searches.querysets.FTS_DOCUMENT exactly.
"""

from django.db import migrations

FTS_DOCUMENT = (
    "to_tsvector('english'::regconfig, coalesce(searches_record.title, '') || ' ' || "
    "coalesce(searches_record.abstract, '') || ' ' || "
    "coalesce(searches_record.authors::text, ''))"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        document = FTS_DOCUMENT.replace("searches_record.", "")
        schema_editor.execute(
            f"CREATE INDEX searches_record_fts ON searches_record USING gin ({document})"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS searches_record_fts")


class Migration(migrations.Migration):
    dependencies = [("searches", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
