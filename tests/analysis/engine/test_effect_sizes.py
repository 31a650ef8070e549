"""escalc(): effect sizes against metafor and DOMAIN.md TV-8."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from analysis.engine import (
    ContinuousArms,
    EffectSizes,
    EngineError,
    TwoByTwo,
    escalc_binary,
    escalc_continuous,
    hedges_correction,
)
from tests.analysis.engine.conftest import assert_close, case_id, reference

CASES = reference()["escalc"]


def _compute(case: dict[str, Any]) -> EffectSizes:
    inp = {
        k: np.atleast_1d(np.array(v, dtype=float)) for k, v in case["inputs"].items()
    }
    args = case["args"] or {}
    if case["type"] == "cont":
        arms = ContinuousArms(
            inp["m1i"], inp["sd1i"], inp["n1i"], inp["m2i"], inp["sd2i"], inp["n2i"]
        )
        return escalc_continuous(case["measure"], arms, vtype=args.get("vtype", "LS"))
    tables = TwoByTwo.from_events(inp["ai"], inp["n1i"], inp["ci"], inp["n2i"])
    return escalc_binary(
        case["measure"],
        tables,
        add=float(args.get("add", 0.5)),
        to=args.get("to", "only0"),
        drop00=bool(args.get("drop00", False)),
    )


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=[case_id(c, ("name", "measure")) + str(i) for i, c in enumerate(CASES)],
)
def test_escalc_matches_metafor(case: dict[str, Any]) -> None:
    es = _compute(case)
    assert_close(es.yi, case["yi"], rtol=1e-12, atol=1e-14, label="yi")
    assert_close(es.vi, case["vi"], rtol=1e-12, atol=1e-14, label="vi")


def test_tv8_hedges_g_and_variance() -> None:
    arms = ContinuousArms(*(np.array([x], dtype=float) for x in (12, 4, 10, 9, 5, 12)))
    es = escalc_continuous("SMD", arms)
    assert es.yi[0] == pytest.approx(0.63049, abs=5e-6)
    assert es.vi[0] == pytest.approx(0.19237, abs=5e-6)


def test_hedges_correction_is_exact_gamma_ratio() -> None:
    # J(20) by the gamma-function formula; the approximation 1 - 3/(4m - 1)
    # differs in the 5th decimal.
    j = hedges_correction(np.array([20.0]))[0]
    assert j == pytest.approx(
        math.gamma(10) / (math.sqrt(10) * math.gamma(9.5)), rel=1e-13
    )
    assert abs(j - (1 - 3 / 79)) > 1e-5
    # Large m must not overflow the gamma function.
    assert hedges_correction(np.array([5000.0]))[0] == pytest.approx(
        1 - 3 / 19999, abs=1e-8
    )
    assert np.isnan(hedges_correction(np.array([1.0]))[0])


def test_zero_cells_get_half_only_in_affected_tables() -> None:
    tables = TwoByTwo.from_events([0, 5], [10, 10], [3, 4], [10, 10])
    es = escalc_binary("OR", tables)
    assert es.yi[0] == pytest.approx(np.log((0.5 * 7.5) / (10.5 * 3.5)))
    assert es.yi[1] == pytest.approx(np.log((5 * 6) / (5 * 4)))


def test_double_zero_table_is_dropped_only_with_drop00() -> None:
    tables = TwoByTwo.from_events([0, 5], [10, 10], [0, 4], [10, 10])
    assert np.isnan(escalc_binary("RR", tables, drop00=True).yi[0])
    assert escalc_binary("RR", tables).yi[0] == pytest.approx(0.0)


def test_generic_input_accepts_standard_errors() -> None:
    es = EffectSizes.generic([0.1, 0.2], sei=[0.5, 0.1])
    np.testing.assert_allclose(es.vi, [0.25, 0.01])
    with pytest.raises(EngineError):
        EffectSizes.generic([0.1], vi=[0.1], sei=[0.1])


def test_negative_counts_are_rejected_with_the_study_named() -> None:
    with pytest.raises(EngineError, match="study 2"):
        TwoByTwo.from_events([1, 5], [10, 4], [1, 1], [10, 10])
