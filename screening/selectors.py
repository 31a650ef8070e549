"""Blinded reads of screening: a reviewer's queue, lists by their own vote,
the conflicts a resolver may see, progress per reviewer.

Every read here is shaped so that a reviewer's own votes are the only votes it
can reveal before a record is resolved (SCR-2): lists filter on the viewer's
own Decision rows, and states are only named when the record is resolved.
The queue is keyset-paginated (`after` a record) so finding the next record
costs the same at 100 or 100,000 records.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Count, Exists, OuterRef, Q, Subquery

from core.models import User
from reviews.models import Review
from screening.models import (
    Decision,
    PilotRound,
    PriorityScore,
    RecordStage,
    StageSettings,
)
from screening.rules import Outcome, Stage, Vote
from searches.models import Record
from searches.querysets import RecordQuerySet


class Show(StrEnum):
    """What the screening page walks through."""

    PENDING = "pending"  # records still waiting for my vote
    INCLUDED = "include"  # my include votes
    MAYBE = "maybe"  # my maybe votes
    EXCLUDED = "exclude"  # my exclude votes
    CONFLICTS = "conflicts"  # resolvers only


SHOW_LABELS = {
    Show.PENDING: "My pending",
    Show.INCLUDED: "My includes",
    Show.MAYBE: "My maybes",
    Show.EXCLUDED: "My excludes",
    Show.CONFLICTS: "Conflicts",
}


def screenable(review: Review, stage: Stage) -> RecordQuerySet:
    """The records of the review that are screened at `stage`: every unique
    imported record at title/abstract; at full text, those included at
    title/abstract."""
    records = Record.objects.unique(review.pk)
    if stage is Stage.FULL_TEXT:
        included = RecordStage.objects.filter(
            record=OuterRef("pk"),
            stage=Stage.TITLE_ABSTRACT,
            status=Outcome.INCLUDED,
        )
        records = records.filter(Exists(included))
    return records


def open_pilot(review: Review, stage: Stage) -> PilotRound | None:
    return (
        PilotRound.objects.filter(review=review, stage=stage.value, closed_at=None)
        .order_by("-number")
        .first()
    )


def pending_for(
    review: Review, stage: Stage, reviewer: User, *, after: int | None = None
) -> RecordQuerySet:
    """Records waiting for `reviewer`'s vote: no vote of theirs yet, and the
    record still pending (not resolved, not a conflict: a record whose required
    votes are all in needs no more). With `after`, only records after it."""
    mine = Decision.objects.filter(
        record=OuterRef("pk"), stage=stage.value, reviewer=reviewer
    )
    settled = RecordStage.objects.filter(
        record=OuterRef("pk"), stage=stage.value
    ).exclude(status=Outcome.PENDING)
    records = screenable(review, stage)
    if after is not None:
        # The bound is repeated inside the subqueries: PostgreSQL then starts
        # its anti-joins at `after` instead of merging every earlier vote.
        records = records.filter(pk__gt=after)
        mine, settled = mine.filter(record__gt=after), settled.filter(record__gt=after)
    return records.filter(~Exists(mine), ~Exists(settled))


def _first_by_priority(
    review: Review, stage: Stage, reviewer: User, *, after: int | None = None
) -> Record | None:
    """The highest-scored record waiting for `reviewer` (ranked below `after`
    when given), read down the score index (a sort of every open record would
    cost ~300 ms at 100,000)."""
    mine = Decision.objects.filter(
        record=OuterRef("record_id"), stage=stage.value, reviewer=reviewer
    )
    settled = RecordStage.objects.filter(
        record=OuterRef("record_id"), stage=stage.value
    ).exclude(status=Outcome.PENDING)
    usable = screenable(review, stage).filter(pk=OuterRef("record_id"))
    scores = PriorityScore.objects.filter(review=review)
    if after is not None:
        current = scores.filter(record_id=after).values_list("score", flat=True).first()
        if current is not None:
            scores = scores.filter(
                Q(score__lt=current) | Q(score=current, record_id__gt=after)
            )
    best = (
        scores.filter(~Exists(mine), ~Exists(settled), Exists(usable))
        .order_by("-score", "record_id")
        .values("record_id")[:1]
    )
    return Record.objects.filter(pk=Subquery(best)).first()


def next_record(
    review: Review,
    stage: Stage,
    reviewer: User,
    settings: StageSettings,
    *,
    show: Show = Show.PENDING,
    after: int | None = None,
) -> Record | None:
    """The record to show next: for PENDING, the first waiting for the
    reviewer's vote (in priority order when prioritised, else in import order,
    starting after `after` and wrapping round); for the other lists, the next
    record on the list after `after`."""
    if show is Show.PENDING:
        if settings.prioritised and stage is Stage.TITLE_ABSTRACT:
            # Highest score first; records the model has not scored yet after.
            best = _first_by_priority(review, stage, reviewer, after=after)
            if best is None and after is not None:
                best = _first_by_priority(review, stage, reviewer)  # wrap round
            if best is not None:
                return best
        if after is not None:
            found = pending_for(review, stage, reviewer, after=after).order_by("pk")
            if (record := found.first()) is not None:
                return record
        return pending_for(review, stage, reviewer).order_by("pk").first()
    return _first(listed(review, stage, reviewer, show).order_by("pk"), after)


def _first(records: RecordQuerySet, after: int | None) -> Record | None:
    if after is not None:
        found = records.filter(pk__gt=after).first()
        if found is not None:
            return found
    return records.first()


def listed(review: Review, stage: Stage, viewer: User, show: Show) -> RecordQuerySet:
    """The records on one of the page's lists (not PENDING): the viewer's own
    votes of one kind, or the conflicts the viewer may resolve (all, for a
    lead; for a third reviewer, those they did not vote on; none otherwise)."""
    if show is Show.CONFLICTS:
        conflicts = RecordStage.objects.filter(
            record=OuterRef("pk"), stage=stage.value, status=Outcome.CONFLICT
        )
        records = screenable(review, stage).filter(Exists(conflicts))
        if getattr(review, "viewer_role", None) == "lead":
            return records
        settings = StageSettings.objects.filter(review=review, stage=stage.value)
        if not settings.filter(resolvers=viewer).exists():
            return records.none()
        own = Decision.objects.filter(
            record=OuterRef("pk"), stage=stage.value, reviewer=viewer
        )
        return records.filter(~Exists(own))
    mine = Decision.objects.filter(
        record=OuterRef("pk"), stage=stage.value, reviewer=viewer, vote=show.value
    )
    return screenable(review, stage).filter(Exists(mine))


@dataclass(frozen=True)
class ReviewerProgress:
    reviewer: User
    voted: int
    included: int  # include or maybe
    excluded: int


def progress(review: Review, stage: Stage) -> list[ReviewerProgress]:
    """Votes per reviewer at a stage (one grouped query). Counts of a
    reviewer's own votes only: they say nothing about anyone's agreement."""
    rows = (
        Decision.objects.filter(review=review, stage=stage.value)
        .values("reviewer")
        .annotate(
            voted=Count("id"),
            included=Count("id", filter=~Q(vote=Vote.EXCLUDE)),
            excluded=Count("id", filter=Q(vote=Vote.EXCLUDE)),
        )
    )
    by_id = {row["reviewer"]: row for row in rows}
    users = User.objects.in_bulk(list(by_id))
    return [
        ReviewerProgress(users[pk], row["voted"], row["included"], row["excluded"])
        for pk, row in sorted(by_id.items(), key=lambda item: -item[1]["voted"])
    ]


def stage_counts(review: Review, stage: Stage) -> dict[str, int]:
    """Records at the stage by state (for leads and the PRISMA flow)."""
    states = RecordStage.objects.filter(review=review, stage=stage.value).aggregate(
        included=Count("id", filter=Q(status=Outcome.INCLUDED)),
        excluded=Count("id", filter=Q(status=Outcome.EXCLUDED)),
        conflicts=Count("id", filter=Q(status=Outcome.CONFLICT)),
        all_maybe=Count("id", filter=Q(status=Outcome.INCLUDED, all_maybe=True)),
    )
    states["total"] = screenable(review, stage).count()
    states["open"] = states["total"] - states["included"] - states["excluded"]
    return states


def priority_scored(review: Review) -> int:
    return PriorityScore.objects.filter(review=review).count()
