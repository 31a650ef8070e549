"""Writes and blinded reads of screening: votes, outcomes, resolutions, unblinding.

Every vote goes through `decision_record`, which locks the record's stage row,
stores the reviewer's vote, and recomputes the record's outcome with
`screening.rules.outcome`, so two reviewers voting at the same moment cannot
both miss the conflict. Every change is audited in its own transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
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
from screening.forms import StageSettingsForm
from screening.models import (
    Decision,
    ExclusionReason,
    PilotRound,
    PriorityTraining,
    RecordStage,
    StageSettings,
)
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


def may_resolve(
    review: Review, stage: Stage, user: User, *, record: Record | None = None
) -> bool:
    """Leads resolve every conflict; a designated third reviewer (who must
    still be a reviewer of the review) resolves those they did not vote on."""
    role = member_role(review, user)
    if role == Role.LEAD:
        return True
    if role != Role.REVIEWER:
        return False
    designated = stage_settings(review, stage).resolvers.filter(pk=user.pk).exists()
    if not designated or record is None:
        return designated
    voted = Decision.objects.filter(record=record, stage=stage.value, reviewer=user)
    return not voted.exists()


def member_role(review: Review, user: User) -> Role | None:
    """The user's role in the review, or None for a non-member."""
    role = (
        Membership.objects.filter(review=review, user=user)
        .values_list("role", flat=True)
        .first()
    )
    return Role(role) if role else None


def screening_open(review: Review, stage: Stage, settings: StageSettings) -> bool:
    """Full screening is open when the stage has no calibration round (SCR-7),
    or one of its rounds passed."""
    if settings.pilot_size is None:
        return True
    return PilotRound.objects.filter(
        review=review, stage=stage.value, passed=True
    ).exists()


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
    settings: StageSettings | None = None,
) -> Decision:
    """Store `reviewer`'s vote (new or changed) and update the record's outcome.

    Refused with a ValidationError, nothing stored: not a screener of the
    review; a record of another review, a merged duplicate, or one not yet
    at this stage; maybe where the stage does not allow it; an exclusion
    without a required reason or with another review's reason; a record
    already resolved or in conflict at this stage."""
    role = member_role(review, reviewer)
    if role is None or not role.at_least(Role.REVIEWER):
        raise ValidationError("Only the review's reviewers and leads screen records.")
    settings = settings or stage_settings(review, stage)
    if not screening_open(review, stage, settings):
        raise ValidationError(
            "Screening at this stage opens once a calibration round passes."
        )
    if vote is Vote.MAYBE and not settings.allows_maybe:
        raise ValidationError("This stage takes include or exclude, not maybe.")
    _screenable(review, record, stage)
    reason = _checked_reason(review, settings, vote, reason)
    locked = RecordStage.objects.select_for_update()
    state = locked.filter(record=record, stage=stage.value).first()
    if state is None:
        # The first vote creates the row (get_or_create survives a second
        # reviewer's first vote arriving at the same moment); then lock it.
        created, _ = RecordStage.objects.get_or_create(
            record=record, stage=stage.value, defaults={"review": review}
        )
        state = locked.get(pk=created.pk)
    if state.is_resolved:
        raise ValidationError(
            "This record is resolved at this stage: votes can no longer change."
        )
    if state.status == Outcome.CONFLICT:
        # A reviewer may change their own vote on a conflict as on a record
        # still waiting (refusing only there would tell them it is a conflict).
        # Those who see a conflict's votes (leads, third reviewers) may not
        # rewrite theirs; someone who did not vote is not needed.
        voted = Decision.objects.filter(
            record=record, stage=stage.value, reviewer=reviewer
        ).exists()
        if not voted:
            raise ValidationError("Enough reviewers have voted on this record.")
        if may_resolve(review, stage, reviewer, record=record):
            raise ValidationError("This record is a conflict: resolve it instead.")
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


def outcome_fields(
    ballots: list[Ballot], settings: StageSettings, *, now: datetime
) -> dict[str, Any]:
    """A record's RecordStage fields from its current votes (SCR-3/4): the
    status, and when the votes settle it, the final vote by agreement.
    Raises BallotError on votes the rules refuse."""
    result = outcome(
        ballots,
        stage=Stage(settings.stage),
        required=settings.reviewers_required,
        maybe_rule=MaybeRule(settings.maybe_rule),
    )
    fields: dict[str, Any] = {
        "status": result.outcome.value,
        "all_maybe": result.all_maybe,
        "conflict": result.why,
        "final_vote": "",
        "final_reason_id": None,
        "method": "",
        "resolved_at": None,
    }
    if result.outcome in (Outcome.INCLUDED, Outcome.EXCLUDED):
        included = result.outcome is Outcome.INCLUDED
        fields["final_vote"] = (Vote.INCLUDE if included else Vote.EXCLUDE).value
        fields["final_reason_id"] = result.reason
        fields["method"] = RecordStage.Method.AGREEMENT.value
        fields["resolved_at"] = now
    return fields


