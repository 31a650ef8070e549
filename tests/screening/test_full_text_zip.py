"""A lead uploads a ZIP of PDFs named and titled like real ones: the task
matches them to records, keeps the rest to match by hand, and refuses a bad
ZIP whole."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from core.models import AuditEvent, Job, User
from core.services import job_start
from reviews.models import Review
from screening import full_text_services, tasks
from screening.models import FullText
from searches.models import Record
from tests.conftest import client_for
from tests.factories import RecordFactory, SearchFactory
from tests.screening.test_fulltext_matching import article, build_zip_bytes

TREADMILL = (
    "Treadmill training reduces mechanical allodynia after spinal cord contusion"
    " in rats"
)
SWIMMING = (
    "Swimming exercise attenuates neuropathic pain after sciatic nerve injury in mice"
)
WHEEL = (
    "Voluntary wheel running and thermal hyperalgesia in a rat spinal cord injury model"
)


@pytest.fixture
def records(review: Review) -> dict[str, Record]:
    search = SearchFactory(review=review)
    return {
        "doi": RecordFactory(
            search=search, title=TREADMILL, doi="10.1016/j.pain.2019.01.002",
            authors=[["Smith", "J"]], year=2019,
        ),
        "pmid": RecordFactory(
            search=search, title=SWIMMING, pmid="31234567",
            authors=[["Jones", "K"]], year=2018,
        ),
        "title": RecordFactory(
            search=search, title=WHEEL, authors=[["Garcia", "M"]], year=2020,
        ),
        "other": RecordFactory(search=search, title="An unrelated record on sleep"),
    }  # fmt: skip


@pytest.fixture
def upload(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Upload a ZIP, then run the matching task as the upload's commit would."""

    def send(client: Any, review: Review, data: bytes, name: str = "pdfs.zip") -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("screening:full_texts", args=[review.pk]),
                {
                    "file": SimpleUploadedFile(
                        name, data, content_type="application/zip"
                    )
                },
            )

    return send


def test_a_zip_of_real_looking_pdfs_is_matched_and_the_rest_kept_for_hand_matching(
    review: Review,
    lead: User,
    records: dict[str, Record],
    upload: Callable[..., Any],
) -> None:
    archive = build_zip_bytes(
        [
            ("Full texts/10.1016_j.pain.2019.01.002.pdf", article(TREADMILL)),
            ("Full texts/PMID_31234567.pdf", article(SWIMMING)),
            ("Full texts/fulltext (3).pdf", article(WHEEL, authors="M. Garcia")),
            ("Full texts/scan_0042.pdf", article("Minutes of the committee meeting")),
            ("Full texts/notes.docx", b"PK\x03\x04 not a pdf"),
            ("__MACOSX/Full texts/._scan_0042.pdf", b"\x00\x05\x16\x07"),
        ]
    )
    response = upload(client_for(lead), review, archive)
    assert response.status_code == 302  # tasks run eagerly in tests
    job = Job.objects.get(kind="full_text_zip")
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.message.startswith("3 PDFs matched, 1 to match by hand")
    matched = dict(
        FullText.objects.filter(record__isnull=False).values_list(
            "record_id", "matched_by"
        )
    )
    assert matched == {
        records["doi"].pk: "doi",
        records["pmid"].pk: "pmid",
        records["title"].pk: "title",
    }
    unmatched = FullText.objects.get(record__isnull=True)
    assert unmatched.file_name == "scan_0042.pdf" and unmatched.note
    page = client_for(lead).get(reverse("screening:full_texts", args=[review.pk]))
    assert "scan_0042.pdf" in page.content.decode()
    # The lead matches it by hand; audited.
    client_for(lead).post(
        reverse("screening:full_text_assign", args=[review.pk, unmatched.pk]),
        {"record": records["other"].pk},
    )
    unmatched.refresh_from_db()
    assert (unmatched.record_id, unmatched.matched_by) == (
        records["other"].pk,
        "person",
    )
    assert AuditEvent.objects.filter(verb="screening.full_text_assigned").count() == 1
    assert AuditEvent.objects.filter(verb="screening.full_text_zip").count() == 1


def test_a_file_that_is_not_a_zip_is_refused_with_its_name(
    review: Review,
    lead: User,
    records: dict[str, Record],
    upload: Callable[..., Any],
) -> None:
    client = client_for(lead)
    response = client.post(
        reverse("screening:full_texts", args=[review.pk]),
        {"file": SimpleUploadedFile("pdfs.zip", b"%PDF-1.4 just one pdf")},
        follow=True,
    )
    assert "pdfs.zip is not a ZIP file." in response.content.decode()
    assert not Job.objects.exists() and not FullText.objects.exists()


@override_settings(FULL_TEXT_MAX_BYTES=500)
def test_a_zip_breaking_a_limit_is_refused_whole(
    review: Review,
    lead: User,
    records: dict[str, Record],
    upload: Callable[..., Any],
) -> None:
    archive = build_zip_bytes(
        [
            ("10.1016_j.pain.2019.01.002.pdf", article(TREADMILL)),
            ("PMID_31234567.pdf", article(SWIMMING)),
        ]
    )
    upload(client_for(lead), review, archive)
    job = Job.objects.get(kind="full_text_zip")
    assert job.status == Job.Status.FAILED and "pdfs.zip" in job.error
    assert not FullText.objects.exists()


