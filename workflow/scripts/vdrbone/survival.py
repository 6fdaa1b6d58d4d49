"""Time-to-event outcomes: Cox proportional hazards, the proportional-hazards test, Kaplan-Meier.

What R ``survival`` reports, on numpy arrays:

- :func:`fit_cox`: partial-likelihood Cox regression by Newton-Raphson, Efron (1977) or Breslow
  ties, optional delayed entry (counting-process data ``(entry, time]``), as R
  ``coxph(Surv(entry, time, event) ~ X, ties = "efron")``.
- :func:`ph_test`: the score test of proportional hazards on scaled Schoenfeld residuals
  (Grambsch & Therneau 1994), exactly R ``cox.zph(fit, transform = "km")`` of survival >= 3.0:
  per term set and global.
- :func:`cox_genetic_models`: the five SNPassoc genetic models (or the mtDNA ``carrier`` model)
  with covariates, HR with Wald 95% CI, LRT against the covariate-only Cox model on the same
  samples, and one ``ph_test`` row per model.
- :func:`kaplan_meier`: the product-limit estimate with numbers at risk (delayed entry allowed).

Vocabulary: ``estimate_type`` ``HR``; ``method`` ``Cox PH (Efron ties), LRT`` (plus the per-allele
suffix of :mod:`vdrbone.regression`); the PH rows have ``model`` ``ph_test``, ``term`` the
genetic model name (its genetic term(s), R's per-term test) or ``<model>_global`` (R's GLOBAL
test), ``statistic`` the chi-square, ``method`` ``cox.zph score test, transform km``. ``n_cases``
counts events and ``n_controls`` censored samples.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg

from vdrbone import regression
from vdrbone.results import TestResult

__all__ = ["CoxFit", "RiskSets", "fit_cox", "ph_test", "cox_genetic_models", "kaplan_meier", "check_survival"]

Z95 = regression.Z95
MAX_ABS_BETA = regression.MAX_ABS_BETA
MAX_SE = regression.MAX_SE
MONOTONE = "monotone likelihood (no events in a genotype group): HR not estimable"
METHOD = "Cox PH (Efron ties), LRT"
PH_METHOD = "cox.zph score test, transform km"


@dataclass
class CoxFit:
    """A fitted Cox model: coefficients, inverse information, log partial likelihood."""

    beta: np.ndarray
    cov: np.ndarray
    loglik: float
    converged: bool
    n_iter: int

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))


def check_survival(time, event, entry=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate follow-up data: 1-D, same length, event 0/1, time > entry (>= 0 when given).

    NaN marks a missing value (the sample is dropped by the callers); anything else wrong raises
    ``ValueError`` with the count and first values.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    if t.ndim != 1 or e.shape != t.shape:
        raise ValueError(f"time and event must be 1-D of equal length, got {t.shape} and {e.shape}")
    bad = ~np.isnan(e) & (e != 0) & (e != 1)
    if bad.any():
        raise ValueError(
            f"event must be 0/1 or NaN; {int(bad.sum())} other values, first {e[bad][:5].tolist()}"
        )
    bad = ~np.isnan(t) & ~(t > 0)
    if bad.any():
        raise ValueError(f"time must be > 0; {int(bad.sum())} values are not, first {t[bad][:5].tolist()}")
    s = None
    if entry is not None:
        s = np.asarray(entry, dtype=float)
        if s.shape != t.shape:
            raise ValueError(f"entry has shape {s.shape}, expected {t.shape}")
        bad = ~np.isnan(s) & ~np.isnan(t) & ~((s >= 0) & (s < t))
        if bad.any():
            raise ValueError(
                f"entry must satisfy 0 <= entry < time; {int(bad.sum())} samples do not, "
                f"first (entry, time) {list(zip(s[bad][:5].tolist(), t[bad][:5].tolist(), strict=True))}"
            )
    return t, e, s


class RiskSets:
    """The distinct event times of one sample set and sums over their risk sets.

    Built from ``(time, event, entry)`` only (not the covariates), so one instance serves every
    Cox model and PH test on the same samples. A sample is at risk at event time ``u`` when
    ``entry < u <= time``. Values are passed as ``(q, n)`` arrays in time order (:attr:`order`,
    a stable sort). Risk-set sums are taken at the distinct event times only: the sum over each
    block of samples between two event times (one ``reduceat``), then a reverse cumulative sum
    over the blocks, minus the same over the blocks of entry times; the second-order sums of the
    information are never formed per event time (see :func:`_cox_terms`).
    """

    def __init__(self, time, event, entry=None):
        t, e, s = check_survival(time, event, entry)
        n = self.n = t.size
        self.event_index = np.flatnonzero(e == 1)  # the events, sample order
        self.ut, self.death_time = np.unique(t[self.event_index], return_inverse=True)
        k = self.ut.size
        self.d = np.bincount(self.death_time, minlength=k)
        self.order = np.argsort(t, kind="stable")
        ts = t[self.order]
        # block j + 1 (at risk at ut[j], not at ut[j + 1]) starts at first[j]; none is empty
        self.first = np.searchsorted(ts, self.ut, side="left")
        self.dead = np.flatnonzero(e[self.order] == 1)  # the deaths in time order
        self.dead_first = np.cumsum(self.d) - self.d
        # at risk at ut[j] for ecnt <= j < cnt: cnt event times <= time, ecnt event times <= entry
        self.cnt = np.repeat(np.arange(k + 1), np.diff(np.concatenate([[0], self.first, [n]])))
        position = np.empty(n, dtype=np.intp)  # sample -> position in time order
        position[self.order] = np.arange(n)
        self.event_position = position[self.event_index]  # the events, sample order
        self.ecnt = self.eorder = self.efirst = None
        if s is not None:
            self.ecnt = np.searchsorted(self.ut, s[self.order], side="right")
            eorder = np.argsort(s, kind="stable")
            self.efirst = np.searchsorted(s[eorder], self.ut, side="left")
            self.eorder = position[eorder]  # entry order, as positions in time order
        # Efron: one row per death (time order), j/d for the j-th of d tied deaths
        j = self.rank_time = np.repeat(np.arange(k), self.d)
        self.frac = (np.arange(j.size) - self.dead_first[j]) / self.d[j]

    def sums(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sums of ``values`` (q, n) (time order) over the risk set and over the deaths of each
        event time: two (q, k) arrays."""
        blocks = np.add.reduceat(values, self.first, axis=1)
        at_risk = np.cumsum(blocks[:, ::-1], axis=1)[:, ::-1]
        if self.ecnt is not None:
            k = self.ut.size
            entered = [np.bincount(self.ecnt, weights=v, minlength=k + 1) for v in values]
            entered = np.reshape(entered, (values.shape[0], k + 1))
            at_risk = at_risk - np.cumsum(entered[:, :0:-1], axis=1)[:, ::-1]
        deaths = np.add.reduceat(values[:, self.dead], self.dead_first, axis=1)
        return at_risk, deaths

    def sums_sequential(self, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sums of ``r`` (n,) (time order) over the risk set and the deaths of each event time,
        added in the order of the straightforward computation (suffix cumulative sums over the
        samples sorted by time, minus those sorted by entry; deaths in sample order), so that
        the log partial likelihood at given coefficients is that of the straightforward
        computation to the last bit (an LRT statistic near 0 is the difference of two large log
        likelihoods)."""
        s0 = np.cumsum(r[::-1])[::-1][self.first]
        if self.eorder is not None:
            s0 = s0 - np.concatenate([np.cumsum(r[self.eorder][::-1])[::-1], [0.0]])[self.efirst]
        d0 = np.bincount(self.death_time, weights=r[self.event_position], minlength=self.ut.size)
        return s0, d0

    def spread(self, per_time: np.ndarray) -> np.ndarray:
        """For each sample (time order), the sum of ``per_time`` (k,) over the event times it is
        at risk at."""
        c = np.concatenate([[0.0], np.cumsum(per_time)])
        return c[self.cnt] if self.ecnt is None else c[self.cnt] - c[self.ecnt]

    def km_left(self) -> np.ndarray:
        """``1 - S(u-)`` at each event time u, S the pooled Kaplan-Meier estimate (the product of
        :func:`kaplan_meier`; censoring-only times contribute factors of exactly 1)."""
        k = self.ut.size
        n_risk = np.bincount(self.cnt, minlength=k + 1)[:0:-1].cumsum()[::-1]
        if self.ecnt is not None:
            n_risk = n_risk - np.bincount(self.ecnt, minlength=k + 1)[:0:-1].cumsum()[::-1]
        surv = np.cumprod(1.0 - self.d / n_risk)
        return 1.0 - np.concatenate([[1.0], surv[:-1]])


PAIR_PRODUCTS_MAX_BYTES = 256 * 2**20


class _Design:
    """A centred covariate matrix in the time order of ``rs``: ``X`` (n, p; rows permuted, so
    ``X @ beta`` is bit-identical to the sample-order product) and its transpose ``Xt`` (p, n),
    the products of its column pairs ``j <= l`` (X' diag(w) X as one matrix-vector product, when
    they fit in :data:`PAIR_PRODUCTS_MAX_BYTES`) and the deaths' column sums."""

    def __init__(self, rs: RiskSets, X: np.ndarray):
        self.rs, self.X = rs, X.take(rs.order, axis=0)
        self.Xt = np.ascontiguousarray(self.X.T)
        self.pairs = np.triu_indices(X.shape[1])
        self.products = None
        if self.pairs[0].size * rs.n * 8 <= PAIR_PRODUCTS_MAX_BYTES:
            self.products = np.empty((self.pairs[0].size, rs.n))
            for row, a, b in zip(self.products, *self.pairs, strict=True):
                np.multiply(self.Xt[a], self.Xt[b], out=row)
        self.x_dead = X[rs.event_index].sum(axis=0)
        self.rX = np.empty_like(self.Xt)  # buffer for r * X

    def weighted_cross(self, w: np.ndarray) -> np.ndarray:
        """X' diag(w) X for ``w`` (n,) in time order."""
        if self.products is None:
            return (self.Xt * w) @ self.Xt.T
        p = self.Xt.shape[0]
        out = np.empty((p, p))
        out[self.pairs] = self.products @ w
        out[self.pairs[1], self.pairs[0]] = out[self.pairs]
        return out


def _cox_terms(des: _Design, beta: np.ndarray, ties: str):
    """Log partial likelihood, score, information, and ``mean_sum`` / ``var_sum``.

    Over the death rows j (Efron: one per tied death, the k-th of d removing k/d of the deaths'
    sums), ``mean_sum(h)`` is ``sum_j h_j m_j`` and ``var_sum(h)`` is ``sum_j h_j V_j``, m_j and
    V_j the weighted mean and covariance of X over the (Efron-reduced) risk set. Neither forms
    per-death vectors or matrices: with ``s1_j = S1_t - f_j D1_t`` (risk-set and deaths' sums at
    the death's time t), ``sum_j h_j m_j = S1 a - D1 b`` for per-time sums a of ``h_j / s0_j`` and
    b of ``f_j h_j / s0_j``; ``sum_j h_j S2_j / s0_j = X' diag(w) X`` with ``w_i = r_i`` times
    the sum of a over the times i is at risk at (minus b at i's own death time), and
    ``sum_j h_j m_j m_j'`` expands the same way into per-time sums of ``h_j / s0_j^2`` times 1,
    ``f_j`` and ``f_j^2``.
    """
    rs = des.rs
    eta = des.X @ beta  # time order
    c = float(eta.max()) if eta.size else 0.0
    r = np.exp(eta - c)
    S, D = rs.sums(np.multiply(des.Xt, r, out=des.rX))  # (p, k)
    S0, D0 = rs.sums_sequential(r)
    j = rs.rank_time
    efron = ties == "efron"
    f = rs.frac
    s0 = S0[j] - f * D0[j] if efron else S0[j]
    ll = float(eta[rs.event_position].sum() - np.log(s0).sum() - c * s0.size)
    k = rs.ut.size

    def per_time(x: np.ndarray) -> np.ndarray:
        return np.bincount(j, weights=x, minlength=k)

    def mean_sum(h: np.ndarray) -> np.ndarray:
        out = S @ per_time(h / s0)
        return out - D @ per_time(f * h / s0) if efron else out

    def var_sum(h: np.ndarray) -> np.ndarray:
        w = rs.spread(per_time(h / s0))
        h2 = h / s0**2
        mm = (S * per_time(h2)) @ S.T
        if efron:
            w[rs.dead] -= per_time(f * h / s0)[j]
            sd = (S * per_time(f * h2)) @ D.T
            mm += (D * per_time(f * f * h2)) @ D.T - sd - sd.T
        w *= r
        return des.weighted_cross(w) - mm

    ones = np.ones(j.size)
    return ll, des.x_dead - mean_sum(ones), var_sum(ones), mean_sum, var_sum


def _risk_sets(rs: RiskSets | None, t, e, s) -> RiskSets:
    """``rs`` if given (checked against the samples' size and events), else a new one."""
    if rs is None:
        return RiskSets(t, e, s)
    if rs.n != t.size or rs.dead.size != (e == 1).sum():
        raise ValueError("risk_sets were built for other samples")
    return rs


def fit_cox(
    time,
    event,
    X,
    *,
    entry=None,
    ties: str = "efron",
    maxit: int = 50,
    tol: float = 1e-12,
    risk_sets: RiskSets | None = None,
) -> CoxFit:
    """Cox proportional-hazards regression by Newton-Raphson on the partial likelihood.

    Parameters
    ----------
    time : float array (n,), follow-up end (> 0). No missing values (drop them first).
    event : float array (n,), 1 event, 0 censored.
    X : float array (n, p), no intercept; p may be 0 (then the null log partial likelihood).
    entry : optional float array (n,), delayed entry (left truncation): the sample is at risk on
        ``(entry, time]``, as ``Surv(entry, time, event)``.
    ties : ``"efron"`` (R's default, Efron 1977) or ``"breslow"``.
    maxit, tol : convergence when the relative change of the log partial likelihood is below
        ``tol`` (R ``coxph.control(eps)``) and the largest step below ``sqrt(tol)``.
    risk_sets : optional ``RiskSets(time, event, entry)`` to reuse across models on these samples.

    Returns
    -------
    CoxFit with ``cov`` the inverse information at the estimate (R ``vcov(fit)``).
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    t, e, s = check_survival(time, event, entry)
    X = np.asarray(X, dtype=float).reshape(t.size, -1)
    if np.isnan(t).any() or np.isnan(e).any() or np.isnan(X).any() or (s is not None and np.isnan(s).any()):
        raise ValueError("fit_cox: drop samples with missing time, event, entry or covariates first")
    X = X - X.mean(axis=0) if X.shape[0] else X  # location-invariant; better conditioned
    rs = _risk_sets(risk_sets, t, e, s)
    p = X.shape[1]
    beta = np.zeros(p)
    des = _Design(rs, X)
    ll, score, info, _, _ = _cox_terms(des, beta, ties)
    if p == 0:
        return CoxFit(beta, np.zeros((0, 0)), ll, True, 0)
    converged = False
    n_iter = 0
    for n_iter in range(1, maxit + 1):  # noqa: B007 (n_iter is reported)
        try:
            with warnings.catch_warnings():  # near-singular: shows as huge SEs, handled by callers
                warnings.simplefilter("ignore", linalg.LinAlgWarning)
                step = linalg.solve(info, score, assume_a="pos")
        except (linalg.LinAlgError, ValueError):
            break
        t_ = 1.0
        for _ in range(30):
            new = beta + t_ * step
            ll_new, score_new, info_new, _, _ = _cox_terms(des, new, ties)
            if math.isfinite(ll_new) and ll_new >= ll - 1e-12 * (abs(ll) + 1):
                break
            t_ *= 0.5
        else:
            break
        change = abs(ll_new - ll) / (abs(ll) + 1e-300)
        beta, ll, score, info = new, ll_new, score_new, info_new
        if change < tol and np.max(np.abs(t_ * step)) < math.sqrt(tol):
            converged = True
            break
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            cov = linalg.inv(info)
        if not np.all(np.isfinite(cov)):
            raise linalg.LinAlgError
    except (linalg.LinAlgError, ValueError):
        cov = np.full((p, p), np.nan)
        converged = False
    return CoxFit(beta=beta, cov=cov, loglik=ll, converged=converged, n_iter=n_iter)


def ph_test(
    time,
    event,
    X,
    beta,
    *,
    terms: dict[str, list[int]],
    entry=None,
    ties: str = "efron",
    risk_sets: RiskSets | None = None,
) -> pd.DataFrame:
    """Score test of proportional hazards (Grambsch & Therneau 1994), as R ``cox.zph``.

    Tests adding ``X_j * g(t)`` for the terms' columns at the fitted ``beta`` (and 0 for the new
    coefficients), with g the Kaplan-Meier transform ``1 - S(t-)`` centred at its mean over the
    events (survival >= 3.0, ``transform = "km"``): for a term with columns J the statistic is
    ``u' V^{-1} u`` with u the score of the g-terms J and V the information of ``(beta, g-terms
    J)``; GLOBAL uses all g-terms.

    Parameters
    ----------
    time, event, X, entry, ties, risk_sets : as :func:`fit_cox` (complete cases).
    beta : the fitted coefficients (p,).
    terms : term name -> column indices of ``X`` (R ``fit$assign``).

    Returns
    -------
    DataFrame with columns ``term, chisq, df, p`` (the terms, then ``GLOBAL``).
    """
    t, e, s = check_survival(time, event, entry)
    X = np.asarray(X, dtype=float).reshape(t.size, -1)
    p = X.shape[1]
    X = X - X.mean(axis=0)
    rs = _risk_sets(risk_sets, t, e, s)
    # g depends on the time only: one value per event time, centred over the events
    g_time = rs.km_left()
    g_time = g_time - g_time[rs.death_time].mean()
    des = _Design(rs, X)
    _, _, i11, mean_sum, var_sum = _cox_terms(des, np.asarray(beta, dtype=float), ties)
    gk = g_time[rs.rank_time]  # per death row
    # score of the g-terms: sum over death rows g(t) (mean x of the deaths at t - mean_j)
    u2 = rs.sums(des.Xt)[1] @ g_time - mean_sum(gk)
    i12 = var_sum(gk)
    i22 = var_sum(gk**2)
    imat = np.block([[i11, i12], [i12.T, i22]])
    out = []
    for name, cols in [*terms.items(), ("GLOBAL", list(range(p)))]:
        kk = list(range(p)) + [p + c for c in cols]
        u = np.concatenate([np.zeros(p), u2[cols]])
        chisq = float(u @ linalg.solve(imat[np.ix_(kk, kk)], u, assume_a="sym"))
        out.append({"term": name, "chisq": chisq, "df": len(cols), "p": regression.chi2_sf(chisq, len(cols))})
    return pd.DataFrame(out, columns=["term", "chisq", "df", "p"])


def kaplan_meier(time, event, *, entry=None) -> pd.DataFrame:
    """Kaplan-Meier product-limit estimate (delayed entry allowed: risk set entry < t <= time).

    Returns one row per distinct time (events or censorings): ``time, n_risk, n_event,
    n_censor, surv`` (as R ``survfit(Surv(...) ~ 1)``); samples with a missing value are dropped.
    """
    t, e, s = check_survival(time, event, entry)
    ok = ~np.isnan(t) & ~np.isnan(e) & (np.ones_like(t, bool) if s is None else ~np.isnan(s))
    t, e = t[ok], e[ok]
    s = None if s is None else s[ok]
    times = np.unique(t)
    n_risk = len(t) - np.searchsorted(np.sort(t), times, side="left")
    if s is not None:
        n_risk = n_risk - (len(s) - np.searchsorted(np.sort(s), times, side="left"))
    idx = np.searchsorted(times, t)
    n_event = np.bincount(idx, weights=e, minlength=times.size)
    n_all = np.bincount(idx, minlength=times.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n_risk > 0, 1.0 - n_event / n_risk, 1.0)
    return pd.DataFrame(
        {
            "time": times,
            "n_risk": n_risk.astype(int),
            "n_event": n_event.astype(int),
            "n_censor": (n_all - n_event).astype(int),
            "surv": np.cumprod(factor),
        }
    )


# --------------------------------------------------------------------------------------------
# genetic models
# --------------------------------------------------------------------------------------------


def _base(n: int, e: np.ndarray) -> dict:
    return {"n": n, "n_cases": int(e.sum()), "n_controls": n - int(e.sum())}


def _event_checks(e: np.ndarray, n: int, p: int, min_n: int, min_events: int) -> str:
    if n < max(min_n, p + 1):
        return f"too few samples (n={n} < {max(min_n, p + 1)})"
    events = int(e.sum())
    if events == 0:
        return "no events"
    if events < max(min_events, 1):
        return f"too few events (n_events={events} < {min_events})"
    return ""


def cox_vs_null(
    model: str,
    terms: list[str],
    time: np.ndarray,
    event: np.ndarray,
    X: np.ndarray,
    k: int,
    null: CoxFit,
    *,
    entry: np.ndarray | None,
    base: dict,
    method_suffix: str = "",
    ph_terms: dict[str, list[int]] | None = None,
    risk_sets: RiskSets | None = None,
) -> tuple[list[TestResult], CoxFit | None]:
    """Fit ``X`` (last ``k`` columns tested), LRT against ``null`` fitted on the same samples."""
    p = X.shape[1]
    idx = np.arange(p - k, p)
    fit = fit_cox(time, event, X, entry=entry, risk_sets=risk_sets)
    b, se = fit.beta[idx], fit.se[idx]
    if not fit.converged or np.any(np.abs(b) > MAX_ABS_BETA) or np.any(~(se <= MAX_SE)):
        note = MONOTONE if fit.converged or np.any(np.abs(b) > MAX_ABS_BETA) else "Cox model did not converge"
        return [TestResult(model=model, term=t, note=note, **base) for t in terms], None
    lr = max(2.0 * (fit.loglik - null.loglik), 0.0)
    rows = []
    for t, bj, sj in zip(terms, b, se, strict=True):
        rows.append(
            TestResult(
                model=model,
                term=t,
                estimate=math.exp(bj),
                estimate_type="HR",
                ci_lower=math.exp(bj - Z95 * sj),
                ci_upper=math.exp(bj + Z95 * sj),
                standard_error=float(sj),
                statistic=lr,
                df=float(k),
                p_value=regression.chi2_sf(lr, k),
                aic=-2.0 * fit.loglik + 2.0 * p,
                method=METHOD + method_suffix,
                **base,
            )
        )
    return rows, fit


def cox_genetic_models(
    time,
    event,
    effect_count,
    covariates,
    *,
    entry=None,
    ploidy: int = 2,
    dosage=None,
    covariate_names=None,
    min_n: int = 30,
    min_events: int = 1,
) -> list[TestResult]:
    """Cox models of one variant: the SNPassoc genetic models with HR, and their PH tests.

    The genotype codings, terms and their order are those of
    :func:`vdrbone.regression.genetic_models` (codominant ``het``/``hom_alt``, dominant
    ``carrier``, recessive ``hom_alt``, overdominant ``het``, additive ``per_allele``; mtDNA
    ``carrier``). Each model is ``coxph(Surv([entry,] time, event) ~ covariates + genotype,
    ties = "efron")``: HR = exp(beta) with Wald 95% CI, p from the LRT against the covariate-only
    Cox model on the same complete-case samples (R ``anova(m0, m1)``). After the genetic rows,
    one ``ph_test`` row per estimable model with the ``cox.zph`` test of the genetic term(s)
    (term = model name) and one with its GLOBAL test (term ``<model>_global``).

    A genotype group without events (monotone likelihood: the HR diverges), ``|beta| > 15`` or
    ``SE > 10`` give NaN rows with the note (no Firth correction for Cox models here).

    Parameters
    ----------
    time, event, entry : follow-up (see :func:`fit_cox`); NaN = missing.
    effect_count, covariates, ploidy, dosage, covariate_names, min_n : as
        :func:`vdrbone.regression.genetic_models` (with ``dosage`` the additive model uses the DS
        dosage where present and the hard call elsewhere, on samples with either).
    min_events : fewer events than this gives NaN rows (config ``association.min_cases``).

    Returns
    -------
    list of TestResult; ``n_cases`` = events, ``n_controls`` = censored samples.
    """
    t, e, s = check_survival(time, event, entry)
    n_all = t.size
    g = regression._as_1d(effect_count, "effect_count", n_all)
    regression._check_counts(g, ploidy)
    c = np.asarray(covariates, dtype=float).reshape(n_all, -1)
    names = regression._names(covariate_names, c.shape[1])
    ds = None
    if dosage is not None:
        ds = regression._as_1d(dosage, "dosage", n_all)
        ds = np.where(np.isnan(ds), g, ds)
    keep = ~np.isnan(t) & ~np.isnan(e) & ~np.isnan(c).any(axis=1)
    if s is not None:
        keep &= ~np.isnan(s)
    rows: list[TestResult] = []
    ph_rows: list[TestResult] = []
    sets = [("classes", keep & ~np.isnan(g))]
    if ds is not None:
        sets.append(("dosage", keep & ~np.isnan(ds)))
    for what, ok in sets:
        tt, ee, cc = t[ok], e[ok], c[ok]
        ss = None if s is None else s[ok]
        gg = g[ok] if what == "classes" else np.round(ds[ok])
        dd = None if what == "classes" else ds[ok]
        n = int(ok.sum())
        base = _base(n, ee)
        all_terms = regression.GENETIC_MODEL_TERMS[ploidy]
        if what == "dosage":
            all_terms = [("additive", "per_allele")]
        elif ds is not None:
            all_terms = [mt for mt in all_terms if mt[0] != "additive"]

        def nan_rows(note, terms=all_terms, base=base):
            return [TestResult(model=m, term=t_, note=note, **base) for m, t_ in terms]

        note = _event_checks(ee, n, cc.shape[1] + (2 if ploidy == 2 else 1), min_n, min_events)
        if not note and len(np.unique(gg)) < 2:
            note = "monomorphic in this stratum"
        if not note:
            note = regression.collinear_note(np.column_stack([np.ones(n), cc]), names)
        if note:
            rows += nan_rows(note)
            continue
        rs = RiskSets(tt, ee, ss)  # one time order for the null, every genetic model and PH test
        null = fit_cox(tt, ee, cc, entry=ss, risk_sets=rs)
        for spec in regression._specs(gg, dd, ploidy):
            if what == "dosage" and spec.model != "additive":
                continue
            if what == "classes" and ds is not None and spec.model == "additive":
                continue
            terms = ["het", "hom_alt"] if spec.model == "codominant" else spec.terms
            if spec.note:
                rows += [TestResult(model=spec.model, term=t_, note=spec.note, **base) for t_ in terms]
                continue
            X = np.column_stack([cc, spec.columns])
            if regression._dependent_columns(np.column_stack([np.ones(n), X])):
                rows += nan_rows(
                    "singular design (covariate collinear with genotype)", [(spec.model, t_) for t_ in terms]
                )
                continue
            k = spec.columns.shape[1]
            if spec.separating is not None and any(
                np.isin(gg, grp).any() and ee[np.isin(gg, grp)].sum() == 0 for grp in spec.separating
            ):
                rows += nan_rows(MONOTONE, [(spec.model, t_) for t_ in terms])
                continue
            got, fit = cox_vs_null(
                spec.model,
                spec.terms,
                tt,
                ee,
                X,
                k,
                null,
                entry=ss,
                base=base,
                method_suffix=spec.method_suffix,
                risk_sets=rs,
            )
            if spec.absent_terms:
                for r in got:
                    r.note = "; ".join(x for x in (r.note, f"{spec.model} reduced to {k} df") if x)
                by_term = {r.term: r for r in got}
                got = [
                    by_term[t_]
                    if t_ in by_term
                    else TestResult(model=spec.model, term=t_, note=spec.absent_terms[t_], **base)
                    for t_ in ("het", "hom_alt")
                ]
            if what == "dosage" and n != int((keep & ~np.isnan(g)).sum()):
                for r in got:
                    extra = (
                        f"dosage model on n={n} (genotype-class models n={int((keep & ~np.isnan(g)).sum())})"
                    )
                    r.note = "; ".join(x for x in (r.note, extra) if x)
            rows += got
            if fit is not None:
                p = X.shape[1]
                tab = ph_test(
                    tt, ee, X, fit.beta, entry=ss, terms={spec.model: list(range(p - k, p))}, risk_sets=rs
                )
                for term, r in ((spec.model, tab.iloc[0]), (f"{spec.model}_global", tab.iloc[-1])):
                    ph_rows.append(
                        TestResult(
                            model="ph_test", term=term, statistic=float(r["chisq"]), df=float(r["df"]),
                            p_value=float(r["p"]), method=PH_METHOD, **base,
                        )
                    )  # fmt: skip
    # table order: genetic models as regression.genetic_models, then the PH tests
    order = {mt: i for i, mt in enumerate(regression.GENETIC_MODEL_TERMS[ploidy])}
    rows.sort(key=lambda r: order.get((r.model, r.term), 99))
    ph_order = [m for m, _ in regression.GENETIC_MODEL_TERMS[ploidy]]
    ph_rows.sort(key=lambda r: ph_order.index(r.term.removesuffix("_global")))
    return rows + ph_rows


KM_COLUMNS = ["time", "n_risk", "n_event", "n_censor", "surv"]


def km_grid(time, event, *, entry=None, grid) -> pd.DataFrame:
    """Kaplan-Meier estimate read at the times of ``grid`` (ascending, first 0): one row per grid
    time with ``n_risk`` at that time, ``n_event`` / ``n_censor`` in (previous grid time, time]
    and ``surv`` S(time). Aggregated this way, a curve shows no individual event times."""
    km = kaplan_meier(time, event, entry=entry)
    t, e, s = check_survival(time, event, entry)
    ok = ~np.isnan(t) & ~np.isnan(e) & (np.ones_like(t, bool) if s is None else ~np.isnan(s))
    t, e = t[ok], e[ok]
    s = np.zeros_like(t) if s is None else s[ok]
    grid = np.asarray(grid, dtype=float)
    rows = []
    prev = -np.inf
    for g in grid:
        at = km[km["time"] <= g]
        within = (t > prev) & (t <= g)
        rows.append(
            {
                "time": float(g),
                # at risk just after g: entered at or before g, not yet failed or censored
                "n_risk": int(((s <= g) & (t > g)).sum()),
                "n_event": int((within & (e == 1)).sum()),
                "n_censor": int((within & (e == 0)).sum()),
                "surv": float(at["surv"].iloc[-1]) if len(at) else 1.0,
            }
        )
        prev = g
    return pd.DataFrame(rows, columns=KM_COLUMNS)


def time_grid(time, *, points: int = 20) -> np.ndarray:
    """0 and about ``points`` round steps (1, 2 or 5 x 10^k) up to the largest follow-up time."""
    t = np.asarray(time, dtype=float)
    t = t[np.isfinite(t)]
    if t.size == 0:
        return np.array([0.0])
    raw = float(t.max()) / points
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    return np.arange(0.0, float(t.max()) + step, step)
