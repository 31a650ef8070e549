"""Full texts: a PDF per record, uploaded one by one or matched from a ZIP.

A PDF is checked (it must start like a PDF, and fit FULL_TEXT_MAX_BYTES)
before anything is stored; attaching, replacing and matching by hand are
audited.
"""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from collections.abc import Iterator
from functools import partial
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from core.audit import audit_event_create
from core.models import Job, User
from core.roles import Role
from core.services import job_create, job_fail, job_progress, job_start, job_succeed
from reviews.models import Review
from screening.fulltext_matching import (
    FileStatus,
    MatchReport,
    RecordKey,
    match_pdfs,
    zip_pdf_entries,
)
from screening.models import FullText
from screening.services import member_role
from searches.models import Record

PDF_MAGIC = b"%PDF-"


def pdf_checked(name: str, data: bytes) -> None:
    """Refuse what is not a PDF or is too large, naming the file."""
    if len(data) > settings.FULL_TEXT_MAX_BYTES:
        limit = settings.FULL_TEXT_MAX_BYTES // (1024 * 1024)
        raise ValidationError(f"{name} is larger than {limit} MB.")
    # Some writers put a few bytes before the header; PDF readers accept 1 KB.
    if PDF_MAGIC not in data[:1024]:
        raise ValidationError(f"{name} is not a PDF file.")


def read_upload(upload: IO[bytes]) -> bytes:
    """At most one byte more than a PDF may have (so pdf_checked can refuse it)."""
    data = upload.read(settings.FULL_TEXT_MAX_BYTES + 1)
    return data if isinstance(data, bytes) else bytes(data)


@transaction.atomic
def full_text_attach(
    *,
    review: Review,
    record: Record,
    actor: User | None,
    name: str,
    data: bytes,
    matched_by: FullText.Matched = FullText.Matched.UPLOAD,
) -> FullText:
    """Store `data` as the record's full text, replacing any earlier one."""
    if actor is not None:
        role = member_role(review, actor)
        if role is None or not role.at_least(Role.REVIEWER):
            raise ValidationError("Only the review's reviewers and leads add PDFs.")
    if record.review_id != review.pk:
        raise ValidationError("This record is not in this review.")
    pdf_checked(name, data)
    existing = FullText.objects.select_for_update().filter(record=record).first()
    before = {"file": existing.file_name} if existing else None
    if existing is not None:
        # The old file goes only once the new one is committed.
        old_file, storage = existing.file.name, existing.file.storage
        transaction.on_commit(lambda: storage.delete(old_file))
        existing.delete()
    full_text = FullText(
        review=review,
        record=record,
        file_name=name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        matched_by=matched_by,
        uploaded_by=actor,
    )
    full_text.file.save(f"{record.pk}.pdf", ContentFile(data), save=False)
    full_text.save()
    audit_event_create(
        actor=actor,
        verb="screening.full_text_added",
        target=full_text,
        review_id=review.pk,
        before=before,
        after={"file": full_text.file_name, "record": record.pk, "how": matched_by},
    )
    return full_text


# --- A ZIP of PDFs ----------------------------------------------------------------

ZIP_KIND = "full_text_zip"
ZIP_MAX_FILES = 5000


def full_text_zip_start(
    *, review: Review, actor: User, upload: IO[bytes], name: str
) -> Job:
    """Keep the uploaded ZIP and queue its matching (a lead's action)."""
    from screening import tasks  # tasks import us

    if member_role(review, actor) != Role.LEAD:
        raise ValidationError("Only a lead of the review uploads a ZIP of PDFs.")
    if not zipfile.is_zipfile(upload):
        raise ValidationError(f"{name} is not a ZIP file.")
    upload.seek(0)
    stored = default_storage.save(f"fulltext-zips/{uuid.uuid4().hex}.zip", upload)
    with transaction.atomic():
        job = job_create(
            kind=ZIP_KIND,
            label=f"Matching the PDFs of {name}"[:200],
            review_id=review.pk,
            params={"path": stored, "name": name},
            created_by=actor,
        )
        transaction.on_commit(
            partial(tasks.full_text_zip.delay, job_id=job.pk, review_id=review.pk)
        )
    return job


def _record_keys(review: Review) -> list[RecordKey]:
    rows = Record.objects.unique(review.pk).values_list(
        "pk", "doi", "pmid", "pmcid", "title", "authors", "year"
    )
    return [
        RecordKey(
            id=pk,
            doi=doi,
            pmid=pmid,
            pmcid=pmcid,
            title=title,
            first_author=authors[0][0] if authors else "",
            year=year,
        )
        for pk, doi, pmid, pmcid, title, authors, year in rows
    ]


