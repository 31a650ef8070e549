"""Deduplicate 80,000 records through the app: the real import and dedup tasks.

    .venv/bin/python bench/dedup_scale.py [--records 80000] [--postgres URL]

Builds a labelled synthetic set from the two labelled fixture sets
(`searches.dedup.synthetic`: each paper in one to four "databases", each copy
perturbed the way real exports differ), writes it as one RIS file, and in a
fresh child process (so its peak memory is its own) imports it through the
import task and runs the dedup task (`searches.tasks.dedup`, in-process with
apply()), on the embedded default (SQLite) and, with --postgres, on
PostgreSQL. Prints the dedup task's wall time and the child's peak RSS, then
the merges and queue scored against the true groups (pairwise). Target
(issue 5): under 5 minutes and under 2 GB on the embedded default.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT.parent / "shared" / "fixtures" / "dedup-labelled"


def write_ris(path: Path, n: int) -> list[list[str]]:
    """The synthetic set as RIS (the synthetic id in AN); returns its groups."""
    from searches.dedup.evaluation import load_labelled_set
    from searches.dedup.synthetic import synthetic_set

    sources = [
        load_labelled_set(FIXTURES / name) for name in ("haematology", "diabetes")
    ]
    labelled = synthetic_set(sources, n)
    with path.open("w", encoding="utf-8") as out:
        for r in labelled.records:
            lines = ["TY  - JOUR", f"AN  - {r.id}", f"TI  - {r.title}"]
            lines += [f"AU  - {f}, {g}" if g else f"AU  - {f}" for f, g in r.authors]
            fields = (
                ("PY", r.year or ""), ("JO", r.journal), ("VL", r.volume),
                ("IS", r.issue), ("SP", r.pages), ("DO", r.doi), ("SN", r.issn),
                ("AB", r.abstract),
            )  # fmt: skip
            lines += [f"{tag}  - {value}" for tag, value in fields if value]
            if r.pmid:
                lines.append(f"N1  - PMID: {r.pmid}")
            out.write("\n".join([*lines, "ER  - ", "", ""]))
    return labelled.groups


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pairs(groups: list[list[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for g in groups for p in itertools.combinations(g, 2)}


def child(path: Path, groups_path: Path) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from core.models import User
    from core.services import job_create
    from reviews.services import review_create
    from searches import dedup_services, services
    from searches.models import DuplicatePair, Record, RecordSource
    from searches.tasks import dedup, search_import

    lead, _ = User.objects.get_or_create(
        email="bench@example.org", defaults={"name": "Bench"}
    )
    review = review_create(creator=lead, title=f"Dedup scale {time.time()}")
    with path.open("rb") as binary:
        search = services.search_file_create(
            review=review, actor=lead, upload=File(binary, name=path.name),
            file_name=path.name, database="Bench", run_on=date.today(),
            enqueue=False,
        )  # fmt: skip
    start = time.perf_counter()
    search_import.apply(
        kwargs={"job_id": search.job_id, "search_id": search.pk}, throw=True
    )
    import_seconds = time.perf_counter() - start
    search.refresh_from_db()
    if search.status != "imported":
        raise SystemExit(f"import failed: {search.error}")

    job = job_create(
        kind=dedup_services.DEDUP_KIND, label="bench", review_id=review.pk,
        created_by=lead,
    )  # fmt: skip
    before_mb = peak_rss_mb()
    start = time.perf_counter()
    dedup.apply(kwargs={"job_id": job.pk, "review_id": review.pk}, throw=True)
    dedup_seconds = time.perf_counter() - start

    source_of = dict(
        RecordSource.objects.filter(search=search).values_list("record_id", "source_id")
    )
    merged_groups: dict[int, list[str]] = {}
    for record_id, primary in Record.objects.filter(review=review).values_list(
        "id", "duplicate_of_id"
    ):
        merged_groups.setdefault(primary or record_id, []).append(source_of[record_id])
    merged = _pairs([g for g in merged_groups.values() if len(g) > 1])
    queued = {
        frozenset((source_of[a], source_of[b]))
        for a, b in DuplicatePair.objects.filter(review=review).values_list(
            "record_a_id", "record_b_id"
        )
    }
    truth = _pairs(json.loads(groups_path.read_text()))
    return {
        "records": search.records_imported,
        "import_s": import_seconds,
        "dedup_s": dedup_seconds,
        "peak_mb": peak_rss_mb(),
        "peak_before_dedup_mb": before_mb,
        "precision": len(merged & truth) / len(merged) if merged else 1.0,
        "recall": len(merged & truth) / len(truth),
        "queue": len(queued),
        "recall_with_queue": len((merged | queued) & truth) / len(truth),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=80_000)
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL to add")
    parser.add_argument("--child", nargs=2, metavar=("RIS", "GROUPS"))
    options = parser.parse_args()
    if options.child:
        print(json.dumps(child(Path(options.child[0]), Path(options.child[1]))))
        return

    work = Path(tempfile.mkdtemp(prefix="bench-dedup-"))
    ris, groups_path = work / "synthetic.ris", work / "groups.json"
    groups_path.write_text(json.dumps(write_ris(ris, options.records)))
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DEBUG="false", SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="testserver", IMPORT_MAX_BYTES=str(4 * 1024**3),
        SITE_URL="http://testserver", SECURE_SSL_REDIRECT="false",
    )  # fmt: skip
    runs = {"sqlite": {**env, "VAR_DIR": str(work / "var")}}
    if options.postgres:
        runs["postgresql"] = {
            **env, "DATABASE_URL": options.postgres, "VAR_DIR": str(work / "var-pg"),
        }  # fmt: skip
    print(
        f"{'database':<11} {'records':>8} {'import s':>9} {'dedup s':>8} "
        f"{'peak MB':>8} {'precision':>9} {'recall':>7} {'queue':>6} "
        f"{'recall+queue':>12}"
    )
    for name, run_env in runs.items():
        result = subprocess.run(  # noqa: S603 (this script, our arguments)
            [sys.executable, __file__, "--child", str(ris), str(groups_path)],
            env=run_env, capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(f"{name} failed:\n{result.stdout}\n{result.stderr}")
        r = json.loads(result.stdout.strip().splitlines()[-1])
        print(
            f"{name:<11} {r['records']:>8} {r['import_s']:>9.1f} {r['dedup_s']:>8.1f} "
            f"{r['peak_mb']:>8.0f} {r['precision']:>9.4f} {r['recall']:>7.4f} "
            f"{r['queue']:>6} {r['recall_with_queue']:>12.4f}"
        )
    print(f"files in {work} (delete when done)")


if __name__ == "__main__":
    main()
