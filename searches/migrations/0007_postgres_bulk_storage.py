"""PostgreSQL storage tuned for imports of 100,000 records (nothing on SQLite).

* lz4 instead of pglz for the large text columns (abstracts, raw entries, the
  full-text document): several times faster to compress at about the same
  size. Skipped on a server built without lz4.
* The full-text GIN index collects new entries in a larger pending list
  (64 MB instead of 4 MB) so that an import's inserts append to it instead of
  merging every few hundred rows; the import merges it once at its end
  (`gin_clean_pending_list`), so searches never scan a long list.
"""

from django.db import migrations

LZ4_COLUMNS = (
    ("searches_record", "abstract"),
    ("searches_record", "search_document"),
    ("searches_recordsource", "raw"),
)


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"
        )
        has_lz4 = cursor.fetchone() is not None
    if has_lz4:
        for table, column in LZ4_COLUMNS:
            schema_editor.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4"
            )
    schema_editor.execute(
        "ALTER INDEX searches_record_search_document "
        "SET (gin_pending_list_limit = 65536)"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in LZ4_COLUMNS:
        schema_editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION pglz"
        )
    schema_editor.execute(
        "ALTER INDEX searches_record_search_document RESET (gin_pending_list_limit)"
    )


class Migration(migrations.Migration):
    dependencies = [("searches", "0006_dedup")]

    operations = [migrations.RunPython(forwards, backwards)]
