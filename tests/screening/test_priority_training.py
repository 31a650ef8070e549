"""Prioritised screening in the app: the retraining task, its throttle and
claim, the feature cache, blinding of the order, the dashboard estimate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import User
from reviews.models import Review
from screening import priority_services, services
from screening.models import (
    Decision,
    PriorityScore,
    PriorityTraining,
    RecordStage,
    StageSettings,
)
from screening.priority_services import priority_retrain_run, retrain_every
from screening.rules import Stage, Vote
from searches.models import Record
from tests.conftest import client_for
from tests.factories import RecordFactory, SearchFactory

TA = Stage.TITLE_ABSTRACT
RELEVANT = (
    "Treadmill exercise reduces neuropathic pain after spinal cord injury in rats"
)
OTHER = "Cardiac surgery outcomes in elderly patients: a registry cohort"


def _records(review: Review, title: str, n: int) -> list[Record]:
    search = SearchFactory(review=review)
    return [
        RecordFactory(search=search, title=f"{title} {i}", abstract=title)
        for i in range(n)
    ]


@pytest.fixture
def prioritised(review: Review) -> StageSettings:
    settings = services.stage_settings(review, TA)
    settings.prioritised = True
    settings.save()
    return settings


def _settle(review: Review, records: list[Record], user: User, vote: Vote) -> None:
    for record in records:
        services.decision_record(
            review=review, record=record, stage=TA, reviewer=user, vote=vote
        )


def _scores(review: Review) -> dict[int, float]:
    return dict(
        PriorityScore.objects.filter(review=review).values_list("record_id", "score")
    )


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pool size of every call to vectorise."""
    sizes: list[int] = []
    vectorise = priority_services.vectorise

    def counted(texts: Any) -> Any:
        sizes.append(len(texts))
        return vectorise(texts)

    monkeypatch.setattr(priority_services, "vectorise", counted)
    return sizes


def _retrain(review: Review) -> PriorityTraining | None:
    PriorityTraining.objects.filter(review=review).update(labelled=0, trained_at=None)
    return priority_retrain_run(review_id=review.pk)


def test_training_learns_from_settled_records_and_scores_only_open_ones(
    review: Review,
    prioritised: StageSettings,
    reviewer_a: User,
    reviewer_b: User,
) -> None:
    relevant, other = _records(review, RELEVANT, 6), _records(review, OTHER, 6)
    for user in (reviewer_a, reviewer_b):
        _settle(review, relevant[:2], user, Vote.INCLUDE)
        _settle(review, other[:2], user, Vote.EXCLUDE)
    decisions = list(Decision.objects.values_list("pk", "vote"))
    states = list(RecordStage.objects.values_list("pk", "status"))

    training = priority_retrain_run(review_id=review.pk)

    assert training is not None
    assert (training.labelled, training.relevant, training.scored) == (4, 2, 8)
    assert training.method == "model" and training.estimated_remaining is not None
    scores = _scores(review)
    assert set(scores) == {r.pk for r in relevant[2:] + other[2:]}
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)
    assert set(ranked[:4]) == {r.pk for r in relevant[2:]}
    # It orders records; it never decides one.
    assert list(Decision.objects.values_list("pk", "vote")) == decisions
    assert list(RecordStage.objects.values_list("pk", "status")) == states


def test_a_vote_still_blinded_never_moves_a_record_in_the_queue(
    review: Review,
    prioritised: StageSettings,
    reviewer_a: User,
    reviewer_b: User,
) -> None:
    relevant, other = _records(review, RELEVANT, 5), _records(review, OTHER, 5)
    for user in (reviewer_a, reviewer_b):
        _settle(review, relevant[:2], user, Vote.INCLUDE)
        _settle(review, other[:2], user, Vote.EXCLUDE)
    assert _retrain(review) is not None
    before = _scores(review)

    # B votes on open records; A has not: A's queue must not change.
    _settle(review, other[2:], reviewer_b, Vote.INCLUDE)
    _settle(review, relevant[2:], reviewer_b, Vote.EXCLUDE)
    assert _retrain(review) is not None
    assert _scores(review) == before


