from __future__ import annotations

from collections.abc import Callable

from core.models import AuditEvent, Job, User
from reviews.models import Review
from searches.models import DuplicatePair, Merge, Record
from tests.conftest import client_for
from tests.factories import RecordFactory, SearchFactory


def _pair(review: Review) -> DuplicatePair:
    search = SearchFactory(review=review)
    a = RecordFactory(
        review=review, search=search, title="Exercise and pain", year=2020
    )
    b = RecordFactory(
        review=review, search=search, title="Exercise and pain", year=2021
    )
    return DuplicatePair.objects.create(
        review=review, record_a=a, record_b=b, score=0.6, matched=["title"]
    )


def test_queue_shows_both_records_with_differences_marked(
    review: Review, lead: User
) -> None:
    pair = _pair(review)
    page = client_for(lead).get(f"/reviews/{review.pk}/duplicates/queue/")
    html = page.content.decode()
    assert f"Record {pair.record_a_id}" in html and f"Record {pair.record_b_id}" in html
    assert html.count('data-testid="differs"') >= 1  # the years differ
    assert "1 pair left" in html


def test_deciding_by_htmx_returns_the_next_pair(review: Review, lead: User) -> None:
    pair = _pair(review)
    response = client_for(lead).post(
        f"/reviews/{review.pk}/duplicates/pairs/{pair.pk}/",
        {"decision": "same"},
        headers={"hx-request": "true"},
    )
    html = response.content.decode()
    assert "No pairs are waiting" in html and "<html" not in html
    assert Record.objects.get(pk=pair.record_b_id).duplicate_of_id == pair.record_a_id
    assert AuditEvent.objects.filter(verb="record.merged", actor=lead).exists()


def test_a_reviewer_cannot_merge_or_undo(review: Review, reviewer_a: User) -> None:
    pair = _pair(review)
    client = client_for(reviewer_a)
    response = client.post(
        f"/reviews/{review.pk}/duplicates/pairs/{pair.pk}/", {"decision": "same"}
    )
    assert response.status_code == 403
    merge = Merge.objects.create(
        review=review,
        primary=pair.record_a,
        duplicate=pair.record_b,
        method="auto",
        score=1.0,
    )
    Record.objects.filter(pk=pair.record_b_id).update(duplicate_of=pair.record_a)
    response = client.post(f"/reviews/{review.pk}/duplicates/merges/{merge.pk}/undo/")
    assert response.status_code == 403
    assert Record.objects.get(pk=pair.record_b_id).duplicate_of_id == pair.record_a_id
    assert not AuditEvent.objects.filter(verb__startswith="record.").exists()


def test_lead_runs_dedup_as_a_job_and_sees_the_counts(
    review: Review, lead: User, django_capture_on_commit_callbacks: Callable
) -> None:
    search = SearchFactory(review=review)
    for _ in range(2):
        RecordFactory(
            review=review,
            search=search,
            title="Treadmill training after spinal cord injury in rats",
            doi="10.1000/xyz123",
            year=2019,
            authors=[["Smith", "J"]],
        )
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/reviews/{review.pk}/duplicates/run/")
    assert response.status_code == 302
    job = Job.objects.get(kind="searches.dedup")
    assert job.status == Job.Status.SUCCEEDED, job.error
    html = client.get(f"/reviews/{review.pk}/duplicates/").content.decode()
    assert "Removed automatically" in html
    assert Record.objects.filter(duplicate_of__isnull=False).count() == 1
    report = client.get(f"/reviews/{review.pk}/duplicates.csv").content.decode()
    assert report.splitlines()[0].startswith("group,records,record_ids")
    assert len(report.splitlines()) == 2
