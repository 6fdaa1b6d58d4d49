"""Benchmark of the permutation step (vdrbone.permutation) against PLINK 1.9 --assoc --mperm.

Sub-commands (run by ``benchmarks/permutation.sh``):

``prepare``  simulate a cohort with the default config's panel and planted effects
             (``--n-samples``, seed 20261126, no background variants) into
             ``benchmarks/data/perm<N>/``: the long call table and coded phenotypes that the
             ``permutation`` rule reads, and the same data for PLINK 1.9 (``c.bed/.bim/.fam`` via
             ``--make-bed``, effect allele as A1, mtDNA on chromosome MT; ``c.pheno`` with the four
             outcomes, fracture coded 1/2; ``cells.txt`` = T2DM x sex cells for ``--within``; one
             ``--keep`` file per stratum).
``ours``     load the inputs, then time :func:`vdrbone.permutation.permutation_outcome` for each of
             the 4 outcomes (default config: 9 strata x 6 variants, ``--n-perm`` max(T)
             permutations, no adaptive run); print one JSON line (seconds per outcome, total, peak
             RSS).
``plink``    run ``plink1.9 --bfile c --keep <stratum> --within cells.txt --pheno-name <outcome>
             --assoc --mperm <n> --threads <t>`` for every outcome x stratum (36 runs: PLINK analyses
             one stratum per run) and print one JSON line with the wall time.
``time``     alternate ``ours`` / ``plink --threads 2`` ``--runs`` times, each in a fresh process;
             write every run to a TSV and print the medians.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from association_bench import STRATA, stratum_members  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
OUTCOMES = ["bmd_ls", "bmd_fn", "bmd_th", "fracture"]


def _config():
    from vdrbone.settings import load_yaml, validate_config

    return validate_config(
        load_yaml(ROOT / "config" / "config.yaml"), ROOT / "workflow/schemas/config.schema.yaml"
    )


def prepare(n_samples: int) -> Path:
    import numpy as np
    import pandas as pd

    from vdrbone.panel import read_panel
    from vdrbone.simulate import simulate_cohort

    out = DATA / f"perm{n_samples // 1000}k"
    if (out / "c.bed").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    cfg = _config()
    panel = read_panel(ROOT / cfg["panel"]).select(cfg["variants"])
    sim = cfg["simulate"]
    cohort = simulate_cohort(
        panel,
        n_samples=n_samples,
        seed=sim["seed"],
        effects=sim["effects"],
        n_background=(0, 0),
        heteroplasmy_rate=0.0,
        genotype_missing_rate=0.01,
        phenotype_missing_rate=0.02,
    )
    samples = np.asarray(cohort.samples)
    frames = []
    for i, v in enumerate(panel):
        g = np.where(cohort.missing[i], np.nan, cohort.genotypes[i].astype(float))
        frames.append(
            pd.DataFrame(
                {
                    "sample": samples,
                    "variant": v.id,
                    "effect_count": g,
                    "status": np.where(np.isnan(g), "missing", "called"),
                }
            )
        )
    pd.concat(frames).to_csv(out / "calls.tsv", sep="\t", index=False, na_rep="NA")
    ph = cohort.phenotypes.copy()
    ph["t2dm"] = np.where(ph["t2dm"], "yes", "no")
    ph = ph[["sample", "sex", "t2dm", "age_years", "bmi", *OUTCOMES]].astype(object)
    for col in ph.columns[1:]:
        ph.loc[cohort.phenotype_missing[col].to_numpy(), col] = np.nan
    ph.to_csv(out / "phenotypes.tsv", sep="\t", index=False, na_rep="NA")
    # PLINK inputs from the same arrays
    with open(out / "c.ped", "w") as ped:
        geno = np.column_stack(
            [np.where(cohort.missing[i], -1, cohort.genotypes[i]) for i in range(len(panel))]
        )
        codes = []
        for v in panel:
            o, e = v.other_allele, v.effect_allele
            codes.append(
                {-1: "0 0", 0: f"{o} {o}", 1: f"{o} {e}" if v.ploidy == 2 else f"{e} {e}", 2: f"{e} {e}"}
            )
        for k, s in enumerate(samples):
            gts = "\t".join(codes[j][int(geno[k, j])] for j in range(len(panel)))
            ped.write(f"{s}\t{s}\t0\t0\t0\t-9\t{gts}\n")
    with open(out / "c.map", "w") as mp, open(out / "a1.txt", "w") as a1:
        for v in panel:
            mp.write(f"{'MT' if v.ploidy == 1 else '12'}\t{v.id}\t0\t{v.pos_grch38}\n")
            a1.write(f"{v.id}\t{v.effect_allele}\n")
    pheno = pd.DataFrame({"FID": ph["sample"], "IID": ph["sample"]})
    for o in OUTCOMES:
        x = pd.to_numeric(ph[o], errors="coerce")
        pheno[o] = (x + 1) if o == "fracture" else x
    pheno.to_csv(out / "c.pheno", sep="\t", index=False, na_rep="-9")
    cell = ph["t2dm"].fillna("missing").astype(str) + "|" + ph["sex"].fillna("missing").astype(str)
    pd.DataFrame({"FID": ph["sample"], "IID": ph["sample"], "cell": cell}).to_csv(
        out / "cells.txt", sep="\t", index=False, header=False
    )
    for label, keep in stratum_members(ph["sex"], ph["t2dm"]).items():
        ph.loc[keep, ["sample", "sample"]].to_csv(
            out / f"keep_{label.replace('=', '_').replace(',', '_')}.txt", sep="\t", index=False, header=False
        )
    subprocess.run(
        [
            "plink1.9",
            "--file",
            str(out / "c"),
            "--a1-allele",
            str(out / "a1.txt"),
            "--allow-no-sex",
            "--make-bed",
            "--out",
            str(out / "c"),
            "--silent",
        ],
        check=True,
    )
    return out


def ours(data: Path, n_perm: int) -> dict:
    t0 = time.perf_counter()
    from vdrbone.panel import read_panel
    from vdrbone.permutation import permutation_outcome
    from vdrbone.settings import settings_from_config
    from vdrbone.tables import read_tsv

    cfg = _config()
    cfg["permutation"].update(n=n_perm, adaptive=False)
    # the four outcomes this benchmark simulates (the config's time-to-event and WHO-class outcomes
    # need follow-up / T-score columns that it does not write; time-to-event is never permuted)
    cfg["outcomes"] = {k: v for k, v in cfg["outcomes"].items() if k in OUTCOMES}
    panel = read_panel(ROOT / cfg["panel"]).select(cfg["variants"])
    calls, pheno = read_tsv(data / "calls.tsv"), read_tsv(data / "phenotypes.tsv")
    settings = settings_from_config(cfg)
    load = time.perf_counter() - t0
    times = {}
    for k, outcome in enumerate(cfg["outcomes"]):
        t = time.perf_counter()
        table = permutation_outcome(calls, pheno, panel, outcome=outcome, outcome_index=k, settings=settings)
        times[outcome] = round(time.perf_counter() - t, 2)
        assert int(table["family_size"].iloc[0]) == 54, table["family_size"].iloc[0]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load_s": round(load, 2),
        "outcomes_s": times,
        "permutation_s": round(sum(times.values()), 2),
        "peak_rss_mb": round(rss),
        "n_perm": n_perm,
    }


def plink(data: Path, n_perm: int, threads: int) -> dict:
    t0 = time.perf_counter()
    runs = 0
    for outcome in OUTCOMES:
        for label in STRATA:
            keep = data / f"keep_{label.replace('=', '_').replace(',', '_')}.txt"
            subprocess.run(
                [
                    "plink1.9",
                    "--bfile",
                    str(data / "c"),
                    "--keep",
                    str(keep),
                    "--within",
                    str(data / "cells.txt"),
                    "--pheno",
                    str(data / "c.pheno"),
                    "--pheno-name",
                    outcome,
                    "--allow-no-sex",
                    "--assoc",
                    "--mperm",
                    str(n_perm),
                    "--threads",
                    str(threads),
                    "--seed",
                    "1",
                    "--silent",
                    "--out",
                    str(data / "plink_out"),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            runs += 1
    return {"plink_s": round(time.perf_counter() - t0, 2), "runs": runs, "threads": threads, "n_perm": n_perm}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["prepare", "ours", "plink", "time"])
    ap.add_argument("--n-samples", type=int, default=100_000)
    ap.add_argument("--n-perm", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "permutation_times.tsv"))
    args = ap.parse_args()
    data = DATA / f"perm{args.n_samples // 1000}k"
    if args.command == "prepare":
        print(prepare(args.n_samples))
    elif args.command == "ours":
        print(json.dumps(ours(data, args.n_perm)))
    elif args.command == "plink":
        print(json.dumps(plink(data, args.n_perm, args.threads)))
    else:
        prepare(args.n_samples)
        rows = []
        for r in range(args.runs):
            load = Path("/proc/loadavg").read_text().split()[0]
            res_ours = json.loads(
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "ours",
                        "--n-samples",
                        str(args.n_samples),
                        "--n-perm",
                        str(args.n_perm),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            res_plink = plink(data, args.n_perm, args.threads)
            rows.append(
                {
                    "run": r,
                    "load1": load,
                    "ours_s": res_ours["permutation_s"],
                    "ours_load_s": res_ours["load_s"],
                    "ours_outcomes": json.dumps(res_ours["outcomes_s"]),
                    "ours_rss_mb": res_ours["peak_rss_mb"],
                    "plink_s": res_plink["plink_s"],
                    "plink_runs": res_plink["runs"],
                }
            )
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        import pandas as pd

        pd.DataFrame(rows).to_csv(args.out, sep="\t", index=False)
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
