"""The uniroot port: R's zeroin stopping rule and bracketing check."""

from __future__ import annotations

import math

import pytest

from analysis.engine._rootfind import R_UNIROOT_TOL, RootNotBracketedError, uniroot


def test_finds_root_within_r_tolerance() -> None:
    res = uniroot(lambda x: x * x - 2, 0.0, 2.0)
    assert res.converged
    assert abs(res.root - math.sqrt(2)) < R_UNIROOT_TOL


def test_tight_tolerance_gives_machine_precision() -> None:
    res = uniroot(lambda x: math.cos(x) - x, 0.0, 1.0, tol=1e-14)
    assert res.root == pytest.approx(0.7390851332151607, abs=1e-13)


def test_root_at_an_endpoint_is_returned_without_iterating() -> None:
    res = uniroot(lambda x: x, 0.0, 1.0)
    assert res.root == 0.0
    assert res.iterations == 0


def test_unbracketed_interval_is_an_error() -> None:
    with pytest.raises(RootNotBracketedError):
        uniroot(lambda x: x * x + 1, -1.0, 1.0)
