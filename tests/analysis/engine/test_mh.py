"""Mantel-Haenszel and Peto pooling against metafor's rma.mh / rma.peto."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analysis.engine import TwoByTwo, rma_mh, rma_peto
from tests.analysis.engine.conftest import assert_close, case_id, reference

CASES = reference()["mh"]
FIELDS = ("beta", "se", "zval", "pval", "ci_lb", "ci_ub", "QE", "QEp", "I2", "H2")
OR_TESTS = ("CO", "COp", "MH", "MHp", "BD", "BDp", "TA", "TAp")


@pytest.mark.parametrize(
    "case", CASES, ids=[case_id(c, ("data", "measure")) for c in CASES]
)
def test_mh_and_peto_match_metafor(case: dict[str, Any]) -> None:
    inp = case["inputs"]
    tables = TwoByTwo.from_events(
        *(np.array(inp[k], dtype=float) for k in ("ai", "n1i", "ci", "n2i"))
    )
    exp = case["result"]
    if case["measure"] == "PETO":
        fit = rma_peto(tables)
        fields: tuple[str, ...] = FIELDS
    else:
        fit = rma_mh(tables, measure=case["measure"])
        fields = FIELDS + (OR_TESTS if case["measure"] == "OR" else ())
    assert fit.k == exp["k"]
    assert fit.k_yi == exp["k_yi"]
    for name in fields:
        assert_close(getattr(fit, name), exp[name], label=name)


def test_double_zero_tables_are_left_out_of_heterogeneity_only() -> None:
    tables = TwoByTwo.from_events(
        [0, 3, 10, 4], [20, 20, 50, 30], [0, 1, 12, 8], [20, 20, 50, 30]
    )
    fit = rma_mh(tables, measure="RR")
    assert fit.k == 4
    assert fit.k_yi == 3
    assert fit.QE_df == 2
