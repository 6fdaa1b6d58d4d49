"""Benchmark of the association step (vdrbone.association.associate_outcome) against PLINK 2 --glm.

Sub-commands (run by ``benchmarks/association.sh``):

``prepare``  simulate a cohort with the default config (``--n-samples``), run the workflow up to the
             association inputs (extract, phenotypes, qc) in ``benchmarks/data/wf``, and write the
             PLINK 2 inputs from the *harmonised calls* (so both sides see the same genotypes): a
             VCF of the 6 panel variants (ALT = effect allele; mtDNA haploid), the phenotype file
             (3 BMD columns, fracture coded 1/2), the covariate file (age_years, bmi, sex, t2dm,
             female), one ``--keep`` file per stratum, and ``plink2 --make-pgen`` of the VCF.
``ours``     load the association inputs once, then time each ``associate_outcome`` call in
             process (one per outcome, as the 4 Snakemake jobs do); print one JSON line with the
             times, the peak RSS (``getrusage``) and the BLAS thread pools (threadpoolctl when
             importable, else numpy's build info).
``plink``    run every ``plink2 --glm`` invocation of the like-for-like regression set (per
             stratum: additive, genotypic, dominant, recessive, hetonly; interaction with T2DM
             and sex where we test them) and print one JSON line with the wall time, the number
             of invocations and regressions, and the peak RSS of the children.
``time``     alternate ``ours`` / ``plink --threads 1`` / ``plink --threads 2`` / the 4
             Snakemake ``associate`` jobs with ``--cores 2`` (``--forcerun associate``), each in
             a fresh process, ``--runs`` times; write every run to a TSV and print the medians and
             the ratios measured within each run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
COHORT = DATA / "cohort100k"
WF = DATA / "wf"
RUN = WF / "results" / "runs" / "bench100k"
PL = DATA / "plink"
PY = sys.executable
SNAKEMAKE = [PY, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(WF)]
OUTCOMES = ["bmd_ls", "bmd_fn", "bmd_th", "fracture"]
STRATA = {  # label -> (sex, t2dm) fixed levels, as vdrbone.strata.stratum_fixed
    "all": (None, None),
    "t2dm=yes": (None, "yes"),
    "t2dm=no": (None, "no"),
    "sex=female": ("female", None),
    "sex=male": ("male", None),
    "t2dm=yes,sex=female": ("female", "yes"),
    "t2dm=yes,sex=male": ("male", "yes"),
    "t2dm=no,sex=female": ("female", "no"),
    "t2dm=no,sex=male": ("male", "no"),
}
PLINK_MODELS = ["", "genotypic", "dominant", "recessive", "hetonly"]  # "" = additive (default)


def stratum_members(sex, t2dm) -> dict:
    """STRATA label -> boolean mask of the samples in the stratum (``sex`` female/male and
    ``t2dm`` yes/no columns; a missing value belongs to no stratum that fixes it)."""
    import numpy as np

    out = {}
    for label, (s, t) in STRATA.items():
        m = np.ones(len(sex), dtype=bool)
        if s:
            m &= (sex == s).to_numpy()
        if t:
            m &= (t2dm == t).to_numpy()
        out[label] = m
    return out


def _slug(label: str) -> str:
    return label.replace("=", "_").replace(",", "__")


# --------------------------------------------------------------------------------------------
# prepare
# --------------------------------------------------------------------------------------------


def _bench_config(n_samples: int) -> Path:
    """The default config pointed at the simulated cohort, with simulation off and a fixed run id."""
    import yaml

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["run_id"] = "bench100k"
    cfg["cohort"]["vcf"] = [str(COHORT / "chr12.vcf.gz"), str(COHORT / "chrM.vcf.gz")]
    cfg["cohort"]["phenotypes"] = str(COHORT / "phenotypes.tsv")
    cfg["simulate"]["enabled"] = False
    cfg["simulate"]["n_samples"] = n_samples
    cfg["panel"] = str(ROOT / "resources" / "vdr_snps.tsv")
    WF.mkdir(parents=True, exist_ok=True)
    path = WF / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    # the Snakemake timing: run id from the fingerprint, so a code change gets a fresh run folder
    cfg["run_id"] = None
    (WF / "config_sm.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def prepare(n_samples: int) -> None:
    if not (COHORT / "phenotypes.tsv").exists():
        subprocess.run(
            [
                PY,
                "-m",
                "vdrbone",
                "simulate",
                "--config",
                str(ROOT / "config" / "config.yaml"),
                "--outdir",
                str(COHORT),
                "--n-samples",
                str(n_samples),
            ],
            check=True,
        )
    cfg = _bench_config(n_samples)
    targets = [
        RUN / "work" / "calls.parquet",
        RUN / "work" / "phenotypes.tsv",
        RUN / "tables" / "qc_variants.tsv",
    ]
    # the association inputs of run "bench100k" are made once (a code change alters the run's
    # fingerprint, and runs are never overwritten): delete benchmarks/data/wf to remake them
    if not all(t.exists() for t in targets):
        relative = [str(t.relative_to(WF)) for t in targets]  # Snakemake matches targets as given
        subprocess.run([*SNAKEMAKE, "--configfile", str(cfg), "--cores", "2", *relative], check=True)
    if not (PL / "panel.pgen").exists():
        _plink_inputs()


def _plink_inputs() -> None:
    """PLINK 2 files from the harmonised calls and the coded phenotypes of the workflow."""
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
    from vdrbone.panel import read_panel

    PL.mkdir(parents=True, exist_ok=True)
    calls = pd.read_csv(RUN / "work" / "calls.parquet", sep="\t")
    pheno = pd.read_csv(RUN / "work" / "phenotypes.tsv", sep="\t", keep_default_na=True)
    panel = read_panel(ROOT / "resources" / "vdr_snps.tsv")
    samples = list(pheno["sample"].astype(str))
    wide = calls.pivot(index="sample", columns="variant", values="effect_count").reindex(samples)
    lines = [
        "##fileformat=VCFv4.2",
        "##contig=<ID=12>",
        "##contig=<ID=MT>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]),
    ]
    for vid in [i for i in panel.ids if i in wide.columns]:
        v = panel[vid]
        g = wide[vid].to_numpy(float)
        if v.ploidy == 2:
            codes = np.array(["0/0", "0/1", "1/1", "./."])
        else:
            codes = np.array(["0", "1", "1", "."])
        idx = np.where(np.isfinite(g), np.nan_to_num(g), 3).astype(int)
        other = v.other_allele
        lines.append(
            "\t".join(
                [
                    v.chrom,
                    str(v.pos_grch38),
                    v.id,
                    other,
                    v.effect_allele,
                    ".",
                    "PASS",
                    ".",
                    "GT",
                    *codes[idx],
                ]
            )
        )
    (PL / "panel.vcf").write_text("\n".join(lines) + "\n")
    ph = pd.DataFrame({"#IID": samples})
    for o in ("bmd_ls", "bmd_fn", "bmd_th"):
        ph[o] = pheno[o].map(lambda x: "NA" if pd.isna(x) else repr(float(x)))
    ph["fracture"] = pheno["fracture"].map({1.0: "2", 0.0: "1"}).fillna("NA")
    ph.to_csv(PL / "pheno.tsv", sep="\t", index=False)
    cov = pd.DataFrame({"#IID": samples})
    for c in ("age_years", "bmi"):
        cov[c] = pheno[c]
    cov["sex"] = pheno["sex"].map({"male": 1, "female": 0})
    cov["t2dm"] = pheno["t2dm"].map({"yes": 1, "no": 0})
    cov["female"] = pheno["sex"].map({"male": 0, "female": 1})
    cov.to_csv(PL / "covar.tsv", sep="\t", index=False, na_rep="NA")
    for label, m in stratum_members(pheno["sex"], pheno["t2dm"]).items():
        pd.DataFrame({"#IID": np.array(samples)[m]}).to_csv(
            PL / f"keep.{_slug(label)}.txt", sep="\t", index=False
        )
    subprocess.run(
        [
            "plink2",
            "--vcf",
            str(PL / "panel.vcf"),
            "--make-pgen",
            "--out",
            str(PL / "panel"),
            "--threads",
            "2",
            "--memory",
            "2000",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------------------------
# the two sides
# --------------------------------------------------------------------------------------------


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info

        return [
            {k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
            for d in threadpool_info()
        ]
    except ImportError:
        import numpy as np

        cfg = np.show_config(mode="dicts")
        return [
            {"numpy_blas": cfg["Build Dependencies"]["blas"].get("name"), "threadpoolctl": "not installed"}
        ]


def ours(outcomes: list[str]) -> dict:
    """Time associate_outcome per outcome in this process (inputs loaded once, not timed)."""
    import yaml

    sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
    from vdrbone.association import associate_outcome
    from vdrbone.panel import read_panel
    from vdrbone.settings import settings_from_config, validate_config
    from vdrbone.tables import read_parquet, read_tsv

    t0 = time.perf_counter()
    cfg = validate_config(
        yaml.safe_load((WF / "config.yaml").read_text()),
        str(ROOT / "workflow" / "schemas" / "config.schema.yaml"),
    )
    calls = read_parquet(RUN / "work" / "calls.parquet")
    pheno = read_tsv(RUN / "work" / "phenotypes.tsv")
    qc = read_tsv(RUN / "tables" / "qc_variants.tsv")
    panel = read_panel(cfg["panel"]).select(cfg["variants"])
    load = time.perf_counter() - t0
    times, rows = {}, {}
    for o in outcomes:
        t = time.perf_counter()
        res = associate_outcome(calls, pheno, panel, outcome=o, settings=settings_from_config(cfg), qc=qc)
        times[o] = time.perf_counter() - t
        rows[o] = len(res.association)
    return {
        "load_s": load,
        "outcome_s": times,
        "sum_s": sum(times.values()),
        "rows": rows,
        "n_samples": len(pheno),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "blas": blas_info(),
    }


def plink_commands(
    threads: int,
    outdir: Path,
    *,
    pfile: Path = PL / "panel",
    pheno: Path = PL / "pheno.tsv",
    covar: Path = PL / "covar.tsv",
    keep_dir: Path = PL,
    covariates: tuple[str, ...] = ("age_years", "bmi"),
    modifiers: tuple[str, ...] = (),
    mt_interactions: bool = False,
    firth: bool = False,
    phenotypes: tuple[str, ...] = (),
) -> list[list[str]]:
    """One plink2 --glm call per stratum x model (every phenotype of ``pheno`` each), plus the
    interactions.

    ``covariates``: the base covariates (sex and t2dm are added where the stratum does not fix
    them); ``modifiers``: covariate columns of further SNP x modifier interactions tested in every
    stratum (the configured ``interactions``); ``mt_interactions``: interactions on the mtDNA
    variants too (else chr12 only); ``firth``: logistic models with ``firth-fallback``;
    ``phenotypes``: only these columns of ``pheno`` (``--pheno-name``; default every one).
    """
    outdir.mkdir(parents=True, exist_ok=True)
    cmds = []
    base = [
        "plink2",
        "--pfile",
        str(pfile),
        "--pheno",
        str(pheno),
        "--covar",
        str(covar),
        "--threads",
        str(threads),
        "--memory",
        "4000",
        "--ci",
        "0.95",
    ]
    if phenotypes:
        base += ["--pheno-name", *phenotypes]
    firth_mod = ["firth-fallback"] if firth else []
    inter_chrom = [] if mt_interactions else ["--chr", "12"]
    for label, (sex, t2dm) in STRATA.items():
        # covariates as ours: age_years + bmi (+ sex, t2dm where the stratum does not fix them)
        covs = list(covariates) + (["sex"] if sex is None else []) + (["t2dm"] if t2dm is None else [])
        keep = ["--keep", str(keep_dir / f"keep.{_slug(label)}.txt")]
        for model in PLINK_MODELS:
            out = outdir / f"{_slug(label)}.{model or 'additive'}"
            glm = ["--glm", "hide-covar", "omit-ref", "no-x-sex", *firth_mod] + ([model] if model else [])
            # mtDNA: one carrier (0/1) model, i.e. PLINK's additive one; genotype models on chr12 only
            chrom = ["--chr", "12"] if model else []
            cmds.append([*base, *keep, *chrom, "--covar-name", *covs, *glm, "--out", str(out)])
        # SNP x modifier (additive), as vdrbone.strata.stratum_interactions, then the configured ones
        inter = []
        if t2dm is None and label in ("all", "sex=female", "sex=male"):
            inter.append(("t2dm", [c for c in covs if c != "t2dm"] + ["t2dm"]))
        if sex is None and label in ("all", "t2dm=yes", "t2dm=no"):
            inter.append(("female", [c for c in covs if c != "sex"] + ["female"]))
        inter += [(m, [c for c in covs if c != m] + [m]) for m in modifiers]
        for mod, cv in inter:
            # --parameters: 1 = ADD, 2..k+1 the covariates, k+2..2k+1 ADD x each covariate; keep
            # ADD x modifier (the last covariate) only
            k = len(cv)
            out = outdir / f"{_slug(label)}.interaction_{mod}"
            cmds.append(
                [
                    *base,
                    *keep,
                    *inter_chrom,
                    "--covar-name",
                    *cv,
                    "--glm",
                    "interaction",
                    "omit-ref",
                    "no-x-sex",
                    *firth_mod,
                    "--parameters",
                    f"1-{k + 1},{2 * k + 1}",
                    "--out",
                    str(out),
                ]
            )
    return cmds


def count_fits(outdir: Path) -> tuple[int, int]:
    """(regressions, regressions with an ERRCODE) in the ``*.glm.*`` files of ``outdir``: one per
    (output file = stratum x model x phenotype, variant)."""
    fits, failed = set(), set()
    for f in outdir.glob("*.glm.*"):
        with open(f) as fh:
            header = fh.readline().rstrip("\n").split("\t")
            i_id, i_err = header.index("ID"), header.index("ERRCODE")
            for line in fh:
                fields = line.rstrip("\n").split("\t")
                fits.add((f.name, fields[i_id]))
                if fields[i_err] != ".":
                    failed.add((f.name, fields[i_id]))
    return len(fits), len(failed)


def plink(threads: int) -> dict:
    outdir = DATA / "plink_out" / f"t{threads}"
    if outdir.exists():
        shutil.rmtree(outdir)
    cmds = plink_commands(threads, outdir)
    t0 = time.perf_counter()
    for c in cmds:
        subprocess.run(c, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    fits, failed = count_fits(outdir)
    version = subprocess.run(["plink2", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "wall_s": wall,
        "invocations": len(cmds),
        "regressions": fits,
        "regressions_with_errcode": failed,
        "threads": threads,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "version": version,
    }


def snakemake_jobs(cores: int) -> dict:
    """Wall time of the 4 ``associate`` jobs (forced to rerun) with ``--cores``, Snakemake included.

    An untimed call first brings extract / phenotypes / qc up to date (the run folder follows the
    fingerprint of config and code); the timed call reruns only the ``associate`` jobs.
    """
    cmd = [*SNAKEMAKE, "--configfile", str(WF / "config_sm.yaml"), "--cores", str(cores)]
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    # Other engineers commit while this runs: a new fingerprint means a new run folder, whose first
    # call can stop after registering the run; so try the untimed call up to three times.
    for attempt in range(3):
        done = subprocess.run(
            [*cmd, "--until", "qc", "phenotypes", "extract"], **{**quiet, "check": attempt == 2}
        )
        if done.returncode == 0:
            break
    t0 = time.perf_counter()
    subprocess.run([*cmd, "--until", "associate", "--forcerun", "associate"], **quiet)
    return {"wall_s": time.perf_counter() - t0, "cores": cores}


# --------------------------------------------------------------------------------------------
# time
# --------------------------------------------------------------------------------------------


def _child(args: list[str], env: dict | None = None) -> dict:
    out = subprocess.run(
        [PY, str(Path(__file__).resolve()), *args], check=True, capture_output=True, text=True, env=env
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def time_all(runs: int, out: Path, snakemake: bool) -> None:
    env1 = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    records = []
    for r in range(runs):
        rec = {"run": r + 1}
        o = _child(["ours"], env=env1)
        rec.update({f"ours_{k}_s": v for k, v in o["outcome_s"].items()})
        rec.update(ours_sum_s=o["sum_s"], ours_load_s=o["load_s"], ours_peak_rss_mb=o["peak_rss_mb"])
        p1 = _child(["plink", "--threads", "1"])
        p2 = _child(["plink", "--threads", "2"])
        rec.update(
            plink_t1_s=p1["wall_s"],
            plink_t2_s=p2["wall_s"],
            plink_peak_rss_mb=max(p1["peak_rss_mb"], p2["peak_rss_mb"]),
        )
        rec["ratio_sum_vs_plink_t1"] = o["sum_s"] / p1["wall_s"]
        if snakemake:
            s = snakemake_jobs(2)
            rec["snakemake_cores2_s"] = s["wall_s"]
            rec["ratio_snakemake_vs_plink_t2"] = s["wall_s"] / p2["wall_s"]
        records.append(rec)
        print(json.dumps(rec), flush=True)
    import pandas as pd

    df = pd.DataFrame(records)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, sep="\t", index=False)
    print("\nmedians over", runs, "runs")
    print(df.drop(columns="run").median().to_string())
    print("\nours: rows", o["rows"], "samples", o["n_samples"], "BLAS", json.dumps(o["blas"]))
    print(
        "plink:",
        p1["version"],
        "invocations",
        p1["invocations"],
        "regressions",
        p1["regressions"],
        "with ERRCODE",
        p1["regressions_with_errcode"],
    )
    print("machine:", platform.platform(), os.cpu_count(), "CPUs")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--n-samples", type=int, default=100_000)
    p = sub.add_parser("ours")
    p.add_argument("--outcomes", nargs="+", default=OUTCOMES)
    p = sub.add_parser("plink")
    p.add_argument("--threads", type=int, default=1)
    p = sub.add_parser("snakemake")
    p.add_argument("--cores", type=int, default=2)
    p = sub.add_parser("time")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "association_times.tsv")
    p.add_argument("--no-snakemake", action="store_true")
    a = ap.parse_args(argv)
    if a.cmd == "prepare":
        prepare(a.n_samples)
    elif a.cmd == "ours":
        print(json.dumps(ours(a.outcomes)))
    elif a.cmd == "plink":
        print(json.dumps(plink(a.threads)))
    elif a.cmd == "snakemake":
        print(json.dumps(snakemake_jobs(a.cores)))
    else:
        time_all(a.runs, a.out, not a.no_snakemake)
    return 0


if __name__ == "__main__":
    sys.exit(main())
