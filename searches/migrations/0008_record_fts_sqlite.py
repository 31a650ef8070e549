"""SQLite full-text search over title, abstract and authors (nothing on PostgreSQL,
which has its own since migration 0004).

Without it a word search on the embedded default reads every abstract with
LIKE: 400-600 ms at 100,000 records. An FTS5 index answers in about a
millisecond. It is an external-content table (the text stays in
searches_record only), kept in step by triggers on every insert, update and
delete, whichever code path writes. A migration that rebuilds
searches_record (SQLite's way to alter a table) drops the triggers: the
search then falls back to LIKE, and a test fails until they are recreated.
Porter stemming as PostgreSQL's English
configuration does ("exercises" finds "exercise"); accents folded. Skipped
when SQLite was built without FTS5: searches then fall back to LIKE.
"""

from django.db import OperationalError, migrations

FTS = "searches_record_fts"
COLUMNS = "title, abstract, authors"
# Authors are stored as JSON with non-ASCII escaped ("M\\u00fcller"): the index
# gets their names as plain text ("Müller Anna ...") so that they can be found.
# The delete trigger must hand FTS5 exactly what was indexed, so both use this.
AUTHOR_TEXT = (
    "CASE WHEN json_valid({0}) THEN (SELECT group_concat("
    "ifnull(json_extract(value, '$[0]'), '') || ' ' || "
    "ifnull(json_extract(value, '$[1]'), ''), ' ') FROM json_each({0})) "
    "ELSE {0} END"
)
NEW = f"new.id, new.title, new.abstract, {AUTHOR_TEXT.format('new.authors')}"
OLD = f"old.id, old.title, old.abstract, {AUTHOR_TEXT.format('old.authors')}"
STATEMENTS = (
    f"CREATE VIRTUAL TABLE {FTS} USING fts5({COLUMNS}, content='searches_record', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    f"""CREATE TRIGGER {FTS}_insert AFTER INSERT ON searches_record BEGIN
        INSERT INTO {FTS} (rowid, {COLUMNS}) VALUES ({NEW});
    END""",
    f"""CREATE TRIGGER {FTS}_delete AFTER DELETE ON searches_record BEGIN
        INSERT INTO {FTS} ({FTS}, rowid, {COLUMNS}) VALUES ('delete', {OLD});
    END""",
    f"""CREATE TRIGGER {FTS}_update AFTER UPDATE OF {COLUMNS} ON searches_record
    BEGIN
        INSERT INTO {FTS} ({FTS}, rowid, {COLUMNS}) VALUES ('delete', {OLD});
        INSERT INTO {FTS} (rowid, {COLUMNS}) VALUES ({NEW});
    END""",
    f"INSERT INTO {FTS} (rowid, {COLUMNS}) SELECT id, title, abstract, "
    f"{AUTHOR_TEXT.format('authors')} FROM searches_record",
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    try:
        schema_editor.execute("CREATE VIRTUAL TABLE fts5_probe USING fts5(x)")
    except OperationalError:
        return  # no FTS5 in this SQLite: word searches use LIKE
    schema_editor.execute("DROP TABLE fts5_probe")
    for statement in STATEMENTS:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for trigger in ("insert", "delete", "update"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {FTS}_{trigger}")
    schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")


class Migration(migrations.Migration):
    dependencies = [("searches", "0007_postgres_bulk_storage")]

    operations = [migrations.RunPython(forwards, backwards)]
