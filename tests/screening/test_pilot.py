"""Calibration rounds (DOMAIN.md SCR-7): the gate before full screening, the
sample, blinded pilot votes, the pass rule, carrying votes over, the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditEvent, User
from reviews.models import Review
from screening import pilot_services, services
from screening.models import (
    Decision,
    ExclusionReason,
    PilotRound,
    PilotVote,
    RecordStage,
    StageSettings,
)
from screening.rules import Outcome, Stage, Vote
from searches.models import Record
from tests.conftest import client_for
from tests.factories import RecordFactory, SearchFactory

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
INC, MAY, EXC = Vote.INCLUDE, Vote.MAYBE, Vote.EXCLUDE


@pytest.fixture
def records(review: Review) -> list[Record]:
    search = SearchFactory(review=review)
    return [RecordFactory(search=search, title=f"Pilot record {i}") for i in range(25)]


@pytest.fixture
def calibrated(review: Review, records: list[Record]) -> StageSettings:
    settings = services.stage_settings(review, TA)
    settings.pilot_size, settings.pilot_kappa, settings.pilot_agreement = 10, 0.6, 0.8
    settings.save()
    return settings


def _screen_all(pilot: PilotRound, user: User, votes: dict[int, Vote]) -> None:
    """`user` votes on every pilot record: `votes` by position, else exclude."""
    for i, record in enumerate(pilot.records.order_by("pk")):
        pilot_services.pilot_vote(
            pilot=pilot, record=record, reviewer=user, vote=votes.get(i, EXC)
        )


def test_screening_opens_only_once_a_calibration_round_passes(
    review: Review,
    records: list[Record],
    calibrated: StageSettings,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
) -> None:
    with pytest.raises(ValidationError, match="once a calibration round passes"):
        services.decision_record(
            review=review, record=records[0], stage=TA, reviewer=reviewer_a, vote=INC
        )
    screen = reverse("screening:screen", args=[review.pk, TA.value])
    response = client_for(reviewer_a).get(screen)
    assert response.status_code == 302 and response.url.endswith("/pilot/")

    pilot = pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    assert (pilot.number, pilot.records.count()) == (1, 10)
    # 9 of 10 alike, kappa 0.8 on 4 includes: passes 0.6 and 80%.
    _screen_all(pilot, reviewer_a, {0: INC, 1: INC, 2: MAY, 3: INC})
    _screen_all(pilot, reviewer_b, {0: INC, 1: INC, 2: INC, 3: INC, 4: INC})
    closed = pilot_services.pilot_close(pilot=pilot, actor=lead)

    assert closed.passed is True
    (pair,) = closed.results
    assert (pair["n"], pair["observed"]) == (10, 0.9)
    assert pair["kappa"] == pytest.approx(0.8)
    # The votes carried over: they are the reviewers' decisions now.
    assert Decision.objects.filter(stage=TA).count() == 20
    states = RecordStage.objects.filter(stage=TA)
    assert states.filter(status=Outcome.CONFLICT).count() == 1
    assert states.filter(status=Outcome.INCLUDED).count() == 4
    assert states.filter(status=Outcome.EXCLUDED).count() == 5
    assert services.screening_open(review, TA, calibrated)
    outside = next(r for r in records if not pilot.records.filter(pk=r.pk).exists())
    services.decision_record(
        review=review, record=outside, stage=TA, reviewer=reviewer_a, vote=INC
    )
    assert client_for(reviewer_a).get(screen).status_code == 200
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"screening.pilot_started", "screening.pilot_voted"} <= verbs
    assert (
        AuditEvent.objects.get(verb="screening.pilot_closed").after[
            "votes_carried_over"
        ]
        == 20
    )


def test_a_round_below_target_keeps_screening_closed_and_the_next_draws_new_records(
    review: Review,
    records: list[Record],
    calibrated: StageSettings,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
) -> None:
    first = pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    with pytest.raises(ValidationError, match="already open"):
        pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    _screen_all(first, reviewer_a, {0: INC, 1: INC, 2: INC})
    _screen_all(first, reviewer_b, {3: INC, 4: INC, 5: INC})
    closed = pilot_services.pilot_close(pilot=first, actor=lead)
    assert closed.passed is False and closed.results[0]["observed"] == 0.4
    assert not Decision.objects.exists()  # a failed round's votes never count
    assert not services.screening_open(review, TA, calibrated)

    second = pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    assert second.number == 2
    assert not set(first.records.all()) & set(second.records.all())
    _screen_all(second, reviewer_a, {})
    _screen_all(second, reviewer_b, {})
    assert pilot_services.pilot_close(pilot=second, actor=lead).passed is True
    with pytest.raises(ValidationError, match="passed"):
        pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    assert PilotRound.objects.count() == 2


def test_a_third_vote_stays_a_pilot_vote(
    review: Review,
    records: list[Record],
    calibrated: StageSettings,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
) -> None:
    pilot = pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    for user in (reviewer_a, reviewer_b, lead):
        _screen_all(pilot, user, {})
    pilot_services.pilot_close(pilot=pilot, actor=lead)
    event = AuditEvent.objects.get(verb="screening.pilot_closed")
    # Two reviewers are needed per record: the third vote is not carried over.
    after = event.after
    assert (after["votes_carried_over"], after["votes_not_carried_over"]) == (20, 10)
    assert len(event.after["pairs"]) == 3


def test_an_exclusion_in_a_full_text_pilot_needs_a_reason(
    review: Review, records: list[Record], lead: User, reviewer_a: User
) -> None:
    for record in records[:3]:
        RecordStage.objects.create(
            review=review, record=record, stage=TA, status=Outcome.INCLUDED
        )
    settings = services.stage_settings(review, FT)
    settings.pilot_size = 10
    settings.save()
    pilot = pilot_services.pilot_start(review=review, stage=FT, actor=lead)
    assert pilot.records.count() == 3  # only records included at title/abstract
    record = pilot.records.first()
    assert record is not None
    with pytest.raises(ValidationError, match="reason"):
        pilot_services.pilot_vote(
            pilot=pilot, record=record, reviewer=reviewer_a, vote=EXC
        )
    reason = ExclusionReason.objects.create(
        review=review, position=1, label="Wrong design"
    )
    vote = pilot_services.pilot_vote(
        pilot=pilot, record=record, reviewer=reviewer_a, vote=EXC, reason=reason
    )
    assert vote.reason == reason
    with pytest.raises(ValidationError, match="not allowed"):
        pilot_services.pilot_vote(
            pilot=pilot, record=record, reviewer=reviewer_a, vote=MAY
        )


def test_only_leads_draw_and_close_and_a_round_needs_two_reviewers(
    review: Review,
    records: list[Record],
    calibrated: StageSettings,
    lead: User,
    reviewer_a: User,
    observer: User,
) -> None:
    with pytest.raises(ValidationError, match="Only a lead"):
        pilot_services.pilot_start(review=review, stage=TA, actor=reviewer_a)
    pilot = pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    record = pilot.records.first()
    assert record is not None
    with pytest.raises(ValidationError, match="Only reviewers and leads"):
        pilot_services.pilot_vote(
            pilot=pilot, record=record, reviewer=observer, vote=INC
        )
    outside = next(r for r in records if not pilot.records.filter(pk=r.pk).exists())
    with pytest.raises(ValidationError, match="not in the pilot sample"):
        pilot_services.pilot_vote(
            pilot=pilot, record=outside, reviewer=reviewer_a, vote=INC
        )
    _screen_all(pilot, reviewer_a, {})
    with pytest.raises(ValidationError, match="Only a lead"):
        pilot_services.pilot_close(pilot=pilot, actor=reviewer_a)
    with pytest.raises(ValidationError, match="votes from 2 reviewers"):
        pilot_services.pilot_close(pilot=pilot, actor=lead)


def test_pilot_votes_stay_blinded_on_every_page_until_the_round_closes(
    review: Review,
    records: list[Record],
    calibrated: StageSettings,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
) -> None:
    url = reverse("screening:pilot", args=[review.pk, TA.value])
    lead_client, a, b = client_for(lead), client_for(reviewer_a), client_for(reviewer_b)
    assert (
        lead_client.post(
            reverse("screening:pilot_start", args=[review.pk, TA.value])
        ).status_code
        == 302
    )
    pilot = PilotRound.objects.get()
    first = pilot.records.order_by("pk")[0]
    vote_url = reverse(
        "screening:pilot_vote", args=[review.pk, TA.value, pilot.pk, first.pk]
    )
    fragment = a.post(vote_url, {"vote": "include"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "Your vote: Include" in fragment.text and "<html" not in fragment.text
    for client in (b, lead_client):
        body = client.get(url).text
        assert "Your vote" not in body and 'data-testid="pilot-votes"' not in body
    b_fragment = b.post(vote_url, {"vote": "exclude"}, headers={"HX-Request": "true"})
    assert "Your vote: Include" not in b_fragment.text
    assert "Your vote: Exclude" in b_fragment.text
    assert PilotVote.objects.count() == 2

    close = reverse("screening:pilot_close", args=[review.pk, TA.value, pilot.pk])
    assert b.post(close).status_code == 403
    response = lead_client.post(close, follow=True)
    assert "needs votes from 2 reviewers" in response.text  # 9 records have one
    assert PilotRound.objects.get().closed_at is None
    _screen_all(pilot, reviewer_a, {0: INC, 1: INC})
    _screen_all(pilot, reviewer_b, {})
    assert lead_client.post(close).status_code == 302
    body = b.get(url).text
    assert (
        'data-testid="pilot-votes"' in body
        and 'data-testid="pilot-disagreement"' in body
    )
    assert "not passed" in body


def test_a_pilot_size_cannot_be_set_once_the_stage_has_votes(
    review: Review, records: list[Record], lead: User, reviewer_a: User
) -> None:
    services.decision_record(
        review=review, record=records[0], stage=TA, reviewer=reviewer_a, vote=INC
    )
    url = reverse("screening:settings", args=[review.pk, TA.value])
    data: dict[str, Any] = {
        "reviewers_required": 2,
        "maybe_rule": "as_include",
        "pilot_size": 20,
        "pilot_kappa": 0.6,
        "pilot_agreement": 0.8,
    }
    response = client_for(lead).post(url, data)
    assert response.status_code == 200
    assert "a calibration round comes before screening" in response.text
    assert StageSettings.objects.get(review=review, stage=TA).pilot_size is None


def test_the_activity_log_hides_every_event_that_names_a_vote(
    review: Review,
    records: list[Record],
    calibrated: StageSettings,
    lead: User,
    reviewer_a: User,
) -> None:
    from reviews.views import SEALED_VERBS

    pilot = pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    record = pilot.records.order_by("pk")[0]
    pilot_services.pilot_vote(pilot=pilot, record=record, reviewer=reviewer_a, vote=EXC)
    calibrated.pilot_size = None
    calibrated.save()
    services.decision_record(
        review=review, record=records[0], stage=TA, reviewer=reviewer_a, vote=EXC
    )
    services.vote_undo(review=review, stage=TA, reviewer=reviewer_a)
    naming_a_vote = {
        event.verb
        for event in AuditEvent.objects.all()
        if "vote" in (event.before or {}) or "vote" in (event.after or {})
    }
    assert naming_a_vote == {
        "screening.pilot_voted", "screening.voted", "screening.vote_withdrawn",
    }  # fmt: skip
    assert naming_a_vote <= SEALED_VERBS
    body = client_for(lead).get(reverse("reviews:activity", args=[review.pk])).text
    assert "exclude" not in body


def test_a_round_closes_only_when_every_record_has_the_votes_it_needs(
    review: Review,
    records: list[Record],
    calibrated: StageSettings,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
    observer: User,
) -> None:
    pilot = pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    _screen_all(pilot, reviewer_a, {})
    first = pilot.records.order_by("pk")[0]
    pilot_services.pilot_vote(pilot=pilot, record=first, reviewer=reviewer_b, vote=EXC)
    # One shared record would give agreement 1.0 on n = 1: not a calibration.
    with pytest.raises(ValidationError, match="9 records have fewer"):
        pilot_services.pilot_close(pilot=pilot, actor=lead)
    calibrated.reviewers_required = 3
    calibrated.save()
    _screen_all(pilot, reviewer_b, {})
    # Votes that become decisions: as many as the stage needs per record.
    with pytest.raises(ValidationError, match="votes from 3 reviewers"):
        pilot_services.pilot_close(pilot=pilot, actor=lead)
    calibrated.pilot_votes_count = False
    calibrated.save()
    assert pilot_services.pilot_close(pilot=pilot, actor=lead).passed is True
    assert not Decision.objects.exists()


def test_carrying_votes_over_never_overwrites_a_real_vote(
    review: Review,
    records: list[Record],
    calibrated: StageSettings,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
) -> None:
    pilot = pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    first = pilot.records.order_by("pk")[0]
    Decision.objects.create(
        review=review, record=first, stage=TA, reviewer=reviewer_a,
        vote=INC, note="my real vote",
    )  # fmt: skip
    _screen_all(pilot, reviewer_a, {})
    _screen_all(pilot, reviewer_b, {})
    closed = pilot_services.pilot_close(pilot=pilot, actor=lead)
    kept = Decision.objects.get(record=first, reviewer=reviewer_a)
    assert (kept.vote, kept.note) == ("include", "my real vote")
    assert getattr(closed, "votes_not_carried_over", None) == 1
    assert Decision.objects.count() == 20


def test_calibration_settings_are_checked(
    review: Review, records: list[Record], calibrated: StageSettings, lead: User
) -> None:
    url = reverse("screening:settings", args=[review.pk, TA.value])
    data: dict[str, Any] = {
        "reviewers_required": 2,
        "maybe_rule": "as_include",
        "pilot_size": 500,
        "pilot_kappa": 0.6,
        "pilot_agreement": 0.8,
        "pilot_votes_count": "on",
    }
    response = client_for(lead).post(url, data)
    assert "at most 200 records" in response.text
    pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    response = client_for(lead).post(url, {**data, "pilot_size": ""})
    assert "close it before removing calibration" in response.text
    assert StageSettings.objects.get(pk=calibrated.pk).pilot_size == 10


def test_closing_a_round_asks_for_one_training_of_the_prioritised_queue(
    review: Review,
    records: list[Record],
    calibrated: StageSettings,
    lead: User,
    reviewer_a: User,
    reviewer_b: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    calibrated.prioritised = True
    calibrated.save()
    pilot = pilot_services.pilot_start(review=review, stage=TA, actor=lead)
    _screen_all(pilot, reviewer_a, {})
    _screen_all(pilot, reviewer_b, {})
    with django_capture_on_commit_callbacks() as callbacks:
        pilot_services.pilot_close(pilot=pilot, actor=lead)
    assert RecordStage.objects.filter(status=Outcome.EXCLUDED).count() == 10
    assert len(callbacks) == 1
