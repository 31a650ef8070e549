"""Duplicate detection for bibliographic records: a pure engine, no Django.

    from searches.dedup import DedupRecord, find_duplicates
    result = find_duplicates([DedupRecord.from_values(pk, values), ...])
    result.groups      # duplicate groups (AUTO), record ids in input order
    result.pairs       # AUTO and POSSIBLE pairs with score, decision and reason

`find_duplicates_incremental(existing, new)` checks later imports against the
records already deduplicated; `compare_records(a, b)` scores one pair.
"""

from searches.dedup.engine import (
    compare_records,
    find_duplicates,
    find_duplicates_incremental,
    group_ids,
)
from searches.dedup.scoring import DEFAULT_THRESHOLDS
from searches.dedup.types import (
    Decision,
    DedupRecord,
    DedupResult,
    RecordId,
    ScoredPair,
    Thresholds,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "Decision",
    "DedupRecord",
    "DedupResult",
    "RecordId",
    "ScoredPair",
    "Thresholds",
    "compare_records",
    "find_duplicates",
    "find_duplicates_incremental",
    "group_ids",
]
