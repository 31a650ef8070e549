"""Subgroup analyses and the test for subgroup differences.

Two ways, as in metafor's documentation ("subgroup analysis" tips):

* separate τ² per subgroup: fit each subgroup on its own, then test the
  subgroup estimates with a fixed-effect meta-regression on the subgroup
  factor, `rma(b_g, sei = se_g, mods = ~ group, method = "FE")`; its QM is
  Q_between = Σ W_g (μ_g - μ̄)² with W_g = 1/SE_g² and G - 1 df;
* common τ²: one meta-regression on the subgroup factor,
  `rma(yi, vi, mods = ~ group, method, test)`; Q_between is its QM (an F
  statistic under Knapp-Hartung). Subgroup estimates come from the same model
  without an intercept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from analysis.engine.metareg import Categorical, design_matrix
from analysis.engine.pooling import RmaFit, rma
from analysis.engine.types import EngineError, Method, Test, as_float_array

Tau2Mode = Literal["separate", "common"]


@dataclass(frozen=True)
class SubgroupEstimate:
    """One subgroup's pooled estimate."""

    group: str
    k: int
    estimate: float
    se: float
    ci_lb: float
    ci_ub: float
    pval: float
    tau2: float
    I2: float | None
    QE: float
    QEp: float
    fit: RmaFit | None


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Per-subgroup estimates and the test for subgroup differences.

    `Q_between` is χ² (df `Q_df[0]`) or, for common τ² under t/knha tests,
    an F statistic with df `Q_df`.
    """

    tau2_mode: str
    groups: tuple[SubgroupEstimate, ...]
    Q_between: float
    Q_df: tuple[int, int | None]
    Q_pval: float
    test_fit: RmaFit


def subgroup_analysis(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    groups: Sequence[str],
    *,
    method: Method = "REML",
    test: Test = "z",
    level: float = 95.0,
    tau2: Tau2Mode = "separate",
    levels: tuple[str, ...] | None = None,
) -> SubgroupAnalysis:
    """Pool each subgroup and test whether the subgroup effects differ."""
    y = as_float_array(yi, "yi")
    v = as_float_array(vi, "vi")
    if len(groups) != y.size:
        raise EngineError("one subgroup label per study is required")
    factor = Categorical("group", tuple(groups), levels=levels)
    order = factor.ordered_levels()
    if len(order) < 2:
        raise EngineError("a subgroup analysis needs at least two subgroups")
    labels = np.array(groups, dtype=object)
    if tau2 == "separate":
        estimates = []
        for g in order:
            mask = labels == g
            fit = rma(y[mask], v[mask], method=method, test=test, level=level)
            estimates.append(_estimate(g, fit))
        b = np.array([e.estimate for e in estimates])
        se = np.array([e.se for e in estimates])
        between = rma(
            b,
            se**2,
            design=design_matrix([Categorical("group", order, levels=order)]),
            method="FE",
            level=level,
        )
        return SubgroupAnalysis(
            "separate",
            tuple(estimates),
            between.QM,
            between.QM_df,
            between.QMp,
            between,
        )
    if tau2 != "common":
        raise EngineError(f"unknown tau2 mode {tau2!r}")
    with_int = rma(
        y,
        v,
        design=design_matrix([factor], k=y.size),
        method=method,
        test=test,
        level=level,
    )
    no_int = rma(
        y,
        v,
        design=design_matrix([factor], k=y.size, intercept=False),
        method=method,
        test=test,
        level=level,
    )
    estimates = []
    for j, g in enumerate(order):
        estimates.append(
            SubgroupEstimate(
                group=g,
                k=int(np.sum(labels == g)),
                estimate=float(no_int.beta[j]),
                se=float(no_int.se[j]),
                ci_lb=float(no_int.ci_lb[j]),
                ci_ub=float(no_int.ci_ub[j]),
                pval=float(no_int.pval[j]),
                tau2=no_int.tau2,
                I2=None,
                QE=no_int.QE,
                QEp=no_int.QEp,
                fit=None,
            )
        )
    return SubgroupAnalysis(
        "common", tuple(estimates), with_int.QM, with_int.QM_df, with_int.QMp, with_int
    )


def _estimate(group: str, fit: RmaFit) -> SubgroupEstimate:
    return SubgroupEstimate(
        group=group,
        k=fit.k,
        estimate=fit.estimate,
        se=float(fit.se[0]),
        ci_lb=float(fit.ci_lb[0]),
        ci_ub=float(fit.ci_ub[0]),
        pval=float(fit.pval[0]),
        tau2=fit.tau2,
        I2=fit.I2,
        QE=fit.QE,
        QEp=fit.QEp,
        fit=fit,
    )
