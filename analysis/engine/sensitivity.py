"""Leave-one-out, trim-and-fill and influence diagnostics for `rma()` fits:
metafor's `leave1out`, `trimfill` and `influence` (3.8) for rma.uni models."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats
from scipy.stats import rankdata

from analysis.engine.pooling import Design, RmaFit, rma
from analysis.engine.types import EngineError, FloatArray, Method, Test

Side = Literal["left", "right"]
K0Estimator = Literal["L0", "R0"]


@dataclass(frozen=True)
class LeaveOneOut:
    """One row per omitted study (0-based `omitted`), as leave1out() prints it.

    Rows whose refit fails hold NaN, as metafor's NA.
    """

    omitted: tuple[int, ...]
    estimate: FloatArray
    se: FloatArray
    zval: FloatArray
    pval: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    Q: FloatArray
    Qp: FloatArray
    tau2: FloatArray
    I2: FloatArray
    H2: FloatArray


def _refit(
    fit: RmaFit, keep: np.ndarray, *, test: Test | None = None, r2: bool = False
) -> RmaFit:
    names = fit.coef_names
    design = Design(fit.X[keep], names, fit.intercept)
    return rma(
        fit.yi[keep],
        fit.vi[keep],
        design=design,
        method=fit.method,
        test=(fit.test if test is None else test),
        level=fit.level,
        compute_r2=r2,
    )


def leave1out(fit: RmaFit) -> LeaveOneOut:
    """Refit an intercept-only model k times, leaving out each study once."""
    if not fit.int_only:
        raise EngineError("leave-one-out is for models without moderators")
    k = fit.k
    cols: dict[str, FloatArray] = {
        name: np.full(k, np.nan)
        for name in (
            "estimate",
            "se",
            "zval",
            "pval",
            "ci_lb",
            "ci_ub",
            "Q",
            "Qp",
            "tau2",
            "I2",
            "H2",
        )
    }
    for i in range(k):
        keep = np.arange(k) != i
        try:
            r = _refit(fit, keep)
        except EngineError:
            continue
        cols["estimate"][i] = r.beta[0]
        cols["se"][i] = r.se[0]
        cols["zval"][i] = r.zval[0]
        cols["pval"][i] = r.pval[0]
        cols["ci_lb"][i] = r.ci_lb[0]
        cols["ci_ub"][i] = r.ci_ub[0]
        cols["Q"][i] = r.QE
        cols["Qp"][i] = r.QEp
        cols["tau2"][i] = r.tau2
        cols["I2"][i] = r.I2 if r.I2 is not None else np.nan
        cols["H2"][i] = r.H2 if r.H2 is not None else np.nan
    return LeaveOneOut(omitted=tuple(range(k)), **cols)


@dataclass(frozen=True)
class TrimFill:
    """trimfill() result: estimated number of missing studies `k0` (with SE),
    the side they were imputed on, the filled data set and the model refitted
    on it. `p_k0` is the R0 test's p-value (NaN for L0)."""

    k0: int
    se_k0: float
    side: str
    estimator: str
    p_k0: float
    yi: FloatArray
    vi: FloatArray
    filled: tuple[bool, ...]
    fit: RmaFit


def trimfill(
    fit: RmaFit,
    *,
    side: Side | None = None,
    estimator: K0Estimator = "L0",
    maxiter: int = 100,
) -> TrimFill:
    """Duval & Tweedie trim-and-fill as metafor's `trimfill.rma.uni`.

    Side (when not given): metafor regresses yi on sqrt(vi) with the model's
    estimator and imputes on the right when the slope is negative, else on
    the left. The filled model is refitted with the model's estimator but, as
    metafor 3.8 does, with the default z test and 95% level.
    """
    if not fit.int_only:
        raise EngineError("trim-and-fill is for models without moderators")
    if fit.k == 1:
        raise EngineError("trim-and-fill needs more than one study")
    yi, vi = fit.yi.copy(), fit.vi.copy()
    method: Method = fit.method
    if side is None:
        d = Design(np.column_stack([np.ones(fit.k), np.sqrt(vi)]), ("intrcpt", "sei"))
        slope = rma(yi, vi, design=d, method=method, compute_r2=False).beta[1]
        side = "right" if slope < 0 else "left"
    if side == "right":
        yi = -yi
    order = np.argsort(yi, kind="stable")
    yi, vi = yi[order], vi[order]
    k = yi.size
    k0_prev, k0, it = -1, 0, 0
    beta = math.nan
    se_k0 = math.nan
    yi_c = yi
    while abs(k0 - k0_prev) > 0:
        k0_prev = k0
        it += 1
        if it > maxiter:
            raise EngineError("trim-and-fill algorithm did not converge")
        beta = rma(yi[: k - k0], vi[: k - k0], method=method, compute_r2=False).estimate
        yi_c = yi - beta
        ranks = rankdata(np.abs(yi_c), method="ordinal")
        signed = np.sign(yi_c) * ranks
        if estimator == "R0":
            neg = -signed[signed < 0]
            if neg.size == 0:
                raise EngineError("R0 estimator undefined: no study below the estimate")
            k0_raw = (k - float(np.max(neg))) - 1
            se_k0 = math.sqrt(2 * max(0.0, k0_raw) + 2)
        else:
            sr = float(np.sum(signed[signed > 0]))
            k0_raw = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (
                k * (k + 1) * (2 * k + 1)
                + 10 * k0_raw**3
                + 27 * k0_raw**2
                + 17 * k0_raw
                - 18 * k * k0_raw**2
                - 18 * k * k0_raw
                + 6 * k**2 * k0_raw
            ) / 24
            # R's sqrt() of a negative variance is NaN (metafor warns).
            se_k0 = 4 * math.sqrt(var_sr) / (2 * k - 1) if var_sr >= 0 else math.nan
        # R's round() rounds half to even, like Python's.
        k0 = max(0, round(k0_raw))
        se_k0 = se_k0 if math.isnan(se_k0) else max(0.0, se_k0)
    p_k0 = 0.5 ** (k0 + 1) if estimator == "R0" else math.nan
    if k0 > 0:
        yi_c = -1 * (yi_c - beta) if side == "right" else yi_c - beta
        y_fill = np.concatenate([fit.yi, -1 * yi_c[k - k0 :]])
        v_fill = np.concatenate([fit.vi, vi[k - k0 :]])
        refit = rma(y_fill, v_fill, method=method)
        filled = (False,) * fit.k + (True,) * k0
    else:
        y_fill, v_fill, refit = fit.yi, fit.vi, fit
        filled = (False,) * fit.k
    return TrimFill(k0, se_k0, side, estimator, p_k0, y_fill, v_fill, filled, refit)


