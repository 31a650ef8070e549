"""Writes of the searches app: the search log and record imports.

Imports stream: a parser yields records, which are stored in batches of
IMPORT_BATCH, each in its own short transaction, while the job row reports
progress. The records of a search count only once the search is IMPORTED, and a
failed or interrupted import deletes what it stored: all or nothing, without
holding one long transaction (which would lock SQLite for every other writer).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import logging
import secrets
from collections.abc import Generator, Iterator
from contextlib import closing
from datetime import date, timedelta
from functools import partial
from typing import IO, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import (
    DatabaseError,
    IntegrityError,
    connection,
    reset_queries,
    transaction,
)
from django.db.models import Q
from django.utils import timezone

from core.audit import audit_event_create
from core.bulk import db_datetime, insert_rows
from core.models import User
from core.ratelimit import SharedRateLimiter
from core.readahead import read_ahead
from core.services import job_create, job_fail, job_progress, job_start, job_succeed
from reviews.models import Review
from searches.entrez import EntrezClient, EntrezConfig, EntrezError, RateLimiter
from searches.formats import UnsupportedFile, detect_format
from searches.import_rows import (
    RECORD_COLUMNS,
    SOURCE_COLUMNS,
    ParseJob,
    PreparedBatch,
    batches_in_child,
    clean,
    parse_stream,
    prepared_batches,
)
from searches.models import ColumnMappingMemory, Record, RecordSource, Search
from searches.parsers import FORMATS, ParsedRecord, ParseError
from searches.parsers.base import SNIFF_BYTES, open_text

logger = logging.getLogger(__name__)

IMPORT_BATCH = 2000
SEARCH_FIELDS = (
    "source_type",
    "database",
    "platform",
    "run_on",
    "query",
    "filters",
    "hits_reported",
    "notes",
)


def file_sha256(upload: IO[bytes]) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(partial(upload.read, 1 << 20), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _duplicate_message(file_name: str, earlier: Search) -> str:
    if earlier.status == Search.Status.MAPPING:
        return (
            f"{file_name} was uploaded already and waits for its columns to be mapped: "
            f"open the search of {earlier.database} in the search log."
        )
    if earlier.status in (Search.Status.PENDING, Search.Status.IMPORTING):
        return f"{file_name} is being imported already (search of {earlier.database})."
    return (
        f"{file_name} was already imported into this review on "
        f"{earlier.created_at:%d %B %Y} (search of {earlier.database}, "
        f"file {earlier.file_name}). The same file twice would double its records."
    )


def _duplicate_of(review: Review, sha256: str) -> Search | None:
    return (
        Search.objects.filter(review=review)
        .filter(file_sha256=sha256)
        .exclude(status=Search.Status.FAILED)
        .order_by("created_at")
        .first()
    )


@transaction.atomic
def search_file_create(
    *,
    review: Review,
    actor: User | None,
    upload: File[bytes],
    file_name: str,
    column_mapping: dict[str, Any] | None = None,
    enqueue: bool = True,
    **details: Any,
) -> Search:
    """Log a search and queue the import of its exported file (with `enqueue`
    False the caller runs search_import_run itself).

    Refuses, storing nothing, an empty, oversized, unreadable or already
    imported file, with a message naming the file."""
    unknown = set(details) - set(SEARCH_FIELDS)
    if unknown:
        raise TypeError(f"Unknown search fields: {sorted(unknown)}")
    size = upload.size or 0
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise ValidationError(
            f"{file_name} is {size / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB. "
            "Split the export into smaller files."
        )
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    try:
        file_format = detect_format(file_name, head)
    except UnsupportedFile as error:
        raise ValidationError(str(error)) from None
    sha256 = file_sha256(upload)
    earlier = _duplicate_of(review, sha256)
    if earlier is not None:
        raise ValidationError(_duplicate_message(file_name, earlier))
    needs_mapping = False
    if file_format in ("csv", "excel") and column_mapping is None:
        header = _header_of(upload, file_format)
        remembered = ColumnMappingMemory.objects.filter(
            review=review, header_key=header_key(header)
        ).first()
        if remembered is not None:
            column_mapping = remembered.mapping
        else:
            needs_mapping = _detect_mapping(file_format, header) is None
    search = Search(
        review=review,
        created_by=actor,
        method=Search.Method.FILE,
        file_name=file_name[:255],
        file_sha256=sha256,
        file_size=size,
        file_format=file_format,
        column_mapping=column_mapping,
        **details,
    )
    try:
        with transaction.atomic():
            search.save()
    except IntegrityError:
        # The same file uploaded twice at once: the constraint let one in.
        raise ValidationError(f"{file_name} is being imported already.") from None
    search.file.save(file_name, upload, save=False)
    search.save(update_fields=["file"])
    audit_event_create(
        actor=actor,
        verb="search.created",
        target=search,
        review_id=review.pk,
        after=_search_snapshot(search),
    )
    if needs_mapping and enqueue:
        # A person maps the columns first (searches:mapping); then it imports.
        search.status = Search.Status.MAPPING
        search.save(update_fields=["status", "updated_at"])
    else:
        _import_job_create(search, actor, enqueue=enqueue)
    return search


# --- CSV and Excel column mapping -------------------------------------------

MAPPABLE_FIELDS = [
    ("title", "Title"),
    ("abstract", "Abstract"),
    ("authors", "Authors"),
    ("year", "Year"),
    ("journal", "Journal or source"),
    ("volume", "Volume"),
    ("issue", "Issue"),
    ("pages", "Pages"),
    ("start_page", "First page"),
    ("end_page", "Last page"),
    ("doi", "DOI"),
    ("pmid", "PMID"),
    ("issn", "ISSN"),
    ("keywords", "Keywords"),
    ("language", "Language"),
    ("url", "Link"),
    ("source_id", "Accession number"),
]


def header_key(header: list[str]) -> str:
    """Identifies a column layout, to remember its mapping."""
    return hashlib.sha256("\x1f".join(header).encode()).hexdigest()


def _tabular_module(file_format: str) -> Any:
    return importlib.import_module(f"searches.parsers.{FORMATS[file_format].module}")


def _header_of(binary: IO[bytes], file_format: str) -> list[str]:
    binary.seek(0)
    module = _tabular_module(file_format)
    try:
        if FORMATS[file_format].binary:
            header, _ = module.read_header(binary)
        else:
            text = open_text(binary)  # type: ignore[arg-type]
            try:
                header, _ = module.read_header(text)
            finally:
                # Leave the upload open: the caller still reads it.
                cast(io.TextIOWrapper, text).detach()
    except ParseError as error:
        raise ValidationError(str(error)) from None
    binary.seek(0)
    return list(header)


def _detect_mapping(file_format: str, header: list[str]) -> Any:
    return _tabular_module(file_format).detect_mapping(header)


def search_header(search: Search) -> list[str]:
    """The column names of a search's CSV or Excel file."""
    with search.file.open("rb") as binary:
        return _header_of(binary, search.file_format)