def _outcome_update(state: RecordStage, settings: StageSettings, actor: User) -> None:
    ballots = [
        Ballot(d.reviewer_id, Vote(d.vote), d.reason_id)
        for d in Decision.objects.filter(record_id=state.record_id, stage=state.stage)
    ]
    try:
        fields = outcome_fields(ballots, settings, now=timezone.now())
    except BallotError as error:
        raise ValidationError(str(error)) from error
    was_resolved = state.is_resolved
    for name, value in fields.items():
        setattr(state, name, value)
    state.save()
    if was_resolved and not state.is_resolved:
        audit_event_create(
            actor=actor,
            verb="screening.reopened",
            target=state,
            review_id=state.review_id,
            after={"status": state.status},
        )
    if state.is_resolved and not was_resolved:
        audit_event_create(
            actor=actor,
            verb="screening.resolved",
            target=state,
            review_id=state.review_id,
            after={"status": state.status, "method": state.method, "by": "agreement"},
        )
    if state.is_resolved != was_resolved:
        _priority_changed(state, settings)


def _priority_changed(state: RecordStage, settings: StageSettings) -> None:
    """A title/abstract outcome came or went: the prioritisation model may
    learn from it (it learns from resolved outcomes only)."""
    if settings.prioritised and state.stage == Stage.TITLE_ABSTRACT:
        priority_retrain_request(review_id=state.review_id)


def priority_retrain_request(*, review_id: int) -> None:
    """Ask for a training of the prioritisation model once this transaction
    commits (the task decides whether enough is new to retrain)."""
    training, _ = PriorityTraining.objects.get_or_create(review_id=review_id)
    training.requested_at = timezone.now()
    training.save(update_fields=["requested_at"])
    # One task per review and transaction (closing a calibration round may
    # settle a hundred records at once).
    pending = transaction.get_connection().run_on_commit
    if not any(
        isinstance(f, _Enqueue) and f.review_id == review_id for _, f, _ in pending
    ):
        transaction.on_commit(_Enqueue(review_id))


@dataclass(frozen=True, slots=True)
class _Enqueue:
    review_id: int

    def __call__(self) -> None:
        priority_retrain_enqueue(self.review_id)


def priority_retrain_enqueue(review_id: int) -> None:
    from screening.tasks import priority_retrain  # tasks import services

    priority_retrain.delay(review_id=review_id)


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
    """A lead's or designated third reviewer's final decision on a conflict;
    the votes stay as they were. A third reviewer never resolves a record they
    voted on."""
    if not may_resolve(review, stage, actor, record=record):
        raise ValidationError(
            "Only a lead or a designated third reviewer who did not vote on this "
            "record resolves it."
        )
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
    _priority_changed(state, settings)
    return state


@transaction.atomic
def vote_undo(*, review: Review, stage: Stage, reviewer: User) -> Record:
    """Withdraw `reviewer`'s most recent vote at this stage and return its record,
    to vote again. Allowed while the record is waiting or a conflict (a refusal
    there would tell the reviewer the other vote), but not once it is resolved
    (its votes are then visible), nor to those who see a conflict's votes
    (leads, third reviewers). Audited."""
    last = (
        Decision.objects.filter(review=review, stage=stage.value, reviewer=reviewer)
        .select_related("record")
        .order_by("-updated_at", "-pk")
        .first()
    )
    if last is None:
        raise ValidationError("You have no vote to undo at this stage.")
    state = RecordStage.objects.select_for_update().get(
        record=last.record_id, stage=stage.value
    )
    if state.is_resolved:
        # A settled record shows every vote: reopening it would let the
        # reviewer vote again knowing the others'.
        raise ValidationError(
            "This record is resolved at this stage: its votes can no longer change."
        )
    if (
        stage is Stage.TITLE_ABSTRACT
        and Decision.objects.filter(
            record=last.record_id, stage=Stage.FULL_TEXT
        ).exists()
    ):
        raise ValidationError("This record is already being screened on full text.")
    if state.status == Outcome.CONFLICT and may_resolve(
        review, stage, reviewer, record=last.record
    ):
        raise ValidationError("This record is a conflict: resolve it instead.")
    audit_event_create(
        actor=reviewer,
        verb="screening.vote_withdrawn",
        target=last,
        review_id=review.pk,
        before=_vote_state(last),
    )
    last.delete()
    _outcome_update(state, stage_settings(review, stage), actor=reviewer)
    return last.record


@transaction.atomic
def stage_settings_update(
    *, review: Review, stage: Stage, actor: User, form: StageSettingsForm
) -> StageSettings:
    """Save the lead's changes to a stage's settings. Audited."""
    if member_role(review, actor) != Role.LEAD:
        raise ValidationError("Only a lead of the review changes screening settings.")
    before = {name: _plain(form.initial.get(name)) for name in form.changed_data}
    settings = form.save()
    audit_event_create(
        actor=actor,
        verb="screening.settings_changed",
        target=settings,
        review_id=review.pk,
        before=before,
        after={name: _plain(form.cleaned_data[name]) for name in form.changed_data},
    )
    if "prioritised" in form.changed_data and settings.prioritised:
        priority_retrain_request(review_id=review.pk)
    return settings


