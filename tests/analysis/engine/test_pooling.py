"""rma(): every estimator and test against recorded metafor output, plus the
published values STYLE.md and DOMAIN.md quote."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analysis.engine import (
    Design,
    EngineError,
    InsufficientDataError,
    RmaFit,
    confint_tau2,
    escalc_binary,
    predict,
    rma,
)
from analysis.engine.types import TwoByTwo
from tests.analysis.engine.conftest import assert_close, case_id, reference

REF = reference()
CASES = REF["rma"]


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    d = REF["datasets"][name]
    return np.array(d["yi"], dtype=float), np.array(d["vi"], dtype=float)


def check_fit(fit: RmaFit, exp: dict[str, Any]) -> None:
    """Compare every rma.uni output field with metafor's."""
    assert fit.k == exp["k"]
    assert fit.p == exp["p"]
    for name in ("beta", "se", "zval", "pval", "ci_lb", "ci_ub", "vb"):
        assert_close(getattr(fit, name), exp[name], label=name)
    for name in ("tau2", "se_tau2", "I2", "H2", "QE", "QEp", "QM", "QMp", "vt", "s2w"):
        assert_close(getattr(fit, name), exp[name], label=name)
    assert_close(fit.R2, exp["R2"], label="R2")
    assert_close(np.array(fit.QM_df, dtype=float), exp["QMdf"], label="QMdf")
    assert_close(fit.ddf, exp["ddf"], label="ddf")
    assert_close(fit.weights, exp["weights"], label="weights")
    pred = predict(fit)
    for name, key in (
        ("pred", "pred"),
        ("se", "pred_se"),
        ("ci_lb", "pred_ci_lb"),
        ("ci_ub", "pred_ci_ub"),
        ("pi_lb", "pi_lb"),
        ("pi_ub", "pi_ub"),
    ):
        if fit.is_fixed and key.startswith("pi_"):
            # metafor returns a single NA: no prediction interval without tau^2.
            assert np.all(np.isnan(getattr(pred, name)))
            continue
        assert_close(getattr(pred, name), exp[key], label=key)
    if fit.int_only:
        assert_close(fit.pi_lb, exp["pi_lb"], label="pi_lb")
        assert_close(fit.pi_ub, exp["pi_ub"], label="pi_ub")
        riley = predict(fit, pi_type="riley")
        assert_close(riley.pi_lb, exp["pi_riley_lb"], label="pi riley lb")
        assert_close(riley.pi_ub, exp["pi_riley_ub"], label="pi riley ub")
    if "confint" in exp:
        ci = confint_tau2(fit)
        for name in ("tau2", "tau", "I2", "H2"):
            iv = getattr(ci, name)
            assert_close(
                [iv.estimate, iv.ci_lb, iv.ci_ub],
                exp["confint"][name],
                label=f"confint {name}",
            )


@pytest.mark.parametrize(
    "case", CASES, ids=[case_id(c, ("data", "method", "test")) for c in CASES]
)
def test_rma_matches_metafor(case: dict[str, Any]) -> None:
    yi, vi = _data(case["data"])
    fit = rma(yi, vi, method=case["method"], test=case["test"])
    check_fit(fit, case["result"])