@transaction.atomic
def search_mapping_set(
    *, search: Search, actor: User | None, columns: dict[str, str]
) -> Search:
    """Say which column holds which field, remember it for the review, and import."""
    search = Search.objects.select_for_update().get(pk=search.pk)
    if search.status != Search.Status.MAPPING:
        raise ValidationError("This file's columns are mapped already.")
    header = search_header(search)
    chosen = {field: column for field, column in columns.items() if column}
    if not chosen.get("title"):
        raise ValidationError("Choose the column that holds the titles.")
    unknown = sorted(set(chosen.values()) - set(header))
    if unknown:
        raise ValidationError(
            f"No such column in {search.file_name}: {', '.join(unknown)}."
        )
    try:
        mapping = _tabular_module(search.file_format).ColumnMapping.from_dict(chosen)
    except ValueError as error:
        raise ValidationError(str(error)) from None
    search.column_mapping = mapping.to_dict()
    search.status = Search.Status.PENDING
    search.save(update_fields=["column_mapping", "status", "updated_at"])
    ColumnMappingMemory.objects.update_or_create(
        review_id=search.review_id,
        header_key=header_key(header),
        defaults={"mapping": search.column_mapping},
    )
    audit_event_create(
        actor=actor,
        verb="search.columns_mapped",
        target=search,
        review_id=search.review_id,
        after={"mapping": chosen},
    )
    _import_job_create(search, actor, enqueue=True)
    return search


