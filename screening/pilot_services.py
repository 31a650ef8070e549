"""Calibration rounds (DOMAIN.md SCR-7): before full screening of a stage
opens, every reviewer screens the same random sample; the lead closes the
round, and it passes when every pair of reviewers reaches the kappa and the
agreement the stage asks for. Otherwise the criteria are clarified and a new
round is drawn from records not piloted yet.

Pilot votes are kept apart from the decisions (PilotVote) and blinded like
them until the round closes; then every member sees them, to discuss the
disagreements. When the stage says so, the votes of the passing round become
the reviewers' decisions on the pilot records.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from itertools import combinations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.template.defaultfilters import pluralize
from django.utils import timezone

from core.audit import audit_event_create
from core.models import User
from core.roles import Role
from reviews.models import Review
from screening.agreement import agreement
from screening.models import (
    Decision,
    ExclusionReason,
    PilotRound,
    PilotVote,
    StageSettings,
)
from screening.rules import Stage, Vote
from screening.selectors import screenable
from screening.services import (
    _checked_reason,
    decision_record,
    member_role,
    stage_settings,
)
from searches.models import Record

SCREENERS = (Role.REVIEWER, Role.LEAD)


def rounds_of(review: Review, stage: Stage) -> list[PilotRound]:
    return list(
        PilotRound.objects.filter(review=review, stage=stage.value).order_by("number")
    )


def _lead_only(review: Review, actor: User, what: str) -> None:
    if member_role(review, actor) != Role.LEAD:
        raise ValidationError(f"Only a lead of the review {what}.")


@transaction.atomic
def pilot_start(*, review: Review, stage: Stage, actor: User) -> PilotRound:
    """Draw a new calibration round: a random sample of the stage's records
    that no earlier round used. Audited."""
    _lead_only(review, actor, "starts a calibration round")
    settings = StageSettings.objects.select_for_update().get(
        pk=stage_settings(review, stage).pk
    )
    if settings.pilot_size is None:
        raise ValidationError("Set a pilot sample size in the stage settings first.")
    rounds = rounds_of(review, stage)
    if any(r.closed_at is None for r in rounds):
        raise ValidationError("A calibration round is already open.")
    if any(r.passed for r in rounds):
        raise ValidationError("A calibration round passed: screening is open.")
    used = PilotRound.records.through.objects.filter(
        pilotround__review=review, pilotround__stage=stage.value
    ).values_list("record_id", flat=True)
    candidates = list(
        screenable(review, stage)
        .exclude(pk__in=used)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not candidates:
        raise ValidationError("No record is left to draw a pilot sample from.")
    sample = random.SystemRandom().sample(
        candidates, min(settings.pilot_size, len(candidates))
    )
    pilot = PilotRound.objects.create(
        review=review,
        stage=stage.value,
        number=len(rounds) + 1,
        kappa_needed=settings.pilot_kappa,
        agreement_needed=settings.pilot_agreement,
    )
    pilot.records.set(sample)
    audit_event_create(
        actor=actor,
        verb="screening.pilot_started",
        target=pilot,
        review_id=review.pk,
        after={
            "round": pilot.number,
            "records": len(sample),
            "kappa_needed": pilot.kappa_needed,
            "agreement_needed": pilot.agreement_needed,
        },
    )
    return pilot


@transaction.atomic
def pilot_vote(
    *,
    pilot: PilotRound,
    record: Record,
    reviewer: User,
    vote: Vote,
    reason: ExclusionReason | None = None,
) -> PilotVote:
    """A reviewer's vote on a pilot record, changeable until the round
    closes. Audited."""
    review = pilot.review
    if member_role(review, reviewer) not in SCREENERS:
        raise ValidationError("Only reviewers and leads screen the pilot sample.")
    pilot = PilotRound.objects.select_for_update().get(pk=pilot.pk)
    if pilot.closed_at is not None:
        raise ValidationError("This calibration round is closed.")
    if not pilot.records.filter(pk=record.pk).exists():
        raise ValidationError("This record is not in the pilot sample.")
    stage = Stage(pilot.stage)
    settings = stage_settings(review, stage)
    if vote is Vote.MAYBE and not settings.allows_maybe:
        raise ValidationError("Maybe is not allowed at this stage.")
    reason = _checked_reason(review, settings, vote, reason)
    existing = PilotVote.objects.filter(
        round=pilot, record=record, reviewer=reviewer
    ).first()
    before = {"vote": existing.vote} if existing else None
    saved, _ = PilotVote.objects.update_or_create(
        round=pilot,
        record=record,
        reviewer=reviewer,
        defaults={"vote": vote.value, "reason": reason},
    )
    audit_event_create(
        actor=reviewer,
        verb="screening.pilot_voted",
        target=saved,
        review_id=review.pk,
        before=before,
        after={"round": pilot.number, "vote": vote.value},
    )
    return saved


@dataclass(frozen=True, slots=True)
class PairResult:
    a: int
    b: int
    n: int
    observed: float | None
    kappa: float | None
    passed: bool


def pair_results(pilot: PilotRound) -> list[PairResult]:
    """Agreement per pair of reviewers on the pilot records both voted on
    (maybe counts as include, KAP-2), against the round's thresholds. A kappa
    that is undefined (both always said the same one thing) passes on
    agreement alone."""
    votes: dict[int, dict[int, str]] = {}
    for record_id, reviewer_id, vote in PilotVote.objects.filter(
        round=pilot
    ).values_list("record_id", "reviewer_id", "vote"):
        votes.setdefault(reviewer_id, {})[record_id] = (
            Vote.INCLUDE.value if vote == Vote.MAYBE else vote
        )
    results = []
    for a, b in combinations(sorted(votes), 2):
        common = sorted(set(votes[a]) & set(votes[b]))
        if not common:
            continue
        result = agreement(
            [(votes[a][r], votes[b][r]) for r in common],
            (Vote.INCLUDE.value, Vote.EXCLUDE.value),
        )
        observed_ok = (result.observed or 0.0) >= pilot.agreement_needed
        kappa_ok = result.kappa is None or result.kappa >= pilot.kappa_needed
        results.append(
            PairResult(
                a, b, result.n, result.observed, result.kappa, observed_ok and kappa_ok
            )
        )
    return results


@transaction.atomic
def pilot_close(*, pilot: PilotRound, actor: User) -> PilotRound:
    """Close the round: store each pair's agreement and whether the round
    passed; the votes become visible to every member. If it passed and the
    stage says pilot votes count, they become decisions. Audited."""
    review = pilot.review
    _lead_only(review, actor, "closes a calibration round")
    pilot = PilotRound.objects.select_for_update().get(pk=pilot.pk)
    if pilot.closed_at is not None:
        raise ValidationError("This calibration round is already closed.")
    settings = stage_settings(review, Stage(pilot.stage))
    _coverage_checked(pilot, settings)
    results = pair_results(pilot)
    pilot.closed_at = timezone.now()
    pilot.passed = all(r.passed for r in results)
    pilot.results = [asdict(r) for r in results]
    pilot.save()
    carried = skipped = 0
    if pilot.passed and settings.pilot_votes_count:
        carried, skipped = _votes_carry_over(pilot)
    audit_event_create(
        actor=actor,
        verb="screening.pilot_closed",
        target=pilot,
        review_id=review.pk,
        after={
            "round": pilot.number,
            "passed": pilot.passed,
            "pairs": pilot.results,
            "votes_carried_over": carried,
            "votes_not_carried_over": skipped,
        },
    )
    pilot.votes_not_carried_over = skipped  # type: ignore[attr-defined]
    return pilot


def votes_needed(settings: StageSettings) -> int:
    """Votes every pilot record needs before the round closes: two, for the
    agreement to cover the whole sample; as many as the stage requires when
    the votes will become decisions (so every carried-over record is settled,
    never left open for a reviewer who saw the votes on the pilot page)."""
    needed = max(2, settings.reviewers_required)
    return needed if settings.pilot_votes_count else 2


def _coverage_checked(pilot: PilotRound, settings: StageSettings) -> None:
    needed = votes_needed(settings)
    votes = dict(
        PilotVote.objects.filter(round=pilot)
        .values("record_id")
        .annotate(n=Count("id"))
        .values_list("record_id", "n")
    )
    sample = pilot.records.values_list("pk", flat=True)
    short = sum(votes.get(pk, 0) < needed for pk in sample)
    if short:
        raise ValidationError(
            f"Every pilot record needs votes from {needed} reviewers before the "
            f"round closes: {short} record{pluralize(short)} "
            f"{'has' if short == 1 else 'have'} fewer."
        )


def _votes_carry_over(pilot: PilotRound) -> tuple[int, int]:
    """The passing round's votes as decisions, through the normal rules (so
    agreements resolve and disagreements become conflicts). A vote beyond the
    number of reviewers the stage needs stays a pilot vote only."""
    carried = skipped = 0
    votes = (
        PilotVote.objects.filter(round=pilot)
        .select_related("record", "reviewer", "reason")
        .order_by("record_id", "created_at", "pk")
    )
    decided = set(
        Decision.objects.filter(
            review=pilot.review, stage=pilot.stage, record__in=pilot.records.all()
        ).values_list("record_id", "reviewer_id")
    )
    for vote in votes:
        if (vote.record_id, vote.reviewer_id) in decided:
            # A real vote cast meanwhile is never overwritten (SCR-5).
            skipped += 1
            continue
        try:
            with transaction.atomic():
                decision_record(
                    review=pilot.review,
                    record=vote.record,
                    stage=Stage(pilot.stage),
                    reviewer=vote.reviewer,
                    vote=Vote(vote.vote),
                    reason=vote.reason,
                    note=f"Pilot round {pilot.number}",
                )
            carried += 1
        except ValidationError:
            skipped += 1
    return carried, skipped