def test_a_record_with_a_pdf_keeps_it(
    review: Review,
    lead: User,
    records: dict[str, Record],
    upload: Callable[..., Any],
) -> None:
    first = build_zip_bytes([("10.1016_j.pain.2019.01.002.pdf", article(TREADMILL))])
    upload(client_for(lead), review, first, "first.zip")
    upload(client_for(lead), review, first, "again.zip")
    assert FullText.objects.filter(record=records["doi"]).count() == 1
    again = FullText.objects.get(record__isnull=True)
    assert again.note == "The record it matches already has a PDF."
    assert again.candidates[0] == records["doi"].pk


def test_only_leads_upload_zips(
    review: Review,
    reviewer_a: User,
    records: dict[str, Record],
    upload: Callable[..., Any],
) -> None:
    archive = build_zip_bytes([("PMID_31234567.pdf", article(SWIMMING))])
    assert upload(client_for(reviewer_a), review, archive).status_code == 403
    assert not Job.objects.exists()


# --- Storing a ZIP: short transaction, safe redelivery ----------------------------


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    """An empty storage for the test, so the files left in it can be counted."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def files_in(media: Path, folder: str) -> list[Path]:
    return [path for path in (media / folder).rglob("*") if path.is_file()]


def three_pdfs() -> bytes:
    return build_zip_bytes(
        [
            ("10.1016_j.pain.2019.01.002.pdf", article(TREADMILL)),
            ("PMID_31234567.pdf", article(SWIMMING)),
            ("fulltext (3).pdf", article(WHEEL, authors="M. Garcia")),
        ]
    )


def queued(review: Review, lead: User, archive: bytes) -> Job:
    """A lead's ZIP and its job, queued; the test delivers the task itself."""
    with mock.patch.object(tasks.full_text_zip, "delay"):
        return full_text_services.full_text_zip_start(
            review=review, actor=lead, upload=io.BytesIO(archive), name="pdfs.zip"
        )


def deliver(job: Job) -> None:
    """What a worker does with the task's message (again, if redelivered)."""
    assert job.review_id is not None
    tasks.full_text_zip(job_id=job.pk, review_id=job.review_id)


@contextmanager
def storage_saves(hook: Callable[[str], None]) -> Iterator[None]:
    """Call `hook(name)` before the storage saves each file."""
    save = default_storage.save

    def spy(name: str, content: Any, max_length: int | None = None) -> str:
        hook(name)
        return save(name, content, max_length=max_length)

    with mock.patch.object(default_storage, "save", spy):
        yield


def test_no_transaction_is_open_while_the_pdfs_are_written(
    transactional_db: None,
    review: Review,
    lead: User,
    records: dict[str, Record],
    media: Path,
) -> None:
    # transactional_db: under `db` the whole test is one transaction.
    job = queued(review, lead, three_pdfs())
    in_transaction: list[bool] = []

    def hook(name: str) -> None:
        if name.startswith("fulltexts/"):
            in_transaction.append(connection.in_atomic_block)

    with storage_saves(hook):
        deliver(job)
    # On SQLite a transaction holds the write lock: votes would wait on it.
    assert in_transaction == [False, False, False]
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert FullText.objects.filter(record__isnull=False).count() == 3


def test_a_pdf_uploaded_on_a_matched_record_while_the_zip_is_stored_is_kept(
    review: Review, lead: User, records: dict[str, Record], media: Path
) -> None:
    job = queued(review, lead, three_pdfs())
    saves: list[str] = []

    def hook(name: str) -> None:
        saves.append(name)
        if len(saves) == 1:
            # A reviewer attaches the record's PDF while the ZIP's are written.
            full_text_services.full_text_attach(
                review=review,
                record=records["doi"],
                actor=lead,
                name="smith 2019.pdf",
                data=article(TREADMILL, authors="J. Smith"),
            )

    with storage_saves(hook):
        deliver(job)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.message == "2 PDFs matched, 1 to match by hand"
    kept = FullText.objects.get(record=records["doi"])
    assert (kept.file_name, kept.matched_by, kept.uploaded_by) == (
        "smith 2019.pdf",
        "upload",
        lead,
    )
    from_zip = FullText.objects.get(record__isnull=True)
    assert from_zip.file_name == "10.1016_j.pain.2019.01.002.pdf"
    assert from_zip.note == full_text_services.HAS_PDF_NOTE
    assert from_zip.candidates[0] == records["doi"].pk
    assert default_storage.exists(from_zip.file.name)
    assert len(files_in(media, "fulltexts")) == 3 + 1
    added = AuditEvent.objects.filter(verb="screening.full_text_added")
    assert sorted(event.after["record"] for event in added) == sorted(
        [records["doi"].pk, records["pmid"].pk, records["title"].pk]
    )
    summary = AuditEvent.objects.get(verb="screening.full_text_zip")
    assert summary.after == {
        "file": "pdfs.zip",
        "matched": 2,
        "by_hand": 1,
        "not_pdf": 0,
    }