DISCARDABLE = (Search.Status.MAPPING, Search.Status.FAILED)


@transaction.atomic
def search_discard(*, search: Search, actor: User) -> None:
    """Remove a search that brought in no records (its import failed, or its
    columns were never mapped) from the log, with its stored file; audited.

    Refuses any other search: imported records stay traceable to their search."""
    locked = Search.objects.select_for_update().get(pk=search.pk)
    if locked.status not in DISCARDABLE:
        raise ValidationError(
            f"{locked.file_name or locked.database} is "
            f"{locked.get_status_display().lower()}: only a failed or unmapped "
            "search can be discarded."
        )
    audit_event_create(
        actor=actor,
        verb="search.discarded",
        target=locked,
        review_id=locked.review_id,
        before={**_search_snapshot(locked), "status": locked.status},
    )
    if locked.file:
        # The file goes only once the row is gone for good.
        transaction.on_commit(partial(locked.file.storage.delete, locked.file.name))
    locked.delete()


def _search_snapshot(search: Search) -> dict[str, Any]:
    snapshot = {name: getattr(search, name) for name in SEARCH_FIELDS}
    snapshot["run_on"] = str(search.run_on)
    snapshot.update(file_name=search.file_name, file_sha256=search.file_sha256)
    return snapshot


def _import_job_create(search: Search, actor: User | None, *, enqueue: bool) -> None:
    """The job that imports a search (a file, or a PubMed run), queued after commit."""
    from searches import tasks  # tasks import us

    if search.method == Search.Method.ENTREZ:
        kind, task = "searches.pubmed", tasks.pubmed_import
        label = f"Searching PubMed: {search.query[:80]}"
    else:
        kind, task = "searches.import", tasks.search_import
        label = f"Importing {search.file_name}"[:200]
    job = job_create(
        kind=kind,
        label=label,
        review_id=search.review_id,
        params={"search_id": search.pk},
        total=100,
        created_by=actor,
    )
    search.job = job
    search.save(update_fields=["job", "updated_at"])
    if enqueue:
        transaction.on_commit(partial(task.delay, job_id=job.pk, search_id=search.pk))


def _import_succeeded(
    search: Search, job_id: int | None, count: int, **fields: Any
) -> None:
    """Make an import's records count (status IMPORTED), audited."""
    with transaction.atomic():
        if not _still_claimed(search):
            return
        search.import_token = ""
        fields["import_token"] = ""
        search.status = Search.Status.IMPORTED
        search.records_imported = count
        for name, value in fields.items():
            setattr(search, name, value)
        search.save(update_fields=["status", "records_imported", *fields, "updated_at"])
        audit_event_create(
            actor=search.created_by,
            verb="search.imported",
            target=search,
            review_id=search.review_id,
            after={
                "records_imported": count,
                "format": search.file_format,
                **{k: v for k, v in fields.items() if k != "import_token"},
            },
        )
    if job_id is not None:
        job_succeed(job_id=job_id, message=f"{count:,} records imported")


# --- Running an import -------------------------------------------------------


