"""Confidence intervals for τ², τ, I² and H² by the Q-profile method.

Same as metafor 3.8 `confint(fit)` for rma.uni models (type="QP"): the bounds
solve Q_gen(τ²) = χ²_{k-p} quantiles with R's `uniroot` (tol ≈ 1.2e-4, replayed
step for step in `_rootfind`), truncated at 0 and at max(100, 10·τ̂²).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from analysis.engine._rootfind import R_UNIROOT_TOL, RootNotBracketedError, uniroot
from analysis.engine.pooling import RmaFit, _level_alpha, _qe_func
from analysis.engine.types import EngineError


@dataclass(frozen=True)
class Interval:
    """An estimate with lower and upper confidence bounds."""

    estimate: float
    ci_lb: float
    ci_ub: float


@dataclass(frozen=True)
class HeterogeneityCI:
    """confint.rma output: Q-profile CI for τ², τ, I² (%) and H².

    `lb_sign`/`ub_sign` are metafor's "<"/">" flags for bounds stuck at the
    search limits; `ci_null` is true when the whole interval is {0}.
    """

    tau2: Interval
    tau: Interval
    I2: Interval
    H2: Interval
    lb_sign: str
    ub_sign: str
    ci_null: bool


def confint_tau2(fit: RmaFit, *, level: float | None = None) -> HeterogeneityCI:
    """Q-profile confidence intervals for the heterogeneity of a random-effects fit."""
    if fit.is_fixed:
        raise EngineError("a fixed-effect model has no tau^2 to bound")
    if fit.k == 1:
        raise EngineError("cannot bound tau^2 with a single study")
    alpha = _level_alpha(fit.level if level is None else level)
    k, p = fit.k, fit.p
    tau2_min = min(0.0, fit.tau2)
    tau2_max = max(100.0, fit.tau2 * 10, tau2_min * 10)
    crit_u = float(stats.chi2.isf(alpha / 2, k - p))
    crit_l = float(stats.chi2.ppf(alpha / 2, k - p))

    def q(t: float) -> float:
        return _qe_func(t, fit.yi, fit.vi, fit.X)

    def root(objective: float) -> float:
        try:
            res = uniroot(
                lambda t: q(t) - objective,
                tau2_min,
                tau2_max,
                tol=R_UNIROOT_TOL,
                maxiter=1000,
            )
        except RootNotBracketedError:
            return math.nan
        return res.root

    q_max, q_min = q(tau2_max), q(tau2_min)
    lb_sign = ub_sign = ""
    ci_null = False
    # Upper bound first, then lower, in metafor's order (a later branch may
    # overwrite both bounds).
    if q_min < crit_l:
        lb = ub = tau2_min
        lb_sign = ub_sign = "<"
        ci_null = tau2_min <= 0
    elif q_max > crit_l:
        lb = math.nan
        ub = tau2_max
        ub_sign = ">"
    else:
        lb = math.nan
        ub = root(crit_l)
    if q_max > crit_u:
        lb = ub = tau2_max
        lb_sign = ub_sign = ">"
    elif q_min < crit_u:
        lb = tau2_min
        if tau2_min > 0:
            lb_sign = "<"
    else:
        lb = root(crit_u)

    def i2(t: float) -> float:
        return 100 * t / (fit.vt + t)

    def h2(t: float) -> float:
        return t / fit.vt + 1

    def sqrt0(t: float) -> float:
        return math.sqrt(t) if t >= 0 else math.nan

    return HeterogeneityCI(
        tau2=Interval(fit.tau2, lb, ub),
        tau=Interval(sqrt0(fit.tau2), sqrt0(lb), sqrt0(ub)),
        I2=Interval(fit.I2 if fit.I2 is not None else math.nan, i2(lb), i2(ub)),
        H2=Interval(fit.H2 if fit.H2 is not None else math.nan, h2(lb), h2(ub)),
        lb_sign=lb_sign,
        ub_sign=ub_sign,
        ci_null=ci_null,
    )
