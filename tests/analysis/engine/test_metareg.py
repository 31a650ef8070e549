"""Meta-regression: design matrices as R's model.matrix, fits as metafor."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analysis.engine import (
    Categorical,
    Continuous,
    EngineError,
    design_matrix,
    meta_regression,
    rma,
)
from analysis.engine.metareg import Moderator
from tests.analysis.engine.conftest import assert_close, case_id, reference
from tests.analysis.engine.test_pooling import check_fit

CASES = reference()["metareg"]


def _moderators(case: dict[str, Any]) -> list[Moderator]:
    mods: list[Moderator] = []
    order = case["order"]
    # jsonlite unboxes a one-element vector to a plain string.
    for name in [order] if isinstance(order, str) else order:
        if name in (case["continuous"] or {}):
            mods.append(
                Continuous(name, tuple(float(x) for x in case["continuous"][name]))
            )
        else:
            mods.append(Categorical(name, tuple(case["categorical"][name])))
    return mods


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=[case_id(c, ("data", "formula", "method", "test")) for c in CASES],
)
def test_meta_regression_matches_metafor(case: dict[str, Any]) -> None:
    mods = _moderators(case)
    design = design_matrix(mods, k=len(case["yi"]))
    exp = case["result"]
    assert list(design.names) == exp["names"]
    assert_close(design.X, exp["X"], label="X")
    fit = meta_regression(
        case["yi"], case["vi"], mods, method=case["method"], test=case["test"]
    )
    check_fit(fit, exp)


def test_reference_level_can_be_chosen() -> None:
    mod = Categorical(
        "alloc", ("random", "systematic", "random", "alternate"), reference="random"
    )
    design = design_matrix([mod])
    assert design.names == ("intrcpt", "allocalternate", "allocsystematic")
    np.testing.assert_array_equal(design.X[:, 1], [0, 0, 0, 1])


def test_numeric_levels_sort_numerically() -> None:
    mod = Categorical("freq", ("10", "5", "7", "5"))
    assert mod.ordered_levels() == ("5", "7", "10")


def test_single_level_moderator_is_a_clear_error() -> None:
    with pytest.raises(EngineError, match="single level"):
        design_matrix([Categorical("species", ("rat", "rat", "rat"))])


def test_redundant_moderators_are_rejected() -> None:
    x = (1.0, 2.0, 3.0, 4.0, 5.0)
    mods = [Continuous("a", x), Continuous("b", tuple(2 * v for v in x))]
    with pytest.raises(EngineError, match="full rank"):
        meta_regression([0.1, 0.2, 0.3, 0.2, 0.5], [0.1] * 5, mods)


def test_r2_is_zero_when_intercept_only_tau2_is_zero() -> None:
    # Homogeneous data: tau^2 of the null model is 0, so metafor reports R^2 = 0.
    yi = [0.1, 0.12, 0.11, 0.09, 0.1, 0.1]
    assert rma(yi, [0.1] * 6).tau2 == 0
    fit = meta_regression(yi, [0.1] * 6, [Continuous("x", (1, 2, 3, 4, 5, 6))])
    assert fit.R2 == 0.0
