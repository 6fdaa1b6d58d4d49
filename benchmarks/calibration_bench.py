"""Type-I error of the mtDNA carrier tests on null cohorts from the workflow's own simulator.

Each cohort: ``vdrbone.simulate.simulate_cohort`` with ``null=True`` (no planted effect),
``--n-samples`` people (default 3,000), m.4823 carrier frequency ``--carrier-freq`` (default
0.003, about 9 carriers per cohort), seeds 1..``--n-cohorts``. The fracture outcome is analysed
by ``vdrbone.association.associate_outcome`` (stratum ``all``, covariates age_years and bmi plus
sex and T2DM, as the default config), exactly as the workflow does. Two rows are read per cohort:

- ``carrier``: logistic regression of fracture on carrier status; the likelihood-ratio test, or
  the penalised likelihood-ratio test where the fit fell back to Firth (separation: often no
  case among the carriers);
- ``carrier_fisher``: two-sided Fisher exact test on the 2x2 carrier x case table.

The empirical type-I error at alpha = 0.05 and 0.01 is compared with the 99% binomial
acceptance interval of the number of rejections under a correct alpha-level test
(``scipy.stats.binom.ppf([0.005, 0.995], n_tests, alpha)``). A test passes when its count lies
inside the interval or below it (conservative). Writes the per-cohort p-values to
``benchmarks/out/calibration_pvalues.tsv`` and the summary to
``benchmarks/out/calibration_summary.tsv``; prints the summary. Exit status 1 when a test fails.

Usage (about 13 minutes on one core of a shared 2-core machine)::

    PYTHONPATH=workflow/scripts .venv/bin/python benchmarks/calibration_bench.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from vdrbone.association import associate_outcome
from vdrbone.panel import read_panel
from vdrbone.settings import settings_from_config
from vdrbone.simulate import simulate_cohort

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
VARIANT = "m.4823"
CONFIG = {
    "outcomes": {"fracture": {"type": "binary"}},
    "covariates": ["age_years", "bmi"],
    "strata": ["all"],
    "genotypes": {"use_dosage": False},
    "qc": {"action": "flag"},
    "association": {"min_stratum_n": 30, "min_cases": 5},
}


def cohort_tables(sim) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long calls table and coded phenotypes of a SimulatedCohort, as extraction gives them."""
    n = sim.n_samples
    ids = sim.panel.ids
    counts = np.where(sim.missing, np.nan, sim.genotypes.astype(float))
    calls = pd.DataFrame(
        {
            "sample": np.tile(sim.samples, len(ids)),
            "variant": np.repeat(ids, n),
            "effect_count": counts.reshape(-1),
            "dosage": np.nan,
        }
    )
    ph = sim.phenotypes.copy()
    ph["t2dm"] = np.where(ph["t2dm"], "yes", "no")
    ph = ph.astype({c: object for c in ph.columns if c != "sample"})
    for col in sim.phenotype_missing.columns:
        ph.loc[sim.phenotype_missing[col].to_numpy(), col] = np.nan
    for col in ("age_years", "bmi", "fracture"):
        ph[col] = ph[col].astype(float)
    return calls, ph


def run(n_cohorts: int, n_samples: int, carrier_freq: float) -> pd.DataFrame:
    panel = read_panel(ROOT / "resources" / "vdr_snps.tsv").select([VARIANT])
    rows = []
    t0 = time.perf_counter()
    for seed in range(1, n_cohorts + 1):
        sim = simulate_cohort(
            panel,
            n_samples=n_samples,
            seed=seed,
            null=True,
            n_background=(0, 0),
            mt_carrier_freq=carrier_freq,
        )
        calls, ph = cohort_tables(sim)
        a = associate_outcome(
            calls, ph, panel, outcome="fracture", settings=settings_from_config(CONFIG)
        ).association
        a = a[(a["stratum"] == "all") & a["model"].isin(["carrier", "carrier_fisher"])].set_index("model")
        carriers = int(np.nansum(calls["effect_count"]))
        rows.append(
            {
                "seed": seed,
                "carriers": carriers,
                "carrier_p": float(a.loc["carrier", "p_value"]),
                "carrier_firth": str(a.loc["carrier", "method"]).startswith("logistic (Firth)"),
                "carrier_wald_p": float(a.loc["carrier", "wald_p_value"]),
                "carrier_fisher_p": float(a.loc["carrier_fisher", "p_value"]),
            }
        )
        if seed % 100 == 0:
            print(f"{seed} cohorts, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def summarise(p: pd.DataFrame) -> pd.DataFrame:
    out = []
    tests = {
        "carrier (LRT; penalised LRT where Firth)": p["carrier_p"],
        "carrier_fisher": p["carrier_fisher_p"],
        "carrier, Wald p of the same fits (for comparison)": p["carrier_wald_p"],
    }
    for name, col in tests.items():
        v = col.dropna().to_numpy()
        for alpha in (0.05, 0.01):
            k = int((v < alpha).sum())
            lo, hi = stats.binom.ppf([0.005, 0.995], len(v), alpha)
            out.append(
                {
                    "test": name,
                    "alpha": alpha,
                    "n_tests": len(v),
                    "rejections": k,
                    "type_I_error": k / len(v),
                    "interval_99": f"{int(lo)}-{int(hi)}",
                    "verdict": "inside"
                    if lo <= k <= hi
                    else ("conservative" if k < lo else "ANTI-CONSERVATIVE"),
                }
            )
    return pd.DataFrame(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-cohorts", type=int, default=1000)
    ap.add_argument("--n-samples", type=int, default=3000)
    ap.add_argument("--carrier-freq", type=float, default=0.003)
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    p = run(args.n_cohorts, args.n_samples, args.carrier_freq)
    p.to_csv(OUT / "calibration_pvalues.tsv", sep="\t", index=False)
    s = summarise(p)
    s.to_csv(OUT / "calibration_summary.tsv", sep="\t", index=False)
    print(
        f"{len(p)} null cohorts of {args.n_samples}, carrier frequency {args.carrier_freq}: "
        f"median {int(p['carriers'].median())} carriers, Firth fallback in {int(p['carrier_firth'].sum())}"
    )
    print(s.to_string(index=False))
    primary = s[~s["test"].str.startswith("carrier, Wald")]
    return 1 if (primary["verdict"] == "ANTI-CONSERVATIVE").any() else 0


if __name__ == "__main__":
    sys.exit(main())
