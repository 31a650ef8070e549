"""Brent's root finder exactly as R's `uniroot()` runs it.

metafor finds the Paule-Mandel tau^2 and the Q-profile confidence bounds with
`uniroot(..., tol = .Machine$double.eps^0.25)`, a loose tolerance (about 1.2e-4).
Its answer therefore depends on the iterates of R's `R_zeroin2` (Brent 1973,
netlib `zeroin`), not only on the root; replaying the same steps gives the same
number to machine precision instead of a value up to 1e-4 away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

EPSILON = 2.220446049250313e-16
R_UNIROOT_TOL = EPSILON**0.25


class RootNotBracketedError(ValueError):
    """The function has the same sign at both ends of the interval."""


@dataclass(frozen=True)
class RootResult:
    """A root with R's convergence report (`iter` is -1 when not converged)."""

    root: float
    iterations: int
    converged: bool


def uniroot(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    *,
    tol: float = R_UNIROOT_TOL,
    maxiter: int = 1000,
) -> RootResult:
    """Return the root R's `uniroot(f, c(lower, upper), tol=tol, maxiter=maxiter)`
    returns, step for step (same evaluations, same stopping rule)."""
    f_lower = f(lower)
    f_upper = f(upper)
    if f_lower * f_upper > 0:
        raise RootNotBracketedError("f() values at end points not of opposite sign")
    return _zeroin2(f, lower, upper, f_lower, f_upper, tol, maxiter)


def _zeroin2(
    f: Callable[[float], float],
    ax: float,
    bx: float,
    fa: float,
    fb: float,
    tol: float,
    maxiter: int,
) -> RootResult:
    a, b = ax, bx
    c, fc = a, fa
    remaining = maxiter + 1
    if fa == 0.0:
        return RootResult(a, 0, True)
    if fb == 0.0:
        return RootResult(b, 0, True)
    while remaining:
        remaining -= 1
        prev_step = b - a
        if abs(fc) < abs(fb):
            # Keep b the best approximation so far.
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return RootResult(b, maxiter + 1 - remaining - 1, True)
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                # Two distinct points: linear interpolation (secant step).
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                # Inverse quadratic interpolation.
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(
                prev_step * q / 2
            ):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return RootResult(b, -1, False)
