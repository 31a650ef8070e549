"""A lead uploads a ZIP of PDFs named and titled like real ones: the task
matches them to records, keeps the rest to match by hand, and refuses a bad
ZIP whole."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from core.models import AuditEvent, Job, User
from reviews.models import Review
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
