"""Writes of deduplication: runs, merges, the review queue, undo.

The matching itself is the pure engine in `searches.dedup`; this module feeds it
the review's records and stores what it decides. Nothing is deleted: a duplicate
points to the record it was merged into (`Record.duplicate_of`), its sources
still count, and every merge and undo is a `Merge` row plus an AuditEvent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit_event_create
from core.models import Job, User
from core.services import job_create, job_fail, job_progress, job_start, job_succeed
from reviews.models import Review
from searches.dedup import (
    Decision,
    DedupRecord,
    ScoredPair,
    Thresholds,
    find_duplicates,
    find_duplicates_incremental,
)
from searches.models import (
    DedupSettings,
    DuplicatePair,
    Merge,
    Record,
    RecordSource,
)

DEDUP_KIND = "searches.dedup"
# Below this score a pair is more likely two records than one.
MIN_AUTO_THRESHOLD = 0.5
# What the engine reads of a record.
ENGINE_FIELDS = (
    "id", "title", "authors", "year", "journal", "volume", "issue", "pages", "doi",
    "pmid", "abstract", "issn", "publication_types",
)  # fmt: skip
# Empty fields of a primary that a duplicate may fill.
FILLABLE = (
    "abstract", "year", "journal", "volume", "issue", "pages", "doi", "pmid",
    "pmcid", "issn", "language", "url",
)  # fmt: skip
STORE_BATCH = 500


def dedup_settings(review: Review) -> DedupSettings:
    settings, _ = DedupSettings.objects.get_or_create(review=review)
    return settings


@transaction.atomic
def dedup_settings_update(
    *, review: Review, actor: User, auto_threshold: float, possible_threshold: float
) -> DedupSettings:
    """Change a review's thresholds (used by later runs; merges made stay). Audited."""
    if auto_threshold < MIN_AUTO_THRESHOLD:
        raise ValidationError(
            f"Automatic merges start at {MIN_AUTO_THRESHOLD} or more: below it a "
            "pair is more likely two records than one."
        )
    settings = DedupSettings.objects.select_for_update().get(
        pk=dedup_settings(review).pk
    )
    before = {
        "auto_threshold": settings.auto_threshold,
        "possible_threshold": settings.possible_threshold,
    }
    settings.auto_threshold = auto_threshold
    settings.possible_threshold = possible_threshold
    settings.full_clean()
    settings.save(update_fields=["auto_threshold", "possible_threshold"])
    audit_event_create(
        actor=actor,
        verb="dedup.settings_changed",
        target=review,
        review_id=review.pk,
        before=before,
        after={
            "auto_threshold": auto_threshold,
            "possible_threshold": possible_threshold,
        },
    )
    return settings


def _thresholds(review: Review) -> Thresholds:
    settings = dedup_settings(review)
    return Thresholds(
        auto=settings.auto_threshold, possible=settings.possible_threshold
    )


# --- Running ---------------------------------------------------------------------


def dedup_running(review: Review) -> Job | None:
    return (
        Job.objects.filter(review=review, kind=DEDUP_KIND)
        .filter(status__in=(Job.Status.QUEUED, Job.Status.RUNNING))
        .first()
    )


@transaction.atomic
def dedup_start(*, review: Review, actor: User | None) -> Job:
    """Queue a deduplication run of the review (one at a time)."""
    from searches import tasks  # tasks import us

    Review.objects.select_for_update().get(pk=review.pk)  # one start at a time
    running = dedup_running(review)
    if running is not None:
        raise ValidationError("Deduplication is already running for this review.")
    job = job_create(
        kind=DEDUP_KIND,
        label="Finding duplicate records",
        review_id=review.pk,
        created_by=actor,
    )
    transaction.on_commit(
        partial(tasks.dedup.delay, job_id=job.pk, review_id=review.pk)
    )
    return job


def _engine_record(row: dict[str, Any]) -> DedupRecord:
    return DedupRecord.from_values(row["id"], row)