class _PositionReader(io.RawIOBase):
    """A seekable raw view of a stored file that can tell how far reading got,
    whatever buffering the parsers put on top (for progress by bytes)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


CLAIM_EXPIRES = timedelta(minutes=5)


class _ClaimLost(Exception):
    """Another worker took this import over (this one stalled past CLAIM_EXPIRES)."""


def _import_claim(search: Search) -> bool:
    """Become the one worker importing `search`. False when another worker holds
    a live claim (a duplicate task) or there is nothing to import; a claim whose
    heartbeat stopped (a crashed worker) is taken over."""
    token = secrets.token_hex(16)
    now = timezone.now()
    stale = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - CLAIM_EXPIRES)
    claimable = Q(status=Search.Status.PENDING) | (
        Q(status=Search.Status.IMPORTING) & stale
    )
    claimed = Search.objects.filter(claimable, pk=search.pk).update(
        status=Search.Status.IMPORTING, import_token=token, heartbeat_at=now, error=""
    )
    if claimed:
        search.status, search.import_token = Search.Status.IMPORTING, token
    return bool(claimed)


def _import_beat(search: Search) -> None:
    """Renew the claim (inside a batch's transaction); raises _ClaimLost if gone."""
    beats = Search.objects.filter(
        pk=search.pk, import_token=search.import_token
    ).update(heartbeat_at=timezone.now())
    if not beats:
        raise _ClaimLost


def _still_claimed(search: Search) -> bool:
    """Lock the search row; True if this worker still holds the import claim."""
    return (
        Search.objects.select_for_update()
        .filter(pk=search.pk, import_token=search.import_token)
        .exists()
    )


def search_import_run(*, search_id: int, job_id: int | None = None) -> None:
    """Import a search's file; idempotent (a rerun first removes what an
    interrupted run stored) and all-or-nothing."""
    search = Search.objects.select_related("review").get(pk=search_id)
    if not _import_claim(search):
        return
    if job_id is not None:
        job_start(job_id=job_id)
    _records_delete(search)  # what a crashed run of this import left behind
    try:
        count = _import_file(search, job_id)
    except _ClaimLost:
        return  # the worker that took over finishes (and cleans up)
    except (ParseError, UnsupportedFile, UnicodeError, ValueError) as error:
        _import_failed(search, job_id, f"{search.file_name}: {error}")
        return
    except Exception as error:
        _import_failed(
            search, job_id, f"{search.file_name}: unexpected error ({error})."
        )
        raise
    if count == 0:
        _import_failed(
            search, job_id, f"{search.file_name}: no records found in the file."
        )
        return
    _after_bulk_insert(count)
    _import_succeeded(search, job_id, count)


def _import_file(search: Search, job_id: int | None) -> int:
    size = search.file_size or 1
    now = db_datetime(timezone.now())
    count = 0
    with closing(_import_batches(search, now)) as batches:
        for batch in batches:
            _records_store(search, batch)
            count += len(batch.records)
            reset_queries()  # with DEBUG on, Django would keep every batch's SQL
            if job_id is not None:
                percent = min(99, int(100 * batch.bytes_read / size))
                job_progress(
                    job_id=job_id, done=percent, message=f"{count:,} records read"
                )
    return count


# An import this large changes the table enough for PostgreSQL's plans to go
# stale before autovacuum notices (a word search then reads every row).
ANALYZE_AFTER_RECORDS = 5000


def _after_bulk_insert(count: int) -> None:
    """PostgreSQL: merge the full-text index's pending list, which an import's
    inserts fill (migration 0007), so that word searches need not scan it; and
    after a large import, refresh the planner's statistics."""
    if connection.vendor != "postgresql":
        return
    try:
        # A savepoint, so that a refusal (the app's role does not own the
        # index, a read-only standby) leaves the caller's transaction usable.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT gin_clean_pending_list('searches_record_search_document')"
            )
            if count >= ANALYZE_AFTER_RECORDS:
                cursor.execute("ANALYZE searches_record, searches_recordsource")
    except DatabaseError as error:  # only a speed-up: never fail the import
        logger.warning("Index upkeep after an import was refused: %s", error)


def _import_batches(search: Search, now: Any) -> Generator[PreparedBatch, None, None]:
    """The file's records as rows, parsed ahead of storing: in a child process
    for a large file on local storage (both cores work), else in a thread."""
    path = _local_path(search)
    large = (search.file_size or 0) >= settings.IMPORT_PROCESS_MIN_BYTES
    head = (search.review_id, search.pk, now, now)
    mapping = search.column_mapping or None
    if path is not None and large:
        job = ParseJob(
            path=path,
            format_key=search.file_format,
            mapping=mapping,
            head=head,
            start=1,
            batch_size=IMPORT_BATCH,
        )
        yield from batches_in_child(job)
        return
    with search.file.open("rb") as stored:
        reader = _PositionReader(stored)
        binary = io.BufferedReader(reader, buffer_size=1 << 16)
        records = parse_stream(search.file_format, binary, mapping)
        prepared = prepared_batches(
            records, head, start=1, size=IMPORT_BATCH, tell=reader.tell
        )
        with closing(read_ahead(prepared)) as batches:
            yield from batches


def _local_path(search: Search) -> str | None:
    """The stored file's path when the storage is a local disk, else None."""
    try:
        return str(search.file.path)
    except NotImplementedError:  # remote storage: no path to hand a child
        return None