def test_a_pdf_whose_record_was_removed_meanwhile_is_kept_unmatched(
    review: Review, lead: User, records: dict[str, Record], media: Path
) -> None:
    job = queued(review, lead, three_pdfs())
    removed = records["doi"].pk

    def hook(name: str) -> None:
        Record.objects.filter(pk=removed).delete()  # its search was deleted

    with storage_saves(hook):
        deliver(job)
    job.refresh_from_db()
    assert job.message == "2 PDFs matched, 1 to match by hand", job.error
    from_zip = FullText.objects.get(record__isnull=True)
    assert from_zip.note == full_text_services.GONE_NOTE


def test_a_second_delivery_while_the_first_runs_stores_each_pdf_once(
    review: Review, lead: User, records: dict[str, Record], media: Path
) -> None:
    job = queued(review, lead, three_pdfs())
    match_pdfs, deliveries = full_text_services.match_pdfs, []

    def match_then_redeliver(*args: Any) -> Any:
        report = match_pdfs(*args)
        deliveries.append(job.pk)
        if len(deliveries) == 1:
            deliver(job)  # the broker hands the task to a second worker meanwhile
        return report

    with mock.patch.object(full_text_services, "match_pdfs", match_then_redeliver):
        deliver(job)
    assert len(deliveries) == 2
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.message == "3 PDFs matched, 0 to match by hand"
    assert FullText.objects.count() == 3
    assert len(files_in(media, "fulltexts")) == 3
    assert not files_in(media, "fulltext-zips")
    assert AuditEvent.objects.filter(verb="screening.full_text_zip").count() == 1
    assert AuditEvent.objects.filter(verb="screening.full_text_added").count() == 3


def test_a_delivery_after_the_job_finished_stores_nothing_and_removes_its_zip(
    review: Review, lead: User, records: dict[str, Record], media: Path
) -> None:
    archive = three_pdfs()
    job = queued(review, lead, archive)
    deliver(job)
    # A worker that died after committing, before deleting the ZIP, left it.
    path = job.params["path"]
    assert default_storage.save(path, ContentFile(archive)) == path
    deliver(job)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.message == "3 PDFs matched, 0 to match by hand"
    assert FullText.objects.count() == 3
    assert len(files_in(media, "fulltexts")) == 3
    assert not default_storage.exists(path)
    assert AuditEvent.objects.filter(verb="screening.full_text_zip").count() == 1


def test_a_job_left_running_by_a_dead_worker_runs_again(
    review: Review, lead: User, records: dict[str, Record], media: Path
) -> None:
    job = queued(review, lead, three_pdfs())
    assert job_start(job_id=job.pk)  # the worker that took it died before storing
    deliver(job)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert FullText.objects.filter(record__isnull=False).count() == 3


def test_a_redelivery_after_its_zip_was_deleted_fails_the_job_clearly(
    review: Review, lead: User, records: dict[str, Record], media: Path
) -> None:
    job = queued(review, lead, three_pdfs())
    assert job_start(job_id=job.pk)  # the worker deleted the ZIP, then died
    default_storage.delete(job.params["path"])
    deliver(job)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert (
        job.error == "pdfs.zip: the uploaded ZIP is no longer stored; upload it again."
    )
    assert not FullText.objects.exists()


@pytest.mark.parametrize("failing", ["storage", "database"])
def test_a_zip_that_fails_while_stored_leaves_no_files(
    failing: str,
    review: Review,
    lead: User,
    records: dict[str, Record],
    media: Path,
) -> None:
    job = queued(review, lead, three_pdfs())
    saved: list[str] = []

    def full_disk(name: str) -> None:
        if name.startswith("fulltexts/"):
            saved.append(name)
            if failing == "storage" and len(saved) == 2:
                raise OSError("No space left on device")

    audit = full_text_services.audit_event_create

    def audit_refused(**event: Any) -> Any:
        if failing == "database" and event["verb"] == "screening.full_text_zip":
            raise RuntimeError("database is locked")
        return audit(**event)

    with (
        storage_saves(full_disk),
        mock.patch.object(full_text_services, "audit_event_create", audit_refused),
    ):
        # throw=False: as in a worker, the task's on_failure marks the job failed.
        result = tasks.full_text_zip.apply(
            kwargs={"job_id": job.pk, "review_id": review.pk}, throw=False
        )
    assert isinstance(result.result, (OSError, RuntimeError))
    assert len(saved) == (2 if failing == "storage" else 3)
    assert not files_in(media, "fulltexts")
    assert not files_in(media, "fulltext-zips")
    assert not FullText.objects.exists()
    assert not AuditEvent.objects.filter(verb="screening.full_text_added").exists()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error in (
        "OSError: No space left on device",
        "RuntimeError: database is locked",
    )
