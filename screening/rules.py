"""What a record's votes add up to at one stage (DOMAIN.md 5.1, SCR-3 and SCR-4).

Pure: the services call `outcome` after every vote, with the stage's settings.

Title/abstract (SCR-3): "maybe" goes on like "include" (the default), or, when
the review says so, every maybe needs a person. Include-or-maybe from every
required reviewer sends the record to full text ("all maybe" is flagged);
exclude from all excludes it; anything else is a conflict.

Full text (SCR-4): include / exclude, an exclusion always with a reason; a
conflict when the votes differ or the exclusions give different reasons (so
the PRISMA count of each reason is single-valued).

Until the required number of reviewers has voted the record is pending: the
votes are never compared early (that is what keeps reviewers blind).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Vote(StrEnum):
    INCLUDE = "include"
    MAYBE = "maybe"
    EXCLUDE = "exclude"


class Stage(StrEnum):
    TITLE_ABSTRACT = "title_abstract"
    FULL_TEXT = "full_text"


class MaybeRule(StrEnum):
    AS_INCLUDE = "as_include"  # maybe goes on to full text like include (SCR-3)
    NEEDS_PERSON = "needs_person"  # any maybe makes the record a conflict


class Outcome(StrEnum):
    PENDING = "pending"  # fewer votes than required
    INCLUDED = "included"  # TA: on to full text; FT: included
    EXCLUDED = "excluded"
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class Ballot:
    """One reviewer's current vote on a record at a stage."""

    reviewer: int
    vote: Vote
    reason: int | None = None  # exclusion reason id (full text)


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    reason: int | None = None  # the agreed exclusion reason
    all_maybe: bool = False  # TA: included only on maybes (flag for attention)
    why: str = ""  # for a conflict: what disagreed


class BallotError(ValueError):
    """Votes that the stage's rules do not allow (the caller validates first)."""


def outcome(
    ballots: Sequence[Ballot],
    *,
    stage: Stage,
    required: int = 2,
    maybe_rule: MaybeRule = MaybeRule.AS_INCLUDE,
) -> Result:
    """The record's state from the current votes of distinct reviewers."""
    if required < 1:
        raise BallotError("at least one reviewer is required")
    if len({b.reviewer for b in ballots}) != len(ballots):
        raise BallotError("one current vote per reviewer")
    if len(ballots) < required:
        return Result(Outcome.PENDING)
    if stage is Stage.FULL_TEXT:
        return _full_text(ballots)
    return _title_abstract(ballots, maybe_rule)


def _title_abstract(ballots: Sequence[Ballot], maybe_rule: MaybeRule) -> Result:
    votes = [b.vote for b in ballots]
    if Vote.MAYBE in votes and maybe_rule is MaybeRule.NEEDS_PERSON:
        return Result(Outcome.CONFLICT, why="a reviewer said maybe")
    if all(v is Vote.EXCLUDE for v in votes):
        return Result(Outcome.EXCLUDED)
    if Vote.EXCLUDE not in votes:
        return Result(Outcome.INCLUDED, all_maybe=all(v is Vote.MAYBE for v in votes))
    return Result(Outcome.CONFLICT, why="include and exclude")


def _full_text(ballots: Sequence[Ballot]) -> Result:
    for ballot in ballots:
        if ballot.vote is Vote.MAYBE:
            raise BallotError("full text takes include or exclude, not maybe")
        if ballot.vote is Vote.EXCLUDE and ballot.reason is None:
            raise BallotError("an exclusion at full text needs a reason")
    votes = {b.vote for b in ballots}
    if votes == {Vote.INCLUDE}:
        return Result(Outcome.INCLUDED)
    if votes == {Vote.EXCLUDE}:
        reasons = {b.reason for b in ballots}
        if len(reasons) == 1:
            return Result(Outcome.EXCLUDED, reason=reasons.pop())
        return Result(Outcome.CONFLICT, why="different exclusion reasons")
    return Result(Outcome.CONFLICT, why="include and exclude")
