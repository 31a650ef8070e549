"""Quality floors on the labelled sets: a regression in matching fails here.

The floors sit just under today's figures (see bench/dedup.py). Haematology's
labels merge errata, replies and conference abstracts with their article:
those never merge automatically (some teams count them apart), they go to the
queue, so haematology's recall is high only once a person confirms them.
Issue 5's target for recall with the queue is 0.99; haematology is at 0.969.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from searches.dedup import find_duplicates
from searches.dedup.evaluation import Evaluation, evaluate, load_labelled_set


def _run(fixtures: Path, name: str) -> tuple[Evaluation, int]:
    labelled = load_labelled_set(fixtures / "dedup-labelled" / name)
    return evaluate(find_duplicates(labelled.records), labelled), len(labelled.records)


@pytest.mark.parametrize(
    ("name", "pair_recall", "record_recall"),
    [("haematology", 0.77, 0.85), ("diabetes", 0.985, 0.99)],
)
def test_automatic_merges_are_precise_and_find_most_duplicates(
    fixtures: Path, name: str, pair_recall: float, record_recall: float
) -> None:
    ev, n = _run(fixtures, name)
    assert ev.pairwise.precision >= 0.995
    assert ev.records.precision >= 0.995
    assert ev.pairwise.recall >= pair_recall
    assert ev.records.recall >= record_recall
    # The review queue stays under 5% of the records.
    assert ev.possible_pairs <= 0.05 * n


@pytest.mark.parametrize(
    ("name", "floor"), [("haematology", 0.965), ("diabetes", 0.995)]
)
def test_the_queue_holds_the_duplicates_not_merged(
    fixtures: Path, name: str, floor: float
) -> None:
    ev, _ = _run(fixtures, name)
    assert ev.recall_with_queue >= floor
