"""The engine's inputs and outputs: plain frozen dataclasses, no Django.

The Django side builds `DedupRecord`s from its rows (`DedupRecord.from_values` takes
the dict that `searches.import_rows.record_values` produces), calls one of the engine
functions, and stores the `ScoredPair`s and groups it gets back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# A record's id as the caller knows it: a database pk or the id column of a file.
RecordId = int | str


@dataclass(frozen=True, slots=True)
class DedupRecord:
    """One bibliographic record as the engine sees it. Empty string / None = missing."""

    id: RecordId
    title: str = ""
    # (family, given) per author, in the order printed.
    authors: tuple[tuple[str, str], ...] = ()
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    abstract: str = ""
    issn: str = ""
    # PubMed/Embase publication types or a BibTeX/RIS entry type ("Erratum",
    # "Conference Abstract", "inproceedings"); used only by the hard rules.
    publication_types: tuple[str, ...] = ()

    @classmethod
    def from_values(cls, id: RecordId, values: Mapping[str, Any]) -> DedupRecord:
        """A record from a `record_values`-shaped dict (authors as [family, given]
        lists). Unknown keys are ignored, missing ones are empty."""
        authors = tuple(
            (str(a[0] or ""), str(a[1] or "") if len(a) > 1 else "")
            for a in values.get("authors") or ()
        )
        year = values.get("year")
        return cls(
            id=id,
            title=str(values.get("title") or ""),
            authors=authors,
            year=int(year) if year else None,
            journal=str(values.get("journal") or ""),
            volume=str(values.get("volume") or ""),
            issue=str(values.get("issue") or ""),
            pages=str(values.get("pages") or ""),
            doi=str(values.get("doi") or ""),
            pmid=str(values.get("pmid") or ""),
            abstract=str(values.get("abstract") or ""),
            issn=str(values.get("issn") or ""),
            publication_types=tuple(
                str(t) for t in values.get("publication_types") or ()
            ),
        )


class Decision(StrEnum):
    """What the engine concludes about a pair."""

    AUTO = "auto"  # certain enough to merge without a person
    POSSIBLE = "possible"  # a person decides (the review queue)
    DISTINCT = "distinct"  # not the same record


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Score cut-offs: score >= auto is AUTO, score >= possible is POSSIBLE.

    Defaults: see `DEFAULT_THRESHOLDS` in `searches.dedup.scoring` for why.
    """

    auto: float = 0.95
    possible: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.possible <= self.auto <= 1.0:
            raise ValueError("thresholds need 0 <= possible <= auto <= 1")


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """A compared pair. `a` comes before `b` in the input order.

    `matched` names the fields that agree (the reason a person or a report sees),
    `conflicts` those that disagree, and `rule` the hard rule that made the pair
    DISTINCT (or that kept it out of AUTO), if any.
    """

    a: RecordId
    b: RecordId
    score: float
    decision: Decision
    matched: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    rule: str = ""

    @property
    def reason(self) -> str:
        """One line for a report: 'doi, title, authors, year' or the rule."""
        text = ", ".join(self.matched) if self.matched else "nothing matched"
        return f"{text}; {self.rule}" if self.rule else text


@dataclass(frozen=True, slots=True)
class DedupResult:
    """What a run found.

    `pairs` holds every AUTO and POSSIBLE pair, and DISTINCT ones only when asked
    for (they are many). `groups` are the duplicate groups formed from AUTO pairs,
    each listed in input order, largest first; records in no group are unique.
    `demoted` are AUTO-scored pairs the chaining guard refused to join (they are
    also in `pairs` as POSSIBLE, so a person sees them).
    """

    pairs: tuple[ScoredPair, ...]
    groups: tuple[tuple[RecordId, ...], ...]
    demoted: tuple[ScoredPair, ...] = ()
    candidates: int = 0
    stats: Mapping[str, int] = field(default_factory=dict)

    def by_decision(self, decision: Decision) -> list[ScoredPair]:
        """The pairs with that decision, best score first."""
        return sorted(
            (p for p in self.pairs if p.decision is decision),
            key=lambda p: -p.score,
        )


def records_by_id(records: Sequence[DedupRecord]) -> dict[RecordId, DedupRecord]:
    """id -> record; raises ValueError on a repeated id (pairs would be ambiguous)."""
    index: dict[RecordId, DedupRecord] = {}
    for record in records:
        if record.id in index:
            raise ValueError(f"record id {record.id!r} appears twice")
        index[record.id] = record
    return index
