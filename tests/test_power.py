"""Power and minimum detectable effect (vdrbone.power).

Fast tests check the formulas; the calibration study (marker ``calibration``, excluded from the
default run by ``addopts``) compares the predicted power with the empirical power of the
workflow's own tests over 500 simulated cohorts at one design point per outcome type:

    PYTHONPATH=workflow/scripts python -m pytest -m calibration tests/test_power.py -s
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from vdrbone import power
from vdrbone.regression import genetic_models
from vdrbone.survival import cox_genetic_models


def test_power_and_mde_formulas():
    # continuous: se = sd / sqrt(n var g); power at the MDE is 80%
    se = power.standard_error("continuous", n=400, var_g=0.42, sd_y=0.12)
    assert_allclose(se, 0.12 / math.sqrt(400 * 0.42))
    mde = power.detectable(se, 0.05)
    assert_allclose(power.power_at(mde, se, 0.05), 0.8, atol=1e-10)
    # the one-tail approximation (z_a/2 + z_b) se ignores the far tail: slightly larger than exact
    approx = (stats.norm.isf(0.025) + stats.norm.ppf(0.8)) * se
    assert approx > mde and approx / mde - 1 < 1e-5
    # Schoenfeld: events only; logistic: n phi (1 - phi) var g
    assert_allclose(
        power.standard_error("time_to_event", n=10_000, var_g=0.5, n_events=200), 1 / math.sqrt(100)
    )
    assert_allclose(
        power.standard_error("binary", n=1000, var_g=0.5, n_events=200), 1 / math.sqrt(1000 * 0.16 * 0.5)
    )
    assert power.power_at(0.0, se, 0.05) == pytest.approx(0.05)
    assert power.power_at(0.05, se, 1e-4) < power.power_at(0.05, se, 0.05)


def test_power_rows_levels_and_monomorphic():
    rng = np.random.default_rng(1)
    g = rng.binomial(2, 0.3, 500).astype(float)
    y = rng.binomial(1, 0.3, 500).astype(float)
    rows = power.power_rows("binary", y, g, assumed_effect=1.3, alphas={"nominal": 0.05, "bonferroni": 0.001})
    assert [r["level"] for r in rows] == ["nominal", "bonferroni"]
    assert rows[0]["power"] > rows[1]["power"] and rows[0]["mde_80"] < rows[1]["mde_80"]
    assert rows[0]["estimate_type"] == "OR" and rows[0]["n_events"] == int(y.sum())
    assert_allclose(rows[0]["effect_allele_freq"], g.mean() / 2)
    mono = power.power_rows("continuous", y, np.zeros(500), assumed_effect=0.02, alphas={"nominal": 0.05})
    assert mono[0]["note"] == "monomorphic or too few samples: no power" and math.isnan(mono[0]["power"])
    with pytest.raises(ValueError, match="assumed effect of a ratio"):
        power.power_rows("time_to_event", y, g, assumed_effect=-1, alphas={"nominal": 0.05})


# ------------------------------------------------------------------ calibration (slow)
N_SIM = 500
DESIGNS = {
    "continuous": {"n": 400, "p": 0.3, "effect": 0.025, "sd": 0.12},
    "binary": {"n": 1500, "p": 0.3, "effect": 1.25, "prevalence": 0.25},
    "time_to_event": {"n": 1000, "p": 0.3, "effect": 1.25, "event_rate": 0.3},
}


def _simulate(kind, d, rng):
    g = rng.binomial(2, d["p"], d["n"]).astype(float)
    if kind == "continuous":
        return {"y": d["effect"] * g + rng.normal(0, d["sd"], d["n"]), "g": g}
    if kind == "binary":
        b = math.log(d["effect"])
        a = math.log(d["prevalence"] / (1 - d["prevalence"])) - b * 2 * d["p"]
        return {"y": (rng.random(d["n"]) < 1 / (1 + np.exp(-(a + b * g)))).astype(float), "g": g}
    t = rng.exponential(1 / np.exp(math.log(d["effect"]) * g))
    c = rng.exponential(1 / (1 / d["event_rate"] - 1), d["n"])  # about event_rate events
    return {"y": (t <= c).astype(float), "time": np.minimum(t, c), "g": g}


def _p_value(kind, s):
    none = np.empty((len(s["g"]), 0))
    if kind == "time_to_event":
        rows = cox_genetic_models(s["time"], s["y"], s["g"], none, min_n=1)
    else:
        rows = genetic_models(s["y"], s["g"], none, outcome_type=kind, min_n=1)
    return next(r.p_value for r in rows if r.model == "additive")


@pytest.mark.calibration
@pytest.mark.parametrize("kind", list(DESIGNS))
def test_power_matches_empirical_power_of_the_workflow_tests(kind):
    d = DESIGNS[kind]
    rng = np.random.default_rng({"continuous": 1, "binary": 2, "time_to_event": 3}[kind])
    hits, predicted = 0, []
    for _ in range(N_SIM):
        s = _simulate(kind, d, rng)
        hits += _p_value(kind, s) < 0.05
        (row,) = power.power_rows(kind, s["y"], s["g"], assumed_effect=d["effect"], alphas={"nominal": 0.05})
        predicted.append(row["power"])
    pred = float(np.mean(predicted))
    ci = stats.binomtest(hits, N_SIM).proportion_ci(0.95, method="exact")
    emp = f"empirical {hits / N_SIM:.3f} ({hits}/{N_SIM}), 95% CI {ci.low:.3f}-{ci.high:.3f}"
    print(f"{kind}: predicted {pred:.3f}, {emp}")
    assert ci.low <= pred <= ci.high


def test_power_kernels_equal_scipy_stats_norm():
    """power_at / detectable use special.ndtr / ndtri: the same numbers as scipy.stats.norm."""

    def power_norm(effect, se, alpha):
        z = stats.norm.isf(alpha / 2)
        d = abs(effect) / se
        return float(stats.norm.cdf(d - z) + stats.norm.cdf(-d - z))

    for effect, se, alpha in [(0.1, 0.03, 0.05), (-0.4, 0.2, 1e-6), (0.0, 0.5, 0.01), (2.0, 0.01, 0.05)]:
        assert power.power_at(effect, se, alpha) == power_norm(effect, se, alpha)
        guess = (stats.norm.isf(alpha / 2) + stats.norm.ppf(0.8)) * se
        assert power.power_at(guess, se, alpha) == power_norm(guess, se, alpha)
        mde = power.detectable(se, alpha)
        assert power_norm(mde, se, alpha) == pytest.approx(0.8, abs=1e-9)
