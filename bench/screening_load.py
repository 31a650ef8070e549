"""Screening at 100,000 records: the vote POST that returns the next record.

    .venv/bin/python bench/screening_load.py [--records 100000] [--votes 400]
        [--postgres URL | --sqlite]

Builds a review of `--records` records on a fresh database (PostgreSQL by
default: bench_screening on the local server), half-way through dual
title/abstract screening: reviewer B has voted on 60% of the records, reviewer
A on 30% (so A's votes settle records, make conflicts, and A's queue starts
after 30,000 records of A's own votes). Then, as reviewer A, it sends
`--votes` htmx vote POSTs through Django's test client (the whole request in
this process: middleware, view, services, template; no network), each for
the record the previous response served, and reports per-request time
(p50/p95/max) and the query count of every request. It repeats this with
prioritised screening (every open record scored). It also times the full
page, which finds A's first waiting record without a starting point.
Target (issue 6): p95 under 100 ms server-side, one query count for all.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/bench_screening"
WORDS = [
    "exercise",
    "treadmill",
    "swimming",
    "rats",
    "mice",
    "spinal",
    "cord",
    "injury",
    "contusion",
    "neuropathic",
    "pain",
    "allodynia",
    "hyperalgesia",
    "randomised",
    "trial",
    "cohort",
    "review",
    "patients",
    "outcome",
    "measure",
    "weekly",
    "training",
    "recovery",
    "locomotor",
    "sensory",
    "model",
    "severity",
    "voluntary",
    "forced",
    "wheel",
    "running",
    "analgesia",
]
CARD_RECORD = re.compile(r'id="record-card"\s+data-record="(\d+)"')


def environment(options: argparse.Namespace) -> None:
    os.environ.pop("REDIS_URL", None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="testserver",
        SITE_URL="http://testserver",
        SECURE_SSL_REDIRECT="false",
        VAR_DIR=str(Path("/tmp/bench-screening-var")),
    )
    if options.sqlite:
        os.environ.pop("DATABASE_URL", None)
        db = Path("/tmp/bench-screening-var/db.sqlite3")
        db.unlink(missing_ok=True)
        return
    import psycopg

    url = options.postgres
    admin, name = url.rsplit("/", 1)[0] + "/postgres", url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def build(n: int) -> dict[str, Any]:
    """The review, its team and records, half-way through screening."""
    from django.db import connection

    from core.models import User
    from core.roles import Role
    from reviews.models import Membership
    from reviews.services import review_create
    from screening.models import Decision, ExclusionReason, HighlightTerm, RecordStage
    from searches.models import Record, RecordSource, Search

    rng = random.Random(6)
    lead = User.objects.create_user(email="lead@bench.example", password="x")
    a = User.objects.create_user(email="a@bench.example", password="x")
    b = User.objects.create_user(email="b@bench.example", password="x")
    review = review_create(creator=lead, title="Screening load", question="Q?")
    for user in (a, b):
        Membership.objects.create(review=review, user=user, role=Role.REVIEWER)
    search = Search.objects.create(
        review=review,
        database="PubMed",
        run_on=date(2026, 1, 1),
        query="bench",
        status=Search.Status.IMPORTED,
        records_imported=n,
    )
    started = time.perf_counter()
    for first in range(0, n, 5000):
        batch = [
            Record(
                review=review,
                search=search,
                title=text(rng, 12),
                abstract=" ".join(text(rng, 20) for _ in range(10)),
                authors=[["Smith", "J"], ["Lee", "K"], [f"Author{i}", "A"]],
                year=2000 + i % 25,
                journal="Journal of Pain",
                keywords=["exercise", "pain"],
            )
            for i in range(first, min(n, first + 5000))
        ]
        Record.objects.bulk_create(batch)
        RecordSource.objects.bulk_create(
            RecordSource(record=r, search=search, position=r.pk) for r in batch
        )
    reasons = [
        ExclusionReason.objects.create(review=review, position=i + 1, label=label)
        for i, label in enumerate(["Population", "Intervention", "Design"])
    ]
    for term, kind in (
        ("treadmill", "include"),
        ("exercis*", "include"),
        ("review", "exclude"),
    ):
        HighlightTerm.objects.create(review=review, term=term, kind=kind)
    ids = list(
        Record.objects.filter(review=review).order_by("pk").values_list("pk", flat=True)
    )
    by_b, by_a = ids[: int(n * 0.6)], ids[: int(n * 0.3)]
    votes_b = {pk: ("include" if rng.random() < 0.2 else "exclude") for pk in by_b}
    votes_a = {
        pk: (
            votes_b[pk]
            if rng.random() < 0.9
            else ("include" if votes_b[pk] == "exclude" else "exclude")
        )
        for pk in by_a
    }
    decisions, states = [], []
    for pk in by_b:
        decisions.append(
            Decision(
                review=review,
                record_id=pk,
                stage="title_abstract",
                reviewer=b,
                vote=votes_b[pk],
            )
        )
        if pk in votes_a:
            decisions.append(
                Decision(
                    review=review,
                    record_id=pk,
                    stage="title_abstract",
                    reviewer=a,
                    vote=votes_a[pk],
                )
            )
            same = votes_a[pk] == votes_b[pk]
            status = (
                ("included" if votes_a[pk] == "include" else "excluded")
                if same
                else "conflict"
            )
            states.append(
                RecordStage(
                    review=review,
                    record_id=pk,
                    stage="title_abstract",
                    status=status,
                    final_vote=votes_a[pk] if same else "",
                    method="agreement" if same else "",
                )
            )
        else:
            states.append(
                RecordStage(review=review, record_id=pk, stage="title_abstract")
            )
    Decision.objects.bulk_create(decisions, batch_size=5000)
    RecordStage.objects.bulk_create(states, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "review": review, "a": a, "reasons": reasons, "ids": ids,
        "build_s": time.perf_counter() - started, "decisions": len(decisions),
    }  # fmt: skip


def measure_votes(scene: dict[str, Any], votes: int) -> dict[str, Any]:
    """Vote as reviewer A on each record the previous response served."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    review, a = scene["review"], scene["a"]
    client = Client()
    client.force_login(a)
    screen = reverse("screening:screen", args=[review.pk, "title_abstract"])
    page = client.get(screen)
    record = int(CARD_RECORD.search(page.content.decode()).group(1))
    rng = random.Random(7)
    timings, queries = [], []
    for i in range(votes + 20):
        vote = "include" if rng.random() < 0.2 else "exclude"
        url = reverse("screening:vote", args=[review.pk, "title_abstract", record])
        connection.queries_log.clear()  # the log keeps 9,000 queries, then drops
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.post(url, {"vote": vote}, headers={"hx-request": "true"})
            elapsed = time.perf_counter() - started
        body = response.content.decode()
        assert response.status_code == 200 and 'data-testid="card-error"' not in body, (
            body[:2000]
        )
        record = int(CARD_RECORD.search(body).group(1))
        if i >= 20:  # the first requests warm caches
            timings.append(elapsed * 1000)
            queries.append(len(captured))
    timings.sort()
    return {
        "p50": statistics.median(timings),
        "p95": timings[int(len(timings) * 0.95) - 1],
        "max": timings[-1],
        "queries": sorted(set(queries)),
    }