def test_retraining_waits_for_enough_new_settled_records() -> None:
    assert [retrain_every(n) for n in (0, 19, 40, 200, 10_000)] == [1, 1, 2, 10, 25]


def test_a_training_runs_only_when_enough_is_new(
    review: Review, prioritised: StageSettings, reviewer_a: User, reviewer_b: User
) -> None:
    relevant, other = _records(review, RELEVANT, 4), _records(review, OTHER, 4)
    for user in (reviewer_a, reviewer_b):
        _settle(review, relevant[:1], user, Vote.INCLUDE)
        _settle(review, other[:1], user, Vote.EXCLUDE)
    assert priority_retrain_run(review_id=review.pk) is not None
    assert priority_retrain_run(review_id=review.pk) is None  # nothing new
    for user in (reviewer_a, reviewer_b):
        _settle(review, relevant[1:2], user, Vote.INCLUDE)
    training = priority_retrain_run(review_id=review.pk)
    assert training is not None and training.labelled == 3


def test_one_training_at_a_time_and_a_dead_claim_expires(
    review: Review, prioritised: StageSettings, reviewer_a: User
) -> None:
    _records(review, RELEVANT, 3)
    running = timezone.now()
    PriorityTraining.objects.create(review=review, started_at=running)
    assert priority_retrain_run(review_id=review.pk) is None
    assert not PriorityScore.objects.exists()
    PriorityTraining.objects.update(started_at=running - timedelta(minutes=36))
    training = priority_retrain_run(review_id=review.pk)
    assert training is not None and training.started_at is None
    assert training.method == "pool order" and training.scored == 3


def test_nothing_is_trained_when_the_queue_is_not_prioritised(
    review: Review, reviewer_a: User
) -> None:
    _records(review, RELEVANT, 3)
    assert priority_retrain_run(review_id=review.pk) is None
    assert not PriorityScore.objects.exists()


