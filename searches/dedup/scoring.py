"""Pair scoring: field agreement -> a match score in [0, 1], plus hard rules.

The score is a logistic over summed evidence points (a hand-weighted
Fellegi-Sunter model): each field that agrees adds log-odds, each that
disagrees subtracts, a missing field says nothing. Hard rules override the sum
where a difference is certain proof of two different records (two PMIDs, an
erratum and its article, ...). Weights were set by reasoning about what each
field proves and checked on the labelled sets (`bench/dedup.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from searches.dedup.normalise import NormRecord, journals_match, title_words
from searches.dedup.types import Decision, ScoredPair, Thresholds

# AUTO at 0.95 (log-odds 2.9): a full title + authors + year match needs one
# more agreeing detail (journal, volume or pages) to be merged without a
# person; identical DOIs or PMIDs with a similar title clear it by far. On the
# labelled sets no false pair scores above 0.89, so this leaves a margin.
# POSSIBLE at 0.3: true duplicates below it are almost all ones our hard rules
# refuse on purpose, and few false pairs score between 0.3 and 0.95, so the
# queue stays short. Both are per-review settings on the Django side.
DEFAULT_THRESHOLDS = Thresholds(auto=0.95, possible=0.3)

# The log-odds of "same record" before looking at any field, for a pair that
# blocking has already made plausible.
PRIOR = -6.0


@dataclass(frozen=True, slots=True)
class Evidence:
    """The outcome of comparing two normalised records, before thresholds."""

    score: float
    matched: tuple[str, ...]
    conflicts: tuple[str, ...]
    # A hard rule that makes the pair DISTINCT whatever the score ...
    rule: str = ""
    # ... or one that only forbids AUTO (same DOI but a conflicting year, ...).
    cap: str = ""
    # Sends a pair that would be DISTINCT to a person instead: records with the
    # same title that a hard rule would part (an erratum and its article, a
    # conference abstract and the paper: some teams count them as one record,
    # others as two). Such a pair is never merged automatically.
    review: str = ""
    # True when `review` stands in for a hard rule: the pair still counts as
    # DISTINCT for grouping, so no chain of automatic merges joins it.
    parted: bool = False


def _ratio(a: str, b: str) -> float:
    return Indel.normalized_similarity(a, b) if a and b else 0.0


def title_similarity(a: str, b: str) -> float:
    """Similarity of two normalised titles in [0, 1]: the edit-based ratio, or
    0.92 when the shorter title (>= 3 words) stands whole inside the longer one,
    a subtitle, a section heading ("Medical progress: ...") or an appended
    translation being the usual causes."""
    if a == b:
        return 1.0 if a else 0.0
    sim = _ratio(a, b)
    if sim < 0.92 and _contained(a, b):
        return 0.92
    return sim


def author_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Similarity of two family-name lists in [0, 1]: token-set agreement (so a
    list truncated after 3 or 6 names still matches), capped at 0.75 when the
    first authors differ (databases agree on who is first)."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    sim = fuzz.token_set_ratio(" ".join(a), " ".join(b)) / 100.0
    if _ratio(a[0], b[0]) < 0.8:
        sim = min(sim, 0.75)
    return sim


def _first_number(value: str) -> str:
    for word in value.split():
        if word.isdigit():
            return word
    return ""


def _number_agreement(a: str, b: str) -> str:
    # "same" / "diff" / "" (unknown): volume and issue compare by their first
    # number, so "3 suppl 1" and "3" agree on the issue.
    if not a or not b:
        return ""
    if a == b:
        return "same"
    na, nb = _first_number(a), _first_number(b)
    if na and nb:
        return "same" if na == nb else "diff"
    return ""


_PAGE_SANITY = 10_000_000  # larger numbers are spreadsheet-mangled ids


def _pages_agreement(a: NormRecord, b: NormRecord) -> str:
    pa, pb = a.pages, b.pages
    if pa is None or pb is None or pa.first > _PAGE_SANITY or pb.first > _PAGE_SANITY:
        return ""
    if pa.first == pb.first:
        return "same"
    if pa.bad_last or pb.bad_last:
        # A typo in one range: agreeing on either end is agreement enough.
        ends_a = {pa.first, pa.bad_last or pa.last}
        ends_b = {pb.first, pb.bad_last or pb.last}
        return "overlap" if ends_a & ends_b else "diff"
    # Overlapping ranges with different first pages: an abstract page inside the
    # article's range, or a typo; neither proves anything.
    if not (pa.last < pb.first or pb.last < pa.first):
        return "overlap"
    return "diff"


def _short_title(title: str) -> bool:
    # "Editorial", "Introduction", "Diabetes and the heart": titles this short
    # are shared by unrelated records.
    return len(title) < 25 or len(title_words(title)) < 4


def compare(a: NormRecord, b: NormRecord) -> Evidence:
    """Compare two normalised records field by field.

    Guarantees: symmetric (compare(a, b) and compare(b, a) give the same score
    and rule); a record compared with an identical copy scores >= 0.99 unless
    it has no title; `rule` is set exactly when a hard rule proves the records
    different, and then `score` is 0.
    """
    matched: list[str] = []
    conflicts: list[str] = []
    points = PRIOR
    cap = ""

    same_doi = bool(a.doi) and a.doi == b.doi
    same_pmid = bool(a.pmid) and a.pmid == b.pmid
    same_id = same_doi or same_pmid

    # --- Hard rules: certain proof of two records ---------------------------------
    if a.pmid and b.pmid and a.pmid != b.pmid:
        if not same_doi:
            return Evidence(0.0, (), ("pmid",), rule="different PMIDs")
        cap = "same DOI, different PMIDs"
    if a.doi and b.doi and not same_doi and not _related_dois(a.doi, b.doi):
        if not same_pmid:
            return Evidence(0.0, (), ("doi",), rule="different DOIs")
        cap = "same PMID, different DOIs"
    title_sim = title_similarity(a.title, b.title) if a.title and b.title else 0.0
    # Short generic titles ("Editorial", "Correction") say nothing: never "same".
    generic = _short_title(a.title) or _short_title(b.title)
    same_title = not generic and (
        title_sim >= 0.95
        or (bool(a.title and b.title) and _contained(a.title, b.title))
    )
    review = ""
    if a.notice != b.notice:
        kind = a.notice or b.notice
        if not same_title:
            return Evidence(0.0, (), ("type",), rule=f"{kind} vs the article")
        review = f"{kind} vs the article"
    if a.year and b.year and abs(a.year - b.year) > 1:
        if not same_id:
            return Evidence(0.0, (), ("year",), rule="years far apart")
        cap = cap or "same identifier, years far apart"
    numbers_differ = a.title_numbers != b.title_numbers
    if numbers_differ and a.title_numbers and b.title_numbers and not same_id:
        return Evidence(0.0, (), ("title",), rule="different numbers in titles")
    pages = _pages_agreement(a, b)
    volume = _number_agreement(a.volume, b.volume)
    issue = _number_agreement(a.issue, b.issue)
    if pages == "diff" and not same_id and volume == "same":
        # Same volume, pages that do not overlap: two articles of one issue.
        if not same_title:
            return Evidence(0.0, (), ("pages",), rule="different pages in one volume")
        review = review or "same title, different pages in one volume"
    abstract_vs_article = a.abstract_like != b.abstract_like and a.located and b.located
    if abstract_vs_article and pages == "diff" and not same_id:
        if not same_title:
            return Evidence(0.0, (), ("pages",), rule="conference abstract vs article")
        review = review or "conference abstract vs article"

    if not (a.title and b.title) and not same_id:
        # Without a title nothing says what the record is: a person decides.
        cap = "a title is missing"

    # --- Identifiers ---------------------------------------------------------------
    if same_doi:
        points += 6.0
        matched.append("doi")
    if same_pmid:
        points += 6.0
        matched.append("pmid")

    # --- Title -------------------------------------------------------------------
    if a.title and b.title:
        sim = title_sim
        if sim >= 0.98:
            gain = 5.0
        elif sim >= 0.95:
            gain = 4.0
        elif sim >= 0.9:
            gain = 2.5
        elif sim >= 0.85:
            gain = 1.0
        elif sim >= 0.75:
            gain = -1.5
        else:
            gain = -5.0
        if gain > 0 and (_short_title(a.title) or _short_title(b.title)):
            gain *= 0.5
        points += gain
        if sim >= 0.9:
            matched.append("title")
        elif sim < 0.75:
            conflicts.append("title")
        if a.title_numbers != b.title_numbers and not _contained(a.title, b.title):
            # One title names a number the other lacks ("phase 3 trial"); not
            # when the extra words are a citation appended to the same title.
            points -= 1.5
            conflicts.append("title numbers")

    # --- Authors -----------------------------------------------------------------
    same_authors = False
    if a.authors and b.authors:
        sim = author_similarity(a.authors, b.authors)
        same_authors = sim >= 0.95
        if sim >= 0.95:
            points += 2.5
            matched.append("authors")
        elif sim >= 0.85:
            points += 1.5
            matched.append("authors")
        elif sim < 0.7:
            points -= 3.0
            conflicts.append("authors")

    # --- Year, journal, volume, issue, pages ----------------------------------------
    if a.year and b.year:
        if a.year == b.year:
            points += 1.0
            matched.append("year")
        else:
            # Online-first and print years differ by one; it weakens, not refutes.
            points -= 1.0
            conflicts.append("year")
    if (a.journal and b.journal) or (a.issns and b.issns):
        if (
            a.issns & b.issns
            or journals_match(a.journal, b.journal)
            or _ratio(a.journal, b.journal) >= 0.9
        ):
            points += 1.0
            matched.append("journal")
        else:
            points -= 0.5
            conflicts.append("journal")
    if volume == "same":
        points += 1.0
        matched.append("volume")
    elif volume == "diff":
        points -= 2.5
        conflicts.append("volume")
    if issue == "same":
        points += 0.5
        matched.append("issue")
    elif issue == "diff":
        points -= 1.0
        conflicts.append("issue")
    if pages == "same":
        points += 2.0
        matched.append("pages")
    elif pages == "overlap":
        points += 0.5
    elif pages == "diff":
        points -= 3.5
        conflicts.append("pages")

    if {"journal", "volume", "pages", "year"} <= set(matched):
        # Journal, year, volume and first page are a full citation: they name
        # one article whatever its title says (a translated or prefixed title).
        points += 1.5

    # --- Abstract ----------------------------------------------------------------
    if len(a.abstract) >= 100 and len(b.abstract) >= 100:
        sim = _ratio(a.abstract, b.abstract)
        if sim >= 0.9:
            points += 2.0
            matched.append("abstract")
        elif sim >= 0.7:
            points += 0.5
        elif sim < 0.5:
            points -= 2.0
            conflicts.append("abstract")

    if abstract_vs_article and not same_id:
        # A conference abstract and the later article share title and authors.
        points -= 2.0
        conflicts.append("supplement")

    score = 1.0 / (1.0 + math.exp(-points))
    parted = bool(review)
    if review:
        cap = cap or review
    elif title_sim >= 0.98 and same_authors and a.year and a.year == b.year:
        # The same paper with its other details garbled or from another source
        # (a conference abstract printed in two supplements): never DISTINCT.
        review = "same title, authors and year; other details differ"
    return Evidence(
        score, tuple(matched), tuple(conflicts), cap=cap, review=review, parted=parted
    )


def _contained(a: str, b: str) -> bool:
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return short.count(" ") >= 2 and f" {short} " in f" {long} "


def _related_dois(a: str, b: str) -> bool:
    # A component DOI ("10.1/abc.t001", "10.1/abc/suppl") belongs to its article.
    return a.startswith(b) or b.startswith(a)


def decide(evidence: Evidence, thresholds: Thresholds) -> Decision:
    """AUTO / POSSIBLE / DISTINCT for `evidence` under `thresholds`. A capped
    pair is at most POSSIBLE; a hard rule is always DISTINCT."""
    if evidence.rule:
        return Decision.DISTINCT
    if evidence.score >= thresholds.auto and not evidence.cap:
        return Decision.AUTO
    if evidence.score >= thresholds.possible or evidence.review:
        return Decision.POSSIBLE
    return Decision.DISTINCT


def scored_pair(
    a_id: int | str,
    b_id: int | str,
    evidence: Evidence,
    thresholds: Thresholds,
) -> ScoredPair:
    """The public `ScoredPair` for compared records."""
    return ScoredPair(
        a=a_id,
        b=b_id,
        score=round(evidence.score, 4),
        decision=decide(evidence, thresholds),
        matched=evidence.matched,
        conflicts=evidence.conflicts,
        rule=evidence.rule or evidence.cap or evidence.review,
    )
