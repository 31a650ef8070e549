"""Live cross-check: regenerate the reference with R's metafor and compare.

Runs `reference/make_reference.R` when `Rscript` (with metafor and jsonlite)
is on PATH, then checks that (1) the engine matches the fresh metafor output
for every model case and (2) the stored JSON the offline tests use is still
what the script produces. Skipped cleanly without R.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import numpy as np
import pytest

from analysis.engine import confint_tau2, meta_regression, rma
from tests.analysis.engine.conftest import REFERENCE_DIR, assert_close, reference
from tests.analysis.engine.test_metareg import _moderators
from tests.analysis.engine.test_pooling import check_fit

RSCRIPT = shutil.which("Rscript")

pytestmark = pytest.mark.skipif(RSCRIPT is None, reason="Rscript is not installed")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    assert RSCRIPT is not None
    probe = subprocess.run(
        [RSCRIPT, "-e", "library(metafor); library(jsonlite)"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip("R is installed but metafor/jsonlite are not")
    out = tmp_path_factory.mktemp("metafor") / "reference.json"
    subprocess.run(
        [RSCRIPT, str(REFERENCE_DIR / "make_reference.R"), str(out)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def test_engine_matches_live_metafor_models(fresh: dict[str, Any]) -> None:
    for case in fresh["rma"]:
        d = fresh["datasets"][case["data"]]
        fit = rma(d["yi"], d["vi"], method=case["method"], test=case["test"])
        check_fit(fit, case["result"])
    for case in fresh["metareg"]:
        fit = meta_regression(
            case["yi"],
            case["vi"],
            _moderators(case),
            method=case["method"],
            test=case["test"],
        )
        check_fit(fit, case["result"])


def test_engine_matches_live_metafor_bcg_confint(fresh: dict[str, Any]) -> None:
    case = next(
        c
        for c in fresh["rma"]
        if c["data"] == "bcg_logrr" and c["method"] == "REML" and c["test"] == "knha"
    )
    d = fresh["datasets"]["bcg_logrr"]
    ci = confint_tau2(rma(d["yi"], d["vi"], test="knha"))
    assert_close(
        [ci.tau2.estimate, ci.tau2.ci_lb, ci.tau2.ci_ub],
        case["result"]["confint"]["tau2"],
    )


def _compare(stored: Any, live: Any, path: str) -> None:
    if isinstance(stored, dict):
        assert isinstance(live, dict) and stored.keys() == live.keys(), path
        for key in stored:
            _compare(stored[key], live[key], f"{path}.{key}")
    elif isinstance(stored, list) and stored and isinstance(stored[0], dict):
        assert isinstance(live, list) and len(stored) == len(live), path
        for i, (a, b) in enumerate(zip(stored, live, strict=True)):
            _compare(a, b, f"{path}[{i}]")
    elif isinstance(stored, str) or (
        isinstance(stored, list) and stored and isinstance(stored[0], str)
    ):
        assert stored == live, path
    elif stored is None or isinstance(stored, int | float | bool | list):
        a = np.array(stored if stored is not None else np.nan, dtype=object)
        b = np.array(live if live is not None else np.nan, dtype=object)
        assert a.shape == b.shape, path
        fa = np.array([np.nan if x is None else float(x) for x in a.ravel()])
        fb = np.array([np.nan if x is None else float(x) for x in b.ravel()])
        np.testing.assert_allclose(
            fa, fb, rtol=1e-12, atol=1e-14, equal_nan=True, err_msg=path
        )


def test_stored_reference_is_what_the_script_produces(fresh: dict[str, Any]) -> None:
    stored = reference()
    assert stored["metafor_version"] == fresh["metafor_version"]
    _compare(stored, fresh, "reference")
