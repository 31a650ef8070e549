"""Fast multi-row inserts for imports of 100,000 rows.

Django's bulk_create prepares every value through the field API and, on SQLite,
sends batches of at most 999 parameters: for a wide table it spends most of an
import compiling SQL. Here the SQL is written once per chunk and values are
adapted by column kind. Only for plain columns: text, numbers, booleans,
foreign-key ids, aware datetimes and JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import chain
from typing import Any

from django.db import connection, models

# Well under SQLite's default limit of 32,766 bound parameters per statement.
MAX_PARAMETERS = 30_000


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    json_encoded: bool = False,
) -> list[int]:
    """Insert `rows` (values in the order of `columns`, given by field attname)
    into `model`'s table in as few statements as possible; returns the new ids
    in row order. With `json_encoded`, JSON columns already hold JSON text (so
    a caller can encode in another thread)."""
    if not rows:
        return []
    fields = [model._meta.get_field(name) for name in _field_names(model, columns)]
    json_columns = [
        isinstance(field, models.JSONField) and not json_encoded for field in fields
    ]
    if connection.vendor == "postgresql":
        return _copy_rows(model, fields, json_columns, rows)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)  # type: ignore[union-attr]
    per_statement = max(1, MAX_PARAMETERS // len(columns))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            if any(json_columns):
                params: list[Any] = [
                    json.dumps(value) if is_json else value
                    for row in chunk
                    for value, is_json in zip(row, json_columns, strict=True)
                ]
            else:
                params = list(chain.from_iterable(chunk))
            # Only quoted table/column names and placeholders: values are bound.
            values = ", ".join([placeholder] * len(chunk))
            sql = f"INSERT INTO {table} ({names}) VALUES {values} RETURNING id"  # noqa: S608
            cursor.execute(sql, params)
            ids.extend(row[0] for row in cursor.fetchall())
    return ids


def _field_names(model: type[models.Model], columns: Sequence[str]) -> list[str]:
    # Accept attnames ("review_id") as well as field names ("review").
    by_attname = {f.attname: f.name for f in model._meta.concrete_fields}
    return [by_attname.get(column, column) for column in columns]


def db_datetime(value: Any) -> Any:
    """An aware datetime as this database's driver takes it."""
    return connection.ops.adapt_datetimefield_value(value)


def _copy_rows(
    model: type[models.Model],
    fields: Sequence[Any],
    json_columns: Sequence[bool],
    rows: Sequence[Sequence[Any]],
) -> list[int]:
    """PostgreSQL: COPY, the fastest way in. Ids come from the table's sequence
    first (unique under concurrency), so the caller can refer to the new rows."""
    encode = any(json_columns)
    table = model._meta.db_table
    names = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
            "FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        quoted = connection.ops.quote_name(table)
        copy_sql = f"COPY {quoted} (id, {names}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for new_id, row in zip(ids, rows, strict=True):
                if encode:
                    row = [
                        json.dumps(value) if is_json else value
                        for value, is_json in zip(row, json_columns, strict=True)
                    ]
                copy.write_row((new_id, *row))
    return ids
