"""Import 100,000 records through the real import task, and compare with bare parsers.

    .venv/bin/python bench/import_100k.py [--records 100000] [--postgres URL] [--keep]

Builds a 100k-record RIS file and a 100k-record PubMed XML file from the shared
fixtures, then, each in a fresh child process (so peak memory is its own):
  * bare parser: rispy.load (RIS) / an lxml iterparse loop that only clears (XML);
  * our import through the Celery task (run in-process with apply()) on the
    embedded default (SQLite) and, when reachable, on PostgreSQL.
Prints wall time, records/s, peak RSS, and the ratio of our records/s to the bare
parser's. Timings are noisy: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from itertools import cycle, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/bench_import"


def build_ris(path: Path, n: int) -> None:
    records = []
    for file in sorted((FIXTURES / "ris").glob("*.ris")):
        try:
            text = file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        text = text.replace("\r\n", "\n")
        records += [
            r.strip("\n") + "\nER  - \n"
            for r in re.split(r"\nER  -.*\n?", text)
            if "TY  -" in r
        ]
    with path.open("w", encoding="utf-8") as out:
        for record in islice(cycle(records), n):
            out.write(record + "\n")


def build_pubmed_xml(path: Path, n: int) -> None:
    articles = []
    for file in sorted((FIXTURES / "pubmed-xml").glob("*.xml")):
        text = file.read_text(encoding="utf-8")
        articles += re.findall(r"<PubmedArticle>.*?</PubmedArticle>", text, flags=re.S)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n')
        for article in islice(cycle(articles), n):
            out.write(article + "\n")
        out.write("</PubmedArticleSet>\n")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Child processes -----------------------------------------------------------


def child_bare(kind: str, path: Path) -> dict[str, float]:
    start = time.perf_counter()
    if kind == "ris":
        import rispy

        with path.open(encoding="utf-8") as handle:
            count = len(rispy.load(handle))
    else:
        from lxml import etree

        count = 0
        for _, element in etree.iterparse(str(path), tag="PubmedArticle"):
            count += 1
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
    return {
        "records": count,
        "seconds": time.perf_counter() - start,
        "peak_mb": peak_rss_mb(),
    }


def child_import(kind: str, path: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command(
        "collectstatic", interactive=False, verbosity=0
    )  # pages need the manifest
    from core.models import User
    from reviews.services import review_create
    from searches import services
    from searches.models import Search
    from searches.tasks import search_import

    lead, _ = User.objects.get_or_create(
        email="bench@example.org", defaults={"name": "Bench"}
    )
    review = review_create(creator=lead, title=f"Benchmark {kind} {time.time()}")
    with path.open("rb") as binary:
        from django.core.files import File

        search = services.search_file_create(
            review=review, actor=lead, upload=File(binary, name=path.name),
            file_name=path.name, database="Bench", run_on=date.today(),
            enqueue=False,
        )  # fmt: skip
    baseline = peak_rss_mb()
    start = time.perf_counter()
    search_import.apply(
        kwargs={"job_id": search.job_id, "search_id": search.pk}, throw=True
    )
    seconds = time.perf_counter() - start
    search.refresh_from_db()
    if search.status != Search.Status.IMPORTED:
        raise SystemExit(f"import failed: {search.error}")
    result = {
        "records": search.records_imported,
        "seconds": seconds,
        "peak_mb": peak_rss_mb(),
        "baseline_mb": baseline,
    }
    result.update(records_page_ms(review.pk, lead))
    return result


def records_page_ms(review_id: int, user: object) -> dict[str, float]:
    """Server time of the records page over the imported records (best of 3)."""
    from django.test import Client

    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    url = f"/reviews/{review_id}/records/"
    cases = {
        "page_first_ms": {},
        "page_deep_ms": {"page": "1500"},
        "page_words_ms": {"q": "exercise pain"},
        "page_doi_ms": {"q": "10.1016/j.biocon.2016.01.001"},
        "page_year_ms": {"year_from": "2010", "year_to": "2015"},
    }
    timings = {}
    for name, params in cases.items():
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            response = client.get(url, params)
            best = min(best, time.perf_counter() - start)
            if response.status_code != 200:
                raise SystemExit(f"records page answered {response.status_code}")
        timings[name] = best * 1000
    return timings


def run_child(args: list[str], env: dict[str, str]) -> dict[str, float]:
    result = subprocess.run(  # noqa: S603 (our own script, our arguments)
        [sys.executable, __file__, "--child", *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def postgres_ready(url: str) -> bool:
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        return True
    except psycopg.OperationalError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument(
        "--postgres", default=DEFAULT_PG, help="empty to skip PostgreSQL"
    )
    parser.add_argument("--child", nargs=3, metavar=("MODE", "KIND", "FILE"))
    options = parser.parse_args()
    if options.child:
        mode, kind, file = options.child
        run = child_bare if mode == "bare" else child_import
        print(json.dumps(run(kind, Path(file))))
        return

    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    files = {"ris": work / "records_100k.ris", "pubmed_xml": work / "records_100k.xml"}
    build_ris(files["ris"], options.records)
    build_pubmed_xml(files["pubmed_xml"], options.records)
    base_env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")
    }
    # 100k records with abstracts are larger than the default 200 MB upload limit.
    base_env["IMPORT_MAX_BYTES"] = str(4 * 1024**3)
    # Production mode: DEBUG off (with DEBUG on Django logs and formats every query).
    base_env.update(
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="testserver",
        SITE_URL="http://testserver",
        SECURE_SSL_REDIRECT="false",
    )
    backends = {"sqlite": {**base_env, "VAR_DIR": str(work / "var")}}
    if options.postgres and postgres_ready(options.postgres):
        backends["postgresql"] = {
            **base_env,
            "DATABASE_URL": options.postgres,
            "VAR_DIR": str(work / "var-pg"),
        }
    rows = []
    for kind, path in files.items():
        size_mb = path.stat().st_size / 1e6
        bare = run_child(["bare", kind, str(path)], base_env)
        bare_rate = bare["records"] / bare["seconds"]
        rows.append((kind, "bare parser", size_mb, bare, 1.0))
        for backend, env in backends.items():
            ours = run_child(["import", kind, str(path)], env)
            ratio = (ours["records"] / ours["seconds"]) / bare_rate
            rows.append((kind, f"import task, {backend}", size_mb, ours, ratio))
    header = ("file", "run", "MB", "records", "s", "rec/s", "peak MB", "vs bare")
    print("\n{:<11} {:<26} {:>6} {:>8} {:>7} {:>8} {:>8} {:>8}".format(*header))
    for kind, run, size_mb, r, ratio in rows:
        rate = r["records"] / r["seconds"]
        print(
            f"{kind:<11} {run:<26} {size_mb:>6.0f} {r['records']:>8.0f} "
            f"{r['seconds']:>7.1f} {rate:>8.0f} {r['peak_mb']:>8.0f} {ratio:>8.2f}"
        )
    print("\nRecords page over the imported records (ms, best of 3):")
    for kind, run, _, r, _ in rows:
        if "page_first_ms" in r:
            pages = ", ".join(
                f"{name[5:-3]} {value:.0f}"
                for name, value in r.items()
                if name.startswith("page_")
            )
            print(f"  {kind:<11} {run:<26} {pages}")
    print(f"\nfiles in {work} (delete when done)")


if __name__ == "__main__":
    main()
