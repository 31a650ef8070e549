"""Fixed- and random-effects models and meta-regression: metafor's `rma.uni`.

`rma()` fits y = Xβ + u + e with e ~ N(0, vi) and u ~ N(0, τ²) (τ² = 0 for the
fixed/common-effect model) by weighted least squares, estimating τ² with one
of metafor's estimators. Every number it returns is computed the way metafor
3.8 computes it, including the iteration and stopping rules of the iterative
estimators, so results agree with metafor to rounding error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import stats

from analysis.engine._rootfind import R_UNIROOT_TOL, uniroot
from analysis.engine.types import (
    FIXED_METHODS,
    ConvergenceError,
    EngineError,
    FloatArray,
    InsufficientDataError,
    Method,
    PiType,
    Test,
    as_float_array,
)

# metafor's rma.uni control defaults (threshold, maxiter, tau2.min, tol).
THRESHOLD = 1e-5
MAXITER = 100
TAU2_MIN = 0.0
DBL_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Design:
    """A model matrix with R-style column names; column 0 is the intercept
    when `intercept` is true."""

    X: FloatArray
    names: tuple[str, ...]
    intercept: bool = True

    def __post_init__(self) -> None:
        if self.X.ndim != 2 or self.X.shape[1] != len(self.names):
            raise EngineError("design matrix and column names do not match")


@dataclass(frozen=True)
class RmaFit:
    """Result of `rma()`, named as metafor names the fields of an rma.uni object.

    `zval` holds t statistics when `test` is "t", "knha" or "adhoc" (metafor
    does the same); `ddf` is then k - p. `pi_lb`/`pi_ub` are predict()'s
    prediction interval and are set for intercept-only models.
    """

    method: Method
    test: Test
    level: float
    k: int
    p: int
    coef_names: tuple[str, ...]
    beta: FloatArray
    se: FloatArray
    zval: FloatArray
    pval: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    vb: FloatArray
    ddf: int | None
    tau2: float
    se_tau2: float | None
    I2: float | None
    H2: float | None
    QE: float
    QE_df: int
    QEp: float
    QM: float
    QM_df: tuple[int, int | None]
    QMp: float
    R2: float | None
    s2w: float
    vt: float
    weights: FloatArray
    yi: FloatArray
    vi: FloatArray
    X: FloatArray
    btt: tuple[int, ...]
    intercept: bool
    int_only: bool
    iterations: int
    pi_lb: float | None
    pi_ub: float | None
    omitted: tuple[int, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def tau(self) -> float:
        """sqrt(tau2)."""
        return math.sqrt(self.tau2)

    @property
    def estimate(self) -> float:
        """The pooled estimate b (first coefficient: the intercept)."""
        return float(self.beta[0])

    @property
    def tval(self) -> FloatArray:
        """Alias of `zval` for t-based tests."""
        return self.zval

    @property
    def is_fixed(self) -> bool:
        """True for the fixed/common-effect model (tau2 fixed at 0)."""
        return self.method in FIXED_METHODS


def intercept_design(k: int) -> Design:
    """The intercept-only design (a column of ones named "intrcpt")."""
    return Design(np.ones((k, 1)), ("intrcpt",), True)


def _level_alpha(level: float) -> float:
    # metafor's .level(): 95 -> 0.05, 0.95 -> 0.05, 0.05 -> 0.05.
    if level > 1:
        return (100 - level) / 100
    if level > 0.5:
        return 1 - level
    return level


def _mad(y: FloatArray) -> float:
    med = float(np.median(y))
    return 1.4826 * float(np.median(np.abs(y - med)))


class _WLS:
    """P = W - WX(X'WX)⁻¹X'W quantities without forming the kxk matrix."""

    def __init__(self, X: FloatArray, w: FloatArray, y: FloatArray) -> None:
        self.w = w
        xtwx = X.T @ (w[:, None] * X)
        self.A: FloatArray = np.asarray(np.linalg.inv(xtwx), dtype=np.float64)
        self.beta = self.A @ (X.T @ (w * y))
        self.resid = y - X @ self.beta
        self.h = np.einsum("ij,jk,ik->i", X, self.A, X)
        self.X = X
        self.logdet = float(np.linalg.slogdet(xtwx)[1])

    def rss(self) -> float:
        """y'Py."""
        return float(np.sum(self.w * self.resid**2))

    def ypp(self) -> float:
        """y'PPy."""
        return float(np.sum((self.w * self.resid) ** 2))

    def tr_p(self) -> float:
        return float(np.sum(self.w) - np.sum(self.w**2 * self.h))

    def tr_pp(self) -> float:
        w, X, A = self.w, self.X, self.A
        M = X.T @ ((w**2)[:, None] * X)
        AM = A @ M
        return float(np.sum(w**2) - 2 * np.sum(w**3 * self.h) + np.trace(AM @ AM))


def _p_matrix(X: FloatArray, w: FloatArray) -> FloatArray:
    WX = w[:, None] * X
    A = np.linalg.inv(X.T @ WX)
    P: FloatArray = np.diag(w) - WX @ A @ WX.T
    return P


def _qe_func(tau2: float, y: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    # metafor's .QE.func: generalised Q at a given tau^2.
    return _WLS(X, 1 / (vi + tau2), y).rss()


@dataclass(frozen=True)
class _Tau2:
    tau2: float
    se_tau2: float | None
    iterations: int
    warnings: tuple[str, ...]


def _estimate_tau2(
    method: str, ymc: FloatArray, vi: FloatArray, X: FloatArray
) -> _Tau2:
    """τ² and its SE exactly as rma.uni computes them (metafor 3.8)."""
    k, p = X.shape
    warns: list[str] = []
    if k == 1:
        return _Tau2(0.0, None, 0, ())
    iterations = 0
    se: float | None
    if method == "HS":
        fe = _WLS(X, 1 / vi, ymc)
        tau2 = (fe.rss() - k) / float(np.sum(fe.w))
    elif method in ("HE", "ML", "REML", "EB"):
        ols = _WLS(X, np.ones(k), ymc)
        trpv = float(np.sum(vi) - np.sum(vi * ols.h))
        tau2 = (ols.rss() - trpv) / (k - p)
    elif method == "DL":
        fe = _WLS(X, 1 / vi, ymc)
        tau2 = (fe.rss() - (k - p)) / fe.tr_p()
    elif method == "SJ":
        # Initial value: the unweighted mean squared deviation of yi.
        tau2_0 = float(np.var(ymc, ddof=1) * (k - 1) / k)
        sj = _WLS(X, 1 / (vi + tau2_0), ymc)
        tau2 = tau2_0 * sj.rss() / (k - p)
    elif method == "PM":
        tau2 = _paule_mandel(ymc, vi, X)
    else:
        raise EngineError(f"unknown tau^2 estimator {method!r}")

    if method in ("ML", "REML", "EB"):
        tau2 = max(0.0, tau2, TAU2_MIN)
        change = THRESHOLD + 1
        while change > THRESHOLD:
            iterations += 1
            old = tau2
            fit = _WLS(X, 1 / (vi + tau2), ymc)
            if method == "ML":
                adj = (fit.ypp() - float(np.sum(fit.w))) / float(np.sum(fit.w**2))
            elif method == "REML":
                adj = (fit.ypp() - fit.tr_p()) / fit.tr_pp()
            else:
                adj = (fit.rss() * k / (k - p) - k) / float(np.sum(fit.w))
            if math.isnan(adj):
                adj = 0.0
            # metafor halves the Fisher-scoring step until tau^2 stays >= 0.
            while tau2 + adj < TAU2_MIN:
                adj /= 2
            tau2 = tau2 + adj
            change = abs(old - tau2)
            if iterations > MAXITER:
                raise ConvergenceError(
                    "Fisher scoring algorithm did not converge "
                    f"({method}, {MAXITER} iterations); try another estimator"
                )
        if method in ("ML", "REML"):
            tau2 = _ll0_check(method, tau2, ymc, vi, X, warns)

    tau2 = max(TAU2_MIN, tau2)
    t = max(tau2, 0.0)
    if method == "HS":
        fe = _WLS(X, 1 / vi, ymc)
        sw = float(np.sum(fe.w))
        se = math.sqrt(
            (2 * (k - p) + 4 * t * fe.tr_p() + 2 * t**2 * fe.tr_pp()) / sw**2
        )
    elif method == "HE":
        P = np.eye(k) - X @ np.linalg.inv(X.T @ X) @ X.T
        PV = P * vi[None, :]
        se = math.sqrt(
            (
                2 * float(np.sum(PV * PV.T))
                + 4 * t * float(np.trace(PV))
                + 2 * t**2 * (k - p)
            )
            / (k - p) ** 2
        )
    elif method == "DL":
        fe = _WLS(X, 1 / vi, ymc)
        trp = fe.tr_p()
        se = math.sqrt((2 * (k - p) + 4 * t * trp + 2 * t**2 * fe.tr_pp()) / trp**2)
    elif method == "SJ":
        tau2_0 = float(np.var(ymc, ddof=1) * (k - 1) / k)
        P = _p_matrix(X, 1 / (vi + tau2_0))
        PV = P * vi[None, :]
        se = math.sqrt(
            tau2_0**2
            / (k - p) ** 2
            * (
                2 * float(np.sum(PV * PV.T))
                + 4 * t * float(np.sum(PV * P))
                + 2 * t**2 * float(np.sum(P * P))
            )
        )
    elif method == "ML":
        w = 1 / (vi + tau2)
        se = math.sqrt(2 / float(np.sum(w**2)))
    elif method == "REML":
        se = math.sqrt(2 / _WLS(X, 1 / (vi + tau2), ymc).tr_pp())
    else:  # EB, PM
        w = 1 / (vi + tau2)
        se = math.sqrt(2 * k**2 / (k - p) / float(np.sum(w)) ** 2)
    return _Tau2(tau2, se, iterations, tuple(warns))


def _paule_mandel(ymc: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    k, p = X.shape
    target = float(k - p)
    tau2_max = max(100.0, 10 * _mad(ymc) ** 2)
    if _qe_func(TAU2_MIN, ymc, vi, X) < target:
        return TAU2_MIN
    if _qe_func(tau2_max, ymc, vi, X) > target:
        raise ConvergenceError(
            "Paule-Mandel: value of tau2.max too low; try another estimator"
        )
    res = uniroot(
        lambda t: _qe_func(t, ymc, vi, X) - target,
        TAU2_MIN,
        tau2_max,
        tol=R_UNIROOT_TOL,
        maxiter=MAXITER,
    )
    if not res.converged:
        raise ConvergenceError("Paule-Mandel: root search did not converge")
    return res.root


def _ll0_check(
    method: str,
    tau2: float,
    ymc: FloatArray,
    vi: FloatArray,
    X: FloatArray,
    warns: list[str],
) -> float:
    # metafor compares the (restricted) log-likelihood at the solution with the
    # one at tau^2 = 0 and falls back to 0 if Fisher scoring got stuck.
    k, p = X.shape

    def loglik(t: float) -> float:
        fit = _WLS(X, 1 / (vi + t), ymc)
        if method == "ML":
            return float(
                -0.5 * k * math.log(2 * math.pi)
                - 0.5 * np.sum(np.log(vi + t))
                - 0.5 * fit.rss()
            )
        return float(
            -0.5 * (k - p) * math.log(2 * math.pi)
            - 0.5 * np.sum(np.log(vi + t))
            - 0.5 * fit.logdet
            - 0.5 * fit.rss()
        )

    if loglik(0.0) - loglik(tau2) > R_UNIROOT_TOL and tau2 > THRESHOLD:
        warns.append(
            "Fisher scoring algorithm may have gotten stuck at a local maximum; "
            "tau^2 set to 0"
        )
        return 0.0
    return tau2


def rma(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    *,
    design: Design | None = None,
    method: Method = "REML",
    test: Test = "z",
    level: float = 95.0,
    btt: tuple[int, ...] | None = None,
    compute_r2: bool = True,
) -> RmaFit:
    """Fit metafor's `rma(yi, vi, mods=design, method=, test=, level=)`.

    Studies with missing yi or vi are omitted (their positions are listed in
    `omitted`), as metafor does under na.omit. `btt` gives the 0-based
    coefficients tested by QM (default: all but the intercept). Raises
    InsufficientDataError when there are fewer studies than parameters and
    ConvergenceError when an iterative estimator fails, as metafor stops.
    """
    y_all = as_float_array(yi, "yi")
    v_all = as_float_array(vi, "vi")
    if y_all.shape != v_all.shape:
        raise EngineError("yi and vi must have the same length")
    des = design if design is not None else intercept_design(y_all.size)
    if des.X.shape[0] != y_all.size:
        raise EngineError("design matrix has a different number of rows than yi")
    keep = ~(np.isnan(y_all) | np.isnan(v_all) | np.isnan(des.X).any(axis=1))
    omitted = tuple(int(i) for i in np.flatnonzero(~keep))
    y, v, X = y_all[keep], v_all[keep], des.X[keep]
    k, p = X.shape
    if k == 0:
        raise InsufficientDataError("no study has both an effect and a variance")
    bad = np.flatnonzero(v <= 0)
    if bad.size:
        studies = ", ".join(str(int(np.flatnonzero(keep)[i]) + 1) for i in bad)
        raise EngineError(f"sampling variance is not positive for study {studies}")
    fixed = method in FIXED_METHODS
    int_only = p == 1 and des.intercept
    if not (int_only and k == 1):
        needed = p if fixed else p + 1
        if needed > k:
            raise InsufficientDataError(
                f"{k} studies cannot estimate {needed} parameters ({method})"
            )
    if np.any(np.linalg.eigvalsh(X.T @ X) <= 1e-7):
        raise EngineError("model matrix not of full rank (redundant moderators)")

    ymc = y - y.mean()
    t2 = _Tau2(0.0, None, 0, ()) if fixed else _estimate_tau2(method, ymc, v, X)
    tau2 = t2.tau2

    fit = _WLS(X, 1 / (v + tau2), y)
    vb = fit.A.copy()
    s2w = 1.0
    if test in ("knha", "adhoc"):
        # Knapp-Hartung: scale vb by the weighted residual variance; "adhoc"
        # does not let it fall below 1 (metafor's test="adhoc").
        rss = fit.rss()
        s2w = 0.0 if rss <= DBL_EPS else rss / (k - p)
        if test == "adhoc":
            s2w = max(s2w, 1.0)
    vb = np.asarray(s2w * vb, dtype=np.float64)
    tests_t = test in ("t", "knha", "adhoc")
    ddf = k - p if tests_t else None

    bt = (
        btt
        if btt is not None
        else (tuple(range(1, p)) if des.intercept and p > 1 else tuple(range(p)))
    )
    b = fit.beta
    m = len(bt)
    idx = np.array(bt)
    QM = float(b[idx] @ np.linalg.solve(vb[np.ix_(idx, idx)], b[idx]))
    se = np.sqrt(np.diag(vb))
    zval = b / se
    alpha = _level_alpha(level)
    if tests_t:
        QM /= m
        df2 = k - p
        QM_df: tuple[int, int | None] = (m, df2)
        QMp = float(stats.f.sf(QM, m, df2)) if df2 > 0 else math.nan
        pval = 2 * stats.t.sf(np.abs(zval), df2) if df2 > 0 else np.full(p, np.nan)
        crit = float(stats.t.isf(alpha / 2, df2)) if df2 > 0 else math.nan
    else:
        QM_df = (m, None)
        QMp = float(stats.chi2.sf(QM, m))
        pval = 2 * stats.norm.sf(np.abs(zval))
        crit = float(stats.norm.isf(alpha / 2))
    ci_lb = b - crit * se
    ci_ub = b + crit * se

    if k > p:
        fe = _WLS(X, 1 / v, ymc)
        QE = max(0.0, fe.rss())
        QEp = float(stats.chi2.sf(QE, k - p))
        vt = (k - p) / fe.tr_p()
        if fixed:
            I2 = max(0.0, 100 * (QE - (k - p)) / QE)
            H2 = QE / (k - p)
        else:
            I2 = 100 * tau2 / (vt + tau2)
            H2 = tau2 / vt + 1
    else:
        QE, QEp, I2, H2, vt = 0.0, 1.0, 0.0, 1.0, 0.0

    R2: float | None = None
    if compute_r2 and not int_only and des.intercept:
        R2 = _pseudo_r2(y, v, X, tau2, method, test, fixed)

    w = 1 / (v + tau2)
    pi_lb: float | None = None
    pi_ub: float | None = None
    # predict.rma gives no prediction interval for fixed-effect models.
    if int_only and not fixed:
        pcrit = crit
        pi_lb = float(b[0] - pcrit * math.sqrt(vb[0, 0] + tau2))
        pi_ub = float(b[0] + pcrit * math.sqrt(vb[0, 0] + tau2))
    return RmaFit(
        method=method,
        test=test,
        level=level,
        k=k,
        p=p,
        coef_names=des.names,
        beta=b,
        se=se,
        zval=zval,
        pval=np.asarray(pval, dtype=np.float64),
        ci_lb=ci_lb,
        ci_ub=ci_ub,
        vb=vb,
        ddf=ddf,
        tau2=tau2,
        se_tau2=t2.se_tau2,
        I2=I2,
        H2=H2,
        QE=QE,
        QE_df=k - p,
        QEp=QEp,
        QM=QM,
        QM_df=QM_df,
        QMp=QMp,
        R2=R2,
        s2w=s2w,
        vt=vt,
        weights=100 * w / np.sum(w),
        yi=y,
        vi=v,
        X=X,
        btt=bt,
        intercept=des.intercept,
        int_only=int_only,
        iterations=t2.iterations,
        pi_lb=pi_lb,
        pi_ub=pi_ub,
        omitted=omitted,
        warnings=t2.warnings,
    )


def _pseudo_r2(
    y: FloatArray,
    v: FloatArray,
    X: FloatArray,
    tau2: float,
    method: Method,
    test: Test,
    fixed: bool,
) -> float | None:
    """metafor's R² (r2def "1"): proportional reduction of τ² versus the
    intercept-only model with the same estimator, truncated at 0, in percent.
    For fixed-effect models metafor reports the adjusted R² of the weighted
    least-squares regression instead."""
    k, p = X.shape
    if fixed:
        if float(np.var(y, ddof=1)) == 0.0:
            return 0.0
        w = 1 / v
        fit = _WLS(X, w, y)
        rss = fit.rss()
        mss = float(
            np.sum(w * (X @ fit.beta - np.sum(w * (X @ fit.beta)) / np.sum(w)) ** 2)
        )
        r2 = mss / (mss + rss)
        if k == p:
            # lm() has no residual df; R's adjusted R^2 is NaN here.
            return math.nan
        adj = 1 - (1 - r2) * ((k - 1) / (k - p))
        return max(0.0, 100 * float(adj))
    try:
        null = rma(y, v, method=method, test=test, compute_r2=False)
    except EngineError:
        return None
    if null.tau2 == 0:
        return 0.0
    return max(0.0, 100 * (null.tau2 - tau2) / null.tau2)


@dataclass(frozen=True)
class Prediction:
    """predict.rma output: fitted values with CI and prediction interval."""

    pred: FloatArray
    se: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    pi_lb: FloatArray
    pi_ub: FloatArray


def predict(
    fit: RmaFit,
    newmods: npt.ArrayLike | None = None,
    *,
    level: float | None = None,
    pi_type: PiType = "default",
) -> Prediction:
    """metafor's `predict(fit, newmods=...)`.

    `newmods` rows are moderator values without the intercept column (the
    intercept is added when the model has one); default: the average effect
    (intercept-only) or the fitted values. PI = pred ± crit·√(se² + τ²) with
    crit from z, or t(k - p) under t/knha tests; pi_type="riley" uses
    t(k - p - 1) as Riley et al. (and RevMan/Cochrane) do, "t" t(k - p).
    Fixed-effect models get NaN prediction bounds, as metafor gives NA.
    """
    alpha = _level_alpha(fit.level if level is None else level)
    if newmods is None:
        Xn = fit.X[:1] if fit.int_only else fit.X
    else:
        nm = np.atleast_2d(np.asarray(newmods, dtype=np.float64))
        if fit.p - int(fit.intercept) == 1 and nm.shape[0] == 1 and nm.shape[1] != 1:
            nm = nm.T
        Xn = np.column_stack([np.ones(nm.shape[0]), nm]) if fit.intercept else nm
    if Xn.shape[1] != fit.p:
        raise EngineError("newmods has the wrong number of columns")
    pred = Xn @ fit.beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", Xn, fit.vb, Xn))
    ddf = fit.k - fit.p
    if fit.test in ("t", "knha", "adhoc"):
        crit = float(stats.t.isf(alpha / 2, ddf)) if ddf > 0 else math.nan
    else:
        crit = float(stats.norm.isf(alpha / 2))
    pcrit = crit
    if pi_type == "riley":
        parms = fit.p + (0 if fit.is_fixed else 1)
        pcrit = float(stats.t.isf(alpha / 2, max(1, ddf - parms + fit.p)))
    elif pi_type == "t":
        pcrit = float(stats.t.isf(alpha / 2, max(1, ddf)))
    half = pcrit * np.sqrt(se**2 + fit.tau2)
    if fit.is_fixed:
        # metafor reports no prediction interval for fixed-effect models.
        half = np.full(pred.shape, np.nan)
    return Prediction(
        pred, se, pred - crit * se, pred + crit * se, pred - half, pred + half
    )