def _plain(value: object) -> object:
    if hasattr(value, "__iter__") and not isinstance(value, str | bytes | dict):
        return sorted(getattr(item, "pk", item) for item in value)
    return value


@transaction.atomic
def reason_create(*, review: Review, actor: User, label: str) -> ExclusionReason:
    """Add a reason at the end of the review's list (SCR-6)."""
    if member_role(review, actor) != Role.LEAD:
        raise ValidationError("Only a lead of the review manages exclusion reasons.")
    last = ExclusionReason.objects.filter(review=review).order_by("-position").first()
    reason = ExclusionReason.objects.create(
        review=review, label=label, position=(last.position + 1) if last else 1
    )
    audit_event_create(
        actor=actor,
        verb="screening.reason_added",
        target=reason,
        review_id=review.pk,
        after={"label": label},
    )
    return reason


@transaction.atomic
def reason_change(
    *,
    reason: ExclusionReason,
    actor: User,
    label: str | None = None,
    archived: bool | None = None,
    move: int = 0,
) -> ExclusionReason:
    """Rename, archive/restore, or move a reason up (-1) or down (+1). A reason in
    use keeps its row: archiving hides it from new votes only."""
    review = reason.review
    if member_role(review, actor) != Role.LEAD:
        raise ValidationError("Only a lead of the review manages exclusion reasons.")
    stored = ExclusionReason.objects.select_for_update().get(pk=reason.pk)
    before = {
        "label": stored.label,
        "archived": stored.archived,
        "position": stored.position,
    }
    if label is not None:
        reason.label = label
    if archived is not None:
        reason.archived = archived
    if move:
        reasons = list(
            ExclusionReason.objects.select_for_update()
            .filter(review=review)
            .order_by("position", "pk")
        )
        index = next(i for i, r in enumerate(reasons) if r.pk == reason.pk)
        other = index + (1 if move > 0 else -1)
        if 0 <= other < len(reasons):
            reasons[index], reasons[other] = reasons[other], reasons[index]
        for position, item in enumerate(reasons, start=1):
            if item.pk == reason.pk:
                reason.position = position
            elif item.position != position:
                item.position = position
                item.save(update_fields=["position", "updated_at"])
    reason.save()
    audit_event_create(
        actor=actor,
        verb="screening.reason_changed",
        target=reason,
        review_id=review.pk,
        before=before,
        after={
            "label": reason.label,
            "archived": reason.archived,
            "position": reason.position,
        },
    )
    return reason


@transaction.atomic
def stage_unblind(*, review: Review, stage: Stage, actor: User) -> StageSettings:
    """Let every member see every vote at this stage from now on. Audited."""
    if member_role(review, actor) != Role.LEAD:
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


@dataclass(frozen=True)
class RecordView:
    """What one viewer may know of one record at one stage (SCR-2)."""

    votes: list[Decision]  # the viewer's own, or everyone's when allowed
    state: RecordStage | None  # None unless final, or the viewer resolves it
    may_resolve: bool  # a conflict this viewer may resolve


def record_view(
    *,
    review: Review,
    record: Record,
    stage: Stage,
    viewer: User,
    settings: StageSettings | None = None,
) -> RecordView:
    """The votes and state of a record that `viewer` may see: always their own
    vote; everyone's once the record is resolved or the stage unblinded; a lead
    or designated third reviewer sees every vote of a conflict they may
    resolve. The state is named only when final or to its resolvers, so a
    reviewer cannot tell a conflict from a record still waiting for votes."""
    settings = settings or stage_settings(review, stage)
    decisions = list(
        Decision.objects.filter(review=review, record=record, stage=stage.value)
        .select_related("reviewer", "reason")
        .order_by("created_at")
    )
    state = RecordStage.objects.filter(record=record, stage=stage.value).first()
    conflict = state is not None and state.status == Outcome.CONFLICT
    resolver = conflict and _may_resolve_given(
        member_role(review, viewer), settings, viewer, decisions
    )
    resolved = state is not None and state.is_resolved
    if not (settings.unblinded_at is not None or resolved or resolver):
        decisions = [d for d in decisions if d.reviewer_id == viewer.pk]
    return RecordView(
        votes=decisions,
        state=state if resolved or resolver else None,
        may_resolve=resolver,
    )


def _may_resolve_given(
    role: Role | None, settings: StageSettings, user: User, decisions: list[Decision]
) -> bool:
    if role == Role.LEAD:
        return True
    if role != Role.REVIEWER or any(d.reviewer_id == user.pk for d in decisions):
        return False
    return settings.resolvers.filter(pk=user.pk).exists()


def decisions_visible(
    *, review: Review, record: Record, stage: Stage, viewer: User
) -> list[Decision]:
    """The votes on a record at a stage that `viewer` may see (see record_view)."""
    return record_view(review=review, record=record, stage=stage, viewer=viewer).votes


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
