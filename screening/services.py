"""Writes and blinded reads of screening: votes, outcomes, resolutions, unblinding.

Every vote goes through `decision_record`, which locks the record's stage row,
stores the reviewer's vote, and recomputes the record's outcome with
`screening.rules.outcome`, so two reviewers voting at the same moment cannot
both miss the conflict. Every change is audited in its own transaction.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import audit_event_create
from core.models import User
from core.roles import Role
from reviews.models import Membership, Review
from screening.agreement import Agreement, agreement
from screening.models import Decision, ExclusionReason, RecordStage, StageSettings
from screening.rules import (
    Ballot,
    BallotError,
    MaybeRule,
    Outcome,
    Stage,
    Vote,
    outcome,
)
from searches.models import Record


def stage_settings(review: Review, stage: Stage) -> StageSettings:
    """The stage's settings, created with the defaults on first use: two
    reviewers; maybe allowed at title/abstract only; reasons at full text."""
    settings, _ = StageSettings.objects.get_or_create(
        review=review,
        stage=stage.value,
        defaults={"maybe_allowed": stage is Stage.TITLE_ABSTRACT},
    )
    return settings


def _role(review: Review, user: User) -> Role | None:
    role = (
        Membership.objects.filter(review=review, user=user)
        .values_list("role", flat=True)
        .first()
    )
    return Role(role) if role else None


def _screenable(review: Review, record: Record, stage: Stage) -> None:
    if record.review_id != review.pk:
        raise ValidationError("This record is not in this review.")
    if not Record.objects.unique(review.pk).filter(pk=record.pk).exists():
        raise ValidationError(
            "This record was merged into another as a duplicate (or its search is "
            "not imported): screen the record it was merged into."
        )
    if stage is Stage.FULL_TEXT:
        included = RecordStage.objects.filter(
            record=record, stage=Stage.TITLE_ABSTRACT, status=Outcome.INCLUDED
        ).exists()
        if not included:
            raise ValidationError(
                "Only records included at title and abstract are screened on full text."
            )


def _checked_reason(
    review: Review, settings: StageSettings, vote: Vote, reason: ExclusionReason | None
) -> ExclusionReason | None:
    if vote is not Vote.EXCLUDE:
        return None  # a reason only ever explains an exclusion
    if reason is None:
        if settings.needs_reasons:
            raise ValidationError("Choose the reason for excluding this record.")
        return None
    if reason.review_id != review.pk or reason.archived:
        raise ValidationError("Choose one of this review's exclusion reasons.")
    return reason


def _vote_state(decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {"vote": decision.vote, "reason": decision.reason_id, "note": decision.note}


@transaction.atomic
def decision_record(
    *,
    review: Review,
    record: Record,
    stage: Stage,
    reviewer: User,
    vote: Vote,
    reason: ExclusionReason | None = None,
    note: str = "",
) -> Decision:
    """Store `reviewer`'s vote (new or changed) and update the record's outcome.

    Refused with a ValidationError, nothing stored: not a screener of the
    review; a record of another review, a merged duplicate, or one not yet
    at this stage; maybe where the stage does not allow it; an exclusion
    without a required reason or with another review's reason; a record
    already resolved or in conflict at this stage."""
    role = _role(review, reviewer)
    if role is None or not role.at_least(Role.REVIEWER):
        raise ValidationError("Only the review's reviewers and leads screen records.")
    settings = stage_settings(review, stage)
    if vote is Vote.MAYBE and not settings.allows_maybe:
        raise ValidationError("This stage takes include or exclude, not maybe.")
    _screenable(review, record, stage)
    reason = _checked_reason(review, settings, vote, reason)
    state, _ = RecordStage.objects.get_or_create(
        record=record, stage=stage.value, defaults={"review": review}
    )
    state = RecordStage.objects.select_for_update().get(pk=state.pk)
    if state.is_resolved:
        raise ValidationError(
            "This record is already resolved at this stage: votes can no longer change."
        )
    if state.status == Outcome.CONFLICT:
        # Votes freeze once they disagree: whoever sees the conflict's votes
        # (the lead who resolves it) must not be able to rewrite their own.
        raise ValidationError(
            "This record is a conflict: it is resolved by a lead, and the votes "
            "can no longer change."
        )
    decision = Decision.objects.filter(
        record=record, stage=stage.value, reviewer=reviewer
    ).first()
    before = _vote_state(decision)
    if decision is None:
        decision = Decision(
            review=review, record=record, stage=stage.value, reviewer=reviewer
        )
    decision.vote, decision.reason, decision.note = vote.value, reason, note.strip()
    decision.save()
    audit_event_create(
        actor=reviewer,
        verb="screening.voted",
        target=decision,
        review_id=review.pk,
        before=before,
        after=_vote_state(decision),
    )
    _outcome_update(state, settings, actor=reviewer)
    return decision


def _outcome_update(state: RecordStage, settings: StageSettings, actor: User) -> None:
    ballots = [
        Ballot(d.reviewer_id, Vote(d.vote), d.reason_id)
        for d in Decision.objects.filter(record_id=state.record_id, stage=state.stage)
    ]
    try:
        result = outcome(
            ballots,
            stage=Stage(state.stage),
            required=settings.reviewers_required,
            maybe_rule=MaybeRule(settings.maybe_rule),
        )
    except BallotError as error:
        raise ValidationError(str(error)) from error
    state.status = result.outcome.value
    state.all_maybe = result.all_maybe
    state.conflict = result.why
    fields = ["status", "all_maybe", "conflict", "updated_at"]
    if result.outcome in (Outcome.INCLUDED, Outcome.EXCLUDED):
        included = result.outcome is Outcome.INCLUDED
        state.final_vote = (Vote.INCLUDE if included else Vote.EXCLUDE).value
        state.final_reason_id = result.reason
        state.method = RecordStage.Method.AGREEMENT
        state.resolved_at = timezone.now()
        fields += ["final_vote", "final_reason", "method", "resolved_at"]
    state.save(update_fields=fields)
    if state.is_resolved:
        audit_event_create(
            actor=actor,
            verb="screening.resolved",
            target=state,
            review_id=state.review_id,
            after={"status": state.status, "method": state.method, "by": "agreement"},
        )


@transaction.atomic
def conflict_resolve(
    *,
    review: Review,
    record: Record,
    stage: Stage,
    actor: User,
    vote: Vote,
    reason: ExclusionReason | None = None,
    note: str = "",
    method: RecordStage.Method = RecordStage.Method.LEAD,
) -> RecordStage:
    """A lead's final decision on a conflict; the votes stay as they were."""
    if _role(review, actor) != Role.LEAD:
        raise ValidationError("Only a lead of the review resolves conflicts.")
    if method is RecordStage.Method.AGREEMENT:
        raise ValidationError("Say how the conflict was resolved.")
    state = (
        RecordStage.objects.select_for_update()
        .filter(review=review, record=record, stage=stage.value)
        .first()
    )
    if state is None or state.status != Outcome.CONFLICT:
        raise ValidationError("This record is not a conflict at this stage.")
    if vote is Vote.MAYBE:
        raise ValidationError("A resolution includes or excludes the record.")
    settings = stage_settings(review, stage)
    reason = _checked_reason(review, settings, vote, reason)
    before = {"status": state.status, "conflict": state.conflict}
    included = vote is Vote.INCLUDE
    state.status = (Outcome.INCLUDED if included else Outcome.EXCLUDED).value
    state.final_vote, state.final_reason = vote.value, reason
    state.method, state.resolution_note = method.value, note.strip()
    state.resolved_by, state.resolved_at = actor, timezone.now()
    state.save()
    audit_event_create(
        actor=actor,
        verb="screening.resolved",
        target=state,
        review_id=review.pk,
        before=before,
        after={
            "status": state.status,
            "reason": reason.pk if reason else None,
            "method": state.method,
            "note": state.resolution_note,
        },
    )
    return state


