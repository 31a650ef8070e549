"""Pure-Python meta-analysis engine that reproduces R's metafor (3.8).

Imports only numpy and scipy: no Django, no project modules. Inputs are numpy
arrays or frozen records; results are frozen dataclasses named as metafor
names them (estimate/beta, se, zval, pval, ci_lb, ci_ub, tau2, I2, H2, QE...).
"""

from analysis.engine.effect_sizes import (
    continuity_corrected,
    escalc_binary,
    escalc_continuous,
    hedges_correction,
)
from analysis.engine.heterogeneity import HeterogeneityCI, Interval, confint_tau2
from analysis.engine.metareg import (
    Categorical,
    Continuous,
    design_matrix,
    meta_regression,
)
from analysis.engine.mh import MhFit, rma_mh, rma_peto
from analysis.engine.pooling import Design, Prediction, RmaFit, predict, rma
from analysis.engine.sensitivity import (
    Influence,
    LeaveOneOut,
    TrimFill,
    hat_values,
    influence,
    leave1out,
    trimfill,
)
from analysis.engine.small_study import RankTest, RegTest, ranktest, regtest
from analysis.engine.subgroups import (
    SubgroupAnalysis,
    SubgroupEstimate,
    subgroup_analysis,
)
from analysis.engine.types import (
    ContinuousArms,
    ConvergenceError,
    EffectSizes,
    EngineError,
    InsufficientDataError,
    TwoByTwo,
)

__all__ = [
    "Categorical",
    "Continuous",
    "ContinuousArms",
    "ConvergenceError",
    "Design",
    "EffectSizes",
    "EngineError",
    "HeterogeneityCI",
    "Influence",
    "InsufficientDataError",
    "Interval",
    "LeaveOneOut",
    "MhFit",
    "Prediction",
    "RankTest",
    "RegTest",
    "RmaFit",
    "SubgroupAnalysis",
    "SubgroupEstimate",
    "TrimFill",
    "TwoByTwo",
    "confint_tau2",
    "continuity_corrected",
    "design_matrix",
    "escalc_binary",
    "escalc_continuous",
    "hat_values",
    "hedges_correction",
    "influence",
    "leave1out",
    "meta_regression",
    "predict",
    "ranktest",
    "regtest",
    "rma",
    "rma_mh",
    "rma_peto",
    "subgroup_analysis",
    "trimfill",
]
