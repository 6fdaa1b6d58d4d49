"""Power and minimum detectable effect of the log-additive (mtDNA: carrier) test.

Large-sample approximations for a two-sided Wald / likelihood-ratio test of one coefficient with
standard error ``se``: power = Phi(|b|/se - z) + Phi(-|b|/se - z) with z = Phi^-1(1 - alpha/2),
and the minimum detectable effect at power 1 - beta is ``(z + Phi^-1(1 - beta)) se``:

- continuous (linear): ``se = sd(y) / sqrt(n var(g))`` (Quanto-style, covariates ignored: the
  residual SD after adjustment is smaller, so this errs on the conservative side);
- binary (logistic): ``se(log OR) = 1 / sqrt(n phi (1 - phi) var(g))``, phi the case fraction
  (the score-test information at OR = 1; Demidenko 2007, Stat Med 26:3385);
- time to event (Cox): ``se(log HR) = 1 / sqrt(D var(g))``, D the number of events (Schoenfeld
  1983, Biometrics 39:499).

``var(g)`` is the variance of the effect-allele count (carrier indicator) in the analysed
samples, so departures from HWE are taken as observed. ``assumed_effect`` is per effect allele:
OR, beta (outcome units) or HR. ``mde_80`` is returned on the same scale.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from vdrbone.settings import Settings

POWER_COLUMNS = [
    "variant", "outcome", "stratum", "model", "n", "effect_allele_freq", "assumed_effect", "power", "mde_80",
    "level", "alpha", "estimate_type", "n_events", "note",
]  # fmt: skip
ESTIMATE_TYPES = {"binary": "OR", "continuous": "beta", "time_to_event": "HR"}


def standard_error(
    outcome_type: str, *, n: int, var_g: float, n_events: int = 0, sd_y: float = math.nan
) -> float:
    """Approximate SE of the per-allele coefficient (log OR, beta or log HR); see module doc."""
    if outcome_type == "continuous":
        info = n * var_g / sd_y**2 if sd_y > 0 else 0.0
    elif outcome_type == "binary":
        phi = n_events / n if n else 0.0
        info = n * phi * (1 - phi) * var_g
    elif outcome_type == "time_to_event":
        info = n_events * var_g
    else:
        raise ValueError(f"outcome_type must be binary, continuous or time_to_event, got {outcome_type!r}")
    return 1.0 / math.sqrt(info) if info > 0 else math.inf


def power_at(effect: float, se: float, alpha: float) -> float:
    """Power of the two-sided level-``alpha`` test of a coefficient ``effect`` (log scale for ratios).

    Phi and Phi^-1 are ``scipy.special.ndtr`` / ``ndtri``, the kernels of ``scipy.stats.norm``
    without its per-call argument handling (this runs inside a root search).
    """
    if not (0 < alpha < 1):
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if not math.isfinite(se):
        return alpha if effect == 0 else math.nan
    z = -special.ndtri(alpha / 2)
    d = abs(effect) / se
    return float(special.ndtr(d - z) + special.ndtr(-d - z))


def detectable(se: float, alpha: float, target: float = 0.8) -> float:
    """Smallest |coefficient| with power ``target`` at two-sided ``alpha`` (exact for the formula above)."""
    if not math.isfinite(se):
        return math.nan
    guess = (-special.ndtri(alpha / 2) + special.ndtri(target)) * se
    from scipy.optimize import brentq  # imported when needed: scipy.optimize takes 0.3 s to load

    return float(brentq(lambda b: power_at(b, se, alpha) - target, 0.5 * guess, 2 * guess + 1e-12))


def power_rows(
    outcome_type: str,
    y,
    g,
    *,
    assumed_effect: float,
    alphas: dict[str, float],
    ploidy: int = 2,
    target: float = 0.8,
) -> list[dict]:
    """Power and MDE of one variant x stratum, one dict per significance level.

    Parameters
    ----------
    outcome_type : binary | continuous | time_to_event.
    y : float array (n,) of the analysed samples (0/1; event indicator for time to event).
    g : float array (n,) effect-allele counts (ploidy 2) or carrier 0/1 (ploidy 1), same samples.
    assumed_effect : OR, beta or HR per effect allele.
    alphas : level name -> alpha (e.g. ``{"nominal": 0.05, "bonferroni": 0.05 / m}``).

    Returns dicts with ``n, effect_allele_freq, assumed_effect, power, mde_80, level, alpha,
    estimate_type, n_events, note``.
    """
    y = np.asarray(y, dtype=float)
    g = np.asarray(g, dtype=float)
    if y.shape != g.shape:
        raise ValueError(f"y and g must have the same shape, got {y.shape} and {g.shape}")
    n = int(y.size)
    ratio = outcome_type != "continuous"
    if ratio and not assumed_effect > 0:
        raise ValueError(f"assumed effect of a ratio (OR/HR) must be > 0, got {assumed_effect}")
    effect = math.log(assumed_effect) if ratio else float(assumed_effect)
    n_events = int(y.sum()) if ratio else 0
    var_g = float(g.var()) if n > 1 else 0.0
    freq = float(g.mean() / ploidy) if n else math.nan
    note = ""
    if n < 2 or var_g == 0:
        note = "monomorphic or too few samples: no power"
    sd = float(y.std(ddof=1)) if (not ratio and n > 1) else math.nan
    se = standard_error(outcome_type, n=n, var_g=var_g, n_events=n_events, sd_y=sd) if not note else math.inf
    out = []
    for level, alpha in alphas.items():
        mde = detectable(se, alpha, target)
        out.append(
            {
                "n": n,
                "effect_allele_freq": freq,
                "assumed_effect": float(assumed_effect),
                "power": power_at(effect, se, alpha) if not note else math.nan,
                "mde_80": (math.exp(mde) if ratio else mde) if math.isfinite(mde) else math.nan,
                "level": level,
                "alpha": float(alpha),
                "estimate_type": ESTIMATE_TYPES[outcome_type],
                "n_events": n_events if ratio else None,
                "note": note,
            }
        )
    return out


def settings(run: Settings, outcome: str, outcome_type: str) -> tuple[float, float]:
    """(alpha, assumed effect) of an outcome: ``run.power`` (per outcome type; defaults in the
    schema), overridden by the outcome's own ``assumed_effect``."""
    effect = run.outcome(outcome).get("assumed_effect", run.power.assumed_effect[outcome_type])
    return float(run.power.alpha), float(effect)