def _prepared_batches(
    search: Search, records: Iterator[ParsedRecord], now: Any, start: int
) -> Iterator[PreparedBatch]:
    head = (search.review_id, search.pk, now, now)
    return prepared_batches(records, head, start=start, size=IMPORT_BATCH)


@transaction.atomic
def _records_store(search: Search, batch: PreparedBatch) -> None:
    _import_beat(search)
    ids = insert_rows(Record, RECORD_COLUMNS, batch.records, json_encoded=True)
    search_id = search.pk
    insert_rows(
        RecordSource,
        SOURCE_COLUMNS,
        [
            (record_id, search_id, *source)
            for record_id, source in zip(ids, batch.sources, strict=True)
        ],
    )


def _records_delete(search: Search) -> None:
    with transaction.atomic():
        RecordSource.objects.filter(search=search).delete()
        Record.objects.filter(search=search).delete()


def _import_failed(search: Search, job_id: int | None, message: str) -> None:
    message = clean(message)
    with transaction.atomic():
        if not _still_claimed(search):
            return  # another worker took the import over
        _records_delete(search)
        search.status = Search.Status.FAILED
        search.error = message
        search.records_imported = 0
        search.import_token = ""
        search.save(
            update_fields=[
                "status",
                "error",
                "records_imported",
                "import_token",
                "updated_at",
            ]
        )
        audit_event_create(
            actor=search.created_by,
            verb="search.import_failed",
            target=search,
            review_id=search.review_id,
            after={"error": message},
        )
    if job_id is not None:
        job_fail(job_id=job_id, error=message)


def search_import_now(
    *,
    review: Review,
    actor: User | None,
    binary: IO[bytes],
    file_name: str,
    **details: Any,
) -> Search:
    """Log a search and import its file in this process (management command, demo)."""
    details.setdefault("run_on", date.today())
    search = search_file_create(
        review=review,
        actor=actor,
        upload=File(binary, name=file_name),
        file_name=file_name,
        enqueue=False,
        **details,
    )
    search_import_run(search_id=search.pk, job_id=search.job_id)
    search.refresh_from_db()
    return search


# --- PubMed through Entrez ---------------------------------------------------

PUBMED_PLATFORM = "NCBI E-utilities (Entrez)"


def entrez_client() -> EntrezClient:
    """An Entrez client with this site's NCBI settings. Raises ValidationError
    when NCBI_EMAIL is not set (NCBI requires a contact address)."""
    try:
        config = EntrezConfig(
            email=settings.NCBI_EMAIL,
            tool=settings.NCBI_TOOL,
            api_key=settings.NCBI_API_KEY,
        )
    except ValueError:
        raise ValidationError(
            "PubMed searching is not set up: the site administrator must set "
            "NCBI_EMAIL (a contact address NCBI requires)."
        ) from None
    # NCBI's allowance is per key: shared by the web process and every worker.
    key = "ncbi:" + (
        hashlib.sha256(config.api_key.encode()).hexdigest()[:16]
        if config.api_key
        else "no-key"
    )
    interval = RateLimiter.MARGIN / config.requests_per_second
    return EntrezClient(config, limiter=SharedRateLimiter(key, interval))


@transaction.atomic
def pubmed_search_create(
    *,
    review: Review,
    actor: User | None,
    term: str,
    mindate: str = "",
    maxdate: str = "",
    notes: str = "",
    rerun_of: Search | None = None,
    enqueue: bool = True,
) -> Search:
    """Log a PubMed search and queue its run and import. A re-run of a saved
    search (`rerun_of`) imports only the PMIDs that earlier runs did not."""
    term = term.strip()
    if not term:
        raise ValidationError("Type a PubMed search.")
    if rerun_of is not None:
        rerun_of = Search.objects.select_for_update().get(pk=rerun_of.pk)
        pubmed_rerun_check(rerun_of)
    limits = (
        f"Publication date {mindate or 'any'} to {maxdate or 'any'}"
        if (mindate or maxdate)
        else ""
    )
    search = Search.objects.create(
        review=review,
        created_by=actor,
        method=Search.Method.ENTREZ,
        database="PubMed",
        platform=PUBMED_PLATFORM,
        run_on=date.today(),
        query=term,
        filters=limits,
        notes=notes,
        rerun_of=rerun_of,
        column_mapping={"mindate": mindate, "maxdate": maxdate},
    )
    audit_event_create(
        actor=actor,
        verb="search.created",
        target=search,
        review_id=review.pk,
        after=_search_snapshot(search),
    )
    _import_job_create(search, actor, enqueue=enqueue)
    return search