def dedup_run(*, review_id: int, job_id: int | None = None) -> dict[str, int]:
    """Compare the review's records not yet checked with each other and with the
    records already checked; merge the certain pairs, queue the possible ones.

    Returns counts (merged, queued). Pairs a person already decided are never
    decided again; records merged before stay merged."""
    review = Review.objects.get(pk=review_id)
    if job_id is not None and not job_start(job_id=job_id):
        return {"merged": 0, "queued": 0}
    try:
        counts = _dedup_run(review, job_id)
    except Exception as error:
        if job_id is not None:
            job_fail(job_id=job_id, error=f"Deduplication failed: {error}")
        raise
    if job_id is not None:
        job_succeed(
            job_id=job_id,
            message=(
                f"{counts['merged']:,} duplicates merged, "
                f"{counts['queued']:,} pairs to check"
            ),
        )
    return counts


def _dedup_run(review: Review, job_id: int | None) -> dict[str, int]:
    def progress(done: int, total: int) -> None:
        if job_id is not None and total:
            job_progress(
                job_id=job_id,
                done=10 + int(70 * done / total),
                total=100,
                message=f"Comparing records: {done:,} of {total:,}",
            )

    standing = Record.objects.unique(review.pk).order_by("id")
    rows = list(standing.values(*ENGINE_FIELDS, "dedup_checked"))
    existing = [_engine_record(r) for r in rows if r["dedup_checked"]]
    new = [_engine_record(r) for r in rows if not r["dedup_checked"]]
    thresholds = _thresholds(review)
    if not new:
        return {"merged": 0, "queued": 0}
    if existing:
        result = find_duplicates_incremental(
            existing, new, thresholds=thresholds, progress=progress
        )
    else:
        result = find_duplicates(new, thresholds=thresholds, progress=progress)
    decided = _decided_pairs(review)
    merged = _auto_merges_store(review, result.groups, result.pairs, decided)
    queued = _possible_pairs_store(
        review, result.by_decision(Decision.POSSIBLE), decided
    )
    Record.objects.filter(pk__in=[r.id for r in new]).update(dedup_checked=True)
    return {"merged": merged, "queued": queued}


def _decided_pairs(review: Review) -> set[tuple[int, int]]:
    """Pairs a person said are distinct: an automatic run never merges them."""
    return set(
        DuplicatePair.objects.filter(
            review=review, status=DuplicatePair.Status.DISTINCT
        ).values_list("record_a_id", "record_b_id")
    )


def _key(a: Any, b: Any) -> tuple[int, int]:
    a, b = int(a), int(b)
    return (a, b) if a < b else (b, a)


def _auto_merges_store(
    review: Review,
    groups: Iterable[Sequence[Any]],
    pairs: Iterable[ScoredPair],
    decided: set[tuple[int, int]],
) -> int:
    best: dict[int, ScoredPair] = {}  # per record: its best AUTO pair, for the reason
    for pair in pairs:
        if pair.decision is Decision.AUTO:
            for end in (int(pair.a), int(pair.b)):
                if end not in best or best[end].score < pair.score:
                    best[end] = pair
    merged = 0
    for group in groups:
        ids = [int(i) for i in group]
        with transaction.atomic():
            records = {
                r.pk: r for r in Record.objects.select_for_update().filter(pk__in=ids)
            }
            if len(records) < 2 or any(r.duplicate_of_id for r in records.values()):
                continue  # changed since the run read them
            primary = _primary_of([records[i] for i in ids if i in records])
            for record in records.values():
                if record.pk == primary.pk:
                    continue
                if _key(primary.pk, record.pk) in decided:
                    continue  # a person said no
                found = best.get(record.pk)
                _merge(
                    primary=primary,
                    duplicate=record,
                    method=Merge.Method.AUTO,
                    score=found.score if found else 1.0,
                    matched=list(found.matched) if found else [],
                    actor=None,
                )
                merged += 1
    return merged


def _filled_count(record: Record) -> int:
    return sum(1 for field in FILLABLE if getattr(record, field)) + bool(record.authors)


