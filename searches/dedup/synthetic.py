"""A large labelled set built from small real ones, for scaling runs and tests.

Each synthetic paper starts from a real record (title, authors, journal) with
words and names swapped so that papers are distinct, then appears in one to
four "databases", each copy perturbed the way real exports differ: case and
punctuation, a "[Review]" tag, a typo, an abbreviated journal, "123-9" pages,
initials instead of given names, a truncated author list, a DOI as URL or
missing, a missing PMID or abstract. The copies of one paper form a true
group. Deterministic for a given seed.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Sequence

from searches.dedup.evaluation import LabelledSet
from searches.dedup.types import DedupRecord


def _abbreviate_journal(journal: str) -> str:
    words = [w for w in journal.split() if w.lower() not in ("of", "the", "and", "&")]
    return " ".join(w[:5].rstrip("aeiou") if len(w) > 5 else w for w in words)


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 10:
        return text
    i = rng.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _short_pages(first: int, last: int) -> str:
    a, b = str(first), str(last)
    keep = 0
    while keep < len(a) - 1 and len(a) == len(b) and a[keep] == b[keep]:
        keep += 1
    return f"{a}-{b[keep:]}"


def _perturb(
    rng: random.Random, paper: DedupRecord, copy: int, rid: str
) -> DedupRecord:
    if copy == 0:
        return dataclasses.replace(paper, id=rid)
    title = paper.title
    roll = rng.random()
    if roll < 0.2:
        title = title.upper()
    elif roll < 0.4:
        title = title.lower()
    if rng.random() < 0.3:
        title = title.rstrip(".") + "."
    if rng.random() < 0.15:
        title = re.sub(r"[:,\-]", " ", title)
    if rng.random() < 0.1:
        title = f"{title} [Review]"
    if rng.random() < 0.15:
        title = _typo(rng, title)
    authors = paper.authors
    if rng.random() < 0.5:
        authors = tuple(
            (f, " ".join(p[0] + "." for p in g.split() if p)) for f, g in authors
        )
    if rng.random() < 0.1 and len(authors) > 3:
        authors = authors[:3]
    journal = (
        _abbreviate_journal(paper.journal) if rng.random() < 0.5 else paper.journal
    )
    pages = paper.pages
    match = re.fullmatch(r"(\d+)-(\d+)", pages)
    if match and rng.random() < 0.5:
        pages = _short_pages(int(match.group(1)), int(match.group(2)))
    doi = paper.doi
    roll = rng.random()
    if roll < 0.3:
        doi = ""
    elif roll < 0.5:
        doi = "https://doi.org/" + doi.upper()
    return DedupRecord(
        id=rid,
        title=title,
        authors=authors,
        year=paper.year if rng.random() > 0.03 else None,
        journal=journal,
        volume=paper.volume if rng.random() > 0.05 else "",
        issue=paper.issue if rng.random() > 0.2 else "",
        pages=pages if rng.random() > 0.05 else "",
        doi=doi,
        pmid=paper.pmid if rng.random() > 0.4 else "",
        abstract=paper.abstract if rng.random() > 0.3 else "",
        issn=paper.issn,
    )


def synthetic_set(
    sources: Sequence[LabelledSet], n_records: int, *, seed: int = 5
) -> LabelledSet:
    """About `n_records` records (exactly that many, cut at the end) with true
    groups, built from the records of `sources` as described above."""
    rng = random.Random(seed)  # noqa: S311 - test data, not security
    templates = [r for s in sources for r in s.records if r.title and r.authors]
    vocabulary = sorted({w for r in templates for w in r.title.split() if len(w) > 4})
    families = sorted({a[0] for r in templates for a in r.authors if a[0]})
    journals = sorted({r.journal for r in templates if r.journal})
    records: list[DedupRecord] = []
    groups: list[list[str]] = []
    paper_no = 0
    while len(records) < n_records:
        template = templates[paper_no % len(templates)]
        words = template.title.split()
        for _ in range(max(2, len(words) // 3)):
            words[rng.randrange(len(words))] = rng.choice(vocabulary)
        abstract = template.abstract.split()
        for _ in range(len(abstract) // 3):
            abstract[rng.randrange(len(abstract))] = rng.choice(vocabulary)
        first = rng.randrange(1, 3000)
        paper = DedupRecord(
            id="",
            title=" ".join(words),
            authors=tuple(
                (rng.choice(families), given)
                for _, given in template.authors[: rng.randint(1, 8)]
            ),
            year=rng.randint(1990, 2024),
            journal=rng.choice(journals),
            volume=str(rng.randint(1, 400)),
            issue=str(rng.randint(1, 12)),
            pages=f"{first}-{first + rng.randint(0, 15)}",
            doi=f"10.5555/synth.{paper_no}",
            pmid=str(30_000_000 + paper_no) if rng.random() < 0.6 else "",
            abstract=" ".join(abstract),
            issn=template.issn,
        )
        copies = rng.choices((1, 2, 3, 4), weights=(45, 30, 15, 10))[0]
        ids = [f"s{paper_no}_{c}" for c in range(copies)]
        records += [_perturb(rng, paper, c, rid) for c, rid in enumerate(ids)]
        if copies > 1:
            groups.append(ids)
        paper_no += 1
    records = records[:n_records]
    kept = {r.id for r in records}
    groups = [[i for i in g if i in kept] for g in groups]
    rng.shuffle(records)  # databases are not exported in paper order
    return LabelledSet("synthetic", records, [g for g in groups if len(g) > 1])
