"""Deduplication inside the app: runs over imported records, merges, the queue,
undo, incremental runs, and the labelled data through the whole pipeline."""

from __future__ import annotations

import csv
import itertools
from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from core.models import AuditEvent, User
from reviews.models import Review
from searches import dedup_services, services
from searches.models import DuplicatePair, Merge, Record, Search
from tests.searches.conftest import FIXTURES

LABELLED = FIXTURES / "dedup-labelled" / "haematology"


def _import(review: Review, lead: User, path: Path, name: str = "") -> Search:
    search = services.search_file_create(
        review=review,
        actor=lead,
        upload=SimpleUploadedFile(name or path.name, path.read_bytes()),
        file_name=name or path.name,
        database="Embase",
        run_on=date(2024, 1, 1),
        enqueue=False,
    )
    services.search_import_run(search_id=search.pk, job_id=search.job_id)
    search.refresh_from_db()
    assert search.status == Search.Status.IMPORTED, search.error
    return search


def _pairs(groups: list[list[str]]) -> set[tuple[str, str]]:
    return {
        tuple(sorted(pair))  # type: ignore[misc]
        for group in groups
        for pair in itertools.combinations(group, 2)
    }


def test_labelled_set_through_the_app_merges_precisely(
    review: Review, lead: User, tmp_path: Path
) -> None:
    _import(review, lead, LABELLED / "records_pre_merged.csv")
    report = tmp_path / "groups.csv"
    call_command("dedup", review=review.pk, report=report)
    with report.open(encoding="utf-8") as handle:
        found = [row["source_ids"].split("; ") for row in csv.DictReader(handle)]
    with (LABELLED / "merged_record_ids.csv").open(encoding="utf-8") as handle:
        truth = [row["merged_ids"].split(";") for row in csv.DictReader(handle)]
    merged, true = _pairs(found), _pairs(truth)
    queued = {
        tuple(sorted(pair))
        for pair in DuplicatePair.objects.values_list(
            "record_a__sources__source_id", "record_b__sources__source_id"
        )
    }
    precision = len(merged & true) / len(merged)
    recall_with_queue = len((merged | queued) & true) / len(true)
    assert precision >= 0.995
    # Floor at today's level (issue 5's target is 0.99: 0.957 today).
    assert recall_with_queue >= 0.95
    assert len(queued) <= 0.05 * Record.objects.filter(review=review).count()
    removed = Record.objects.filter(review=review, duplicate_of__isnull=False).count()
    assert removed == Merge.objects.filter(undone_at__isnull=True).count() > 100
    assert AuditEvent.objects.filter(verb="record.merged").count() == removed


def test_incremental_run_checks_new_records_against_the_old(
    review: Review, lead: User
) -> None:
    path = FIXTURES / "ris/cff_baseline_embase.ris"
    _import(review, lead, path)
    assert dedup_services.dedup_run(review_id=review.pk)["merged"] == 0
    assert Record.objects.filter(dedup_checked=False).count() == 0
    data = path.read_bytes().replace(b"TY  - JOUR", b"TY  - JOUR\nN1  - copy")
    second = services.search_file_create(
        review=review,
        actor=lead,
        upload=SimpleUploadedFile("copy.ris", data),
        file_name="copy.ris",
        database="Scopus",
        run_on=date(2024, 1, 2),
        enqueue=False,
    )
    services.search_import_run(search_id=second.pk, job_id=second.job_id)
    counts = dedup_services.dedup_run(review_id=review.pk)
    assert counts["merged"] == 10
    # The records checked before stay the primaries; the new ones are duplicates.
    duplicates = Record.objects.filter(duplicate_of__isnull=False)
    assert set(duplicates.values_list("search_id", flat=True)) == {second.pk}
    assert Record.objects.unique(review.pk).count() == 10
    # A run with nothing new changes nothing.
    assert dedup_services.dedup_run(review_id=review.pk) == {"merged": 0, "queued": 0}


def test_undo_splits_the_duplicate_off_and_restores_filled_fields(
    review: Review, lead: User
) -> None:
    path = FIXTURES / "ris/cff_baseline_embase.ris"
    first = _import(review, lead, path)
    dedup_services.dedup_run(review_id=review.pk)  # these stay the primaries
    Record.objects.filter(search=first).update(abstract="")  # to be filled
    data = path.read_bytes().replace(b"TY  - JOUR", b"TY  - JOUR\nN1  - copy")
    second = services.search_file_create(
        review=review,
        actor=lead,
        upload=SimpleUploadedFile("copy.ris", data),
        file_name="copy.ris",
        database="Scopus",
        run_on=date(2024, 1, 2),
        enqueue=False,
    )
    services.search_import_run(search_id=second.pk, job_id=second.job_id)
    dedup_services.dedup_run(review_id=review.pk)
    merge = Merge.objects.filter(filled__has_key="abstract").first()
    assert merge is not None
    primary = Record.objects.get(pk=merge.primary_id)
    assert primary.abstract  # filled from the duplicate
    dedup_services.merge_undo(merge=merge, actor=lead)
    primary.refresh_from_db()
    duplicate = Record.objects.get(pk=merge.duplicate_id)
    assert primary.abstract == "" and duplicate.duplicate_of_id is None
    assert AuditEvent.objects.filter(verb="record.merge_undone").count() == 1
    with pytest.raises(ValidationError, match="already undone"):
        dedup_services.merge_undo(merge=merge, actor=lead)


def test_a_person_decides_queued_pairs(review: Review, lead: User) -> None:
    path = FIXTURES / "ris/cff_baseline_embase.ris"
    search = _import(review, lead, path)
    a, b, c = Record.objects.filter(search=search).order_by("pk")[:3]
    same = DuplicatePair.objects.create(
        review=review, record_a=a, record_b=b, score=0.5, matched=["title"]
    )
    distinct = DuplicatePair.objects.create(
        review=review, record_a=a, record_b=c, score=0.4
    )
    dedup_services.pair_decide(pair=same, actor=lead, same=True)
    dedup_services.pair_decide(pair=distinct, actor=lead, same=False)
    b.refresh_from_db()
    c.refresh_from_db()
    assert b.duplicate_of_id == a.pk and c.duplicate_of_id is None
    merge = Merge.objects.get(duplicate=b)
    assert (merge.method, merge.merged_by) == (Merge.Method.PERSON, lead)
    with pytest.raises(ValidationError, match="already decided"):
        dedup_services.pair_decide(pair=same, actor=lead, same=False)
    # Undo puts a person's merge back in the queue.
    dedup_services.merge_undo(merge=merge, actor=lead)
    same.refresh_from_db()
    assert same.status == DuplicatePair.Status.OPEN