def full_text_zip_run(*, review_id: int, job_id: int) -> dict[str, int]:
    """Match every PDF of the job's ZIP to a record: matched files become the
    record's full text (unless it has one), the others are kept unmatched with
    their candidates for a lead to match by hand. A ZIP that breaks a limit or
    is corrupt is refused whole: nothing is stored."""
    job = Job.objects.get(pk=job_id)
    if not job_start(job_id=job_id):
        return {}
    review = Review.objects.get(pk=review_id)
    path, name = job.params["path"], job.params["name"]
    try:
        with default_storage.open(path, "rb") as binary, zipfile.ZipFile(binary) as zf:
            files = list(
                zip_pdf_entries(
                    zf,
                    max_files=ZIP_MAX_FILES,
                    max_file_bytes=settings.FULL_TEXT_MAX_BYTES,
                    max_total_bytes=settings.IMPORT_MAX_BYTES,
                )
            )
    except (ValueError, zipfile.BadZipFile, OSError) as error:
        job_fail(job_id=job_id, error=f"{name}: {error}")
        default_storage.delete(path)
        return {}
    job_progress(job_id=job_id, done=0, total=len(files), message="Reading the PDFs")

    def counted() -> Iterator[tuple[str, bytes]]:
        for done, item in enumerate(files, start=1):
            if done % 10 == 0:
                job_progress(job_id=job_id, done=done)
            yield item

    try:
        report = match_pdfs(counted(), _record_keys(review))
        counts = _zip_store(review, job, files, report)
    finally:
        default_storage.delete(path)
    job_succeed(
        job_id=job_id,
        message=(
            f"{counts['matched']} PDFs matched, {counts['by_hand']} to match by hand"
            + (
                f", {counts['not_pdf']} files that are not PDFs"
                if counts["not_pdf"]
                else ""
            )
        ),
    )
    return counts


def _zip_store(
    review: Review, job: Job, files: list[tuple[str, bytes]], report: MatchReport
) -> dict[str, int]:
    """Store the matched and unmatched PDFs in one transaction; if it fails, the
    files already written go too (nothing half-stored)."""
    counts = {"matched": 0, "by_hand": 0, "not_pdf": 0}
    actor, name = job.created_by, job.params["name"]
    written: list[str] = []
    try:
        with transaction.atomic():
            _zip_store_rows(review, job, files, report, counts, written)
            audit_event_create(
                actor=actor,
                verb="screening.full_text_zip",
                target=job,
                review_id=review.pk,
                after={"file": name, **counts},
            )
    except BaseException:
        for stored in written:
            default_storage.delete(stored)
        raise
    return counts


def _zip_store_rows(
    review: Review,
    job: Job,
    files: list[tuple[str, bytes]],
    report: MatchReport,
    counts: dict[str, int],
    written: list[str],
) -> None:
    actor = job.created_by
    # Locked, so a PDF uploaded on a record meanwhile is kept, not replaced.
    has_pdf = set(
        FullText.objects.select_for_update()
        .filter(review=review, record__isnull=False)
        .values_list("record_id", flat=True)
    )
    for match in report.files:
        file_name, data = files[match.index]
        if match.status == FileStatus.NOT_PDF:
            counts["not_pdf"] += 1
            continue
        matched = match.status == FileStatus.MATCHED and match.method is not None
        record_id = match.record_id if matched else None
        if record_id is not None and match.method and record_id not in has_pdf:
            attached = full_text_attach(
                review=review,
                record=Record.objects.get(pk=record_id),
                actor=None,
                name=file_name,
                data=data,
                matched_by=FullText.Matched(match.method.value),
            )
            written.append(attached.file.name)
            has_pdf.add(record_id)
            counts["matched"] += 1
            continue
        note, candidates = match.reason, [c.record_id for c in match.candidates]
        if match.record_id is not None:
            # Matched, but the record has a PDF (or an earlier file took it).
            candidates = [match.record_id, *candidates]
            if record_id is not None:
                note = "The record it matches already has a PDF."
        kept = _unmatched_store(review, file_name, data, candidates, note, actor)
        written.append(kept.file.name)
        counts["by_hand"] += 1


def _unmatched_store(
    review: Review,
    name: str,
    data: bytes,
    candidates: list[int],
    note: str,
    actor: User | None,
) -> FullText:
    full_text = FullText(
        review=review,
        record=None,
        file_name=name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        candidates=list(dict.fromkeys(candidates))[:3],
        note=note[:255],
        uploaded_by=actor,
    )
    full_text.file.save(
        f"unmatched-{uuid.uuid4().hex}.pdf", ContentFile(data), save=False
    )
    full_text.save()
    return full_text


@transaction.atomic
def full_text_assign(
    *, review: Review, actor: User, full_text: FullText, record: Record
) -> FullText:
    """A lead matches an unmatched PDF to a record by hand. Audited."""
    if member_role(review, actor) != Role.LEAD:
        raise ValidationError("Only a lead of the review matches PDFs by hand.")
    if full_text.review_id != review.pk or record.review_id != review.pk:
        raise ValidationError("This PDF or record is not in this review.")
    if full_text.record_id is not None:
        raise ValidationError("This PDF is already matched.")
    if FullText.objects.filter(record=record).exists():
        raise ValidationError("That record already has a PDF.")
    full_text.record, full_text.matched_by = record, FullText.Matched.PERSON
    full_text.candidates, full_text.note = [], ""
    full_text.save()
    audit_event_create(
        actor=actor,
        verb="screening.full_text_assigned",
        target=full_text,
        review_id=review.pk,
        after={"file": full_text.file_name, "record": record.pk},
    )
    return full_text
