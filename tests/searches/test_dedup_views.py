from __future__ import annotations

from collections.abc import Callable

from core.models import AuditEvent, Job, User
from reviews.models import Review
from searches.models import DedupSettings, DuplicatePair, Merge, Record
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
        review=review, record_a=a, record_b=b, score=0.6, matched=["title"],
        rule="erratum vs the article",
    )  # fmt: skip


def test_queue_shows_both_records_with_differences_marked(
    review: Review, lead: User
) -> None:
    pair = _pair(review)
    page = client_for(lead).get(f"/reviews/{review.pk}/duplicates/queue/")
    html = page.content.decode()
    assert f"Record {pair.record_a_id}" in html and f"Record {pair.record_b_id}" in html
    assert html.count('data-testid="differs"') >= 1  # the years differ
    assert "1 pair left" in html
    assert "Here because: erratum vs the article" in html


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


def test_lead_changes_the_thresholds_audited(review: Review, lead: User) -> None:
    url = f"/reviews/{review.pk}/duplicates/settings/"
    client = client_for(lead)
    assert "Duplicate thresholds" in client.get(url).content.decode()
    response = client.post(url, {"auto_threshold": "0.97", "possible_threshold": "0.4"})
    assert response.status_code == 302
    settings = DedupSettings.objects.get(review=review)
    assert (settings.auto_threshold, settings.possible_threshold) == (0.97, 0.4)
    event = AuditEvent.objects.get(verb="dedup.settings_changed")
    assert event.before == {"auto_threshold": 0.95, "possible_threshold": 0.3}
    assert event.after == {"auto_threshold": 0.97, "possible_threshold": 0.4}


def test_bad_thresholds_are_refused_with_a_message_and_nothing_changes(
    review: Review, lead: User
) -> None:
    url = f"/reviews/{review.pk}/duplicates/settings/"
    client = client_for(lead)
    cases = [
        ({"auto_threshold": "0.3", "possible_threshold": "0.2"}, "Below 0.5"),
        ({"auto_threshold": "0.9", "possible_threshold": "0.95"}, "starts at or below"),
        ({"auto_threshold": "1.5", "possible_threshold": "0.3"}, "less than or equal"),
        ({"auto_threshold": "high", "possible_threshold": "0.3"}, "Enter a number"),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not AuditEvent.objects.filter(verb="dedup.settings_changed").exists()
    assert not DedupSettings.objects.exclude(auto_threshold=0.95).exists()
    assert not DedupSettings.objects.exclude(possible_threshold=0.3).exists()


def test_the_thresholds_decide_the_next_run(review: Review, lead: User) -> None:
    from searches import dedup_services

    search = SearchFactory(review=review)
    title = "Treadmill running reduces mechanical allodynia after sciatic nerve injury"
    for year in (2020, 2021):  # online first, then print: a person should look
        RecordFactory(review=review, search=search, title=title, year=year)
    DedupSettings.objects.update_or_create(
        review=review, defaults={"auto_threshold": 0.999, "possible_threshold": 0.999}
    )
    assert dedup_services.dedup_run(review_id=review.pk) == {"merged": 0, "queued": 0}
    Record.objects.update(dedup_checked=False)
    DedupSettings.objects.filter(review=review).update(
        auto_threshold=0.95, possible_threshold=0.3
    )
    assert dedup_services.dedup_run(review_id=review.pk) == {"merged": 0, "queued": 1}


def test_the_service_refuses_automatic_merges_below_half(
    review: Review, lead: User
) -> None:
    import pytest
    from django.core.exceptions import ValidationError

    from searches import dedup_services

    with pytest.raises(ValidationError, match=r"0\.5 or more"):
        dedup_services.dedup_settings_update(
            review=review, actor=lead, auto_threshold=0.4, possible_threshold=0.3
        )
    assert not AuditEvent.objects.filter(verb="dedup.settings_changed").exists()
