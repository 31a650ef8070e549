"""Prioritised screening simulated on every labelled set, against ASReview.

    .venv/bin/python bench/prioritisation_eval.py [--seeds 5] [--batch 1]
        [--model logistic:C=1 --model nb ...] [--jobs 2]

For each CSV of `../shared/fixtures/screening-labelled/` with text (title,
abstract; the final `label_included`), and each seed: shuffle the rows, start
from one random relevant and one random irrelevant record (the prior), then
repeatedly rank the unscreened records with `screening.prioritisation`,
"screen" the top `--batch` of them (reveal their labels) and retrain, until
95% of the relevant records are found and half the set is screened. Kitchenham
keeps its duplicate rows: they are rows in ASReview's reference too.

Per set, over the seeds:

* WSS@95, classic (Cohen 2006): the share of records not screened when the
  screening first reaches 95% recall, minus 0.05; the prior counts as screened.
* WSS@95 as ASReview's insights computes it (`_wss_values`): priors left
  out; the records saved against random order at the T-th relevant record
  found, T = floor(0.95 x relevant). Its T is never above the classic one,
  so it reads higher on sets with few inclusions (PPI: 48 of 50 vs 49 of 51).
* recall after 10%, 25% and 50% of the records screened (prior included);
* the estimate of relevant records still unscreened against the truth, at
  10%, 25% and 50% screened;
* seconds per seed (vectorising once plus every retrain).

ASReview 3.0.8's default model (ELAS u4) reaches WSS@95 0.67 on Kitchenham,
0.43 on Bannach-Brown and 0.44 on the PPI set (final label).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from screening.prioritisation import (  # noqa: E402
    DEFAULT_MODEL,
    Model,
    Vectorised,
    ranking_from_matrix,
    record_text,
    vectorise,
)

FIXTURES = ROOT.parent / "shared" / "fixtures" / "screening-labelled"
ASREVIEW_WSS95 = {
    "Kitchenham_2010": 0.67,
    "Bannach-Brown_2019": 0.43,
    "Cohen_2006_ProtonPumpInhibitors": 0.44,
}
RECALL_AT = (0.10, 0.25, 0.50)


@dataclass(frozen=True)
class Run:
    wss: float
    wss_insights: float
    recall: tuple[float, ...]  # at RECALL_AT screened
    estimates: tuple[tuple[float, int], ...]  # (estimated, true) at RECALL_AT
    seconds: float
    retrains: int


def load(path: Path) -> tuple[list[str], npt.NDArray[np.bool_]]:
    """Texts (title + abstract) and final labels; csv copes with CRLF in cells."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [record_text(row["title"] or "", row["abstract"] or "") for row in rows]
    labels = np.array([row["label_included"].strip() == "1" for row in rows])
    return texts, labels


def simulate(path: Path, seed: int, model: Model, batch: int) -> Run:
    """One simulated screening of the set at `path` (see the module docstring)."""
    started = time.perf_counter()
    texts, truth = load(path)
    pool = vectorise(texts)
    n = truth.size
    rng = np.random.default_rng(seed)
    shuffle = rng.permutation(n)
    y = truth[shuffle]
    shuffled = Vectorised(pool.matrix[shuffle])
    priors = [int(rng.choice(np.flatnonzero(y))), int(rng.choice(np.flatnonzero(~y)))]
    labels = {p: bool(y[p]) for p in priors}
    screened = list(priors)
    target = math.ceil(0.95 * y.sum())
    checkpoints = {math.ceil(f * n): i for i, f in enumerate(RECALL_AT)}
    estimates: dict[int, tuple[float, int]] = {}
    retrains = 0
    while len(screened) < n and (
        y[screened].sum() < target or len(screened) <= max(checkpoints)
    ):
        at_checkpoint = [c for c in checkpoints if len(screened) <= c]
        next_checkpoint = min(at_checkpoint) if at_checkpoint else n
        wants_estimate = len(screened) in checkpoints
        result = ranking_from_matrix(
            shuffled, labels, seed=seed, model=model, estimate=wants_estimate
        )
        retrains += 1
        if wants_estimate:
            assert result.estimated_remaining_relevant is not None
            true_remaining = int(y.sum() - y[screened].sum())
            estimates[checkpoints[len(screened)]] = (
                result.estimated_remaining_relevant,
                true_remaining,
            )
        # Never step over a checkpoint, so the estimate sees exactly that many.
        take = min(batch, next_checkpoint - len(screened)) or batch
        for position in result.order[:take]:
            labels[position] = bool(y[position])
            screened.append(position)
    found = np.cumsum(y[screened])
    n95 = int(np.searchsorted(found, target)) + 1
    recall = tuple(
        float(found[min(math.ceil(f * n), found.size) - 1] / y.sum()) for f in RECALL_AT
    )
    return Run(
        wss=(n - n95) / n - 0.05,
        wss_insights=wss_insights(y[screened[2:]].tolist(), int(y.sum()) - 1, n - 2),
        recall=recall,
        estimates=tuple(estimates[i] for i in range(len(RECALL_AT))),
        seconds=time.perf_counter() - started,
        retrains=retrains,
    )


