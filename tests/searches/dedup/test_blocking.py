"""Candidate generation scales: never all pairs, yet every duplicate is blocked."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from searches.dedup.blocking import candidate_pairs, unpack
from searches.dedup.evaluation import LabelledSet, load_labelled_set
from searches.dedup.normalise import normalise_record
from searches.dedup.synthetic import synthetic_set


@pytest.fixture(scope="module")
def synthetic(fixtures: Path) -> LabelledSet:
    folder = fixtures / "dedup-labelled"
    sources = [load_labelled_set(folder / n) for n in ("haematology", "diabetes")]
    return synthetic_set(sources, 6000, seed=11)


def test_candidates_grow_linearly_not_quadratically(synthetic: LabelledSet) -> None:
    norm = [normalise_record(i, r) for i, r in enumerate(synthetic.records)]
    small = candidate_pairs(norm[:3000])
    large = candidate_pairs(norm)
    n = len(norm)
    assert len(large) < 20 * n  # all pairs would be 18 million
    assert len(large) < 2.5 * len(small)


def test_blocking_finds_every_synthetic_duplicate(synthetic: LabelledSet) -> None:
    norm = [normalise_record(i, r) for i, r in enumerate(synthetic.records)]
    index = {r.id: i for i, r in enumerate(synthetic.records)}
    blocked = {unpack(p) for p in candidate_pairs(norm)}
    truth = [
        tuple(sorted((index[a], index[b])))
        for g in synthetic.groups
        for a, b in combinations(g, 2)
    ]
    found = sum(1 for pair in truth if pair in blocked)
    assert found / len(truth) >= 0.995


def test_huge_blocks_are_windowed(synthetic: LabelledSet) -> None:
    # 500 records sharing first author and year: one block, never 124,750 pairs.
    records = [normalise_record(i, r) for i, r in enumerate(synthetic.records[:500])]
    same = [
        r.__class__(
            **{
                **{f: getattr(r, f) for f in r.__slots__},
                "authors": ("wang",),
                "year": 2020,
            }
        )
        for r in records
    ]
    assert len(candidate_pairs(same)) < 20 * len(same)


def test_incremental_never_pairs_two_old_records(synthetic: LabelledSet) -> None:
    norm = [normalise_record(i, r) for i, r in enumerate(synthetic.records[:2000])]
    pairs = [unpack(p) for p in candidate_pairs(norm, new_from=1900)]
    assert pairs
    assert all(j >= 1900 for _, j in pairs)
