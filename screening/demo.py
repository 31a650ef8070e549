"""Demo screening for `manage.py demo_review`: reasons, highlight terms, and
both stages screened by the two demo reviewers on part of the records, with a
few conflicts (one resolved by the lead) and the rest left to try."""

from __future__ import annotations

import re
from collections.abc import Iterator

from core.models import User
from reviews.models import Review
from screening import services
from screening.models import Decision, ExclusionReason, HighlightTerm, RecordStage
from screening.rules import Outcome, Stage, Vote
from searches.models import Record

DEMO_REASONS = [
    "Wrong population (not a spinal cord injury model)",
    "Wrong intervention (no exercise)",
    "Wrong comparator",
    "Wrong outcome (no pain measure)",
    "Wrong study design",
    "Wrong publication type (review, abstract only)",
    "Duplicate or secondary report",
]
DEMO_TERMS = [
    ("exercis*", "include"), ("treadmill", "include"), ("swim*", "include"),
    ("training", "include"), ("allodynia", "include"), ("hyperalgesia", "include"),
    ("neuropathic pain", "include"), ("spinal cord injur*", "include"),
    ("review", "exclude"), ("patients", "exclude"), ("in vitro", "exclude"),
]  # fmt: skip
SCREENED = 40  # records screened at title/abstract; the rest are left to try
LIKELY = re.compile(r"restor|exercis|train|recover|rehabilit|pain", re.IGNORECASE)


def _ta_votes(position: int, record: Record) -> tuple[Vote, Vote]:
    """A plausible pair of votes: both follow the title, and every seventh
    record reviewer B sees it the other way (a conflict)."""
    a = Vote.INCLUDE if LIKELY.search(record.title) else Vote.EXCLUDE
    if position % 9 == 4:
        a = Vote.MAYBE if a is Vote.INCLUDE else a
    b = a if a is not Vote.MAYBE else Vote.INCLUDE
    if position % 7 == 3:
        b = Vote.EXCLUDE if a is not Vote.EXCLUDE else Vote.INCLUDE
    return a, b


def demo_screening_load(
    *, review: Review, lead: User, reviewer_a: User, reviewer_b: User
) -> Iterator[str]:
    """Screen part of the demo review, once (skipped when votes exist)."""
    if Decision.objects.filter(review=review).exists():
        return
    for label in DEMO_REASONS:
        if not ExclusionReason.objects.filter(review=review, label=label).exists():
            services.reason_create(review=review, actor=lead, label=label)
    for term, kind in DEMO_TERMS:
        HighlightTerm.objects.get_or_create(
            review=review, user=None, term=term, defaults={"kind": kind}
        )
    records = list(Record.objects.unique(review.pk).order_by("pk")[:SCREENED])
    for position, record in enumerate(records):
        a, b = _ta_votes(position, record)
        for reviewer, vote in ((reviewer_a, a), (reviewer_b, b)):
            services.decision_record(
                review=review,
                record=record,
                stage=Stage.TITLE_ABSTRACT,
                reviewer=reviewer,
                vote=vote,
            )
    conflicts = RecordStage.objects.filter(
        review=review, stage=Stage.TITLE_ABSTRACT, status=Outcome.CONFLICT
    ).order_by("pk")
    first = conflicts.first()
    if first is not None:
        services.conflict_resolve(
            review=review,
            record=first.record,
            stage=Stage.TITLE_ABSTRACT,
            actor=lead,
            vote=Vote.INCLUDE,
            note="Discussed: the model is a contusion injury; on to full text.",
        )
    reasons = list(ExclusionReason.objects.filter(review=review))
    included = RecordStage.objects.filter(
        review=review, stage=Stage.TITLE_ABSTRACT, status=Outcome.INCLUDED
    ).order_by("pk")
    for position, state in enumerate(included[:8]):
        # Full text: agree on most; one pair excludes for different reasons.
        for reviewer, reason in (
            (reviewer_a, reasons[position % 4]),
            (reviewer_b, reasons[(position + (1 if position == 2 else 0)) % 4]),
        ):
            vote = Vote.INCLUDE if position % 3 == 0 else Vote.EXCLUDE
            services.decision_record(
                review=review,
                record=state.record,
                stage=Stage.FULL_TEXT,
                reviewer=reviewer,
                vote=vote,
                reason=reason if vote is Vote.EXCLUDE else None,
            )
    open_conflicts = RecordStage.objects.filter(
        review=review, status=Outcome.CONFLICT
    ).count()
    yield (
        f"Screened {len(records)} records on title and abstract and "
        f"{min(8, included.count())} on full text; {open_conflicts} conflicts "
        "left for the lead."
    )