def wss_insights(
    screened: list[bool], n_pos: int, n_docs: int, level: float = 0.95
) -> float:
    """asreview-insights' WSS@level on the labels in screening order, priors
    left out. The simulation stops once it has found the records it needs:
    the unscreened rest goes last, its `n_pos - found` relevant ones at the
    very end, which cannot change the value."""
    missing = n_pos - sum(screened)
    padding = n_docs - len(screened) - missing
    labels = np.array(screened + [False] * padding + [True] * missing, dtype=int)
    found = np.cumsum(labels)
    found_random = np.round(np.linspace(0, n_pos, n_docs))
    k = np.arange(1, n_pos + 1)
    earlier = np.searchsorted(found_random, k) - np.searchsorted(found, k)
    i = int(np.searchsorted(k / n_pos, level, side="right"))
    return float(earlier[i - 1] / n_docs)


def parse_model(text: str) -> Model:
    """`logistic`, `logistic:C=0.3`, `svm:C=0.11`, `nb`, `nb:alpha=1`."""
    name, _, params = text.partition(":")
    if name not in ("logistic", "svm", "nb"):
        raise argparse.ArgumentTypeError(f"unknown classifier {name!r}")
    model = Model(classifier=name)  # type: ignore[arg-type]
    for item in filter(None, params.split(",")):
        key, _, value = item.partition("=")
        model = replace(model, **{key.lower(): float(value)})
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1, help="records per retrain")
    parser.add_argument("--model", action="append", type=parse_model)
    parser.add_argument("--jobs", type=int, default=1, help="processes")
    parser.add_argument("--set", default="", help="only sets whose name has this")
    args = parser.parse_args()
    models = args.model or [DEFAULT_MODEL]
    sets = [
        p
        for p in sorted(FIXTURES.glob("*.csv"))
        if not p.name.startswith("synergy_") and args.set in p.name
    ]
    print(
        f"{'set':<20} {'model':<18} {'N':>5} {'incl':>4} "
        f"{'WSS@95 mean [min, max]':>23} {'insights':>8} {'ASReview':>8} "
        f"{'R@10%':>5} {'R@25%':>5} {'R@50%':>5} {'s/seed':>6} {'fits':>5} "
        f"{'remaining est/true @10% 25% 50%':>34}"
    )
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for path in sets:
            for model in models:
                jobs = [
                    pool.submit(simulate, path, seed, model, args.batch)
                    for seed in range(args.seeds)
                ]
                report(path, model, [job.result() for job in jobs])


def report(path: Path, model: Model, runs: list[Run]) -> None:
    _, truth = load(path)
    wss = [r.wss for r in runs]
    estimates = "  ".join(
        f"{np.mean([r.estimates[i][0] for r in runs]):5.1f}/"
        f"{np.mean([r.estimates[i][1] for r in runs]):<4.1f}"
        for i in range(len(RECALL_AT))
    )
    recall = " ".join(
        f"{np.mean([r.recall[i] for r in runs]):5.2f}" for i in range(len(RECALL_AT))
    )
    print(
        f"{path.stem[:20]:<20} {model.name:<18} {truth.size:>5} {truth.sum():>4} "
        f"{np.mean(wss):>9.3f} [{min(wss):.3f}, {max(wss):.3f}] "
        f"{np.mean([r.wss_insights for r in runs]):>8.3f} "
        f"{ASREVIEW_WSS95.get(path.stem, math.nan):>8.2f} {recall} "
        f"{np.mean([r.seconds for r in runs]):>6.1f} "
        f"{np.mean([r.retrains for r in runs]):>5.0f} {estimates:>34}",
        flush=True,
    )


if __name__ == "__main__":
    main()
