"""The pipeline: normalise -> block -> score -> decide -> group.

`find_duplicates` runs it over a whole review, `find_duplicates_incremental`
over records added later (new against old and new against new only), and
`compare_records` scores one pair for a review page or a report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from searches.dedup.blocking import candidate_pairs, pack, unpack
from searches.dedup.grouping import group_links
from searches.dedup.normalise import NormRecord, normalise_record
from searches.dedup.scoring import (
    DEFAULT_THRESHOLDS,
    Evidence,
    compare,
    decide,
    scored_pair,
)
from searches.dedup.types import (
    Decision,
    DedupRecord,
    DedupResult,
    RecordId,
    ScoredPair,
    Thresholds,
    records_by_id,
)

# progress(done, total): called now and then while pairs are scored.
Progress = Callable[[int, int], None]
_PROGRESS_EVERY = 20_000


def compare_records(
    a: DedupRecord, b: DedupRecord, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> ScoredPair:
    """Score one pair (both normalised on the spot): the decision and reason a
    review page shows beside the two records."""
    return scored_pair(
        a.id, b.id, compare(normalise_record(0, a), normalise_record(1, b)), thresholds
    )


def find_duplicates(
    records: Sequence[DedupRecord],
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    keep_distinct: bool = False,
    max_group: int = 25,
    progress: Progress | None = None,
) -> DedupResult:
    """Find the duplicates among `records` (ids must be unique).

    Guarantees: every pair in the result has `a` before `b` in input order;
    groups contain only records joined by AUTO pairs and pass the chaining
    guard (see `grouping`); a refused AUTO pair is reported as POSSIBLE and in
    `demoted`; DISTINCT pairs are returned only with `keep_distinct`. The
    result is deterministic for a given input order.
    """
    return _run(records, 0, thresholds, keep_distinct, max_group, progress)


def find_duplicates_incremental(
    existing: Sequence[DedupRecord],
    new: Sequence[DedupRecord],
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    keep_distinct: bool = False,
    max_group: int = 25,
    progress: Progress | None = None,
) -> DedupResult:
    """Check records imported later against those already deduplicated.

    Only pairs with at least one record of `new` are scored (new-vs-old and
    new-vs-new); old-vs-old pairs were decided before and are never reported.
    Pass as `existing` the records still standing (the primaries of earlier
    groups plus the uniques). Groups may join new records to an existing one,
    never two existing records to each other.
    """
    records = [*existing, *new]
    return _run(records, len(existing), thresholds, keep_distinct, max_group, progress)


def _run(
    records: Sequence[DedupRecord],
    new_from: int,
    thresholds: Thresholds,
    keep_distinct: bool,
    max_group: int,
    progress: Progress | None,
) -> DedupResult:
    records_by_id(records)  # reject repeated ids early
    norm = [normalise_record(i, r) for i, r in enumerate(records)]
    candidates = candidate_pairs(norm, new_from=new_from)
    total = len(candidates)
    # Pairs the chaining guard may accept; every other candidate pair was
    # DISTINCT. Kept as packed ints: a dict of evidence would cost ~100 bytes a
    # candidate.
    joinable: set[int] = set()
    pairs: list[ScoredPair] = []
    links: list[tuple[int, int, float]] = []
    for done, packed in enumerate(sorted(candidates), start=1):
        i, j = unpack(packed)
        evidence = compare(norm[i], norm[j])
        pair = scored_pair(records[i].id, records[j].id, evidence, thresholds)
        if pair.decision is not Decision.DISTINCT and not evidence.parted:
            joinable.add(packed)
        if pair.decision is Decision.AUTO:
            links.append((i, j, evidence.score))
        if pair.decision is not Decision.DISTINCT or keep_distinct:
            pairs.append(pair)
        if progress and done % _PROGRESS_EVERY == 0:
            progress(done, total)
    if progress:
        progress(total, total)

    def compatible(i: int, j: int) -> bool:
        if i < new_from and j < new_from:
            # Two existing records stand apart already: a new one may not join them.
            return False
        packed = pack(i, j)
        if packed in joinable:
            return True
        if packed in candidates:
            return False
        # Never blocked together: compare now (rare, groups are small).
        return not _is_distinct(compare(norm[i], norm[j]), thresholds)

    groups, refused = group_links(links, compatible, max_group=max_group)
    pairs, demoted = _demote(pairs, records, refused)
    return DedupResult(
        pairs=tuple(pairs),
        groups=tuple(tuple(records[i].id for i in g) for g in groups),
        demoted=tuple(demoted),
        candidates=total,
        stats=_stats(pairs, groups, len(records), total),
    )


def _is_distinct(evidence: Evidence, thresholds: Thresholds) -> bool:
    """Apart for grouping: DISTINCT, or parted by a hard rule (queued only)."""
    return evidence.parted or decide(evidence, thresholds) is Decision.DISTINCT


def _demote(
    pairs: list[ScoredPair],
    records: Sequence[DedupRecord],
    refused: list[tuple[int, int]],
) -> tuple[list[ScoredPair], list[ScoredPair]]:
    # A refused AUTO link goes to a person instead.
    refused_ids = {(records[i].id, records[j].id) for i, j in refused}
    out: list[ScoredPair] = []
    demoted: list[ScoredPair] = []
    for pair in pairs:
        if (pair.a, pair.b) in refused_ids:
            pair = ScoredPair(
                a=pair.a,
                b=pair.b,
                score=pair.score,
                decision=Decision.POSSIBLE,
                matched=pair.matched,
                conflicts=pair.conflicts,
                rule="kept apart: would chain unrelated records",
            )
            demoted.append(pair)
        out.append(pair)
    return out, demoted


def _stats(
    pairs: list[ScoredPair], groups: list[list[int]], n: int, candidates: int
) -> dict[str, int]:
    counts = {d.value: 0 for d in Decision}
    for pair in pairs:
        counts[pair.decision.value] += 1
    return {
        "records": n,
        "candidates": candidates,
        "auto_pairs": counts["auto"],
        "possible_pairs": counts["possible"],
        "groups": len(groups),
        "duplicates_removed": sum(len(g) - 1 for g in groups),
    }


def group_ids(result: DedupResult) -> dict[RecordId, int]:
    """record id -> group number, for records in a duplicate group."""
    return {rid: n for n, group in enumerate(result.groups) for rid in group}


__all__ = [
    "NormRecord",
    "compare_records",
    "find_duplicates",
    "find_duplicates_incremental",
    "group_ids",
]
