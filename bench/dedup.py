"""Measure the dedup engine on the labelled sets and a large synthetic set.

    .venv/bin/python bench/dedup.py [--synthetic 100000] [--bib-dedupe-synthetic N]

For each data set, in a fresh child process (so time and memory are its own):
our engine (`searches.dedup`), and, when a separate bib-dedupe 0.11 install is
found, bib-dedupe with its defaults on the same records. Prints precision,
recall and F1 of the automatic merges (pairwise, and per record the way
bib-dedupe's benchmark reports them), the number of "possible"/"maybe" pairs
a person must look at, recall if that person confirms every true one, wall
seconds of the engine and peak memory (RSS of the whole process tree, polled).

bib-dedupe is never installed into this project. To get its column:
    python3 -m venv /tmp/bibdedupe-venv
    /tmp/bibdedupe-venv/bin/pip install bib-dedupe==0.11.0
or point BIB_DEDUPE_PYTHON at another interpreter that has it. Without it the
column reads "n/a". bib-dedupe runs on the synthetic set only when asked
(--bib-dedupe-synthetic N: it needs minutes at 20,000 records).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from searches.dedup import DedupRecord, find_duplicates  # noqa: E402
from searches.dedup.evaluation import (  # noqa: E402
    Evaluation,
    LabelledSet,
    evaluate,
    load_labelled_set,
    pairwise_scores,
    record_scores,
)
from searches.dedup.synthetic import synthetic_set  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures" / "dedup-labelled"
# A throwaway venv of the person running the bench, never installed by us.
BIB_DEDUPE_PYTHON = os.environ.get(
    "BIB_DEDUPE_PYTHON",
    "/tmp/bibdedupe-venv/bin/python",
)

BIB_DEDUPE_RUNNER = """
import json, sys, time
import pandas as pd
from bib_dedupe.bib_dedupe import block, cluster, match, prep
df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
t = time.perf_counter()
records = prep(df, verbosity_level=0)
blocked = block(records, verbosity_level=0)
matched = match(blocked, verbosity_level=0)
groups = cluster(matched, verbosity_level=0)
seconds = time.perf_counter() - t
maybe = int((matched["duplicate_label"] == "maybe").sum()) if len(matched) else 0
with open(sys.argv[2], "w") as out:
    json.dump({"groups": groups, "maybe": maybe, "seconds": seconds}, out)
