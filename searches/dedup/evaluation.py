"""Measuring the engine against labelled data (the shared dedup fixtures).

Two labelled sets are read here: bib-dedupe's CSV conversion
(`records_pre_merged.csv`, BibTeX-style "Family, G and Family, G" authors) and
ASySD's `labelled_test_set.csv` (Windows-1252, "NA" for missing, authors glued
as "Adeli K.Lewis G. F."). Both come with `merged_record_ids.csv`: one row per
true duplicate group, ids joined by ';' ("id_0000012", which for ASySD is
record_id 12).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from searches.dedup.types import Decision, DedupRecord, DedupResult, RecordId


@dataclass(frozen=True)
class LabelledSet:
    """Records plus their true duplicate groups (records in no group are unique)."""

    name: str
    records: list[DedupRecord]
    groups: list[list[str]]


def _clean(value: str | None) -> str:
    value = (value or "").strip()
    return "" if value in ("NA", "nan", "NULL") else value


def _year(value: str) -> int | None:
    match = re.search(r"\d{4}", value)
    return int(match.group(0)) if match else None


def split_bibtex_authors(value: str) -> tuple[tuple[str, str], ...]:
    """'Zuber, J and Le Quintrec, M' -> (('Zuber', 'J'), ('Le Quintrec', 'M'))."""
    out: list[tuple[str, str]] = []
    for name in re.split(r"\s+and\s+", value):
        name = name.strip()
        if not name:
            continue
        family, _, given = name.partition(",")
        out.append((family.strip(), given.strip()))
    return tuple(out)


# An ASySD author ends with its initials ("Pangborn J. B."); the next starts
# right after the last initial's dot with a capital and a lower-case letter.
_ASYSD_SPLIT = re.compile(r"(?<=\.)\s*(?=[A-Z][a-z'\-])")
_ASYSD_NAME = re.compile(r"^(.*?)\s+((?:[A-Z][a-z]?\.?[\s-]*)+)$")


def split_asysd_authors(value: str) -> tuple[tuple[str, str], ...]:
    """'Adeli K.Lewis G. F.' -> (('Adeli', 'K.'), ('Lewis', 'G. F.'))."""
    out: list[tuple[str, str]] = []
    for name in _ASYSD_SPLIT.split(value):
        name = name.strip(" ;,")
        if not name:
            continue
        match = _ASYSD_NAME.match(name)
        if match:
            out.append((match.group(1).strip(), match.group(2).strip()))
        else:
            out.append((name, ""))
    return tuple(out)


def _read_groups(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            [i.strip() for i in row["merged_ids"].split(";") if i.strip()]
            for row in csv.DictReader(handle)
        ]


def load_labelled_set(folder: Path) -> LabelledSet:
    """Read one folder of `dedup-labelled/` (either format) with its groups."""
    groups = _read_groups(folder / "merged_record_ids.csv")
    bib = folder / "records_pre_merged.csv"
    if bib.exists():
        with bib.open(newline="", encoding="utf-8") as handle:
            records = [_from_bib_dedupe(row) for row in csv.DictReader(handle)]
    else:
        path = folder / "asysd_labelled_test_set.csv"
        with path.open(newline="", encoding="cp1252", errors="replace") as handle:
            records = [_from_asysd(row) for row in csv.DictReader(handle)]
    return LabelledSet(folder.name, records, groups)


def _from_bib_dedupe(row: dict[str, str]) -> DedupRecord:
    entry_type = _clean(row.get("ENTRYTYPE"))
    return DedupRecord(
        id=row["ID"],
        title=_clean(row.get("title")),
        authors=split_bibtex_authors(_clean(row.get("author"))),
        year=_year(_clean(row.get("year"))),
        journal=_clean(row.get("journal")) or _clean(row.get("booktitle")),
        volume=_clean(row.get("volume")),
        issue=_clean(row.get("number")),
        pages=_clean(row.get("pages")),
        doi=_clean(row.get("doi")),
        abstract=_clean(row.get("abstract")),
        publication_types=(entry_type,) if entry_type else (),
    )


def _from_asysd(row: dict[str, str]) -> DedupRecord:
    return DedupRecord(
        id=f"id_{int(row['record_id']):07d}",
        title=_clean(row.get("title")),
        authors=split_asysd_authors(_clean(row.get("author"))),
        year=_year(_clean(row.get("year"))),
        journal=_clean(row.get("journal")),
        volume=_clean(row.get("volume")),
        issue=_clean(row.get("number")),
        pages=_clean(row.get("pages")),
        doi=_clean(row.get("doi")),
        abstract=_clean(row.get("abstract")),
        issn=_clean(row.get("isbn")),
    )


# --- Metrics ------------------------------------------------------------------


def _pairs(groups: Iterable[Sequence[RecordId]]) -> set[frozenset[RecordId]]:
    return {frozenset(p) for g in groups for p in combinations(g, 2)}


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 with the counts behind them."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def pairwise_scores(
    predicted: Iterable[Sequence[RecordId]], truth: Iterable[Sequence[RecordId]]
) -> Scores:
    """Pairwise scores: every pair inside a predicted group is a predicted
    duplicate pair (the transitive closure), compared with every pair inside
    a true group."""
    got, want = _pairs(predicted), _pairs(truth)
    return Scores(len(got & want), len(got - want), len(want - got))


def record_scores(
    ids: Sequence[RecordId],
    predicted: Iterable[Sequence[RecordId]],
    truth: Iterable[Sequence[RecordId]],
) -> Scores:
    """bib-dedupe's published measure (`compare_dedupe_id`): after merging, each
    predicted group keeps its first record. A truly unique record removed is a
    false positive; in a true group, each removed record is a true positive,
    each extra kept record a false negative, and a group of which nothing is
    kept counts one false positive."""
    removed: set[RecordId] = set()
    for group in predicted:
        removed.update(group[1:])
    in_truth: set[RecordId] = set()
    tp = fp = fn = 0
    for group in truth:
        in_truth.update(group)
        kept = sum(1 for i in group if i not in removed)
        if kept == 0:
            fp += 1
            tp += len(group) - 1
        else:
            fn += kept - 1
            tp += len(group) - kept
    fp += sum(1 for i in ids if i not in in_truth and i in removed)
    return Scores(tp, fp, fn)


@dataclass(frozen=True)
class Evaluation:
    """How a run did on a labelled set."""

    pairwise: Scores
    records: Scores
    possible_pairs: int
    possible_true: int
    # Pairwise recall if a person confirms every true POSSIBLE pair.
    recall_with_queue: float


def evaluate(result: DedupResult, labelled: LabelledSet) -> Evaluation:
    """Score `result` (a run over `labelled.records`) against the truth."""
    truth = labelled.groups
    want = _pairs(truth)
    groups = [list(g) for g in result.groups]
    possible = [p for p in result.pairs if p.decision is Decision.POSSIBLE]
    possible_true = [p for p in possible if frozenset((p.a, p.b)) in want]
    confirmed = _closure(groups, [(p.a, p.b) for p in possible_true])
    with_queue = pairwise_scores(confirmed, truth)
    return Evaluation(
        pairwise=pairwise_scores(groups, truth),
        records=record_scores([r.id for r in labelled.records], groups, truth),
        possible_pairs=len(possible),
        possible_true=len(possible_true),
        recall_with_queue=with_queue.recall,
    )


def _closure(
    groups: list[list[RecordId]], links: list[tuple[RecordId, RecordId]]
) -> list[list[RecordId]]:
    parent: dict[RecordId, RecordId] = {}

    def find(x: RecordId) -> RecordId:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for group in groups:
        for other in group[1:]:
            parent[find(other)] = find(group[0])
    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra
    members: dict[RecordId, list[RecordId]] = {}
    for x in list(parent):
        members.setdefault(find(x), []).append(x)
    for root in list(members):
        if root not in members[root]:
            members[root].append(root)
    return [g for g in members.values() if len(g) > 1]
