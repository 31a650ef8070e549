"""Fixtures for the engine tests: the recorded metafor reference values.

The JSON is produced by `reference/make_reference.R` (metafor 3.8-1); these
tests need neither R nor a database.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

REFERENCE_DIR = Path(__file__).parent / "reference"
REFERENCE_JSON = REFERENCE_DIR / "metafor_reference.json"

# metafor agreement: closed-form results to rounding error; iterative
# estimators are replayed step for step so they agree to rounding error too.
RTOL = 1e-8
ATOL = 1e-10


@cache
def reference() -> dict[str, Any]:
    with REFERENCE_JSON.open() as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def arr(values: Any) -> np.ndarray:
    """JSON value (scalar, list or null) -> float array with NaN for null."""
    if values is None:
        return np.array([np.nan])
    a = np.atleast_1d(np.array(values, dtype=object))
    return np.array([np.nan if v is None else float(v) for v in a.ravel()]).reshape(
        a.shape
    )


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
    label: str = "",
) -> None:
    """Compare engine output with a metafor value; None/NaN must match NA."""
    act = arr(np.nan if actual is None else actual)
    exp = arr(expected)
    act = act.reshape(exp.shape) if act.size == exp.size else act
    assert act.shape == exp.shape, f"{label}: shape {act.shape} != {exp.shape}"
    np.testing.assert_allclose(
        act, exp, rtol=rtol, atol=atol, equal_nan=True, err_msg=label
    )


def case_id(case: dict[str, Any], keys: Sequence[str]) -> str:
    return "-".join(str(case.get(k)) for k in keys)


def is_na(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