BCG = TwoByTwo(
    *(
        np.array(x, dtype=float)
        for x in (
            [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
            [
                119,
                300,
                228,
                13536,
                5036,
                1361,
                2537,
                87886,
                7470,
                1699,
                50448,
                2493,
                16886,
            ],
            [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
            [
                128,
                274,
                209,
                12619,
                5761,
                1079,
                619,
                87892,
                7232,
                1600,
                27197,
                2338,
                17825,
            ],
        )
    )
)


def test_bcg_reml_knha_published_values() -> None:
    # STYLE.md section 8 / wviechtb/metafor README.
    es = escalc_binary("RR", BCG)
    fit = rma(es.yi, es.vi, method="REML", test="knha")
    assert round(fit.estimate, 4) == -0.7145
    assert round(fit.tau2, 4) == 0.3132
    assert fit.I2 is not None and round(fit.I2, 2) == 92.22
    assert round(fit.QE, 4) == 152.2330
    assert fit.ddf == 12


TV9_Y = [0.90, 0.10, 1.40, -0.30, 0.50]
TV9_V = [0.19, 0.06, 0.25, 0.09, 0.12]


def test_tv9_worked_vector() -> None:
    fe = rma(TV9_Y, TV9_V, method="FE")
    assert fe.estimate == pytest.approx(0.2829, abs=5e-5)
    assert fe.se[0] == pytest.approx(0.1485, abs=5e-5)
    assert pytest.approx(11.7215, abs=5e-5) == fe.QE
    assert fe.QEp == pytest.approx(0.0195, abs=5e-5)
    fe_i2 = fe.I2
    assert fe_i2 == pytest.approx(65.87, abs=5e-3)
    dl = rma(TV9_Y, TV9_V, method="DL")
    assert dl.tau2 == pytest.approx(0.2268, abs=5e-5)
    assert dl.estimate == pytest.approx(0.4235, abs=5e-5)
    assert dl.se[0] == pytest.approx(0.2671, abs=5e-5)
    reml = rma(TV9_Y, TV9_V)
    assert reml.tau2 == pytest.approx(0.2597, abs=5e-5)
    assert reml.estimate == pytest.approx(0.4310, abs=5e-5)
    assert reml.se[0] == pytest.approx(0.2794, abs=5e-5)
    assert (reml.ci_lb[0], reml.ci_ub[0]) == pytest.approx((-0.1167, 0.9787), abs=5e-5)
    reml_i2 = reml.I2
    assert reml_i2 == pytest.approx(68.85, abs=5e-3)
    assert (reml.pi_lb, reml.pi_ub) == pytest.approx((-0.7081, 1.5702), abs=5e-5)
    knha = rma(TV9_Y, TV9_V, test="knha")
    assert (knha.ci_lb[0], knha.ci_ub[0]) == pytest.approx((-0.3654, 1.2274), abs=5e-5)
    assert (knha.pi_lb, knha.pi_ub) == pytest.approx((-1.1927, 2.0547), abs=5e-5)
    cochrane = predict(reml, pi_type="riley")
    assert (cochrane.pi_lb[0], cochrane.pi_ub[0]) == pytest.approx(
        (-1.4187, 2.2807), abs=5e-5
    )


def test_dl_i2_equals_higgins_i2() -> None:
    # DOMAIN MA-7: the tau^2-based I^2 coincides with (Q - df)/Q for DL.
    fit = rma(TV9_Y, TV9_V, method="DL")
    i2, qe = fit.I2, fit.QE
    assert i2 == pytest.approx(100 * (qe - 4) / qe)


def test_missing_studies_are_omitted_and_reported() -> None:
    fit = rma([0.1, np.nan, 0.3, 0.5], [0.1, 0.1, 0.2, 0.1])
    assert fit.k == 3
    assert fit.omitted == (1,)


def test_non_positive_variance_names_the_study() -> None:
    with pytest.raises(EngineError, match="study 2"):
        rma([0.1, 0.2, 0.3], [0.1, 0.0, 0.1])


def test_meta_regression_needs_more_studies_than_parameters() -> None:
    design = Design(np.array([[1.0, 0.0], [1.0, 1.0]]), ("intrcpt", "x"))
    with pytest.raises(InsufficientDataError):
        rma([0.1, 0.2], [0.1, 0.1], design=design)


def test_single_study_fits_like_metafor_k1() -> None:
    fit = rma([0.4], [0.04])
    assert fit.estimate == 0.4
    assert fit.tau2 == 0.0
    assert fit.QE == 0.0 and fit.QEp == 1.0