"""


# --- Data sets ----------------------------------------------------------------


def load(name: str, synthetic: int) -> LabelledSet:
    """A labelled set by name: a fixture folder or 'synthetic-N'."""
    if name.startswith("synthetic"):
        sources = [load_labelled_set(FIXTURES / n) for n in ("haematology", "diabetes")]
        return synthetic_set(
            sources, int(name.split("-")[1]) if "-" in name else synthetic
        )
    return load_labelled_set(FIXTURES / name)


def write_bib_dedupe_csv(labelled: LabelledSet, path: Path) -> None:
    """The records in bib-dedupe's input columns (BibTeX-style authors)."""
    fields = ["ID", "ENTRYTYPE", "title", "author", "year", "journal", "volume"]
    fields += ["number", "pages", "doi", "abstract"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        for r in labelled.records:
            authors = " and ".join(f"{f}, {g}" if g else f for f, g in r.authors)
            head = [r.id, "article", r.title, authors, r.year or "", r.journal]
            writer.writerow([*head, r.volume, r.issue, r.pages, r.doi, r.abstract])


# --- Children -----------------------------------------------------------------


def child_ours(name: str, synthetic: int) -> dict[str, Any]:
    """Run our engine on one set; return the figures as a dict."""
    labelled = load(name, synthetic)
    records: list[DedupRecord] = labelled.records
    start = time.perf_counter()
    result = find_duplicates(records)
    seconds = time.perf_counter() - start
    return {
        "records": len(records),
        "seconds": seconds,
        **_figures(evaluate(result, labelled)),
    }


def _figures(ev: Evaluation) -> dict[str, Any]:
    return {
        "pair_p": ev.pairwise.precision,
        "pair_r": ev.pairwise.recall,
        "pair_f1": ev.pairwise.f1,
        "rec_p": ev.records.precision,
        "rec_r": ev.records.recall,
        "rec_f1": ev.records.f1,
        "possible": ev.possible_pairs,
        "possible_true": ev.possible_true,
        "recall_with_queue": ev.recall_with_queue,
    }


def _tree_rss(root: int) -> int:
    # Sum of RSS over `root` and all its descendants (bib-dedupe forks workers).
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_measured(command: list[str]) -> tuple[str, float, float]:
    """Run `command`; return its stdout, wall seconds and peak tree RSS in MB."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
    peak = 0
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            done.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    out, _ = process.communicate()
    done.set()
    poller.join()
    if process.returncode:
        raise RuntimeError(f"{command[:3]} failed with {process.returncode}")
    return out, time.perf_counter() - start, peak / 2**20


def measure_ours(name: str, synthetic: int) -> dict[str, Any]:
    """Our engine on one set, in a child process."""
    command = [sys.executable, __file__, "--child", name, "--synthetic", str(synthetic)]
    out, _, peak = run_measured(command)
    figures: dict[str, Any] = json.loads(out)
    figures["peak_mb"] = peak
    return figures


def measure_bib_dedupe(labelled: LabelledSet) -> dict[str, Any] | None:
    """bib-dedupe 0.11 with its defaults on one set, or None if not installed."""
    if not Path(BIB_DEDUPE_PYTHON).exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "runner.py").write_text(BIB_DEDUPE_RUNNER)
        write_bib_dedupe_csv(labelled, folder / "records.csv")
        command = [BIB_DEDUPE_PYTHON, str(folder / "runner.py")]
        command += [str(folder / "records.csv"), str(folder / "out.json")]
        try:
            _, _, peak = run_measured(command)
        except RuntimeError as error:
            print(f"bib-dedupe failed on {labelled.name}: {error}", file=sys.stderr)
            return None
        found = json.loads((folder / "out.json").read_text())
    order = {r.id: n for n, r in enumerate(labelled.records)}
    groups = [sorted(g, key=order.__getitem__) for g in found["groups"]]
    pair = pairwise_scores(groups, labelled.groups)
    rec = record_scores([r.id for r in labelled.records], groups, labelled.groups)
    return {
        "records": len(labelled.records),
        "seconds": found["seconds"],
        "peak_mb": peak,
        "pair_p": pair.precision,
        "pair_r": pair.recall,
        "pair_f1": pair.f1,
        "rec_p": rec.precision,
        "rec_r": rec.recall,
        "rec_f1": rec.f1,
        "possible": found["maybe"],
        "possible_true": None,
        "recall_with_queue": None,
    }


# --- Table --------------------------------------------------------------------

ROWS = [
    ("records", "records", "{:,}"),
    ("pairwise precision (auto)", "pair_p", "{:.4f}"),
    ("pairwise recall (auto)", "pair_r", "{:.4f}"),
    ("pairwise F1 (auto)", "pair_f1", "{:.4f}"),
    ("per-record precision (bib-dedupe's)", "rec_p", "{:.4f}"),
    ("per-record recall (bib-dedupe's)", "rec_r", "{:.4f}"),
    ("per-record F1 (bib-dedupe's)", "rec_f1", "{:.4f}"),
    ("pairs for a person (possible/maybe)", "possible", "{:,}"),
    ("  of which true duplicates", "possible_true", "{:,}"),
    ("pairwise recall, auto + confirmed queue", "recall_with_queue", "{:.4f}"),
    ("engine seconds", "seconds", "{:.1f}"),
    ("peak memory MB (process tree)", "peak_mb", "{:.0f}"),
]


def print_table(columns: list[tuple[str, dict[str, Any] | None]]) -> None:
    """One column per (title, figures); None figures print as n/a."""
    width = max(len(r[0]) for r in ROWS) + 2
    col = max(14, *(len(t) + 2 for t, _ in columns))
    print("".ljust(width) + "".join(t.rjust(col) for t, _ in columns))
    for label, key, fmt in ROWS:
        cells = []
        for _, figures in columns:
            value = figures.get(key) if figures else None
            cells.append((fmt.format(value) if value is not None else "n/a").rjust(col))
        print(label.ljust(width) + "".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--bib-dedupe-synthetic", type=int, default=0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_ours(args.child, args.synthetic)))
        return
    columns: list[tuple[str, dict[str, Any] | None]] = []
    for name in ("haematology", "diabetes"):
        columns.append((f"{name} ours", measure_ours(name, args.synthetic)))
        columns.append((f"{name} bib-dedupe", measure_bib_dedupe(load(name, 0))))
    if args.bib_dedupe_synthetic:
        name = f"synthetic-{args.bib_dedupe_synthetic}"
        columns.append((f"{name} ours", measure_ours(name, 0)))
        columns.append((f"{name} bib-dedupe", measure_bib_dedupe(load(name, 0))))
    columns.append(
        (f"synthetic-{args.synthetic} ours", measure_ours("synthetic", args.synthetic))
    )
    print_table(columns)


if __name__ == "__main__":
    main()
