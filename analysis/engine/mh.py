"""Mantel-Haenszel (OR, RR, RD) and Peto (OR) pooling: metafor's `rma.mh`
and `rma.peto`.

The pooled estimate uses the raw tables (metafor's second `add`/`to`/`drop00`
values: no correction); the heterogeneity test uses the escalc effects with
the first values (add=1/2 to tables with a zero cell, double-zero tables
dropped), exactly as metafor 3.8 does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

from analysis.engine.effect_sizes import continuity_corrected, escalc_binary
from analysis.engine.pooling import _level_alpha
from analysis.engine.types import AddTo, EngineError, FloatArray, TwoByTwo

MhMeasure = Literal["OR", "RR", "RD"]


@dataclass(frozen=True)
class MhFit:
    """rma.mh / rma.peto result with metafor's names.

    `beta` is on the log scale for OR/RR (as metafor reports it). CO/MH are the
    Cochran-Mantel-Haenszel tests, BD/TA the Breslow-Day and Tarone tests (OR
    only; NaN otherwise). `k` counts tables used for the estimate, `k_yi` those
    with an escalc effect (used for QE).
    """

    measure: str
    k: int
    k_yi: int
    beta: float
    se: float
    zval: float
    pval: float
    ci_lb: float
    ci_ub: float
    QE: float
    QE_df: int
    QEp: float
    I2: float
    H2: float
    CO: float = math.nan
    COp: float = math.nan
    MH: float = math.nan
    MHp: float = math.nan
    BD: float = math.nan
    BDp: float = math.nan
    TA: float = math.nan
    TAp: float = math.nan

    @property
    def estimate(self) -> float:
        """The pooled estimate (log OR/RR, or RD)."""
        return self.beta


def _heterogeneity(
    yi: FloatArray, vi: FloatArray, beta: float
) -> tuple[int, float, float, float, float]:
    ok = ~(np.isnan(yi) | np.isnan(vi))
    y, v = yi[ok], vi[ok]
    k_yi = int(y.size)
    if k_yi > 1:
        qe = max(0.0, float(np.sum((y - beta) ** 2 / v)))
        return (
            k_yi,
            qe,
            float(stats.chi2.sf(qe, k_yi - 1)),
            max(0.0, 100 * (qe - (k_yi - 1)) / qe),
            qe / (k_yi - 1),
        )
    return k_yi, 0.0, 1.0, 0.0, 1.0


def _wald(beta: float, se: float, level: float) -> tuple[float, float, float, float]:
    crit = float(stats.norm.isf(_level_alpha(level) / 2))
    z = beta / se
    return z, float(2 * stats.norm.sf(abs(z))), beta - crit * se, beta + crit * se


def rma_mh(
    tables: TwoByTwo,
    *,
    measure: MhMeasure = "OR",
    add: tuple[float, float] = (0.5, 0.0),
    to: tuple[AddTo, AddTo] = ("only0", "none"),
    drop00: tuple[bool, bool] = (True, False),
    correct: bool = True,
    level: float = 95.0,
) -> MhFit:
    """Mantel-Haenszel pooled OR/RR/RD as metafor's `rma.mh` (3.8).

    Variances: Robins-Breslow-Greenland for OR, Greenland-Robins for RR, and
    the Sato/Greenland-Robins estimator for RD. Raises EngineError when no
    table has events in both groups for OR/RR (metafor returns NA there).
    """
    es = escalc_binary(measure, tables, add=add[0], to=to[0], drop00=drop00[0])
    t, dropped = continuity_corrected(tables, add=add[1], to=to[1], drop00=drop00[1])
    use = dropped == 0
    ai, bi, ci, di = t.ai[use], t.bi[use], t.ci[use], t.di[use]
    n1, n2 = ai + bi, ci + di
    N = n1 + n2
    k = int(ai.size)
    if k < 1:
        raise EngineError("no usable 2x2 table")
    extra: dict[str, float] = {}
    if measure == "OR":
        Pi = ai / N + di / N
        Qi = bi / N + ci / N
        Ri = (ai / N) * di
        Si = (bi / N) * ci
        R, S = float(np.sum(Ri)), float(np.sum(Si))
        if R == 0 or S == 0:
            raise EngineError("Mantel-Haenszel OR is undefined: no informative table")
        beta_exp = R / S
        beta = math.log(beta_exp)
        se = math.sqrt(
            0.5
            * (
                float(np.sum(Pi * Ri)) / R**2
                + float(np.sum(Pi * Si + Qi * Ri)) / (R * S)
                + float(np.sum(Qi * Si)) / S**2
            )
        )
        extra = _or_tests(ai, n1, n2, N, bi + di, ai + ci, beta_exp, correct)
    elif measure == "RR":
        R = float(np.sum(ai * (n2 / N)))
        S = float(np.sum(ci * (n1 / N)))
        if np.sum(ai) == 0 or np.sum(ci) == 0:
            raise EngineError("Mantel-Haenszel RR is undefined: no events in a group")
        beta = math.log(R / S)
        se = math.sqrt(
            float(np.sum((n1 / N) * (n2 / N) * (ai + ci) - (ai / N) * ci)) / (R * S)
        )
    elif measure == "RD":
        denom = float(np.sum(n1 * (n2 / N)))
        beta = float(np.sum(ai * (n2 / N) - ci * (n1 / N))) / denom
        se = math.sqrt(
            (
                beta
                * float(
                    np.sum(
                        ci * (n1 / N) ** 2
                        - ai * (n2 / N) ** 2
                        + (n1 / N) * (n2 / N) * (n2 - n1) / 2
                    )
                )
                + float(np.sum(ai * (n2 - ci) / N + ci * (n1 - ai) / N)) / 2
            )
            / denom**2
        )
    else:
        raise EngineError(f"Mantel-Haenszel is not available for {measure!r}")
    zval, pval, lb, ub = _wald(beta, se, level)
    k_yi, qe, qep, i2, h2 = _heterogeneity(es.yi, es.vi, beta)
    return MhFit(
        measure=measure,
        k=k,
        k_yi=k_yi,
        beta=beta,
        se=se,
        zval=zval,
        pval=pval,
        ci_lb=lb,
        ci_ub=ub,
        QE=qe,
        QE_df=k_yi - 1,
        QEp=qep,
        I2=i2,
        H2=h2,
        **extra,
    )


def _or_tests(
    ai: FloatArray,
    n1: FloatArray,
    n2: FloatArray,
    N: FloatArray,
    yt: FloatArray,
    xt: FloatArray,
    beta_exp: float,
    correct: bool,
) -> dict[str, float]:
    """Cochran-Mantel-Haenszel, Breslow-Day and Tarone tests as in rma.mh."""
    out: dict[str, float] = {}
    cc = 0.5 if correct else 0.0
    if np.sum(xt) != 0 and np.sum(yt) != 0:
        num = (abs(float(np.sum(ai - (n1 / N) * xt))) - cc) ** 2
        out["CO"] = num / float(np.sum((n1 / N) * (n2 / N) * (xt * (yt / N))))
        out["COp"] = float(stats.chi2.sf(out["CO"], 1))
        out["MH"] = num / float(np.sum((n1 / N) * (n2 / N) * (xt * (yt / (N - 1)))))
        out["MHp"] = float(stats.chi2.sf(out["MH"], 1))
    if beta_exp == 1:
        N11 = (n1 / N) * xt
    else:
        A = beta_exp * (n1 + xt) + (n2 - xt)
        B = np.sqrt(A**2 - 4 * n1 * xt * beta_exp * (beta_exp - 1))
        N11 = (A - B) / (2 * (beta_exp - 1))
    pos = (N11 > 0) & (xt > 0) & (yt > 0)
    k_pos = int(np.sum(pos))
    N11 = N11[pos]
    N12 = n1[pos] - N11
    N21 = xt[pos] - N11
    N22 = N11 - n1[pos] - xt[pos] + N[pos]
    inv = 1 / N11 + 1 / N12 + 1 / N21 + 1 / N22
    dev = ai[pos] - N11
    bd = max(0.0, float(np.sum(dev**2 / inv ** (-1))))
    ta = max(0.0, bd - float(np.sum(dev)) ** 2 / float(np.sum(inv ** (-1))))
    out["BD"], out["TA"] = bd, ta
    if k_pos > 1:
        out["BDp"] = float(stats.chi2.sf(bd, k_pos - 1))
        out["TAp"] = float(stats.chi2.sf(ta, k_pos - 1))
    return out


def rma_peto(
    tables: TwoByTwo,
    *,
    add: tuple[float, float] = (0.5, 0.0),
    to: tuple[AddTo, AddTo] = ("only0", "none"),
    drop00: tuple[bool, bool] = (True, False),
    level: float = 95.0,
) -> MhFit:
    """Peto's one-step log odds ratio as metafor's `rma.peto` (3.8):
    Σ(O - E)/ΣV with variance 1/ΣV; QE = Σ(O - E)²/V - (Σ(O - E))²/ΣV."""
    es = escalc_binary("PETO", tables, add=add[0], to=to[0], drop00=drop00[0])
    t, dropped = continuity_corrected(tables, add=add[1], to=to[1], drop00=drop00[1])
    use = dropped == 0
    ai, bi, ci, di = t.ai[use], t.bi[use], t.ci[use], t.di[use]
    n1, n2 = ai + bi, ci + di
    N = n1 + n2
    xt, yt = ai + ci, bi + di
    Ei = xt * n1 / N
    Vi = xt * yt * (n1 / N) * (n2 / N) / (N - 1)
    sum_v = float(np.sum(Vi))
    if sum_v == 0:
        raise EngineError("Peto OR is undefined: no table has events and non-events")
    beta = float(np.sum(ai - Ei)) / sum_v
    se = math.sqrt(1 / sum_v)
    zval, pval, lb, ub = _wald(beta, se, level)
    pos = Vi > 0
    k_pos = int(np.sum(pos))
    qe = max(
        0.0,
        float(np.sum((ai[pos] - Ei[pos]) ** 2 / Vi[pos]))
        - float(np.sum(ai - Ei)) ** 2 / float(np.sum(Vi[pos])),
    )
    k_yi = int(np.sum(~np.isnan(es.yi)))
    if k_pos > 1:
        qep = float(stats.chi2.sf(qe, k_yi - 1))
        i2 = max(0.0, 100 * (qe - (k_yi - 1)) / qe)
        h2 = qe / (k_yi - 1)
    else:
        qep, i2, h2 = 1.0, 0.0, 1.0
    return MhFit(
        measure="PETO",
        k=int(ai.size),
        k_yi=k_yi,
        beta=beta,
        se=se,
        zval=zval,
        pval=pval,
        ci_lb=lb,
        ci_ub=ub,
        QE=qe,
        QE_df=k_yi - 1,
        QEp=qep,
        I2=i2,
        H2=h2,
    )