def test_a_settled_record_asks_for_a_training_after_commit(
    review: Review,
    prioritised: StageSettings,
    reviewer_a: User,
    reviewer_b: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    relevant, other = _records(review, RELEVANT, 3), _records(review, OTHER, 3)
    _settle(review, relevant[:1], reviewer_a, Vote.INCLUDE)
    assert not PriorityTraining.objects.exists()  # one vote settles nothing
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _settle(review, relevant[:1], reviewer_b, Vote.INCLUDE)
    assert len(callbacks) == 1
    training = PriorityTraining.objects.get(review=review)
    assert training.trained_at is not None and training.method == "similarity"
    assert set(_scores(review)) == {r.pk for r in relevant[1:] + other}


def test_the_pool_is_vectorised_once_until_it_changes(
    review: Review,
    prioritised: StageSettings,
    reviewer_a: User,
    calls: list[int],
) -> None:
    _records(review, RELEVANT, 3)
    assert _retrain(review) is not None
    assert _retrain(review) is not None
    assert calls == [3]
    _records(review, OTHER, 2)
    assert _retrain(review) is not None
    assert calls == [3, 5]
    assert len(_scores(review)) == 5


def test_the_dashboard_shows_the_estimate_of_relevant_records_left(
    review: Review,
    prioritised: StageSettings,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
) -> None:
    relevant, other = _records(review, RELEVANT, 5), _records(review, OTHER, 5)
    url = reverse("screening:dashboard", args=[review.pk])
    assert "the model trains as soon as" in client_for(reviewer_a).get(url).text
    for user in (reviewer_a, reviewer_b):
        _settle(review, relevant[:2], user, Vote.INCLUDE)
        _settle(review, other[:2], user, Vote.EXCLUDE)
    training = priority_retrain_run(review_id=review.pk)
    assert training is not None and training.estimated_remaining is not None
    body = client_for(reviewer_a).get(url).text
    assert 'data-testid="estimate"' in body
    assert f"among the {training.scored} still open" in body


def test_turning_prioritisation_on_asks_for_a_training(
    review: Review, lead: User, django_capture_on_commit_callbacks: Any
) -> None:
    _records(review, RELEVANT, 3)
    url = reverse("screening:settings", args=[review.pk, TA.value])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(lead).post(
            url,
            {
                "reviewers_required": 2,
                "maybe_rule": "as_include",
                "prioritised": "on",
                "pilot_kappa": 0.6,
                "pilot_agreement": 0.8,
            },
        )
    assert response.status_code == 302
    assert StageSettings.objects.get(review=review, stage=TA).prioritised
    assert len(_scores(review)) == 3
    full_text = reverse("screening:settings", args=[review.pk, Stage.FULL_TEXT.value])
    assert 'name="prioritised"' not in client_for(lead).get(full_text).text


def test_a_request_refused_while_a_training_runs_makes_it_run_again(
    review: Review, prioritised: StageSettings, reviewer_a: User
) -> None:
    _records(review, RELEVANT, 3)
    started = priority_services._claim(review)  # a training is running
    assert started is not None
    assert priority_retrain_run(review_id=review.pk) is None  # refused
    assert PriorityTraining.objects.get(review=review).rerun
    assert priority_services._release(review, started) is True  # so it re-runs


def test_a_training_releases_only_its_own_claim(
    review: Review, prioritised: StageSettings, reviewer_a: User
) -> None:
    _records(review, RELEVANT, 3)
    stale = priority_services._claim(review)
    assert stale is not None
    PriorityTraining.objects.update(started_at=stale - timedelta(minutes=36))
    newer = priority_services._claim(review)  # the stale claim is taken over
    assert newer is not None and newer != stale
    assert priority_services._release(review, stale - timedelta(minutes=36)) is False
    assert PriorityTraining.objects.get(review=review).started_at == newer


def test_the_throttle_holds_when_a_settled_record_was_merged_away(
    review: Review, prioritised: StageSettings, reviewer_a: User, reviewer_b: User
) -> None:
    relevant, other = _records(review, RELEVANT, 30), _records(review, OTHER, 30)
    for user in (reviewer_a, reviewer_b):
        _settle(review, relevant[:12], user, Vote.INCLUDE)
        _settle(review, other[:12], user, Vote.EXCLUDE)
    merged = relevant[0]
    merged.duplicate_of = relevant[1]
    merged.save(update_fields=["duplicate_of"])
    assert priority_retrain_run(review_id=review.pk) is not None
    assert priority_retrain_run(review_id=review.pk) is None  # nothing is new


def test_the_sweep_finds_queues_whose_pool_grew(
    review: Review, prioritised: StageSettings, reviewer_a: User
) -> None:
    _records(review, RELEVANT, 3)
    assert priority_services.reviews_behind() == [review.pk]  # never trained
    assert priority_retrain_run(review_id=review.pk) is not None
    assert priority_services.reviews_behind() == []
    _records(review, OTHER, 2)  # a new import
    assert priority_services.reviews_behind() == [review.pk]
    assert priority_retrain_run(review_id=review.pk) is not None
    assert len(_scores(review)) == 5


def test_features_are_rebuilt_after_an_edit_or_a_broken_cache(
    review: Review,
    prioritised: StageSettings,
    reviewer_a: User,
    calls: list[int],
) -> None:
    records = _records(review, RELEVANT, 3)
    assert _retrain(review) is not None
    records[0].abstract = "A new abstract after a merge filled it in"
    records[0].save()
    assert _retrain(review) is not None
    assert calls == [3, 3]
    priority_services._cache_path(review).write_bytes(b"PK\x03\x04 truncated")
    assert _retrain(review) is not None
    assert calls == [3, 3, 3]


def test_the_dashboard_says_when_the_last_training_failed(
    review: Review, prioritised: StageSettings, reviewer_a: User
) -> None:
    PriorityTraining.objects.create(
        review=review, trained_at=timezone.now(), error="MemoryError"
    )
    body = (
        client_for(reviewer_a)
        .get(reverse("screening:dashboard", args=[review.pk]))
        .text
    )
    assert 'data-testid="training-failed"' in body and "MemoryError" not in body
