"""Scale benchmark (issue 12 item 4): the whole default analysis against bcftools + PLINK 2.

Sub-commands (run by ``benchmarks/scale.sh``):

``prepare``  simulate each size once (``python -m vdrbone simulate --n-samples N`` under
             ``/usr/bin/time -v``; seconds and peak RSS to ``out/scale_simulate.tsv``) into
             ``benchmarks/data/scale/n<N>/``; write the analysis config (``config/config.yaml``
             as it is, ``cohort`` pointed at these files, simulation off) and the anchor's PLINK
             phenotype, covariate and ``--keep`` files, coded from the same phenotype file by
             ``vdrbone.phenotypes.read_phenotypes`` (not timed).
``time``     per run and size, both sides back to back in alternating order (even runs ours
             first): **ours** = ``snakemake --cores 2`` of that config in a fresh folder
             (:func:`workflow_bench.one_run`: wall time, peak RSS of the largest process, each
             step's seconds and MB from the rules' ``benchmark:`` files); **anchor** =
             ``bcftools view -r <panel positions>`` of both VCFs + ``bcftools concat``,
             ``plink2 --make-pgen``, and every ``plink2 --glm`` call of
             :func:`association_bench.plink_commands` (``--threads 2``). The ratio ours / anchor
             is taken within each run, the 1-minute load average before each side.
             ``out/scale_times.tsv``, ``out/scale_steps.tsv``; medians printed as Markdown.
``profile``  each job script of the non-association steps that the last ``time`` run kept
             (``--skip-script-cleanup``) rerun alone under cProfile (``OPENBLAS_NUM_THREADS=1``)
             in that run's folder; top functions by own time, and the package's functions by
             cumulative time, to ``out/scale_profile_<N>.tsv`` / ``.txt``.

PLINK has no Cox model: ``fracture_tte`` is stood in for by a logistic ``--glm`` on its event
indicator. The anchor does not include the conditional (block_top), epistasis, permutation,
haplotype, descriptive or report work of ours (PLINK 2 has no like-for-like of most of it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from association_bench import _slug, count_fits, plink_commands, stratum_members  # noqa: E402
from workflow_bench import one_run, print_step_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "workflow" / "scripts"
DATA = ROOT / "benchmarks" / "data" / "scale"
OUT = ROOT / "benchmarks" / "out"
PY = sys.executable
ENV = dict(os.environ, PYTHONPATH=str(SCRIPTS))  # this checkout's package, in every child
PROFILED = [  # the non-association steps (rule names)
    "extract", "phenotypes", "qc", "ld_haplotypes", "permutation", "epistasis",
    "merge_association", "table1", "report", "archive",
]  # fmt: skip


def _folder(n: int) -> Path:
    return DATA / f"n{n}"


def _time_v(stderr: str) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) from ``/usr/bin/time -v`` output."""
    h, m, s = ([0, 0] + re.search(r"Elapsed \(wall clock\) time .*: (\S+)", stderr).group(1).split(":"))[-3:]
    kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr).group(1))
    return int(h) * 3600 + int(m) * 60 + float(s), kb / 1024


# --------------------------------------------------------------------------------------------
# prepare
# --------------------------------------------------------------------------------------------


ISSUE_OUTCOMES = ("bmd_ls", "bmd_fn", "bmd_th", "fracture")


def analysis_config(n: int, no_epistasis: bool = False, scope: str = "default") -> dict:
    """``config/config.yaml`` with ``cohort`` pointed at the pre-simulated files of size ``n``
    (``no_epistasis``: without the epistasis job). ``scope`` ``issue``: the analysis issue 12
    names (4 outcomes, 9 strata, haplotypes, report, archive): the default config without the
    later additions, i.e. only the outcomes :data:`ISSUE_OUTCOMES`, no configured
    ``interactions``, no epistasis and no permutation."""
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    if no_epistasis or scope == "issue":
        cfg["epistasis"]["enabled"] = False
    if scope == "issue":
        cfg["outcomes"] = {k: v for k, v in cfg["outcomes"].items() if k in ISSUE_OUTCOMES}
        cfg["interactions"] = []
        cfg["permutation"]["n"] = 0
        cfg["permutation"]["adaptive"] = False
    d = _folder(n) / "cohort"
    cfg["cohort"]["vcf"] = [str(d / "chr12.vcf.gz"), str(d / "chrM.vcf.gz")]
    cfg["cohort"]["phenotypes"] = str(d / "phenotypes.tsv")
    cfg["simulate"]["enabled"] = False
    cfg["simulate"]["n_samples"] = n
    cfg["panel"] = str(ROOT / "resources" / "vdr_snps.tsv")
    return cfg


