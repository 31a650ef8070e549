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
from dataclasses import dataclass
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
from core.services import (
    job_create,
    job_fail,
    job_progress,
    job_start,
    job_succeed,
)
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
    # Lock the record: two PDFs arriving at once (an upload, a ZIP) take turns.
    list(Record.objects.select_for_update().filter(pk=record.pk).values_list("pk"))
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
    is corrupt is refused whole: nothing is stored.

    Safe to deliver twice (acks_late): the rows, their audit and the job's
    success commit together, so a delivery after that finds the job finished
    and does nothing; one running alongside stores nothing. A job left running
    by a dead worker runs again (job_start's convention)."""
    if not job_start(job_id=job_id):
        _zip_leftover_delete(job_id)
        return {}
    job = Job.objects.select_related("created_by").get(pk=job_id)
    review = Review.objects.get(pk=review_id)
    path, name = job.params["path"], job.params["name"]
    if not default_storage.exists(path):
        # An earlier delivery of this task ended and deleted it; job_fail
        # leaves a job that succeeded as it is.
        job_fail(
            job_id=job_id,
            error=f"{name}: the uploaded ZIP is no longer stored; upload it again.",
        )
        return {}
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
                job_progress(job_id=job_id, done=done, message="Reading the PDFs")
            yield item

    try:
        report = match_pdfs(counted(), _record_keys(review))
        job_progress(job_id=job_id, done=len(files), message="Storing the PDFs")
        counts = _zip_store(review, job, files, report)
    finally:
        default_storage.delete(path)
    return counts


def _zip_leftover_delete(job_id: int) -> None:
    """A delivery after the job ended: remove the ZIP if a worker died between
    committing the job and deleting it."""
    params = Job.objects.filter(pk=job_id).values_list("params", flat=True).first()
    if params and params.get("path"):
        default_storage.delete(params["path"])


def _zip_message(counts: dict[str, int]) -> str:
    message = f"{counts['matched']} PDFs matched, {counts['by_hand']} to match by hand"
    if counts["not_pdf"]:
        message += f", {counts['not_pdf']} files that are not PDFs"
    return message


HAS_PDF_NOTE = "The record it matches already has a PDF."
GONE_NOTE = "The record it matches is no longer in the review."


@dataclass(slots=True)
class _Written:
    """A PDF of the ZIP already in storage; its row is saved with the others."""

    row: FullText  # unsaved, filled in as an unmatched PDF
    record_id: int | None  # the record it matched, if any
    how: FullText.Matched | None


def _zip_store(
    review: Review, job: Job, files: list[tuple[str, bytes]], report: MatchReport
) -> dict[str, int]:
    """Store the ZIP whole or not at all: the files are written first, with no
    transaction open (slow, and on SQLite a transaction holds the database's
    write lock, so screening votes would wait); then one short transaction
    saves the rows. If it fails, or another delivery stored this ZIP, the
    files written here are deleted. Empty when another delivery did."""
    not_pdf = sum(m.status == FileStatus.NOT_PDF for m in report.files)
    written = _zip_files_write(review, job, files, report)
    try:
        counts = _zip_rows_save(review, job, written, not_pdf)
    except BaseException:
        _files_delete(written)
        raise
    if counts is None:
        _files_delete(written)
        return {}
    return counts


def _files_delete(written: list[_Written]) -> None:
    for item in written:
        default_storage.delete(item.row.file.name)


def _zip_files_write(
    review: Review, job: Job, files: list[tuple[str, bytes]], report: MatchReport
) -> list[_Written]:
    """Write each PDF to storage, as an unmatched PDF until the transaction
    knows whether its record is still without one."""
    written: list[_Written] = []
    try:
        for match in report.files:
            if match.status == FileStatus.NOT_PDF:
                continue
            file_name, data = files[match.index]
            matched = match.status == FileStatus.MATCHED and match.method is not None
            record_id = match.record_id if matched else None
            note, candidates = match.reason, [c.record_id for c in match.candidates]
            if match.record_id is not None:
                # Its record first, for the lead matching it by hand.
                candidates = [match.record_id, *candidates]
            if record_id is not None:
                pdf_checked(file_name, data)
            row = FullText(
                review=review,
                record=None,
                file_name=file_name[:255],
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                candidates=list(dict.fromkeys(candidates))[:3],
                note=note[:255],
                uploaded_by=job.created_by,
            )
            stem = f"unmatched-{uuid.uuid4().hex}" if record_id is None else record_id
            row.file.save(f"{stem}.pdf", ContentFile(data), save=False)
            how = None
            if record_id is not None and match.method is not None:
                how = FullText.Matched(match.method.value)
            written.append(_Written(row, record_id, how))
    except BaseException:
        _files_delete(written)
        raise
    return written


def _zip_rows_save(
    review: Review, job: Job, written: list[_Written], not_pdf: int
) -> dict[str, int] | None:
    """The rows, their audit and the job's success in one short transaction;
    None (nothing saved) when the job is no longer running."""
    with transaction.atomic():
        # Locked so that two deliveries of the task cannot both store the ZIP.
        running = (
            Job.objects.select_for_update()
            .filter(pk=job.pk, status=Job.Status.RUNNING)
            .exists()
        )
        if not running:
            return None
        wanted = {w.record_id for w in written if w.record_id is not None}
        # The records are locked (as full_text_attach and full_text_assign lock
        # theirs), so a PDF cannot arrive on one of them until this commits: a
        # row that does not exist yet cannot be locked. Merged records are out.
        present = set(
            Record.objects.unique(review.pk)
            .select_for_update(of=("self",))
            .filter(pk__in=wanted)
            .values_list("pk", flat=True)
        )
        has_pdf = set(
            FullText.objects.filter(record_id__in=wanted).values_list(
                "record_id", flat=True
            )
        )
        free = present - has_pdf
        attached: list[FullText] = []
        for item in written:
            row = item.row
            if item.record_id in free and item.how is not None:
                free.discard(item.record_id)
                row.record_id, row.matched_by = item.record_id, item.how
                row.candidates, row.note, row.uploaded_by = [], "", None
                attached.append(row)
            elif item.record_id is not None:
                # Its file stays, unmatched: the lead may still prefer it to
                # the PDF the record got meanwhile, and nothing is lost.
                in_review = item.record_id in present
                row.note = HAS_PDF_NOTE if in_review else GONE_NOTE
        FullText.objects.bulk_create([w.row for w in written])
        for row in attached:
            # As full_text_attach audits a PDF it adds.
            audit_event_create(
                actor=None,
                verb="screening.full_text_added",
                target=row,
                review_id=review.pk,
                after={
                    "file": row.file_name,
                    "record": row.record_id,
                    "how": row.matched_by,
                },
            )
        counts = {
            "matched": len(attached),
            "by_hand": len(written) - len(attached),
            "not_pdf": not_pdf,
        }
        audit_event_create(
            actor=job.created_by,
            verb="screening.full_text_zip",
            target=job,
            review_id=review.pk,
            after={"file": job.params["name"], **counts},
        )
        # Inside the transaction: a later delivery must see the job finished
        # exactly when the rows exist.
        job_succeed(job_id=job.pk, message=_zip_message(counts))
    return counts


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
    Record.objects.select_for_update().filter(
        pk=record.pk
    ).exists()  # see _zip_rows_save
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
