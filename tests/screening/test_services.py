"""Votes, outcomes, resolution, unblinding and blinded reads, through the services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent, User
from reviews.models import Review
from screening import services
from screening.models import Decision, ExclusionReason, RecordStage, StageSettings
from screening.rules import Outcome, Stage, Vote
from searches.models import Record
from tests.factories import RecordFactory, SearchFactory

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
INC, MAY, EXC = Vote.INCLUDE, Vote.MAYBE, Vote.EXCLUDE


@pytest.fixture
def record(review: Review) -> Record:
    return RecordFactory(search=SearchFactory(review=review))


@pytest.fixture
def reason(review: Review) -> ExclusionReason:
    return ExclusionReason.objects.create(
        review=review, position=1, label="Wrong population"
    )


def _vote(review: Review, record: Record, user: User, vote: Vote, **kw: object) -> None:
    services.decision_record(
        review=review, record=record, stage=kw.pop("stage", TA), reviewer=user,
        vote=vote, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _state(record: Record, stage: Stage = TA) -> RecordStage:
    return RecordStage.objects.get(record=record, stage=stage)


def test_agreement_resolves_the_record_and_is_audited(
    review: Review, record: Record, reviewer_a: User, reviewer_b: User
) -> None:
    _vote(review, record, reviewer_a, INC)
    assert _state(record).status == Outcome.PENDING
    _vote(review, record, reviewer_b, MAY)
    state = _state(record)
    assert (state.status, state.method, state.final_vote) == (
        "included", "agreement", "include",
    )  # fmt: skip
    assert AuditEvent.objects.filter(verb="screening.voted").count() == 2
    assert AuditEvent.objects.get(verb="screening.resolved").after["by"] == "agreement"


def test_a_reviewer_changes_their_vote_until_resolution(
    review: Review, record: Record, reviewer_a: User, reviewer_b: User
) -> None:
    _vote(review, record, reviewer_a, INC)
    _vote(review, record, reviewer_a, EXC, note="no controls")
    change = AuditEvent.objects.filter(verb="screening.voted").latest("id")
    assert change.before["vote"] == "include" and change.after["vote"] == "exclude"
    assert Decision.objects.get(reviewer=reviewer_a).note == "no controls"
    _vote(review, record, reviewer_b, EXC)
    assert _state(record).status == Outcome.EXCLUDED
    with pytest.raises(ValidationError, match="resolved at this stage"):
        _vote(review, record, reviewer_a, INC)
    assert Decision.objects.get(reviewer=reviewer_a).vote == "exclude"


def test_a_conflict_is_resolved_by_the_lead_and_the_votes_stay(
    review: Review, record: Record, reviewer_a: User, reviewer_b: User, lead: User
) -> None:
    _vote(review, record, reviewer_a, INC)
    _vote(review, record, reviewer_b, EXC)
    assert (_state(record).status, _state(record).conflict) == (
        "conflict", "include and exclude",
    )  # fmt: skip
    with pytest.raises(
        ValidationError, match="Only a lead or a designated third reviewer"
    ):
        services.conflict_resolve(
            review=review, record=record, stage=TA, actor=reviewer_a, vote=INC
        )
    state = services.conflict_resolve(
        review=review, record=record, stage=TA, actor=lead, vote=INC,
        note="Population fits criterion 2",
    )  # fmt: skip
    assert (state.status, state.method, state.resolved_by) == ("included", "lead", lead)
    assert sorted(Decision.objects.values_list("vote", flat=True)) == [
        "exclude", "include",
    ]  # fmt: skip
    event = AuditEvent.objects.get(verb="screening.resolved")
    assert event.before["status"] == "conflict" and event.actor == lead
    with pytest.raises(ValidationError, match="not a conflict"):
        services.conflict_resolve(
            review=review, record=record, stage=TA, actor=lead, vote=EXC
        )


def test_full_text_needs_the_title_abstract_inclusion_and_a_reason(
    review: Review,
    record: Record,
    reviewer_a: User,
    reviewer_b: User,
    reason: ExclusionReason,
) -> None:
    with pytest.raises(ValidationError, match="included at title and abstract"):
        _vote(review, record, reviewer_a, INC, stage=FT)
    _vote(review, record, reviewer_a, INC)
    _vote(review, record, reviewer_b, INC)
    with pytest.raises(ValidationError, match="Choose the reason"):
        _vote(review, record, reviewer_a, EXC, stage=FT)
    with pytest.raises(ValidationError, match="not maybe"):
        _vote(review, record, reviewer_a, MAY, stage=FT)
    assert not Decision.objects.filter(stage=FT).exists()
    assert not AuditEvent.objects.filter(
        verb="screening.voted", after__vote="maybe"
    ).exists()
    other = ExclusionReason.objects.create(review=review, position=2, label="Other")
    _vote(review, record, reviewer_a, EXC, stage=FT, reason=reason)
    _vote(review, record, reviewer_b, EXC, stage=FT, reason=other)
    assert _state(record, FT).conflict == "different exclusion reasons"


def test_reasons_of_another_review_or_archived_are_refused(
    review: Review,
    other_review: Review,
    record: Record,
    reviewer_a: User,
    reason: ExclusionReason,
) -> None:
    foreign = ExclusionReason.objects.create(
        review=other_review, position=1, label="Wrong population"
    )
    with pytest.raises(ValidationError, match="this review's exclusion reasons"):
        _vote(review, record, reviewer_a, EXC, reason=foreign)
    ExclusionReason.objects.filter(pk=reason.pk).update(archived=True)
    reason.refresh_from_db()
    with pytest.raises(ValidationError, match="this review's exclusion reasons"):
        _vote(review, record, reviewer_a, EXC, reason=reason)
    assert not Decision.objects.exists()


def test_who_may_vote_and_on_what(
    review: Review,
    other_review: Review,
    record: Record,
    reviewer_a: User,
    observer: User,
    outsider: User,
) -> None:
    for user in (observer, outsider):
        with pytest.raises(ValidationError, match="reviewers and leads"):
            _vote(review, record, user, INC)
    foreign = RecordFactory(search=SearchFactory(review=other_review))
    with pytest.raises(ValidationError, match="not in this review"):
        _vote(review, foreign, reviewer_a, INC)
    duplicate = RecordFactory(search=record.search, duplicate_of=record)
    with pytest.raises(ValidationError, match="merged into another"):
        _vote(review, duplicate, reviewer_a, INC)
    assert not Decision.objects.exists() and not RecordStage.objects.exists()


def test_maybe_needs_a_person_when_the_review_says_so(
    review: Review, record: Record, reviewer_a: User, reviewer_b: User
) -> None:
    StageSettings.objects.create(review=review, stage=TA, maybe_rule="needs_person")
    _vote(review, record, reviewer_a, MAY)
    _vote(review, record, reviewer_b, INC)
    assert _state(record).conflict == "a reviewer said maybe"


def test_three_reviewers_per_record(
    review: Review,
    record: Record,
    reviewer_a: User,
    reviewer_b: User,
    lead: User,
) -> None:
    StageSettings.objects.create(review=review, stage=TA, reviewers_required=3)
    _vote(review, record, reviewer_a, EXC)
    _vote(review, record, reviewer_b, EXC)
    assert _state(record).status == Outcome.PENDING
    _vote(review, record, lead, INC)
    assert _state(record).status == Outcome.CONFLICT


def test_blinding_until_resolution(
    review: Review, record: Record, reviewer_a: User, reviewer_b: User, lead: User
) -> None:
    def seen_by(user: User) -> set[str]:
        return {
            d.reviewer.email
            for d in services.decisions_visible(
                review=review, record=record, stage=TA, viewer=user
            )
        }

    _vote(review, record, reviewer_a, INC)
    assert seen_by(reviewer_b) == set() and seen_by(lead) == set()
    _vote(review, record, reviewer_b, EXC)  # a conflict: still blind
    assert seen_by(reviewer_a) == {reviewer_a.email}
    assert seen_by(reviewer_b) == {reviewer_b.email}
    assert seen_by(lead) == {reviewer_a.email, reviewer_b.email}  # to resolve it
    services.conflict_resolve(
        review=review, record=record, stage=TA, actor=lead, vote=EXC
    )
    assert seen_by(reviewer_a) == {reviewer_a.email, reviewer_b.email}


def test_unblinding_a_stage_is_for_leads_and_audited(
    review: Review, record: Record, reviewer_a: User, reviewer_b: User, lead: User
) -> None:
    _vote(review, record, reviewer_a, INC)
    with pytest.raises(ValidationError, match="Only a lead"):
        services.stage_unblind(review=review, stage=TA, actor=reviewer_b)
    services.stage_unblind(review=review, stage=TA, actor=lead)
    visible = services.decisions_visible(
        review=review, record=record, stage=TA, viewer=reviewer_b
    )
    assert [d.reviewer for d in visible] == [reviewer_a]
    event = AuditEvent.objects.get(verb="screening.unblinded")
    assert event.actor == lead and event.after == {"stage": "title_abstract"}
    with pytest.raises(ValidationError, match="already unblinded"):
        services.stage_unblind(review=review, stage=TA, actor=lead)


def test_stage_agreement_reproduces_tv4(
    review: Review, reviewer_a: User, reviewer_b: User
) -> None:
    search = SearchFactory(review=review)
    records = RecordFactory.create_batch(100, search=search)
    votes = [("include", "include")] * 20 + [("include", "exclude")] * 5
    votes += [("exclude", "include")] * 10 + [("exclude", "exclude")] * 65
    votes[0] = ("maybe", "include")  # maybe counts as include (KAP-2)
    Decision.objects.bulk_create(
        Decision(review=review, record=r, stage=TA, reviewer=user, vote=vote)
        for r, pair in zip(records, votes, strict=True)
        for user, vote in zip((reviewer_a, reviewer_b), pair, strict=True)
    )
    [(a, b, result)] = services.stage_agreement(review, TA)
    assert (a, b) == tuple(sorted((reviewer_a.pk, reviewer_b.pk)))
    assert result.kappa == pytest.approx(0.625) and result.pabak == pytest.approx(0.7)


def test_votes_freeze_in_a_conflict_so_a_lead_who_saw_them_cannot_switch(
    review: Review, record: Record, reviewer_a: User, lead: User
) -> None:
    _vote(review, record, lead, INC)
    _vote(review, record, reviewer_a, EXC)
    assert (
        len(
            services.decisions_visible(
                review=review, record=record, stage=TA, viewer=lead
            )
        )
        == 2
    )
    with pytest.raises(ValidationError, match="resolve it instead"):
        _vote(review, record, lead, EXC)
    assert _state(record).status == Outcome.CONFLICT
    assert Decision.objects.get(reviewer=lead).vote == "include"


def test_the_activity_log_does_not_show_votes(
    review: Review, record: Record, reviewer_a: User, lead: User
) -> None:
    from tests.conftest import client_for

    _vote(review, record, reviewer_a, EXC, note="secret-note-text")
    page = client_for(lead).get(f"/reviews/{review.pk}/activity/").content.decode()
    assert "Vote details hidden" in page
    assert "exclude" not in page and "secret-note-text" not in page
