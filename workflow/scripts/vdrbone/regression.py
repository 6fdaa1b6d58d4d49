"""Covariate-adjusted genetic models, Firth fallback and SNP x modifier interaction tests.

What SNPassoc ``association()`` and PLINK ``--logistic`` / ``--linear`` / ``--glm`` report, on
numpy arrays:

- :func:`genetic_models`: the five SNPassoc genetic models (codominant, dominant, recessive,
  overdominant, log-additive; one ``carrier`` model for haploid mtDNA), each fitted with the
  covariates; p-value from the likelihood-ratio test (logistic) or F test (linear) against the
  covariate-only model on the same complete-case samples; Wald 95% CI (R ``confint.default``);
  AIC as R ``AIC()``. Under separation: Firth fit, penalised LRT and profile penalised-likelihood
  CI (as R ``logistf``), the Wald values kept beside them.
- :func:`interaction_test`: log-additive SNP x modifier (T2DM or sex) interaction.
- :func:`snp_interaction_test`: SNP x SNP interaction (SNPassoc ``interactionPval``).
- :func:`conditional_test`: log-additive model of one SNP adjusted for conditioning SNPs (PLINK
  ``--condition``).
- Kernels :func:`fit_logistic` (IRLS / Newton-Raphson with step halving), :func:`fit_firth`
  (Firth 1993 penalised likelihood, Heinze & Schemper 2002) and :func:`fit_linear` (OLS via QR).

Vocabulary of the returned :class:`~vdrbone.results.TestResult` rows

``model``: ``codominant`` | ``dominant`` | ``recessive`` | ``overdominant`` | ``additive`` |
``carrier`` | ``interaction_t2dm`` | ``interaction_sex``. ``term``: ``het`` (heterozygote vs
reference homozygote; overdominant: vs both homozygotes), ``hom_alt`` (effect-allele homozygote vs
reference homozygote; recessive: vs the other two), ``carrier`` (one or two effect alleles vs none;
mtDNA: carrier of the non-reference allele), ``per_allele`` (per effect allele, or per unit of DS
dosage), ``per_allele_x_t2dm`` / ``per_allele_x_sex``. ``estimate_type``: ``OR`` (logistic; the
standard error is that of log OR; Wald, also for Firth rows) or ``beta`` (linear). ``statistic``:
the LR chi-square (logistic), F (linear) or penalised LR chi-square (Firth), with ``df`` the number
of genetic terms tested. CI: Wald (logistic, linear) or profile penalised likelihood (Firth).
``wald_p_value``, ``wald_ci_lower``, ``wald_ci_upper`` (logistic and Firth rows; NaN for linear):
the Wald chi-square p of the tested term(s) (2 df for the codominant pair) and the Wald 95% CI.
``method``: ``logistic, LRT`` | ``logistic (Firth), penalised LRT; profile penalised-likelihood
CI`` | ``linear, F test``, followed for ``additive`` by ``; per_allele = effect-allele count`` or
``; per_allele = DS dosage``.
``note``: empty, ``firth-fallback: ...``, or the reason why nothing was estimated (then the numbers
are NaN): ``too few samples (n=.. < ..)``, ``no cases``, ``no controls``, ``too few cases
(n_cases=.. < ..)``, ``too few controls (...)``, ``monomorphic in this stratum``, ``genotype class
absent (...)``, ``singular design (covariate collinear...)``, ``Firth regression did not converge``;
a Firth row whose restricted fit failed adds ``penalised LRT: restricted fit did not converge``
(p NaN) or ``profile CI: restricted fit did not converge`` (that limit NaN).
``extra``: ``df_residual`` (linear rows).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg, special

from vdrbone.results import TestResult

__all__ = [
    "CovariateDesign",
    "chi2_ppf",
    "chi2_sf",
    "f_sf",
    "RegressionFit",
    "covariate_design",
    "fit_logistic",
    "fit_firth",
    "fit_linear",
    "conditional_test",
    "penalised_lrt",
    "profile_limits",
    "genetic_models",
    "interaction_test",
    "snp_interaction_test",
]

Z95 = float(special.ndtri(0.975))  # scipy.stats.norm.ppf(0.975): ndtri is its kernel
# Quasi-complete separation is assumed when a genetic coefficient or its SE grows beyond these.
MAX_ABS_BETA = 15.0
MAX_SE = 10.0
# A column whose QR diagonal is below this fraction of its norm is a linear combination of earlier
# columns (R's lm uses the same relative tolerance, 1e-7).
RANK_TOL = 1e-7
# Largest Newton step (any coefficient) at which a warm-started logistic fit counts as converged.
WARM_STEP_TOL = 1e-7

CLASS_ABSENT = {
    0: "genotype class absent (no reference homozygotes)",
    1: "genotype class absent (no heterozygotes)",
    2: "genotype class absent (no effect-allele homozygotes)",
}


def chi2_sf(stat: float, df: float) -> float:
    """Upper tail of the chi-square distribution, as ``scipy.stats.chi2.sf(stat, df)``: its kernel
    ``scipy.special.chdtrc`` (1 for ``stat <= 0``, NaN for NaN), without importing scipy.stats."""
    return 1.0 if stat < 0 else float(special.chdtrc(df, stat))


def chi2_ppf(q: float, df: float) -> float:
    """Chi-square quantile, as ``scipy.stats.chi2.ppf(q, df)`` (0 < q < 1): ``2 gammaincinv(df/2, q)``."""
    return float(2 * special.gammaincinv(df / 2, q))


def f_sf(stat: float, dfn: float, dfd: float) -> float:
    """Upper tail of the F distribution, as ``scipy.stats.f.sf(stat, dfn, dfd)``: its kernel
    ``scipy.special.fdtrc`` (1 for ``stat <= 0``), without importing scipy.stats."""
    return 1.0 if stat < 0 else float(special.fdtrc(dfn, dfd, stat))


@dataclass
class RegressionFit:
    """One fitted GLM: coefficients, their covariance and the maximised (log-)likelihood.

    ``loglik`` is the binomial log-likelihood (logistic, Firth: unpenalised, at the estimate), or
    the Gaussian log-likelihood with the ML variance RSS/n (linear). ``penalised_loglik`` is
    ``loglik + 0.5 log det I(beta)`` for Firth fits. ``cov`` is the inverse Fisher information
    (logistic, Firth) or ``sigma^2 (X'X)^-1`` with ``sigma^2 = RSS/(n-p)`` (linear). ``effects``
    (linear) is ``Q'y`` for the QR of X (R ``lm()$effects[1:p]``): the sum of squares that the
    last k columns add beyond the first p - k is the sum of the last k squared effects, free of
    the cancellation in ``rss0 - rss1``.
    """

    beta: np.ndarray
    cov: np.ndarray
    loglik: float
    converged: bool
    n_iter: int
    rss: float = math.nan
    penalised_loglik: float = math.nan
    effects: np.ndarray | None = None

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))


# --------------------------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------------------------


def _binomial_loglik(eta: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    # sum(w (y*eta - log(1 + exp(eta)))), stable for large |eta|
    # log(1 + exp(eta)) = max(eta, 0) + log1p(exp(-|eta|)), the formula of np.logaddexp(0, eta)
    # in vectorised ufuncs (several times faster than logaddexp's scalar loop)
    softplus = np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta)))
    if weights is None:
        return float(y @ eta - softplus.sum())
    return float(weights @ (y * eta - softplus))


def _weighted_gram(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``X' diag(w) X`` (w >= 0) as ``(W^1/2 X)'(W^1/2 X)``: one BLAS product on a contiguous
    n x p array instead of the strided ``(X.T * w) @ X``."""
    xs = X * np.sqrt(w)[:, None]
    return xs.T @ xs


def _information(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``(X.T * w) @ X``, for a row-major ``X`` with ``X.T * w`` formed as one contiguous product of
    the n p values of ``X`` with ``w`` repeated p times (the broadcast product loops over rows of
    p elements, slower): the same values in the same layout, so the same BLAS product to the bit."""
    if not X.flags.c_contiguous:
        return (X.T * w) @ X
    n, p = X.shape
    return (X.reshape(-1) * np.repeat(w, p)).reshape(n, p).T @ X


def _loglik_mu(mu: np.ndarray, case: np.ndarray, weights: np.ndarray | None = None) -> float:
    # binomial log-likelihood from fitted probabilities (-inf when a fitted probability is 0 or 1)
    # mu for cases, 1 - mu for controls (np.where: a masked in-place subtraction runs several
    # times slower)
    terms = np.where(case, mu, 1.0 - mu)
    with np.errstate(divide="ignore"):
        np.log(terms, out=terms)
    if weights is None:
        return float(terms.sum())
    return float(weights[weights > 0] @ terms[weights > 0])


def _start(X: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    beta = np.zeros(X.shape[1])
    mean = float(y.mean()) if weights is None else float(weights @ y) / float(weights.sum())
    ybar = min(max(mean, 1e-6), 1 - 1e-6)
    beta[0] = math.log(ybar / (1 - ybar))  # X[:, 0] is the intercept
    return beta


def _default_loglik_bound(X: np.ndarray, case: np.ndarray, weights: np.ndarray | None, b0: float) -> float:
    """An upper bound of the log-likelihood that :func:`fit_logistic` computes at its default start
    (intercept ``b0``, other coefficients 0), without evaluating it: every sample then has the same
    fitted probability ``p``, so it is ``W1 log p + W0 log(1 - p)`` (W: the case and control
    counts or weights) up to the summation's rounding (relative < n eps), far inside the margin
    of 1e-8 relative. ``inf`` (no bound) unless the first column of ``X`` is the intercept."""
    if not (X[:, 0] == 1.0).all():
        return math.inf
    p = float(special.expit(b0))
    w1 = float(case.sum()) if weights is None else float(weights[case].sum())
    w0 = float(case.size - case.sum()) if weights is None else float(weights[~case].sum())
    value = w1 * math.log(p) + w0 * math.log(1.0 - p)
    return value + 1e-8 * abs(value)


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    start: np.ndarray | None = None,
    maxit: int = 25,
    tol: float = 1e-10,
) -> RegressionFit:
    """Maximum-likelihood logistic regression by Newton-Raphson (= IRLS) with step halving.

    The one logistic fitter of the package: the association models, the Firth fallback's
    starting point and the EM-weighted haplotype GLM (haplo.glm) all use it.

    Parameters
    ----------
    X : float array (n, p), first column the intercept; full column rank.
    y : float array (n,), 0/1. No missing values (drop them first).
    weights : optional prior weights (n,), >= 0, as R ``glm(weights = w)``: each observation's
        log-likelihood, score and information are multiplied by its weight (the posterior
        haplotype-pair probabilities of the EM-GLM). Default: all 1.
    start : optional starting coefficients (p,), for example the covariate-only estimates with 0
        for the added terms (a warm start: fewer iterations, same maximum); default: intercept
        logit(mean y), other coefficients 0 (as R ``glm``).
    maxit : iterations before giving up (``converged=False``), as R ``glm.control(maxit=25)``.
    tol : convergence when the relative deviance change ``|dev - dev_old| / (|dev| + 0.1)`` is
        below ``tol`` (R's criterion, stricter default than R's 1e-8).

    Returns
    -------
    RegressionFit; ``cov`` is the inverse information at the final estimate. A singular
    information matrix ends the iterations with ``converged=False``.
    """
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != y.shape or not np.all(weights >= 0):
            raise ValueError(f"weights must be {y.shape[0]} values >= 0, got shape {weights.shape}")
    beta = _start(X, y, weights)
    case = y > 0
    warm = False
    if start is not None:
        start = np.asarray(start, dtype=float)
        if start.shape != beta.shape:
            raise ValueError(f"start has shape {start.shape}, expected ({X.shape[1]},)")
        mu_start = special.expit(X @ start)
        ll_start = _loglik_mu(mu_start, case, weights)
        # clearly better than the default start: no need to evaluate that one
        warm = math.isfinite(ll_start) and ll_start > _default_loglik_bound(X, case, weights, beta[0])
        if warm:
            beta, mu, ll = start.copy(), mu_start, ll_start
    if not warm:
        mu = special.expit(X @ beta)
        ll = _loglik_mu(mu, case, weights)
        if (
            start is not None and math.isfinite(ll_start) and ll_start >= ll
        ):  # never start worse than the default
            beta, mu, ll = start.copy(), mu_start, ll_start
            warm = True
    converged = False
    n_iter = 0
    for n_iter in range(1, maxit + 1):  # noqa: B007 (n_iter is reported)
        w = mu * (1.0 - mu) if weights is None else weights * mu * (1.0 - mu)
        info = _information(X, w)
        try:
            chol = linalg.cho_factor(info)
        except linalg.LinAlgError:
            break
        step = linalg.cho_solve(chol, X.T @ (y - mu) if weights is None else X.T @ (weights * (y - mu)))
        t = 1.0
        for _ in range(40):
            new = beta + t * step
            mu_new = special.expit(X @ new)
            ll_new = _loglik_mu(mu_new, case, weights)
            if math.isfinite(ll_new) and ll_new >= ll - 1e-12 * (abs(ll) + 0.1):
                break
            t *= 0.5
        else:
            break
        change = abs(ll_new - ll) / (abs(ll) + 0.05)  # = |dev change| / (|dev| + 0.1)
        beta, mu, ll = new, mu_new, ll_new
        # From a warm start the deviance settles one Newton step earlier than the coefficients:
        # also ask for a step below WARM_STEP_TOL, so the estimate is at least as close to the
        # maximum as from the default start.
        if change < tol and (not warm or np.max(np.abs(t * step)) < WARM_STEP_TOL):
            converged = True
            break
    w = mu * (1.0 - mu) if weights is None else weights * mu * (1.0 - mu)
    info = _information(X, w)
    try:
        # An ill-conditioned information matrix (separation) shows as huge SEs, which the
        # callers test for and answer with the Firth fallback: no warning needed here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            cov = linalg.inv(info)
        if not np.all(np.isfinite(cov)):
            raise linalg.LinAlgError
    except (linalg.LinAlgError, ValueError):
        cov = np.full_like(info, np.nan)
        converged = False
    return RegressionFit(beta=beta, cov=cov, loglik=ll, converged=converged, n_iter=n_iter)


def _firth_state(X, y, beta, weights=None):
    eta = X @ beta
    mu = special.expit(eta)
    w = mu * (1.0 - mu) if weights is None else weights * mu * (1.0 - mu)
    info = _weighted_gram(X, w)
    chol = linalg.cho_factor(info)
    logdet = 2.0 * float(np.sum(np.log(np.abs(np.diag(chol[0])))))
    pll = _binomial_loglik(eta, y, weights) + 0.5 * logdet
    return eta, mu, w, info, chol, pll


def _hat_diagonal(X: np.ndarray, w: np.ndarray, chol) -> np.ndarray:
    """Diagonal of the hat matrix ``W^1/2 X (X'WX)^-1 X' W^1/2`` from the Cholesky factor
    ``chol`` (:func:`scipy.linalg.cho_factor`) of ``X'WX``: with ``U'U = X'WX``,
    ``h_i = w_i ||x_i' U^-1||^2``, one n x p matrix product and a row-wise sum of squares
    (Golub & Van Loan, Matrix Computations, 4.2) instead of an n x p x p contraction."""
    c, lower = chol
    tri = linalg.solve_triangular(c, np.eye(X.shape[1]), lower=lower)  # U^-1 (or L^-1 = U^-T)
    b = X @ (tri.T if lower else tri)
    return w * np.einsum("ij,ij->i", b, b)


def _modified_score(X, y, mu, w, chol, weights=None) -> np.ndarray:
    """Firth's modified score ``X'(a (y - mu) + h (1/2 - mu))``: the gradient of the penalised
    log-likelihood (``a`` the prior weights, ``h`` the diagonal of the hat matrix
    ``W^1/2 X (X'WX)^-1 X' W^1/2``, ``W = diag(a mu (1 - mu))``)."""
    h = _hat_diagonal(X, w, chol)
    resid = y - mu if weights is None else weights * (y - mu)
    return X.T @ (resid + h * (0.5 - mu))


def fit_firth(
    X: np.ndarray,
    y: np.ndarray,
    *,
    fixed: np.ndarray | None = None,
    at: np.ndarray | None = None,
    start: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    maxit: int = 1000,
    tol: float = 1e-9,
) -> RegressionFit:
    """Firth-penalised logistic regression (Firth 1993; Heinze & Schemper 2002).

    Maximises ``l(beta) + 0.5 log det I(beta)`` by Newton-Raphson on the modified score
    ``X'(a (y - mu) + h (1/2 - mu))`` (``a`` the prior weights, ``h`` the hat-matrix diagonal)
    with the Fisher information ``I = X' diag(a mu (1 - mu)) X``, an
    Armijo line search on the penalised log-likelihood, and a secant step on the directional
    derivative when a step overshoots. Finite estimates exist under (quasi-)complete separation.

    Parameters
    ----------
    X, y : as :func:`fit_logistic`.
    fixed : optional bool array (p,): coefficients held fixed while the penalty still uses the
        full design (logistf's restricted penalised likelihood: the penalised LRT and the
        profile-penalised-likelihood CI).
    at : optional float array (p,): the values of the ``fixed`` coefficients (default 0).
    start : optional starting coefficients (p,) for the free ones (default: intercept
        logit(mean y), others 0).
    weights : optional prior weights (n,), >= 0, as R ``glm(weights = a, method = "brglmFit")``:
        each observation's log-likelihood and information are multiplied by its weight, and so
        the penalty is ``0.5 log det X' diag(a mu (1 - mu)) X`` (the haplotype EM-GLM's posterior
        pair weights). Default: all 1.
    maxit, tol : convergence when the largest absolute step is below ``tol`` (far from the
        estimate, as in the profile of a separated term, the modified-score iterations converge
        linearly and may need a few hundred steps).

    Returns
    -------
    RegressionFit with ``cov`` = inverse Fisher information at the estimate (the Wald SE that
    PLINK 2 ``--glm firth`` reports), ``loglik`` unpenalised and ``penalised_loglik`` (both
    weighted by ``weights``).
    """
    p = X.shape[1]
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != y.shape or not np.all(weights >= 0):
            raise ValueError(f"weights must be {y.shape[0]} values >= 0, got shape {weights.shape}")
    free = np.ones(p, dtype=bool) if fixed is None else ~np.asarray(fixed, dtype=bool)
    beta = _start(X, y, weights) if start is None else np.array(start, dtype=float)
    if beta.shape != (p,):
        raise ValueError(f"start has shape {beta.shape}, expected ({p},)")
    beta[~free] = 0.0 if at is None else np.asarray(at, dtype=float)[~free]
    try:
        eta, mu, w, info, chol, pll = _firth_state(X, y, beta, weights)
    except linalg.LinAlgError:
        return RegressionFit(beta * np.nan, np.full((p, p), np.nan), math.nan, False, 0)
    converged = False
    n_iter = 0
    score = None  # the modified score at beta, when already computed (for the slope test)
    for n_iter in range(1, maxit + 1):  # noqa: B007 (n_iter is reported)
        if score is None:
            score = _modified_score(X, y, mu, w, chol, weights)
        step = np.zeros(p)
        step[free] = linalg.solve(info[np.ix_(free, free)], score[free], assume_a="pos")
        if np.max(np.abs(step)) < tol:
            converged = True
            break
        # Armijo line search: the Fisher information understates the curvature of the penalty
        # for high-leverage samples (a single carrier), where a full step can overshoot to a
        # point of equal penalised likelihood (plain step halving then oscillates for ever)
        gain = float(score @ step)
        noise = 1e-13 * (abs(pll) + 0.1)
        t = 1.0
        for _ in range(60):
            new = beta + t * step
            try:
                state = _firth_state(X, y, new, weights)
            except linalg.LinAlgError:
                t *= 0.5
                continue
            if math.isfinite(state[-1]) and (
                state[-1] >= pll + 1e-4 * t * gain or (state[-1] >= pll - noise and t * gain < noise)
            ):
                break
            t *= 0.5
        else:
            break
        # overshoot: the directional derivative changed sign; go to the secant root instead
        score = _modified_score(X, y, state[1], state[2], state[4], weights)  # at new
        slope = float(score @ step)
        if slope < 0:
            t2 = t * gain / (gain - slope)
            try:
                state2 = _firth_state(X, y, beta + t2 * step, weights)
                if math.isfinite(state2[-1]) and state2[-1] >= state[-1] - noise:
                    new, state, t, score = beta + t2 * step, state2, t2, None
            except linalg.LinAlgError:
                pass
        beta = new
        eta, mu, w, info, chol, pll = state
        if np.max(np.abs(t * step)) < tol:
            converged = True
            break
    cov = linalg.cho_solve(chol, np.eye(p))
    return RegressionFit(
        beta=beta,
        cov=cov,
        loglik=_binomial_loglik(eta, y, weights),
        converged=converged,
        n_iter=n_iter,
        penalised_loglik=pll,
    )


def fit_linear(X: np.ndarray, y: np.ndarray, *, raug: np.ndarray | None = None) -> RegressionFit:
    """Ordinary least squares via the QR decomposition of ``X`` (full column rank assumed).

    The Householder R factor of the augmented matrix ``[X, y]`` holds everything needed (Golub &
    Van Loan, Matrix Computations, 5.3): ``R[:p, :p]`` is R of ``X``, ``R[:p, p] = Q'y`` and
    ``R[p, p]^2`` the residual sum of squares; Q is never formed. ``loglik`` is the Gaussian
    log-likelihood at the ML variance ``RSS/n`` (as R ``logLik.lm``); ``cov = RSS/(n-p) (X'X)^-1``.
    ``raug``: that R factor (``np.linalg.qr([X, y], mode="r")``) when the caller already has it,
    e.g. from the rank check of :func:`_dependent_columns`; ``X`` is then only read for its
    shape (and may be None: p is that of ``raug``).
    """
    if raug is None:
        raug = np.linalg.qr(np.column_stack([X, y]), mode="r")
    n, p = y.shape[0], raug.shape[1] - 1
    r = raug[:p, :p]
    beta = linalg.solve_triangular(r, raug[:p, p])
    rss = float(raug[p, p] ** 2)
    rinv = linalg.solve_triangular(r, np.eye(p))
    cov = (rinv @ rinv.T) * (rss / (n - p))
    ll = -0.5 * n * (math.log(2 * math.pi) + math.log(rss / n) + 1.0)
    return RegressionFit(
        beta=beta, cov=cov, loglik=ll, converged=True, n_iter=1, rss=rss, effects=raug[:p, p].copy()
    )


def _dependent_columns(X: np.ndarray, r: np.ndarray | None = None) -> list[int]:
    """Indices of columns that are (numerically) linear combinations of earlier columns.

    ``r``: the Householder R factor (``np.linalg.qr(..., mode="r")``) of ``X`` or of ``X`` with
    further columns appended on the right, when the caller already has it. Householder QR treats
    the columns left to right, so the leading p x p block of the longer matrix's R is R of ``X``:
    one factorisation serves the rank checks of nested designs and the least-squares fit.
    """
    return _rank_deficient(np.linalg.qr(X, mode="r") if r is None else r, X.shape[1])


def _rank_deficient(r: np.ndarray, p: int) -> list[int]:
    """:func:`_dependent_columns` of the first ``p`` columns of a design from its R factor ``r``
    alone: column j is dependent when ``|R[j, j]|`` is below :data:`RANK_TOL` times the column's
    norm, which is that of ``R[:, j]`` (Q keeps norms; no pass over the n rows)."""
    norms = np.sqrt(np.einsum("ij,ij->j", r[:, :p], r[:, :p]))
    d = np.abs(np.diag(r[:p, :p]))
    return [j for j in range(p) if norms[j] == 0 or d[j] <= RANK_TOL * norms[j]]


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _as_1d(a, name: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} values, expected {n} (one per sample)")
    return arr


def _check_common(y, effect_count, covariates, outcome_type):
    if outcome_type not in ("binary", "continuous"):
        raise ValueError(f"outcome_type must be 'binary' or 'continuous', got {outcome_type!r}")
    y = _as_1d(y, "y")
    n = y.shape[0]
    g = _as_1d(effect_count, "effect_count", n)
    c = np.asarray(covariates, dtype=float)
    if c.ndim == 1 and c.size == 0:
        c = c.reshape(n, 0)
    if c.ndim != 2 or c.shape[0] != n:
        raise ValueError(f"covariates must be a 2-D array with {n} rows, got shape {c.shape}")
    if outcome_type == "binary":
        bad = ~np.isnan(y) & (y != 0) & (y != 1)
        if bad.any():
            raise ValueError(
                f"binary y must be 0/1 or NaN; {int(bad.sum())} other values, first {y[bad][:5].tolist()}"
            )
    if np.isinf(y).any() or np.isinf(c).any():
        raise ValueError("y and covariates must be finite or NaN (missing)")
    return y, g, c, n


def _single_valued(a: np.ndarray) -> bool:
    """True when ``a`` (no NaN) holds fewer than two distinct values: ``len(np.unique(a)) < 2``
    without sorting."""
    return a.size == 0 or not (a != a[0]).any()


def finite_rows(a: np.ndarray) -> np.ndarray:
    """Rows of the 2-D array ``a`` with every value finite (no NaN): ``np.isfinite(a).all(axis=1)``
    column by column (a reduction over a short row axis runs about ten times slower)."""
    ok = np.ones(a.shape[0], dtype=bool)
    for j in range(a.shape[1]):
        ok &= np.isfinite(a[:, j])
    return ok


def _check_counts(g: np.ndarray, ploidy: int, name: str = "effect_count") -> None:
    ok = np.isnan(g) | (g == 0) | (g == 1)
    if ploidy == 2:
        ok |= g == 2
    if not ok.all():
        raise ValueError(
            f"{name} must hold effect-allele counts 0..{ploidy} or NaN for ploidy {ploidy}; "
            f"{int((~ok).sum())} other values, first {g[~ok][:5].tolist()}"
        )


# --------------------------------------------------------------------------------------------
# model specification
# --------------------------------------------------------------------------------------------


@dataclass
class _Spec:
    model: str
    terms: list[str]
    columns: np.ndarray  # (n, k)
    # groups of genotype classes whose all-case / all-control status means quasi-complete
    # separation for this coding
    separating: list[tuple[int, ...]] | None
    method_suffix: str = ""
    note: str = ""  # set when not estimable
    absent_terms: dict | None = None  # term -> note, for codominant reduced to one term
    # (2, k): the columns as combinations of the het and hom indicators (diploid effect-allele
    # counts; None for dosages and haploid carriers), for the shared factorisation of _coding_r
    basis: np.ndarray | None = None


def _specs(g: np.ndarray, ds: np.ndarray | None, ploidy: int) -> list[_Spec]:
    """Model codings of effect-allele counts ``g``; with dosages ``ds``, the additive model only."""
    if ds is not None:
        # the checks (monomorphism, separation, rank) see the dosages the model fits
        return [_Spec("additive", ["per_allele"], ds[:, None], None, "; per_allele = DS dosage")]
    present = {k for k in (0, 1, 2) if np.any(g == k)}
    het = (g == 1).astype(float)
    hom = (g == 2).astype(float)
    if ploidy == 1:
        return [_Spec("carrier", ["carrier"], g[:, None], [(0,), (1,)])]
    specs = []
    # codominant: het and hom_alt vs the reference homozygote
    cod = _Spec(
        "codominant", ["het", "hom_alt"], np.column_stack([het, hom]), [(0,), (1,), (2,)], basis=np.eye(2)
    )
    if 0 not in present:
        cod.note = CLASS_ABSENT[0]
    else:
        absent = {t: CLASS_ABSENT[k] for t, k in (("het", 1), ("hom_alt", 2)) if k not in present}
        if absent:
            keep = [i for i, t in enumerate(cod.terms) if t not in absent]
            cod.terms = [cod.terms[i] for i in keep]
            cod.columns = cod.columns[:, keep]
            cod.basis = cod.basis[:, keep]
            cod.absent_terms = absent
    specs.append(cod)

    def single(model, term, col, one, zero, basis):
        s = _Spec(model, [term], col[:, None], [one, zero], basis=np.array(basis, dtype=float)[:, None])
        for grp in (one, zero):
            if not any(k in present for k in grp):
                missing = [k for k in grp if k not in present]
                s.note = CLASS_ABSENT[missing[0]] if len(missing) == 1 else "genotype class absent"
        return s

    specs.append(single("dominant", "carrier", het + hom, (1, 2), (0,), [1, 1]))
    specs.append(single("recessive", "hom_alt", hom, (2,), (0, 1), [0, 1]))
    specs.append(single("overdominant", "het", het, (1,), (0, 2), [1, 0]))
    # separating=None: an ordered coding, see _ordered_separation; g = het + 2 hom
    specs.append(
        _Spec(
            "additive",
            ["per_allele"],
            g[:, None],
            None,
            "; per_allele = effect-allele count",
            basis=np.array([[1.0], [2.0]]),
        )
    )
    return specs


def _coding_r(wide: np.ndarray, p0: int, basis: np.ndarray) -> np.ndarray:
    """R factor of the design ``[X0, [het, hom] basis]`` from the R factor ``wide`` of
    ``[X0, het, hom]`` (``X0`` its first ``p0`` columns), for the rank checks; columns of
    ``wide`` after het and hom (the outcome of a linear model) are kept after the design's, so
    that the result is the R factor of ``[X0, [het, hom] basis, y]``: the fit of
    :func:`fit_linear`.

    With ``[X0, het, hom] = Q wide``, the design is ``Q`` times the same combination of the
    columns of ``wide``; ``Q`` is orthonormal, so the small matrix's R is the design's R up to the
    signs of its rows and rounding (as :func:`vdrbone.association._subset_rank`; Golub & Van
    Loan, Matrix Computations, 5.2): one QR of the n x (p0 + 2) matrix replaces one per genetic
    model.
    """
    return np.linalg.qr(
        np.column_stack([wide[:, :p0], wide[:, p0 : p0 + 2] @ basis, wide[:, p0 + 2 :]]), mode="r"
    )


def _nan_rows(spec_model: str, terms: list[str], base: dict, note: str, method: str = "") -> list[TestResult]:
    return [TestResult(model=spec_model, term=t, note=note, method=method, **base) for t in terms]


# (model, term) rows of genetic_models, in table order, by ploidy.
GENETIC_MODEL_TERMS = {
    2: [
        ("codominant", "het"),
        ("codominant", "hom_alt"),
        ("dominant", "carrier"),
        ("recessive", "hom_alt"),
        ("overdominant", "het"),
        ("additive", "per_allele"),
    ],
    1: [("carrier", "carrier")],
}


def _all_terms(ploidy: int) -> list[tuple[str, str]]:
    return list(GENETIC_MODEL_TERMS[ploidy])


def _pure(y: np.ndarray, m: np.ndarray) -> int:
    """1: only cases in ``m``, 0: only controls, -1: both (or ``m`` empty)."""
    k = int(m.sum())
    if k == 0:
        return -1
    cases = float(y[m].sum())
    return 1 if cases == k else 0 if cases == 0 else -1


def _ordered_separation(y: np.ndarray, x: np.ndarray) -> bool:
    """Quasi-complete separation of ``y`` by a single ordered covariate ``x``.

    True when the values of the cases and of the controls do not overlap except possibly at one
    boundary value (``max`` of one group <= ``min`` of the other): then ``l(beta)`` keeps
    growing with ``|beta|`` and no maximum-likelihood estimate exists (Albert & Anderson 1984).
    For effect-allele counts this means: every class below some class holds only cases
    (controls), every class above it only controls (cases), the class itself may be mixed. For
    DS dosages it is decided on the dosages themselves, never on rounded classes.
    """
    case = y > 0
    if case.all() or not case.any():
        return False
    xc, xn = x[case], x[~case]
    return bool(xn.max() <= xc.min() or xc.max() <= xn.min())


def _class_table(y: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Samples (row 0) and cases (row 1) in each genotype class 0, 1, 2 of counts ``g`` (0/1 ``y``)."""
    classes = g.astype(np.int64)
    return np.vstack([np.bincount(classes, minlength=3), np.bincount(classes, weights=y, minlength=3)])


def _separation(
    y: np.ndarray, g: np.ndarray, groups: list[tuple[int, ...]] | None, table: np.ndarray | None = None
) -> bool:
    """True when a genotype class (group) that is present has only cases or only controls.

    ``groups=None`` means the ordered (additive) coding: see :func:`_ordered_separation`.
    ``table``: :func:`_class_table` of effect-allele counts ``g``, when the caller has it (the
    same verdicts from 3 x 2 counts; the ordered coding of counts included).
    """
    if table is None and groups is None:
        return _ordered_separation(y, g)
    if table is None:
        table = _class_table(y, g)
    total, cases = table[0], table[1]
    if groups is None:  # _ordered_separation on the classes holding cases and those holding controls
        if cases.sum() in (0, total.sum()):
            return False
        with_cases, with_controls = np.flatnonzero(cases > 0), np.flatnonzero(total - cases > 0)
        return bool(with_controls.max() <= with_cases.min() or with_cases.max() <= with_controls.min())
    n = total.sum()
    for grp in groups:
        k, c = total[list(grp)].sum(), cases[list(grp)].sum()
        if k == 0 or k == n:
            continue
        if c == 0 or c == k:
            return True
    return False


# --------------------------------------------------------------------------------------------
# fitting one model against its null model
# --------------------------------------------------------------------------------------------


def _wald_rows(model, terms, beta, se, binary, base, **fields) -> list[TestResult]:
    rows = []
    for t, b, s in zip(terms, beta, se, strict=True):
        lo, hi = b - Z95 * s, b + Z95 * s
        if binary:
            est, lo, hi, etype = safe_exp(b), safe_exp(lo), safe_exp(hi), "OR"
        else:
            est, etype = b, "beta"
        rows.append(
            TestResult(
                model=model,
                term=t,
                estimate=est,
                estimate_type=etype,
                ci_lower=lo,
                ci_upper=hi,
                standard_error=s,
                **base,
                **fields,
            )
        )
    return rows


def penalised_lrt(X, y, fit: RegressionFit, idx, *, weights=None) -> tuple[float, float]:
    """Penalised likelihood-ratio test of the coefficients ``idx`` of the Firth fit ``fit`` (as R
    ``logistf``): they are fixed at 0, the others re-maximised, the penalty keeps the full design
    (and the prior ``weights`` of ``fit``); statistic ``2 (pll(beta_hat) - pll_restricted)``,
    chi-square with ``len(idx)`` df. Returns ``(statistic, p)``, both NaN when the restricted fit
    does not converge."""
    fixed = np.zeros(X.shape[1], dtype=bool)
    fixed[np.asarray(idx)] = True
    restricted = fit_firth(X, y, fixed=fixed, weights=weights)
    if not restricted.converged:
        return math.nan, math.nan
    plr = max(2.0 * (fit.penalised_loglik - restricted.penalised_loglik), 0.0)
    return plr, chi2_sf(plr, int(fixed.sum()))


def profile_limits(
    X, y, fit: RegressionFit, j: int, level: float = 0.95, *, weights=None
) -> tuple[float, float]:
    """Profile-penalised-likelihood confidence limits of coefficient ``j`` (as R ``logistf``).

    The limits are the values ``b`` of ``beta_j`` where ``2 (pll(beta_hat) - max pll(beta_j = b))``
    equals ``qchisq(level, 1)``; the other coefficients are re-maximised at each ``b`` and the
    penalty keeps the full design (Heinze & Schemper 2002). Each side is bracketed by doubling
    steps from the estimate, then solved by Brent's method. Each restricted fit starts at the
    estimate with ``beta_j = b`` (as logistf) or, when that does not converge, from the latest
    restricted maximum. NaN when no restricted fit converges. The restricted penalised likelihood
    can have several local maxima far out on a separated side (complete separation with
    covariates); the limit then belongs to the maximum reached from these starts. ``weights``:
    the prior weights of ``fit`` (see :func:`fit_firth`).
    """
    from scipy.optimize import brentq  # imported when needed: scipy.optimize takes 0.3 s to load

    target = fit.penalised_loglik - 0.5 * chi2_ppf(level, 1)
    fixed = np.zeros(X.shape[1], dtype=bool)
    fixed[j] = True
    b_hat = float(fit.beta[j])

    last = [fit.beta]  # the latest restricted maximum on the current side

    def excess(b: float) -> float:
        # start at the estimate with beta_j = b (as logistf); failing that, continue from the
        # latest restricted maximum, then from the default start
        for s in (fit.beta, last[-1], _start(X, y, weights)):
            at = s.copy()
            at[j] = b
            r = fit_firth(X, y, fixed=fixed, at=at, start=at, weights=weights)
            if r.converged:
                last.append(r.beta)
                return r.penalised_loglik - target
        raise ArithmeticError

    def crossed(b: float) -> bool | None:
        try:
            return excess(b) < 0
        except ArithmeticError:
            return None

    limits = []
    for sign in (-1.0, 1.0):
        last.append(fit.beta)
        step = max(float(fit.se[j]), 0.5) if np.isfinite(fit.se[j]) else 1.0
        inner, outer, found = b_hat, b_hat + sign * step, False
        for _ in range(60):
            got = crossed(outer)
            if got is None:  # no restricted maximum this far out: step back towards inner
                outer = 0.5 * (inner + outer)
                continue
            if got:
                found = True
                break
            inner, step = outer, 2.0 * abs(outer - b_hat)
            outer = b_hat + sign * step
        try:
            root = brentq(excess, inner, outer, xtol=1e-10, rtol=1e-13) if found else math.nan
        except ArithmeticError:
            root = math.nan
        except ValueError:  # the restricted maximum at ``inner`` moved to another local maximum:
            root = math.nan  # no consistent bracket, so no limit (reported as not converged)
        limits.append(root)
    return limits[0], limits[1]


def safe_exp(x: float) -> float:
    """``exp(x)``, infinite instead of OverflowError (an odds-ratio limit of a near-separated fit)."""
    return math.exp(x) if x < 709.0 else math.inf


FIRTH_METHOD = "logistic (Firth), penalised LRT; profile penalised-likelihood CI"


def _firth_rows(model, terms, X, y, k, base, method_suffix, note) -> list[TestResult]:
    """Firth rows: penalised LRT (logistf: tested coefficients fixed at 0, the others
    re-maximised, penalty from the full design; k df), profile penalised-likelihood CIs, and
    the Wald chi-square p and CI (as PLINK 2 ``--glm firth``) in the ``wald_*`` fields."""
    p = X.shape[1]
    idx = np.arange(p - k, p)
    fit = fit_firth(X, y)
    method = FIRTH_METHOD + method_suffix
    if not fit.converged or not np.all(np.isfinite(fit.cov)):
        return _nan_rows(model, terms, base, "Firth regression did not converge", method)
    b = fit.beta[idx]
    cov = fit.cov[np.ix_(idx, idx)]
    wald = float(b @ linalg.solve(cov, b, assume_a="pos"))
    plr, p_value = penalised_lrt(X, y, fit, idx)
    if math.isnan(p_value):
        note = f"{note}; penalised LRT: restricted fit did not converge"
    rows = _wald_rows(
        model,
        terms,
        b,
        np.sqrt(np.diag(cov)),
        True,
        base,
        statistic=plr,
        df=float(k),
        p_value=p_value,
        wald_p_value=chi2_sf(wald, k),
        method=method,
        note=note,
    )
    for r, j in zip(rows, idx, strict=True):
        r.wald_ci_lower, r.wald_ci_upper = r.ci_lower, r.ci_upper
        lo, hi = profile_limits(X, y, fit, int(j))
        r.ci_lower, r.ci_upper = safe_exp(lo), safe_exp(hi)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            r.note = f"{r.note}; profile CI: restricted fit did not converge"
    return rows


def _fit_vs_null(
    model: str,
    terms: list[str],
    X: np.ndarray,
    y: np.ndarray,
    k: int,
    null: RegressionFit | None,
    *,
    binary: bool,
    base: dict,
    method_suffix: str = "",
    separated: bool = False,
    force_firth: str = "",
    raug: np.ndarray | None = None,
) -> list[TestResult]:
    """Fit ``X`` (last ``k`` columns tested) and test it against ``null`` fitted on the same rows.

    Linear (``binary`` false): the F test needs no null fit (``null`` unused, may be None);
    ``raug`` is the R factor of ``[X, y]`` if already computed (:func:`fit_linear`; ``X`` may then
    be None).
    """
    n, p = y.shape[0], (X.shape[1] if X is not None else raug.shape[1] - 1)
    idx = np.arange(p - k, p)
    if not binary:
        fit = fit_linear(X, y, raug=raug)
        df_res = n - p
        # extra sum of squares of the tested columns: the squared last k effects (Q'y) of the
        # QR of X, whose first p - k columns are the null design: = rss0 - rss1 without cancellation
        f = (float(np.sum(fit.effects[p - k :] ** 2)) / k) / (fit.rss / df_res)
        f = max(f, 0.0)
        aic = -2.0 * fit.loglik + 2.0 * (p + 1)
        rows = _wald_rows(
            model,
            terms,
            fit.beta[idx],
            fit.se[idx],
            False,
            base,
            statistic=f,
            df=float(k),
            p_value=f_sf(f, k, df_res),
            aic=aic,
            method="linear, F test" + method_suffix,
        )
        for r in rows:
            r.extra = {"df_residual": float(df_res)}
        return rows
    if force_firth:
        return _firth_rows(model, terms, X, y, k, base, method_suffix, force_firth)
    if separated:
        return _firth_rows(
            model, terms, X, y, k, base, method_suffix, "firth-fallback: quasi-complete separation"
        )
    start = None
    if null is not None and null.converged and null.beta.shape[0] == p - k:
        start = np.concatenate([null.beta, np.zeros(k)])  # warm start at the covariate-only fit
    fit = fit_logistic(X, y, start=start)
    b, se = fit.beta[idx], fit.se[idx]
    if np.any(np.abs(b) > MAX_ABS_BETA) or np.any(~(se <= MAX_SE)):
        return _firth_rows(
            model, terms, X, y, k, base, method_suffix, "firth-fallback: quasi-complete separation"
        )
    if not fit.converged:
        return _firth_rows(
            model, terms, X, y, k, base, method_suffix, "firth-fallback: logistic regression did not converge"
        )
    lr = max(2.0 * (fit.loglik - null.loglik), 0.0)
    wald = float(b @ linalg.solve(fit.cov[np.ix_(idx, idx)], b, assume_a="pos"))
    rows = _wald_rows(
        model,
        terms,
        b,
        se,
        True,
        base,
        statistic=lr,
        df=float(k),
        p_value=chi2_sf(lr, k),
        aic=-2.0 * fit.loglik + 2.0 * p,
        wald_p_value=chi2_sf(wald, k),
        method="logistic, LRT" + method_suffix,
    )
    for r in rows:
        r.wald_ci_lower, r.wald_ci_upper = r.ci_lower, r.ci_upper
    return rows


def sample_counts(y: np.ndarray, binary: bool) -> dict:
    """``n`` (and for a binary outcome ``n_cases``, ``n_controls``) of the analysed samples ``y``."""
    n = int(y.shape[0])
    if not binary:
        return {"n": n}
    cases = int(y.sum())
    return {"n": n, "n_cases": cases, "n_controls": n - cases}


def sample_checks(y, binary, n, p, min_n, min_cases) -> str:
    """Why a model with ``p`` parameters cannot be fitted on these ``n`` samples ("" if it can).

    Too few samples (fewer than ``min_n`` or than p + 1), or for binary outcomes no cases, no
    controls, or fewer than ``min_cases`` of either.
    """
    if n < max(min_n, p + 1):
        return f"too few samples (n={n} < {max(min_n, p + 1)})"
    if binary:
        cases = int(y.sum())
        if cases == 0:
            return "no cases"
        if cases == n:
            return "no controls"
        if cases < min_cases:
            return f"too few cases (n_cases={cases} < {min_cases})"
        if n - cases < min_cases:
            return f"too few controls (n_controls={n - cases} < {min_cases})"
    return ""


def _names(covariate_names, k):
    if covariate_names is None:
        return [f"covariate{i + 1}" for i in range(k)]
    names = list(covariate_names)
    if len(names) != k:
        raise ValueError(f"covariate_names has {len(names)} names for {k} covariate columns")
    return names


def collinear_note(X0: np.ndarray, names: list[str], *, r: np.ndarray | None = None) -> str:
    """``"singular design (covariate collinear: ...)"`` naming dependent columns of ``X0``, or "".

    ``r``: R factor of ``X0`` or of a wider design starting with ``X0`` (:func:`_dependent_columns`);
    ``X0`` may then be None (its columns: the intercept and one per name).
    """
    dep = _dependent_columns(X0, r) if X0 is not None else _rank_deficient(r, 1 + len(names))
    if not dep:
        return ""
    labels = ["intercept", *names]
    return f"singular design (covariate collinear: {', '.join(labels[j] for j in dep)})"


# --------------------------------------------------------------------------------------------
# covariate design of a stratum (before any model is fitted)
# --------------------------------------------------------------------------------------------


@dataclass
class CovariateDesign:
    """The covariates kept for a stratum's models and those dropped, with the reason.

    ``kept``: indices of the kept columns, in input order; ``names``: their names; ``dropped``:
    ``(name, reason)`` pairs, reason ``constant in this stratum`` | ``nearly constant in this
    stratum`` | ``collinear with a, b``.
    """

    kept: list[int]
    names: list[str]
    dropped: list[tuple[str, str]]

    @property
    def note(self) -> str:
        """``covariate dropped: bmi (constant in this stratum)`` (one per dropped column, "; ")."""
        return "; ".join(f"covariate dropped: {name} ({why})" for name, why in self.dropped)


def covariate_design(covariates, names, *, tol: float = RANK_TOL) -> CovariateDesign:
    """Drop constant and aliased covariates as R ``lm`` / ``glm`` alias model terms.

    The design is the intercept followed by the covariate columns in the given (formula) order.
    A column that is constant over the rows is dropped (``constant in this stratum``). Each other
    column, in order, is dropped when the norm of its residual after projection onto the intercept
    and the columns kept before it is below ``tol`` times its own norm: the limited column
    pivoting of LINPACK ``dqrdc2`` that R's ``lm.fit`` uses (``tol = 1e-7``), which keeps the
    earlier terms and aliases the later ones (their coefficients are NA in R). The reason names the
    kept covariates the dropped one is a combination of (``collinear with age_years``), found by
    least squares on the kept columns (coefficients contributing at least 1e-4 of the column's
    centred norm); when that is the intercept alone, ``nearly constant in this stratum``.

    Parameters
    ----------
    covariates : float array (n, k) of the stratum's analysable samples; rows with a NaN are
        ignored (complete cases).
    names : the k column names.
    tol : relative rank tolerance (config ``association.collinearity_tolerance``).

    Returns
    -------
    CovariateDesign. Nothing is dropped when no complete row is left.
    """
    c = np.asarray(covariates, dtype=float)
    names = list(names)
    if c.ndim != 2 or c.shape[1] != len(names):
        raise ValueError(f"covariates must be (n, {len(names)}) for {len(names)} names, got shape {c.shape}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    complete = finite_rows(c)
    if not complete.all():
        c = c[complete]
    n, k = c.shape
    if n == 0:
        return CovariateDesign(list(range(k)), names, [])
    # orthonormal basis of the intercept and the kept columns, in the first m columns of q
    q = np.empty((n, k + 1), order="F")
    q[:, 0] = 1.0 / math.sqrt(n)
    m = 1
    kept, dropped = [], []
    for j in range(k):
        x = c[:, j]
        if np.ptp(x) == 0:
            dropped.append((names[j], "constant in this stratum"))
            continue
        qm = q[:, :m]
        r = x - qm @ (qm.T @ x)
        r -= qm @ (qm.T @ r)  # re-orthogonalise (Gram-Schmidt twice is enough)
        norm_r = float(np.linalg.norm(r))
        if norm_r >= tol * float(np.linalg.norm(x)) and norm_r > 0:
            kept.append(j)
            np.divide(r, norm_r, out=q[:, m])
            m += 1
            continue
        dropped.append((names[j], _collinear_reason(c, kept, names, j)))
    return CovariateDesign(kept, [names[j] for j in kept], dropped)


def _collinear_reason(c: np.ndarray, kept: list[int], names: list[str], j: int) -> str:
    """``collinear with ...`` naming the kept columns that make up column ``j``."""
    x = c[:, j]
    X = np.column_stack([np.ones(c.shape[0]), c[:, kept]])
    b = np.linalg.lstsq(X, x, rcond=None)[0][1:]
    centred = c[:, kept] - c[:, kept].mean(axis=0)
    scale = float(np.linalg.norm(x - x.mean()))
    share = np.abs(b) * np.linalg.norm(centred, axis=0)
    partners = [names[i] for i, s in zip(kept, share, strict=True) if s >= 1e-4 * scale]
    return f"collinear with {', '.join(partners)}" if partners else "nearly constant in this stratum"


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------


def genetic_models(
    y,
    effect_count,
    covariates,
    *,
    outcome_type: str,
    ploidy: int = 2,
    dosage=None,
    covariate_names=None,
    min_n: int = 30,
    min_cases: int = 1,
    checks_only: bool = False,
    factor: np.ndarray | None = None,
) -> list[TestResult]:
    """Fit the SNPassoc genetic models of one variant, adjusted for covariates.

    Models (diploid): ``codominant`` (terms ``het``, ``hom_alt``, one 2-df test shown on both
    rows), ``dominant`` (``carrier``), ``recessive`` (``hom_alt``), ``overdominant`` (``het``),
    ``additive`` (``per_allele``: effect-allele count, or the DS dosage when ``dosage`` is given).
    Haploid (mtDNA, ``ploidy=1``): ``carrier``. Logistic regression for binary outcomes (OR,
    LRT against the covariate-only model, as R ``anova(m0, m1, test = "LRT")``), linear regression
    for continuous ones (beta, F test as R ``anova(m0, m1)``); Wald 95% CIs (R
    ``confint.default``); ``aic`` as R ``AIC()`` (linear: counts the variance parameter).

    When a logistic fit does not converge, shows quasi-complete separation (a genotype class of
    the model's coding with only cases or only controls; for the additive model, case and
    control values that overlap at most in one boundary value, judged on the DS dosages when the
    model fits dosages; ``|beta| > 15`` or ``SE > 10``), the model is refitted with Firth's
    penalised likelihood (as PLINK 2 ``--glm firth-fallback``). The row then reports the Firth
    estimate, its penalised likelihood-ratio test as R ``logistf`` (the tested coefficients fixed
    at 0, the others re-maximised, the penalty from the full design; 2 df for the codominant
    pair, shown on both rows) and profile penalised-likelihood 95% CIs (Heinze & Schemper 2002),
    ``aic`` NaN, and in ``standard_error`` / ``wald_*`` the Wald SE, p and CI that PLINK 2
    ``--glm firth`` prints. Monomorphism and the rank checks of the dosage model are also decided
    on the dosages (a DS column with any spread is estimable even if every rounded call is 0).

    Parameters
    ----------
    y : float array (n,), 0/1 for ``outcome_type='binary'``; NaN = missing.
    effect_count : float array (n,), effect-allele counts 0/1/2 (ploidy 2) or 0/1 (ploidy 1);
        NaN = not called.
    covariates : float array (n, k), k may be 0; NaN = missing.
    outcome_type : ``'binary'`` or ``'continuous'``.
    ploidy : 2 (autosomal) or 1 (mtDNA).
    dosage : optional float array (n,) of DS dosages in [0, ploidy] for the additive model.
    covariate_names : optional names of the covariate columns (used in notes).
    min_n : fewer complete-case samples than this gives NaN rows (config
        ``association.min_stratum_n``).
    min_cases : fewer cases or controls than this gives NaN rows (config ``association.min_cases``).
    checks_only : only the sample checks (numbers, cases, controls, monomorphism): their NaN rows
        when they fail, else NaN rows with an empty note; nothing is fitted (for a caller that
        replaces fitted rows, as the mtDNA minimum-carrier rule).
    factor : optional R factor (``np.linalg.qr(..., mode="r")``) of ``[1, covariates, het, hom]``
        (binary; linear: ``[1, covariates, het, hom, y]``) on exactly the complete-case samples of
        the effect-allele-count models (diploid), when the caller has it (the association's alias
        check uses it too): it replaces the QR that serves their rank checks and linear fits.

    Returns
    -------
    list of TestResult, one per model term, in SNPassoc order. Samples with NaN in ``y``, the
    genotype or any covariate are dropped first; the genotype-class models (and the additive
    model without dosages) use the same complete-case samples (``n``, ``n_cases``,
    ``n_controls``). With ``dosage``, the additive model is fitted on the samples with a dosage,
    where a missing DS is replaced by the hard call and a sample with a DS but no hard call
    (below the GP threshold) is kept, as PLINK 2 does with dosages; its ``n`` may then differ
    from the other models' and its note says so. Data that allow no estimate give rows with NaN
    numbers and the reason in ``note``; nothing is raised for data reasons.
    """
    if dosage is None:
        return _genetic_models(
            y, effect_count, covariates, outcome_type=outcome_type, ploidy=ploidy, dosage=None,
            covariate_names=covariate_names, min_n=min_n, min_cases=min_cases, checks_only=checks_only,
            factor=factor,
        )  # fmt: skip
    if ploidy != 2:
        raise ValueError("dosage is only used for diploid variants (ploidy 2)")
    g = np.asarray(effect_count, dtype=float)
    ds = _as_1d(dosage, "dosage", g.shape[0] if g.ndim == 1 else None)
    filled = np.where(np.isnan(ds), g, ds)
    common = dict(outcome_type=outcome_type, ploidy=ploidy, covariate_names=covariate_names,
                  min_n=min_n, min_cases=min_cases, checks_only=checks_only)  # fmt: skip
    rows = _genetic_models(y, g, covariates, dosage=None, factor=factor, **common)
    # The dosage model's checks (monomorphism, separation, rank) use the dosages; the rounded
    # dosages only pass the count validation and mark which samples have a value.
    ds_rows = _genetic_models(y, np.round(filled), covariates, dosage=filled, **common)
    additive = next(r for r in ds_rows if r.model == "additive")
    hard = next(r for r in rows if r.model == "additive")
    if additive.n != hard.n:
        extra = f"dosage model on n={additive.n} (genotype-class models n={hard.n})"
        additive.note = "; ".join(x for x in (additive.note, extra) if x)
    return [additive if r.model == "additive" else r for r in rows]


def _genetic_models(
    y,
    effect_count,
    covariates,
    *,
    outcome_type: str,
    ploidy: int,
    dosage,
    covariate_names,
    min_n: int,
    min_cases: int,
    checks_only: bool = False,
    factor: np.ndarray | None = None,
) -> list[TestResult]:
    """:func:`genetic_models` on one complete-case sample set (genotype, dosage if given)."""
    y, g, c, n_all = _check_common(y, effect_count, covariates, outcome_type)
    if ploidy not in (1, 2):
        raise ValueError(f"ploidy must be 1 or 2, got {ploidy}")
    _check_counts(g, ploidy)
    ds = None
    if dosage is not None:
        if ploidy != 2:
            raise ValueError("dosage is only used for diploid variants (ploidy 2)")
        ds = _as_1d(dosage, "dosage", n_all)
        bad = ~np.isnan(ds) & ((ds < 0) | (ds > ploidy))
        if bad.any():
            raise ValueError(f"dosage must lie in [0, {ploidy}]; {int(bad.sum())} values outside")
    names = _names(covariate_names, c.shape[1])
    binary = outcome_type == "binary"

    keep = ~np.isnan(y) & ~np.isnan(g) & finite_rows(c)
    if ds is not None:
        keep &= ~np.isnan(ds)
    y, g, c = y[keep], g[keep], c[keep]
    if ds is not None:
        ds = ds[keep]
    n = int(y.shape[0])
    base = sample_counts(y, binary)

    all_terms = _all_terms(ploidy)

    def all_nan(note):
        return [TestResult(model=m, term=t, note=note, **base) for m, t in all_terms]

    k_gen = 2 if ploidy == 2 else 1
    note = sample_checks(y, binary, n, 1 + c.shape[1] + k_gen, min_n, min_cases)
    if note:
        return all_nan(note)
    if (np.ptp(ds) == 0) if ds is not None else _single_valued(g):
        return all_nan("monomorphic in this stratum")
    if checks_only:
        return all_nan("")
    specs = _specs(g, ds, ploidy)
    p0 = 1 + c.shape[1]
    shared = all(spec.basis is not None for spec in specs)
    # the covariate-only design: logistic fits, and the linear fits without a shared QR
    X0 = np.column_stack([np.ones(n), c]) if binary or not shared else None
    # Diploid counts: one QR of [X0, het, hom] (linear: [X0, het, hom, y]) serves the rank checks
    # of X0 and of every genotype coding and, linear, each coding's fit (_coding_r: the R factor
    # of [X, y] from a (p0 + 3)-row matrix). Otherwise the QR of each [X, y] is the linear fit and
    # that design's rank check.
    wide = None
    if shared and factor is not None:
        size = p0 + (2 if binary else 3)
        if factor.shape != (size, size):
            raise ValueError(f"factor has shape {factor.shape}, expected ({size}, {size})")
        wide = factor
    elif shared:
        het, hom = (g == 1).astype(float), (g == 2).astype(float)
        cols = [X0, het, hom] if binary else [np.ones(n), c, het, hom, y]
        wide = np.linalg.qr(np.column_stack(cols), mode="r")
    note = collinear_note(X0, names, r=wide)
    if note:
        return all_nan(note)

    null = fit_logistic(X0, y) if binary else None  # the linear F test needs no null fit
    force_firth = ""
    if binary and not null.converged:
        force_firth = "firth-fallback: covariate-only model did not converge"

    rows: list[TestResult] = []
    table = None
    for spec in specs:
        if spec.note:
            rows += _nan_rows(spec.model, _spec_terms(spec), base, spec.note)
            continue
        p = p0 + spec.columns.shape[1]
        # the design itself: for the logistic fit, or the QR of [X, y] (the rank check and fit)
        X = np.column_stack([X0, spec.columns]) if binary or wide is None else None
        if wide is not None:
            r_design = _coding_r(wide, p0, spec.basis)
        elif binary:
            r_design = np.linalg.qr(X, mode="r")
        else:
            r_design = np.linalg.qr(np.column_stack([X, y]), mode="r")
        if _rank_deficient(r_design, p):
            rows += _nan_rows(
                spec.model, _spec_terms(spec), base, "singular design (covariate collinear with genotype)"
            )
            continue
        if binary and ds is None and table is None:
            table = _class_table(y, g)  # genotype classes by case status, once for every coding
        separated = binary and _separation(
            y, spec.columns[:, 0] if ds is not None else g, spec.separating, table
        )
        got = _fit_vs_null(
            spec.model,
            spec.terms,
            X,
            y,
            spec.columns.shape[1],
            null,
            binary=binary,
            base=base,
            method_suffix=spec.method_suffix,
            separated=separated,
            force_firth=force_firth,
            raug=None if binary else r_design,
        )
        if spec.absent_terms:
            for r in got:
                r.note = "; ".join(x for x in (r.note, f"{spec.model} reduced to {len(spec.terms)} df") if x)
            by_term = {r.term: r for r in got}
            got = [
                by_term[t]
                if t in by_term
                else TestResult(model=spec.model, term=t, note=spec.absent_terms[t], **base)
                for t in ("het", "hom_alt")
            ]
        rows += got
    return rows


def _spec_terms(spec: _Spec) -> list[str]:
    return ["het", "hom_alt"] if spec.model == "codominant" else spec.terms


def interaction_test(
    y,
    effect_count,
    modifier,
    covariates,
    *,
    outcome_type: str,
    modifier_name: str,
    covariate_names=None,
    min_n: int = 30,
    min_cases: int = 1,
    checks_only: bool = False,
) -> TestResult:
    """Test SNP (log-additive) x modifier interaction.

    Compares ``y ~ covariates + modifier + g + g:modifier`` with ``y ~ covariates + modifier + g``
    on the same complete-case samples: LRT (logistic) or F test (linear). The estimate is the
    interaction coefficient, i.e. the ratio of the per-allele ORs (modifier 1 vs 0) or the
    difference of the per-allele betas, with its Wald 95% CI. Covariate columns identical to the
    modifier are dropped (the modifier is always in both models). Firth fallback as in
    :func:`genetic_models` (penalised LRT, profile CI) when the logistic fit does not converge or
    the interaction coefficient diverges (``|beta| > 15`` or ``SE > 10``).

    Parameters
    ----------
    y, effect_count, covariates, outcome_type, covariate_names, min_n, min_cases :
        as :func:`genetic_models` (``effect_count`` 0/1/2).
    modifier : float array (n,), 0/1 (for example T2DM yes = 1, or female = 1); NaN = missing.
    modifier_name : ``'t2dm'`` or ``'sex'``: model ``interaction_<name>``, term
        ``per_allele_x_<name>``.
    checks_only : only the sample checks (numbers, cases, controls, monomorphism, constant
        modifier): the NaN row of a failed check, else a NaN row with an empty note; nothing is
        fitted (as :func:`genetic_models`).

    Returns
    -------
    TestResult (``df`` = 1). Samples with NaN in ``y``, genotype, modifier or any covariate are
    dropped first.
    """
    if modifier_name not in ("t2dm", "sex"):
        raise ValueError(f"modifier_name must be 't2dm' or 'sex', got {modifier_name!r}")
    y, g, c, n_all = _check_common(y, effect_count, covariates, outcome_type)
    _check_counts(g, 2)
    m = _as_1d(modifier, "modifier", n_all)
    bad = ~np.isnan(m) & (m != 0) & (m != 1)
    if bad.any():
        raise ValueError(
            f"modifier must be 0/1 or NaN; {int(bad.sum())} other values, first {m[bad][:5].tolist()}"
        )
    names = _names(covariate_names, c.shape[1])
    binary = outcome_type == "binary"
    model, term = f"interaction_{modifier_name}", f"per_allele_x_{modifier_name}"

    keep = ~np.isnan(y) & ~np.isnan(g) & ~np.isnan(m) & finite_rows(c)
    y, g, m, c = y[keep], g[keep], m[keep], c[keep]
    n = int(y.shape[0])
    base = sample_counts(y, binary)
    same = [j for j in range(c.shape[1]) if np.array_equal(c[:, j], m)]
    if same:
        c = np.delete(c, same, axis=1)
        names = [x for j, x in enumerate(names) if j not in same]

    def nan(note):
        return TestResult(model=model, term=term, note=note, **base)

    note = sample_checks(y, binary, n, c.shape[1] + 4, min_n, min_cases)
    if note:
        return nan(note)
    if _single_valued(g):
        return nan("monomorphic in this stratum")
    if _single_valued(m):
        return nan(f"modifier {modifier_name} constant in this stratum")
    if _single_valued(g[m == 1]) or _single_valued(g[m == 0]):
        return nan(f"monomorphic within a {modifier_name} group")
    if checks_only:
        return nan("")
    # X = [X0, g m] with X0 = [1, c, m, g] (linear: and y after them), built once
    p0 = c.shape[1] + 3
    X = np.column_stack([np.ones(n), c, m, g, g * m] if binary else [np.ones(n), c, m, g, g * m, y])
    # one QR serves the nested rank checks ([1, c], X0, X) and, linear, the fit of [X, y]
    r = np.linalg.qr(X, mode="r")
    note = collinear_note(None, names, r=r)
    if note:
        return nan(note)
    if _rank_deficient(r, p0):
        return nan(f"singular design (covariate collinear with {modifier_name} or genotype)")
    if _rank_deficient(r, p0 + 1):
        return nan("singular design (covariate collinear with interaction term)")
    # logistic: the two designs (C order, as the fits expect); linear: R is the fit
    X0, X = (np.ascontiguousarray(X[:, :p0]), X) if binary else (None, None)
    null = fit_logistic(X0, y) if binary else None  # the linear F test needs no null fit
    force = ""
    if binary and not null.converged:
        force = "firth-fallback: model without interaction did not converge"
    return _fit_vs_null(
        model,
        [term],
        X,
        y,
        1,
        null,
        binary=binary,
        base=base,
        method_suffix="; per_allele = effect-allele count",
        force_firth=force,
        raug=None if binary else r,
    )[0]


def conditional_test(
    y,
    tested,
    conditioning,
    covariates,
    *,
    outcome_type: str,
    conditioning_names: list[str],
    covariate_names=None,
    min_n: int = 30,
    min_cases: int = 1,
    method_suffix: str = "; per_allele = effect-allele count",
) -> TestResult:
    """Log-additive effect of one SNP adjusted for conditioning SNPs (PLINK 1.9 ``--condition``).

    Compares ``y ~ covariates + conditioning + g`` with ``y ~ covariates + conditioning`` on the
    same complete-case samples: likelihood-ratio test (logistic) or F test (linear), as R
    ``anova(m0, m1)``; the estimate is the per-allele OR (beta) of ``g`` with its Wald 95% CI, the
    numbers PLINK ``--logistic/--linear --condition`` prints for the tested SNP (PLINK's p is
    the Wald p). Firth fallback as :func:`genetic_models`.

    Parameters
    ----------
    y, covariates, outcome_type, covariate_names, min_n, min_cases : as :func:`genetic_models`.
    tested : float array (n,), effect-allele count or dosage in [0, 2] of the tested SNP; NaN =
        missing.
    conditioning : float array (n, k), k >= 1, effect-allele counts or dosages of the
        conditioning SNPs (additive coding); NaN = missing.
    conditioning_names : the k conditioning SNP ids (used in notes).
    method_suffix : appended to ``method`` (``; per_allele = DS dosage`` for dosages).

    Returns
    -------
    TestResult (model ``conditional``, term ``per_allele``, ``df`` = 1). Missing data: samples
    with NaN in ``y``, the tested SNP, any conditioning SNP or any covariate are dropped (complete
    cases, as PLINK). A conditioning SNP without variation, or one collinear with the tested SNP
    (perfect LD), gives a NaN row with the reason.
    """
    y, g, c, n_all = _check_common(y, tested, covariates, outcome_type)
    k_cond = np.asarray(conditioning, dtype=float)
    if k_cond.ndim == 1:
        k_cond = k_cond[:, None]
    if k_cond.ndim != 2 or k_cond.shape[0] != n_all or k_cond.shape[1] < 1:
        raise ValueError(f"conditioning must be (n, k >= 1) with n = {n_all}, got shape {k_cond.shape}")
    cond_names = list(conditioning_names)
    if len(cond_names) != k_cond.shape[1]:
        raise ValueError(f"conditioning_names has {len(cond_names)} names for {k_cond.shape[1]} columns")
    for name, arr in (
        ("tested", g),
        *((f"conditioning SNP {nm}", k_cond[:, j]) for j, nm in enumerate(cond_names)),
    ):
        bad = ~np.isnan(arr) & ((arr < 0) | (arr > 2))
        if bad.any():
            raise ValueError(f"{name}: allele counts or dosages must lie in [0, 2]; {int(bad.sum())} outside")
    names = _names(covariate_names, c.shape[1])
    binary = outcome_type == "binary"
    keep = ~np.isnan(y) & ~np.isnan(g) & finite_rows(k_cond) & finite_rows(c)
    y, g, k_cond, c = y[keep], g[keep], k_cond[keep], c[keep]
    n = int(y.shape[0])
    base = sample_counts(y, binary)

    def nan(note):
        return TestResult(model="conditional", term="per_allele", note=note, **base)

    note = sample_checks(y, binary, n, 2 + c.shape[1] + k_cond.shape[1], min_n, min_cases)
    if note:
        return nan(note)
    if np.ptp(g) == 0:
        return nan("monomorphic in this stratum")
    flat = [nm for j, nm in enumerate(cond_names) if np.ptp(k_cond[:, j]) == 0]
    if flat:
        return nan(f"conditioning SNP {', '.join(flat)} monomorphic in this stratum")
    # X = [X0, g] with X0 = [1, c, conditioning] (linear: and y after them), built once
    p0 = 1 + c.shape[1] + k_cond.shape[1]
    X = np.column_stack([np.ones(n), c, k_cond, g] if binary else [np.ones(n), c, k_cond, g, y])
    # one QR serves the nested rank checks ([1, c], X0, X) and, linear, the fit of [X, y]
    r = np.linalg.qr(X, mode="r")
    note = collinear_note(None, names, r=r)
    if note:
        return nan(note)
    dep = _rank_deficient(r, p0)
    if dep:
        labels = ["intercept", *names, *cond_names]
        return nan(f"singular design (conditioning SNPs collinear: {', '.join(labels[j] for j in dep)})")
    if _rank_deficient(r, p0 + 1):
        return nan("singular design (tested SNP collinear with the conditioning SNP(s): perfect LD)")
    # logistic: the two designs (C order, as the fits expect); linear: R is the fit
    X0, X = (np.ascontiguousarray(X[:, :p0]), X) if binary else (None, None)
    null = fit_logistic(X0, y) if binary else None  # the linear F test needs no null fit
    force = ""
    if binary and not null.converged:
        force = "firth-fallback: model with the conditioning SNP(s) did not converge"
    return _fit_vs_null(
        "conditional",
        ["per_allele"],
        X,
        y,
        1,
        null,
        binary=binary,
        base=base,
        method_suffix=method_suffix,
        separated=binary and _separation(y, np.round(g), None),
        force_firth=force,
        raug=None if binary else r,
    )[0]


def snp_interaction_test(
    y,
    g1,
    g2,
    covariates,
    *,
    outcome_type: str,
    ploidy1: int = 2,
    ploidy2: int = 2,
    covariate_names=None,
    variant_names: tuple[str, str] = ("first variant", "second variant"),
    min_n: int = 30,
    min_cases: int = 1,
) -> TestResult:
    """SNP x SNP interaction: likelihood-ratio (logistic) or F (linear) test of the product term.

    As SNPassoc ``interactionPval(model = "log-additive")`` (its upper triangle): each variant as
    its effect-allele count (mtDNA: carrier 0/1), ``y ~ covariates + g1 + g2 + g1:g2`` against
    ``y ~ covariates + g1 + g2`` on the same complete-case samples (R ``anova(m_a, m_i)``), 1 df.
    The estimate is the interaction OR (the factor by which the per-allele OR of one variant
    changes per effect allele of the other) or beta, with its Wald 95% CI.

    Parameters
    ----------
    y, covariates, outcome_type, covariate_names, min_n, min_cases : as :func:`genetic_models`.
    g1, g2 : float arrays (n,), effect-allele counts (0/1/2 for ploidy 2, 0/1 for ploidy 1);
        NaN = not called.
    variant_names : the two variants' names, used in notes.

    Returns
    -------
    TestResult, model ``snp_interaction``, term ``g1_x_g2``, ``df`` 1. Samples with NaN in ``y``,
    either genotype or any covariate are dropped first. A monomorphic variant, two collinear
    variants (complete LD) or a product collinear with the main effects gives a NaN row with the
    reason. Firth fallback as :func:`genetic_models`.
    """
    y, a, c, n_all = _check_common(y, g1, covariates, outcome_type)
    b = _as_1d(g2, "g2", n_all)
    _check_counts(a, ploidy1, "g1")
    _check_counts(b, ploidy2, "g2")
    names = _names(covariate_names, c.shape[1])
    binary = outcome_type == "binary"
    keep = ~np.isnan(y) & ~np.isnan(a) & ~np.isnan(b) & finite_rows(c)
    y, a, b, c = y[keep], a[keep], b[keep], c[keep]
    n = int(y.shape[0])
    base = sample_counts(y, binary)

    def nan(note):
        return TestResult(model="snp_interaction", term="g1_x_g2", note=note, **base)

    note = sample_checks(y, binary, n, 5 + c.shape[1], min_n, min_cases)
    if note:
        return nan(note)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return nan(f"{variant_names[0 if np.ptp(a) == 0 else 1]} monomorphic in this stratum")
    # X = [X0, a b] with X0 = [1, c, a, b], built once; one QR serves the nested rank checks
    p0 = c.shape[1] + 3
    X = np.column_stack([np.ones(n), c, a, b, a * b])
    r = np.linalg.qr(X, mode="r")
    note = collinear_note(None, names, r=r)
    if note:
        return nan(note)
    if _rank_deficient(r, p0):
        return nan("singular design (the two variants are collinear: complete LD)")
    if _rank_deficient(r, p0 + 1):
        return nan("singular design (product term collinear with the main effects)")
    X0 = np.ascontiguousarray(X[:, :p0])  # C order, as the fits expect
    null = fit_logistic(X0, y) if binary else fit_linear(X0, y)
    force = ""
    if binary and not null.converged:
        force = "firth-fallback: model without interaction did not converge"
    return _fit_vs_null(
        "snp_interaction",
        ["g1_x_g2"],
        X,
        y,
        1,
        null,
        binary=binary,
        base=base,
        method_suffix="; additive x additive (effect-allele counts)",
        force_firth=force,
    )[0]