def _primary_of(records: list[Record]) -> Record:
    """The record a group keeps: one checked before (screening may have begun on
    it), then the most complete, then the oldest."""
    return min(records, key=lambda r: (not r.dedup_checked, -_filled_count(r), r.pk))


def _merge(
    *,
    primary: Record,
    duplicate: Record,
    method: str,
    score: float,
    matched: list[str],
    actor: User | None,
) -> Merge:
    """Merge (inside the caller's transaction): link, fill the primary's empty
    fields, audit."""
    filled: dict[str, Any] = {}
    for field in FILLABLE:
        if not getattr(primary, field) and getattr(duplicate, field):
            filled[field] = getattr(primary, field)
            setattr(primary, field, getattr(duplicate, field))
    if filled:
        primary.save(update_fields=[*filled, "updated_at"])
    duplicate.duplicate_of = primary
    duplicate.save(update_fields=["duplicate_of", "updated_at"])
    merge = Merge.objects.create(
        review_id=primary.review_id,
        primary=primary,
        duplicate=duplicate,
        method=method,
        score=score,
        matched=matched,
        filled=filled,
        merged_by=actor,
    )
    audit_event_create(
        actor=actor,
        verb="record.merged",
        target=duplicate,
        review_id=primary.review_id,
        after={
            "primary": primary.pk,
            "duplicate": duplicate.pk,
            "method": method,
            "score": round(score, 4),
            "matched": matched,
            "filled": sorted(filled),
        },
    )
    return merge


def _possible_pairs_store(
    review: Review, pairs: list[ScoredPair], decided: set[tuple[int, int]]
) -> int:
    parent = dict(
        Record.objects.filter(review=review, duplicate_of__isnull=False).values_list(
            "pk", "duplicate_of_id"
        )
    )

    def root(pk: int) -> int:
        for _ in range(100):  # merges form short chains
            if pk not in parent:
                break
            pk = parent[pk]
        return pk

    rows = []
    for pair in pairs:
        a, b = _key(pair.a, pair.b)
        if (a, b) in decided or root(a) == root(b):
            continue  # decided by a person, or merged into one group meanwhile
        rows.append(
            DuplicatePair(
                review=review,
                record_a_id=a,
                record_b_id=b,
                score=pair.score,
                matched=list(pair.matched),
                conflicts=list(pair.conflicts),
                rule=pair.rule[:200],
            )
        )
    created = DuplicatePair.objects.bulk_create(
        rows, batch_size=STORE_BATCH, ignore_conflicts=True
    )
    return len(created)


# --- People deciding -------------------------------------------------------------


def primary_of(record: Record) -> Record:
    """Follow merges to the record that stands for the group."""
    seen = set()
    while record.duplicate_of_id is not None and record.pk not in seen:
        seen.add(record.pk)
        record = Record.objects.get(pk=record.duplicate_of_id)
    return record


@transaction.atomic
def pair_decide(*, pair: DuplicatePair, actor: User, same: bool) -> None:
    """A person's decision on a queued pair: merge the two, or keep both (and
    never propose merging them automatically again). Audited."""
    locked = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
    if locked.status != DuplicatePair.Status.OPEN:
        raise ValidationError("This pair was already decided.")
    locked.status = DuplicatePair.Status.SAME if same else DuplicatePair.Status.DISTINCT
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit_event_create(
        actor=actor,
        verb="duplicate_pair.decided",
        target=locked,
        review_id=locked.review_id,
        after={
            "status": locked.status,
            "a": locked.record_a_id,
            "b": locked.record_b_id,
        },
    )
    if not same:
        return
    a = primary_of(Record.objects.select_for_update().get(pk=locked.record_a_id))
    b = primary_of(Record.objects.select_for_update().get(pk=locked.record_b_id))
    if a.pk == b.pk:
        return  # already in one group
    primary = _primary_of([a, b])
    duplicate = b if primary.pk == a.pk else a
    _merge(
        primary=primary,
        duplicate=duplicate,
        method=Merge.Method.PERSON,
        score=locked.score,
        matched=list(locked.matched),
        actor=actor,
    )