def search_family(search: Search) -> list[int]:
    """The ids of every run of a saved search: the first run and all re-runs."""
    root = search
    while root.rerun_of_id is not None:
        root = Search.objects.get(pk=root.rerun_of_id)
    family, frontier = [root.pk], [root.pk]
    while frontier:
        frontier = list(
            Search.objects.filter(rerun_of_id__in=frontier).values_list("pk", flat=True)
        )
        family += frontier
    return family


def _earlier_pmids(search: Search) -> set[str]:
    """PMIDs imported by the other runs of the same saved search."""
    others = [pk for pk in search_family(search) if pk != search.pk]
    return set(
        Record.objects.filter(
            sources__search_id__in=others,
            sources__search__status=Search.Status.IMPORTED,
        )
        .exclude(pmid="")
        .values_list("pmid", flat=True)
    )


def pubmed_rerun_check(earlier: Search) -> None:
    """A saved search can run again once its last run finished, one run at a time,
    so two runs cannot both import the same new records."""
    if earlier.method != Search.Method.ENTREZ:
        raise ValidationError("Only PubMed searches run through Entrez can run again.")
    busy = Search.objects.filter(
        pk__in=search_family(earlier),
        status__in=[Search.Status.PENDING, Search.Status.IMPORTING],
    )
    if busy.exists():
        raise ValidationError(
            "This search is running already; wait until it has finished."
        )
    if earlier.status != Search.Status.IMPORTED:
        raise ValidationError("Only a search that imported its records can run again.")


def pubmed_import_run(
    *, search_id: int, job_id: int | None = None, client: EntrezClient | None = None
) -> None:
    """Run a logged PubMed search and import its records; idempotent and
    all-or-nothing, like file imports."""
    from searches.parsers import pubmed_xml

    search = Search.objects.select_related("review").get(pk=search_id)
    if not _import_claim(search):
        return
    if job_id is not None:
        job_start(job_id=job_id)
    _records_delete(search)
    dates = search.column_mapping or {}
    mindate, maxdate = dates.get("mindate") or None, dates.get("maxdate") or None
    try:
        client = client or entrez_client()
        counted = client.count(search.query, mindate=mindate, maxdate=maxdate)
        if counted.errors:
            raise EntrezError("PubMed could not run the search: " + "; ".join(
                notice.text for notice in counted.errors
            ))  # fmt: skip
        if search.rerun_of_id:
            known = _earlier_pmids(search)
            new = client.new_pmids(
                search.query, known, mindate=mindate, maxdate=maxdate
            )
            batches = client.fetch_pmids(new)
        else:
            plan = client.plan(search.query, mindate=mindate, maxdate=maxdate)
            batches = client.fetch_plan(plan)
        count = 0
        now = db_datetime(timezone.now())
        for batch in batches:
            parsed = pubmed_xml.parse(io.BytesIO(batch.xml))
            for stored in _prepared_batches(search, parsed, now, start=count + 1):
                _records_store(search, stored)
                count += len(stored.records)
                reset_queries()
            if job_id is not None:
                job_progress(
                    job_id=job_id,
                    done=batch.done,
                    total=batch.total,
                    message=f"{count:,} records fetched",
                )
    except _ClaimLost:
        return
    except (EntrezError, ParseError, ValidationError) as error:
        message = (
            getattr(error, "message", None)
            or " ".join(getattr(error, "messages", []))
            or str(error)
        )
        _import_failed(search, job_id, f"PubMed: {message}")
        return
    except Exception as error:
        _import_failed(search, job_id, f"PubMed: unexpected error ({error}).")
        raise
    notes = search.notes
    if counted.query_translation:
        translation = f"PubMed ran it as: {counted.query_translation}"
        notes = f"{notes}\n{translation}" if notes else translation
    _after_bulk_insert(count)
    _import_succeeded(search, job_id, count, hits_reported=counted.count, notes=notes)
