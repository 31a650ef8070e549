"""Tests for funnel-plot asymmetry: metafor's `regtest` (Egger-type
regression test) and `ranktest` (Begg & Mazumdar rank correlation), 3.8."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from analysis.engine.pooling import Design, RmaFit, _level_alpha, rma
from analysis.engine.types import EngineError, FloatArray, as_float_array

RegModel = Literal["rma", "lm"]
Predictor = Literal["sei", "vi"]


@dataclass(frozen=True)
class RegTest:
    """regtest() result. `zval` is the test statistic of the predictor (a t
    value for model="lm" or t-based tests, with `ddf` df); `est`, `ci_lb`,
    `ci_ub` are the limit estimate (the intercept: the effect as SE → 0)."""

    model: str
    predictor: str
    zval: float
    pval: float
    ddf: int | None
    est: float
    ci_lb: float
    ci_ub: float
    fit: RmaFit | None


def regtest(
    fit: RmaFit, *, model: RegModel = "rma", predictor: Predictor = "sei"
) -> RegTest:
    """Regression test for funnel-plot asymmetry on an intercept-only fit.

    model="rma" (metafor's default) adds sqrt(vi) (or vi) as a moderator to the
    fitted model, keeping its estimator and test; model="lm" is Egger's
    classical test: weighted least squares of yi on sei with weights 1/vi,
    whose slope equals the intercept of Egger's regression of yi/sei on 1/sei.
    """
    if not fit.int_only:
        raise EngineError("regtest here supports models without moderators only")
    x = np.sqrt(fit.vi) if predictor == "sei" else fit.vi
    X = np.column_stack([np.ones(fit.k), x])
    alpha = _level_alpha(fit.level)
    if model == "rma":
        r = rma(
            fit.yi,
            fit.vi,
            design=Design(X, ("intrcpt", predictor)),
            method=fit.method,
            test=fit.test,
            level=fit.level,
            compute_r2=False,
        )
        return RegTest(
            "rma",
            predictor,
            float(r.zval[1]),
            float(r.pval[1]),
            r.ddf,
            float(r.beta[0]),
            float(r.ci_lb[0]),
            float(r.ci_ub[0]),
            r,
        )
    w = 1 / fit.vi
    A = np.linalg.inv(X.T @ (w[:, None] * X))
    b = A @ (X.T @ (w * fit.yi))
    resid = fit.yi - X @ b
    ddf = fit.k - 2
    if ddf <= 0:
        raise EngineError("Egger's test needs at least three studies")
    sigma2 = float(np.sum(w * resid**2)) / ddf
    se = np.sqrt(np.diag(A) * sigma2)
    t = b / se
    crit = float(stats.t.isf(alpha / 2, ddf))
    return RegTest(
        "lm",
        predictor,
        float(t[1]),
        float(2 * stats.t.sf(abs(t[1]), ddf)),
        ddf,
        float(b[0]),
        float(b[0] - crit * se[0]),
        float(b[0] + crit * se[0]),
        None,
    )


@dataclass(frozen=True)
class RankTest:
    """ranktest() result: Kendall's tau and its two-sided p-value."""

    tau: float
    pval: float
    exact: bool


def ranktest(yi: npt.ArrayLike, vi: npt.ArrayLike) -> RankTest:
    """Begg & Mazumdar's rank correlation test as metafor's ranktest (3.8).

    Standardised deviations from the fixed-effect estimate are correlated with
    vi by Kendall's tau-b; the p-value is R's `cor.test(method="kendall",
    exact=TRUE)`: the exact null distribution without ties, else the normal
    approximation with tie-corrected variance and no continuity correction.
    """
    y = as_float_array(yi, "yi")
    v = as_float_array(vi, "vi")
    w = 1 / v
    theta = float(np.sum(w * y) / np.sum(w))
    vb = 1 / float(np.sum(w))
    ystar = (y - theta) / np.sqrt(v - vb)
    n = y.size
    if n < 3:
        raise EngineError("the rank correlation test needs at least three studies")
    tau = float(stats.kendalltau(ystar, v).statistic)
    ties = len(np.unique(ystar)) < n or len(np.unique(v)) < n
    if not ties:
        q = round((tau + 1) * n * (n - 1) / 4)
        cdf = _kendall_cdf(n)
        # R: 1 - pkendall(q - 1) in the upper half, pkendall(q) in the lower.
        p = 2 * (1 - cdf[q - 1]) if q > n * (n - 1) / 4 else 2 * cdf[q]
        return RankTest(tau, min(1.0, float(p)), True)
    return RankTest(tau, _kendall_normal_p(ystar, v, tau), False)


def _kendall_cdf(n: int) -> FloatArray:
    """P(T <= q), q = 0..n(n-1)/2, for the number of concordant pairs T under
    independence (Mahonian numbers / n!), as R's pkendall."""
    dist = np.array([1.0])
    for m in range(2, n + 1):
        # Adding element m shifts the inversion count by 0..m-1 uniformly.
        new = np.zeros(dist.size + m - 1)
        c = np.concatenate([[0.0], np.cumsum(dist)])
        idx = np.arange(new.size)
        hi = np.minimum(idx, dist.size - 1) + 1
        lo = np.maximum(idx - (m - 1), 0)
        new = (c[hi] - c[lo]) / m
        dist = new
    cdf: FloatArray = np.cumsum(dist)
    return cdf


def _kendall_normal_p(x: FloatArray, y: FloatArray, r: float) -> float:
    n = x.size

    def tie_counts(a: FloatArray) -> FloatArray:
        _, counts = np.unique(a, return_counts=True)
        out: FloatArray = counts[counts > 1].astype(np.float64)
        return out

    xt, yt = tie_counts(x), tie_counts(y)
    t0 = n * (n - 1) / 2
    t1 = float(np.sum(xt * (xt - 1))) / 2
    t2 = float(np.sum(yt * (yt - 1))) / 2
    s = r * math.sqrt((t0 - t1) * (t0 - t2))
    v0 = n * (n - 1) * (2 * n + 5)
    vt = float(np.sum(xt * (xt - 1) * (2 * xt + 5)))
    vu = float(np.sum(yt * (yt - 1) * (2 * yt + 5)))
    v1 = float(np.sum(xt * (xt - 1))) * float(np.sum(yt * (yt - 1)))
    v2 = float(np.sum(xt * (xt - 1) * (xt - 2))) * float(
        np.sum(yt * (yt - 1) * (yt - 2))
    )
    var_s = (
        (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
    )
    z = s / math.sqrt(var_s)
    return float(2 * min(stats.norm.cdf(z), stats.norm.sf(z)))
