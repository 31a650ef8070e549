"""Conflict detection (DOMAIN.md SCR-3, SCR-4) for 1, 2 and 3 reviewers."""

from __future__ import annotations

import pytest

from screening.rules import (
    Ballot,
    BallotError,
    MaybeRule,
    Outcome,
    Stage,
    Vote,
    outcome,
)

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
INC, MAY, EXC = Vote.INCLUDE, Vote.MAYBE, Vote.EXCLUDE


def _ballots(*votes: Vote, reasons: tuple[int | None, ...] = ()) -> list[Ballot]:
    reasons = reasons or (None,) * len(votes)
    pairs = zip(votes, reasons, strict=True)
    return [Ballot(n, vote, reason) for n, (vote, reason) in enumerate(pairs)]


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        ((INC, INC), Outcome.INCLUDED),
        ((INC, MAY), Outcome.INCLUDED),
        ((MAY, MAY), Outcome.INCLUDED),
        ((EXC, EXC), Outcome.EXCLUDED),
        ((INC, EXC), Outcome.CONFLICT),
        ((MAY, EXC), Outcome.CONFLICT),
        ((INC, INC, INC), Outcome.INCLUDED),
        ((EXC, EXC, EXC), Outcome.EXCLUDED),
        ((INC, INC, EXC), Outcome.CONFLICT),
        ((MAY, INC, MAY), Outcome.INCLUDED),
    ],
)
def test_title_abstract_with_maybe_as_include(
    votes: tuple[Vote, ...], expected: Outcome
) -> None:
    assert outcome(_ballots(*votes), stage=TA, required=len(votes)).outcome is expected


def test_two_maybes_go_on_flagged() -> None:
    result = outcome(_ballots(MAY, MAY), stage=TA)
    assert (result.outcome, result.all_maybe) == (Outcome.INCLUDED, True)
    assert not outcome(_ballots(INC, MAY), stage=TA).all_maybe


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        ((INC, INC), Outcome.INCLUDED),
        ((INC, MAY), Outcome.CONFLICT),
        ((MAY, MAY), Outcome.CONFLICT),
        ((EXC, EXC), Outcome.EXCLUDED),
        ((MAY, EXC, EXC), Outcome.CONFLICT),
    ],
)
def test_title_abstract_when_maybe_needs_a_person(
    votes: tuple[Vote, ...], expected: Outcome
) -> None:
    result = outcome(
        _ballots(*votes), stage=TA, required=len(votes),
        maybe_rule=MaybeRule.NEEDS_PERSON,
    )  # fmt: skip
    assert result.outcome is expected


def test_nothing_is_compared_before_every_required_vote_is_in() -> None:
    assert outcome(_ballots(INC), stage=TA).outcome is Outcome.PENDING
    assert outcome(_ballots(INC, EXC), stage=TA, required=3).outcome is Outcome.PENDING
    assert outcome([], stage=FT).outcome is Outcome.PENDING


def test_a_single_reviewer_stage_decides_at_once() -> None:
    assert outcome(_ballots(EXC), stage=TA, required=1).outcome is Outcome.EXCLUDED


@pytest.mark.parametrize(
    ("votes", "reasons", "expected", "reason"),
    [
        ((INC, INC), (None, None), Outcome.INCLUDED, None),
        ((EXC, EXC), (3, 3), Outcome.EXCLUDED, 3),
        ((EXC, EXC), (3, 4), Outcome.CONFLICT, None),
        ((INC, EXC), (None, 3), Outcome.CONFLICT, None),
        ((EXC, EXC, EXC), (2, 2, 2), Outcome.EXCLUDED, 2),
        ((EXC, EXC, EXC), (2, 2, 5), Outcome.CONFLICT, None),
        ((INC, INC, EXC), (None, None, 2), Outcome.CONFLICT, None),
    ],
)
def test_full_text_conflicts_include_different_reasons(
    votes: tuple[Vote, ...],
    reasons: tuple[int | None, ...],
    expected: Outcome,
    reason: int | None,
) -> None:
    result = outcome(_ballots(*votes, reasons=reasons), stage=FT, required=len(votes))
    assert (result.outcome, result.reason) == (expected, reason)


def test_the_conflict_says_what_disagreed() -> None:
    assert outcome(_ballots(EXC, EXC, reasons=(1, 2)), stage=FT).why == (
        "different exclusion reasons"
    )
    assert outcome(_ballots(INC, EXC), stage=TA).why == "include and exclude"


def test_full_text_refuses_maybe_and_reasonless_exclusions() -> None:
    with pytest.raises(BallotError, match="needs a reason"):
        outcome(_ballots(EXC, EXC, reasons=(1, None)), stage=FT)
    with pytest.raises(BallotError, match="not maybe"):
        outcome(_ballots(INC, MAY), stage=FT)


def test_one_current_vote_per_reviewer() -> None:
    with pytest.raises(BallotError, match="one current vote per reviewer"):
        outcome([Ballot(1, INC), Ballot(1, EXC)], stage=TA)