@dataclass(frozen=True)
class Influence:
    """influence.rma.uni diagnostics per study (rows in model order).

    `resid`/`resid_se` are the deleted residuals behind `rstudent`.
    `is_infl` flags studies metafor marks with "*".
    """

    rstudent: FloatArray
    resid: FloatArray
    resid_se: FloatArray
    dffits: FloatArray
    cook_d: FloatArray
    cov_r: FloatArray
    tau2_del: FloatArray
    QE_del: FloatArray
    hat: FloatArray
    weight: FloatArray
    dfbetas: FloatArray
    is_infl: tuple[bool, ...]


def hat_values(fit: RmaFit) -> FloatArray:
    """Diagonal of X(X'WX)⁻¹X'W with W = 1/(vi + τ²) (metafor's hatvalues)."""
    w = 1 / (fit.vi + fit.tau2)
    A = np.linalg.inv(fit.X.T @ (w[:, None] * fit.X))
    h: FloatArray = np.einsum("ij,jk,ik->i", fit.X, A, fit.X) * w
    h[h > 1 - 10 * np.finfo(np.float64).eps] = 1.0
    return h


def influence(fit: RmaFit) -> Influence:
    """Case-deletion diagnostics: externally studentised residuals, DFFITS,
    Cook's distances, covariance ratios, leave-one-out τ² and QE, hat values,
    weights and DFBETAS, computed as metafor 3.8 does (all coefficients)."""
    k, p = fit.k, fit.p
    nan = np.full(k, np.nan)
    tau2_del, qe_del, delpred, vdelpred, s2w_del = (nan.copy() for _ in range(5))
    dffits, cook_d, cov_r = nan.copy(), nan.copy(), nan.copy()
    dfbs = np.full((k, p), np.nan)
    pred_full = fit.X @ fit.beta
    svb = np.linalg.inv(fit.vb)
    hat = hat_values(fit)
    det_full = float(np.linalg.det(fit.vb))
    for i in range(k):
        keep = np.arange(k) != i
        try:
            r = _refit(fit, keep)
        except EngineError:
            continue
        xi = fit.X[i]
        tau2_del[i] = r.tau2
        qe_del[i] = r.QE
        delpred[i] = xi @ r.beta
        vdelpred[i] = xi @ r.vb @ xi
        s2w_del[i] = r.s2w
        dffits[i] = (pred_full[i] - delpred[i]) / math.sqrt(
            r.s2w * hat[i] * (r.tau2 + fit.vi[i])
        )
        w_del = 1 / (fit.vi + r.tau2)
        vb_del = np.linalg.inv(fit.X.T @ (w_del[:, None] * fit.X))
        dfb = fit.beta - r.beta
        dfbs[i] = dfb / np.sqrt(r.s2w * np.diag(vb_del))
        cook_d[i] = float(dfb @ svb @ dfb)
        cov_r[i] = float(np.linalg.det(r.vb)) / det_full
    resid = fit.yi - delpred
    resid[np.abs(resid) < 100 * np.finfo(np.float64).eps] = 0.0
    resid_se = np.sqrt(fit.vi * s2w_del + vdelpred + tau2_del * s2w_del)
    w = 1 / (fit.vi + fit.tau2)
    weight = 100 * w / np.sum(w)
    with np.errstate(invalid="ignore"):
        infl = (
            (
                np.abs(dffits) > 3 * math.sqrt(p / (k - p))
                if k > p
                else np.zeros(k, bool)
            )
            | (stats.chi2.cdf(cook_d, p) > 0.5)
            | (hat > 3 * p / k)
            | np.any(np.abs(dfbs) > 1, axis=1)
        )
    return Influence(
        rstudent=resid / resid_se,
        resid=resid,
        resid_se=resid_se,
        dffits=dffits,
        cook_d=cook_d,
        cov_r=cov_r,
        tau2_del=tau2_del,
        QE_del=qe_del,
        hat=hat,
        weight=weight,
        dfbetas=dfbs,
        is_infl=tuple(bool(x) for x in infl),
    )
