"""Screening agreement against DOMAIN.md's worked vector TV-4 and R.

Kappa standard errors are R 4.2.2's psych 2.2.9 `cohen.kappa` (sqrt of
var.kappa) and vcd 1.4.11 `Kappa` (ASE), which agree to 10 digits; the R
script is in the docstring of `test_kappa_standard_error_matches_r`.
"""

from __future__ import annotations

import pytest

from screening.agreement import agreement, agreement_from_table, landis_koch

TV4 = [[20, 5], [10, 65]]  # rows reviewer A (include, exclude), columns B


def test_worked_vector_tv4() -> None:
    result = agreement_from_table(TV4, ("include", "exclude"))
    assert result.n == 100
    assert result.observed == pytest.approx(0.85)
    assert result.expected == pytest.approx(0.60)
    assert result.kappa == pytest.approx(0.625)
    assert result.label == "substantial"
    assert result.pabak == pytest.approx(0.70)


def test_kappa_standard_error_matches_r() -> None:
    """R: library(psych); library(vcd); m <- matrix(c(20, 10, 5, 65), 2)
    sqrt(cohen.kappa(m)$var.kappa); Kappa(m)$Unweighted  # both 0.0872345303"""
    result = agreement_from_table(TV4, ("include", "exclude"))
    assert result.kappa_se == pytest.approx(0.0872345303, abs=1e-9)
    assert result.kappa_low == pytest.approx(0.625 - 1.959963985 * 0.0872345303)
    assert result.kappa_high == pytest.approx(0.625 + 1.959963985 * 0.0872345303)


def test_three_categories_match_r() -> None:
    """R: m <- matrix(c(30, 4, 2, 5, 10, 3, 1, 2, 43), 3) (filled by column)."""
    table = [[30, 5, 1], [4, 10, 2], [2, 3, 43]]
    result = agreement_from_table(table, ("include", "maybe", "exclude"))
    assert result.kappa == pytest.approx(0.7261597938, abs=1e-9)
    assert result.kappa_se == pytest.approx(0.0581663284, abs=1e-9)
    po = 83 / 100
    assert result.pabak == pytest.approx((3 * po - 1) / 2)  # KAP-3, k categories


def test_the_kappa_paradox_ac1_stays_high() -> None:
    """Gwet (2008)'s point: one rare category sinks kappa, not AC1. Kappa and
    its SE from R (matrix(c(118, 2, 5, 0), 2)); AC1 by its definition:
    pi = (0.984 + 0.96) / 2 = 0.972, pe = 2 * 0.972 * 0.028, AC1 = 0.94078."""
    result = agreement_from_table([[118, 5], [2, 0]], ("include", "exclude"))
    assert result.kappa == pytest.approx(-0.0233918129, abs=1e-9)
    assert result.kappa_se == pytest.approx(0.0122867567, abs=1e-9)
    assert result.label == "poor"
    assert result.ac1 == pytest.approx(0.889568 / 0.945568)
    assert result.observed == pytest.approx(0.944)


def test_ac1_of_tv4() -> None:
    # pi_include = (0.25 + 0.30) / 2 = 0.275; pe = 2 * 0.275 * 0.725 = 0.39875
    result = agreement_from_table(TV4, ("include", "exclude"))
    assert result.ac1 == pytest.approx((0.85 - 0.39875) / (1 - 0.39875))


def test_kappa_is_undefined_when_both_always_say_the_same_thing() -> None:
    result = agreement_from_table([[0, 0], [0, 12]], ("include", "exclude"))
    assert result.kappa is None and result.kappa_se is None
    assert result.label == "n/a"
    assert result.observed == 1.0 and result.pabak == 1.0


def test_no_items_gives_no_figures() -> None:
    result = agreement([], ("include", "exclude"))
    assert result.n == 0 and result.kappa is None and result.observed is None


def test_votes_build_the_table() -> None:
    votes = (
        [("include", "include")] * 20 + [("include", "exclude")] * 5
        + [("exclude", "include")] * 10 + [("exclude", "exclude")] * 65
    )  # fmt: skip
    assert agreement(votes, ("include", "exclude")).table == ((20, 5), (10, 65))
    with pytest.raises(ValueError, match="'maybe' is not one of"):
        agreement([("maybe", "include")], ("include", "exclude"))


@pytest.mark.parametrize(
    ("kappa", "label"),
    [
        (-0.01, "poor"), (0.0, "slight"), (0.2, "slight"), (0.21, "fair"),
        (0.4, "fair"), (0.6, "moderate"), (0.61, "substantial"),
        (0.8, "substantial"), (0.81, "almost perfect"), (None, "n/a"),
    ],
)  # fmt: skip
def test_landis_koch_upper_limits_are_inclusive(
    kappa: float | None, label: str
) -> None:
    assert landis_koch(kappa) == label
