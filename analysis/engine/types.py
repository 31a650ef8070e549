"""Shared types: array aliases, option literals, errors and the input records.

Everything the engine returns is a frozen dataclass; inputs are numpy arrays or
the frozen records below. Nothing here knows about Django or the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# metafor's names. "EE" and "CE" are metafor's newer aliases of "FE".
Method = Literal["FE", "EE", "CE", "DL", "REML", "ML", "PM", "HE", "HS", "SJ", "EB"]
Test = Literal["z", "t", "knha", "adhoc"]
ContinuousMeasure = Literal["MD", "SMD", "ROM"]
BinaryMeasure = Literal["OR", "RR", "RD", "PETO"]
AddTo = Literal["all", "only0", "if0all", "none"]
PiType = Literal["default", "riley", "t"]

FIXED_METHODS: frozenset[str] = frozenset({"FE", "EE", "CE"})


class EngineError(ValueError):
    """Input or settings the engine cannot analyse; the message says why."""


class InsufficientDataError(EngineError):
    """Too few usable studies for the requested model."""


class ConvergenceError(EngineError):
    """An iterative estimator did not converge (metafor stops here too)."""


def as_float_array(values: npt.ArrayLike, name: str) -> FloatArray:
    """Return `values` as a 1-d float64 array, or raise EngineError naming it."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise EngineError(f"{name} must be one-dimensional")
    return arr


@dataclass(frozen=True)
class EffectSizes:
    """Study-level effects `yi` with sampling variances `vi` (metafor's escalc).

    NaN marks a study whose effect cannot be computed (metafor's NA), e.g. a
    double-zero table dropped with drop00=TRUE; models omit such studies.
    """

    yi: FloatArray
    vi: FloatArray
    measure: str = "GEN"

    def __post_init__(self) -> None:
        if self.yi.shape != self.vi.shape:
            raise EngineError("yi and vi must have the same length")

    @property
    def sei(self) -> FloatArray:
        """Standard errors, sqrt(vi)."""
        return np.sqrt(self.vi)

    @classmethod
    def generic(
        cls,
        yi: npt.ArrayLike,
        *,
        vi: npt.ArrayLike | None = None,
        sei: npt.ArrayLike | None = None,
        measure: str = "GEN",
    ) -> EffectSizes:
        """Wrap precomputed effects given with variances or standard errors."""
        y = as_float_array(yi, "yi")
        if vi is not None and sei is None:
            v = as_float_array(vi, "vi")
        elif sei is not None and vi is None:
            v = as_float_array(sei, "sei") ** 2
        else:
            raise EngineError("give exactly one of vi or sei")
        return cls(y, v, measure)


@dataclass(frozen=True)
class TwoByTwo:
    """Per-study 2x2 tables: events/non-events in group 1 (ai, bi) and 2 (ci, di)."""

    ai: FloatArray
    bi: FloatArray
    ci: FloatArray
    di: FloatArray

    @classmethod
    def from_events(
        cls,
        ai: npt.ArrayLike,
        n1i: npt.ArrayLike,
        ci: npt.ArrayLike,
        n2i: npt.ArrayLike,
    ) -> TwoByTwo:
        """Build tables from events and group sizes (bi = n1i - ai, di = n2i - ci)."""
        a = as_float_array(ai, "ai")
        c = as_float_array(ci, "ci")
        return cls(a, as_float_array(n1i, "n1i") - a, c, as_float_array(n2i, "n2i") - c)

    def __post_init__(self) -> None:
        arrays = (self.ai, self.bi, self.ci, self.di)
        if len({a.shape for a in arrays}) != 1:
            raise EngineError("ai, bi, ci and di must have the same length")
        for name, arr in zip(("ai", "bi", "ci", "di"), arrays, strict=True):
            bad = np.flatnonzero(arr < 0)
            if bad.size:
                raise EngineError(
                    f"{name} is negative for study {', '.join(str(i + 1) for i in bad)}"
                )


@dataclass(frozen=True)
class ContinuousArms:
    """Per-study means, SDs and sizes of group 1 (intervention) and 2 (control)."""

    m1i: FloatArray
    sd1i: FloatArray
    n1i: FloatArray
    m2i: FloatArray
    sd2i: FloatArray
    n2i: FloatArray

    def __post_init__(self) -> None:
        arrays = (self.m1i, self.sd1i, self.n1i, self.m2i, self.sd2i, self.n2i)
        if len({a.shape for a in arrays}) != 1:
            raise EngineError("all arm vectors must have the same length")
        if np.any(self.sd1i < 0) or np.any(self.sd2i < 0):
            raise EngineError("standard deviations must not be negative")
        if np.any(self.n1i <= 0) or np.any(self.n2i <= 0):
            raise EngineError("group sizes must be positive")
