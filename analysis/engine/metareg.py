"""Moderator design matrices (R treatment contrasts) and meta-regression.

`design_matrix` builds what R's `model.matrix(~ x1 + factor(x2))` builds for
metafor: an intercept, continuous moderators as given, and each categorical
moderator as 0/1 dummies for every level except the reference (the first
level). Column names follow R: the variable name, plus the level for dummies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.engine.pooling import Design, RmaFit, rma
from analysis.engine.types import EngineError, Method, Test, as_float_array


@dataclass(frozen=True)
class Continuous:
    """A numeric moderator (e.g. start day, sessions per week)."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Categorical:
    """A factor moderator. `levels` fixes the level order (default: sorted
    values, numbers numerically); `reference` picks the baseline level
    (default: the first level, as R's factor() + treatment contrasts)."""

    name: str
    values: tuple[str, ...]
    levels: tuple[str, ...] | None = None
    reference: str | None = None

    def ordered_levels(self) -> tuple[str, ...]:
        """Levels with the reference first, as R's relevel() orders them."""
        present = set(self.values)
        if self.levels is not None:
            missing = present - set(self.levels)
            if missing:
                raise EngineError(
                    f"moderator {self.name!r} has values outside its levels: "
                    f"{', '.join(sorted(missing))}"
                )
            # R drops unused levels only with droplevels(); metafor then drops
            # the all-zero column as redundant, so unused levels are removed.
            levels = tuple(lv for lv in self.levels if lv in present)
        else:
            levels = tuple(sorted(present, key=_level_key))
        if self.reference is not None:
            if self.reference not in levels:
                raise EngineError(
                    f"reference level {self.reference!r} does not occur in "
                    f"moderator {self.name!r}"
                )
            levels = (self.reference, *(lv for lv in levels if lv != self.reference))
        return levels


def _level_key(value: str) -> tuple[int, float, str]:
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


Moderator = Continuous | Categorical


def design_matrix(
    moderators: Sequence[Moderator], *, k: int | None = None, intercept: bool = True
) -> Design:
    """Build the model matrix for `moderators`.

    Guarantees R's treatment coding (one dummy per non-reference level) and
    raises EngineError for a categorical moderator with a single level, since
    its effect cannot be estimated (metafor would drop it as redundant).
    Without an intercept the first factor gets a column for every level
    (R's `~ factor(x) - 1`).
    """
    n = k if k is not None else (len(moderators[0].values) if moderators else 0)
    cols: list[npt.NDArray[np.float64]] = []
    names: list[str] = []
    if intercept:
        cols.append(np.ones(n))
        names.append("intrcpt")
    full_coding = not intercept
    for mod in moderators:
        if len(mod.values) != n:
            raise EngineError(
                f"moderator {mod.name!r} has {len(mod.values)} values, expected {n}"
            )
        if isinstance(mod, Continuous):
            cols.append(as_float_array(mod.values, mod.name))
            names.append(mod.name)
            continue
        levels = mod.ordered_levels()
        if len(levels) < 2 and not full_coding:
            only = levels[0] if levels else "none"
            raise EngineError(
                f"moderator {mod.name!r} has a single level ({only}); "
                "it cannot explain heterogeneity"
            )
        values = np.array(mod.values, dtype=object)
        used = levels if full_coding else levels[1:]
        for lv in used:
            cols.append((values == lv).astype(np.float64))
            names.append(f"{mod.name}{lv}")
        full_coding = False
    X = np.column_stack(cols) if cols else np.empty((n, 0))
    return Design(X, tuple(names), intercept)


def meta_regression(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    moderators: Sequence[Moderator],
    *,
    method: Method = "REML",
    test: Test = "z",
    level: float = 95.0,
) -> RmaFit:
    """Mixed-effects meta-regression: `rma(yi, vi, mods = ~ moderators, ...)`.

    The fit carries coefficients (beta, se, zval/tval, pval, ci), the omnibus
    QM test of all moderators (an F test under knha), residual heterogeneity
    (QE, tau2, I2, H2) and metafor's pseudo-R² in percent.
    """
    y = as_float_array(yi, "yi")
    design = design_matrix(moderators, k=y.size)
    return rma(y, vi, design=design, method=method, test=test, level=level)
