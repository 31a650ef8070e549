"""regtest (Egger) and ranktest (Begg) against metafor, and TV-9's Egger value."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.engine import ranktest, regtest, rma
from tests.analysis.engine.conftest import assert_close, case_id, reference

REF = reference()
REG = REF["regtest"]


@pytest.mark.parametrize(
    "case", REG, ids=[case_id(c, ("data", "method", "test", "model")) for c in REG]
)
def test_regtest_matches_metafor(case: dict[str, Any]) -> None:
    d = REF["datasets"][case["data"]]
    fit = rma(d["yi"], d["vi"], method=case["method"], test=case["test"])
    res = regtest(fit, model=case["model"])
    exp = case["result"]
    for name in ("zval", "pval", "ddf", "est", "ci_lb", "ci_ub"):
        assert_close(getattr(res, name), exp[name], label=name)
    slope = res.fit.beta[1] if res.fit is not None else None
    if slope is not None:
        assert_close(slope, exp["slope"], label="slope")


RANK = REF["ranktest"]


@pytest.mark.parametrize("case", RANK, ids=[c["data"] for c in RANK])
def test_ranktest_matches_metafor(case: dict[str, Any]) -> None:
    d = REF["datasets"][case["data"]]
    res = ranktest(d["yi"], d["vi"])
    assert_close(res.tau, case["tau"], label="tau")
    assert_close(res.pval, case["pval"], label="pval")


def test_ranktest_with_ties_uses_normal_approximation() -> None:
    d = REF["datasets"]["ties"]
    assert not ranktest(d["yi"], d["vi"]).exact


def test_tv9_egger_intercept() -> None:
    # DOMAIN TV-9: Egger's intercept (regression of y/SE on 1/SE) is the slope
    # of the weighted regression of y on SE that regtest(model="lm") fits.
    y = [0.90, 0.10, 1.40, -0.30, 0.50]
    v = [0.19, 0.06, 0.25, 0.09, 0.12]
    res = regtest(rma(y, v), model="lm")
    assert res.pval == pytest.approx(0.075, abs=5e-4)
    case = next(c for c in REG if c["data"] == "tv9" and c["model"] == "lm")
    assert case["result"]["slope"] == pytest.approx(5.215, abs=5e-4)