@transaction.atomic
def merge_undo(*, merge: Merge, actor: User) -> None:
    """Split a duplicate off again: it stands on its own, and the primary's fields
    it filled are emptied again (unless edited since). Audited."""
    locked = Merge.objects.select_for_update().get(pk=merge.pk)
    if locked.undone_at is not None:
        raise ValidationError("This merge was already undone.")
    primary = Record.objects.select_for_update().get(pk=locked.primary_id)
    duplicate = Record.objects.select_for_update().get(pk=locked.duplicate_id)
    restored = []
    for field, before in locked.filled.items():
        if getattr(primary, field) == getattr(duplicate, field):
            setattr(primary, field, before)
            restored.append(field)
    if restored:
        primary.save(update_fields=[*restored, "updated_at"])
    duplicate.duplicate_of = None
    duplicate.save(update_fields=["duplicate_of", "updated_at"])
    locked.undone_at = timezone.now()
    locked.undone_by = actor
    locked.save(update_fields=["undone_at", "undone_by", "updated_at"])
    # A pair a person had merged goes back to the queue.
    DuplicatePair.objects.filter(
        review_id=locked.review_id,
        record_a_id=min(primary.pk, duplicate.pk),
        record_b_id=max(primary.pk, duplicate.pk),
        status=DuplicatePair.Status.SAME,
    ).update(status=DuplicatePair.Status.OPEN, decided_by=None, decided_at=None)
    audit_event_create(
        actor=actor,
        verb="record.merge_undone",
        target=duplicate,
        review_id=locked.review_id,
        before={"primary": primary.pk, "method": locked.method},
        after={"restored": restored},
    )


# --- Report -------------------------------------------------------------------------

REPORT_HEADER = [
    "group",
    "records",
    "record_ids",
    "source_ids",
    "databases",
    "merged",
    "reasons",
]


def dedup_report_rows(review: Review) -> list[list[str]]:
    """One row per duplicate group (active merges): the primary's id, every
    member's record id and its identifier in the file or search it came from (the
    CSV id column, the RIS ID/accession number, the PMID), how each duplicate was
    merged and why."""
    merges = list(
        Merge.objects.filter(review=review, undone_at__isnull=True)
        .order_by("id")
        .values_list("primary_id", "duplicate_id", "method", "score", "matched")
    )
    parent = {duplicate: primary for primary, duplicate, *_ in merges}

    def root(pk: int) -> int:
        for _ in range(100):
            if pk not in parent:
                break
            pk = parent[pk]
        return pk

    groups: dict[int, list[tuple[int, str, float, list[str]]]] = {}
    for primary, duplicate, method, score, matched in merges:
        groups.setdefault(root(primary), []).append((duplicate, method, score, matched))
    members = set(groups) | set(parent)
    sources: dict[int, list[tuple[str, str]]] = {}
    for record_id, source_id, database in (
        RecordSource.objects.filter(record_id__in=members)
        .order_by("record_id", "search_id", "position")
        .values_list("record_id", "source_id", "search__database")
    ):
        sources.setdefault(record_id, []).append((source_id, database))
    rows = []
    for primary, duplicates in sorted(groups.items()):
        ids = [primary, *(d for d, *_ in duplicates)]
        rows.append(
            [
                str(primary),
                str(len(ids)),
                "; ".join(str(i) for i in ids),
                "; ".join(
                    ",".join(s or "-" for s, _ in sources.get(i, [])) or "-"
                    for i in ids
                ),
                "; ".join(
                    ",".join(db for _, db in sources.get(i, [])) or "-" for i in ids
                ),
                "; ".join(method for _, method, *_ in duplicates),
                "; ".join(
                    f"{score:.3f} {'+'.join(matched) or '-'}"
                    for *_, score, matched in duplicates
                ),
            ]
        )
    return rows
