"""Large imports parse in a child process (searches.import_rows) while the
parent stores: the same records, the same messages, nothing left behind."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, connection, models
from django.test import override_settings

from core.models import User
from reviews.models import Review
from searches import services
from searches.import_rows import (
    RECORD_COLUMNS,
    RECORD_JSON_COLUMNS,
    ParseJob,
    ParserCrashed,
    PreparedBatch,
    batches_in_child,
)
from searches.models import Record, RecordSource, Search
from searches.parsers import ParseError
from tests.searches.conftest import FIXTURES

IN_CHILD = override_settings(IMPORT_PROCESS_MIN_BYTES=0)
IN_THREAD = override_settings(IMPORT_PROCESS_MIN_BYTES=10**12)
ONE_FILE_PER_FORMAT = (
    "ris/cff_baseline_embase.ris",
    "pubmed-xml/biomedquery_efetch_sample.xml",
    "medline-nbib/reflib_blue-light.nbib",
    "endnote-xml/asysd_mendeley_export.xml",
    "bibtex/asysd_zotero_export.bib",
    "wos-tagged/revtools_restoration_WoS.ciw",
    "scopus-csv/litstudy_scopus.csv",
)
PER_SEARCH = ("search_id", "created_at", "updated_at")
FIELDS = [column for column in RECORD_COLUMNS if column not in PER_SEARCH]


def _import(review: Review, lead: User, data: bytes, name: str) -> Search:
    return services.search_import_now(
        review=review, actor=lead, binary=io.BytesIO(data), file_name=name,
        database="Test",
    )  # fmt: skip


def _stored(search: Search) -> list[tuple[Any, ...]]:
    records = Record.objects.filter(search=search).order_by("sources__position")
    sources = RecordSource.objects.filter(search=search).order_by("position")
    return [
        *records.values_list(*FIELDS),
        *sources.values_list("position", "source_id", "raw"),
    ]


def test_the_json_columns_are_the_record_models_json_fields() -> None:
    json_fields = {
        field.name
        for field in Record._meta.concrete_fields
        if isinstance(field, models.JSONField) and field.name in RECORD_COLUMNS
    }
    assert json_fields == RECORD_JSON_COLUMNS


@pytest.mark.parametrize("name", ONE_FILE_PER_FORMAT)
def test_a_child_process_stores_exactly_what_a_thread_stores(
    name: str, review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = FIXTURES / name
    data = path.read_bytes()
    children: list[ParseJob] = []

    def spy(job: ParseJob) -> Iterator[PreparedBatch]:
        children.append(job)
        return batches_in_child(job)

    monkeypatch.setattr(services, "batches_in_child", spy)
    with IN_THREAD:
        in_thread = _import(review, lead, data, f"thread-{path.name}")
    assert children == []
    with IN_CHILD:
        in_child = _import(review, lead, data + b"\n", f"child-{path.name}")
    assert len(children) == 1
    assert in_child.status == in_thread.status == Search.Status.IMPORTED, in_child.error
    assert in_child.records_imported == in_thread.records_imported > 0
    assert _stored(in_child) == _stored(in_thread)


@IN_CHILD
def test_a_parse_error_in_the_child_fails_the_import_with_the_parsers_message(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "IMPORT_BATCH", 3)  # batches stored before it
    data = (FIXTURES / "ris/cff_baseline_embase.ris").read_bytes()
    at = data.index(b"TY  -", data.index(b"ER  -") + 1)
    at = data.index(b"ER  -", data.index(b"ER  -", at) + 1)  # inside record 3
    broken = data[:at] + b"AB  - a \x00 NUL byte\n" + data[at:]
    search = _import(review, lead, broken, "nul.ris")
    assert search.status == Search.Status.FAILED
    assert search.error.startswith("nul.ris: This file contains binary data")
    assert "record 3" in search.error
    assert not Record.objects.exists() and not RecordSource.objects.exists()


@IN_CHILD
def test_a_truncated_xml_file_fails_in_the_child_as_in_a_thread(
    review: Review, lead: User
) -> None:
    data = (FIXTURES / "pubmed-xml/biomedquery_efetch_sample.xml").read_bytes()
    in_child = _import(review, lead, data[: len(data) // 2], "cut.xml")
    with IN_THREAD:
        in_thread = _import(review, lead, data[: len(data) // 2 - 1], "cut2.xml")
    assert in_child.status == in_thread.status == Search.Status.FAILED
    message = in_child.error.split(": ", 1)[1]
    assert message[:40] == in_thread.error.split(": ", 1)[1][:40]
    assert not Record.objects.exists()


def _job(path: Path, **changes: Any) -> ParseJob:
    values: dict[str, Any] = {
        "path": str(path), "format_key": "ris", "mapping": None,
        "head": (1, 2, "now", "now"), "start": 1, "batch_size": 2,
    }  # fmt: skip
    values.update(changes)
    return ParseJob(**values)


def test_batches_carry_rows_positions_and_progress() -> None:
    path = FIXTURES / "ris/cff_baseline_embase.ris"
    batches = list(batches_in_child(_job(path)))
    assert [len(b.records) for b in batches] == [2] * 5
    assert [s[0] for b in batches for s in b.sources] == list(range(1, 11))
    assert all(row[:4] == [1, 2, "now", "now"] for b in batches for row in b.records)
    progress = [b.bytes_read for b in batches]
    assert progress == sorted(progress) and progress[-1] == path.stat().st_size


def test_a_parse_error_is_raised_in_the_parent_with_its_place(tmp_path: Path) -> None:
    path = tmp_path / "x.ris"
    path.write_bytes(
        b"TY  - JOUR\nTI  - one\nER  - \nTY  - JOUR\nTI  - t\x00\nER  - \n"
    )
    with pytest.raises(ParseError) as raised:
        list(batches_in_child(_job(path, batch_size=1)))
    assert (raised.value.record, raised.value.line) == (2, 5)


def test_a_missing_file_is_reported_as_a_crash_not_a_file_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(ParserCrashed, match="FileNotFoundError"):
        list(batches_in_child(_job(tmp_path / "gone.ris")))


def test_closing_early_stops_the_child(tmp_path: Path) -> None:
    record = b"TY  - JOUR\nTI  - A title\nAB  - " + b"word " * 200 + b"\nER  - \n"
    path = tmp_path / "many.ris"
    path.write_bytes(record * 50_000)
    batches = batches_in_child(_job(path, batch_size=10))
    next(batches)
    started = time.perf_counter()
    batches.close()  # the child is still parsing 50,000 records
    assert time.perf_counter() - started < 5


def test_postgresql_statistics_are_fresh_after_a_large_import(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stale statistics made a word search read all 100,000 rows (630 ms)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    monkeypatch.setattr(services, "ANALYZE_AFTER_RECORDS", 10)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE searches_record")  # an empty table: 0 rows
        data = (FIXTURES / "ris/cff_baseline_embase.ris").read_bytes()
        search = _import(review, lead, data, "ten.ris")
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE relname = 'searches_record'"
        )
        assert cursor.fetchone()[0] == search.records_imported == 10


def test_index_upkeep_refused_by_postgresql_does_not_fail_the_import(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, db: None
) -> None:
    """gin_clean_pending_list needs the index's owner; an app role may not be."""

    class Refusing:
        vendor = "postgresql"

        def cursor(self) -> Any:
            raise DatabaseError("must be owner of index")

    monkeypatch.setattr(services, "connection", Refusing())
    services._after_bulk_insert(10_000)  # no exception
    assert "must be owner of index" in caplog.text