def full_page_ms(scene: dict[str, Any]) -> float:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(scene["a"])
    url = reverse("screening:screen", args=[scene["review"].pk, "title_abstract"])
    client.get(url)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def prioritise(scene: dict[str, Any]) -> None:
    """Score every open record (as the prioritisation task leaves it)."""
    from screening.models import PriorityScore, RecordStage
    from screening.rules import Stage
    from screening.services import stage_settings

    review = scene["review"]
    settled = set(
        RecordStage.objects.filter(review=review)
        .exclude(status="pending")
        .values_list("record_id", flat=True)
    )
    rng = random.Random(8)
    scores = [
        PriorityScore(review=review, record_id=pk, score=rng.random())
        for pk in scene["ids"]
        if pk not in settled
    ]
    PriorityScore.objects.bulk_create(scores, batch_size=5000)
    settings = stage_settings(review, Stage.TITLE_ABSTRACT)
    settings.prioritised = True
    settings.save()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--votes", type=int, default=400)
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--sqlite", action="store_true", help="the embedded default")
    options = parser.parse_args()
    environment(options)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    scene = build(options.records)
    print(
        f"{connection.vendor}: {options.records} records, {scene['decisions']} votes "
        f"already cast, built in {scene['build_s']:.0f} s"
    )
    rows = [("import order", measure_votes(scene, options.votes))]
    full = full_page_ms(scene)
    prioritise(scene)
    rows.append(("prioritised", measure_votes(scene, options.votes)))
    print(f"\nvote POST + next-record fragment, {options.votes} votes each (ms):")
    print(f"{'queue':<14} {'p50':>6} {'p95':>6} {'max':>6}  queries per request")
    for name, r in rows:
        print(
            f"{name:<14} {r['p50']:>6.1f} {r['p95']:>6.1f} {r['max']:>6.1f}  "
            f"{', '.join(map(str, r['queries']))}"
        )
    print(f"\nfull screening page, no starting point (best of 5): {full:.0f} ms")


if __name__ == "__main__":
    main()