def _validated(cfg: dict) -> dict:
    sys.path.insert(0, str(SCRIPTS))
    from vdrbone.settings import validate_config

    schema = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")
    return validate_config(yaml.safe_load(yaml.safe_dump(cfg)), schema)


def simulate(n: int) -> dict:
    """Simulate the cohort of size ``n`` once (kept between runs); seconds and peak RSS."""
    d = _folder(n) / "cohort"
    log = _folder(n) / "simulate.time"
    if not (d / "phenotypes.tsv").exists() or not log.exists():
        d.mkdir(parents=True, exist_ok=True)
        cfg = str(ROOT / "config" / "config.yaml")
        cmd = ["/usr/bin/time", "-v", PY, "-m", "vdrbone", "simulate",
               "--config", cfg, "--outdir", str(d), "--n-samples", str(n)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
        log.write_text(proc.stderr)
        if proc.returncode != 0:
            raise SystemExit(f"simulation of {n} failed:\n{proc.stderr[-3000:]}")
    wall, rss = _time_v(log.read_text())
    sizes = {p.name: p.stat().st_size / 2**20 for p in d.glob("*.gz")}
    files = {f"{k}_mb": v for k, v in sizes.items()}
    return {"n_samples": n, "simulate_s": wall, "simulate_peak_rss_mb": rss, **files}


def anchor_inputs(n: int) -> None:
    """PLINK phenotype / covariate / keep files, coded by vdrbone.phenotypes.read_phenotypes."""

    from vdrbone.phenotypes import read_phenotypes
    from vdrbone.tscore import read_reference

    cfg = _validated(analysis_config(n))
    pheno = read_phenotypes(
        cfg["cohort"]["phenotypes"],
        sample_column=cfg["cohort"]["sample_column"],
        coding=cfg["phenotype_coding"],
        outcomes=cfg["outcomes"],
        covariates=list(cfg["covariates"]),
        interactions=list(cfg["interactions"]),
        tscore_reference=read_reference(ROOT / cfg["tscore_reference"]),
    )
    pl = _folder(n) / "plink"
    pl.mkdir(parents=True, exist_ok=True)
    samples = pheno["sample"].astype(str).to_numpy()
    ph = pd.DataFrame({"#IID": samples})
    for o, spec in cfg["outcomes"].items():
        kind = spec.get("type", "continuous")
        if kind == "continuous":
            ph[o] = pheno[o]
        else:  # binary, WHO class, and time-to-event's event indicator (PLINK has no Cox model)
            ph[o] = pheno[o].map({1.0: 2, 0.0: 1}).astype("Int64")
    ph.to_csv(pl / "pheno.tsv", sep="\t", index=False, na_rep="NA")
    cov = pd.DataFrame({"#IID": samples})
    for c in cfg["covariates"]:
        cov[c] = pheno[c]
    cov["sex"] = pheno["sex"].map({"male": 1, "female": 0})
    cov["t2dm"] = pheno["t2dm"].map({"yes": 1, "no": 0})
    cov["female"] = pheno["sex"].map({"male": 0, "female": 1})
    for spec in cfg["interactions"]:
        col = pheno[spec["column"]]
        if spec.get("type") == "categorical":  # two levels: 0/1 indicator of the second
            levels = [str(x) for x in spec["levels"]]
            cov[spec["column"]] = col.astype(str).map({levels[0]: 0, levels[1]: 1})
        else:
            cov[spec["column"]] = col
    cov.to_csv(pl / "covar.tsv", sep="\t", index=False, na_rep="NA")
    for label, m in stratum_members(pheno["sex"], pheno["t2dm"]).items():
        pd.DataFrame({"#IID": samples[m]}).to_csv(pl / f"keep.{_slug(label)}.txt", sep="\t", index=False)


def prepare(sizes: list[int]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in sizes:
        rows.append(simulate(n))
        print(json.dumps(rows[-1]), flush=True)
        anchor_inputs(n)
    pd.DataFrame(rows).to_csv(OUT / "scale_simulate.tsv", sep="\t", index=False)


# --------------------------------------------------------------------------------------------
# the two sides
# --------------------------------------------------------------------------------------------


def _regions(cfg: dict) -> dict[str, str]:
    """``bcftools -r`` regions of the analysed panel variants, per VCF of the cohort."""
    sys.path.insert(0, str(SCRIPTS))
    from vdrbone.panel import read_panel

    panel = read_panel(cfg["panel"]).select(cfg["variants"])
    chr_prefix = cfg["simulate"].get("contig_style", "chr") == "chr"
    by_file = {}
    for path in cfg["cohort"]["vcf"]:
        mt = Path(path).name.startswith("chrM")
        pos = [v.pos_grch38 for v in panel if (v.chrom == "MT") == mt]
        contig = ("chrM" if chr_prefix else "MT") if mt else ("chr12" if chr_prefix else "12")
        by_file[path] = ",".join(f"{contig}:{p}" for p in pos)
    return by_file


def anchor(n: int, threads: int = 2, scope: str = "default") -> dict:
    """bcftools extraction + plink2 --make-pgen + every plink2 --glm call of the ``scope``'s
    models, strata and outcomes, each step timed."""
    cfg = analysis_config(n, scope=scope)
    pl = _folder(n) / "plink"
    work = _folder(n) / "anchor"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    modifiers = tuple(s["column"] for s in cfg["interactions"])
    glm = plink_commands(
        threads, work / "glm", pfile=work / "panel", pheno=pl / "pheno.tsv", covar=pl / "covar.tsv",
        keep_dir=pl, covariates=tuple(cfg["covariates"]), modifiers=modifiers, mt_interactions=True,
        firth=True, phenotypes=tuple(cfg["outcomes"]),
    )  # fmt: skip
    parts = []
    extract = []
    for i, (path, regions) in enumerate(_regions(cfg).items()):
        parts.append(str(work / f"part{i}.bcf"))
        extract.append(["bcftools", "view", "-r", regions, path, "-Ob", "-o", parts[-1]])
    extract.append(["bcftools", "concat", *parts, "-Ob", "-o", str(work / "panel.bcf")])
    convert = [
        "plink2", "--bcf", str(work / "panel.bcf"), "--set-missing-var-ids", "@:#", "--make-pgen",
        "--out", str(work / "panel"), "--threads", str(threads), "--memory", "4000",
    ]  # fmt: skip
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    t0 = time.perf_counter()
    for c in extract:
        subprocess.run(c, **quiet)
    t1 = time.perf_counter()
    subprocess.run(convert, **quiet)
    t2 = time.perf_counter()
    for c in glm:
        subprocess.run(c, **quiet)
    t3 = time.perf_counter()
    fits, failed = count_fits(work / "glm")
    return {
        "anchor_extract_s": t1 - t0,
        "anchor_make_pgen_s": t2 - t1,
        "anchor_glm_s": t3 - t2,
        "anchor_s": t3 - t0,
        "anchor_glm_calls": len(glm),
        "anchor_regressions": fits,
        "anchor_errcode": failed,
        "anchor_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


# ``--no-report``: every job but the report and the archive (Snakemake --until these rules)
BEFORE_REPORT = ("merge_association", "ld_haplotypes", "table1", "epistasis", "permutation")


def ours(
    n: int, cores: int = 2, no_epistasis: bool = False, scope: str = "default", no_report: bool = False
) -> tuple[dict, pd.DataFrame, Path]:
    """The default analysis (of ``scope``) in a fresh folder (``--keep-going``: a failed job is
    recorded, the others still run); the job scripts are kept for ``profile``. ``no_report``:
    without the report and archive jobs."""
    folder = _folder(n) / "ours"
    cfg = analysis_config(n, no_epistasis, scope)
    until = ("--until", *BEFORE_REPORT) if no_report else ()
    wall, peak, steps = one_run(
        cfg, folder, cores, extra=("--skip-script-cleanup", *until), env=ENV, keep_going=True
    )
    top = steps.loc[steps["max_rss_mb"].idxmax()]
    got = {"ours_s": wall, "ours_peak_rss_mb": peak, "ours_largest_step": top["step"]}
    got["epistasis"] = bool(cfg["epistasis"]["enabled"])
    got["scope"] = scope
    got["report"] = not no_report
    got["failed_jobs"] = ",".join(steps.attrs["failed"])
    return got, steps, folder


# --------------------------------------------------------------------------------------------
# time
# --------------------------------------------------------------------------------------------


def _suffix(scope: str, no_report: bool = False) -> str:
    return ("" if scope == "default" else f"_{scope}") + ("_no_report" if no_report else "")


def time_all(
    sizes: list[int],
    runs: int,
    cores: int,
    no_epistasis: bool = False,
    scope: str = "default",
    no_report: bool = False,
) -> None:
    records, steps = [], []
    for r in range(1, runs + 1):
        for n in sizes:
            rec = {"n_samples": n, "run": r}
            for side in ("ours", "anchor") if r % 2 else ("anchor", "ours"):
                rec[f"load1_before_{side}"] = os.getloadavg()[0]
                if side == "ours":
                    got, table, _ = ours(n, cores, no_epistasis, scope, no_report)
                    rec.update(got)
                    steps.append(table.assign(n_samples=n, run=r))
                else:  # in a child process, so that its peak RSS is the anchor's alone
                    cmd = [
                        PY,
                        str(Path(__file__).resolve()),
                        "anchor",
                        "--n-samples",
                        str(n),
                        "--threads",
                        str(cores),
                        "--scope",
                        scope,
                    ]
                    done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=ENV)
                    rec.update(json.loads(done.stdout.strip().splitlines()[-1]))
            rec["load1_after"] = os.getloadavg()[0]
            rec["ratio"] = rec["ours_s"] / rec["anchor_s"]
            records.append(rec)
            print(json.dumps(rec), flush=True)
            times = pd.DataFrame(records)  # written after every run and size
            OUT.mkdir(parents=True, exist_ok=True)
            times.to_csv(OUT / f"scale_times{_suffix(scope, no_report)}.tsv", sep="\t", index=False)
            steps_all = pd.concat(steps, ignore_index=True)
            steps_all.to_csv(OUT / f"scale_steps{_suffix(scope, no_report)}.tsv", sep="\t", index=False)
    summary(times, pd.concat(steps, ignore_index=True))


def summary(times: pd.DataFrame, steps: pd.DataFrame) -> None:
    """Markdown tables of the medians (ratio: median of the within-run ratios)."""
    print(
        "\n| samples | runs | ours wall (s) | ours peak RSS (MB) | anchor (s): extract + make-pgen + glm "
        "| ratio ours / anchor | load1 |\n|---|---|---|---|---|---|---|"
    )
    for n, g in times.groupby("n_samples"):
        med = g.median(numeric_only=True)
        loads = g.filter(like="load1").to_numpy()
        print(
            f"| {n:,} | {len(g)} | {med.ours_s:.1f} | {g.ours_peak_rss_mb.max():.0f} "
            f"({g.ours_largest_step.iloc[0]}) | {med.anchor_s:.1f}: {med.anchor_extract_s:.2f} + "
            f"{med.anchor_make_pgen_s:.2f} + {med.anchor_glm_s:.1f} ({int(med.anchor_glm_calls)} calls) | "
            f"**{med.ratio:.2f}** | {loads.min():.1f}-{loads.max():.1f} |"
        )
        for _, r in g.iterrows():
            failed = r.get("failed_jobs") if isinstance(r.get("failed_jobs"), str) else ""
            if not r.get("epistasis", True) or failed:
                state = "run" if r.epistasis else "off"
                print(f"  run {r.run}: epistasis job {state}; failed jobs: {failed or 'none'}")
    med = print_step_table(steps)
    for n in sorted(steps["n_samples"].unique()):
        total = med.xs(n, level="n_samples")["seconds"].sum()
        print(f"sum of step seconds at {n:,}: {total:.1f} (2 cores: wall can be below the sum)")


# --------------------------------------------------------------------------------------------
# profile
# --------------------------------------------------------------------------------------------


def _script_job(path: Path) -> str | None:
    """The job of a script Snakemake kept in ``.snakemake/scripts`` (``tmpXXXX.<script>.py``): the
    script's name (haplotypes.py is the ``ld_haplotypes`` rule's)."""
    name = path.name.split(".")[1]
    return "ld_haplotypes" if name == "haplotypes" else name


def profile(n: int, cores: int, top: int, only: list[str] | None = None) -> None:
    """cProfile of each non-association step, rerun alone (one at a time) with the job scripts and
    inputs of the last ``time`` run of size ``n`` (a fresh run when there is none)."""
    folder = _folder(n) / "ours"
    if not list((folder / ".snakemake" / "scripts").glob("*.py")):
        got, _, folder = ours(n, cores)
        print(json.dumps(got), flush=True)
    env = dict(ENV, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    rows, text = [], []
    for script in sorted((folder / ".snakemake" / "scripts").glob("*.py")):
        label = _script_job(script)
        if label is None or label.split(".")[0] not in PROFILED or (only and label not in only):
            continue
        prof = folder / f"{label}.prof"
        if label == "archive":  # an archive is never overwritten: remove the timed run's one
            for old in (folder / "results" / "archive").glob("*.tar.gz*"):
                old.unlink()
        t0 = time.perf_counter()
        done = subprocess.run([PY, "-m", "cProfile", "-o", str(prof), str(script)], cwd=folder, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
        if done.returncode != 0:
            print(f"{label}: failed under cProfile:\n{done.stderr[-2000:]}", flush=True)
            continue
        wall = time.perf_counter() - t0
        buf = io.StringIO()
        st = pstats.Stats(str(prof), stream=buf)
        st.sort_stats("tottime").print_stats(top)
        text.append(f"===== {label} (n={n:,}, {wall:.1f} s under cProfile) =====\n{buf.getvalue()}")
        ranked = sorted(st.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]  # own time
        ours_fn = [kv for kv in st.stats.items() if "vdrbone" in kv[0][0]]  # package functions, cumulative
        ranked += [("cumtime", kv) for kv in sorted(ours_fn, key=lambda kv: kv[1][3], reverse=True)[:top]]
        for item in ranked:
            kind, ((file, line, func), (_, nc, tt, ct, _)) = (
                item if item[0] == "cumtime" else ("tottime", item)
            )
            where = file.replace(str(SCRIPTS) + "/", "").replace(str(Path(PY).parents[1]) + "/", "")
            rows.append({"n_samples": n, "step": label, "step_s_profiled": round(wall, 2), "rank_by": kind,
                         "function": f"{where}:{line}({func})", "tottime_s": round(tt, 3),
                         "cumtime_s": round(ct, 3), "ncalls": nc})  # fmt: skip
        print(f"{label}: {wall:.1f} s under cProfile", flush=True)
    suffix = "_" + "_".join(only) if only else ""
    pd.DataFrame(rows).to_csv(OUT / f"scale_profile_{n}{suffix}.tsv", sep="\t", index=False)
    (OUT / f"scale_profile_{n}{suffix}.txt").write_text("\n".join(text))


def profile_epistasis(n: int, top: int, run: Path | None = None) -> None:
    """cProfile of ``vdrbone.epistasis.epistasis_outcome`` per outcome (what the epistasis job
    runs) on the inputs of the last ``time`` run of size ``n``, for runs made with
    ``--no-epistasis`` (or of the run folder ``run``); an outcome whose call raises is reported
    with the error."""
    import cProfile

    import numpy  # noqa: F401  (imports outside the profile)

    sys.path.insert(0, str(SCRIPTS))
    from vdrbone.epistasis import epistasis_outcome
    from vdrbone.panel import read_panel
    from vdrbone.phenotypes import outcome_kind
    from vdrbone.settings import settings_from_config
    from vdrbone.tables import read_parquet, read_tsv

    if run is None:
        (run,) = (d for d in (_folder(n) / "ours" / "results" / "runs").iterdir() if d.is_dir())
    cfg = _validated(analysis_config(n))
    settings = settings_from_config(cfg)
    panel = read_panel(cfg["panel"]).select(settings.variants)
    calls = read_parquet(run / "work" / "calls.parquet")
    pheno = read_tsv(run / "work" / "analysed_phenotypes.tsv")
    qc = read_tsv(run / "tables" / "qc_variants.tsv")
    rows, text = [], []
    for outcome, spec in settings.outcomes.items():
        if outcome_kind(spec) == "time_to_event":
            continue
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        error = ""
        try:
            prof.runcall(epistasis_outcome, calls, pheno, panel, outcome=outcome, settings=settings, qc=qc)
        except Exception as exc:  # report, go on with the next outcome
            error = f"{type(exc).__name__}: {exc}"
        wall = time.perf_counter() - t0
        buf = io.StringIO()
        st = pstats.Stats(prof, stream=buf)
        st.sort_stats("tottime").print_stats(top)
        text.append(f"===== epistasis {outcome} (n={n:,}, {wall:.1f} s) {error} =====\n{buf.getvalue()}")
        for (file, line, func), (_, nc, tt, ct, _) in sorted(
            st.stats.items(), key=lambda kv: kv[1][2], reverse=True
        )[:top]:
            where = file.replace(str(SCRIPTS) + "/", "").replace(str(Path(PY).parents[1]) + "/", "")
            rows.append({"n_samples": n, "step": f"epistasis.{outcome}", "step_s_profiled": round(wall, 2),
                         "error": error, "function": f"{where}:{line}({func})", "tottime_s": round(tt, 3),
                         "cumtime_s": round(ct, 3), "ncalls": nc})  # fmt: skip
        print(f"epistasis {outcome}: {wall:.1f} s {error}", flush=True)
    pd.DataFrame(rows).to_csv(OUT / f"scale_profile_epistasis_{n}.tsv", sep="\t", index=False)
    (OUT / f"scale_profile_epistasis_{n}.txt").write_text("\n".join(text))


SCOPE_HELP = (
    "default: config/config.yaml as it is; issue: the analysis issue 12 names (bmd_ls, bmd_fn, "
    "bmd_th, fracture; no configured interactions, epistasis or permutation)"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 500_000])
    p = sub.add_parser("time")
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 500_000])
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--no-epistasis", action="store_true", help="ours without the epistasis job")
    p.add_argument("--no-report", action="store_true", help="ours without the report and archive jobs")
    p.add_argument("--scope", choices=("default", "issue"), default="default", help=SCOPE_HELP)
    p = sub.add_parser("anchor")
    p.add_argument("--n-samples", type=int, default=100_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--scope", choices=("default", "issue"), default="default", help=SCOPE_HELP)
    p = sub.add_parser("profile")
    p.add_argument("--n-samples", type=int, default=100_000)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--epistasis", action="store_true", help="profile epistasis_outcome per outcome")
    p.add_argument("--run-dir", type=Path, help="with --epistasis: inputs of this run folder")
    p.add_argument("--only", nargs="+", help="profile only these jobs (e.g. report qc)")
    p = sub.add_parser("summary")
    a = ap.parse_args(argv)
    if a.cmd == "prepare":
        prepare(a.sizes)
    elif a.cmd == "time":
        time_all(a.sizes, a.runs, a.cores, a.no_epistasis, a.scope, a.no_report)
    elif a.cmd == "anchor":
        print(json.dumps(anchor(a.n_samples, a.threads, a.scope)))
    elif a.cmd == "profile":
        if a.epistasis:
            profile_epistasis(a.n_samples, a.top, a.run_dir)
        else:
            profile(a.n_samples, a.cores, a.top, a.only)
    else:
        times, steps = (pd.read_csv(OUT / f"scale_{k}.tsv", sep="\t") for k in ("times", "steps"))
        summary(times, steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