@transaction.atomic
def stage_unblind(*, review: Review, stage: Stage, actor: User) -> StageSettings:
    """Let every member see every vote at this stage from now on. Audited."""
    if _role(review, actor) != Role.LEAD:
        raise ValidationError("Only a lead of the review can unblind a stage.")
    settings = StageSettings.objects.select_for_update().get(
        pk=stage_settings(review, stage).pk
    )
    if settings.unblinded_at is not None:
        raise ValidationError("This stage is already unblinded.")
    settings.unblinded_at, settings.unblinded_by = timezone.now(), actor
    settings.save(update_fields=["unblinded_at", "unblinded_by", "updated_at"])
    audit_event_create(
        actor=actor,
        verb="screening.unblinded",
        target=settings,
        review_id=review.pk,
        after={"stage": stage.value},
    )
    return settings


# --- Blinded reads ---------------------------------------------------------------


def decisions_visible(
    *, review: Review, record: Record, stage: Stage, viewer: User
) -> list[Decision]:
    """The votes on a record at a stage that `viewer` may see (SCR-2): always
    their own; everyone's once the record is resolved or the stage unblinded;
    a lead also sees every vote of a conflict, to resolve it."""
    decisions = list(
        Decision.objects.filter(review=review, record=record, stage=stage.value)
        .select_related("reviewer", "reason")
        .order_by("created_at")
    )
    state = RecordStage.objects.filter(record=record, stage=stage.value).first()
    settings = stage_settings(review, stage)
    open_to_all = settings.unblinded_at is not None or (
        state is not None and state.is_resolved
    )
    lead_on_conflict = (
        state is not None
        and state.status == Outcome.CONFLICT
        and _role(review, viewer) == Role.LEAD
    )
    if open_to_all or lead_on_conflict:
        return decisions
    return [d for d in decisions if d.reviewer_id == viewer.pk]


def stage_agreement(review: Review, stage: Stage) -> list[tuple[int, int, Agreement]]:
    """Agreement per reviewer pair on records both voted on (their own votes,
    as cast, before any resolution). Title/abstract counts maybe as include
    (KAP-2). Pairs as (lower reviewer id, higher reviewer id, Agreement)."""
    votes: dict[int, dict[int, str]] = defaultdict(dict)  # record -> reviewer -> vote
    for record_id, reviewer_id, vote in Decision.objects.filter(
        review=review, stage=stage.value
    ).values_list("record_id", "reviewer_id", "vote"):
        votes[record_id][reviewer_id] = (
            Vote.INCLUDE.value if vote == Vote.MAYBE else vote
        )
    pairs: dict[tuple[int, int], list[tuple[str, str]]] = defaultdict(list)
    for by_reviewer in votes.values():
        for a, b in combinations(sorted(by_reviewer), 2):
            pairs[(a, b)].append((by_reviewer[a], by_reviewer[b]))
    categories = (Vote.INCLUDE.value, Vote.EXCLUDE.value)
    return [
        (a, b, agreement(pair_votes, categories))
        for (a, b), pair_votes in sorted(pairs.items())
    ]
