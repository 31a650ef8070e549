"""Deduplication quality on every labelled set, against issue 5's targets.

    .venv/bin/python bench/dedup_eval.py

For each folder of `../shared/fixtures/dedup-labelled/` (records plus the
ground-truth duplicate groups) runs the engine with its default thresholds and
prints, pairwise: precision, recall and F1 of the automatic merges; the review
queue (pairs, and as a share of the records); and recall once a person confirms
every true pair in the queue. Targets: automatic precision >= 0.995, recall
with the queue >= 0.99, queue under 5% of records. `bench/dedup.py` adds time,
memory and bib-dedupe 0.11 beside ours.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from searches.dedup import find_duplicates  # noqa: E402
from searches.dedup.evaluation import evaluate, load_labelled_set  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures" / "dedup-labelled"


def main() -> None:
    header = (
        f"{'set':<12} {'records':>7} {'precision':>9} {'recall':>7} {'F1':>6} "
        f"{'queue':>6} {'queue %':>7} {'recall+queue':>12}  targets"
    )
    print(header)
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        labelled = load_labelled_set(folder)
        ev = evaluate(find_duplicates(labelled.records), labelled)
        n = len(labelled.records)
        share = ev.possible_pairs / n
        met = [
            ev.pairwise.precision >= 0.995,
            ev.recall_with_queue >= 0.99,
            share < 0.05,
        ]
        verdict = ", ".join(
            f"{name} {'met' if ok else 'NOT met'}"
            for name, ok in zip(("precision", "recall", "queue"), met, strict=True)
        )
        print(
            f"{labelled.name:<12} {n:>7} {ev.pairwise.precision:>9.3f} "
            f"{ev.pairwise.recall:>7.3f} {ev.pairwise.f1:>6.3f} "
            f"{ev.possible_pairs:>6} {share:>7.1%} {ev.recall_with_queue:>12.3f}  "
            f"{verdict}"
        )


if __name__ == "__main__":
    main()
