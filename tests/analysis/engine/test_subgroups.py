"""Subgroup analyses with separate and with common tau^2, against metafor."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.engine import EngineError, subgroup_analysis
from tests.analysis.engine.conftest import assert_close, case_id, reference

CASES = reference()["subgroups"]


@pytest.mark.parametrize(
    "case", CASES, ids=[case_id(c, ("data", "method", "test")) for c in CASES]
)
def test_separate_tau2_matches_metafor(case: dict[str, Any]) -> None:
    res = subgroup_analysis(
        case["yi"], case["vi"], case["groups"], method=case["method"], test=case["test"]
    )
    exp = case["separate"]
    assert [g.group for g in res.groups] == case["levels"]
    assert_close([g.estimate for g in res.groups], exp["estimate"], label="estimate")
    assert_close([g.se for g in res.groups], exp["se"], label="se")
    assert_close([g.tau2 for g in res.groups], exp["tau2"], label="tau2")
    assert_close([g.ci_lb for g in res.groups], exp["ci_lb"], label="ci_lb")
    assert_close([g.ci_ub for g in res.groups], exp["ci_ub"], label="ci_ub")
    assert_close(res.Q_between, exp["QM"], label="Q_between")
    assert_close(res.Q_pval, exp["QMp"], label="Q_between p")
    assert_close([res.Q_df[0], float("nan")], exp["QMdf"], label="df")


@pytest.mark.parametrize(
    "case", CASES, ids=[case_id(c, ("data", "method", "test")) for c in CASES]
)
def test_common_tau2_matches_metafor(case: dict[str, Any]) -> None:
    res = subgroup_analysis(
        case["yi"],
        case["vi"],
        case["groups"],
        method=case["method"],
        test=case["test"],
        tau2="common",
    )
    exp = case["common"]
    assert_close([g.estimate for g in res.groups], exp["estimate"], label="estimate")
    assert_close([g.se for g in res.groups], exp["se"], label="se")
    assert_close(res.test_fit.tau2, exp["tau2"], label="tau2")
    assert_close(res.Q_between, exp["QM"], label="Q_between")
    assert_close(res.Q_pval, exp["QMp"], label="Q_between p")
    df = [res.Q_df[0], float("nan") if res.Q_df[1] is None else res.Q_df[1]]
    assert_close(df, exp["QMdf"], label="df")


def test_q_between_is_weighted_spread_of_subgroup_estimates() -> None:
    # DOMAIN MA-11: Q_between = sum W_g (mu_g - mu_bar)^2, W_g = 1/SE_g^2.
    yi = [0.1, 0.3, 0.2, 0.9, 1.1, 0.8]
    vi = [0.05, 0.04, 0.06, 0.05, 0.07, 0.04]
    res = subgroup_analysis(yi, vi, ["a", "a", "a", "b", "b", "b"], method="DL")
    w = [1 / g.se**2 for g in res.groups]
    mu = [g.estimate for g in res.groups]
    mbar = sum(wi * m for wi, m in zip(w, mu, strict=True)) / sum(w)
    q = sum(wi * (m - mbar) ** 2 for wi, m in zip(w, mu, strict=True))
    assert res.Q_between == pytest.approx(q)
    assert res.Q_df == (1, None)


def test_one_subgroup_is_an_error() -> None:
    with pytest.raises(EngineError, match="two subgroups"):
        subgroup_analysis([0.1, 0.2], [0.1, 0.1], ["a", "a"])
