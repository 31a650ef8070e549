"""leave1out, trimfill and influence diagnostics against metafor."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analysis.engine import (
    Continuous,
    RmaFit,
    influence,
    leave1out,
    meta_regression,
    rma,
    trimfill,
)
from tests.analysis.engine.conftest import assert_close, case_id, reference

REF = reference()


def _fit(case: dict[str, Any]) -> RmaFit:
    d = REF["datasets"][case["data"]]
    return rma(d["yi"], d["vi"], method=case["method"], test=case["test"])


L1O = REF["leave1out"]


@pytest.mark.parametrize(
    "case", L1O, ids=[case_id(c, ("data", "method", "test")) for c in L1O]
)
def test_leave1out_matches_metafor(case: dict[str, Any]) -> None:
    res = leave1out(_fit(case))
    for name, exp in case["result"].items():
        assert_close(getattr(res, name), exp, label=name)


TF = REF["trimfill"]


@pytest.mark.parametrize(
    "case",
    TF,
    ids=[case_id(c, ("data", "method", "test", "estimator", "side")) for c in TF],
)
def test_trimfill_matches_metafor(case: dict[str, Any]) -> None:
    side = None if case["side"] == "auto" else case["side"]
    res = trimfill(_fit(case), side=side, estimator=case["estimator"])
    exp = case["result"]
    assert res.k0 == exp["k0"]
    assert res.side == exp["side"]
    assert_close(res.se_k0, exp["se_k0"], label="se_k0")
    assert_close(res.p_k0, exp["p_k0"], label="p_k0")
    assert_close(res.yi, exp["yi"], label="filled yi")
    assert_close(res.vi, exp["vi"], label="filled vi")
    assert list(res.filled) == list(np.atleast_1d(exp["fill"]))
    for name in ("beta", "se", "ci_lb", "ci_ub", "pval"):
        assert_close(getattr(res.fit, name), exp[name], label=name)
    for name in ("tau2", "QE", "I2"):
        assert_close(getattr(res.fit, name), exp[name], label=name)


INFL = REF["influence"]
INFL_FIELDS = (
    "rstudent",
    "dffits",
    "cook_d",
    "cov_r",
    "tau2_del",
    "QE_del",
    "hat",
    "weight",
)


@pytest.mark.parametrize(
    "case", INFL, ids=[case_id(c, ("data", "method", "test")) for c in INFL]
)
def test_influence_matches_metafor(case: dict[str, Any]) -> None:
    res = influence(_fit(case))
    exp = case["result"]
    for name in INFL_FIELDS:
        assert_close(getattr(res, name), exp[name], rtol=1e-7, label=name)
    assert_close(res.dfbetas[:, 0], exp["dfbetas"], rtol=1e-7, label="dfbetas")
    assert list(res.is_infl) == list(np.atleast_1d(exp["is_infl"]))


def test_influence_with_moderators_matches_metafor() -> None:
    case = REF["influence_mods"]
    d = REF["datasets"]["bcg_logrr"]
    fit = meta_regression(
        d["yi"],
        d["vi"],
        [
            Continuous("ablat", tuple(case["ablat"])),
            Continuous("year", tuple(case["year"])),
        ],
    )
    res = influence(fit)
    exp = case["result"]
    for name in INFL_FIELDS:
        assert_close(getattr(res, name), exp[name], rtol=1e-7, label=name)
    assert_close(res.dfbetas, exp["dfbetas"], rtol=1e-7, label="dfbetas")
    assert list(res.is_infl) == list(exp["is_infl"])


def test_trimfill_refit_uses_z_test_like_metafor() -> None:
    d = REF["datasets"]["hackshaw1998"]
    res = trimfill(rma(d["yi"], d["vi"], test="knha"))
    assert res.k0 > 0
    assert res.fit.test == "z"
