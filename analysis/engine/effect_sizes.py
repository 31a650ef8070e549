"""Study-level effect sizes with metafor's `escalc()` semantics and names.

Group 1 is the intervention and group 2 the control, so positive MD/SMD/log
ratios favour group 1 when higher is better. Ratio measures (OR, RR, ROM) are
on the log scale, as metafor returns them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.special import gammaln

from analysis.engine.types import (
    AddTo,
    BinaryMeasure,
    ContinuousArms,
    ContinuousMeasure,
    EffectSizes,
    EngineError,
    FloatArray,
    TwoByTwo,
)

SmdVtype = Literal["LS", "UB", "LS2", "AV"]
MdVtype = Literal["LS", "UB", "HO"]
RomVtype = Literal["LS", "HO", "AV", "AVHO"]
RdVtype = Literal["LS", "UB", "AV"]


def hedges_correction(mi: FloatArray) -> FloatArray:
    """Exact small-sample factor J(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2)).

    Matches metafor's `.cmicalc` (NaN where m <= 1); computed on the log scale
    so large m does not overflow the gamma function.
    """
    m = np.asarray(mi, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))
    return np.where(m <= 1, np.nan, out)


def escalc_continuous(
    measure: ContinuousMeasure,
    arms: ContinuousArms,
    *,
    vtype: str = "LS",
) -> EffectSizes:
    """Mean difference, Hedges' g or log ratio of means per study.

    Guarantees the same yi/vi as `escalc(measure, m1i, sd1i, n1i, m2i, sd2i,
    n2i, vtype=vtype)` in metafor 3.8 for MD (LS/UB/HO), SMD (LS/UB/LS2/AV) and
    ROM (LS/HO/AV/AVHO).
    """
    m1, sd1, n1 = arms.m1i, arms.sd1i, arms.n1i
    m2, sd2, n2 = arms.m2i, arms.sd2i, arms.n2i
    ni = n1 + n2
    mi = ni - 2
    sdpi = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / mi)
    if measure == "MD":
        yi = m1 - m2
        if vtype in ("LS", "UB"):
            vi = sd1**2 / n1 + sd2**2 / n2
        elif vtype == "HO":
            vi = sdpi**2 * (1 / n1 + 1 / n2)
        else:
            raise EngineError(f"vtype {vtype!r} is not available for MD")
    elif measure == "SMD":
        cmi = hedges_correction(mi)
        di = (m1 - m2) / sdpi
        yi = cmi * di
        if vtype == "LS":
            # metafor's default large-sample variance, using g (not d).
            vi = 1 / n1 + 1 / n2 + yi**2 / (2 * ni)
        elif vtype == "UB":
            vi = 1 / n1 + 1 / n2 + (1 - (mi - 2) / (mi * cmi**2)) * yi**2
        elif vtype == "LS2":
            vi = cmi**2 * (1 / n1 + 1 / n2 + di**2 / (2 * ni))
        elif vtype == "AV":
            ok = ~np.isnan(yi)
            mnwyi = np.sum(yi[ok] * ni[ok]) / np.sum(ni[ok])
            vi = 1 / n1 + 1 / n2 + mnwyi**2 / (2 * ni)
        else:
            raise EngineError(f"vtype {vtype!r} is not available for SMD")
    elif measure == "ROM":
        with np.errstate(invalid="ignore", divide="ignore"):
            yi = np.log(m1 / m2)
        if vtype == "LS":
            vi = sd1**2 / (n1 * m1**2) + sd2**2 / (n2 * m2**2)
        elif vtype == "HO":
            vi = sdpi**2 / (n1 * m1**2) + sdpi**2 / (n2 * m2**2)
        elif vtype in ("AV", "AVHO"):
            cv1, cv2 = sd1 / m1, sd2 / m2
            if vtype == "AV":
                mn1 = np.sum(n1 * cv1) / np.sum(n1)
                mn2 = np.sum(n2 * cv2) / np.sum(n2)
                vi = mn1**2 / n1 + mn2**2 / n2
            else:
                mn = (np.sum(n1 * cv1) + np.sum(n2 * cv2)) / np.sum(n1 + n2)
                vi = mn**2 * (1 / n1 + 1 / n2)
        else:
            raise EngineError(f"vtype {vtype!r} is not available for ROM")
    else:
        raise EngineError(f"unknown continuous measure {measure!r}")
    return EffectSizes(np.asarray(yi, dtype=np.float64), vi.astype(np.float64), measure)


def continuity_corrected(
    tables: TwoByTwo, *, add: float, to: AddTo, drop00: bool
) -> tuple[TwoByTwo, FloatArray]:
    """Apply metafor's zero-cell rules; return the tables and a drop mask.

    to="only0" adds `add` to every cell of tables with a zero cell, "all" to
    every table, "if0all" to every table when any has a zero cell, "none"
    never. With drop00, tables with no events (or no non-events) in both
    groups are marked dropped (metafor sets them to NA before correcting).
    """
    ai, bi, ci, di = (x.copy() for x in (tables.ai, tables.bi, tables.ci, tables.di))
    dropped = np.zeros(ai.shape, dtype=bool)
    if drop00:
        dropped = ((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0))
    has0 = ((ai == 0) | (bi == 0) | (ci == 0) | (di == 0)) & ~dropped
    if to == "all":
        mask = np.ones(ai.shape, dtype=bool)
    elif to == "only0":
        mask = has0
    elif to == "if0all":
        mask = np.full(ai.shape, bool(np.any(has0)))
    elif to == "none":
        mask = np.zeros(ai.shape, dtype=bool)
    else:
        raise EngineError(f"unknown continuity-correction rule to={to!r}")
    for arr in (ai, bi, ci, di):
        arr[mask] += add
    return TwoByTwo(ai, bi, ci, di), dropped.astype(np.float64)


def escalc_binary(
    measure: BinaryMeasure,
    tables: TwoByTwo,
    *,
    add: float = 0.5,
    to: AddTo = "only0",
    drop00: bool = False,
    vtype: RdVtype = "LS",
) -> EffectSizes:
    """Log odds ratio, log risk ratio, risk difference or Peto log OR per study.

    Same yi/vi as metafor 3.8 `escalc()` with the same add/to/drop00 (defaults
    add=1/2, to="only0", drop00=FALSE); note metafor also corrects zero cells
    for RD. Dropped tables get NaN.
    """
    t, dropped = continuity_corrected(tables, add=add, to=to, drop00=drop00)
    ai, bi, ci, di = t.ai, t.bi, t.ci, t.di
    n1, n2 = ai + bi, ci + di
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = ai / n1, ci / n2
        if measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / ai - 1 / n1 + 1 / ci - 1 / n2
        elif measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / ai + 1 / bi + 1 / ci + 1 / di
        elif measure == "RD":
            yi = p1 - p2
            if vtype == "LS":
                vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
            elif vtype == "UB":
                vi = p1 * (1 - p1) / (n1 - 1) + p2 * (1 - p2) / (n2 - 1)
            elif vtype == "AV":
                ok = dropped == 0
                mp1 = np.sum(p1[ok] * n1[ok]) / np.sum(n1[ok])
                mp2 = np.sum(p2[ok] * n2[ok]) / np.sum(n2[ok])
                vi = mp1 * (1 - mp1) / n1 + mp2 * (1 - mp2) / n2
            else:
                raise EngineError(f"vtype {vtype!r} is not available for RD")
        elif measure == "PETO":
            ni = n1 + n2
            xt, yt = ai + ci, bi + di
            ei = xt * n1 / ni
            var = xt * yt * (n1 / ni) * (n2 / ni) / (ni - 1)
            yi = (ai - ei) / var
            vi = 1 / var
        else:
            raise EngineError(f"unknown binary measure {measure!r}")
    yi = np.where(dropped == 1, np.nan, yi)
    vi = np.where(dropped == 1, np.nan, vi)
    # Non-finite values (e.g. a Peto table without events) are NA in metafor.
    bad = ~np.isfinite(yi) | ~np.isfinite(vi)
    yi = np.where(bad, np.nan, yi)
    vi = np.where(bad, np.nan, vi)
    return EffectSizes(yi.astype(np.float64), vi.astype(np.float64), measure)
