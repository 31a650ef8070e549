"""Imports under concurrency, re-runs, hostile files and the CSV export."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.models import Job, User
from reviews.models import Review
from searches import services
from searches.models import Record, RecordSource, Search
from searches.parsers import tabular_excel
from tests.conftest import client_for
from tests.factories import SearchFactory
from tests.searches.conftest import FIXTURES

EMBASE = FIXTURES / "ris/cff_baseline_embase.ris"


def _logged(review: Review, lead: User, path=EMBASE) -> Search:  # type: ignore[no-untyped-def]
    with path.open("rb") as binary:
        from django.core.files import File

        return services.search_file_create(
            review=review, actor=lead, upload=File(binary, name=path.name),
            file_name=path.name, database="Embase", run_on=timezone.localdate(),
            enqueue=False,
        )  # fmt: skip


def test_a_duplicate_task_does_not_run_beside_a_live_import(
    review: Review, lead: User
) -> None:
    search = _logged(review, lead)
    # Another worker claimed it a moment ago and is still beating.
    Search.objects.filter(pk=search.pk).update(
        status=Search.Status.IMPORTING,
        import_token="other",
        heartbeat_at=timezone.now(),
    )
    services.search_import_run(search_id=search.pk, job_id=search.job_id)
    search.refresh_from_db()
    assert (search.status, search.import_token) == (Search.Status.IMPORTING, "other")
    assert not Record.objects.exists()


def test_a_crashed_import_is_taken_over_and_its_leftovers_removed(
    review: Review, lead: User
) -> None:
    search = _logged(review, lead)
    stale = timezone.now() - services.CLAIM_EXPIRES - timedelta(seconds=1)
    Search.objects.filter(pk=search.pk).update(
        status=Search.Status.IMPORTING, import_token="crashed", heartbeat_at=stale
    )
    # A row the crashed run had stored:
    leftover = Record.objects.create(
        review=review, search=search, title="half-imported"
    )
    RecordSource.objects.create(record=leftover, search=search, position=1)
    services.search_import_run(search_id=search.pk, job_id=search.job_id)
    search.refresh_from_db()
    assert (search.status, search.records_imported) == (Search.Status.IMPORTED, 10)
    assert not Record.objects.filter(title="half-imported").exists()
    assert Record.objects.filter(search=search).count() == 10


def test_a_worker_that_lost_its_claim_stops_without_touching_the_records(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    search = _logged(review, lead)
    monkeypatch.setattr(services, "IMPORT_BATCH", 3)
    real_store = services._records_store
    stored = []

    def store_then_lose(search_: Search, batch: services._PreparedBatch) -> None:
        real_store(search_, batch)
        stored.append(len(batch.records))
        if len(stored) == 2:  # another worker takes over after two batches
            Search.objects.filter(pk=search_.pk).update(import_token="newcomer")

    monkeypatch.setattr(services, "_records_store", store_then_lose)
    services.search_import_run(search_id=search.pk, job_id=search.job_id)
    search.refresh_from_db()
    assert (search.status, search.import_token) == (Search.Status.IMPORTING, "newcomer")
    assert Record.objects.filter(search=search).count() == 6, "left for the newcomer"


def test_progress_is_reported_while_importing(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    search = _logged(
        review, lead, FIXTURES / "ris/citesource_gambling-harms_scopus_255.ris"
    )
    monkeypatch.setattr(services, "IMPORT_BATCH", 50)
    seen = []
    real = services.job_progress
    monkeypatch.setattr(
        services, "job_progress", lambda **kw: (seen.append(kw["done"]), real(**kw))
    )
    services.search_import_run(search_id=search.pk, job_id=search.job_id)
    assert len(seen) == 6 and seen == sorted(seen) and 0 < seen[0] < seen[-1] <= 99
    assert Job.objects.get(pk=search.job_id).message == "255 records imported"


def test_search_log_csv_neutralises_formulas(review: Review, lead: User) -> None:
    SearchFactory(review=review, database='=HYPERLINK("http://x")', query="-exercise")
    response = client_for(lead).get(f"/reviews/{review.pk}/searches.csv")
    row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1]
    assert row[1] == '\'=HYPERLINK("http://x")' and row[4] == "'-exercise"


def test_a_damaged_workbook_gets_a_message_not_an_error_page(
    review: Review, lead: User
) -> None:
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("[Content_Types].xml", "<not-closed")
    response = client_for(lead).post(
        f"/reviews/{review.pk}/searches/upload/",
        {
            "database": "X", "source_type": "database", "run_on": "2024-01-01",
            "file": SimpleUploadedFile("list.xlsx", damaged.getvalue()),
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "not an Excel .xlsx workbook, or it is damaged" in response.content.decode()
    assert not Search.objects.exists()


def test_a_zip_bomb_workbook_is_refused(
    review: Review, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular_excel, "MAX_UNPACKED_BYTES", 1000)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", "A" * 100_000)
    upload = SimpleUploadedFile("b.xlsx", bomb.getvalue())
    with pytest.raises(ValidationError, match="unpacks to"):
        services.search_file_create(
            review=review, actor=lead, upload=upload, file_name="b.xlsx", database="X",
            run_on=timezone.localdate(),
        )  # fmt: skip
    assert not Search.objects.exists()


def test_reuploading_a_file_that_waits_for_mapping_says_so(
    review: Review, lead: User
) -> None:
    data = b"colour,shape\nred,round\n"
    upload = SimpleUploadedFile("odd.csv", data)
    services.search_file_create(
        review=review, actor=lead, upload=upload, file_name="odd.csv", database="X",
        run_on=timezone.localdate(),
    )  # fmt: skip
    with pytest.raises(ValidationError, match="waits for its columns to be mapped"):
        services.search_file_create(
            review=review, actor=lead, upload=SimpleUploadedFile("odd.csv", data),
            file_name="odd.csv", database="X", run_on=timezone.localdate(),
        )  # fmt: skip


def test_a_long_file_name_fits_the_job_label(review: Review, lead: User) -> None:
    name = "x" * 250 + ".ris"
    search = services.search_file_create(
        review=review, actor=lead, upload=SimpleUploadedFile(name, EMBASE.read_bytes()),
        file_name=name, database="X", run_on=timezone.localdate(), enqueue=False,
    )  # fmt: skip
    assert len(Job.objects.get(pk=search.job_id).label) <= 200
