"""Whole-workflow benchmark: the default analysis on simulated cohorts of several sizes.

Each run starts from an empty folder, so every step executes (simulate, extract, phenotypes,
qc, LD/haplotypes, 4 x associate (with the haplotype association), merge, report, archive), with
``snakemake --cores 2``. Wall time of the whole invocation and its peak memory come from
``/usr/bin/time -v``; per-step wall time and peak RSS from the rules' ``benchmark:`` files.

Usage: python benchmarks/workflow_bench.py --sizes 10000 100000 --runs 3 --out benchmarks/out
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]


def one_run(
    cfg: dict,
    folder: Path,
    cores: int,
    extra: tuple[str, ...] = (),
    env: dict | None = None,
    keep_going: bool = False,
) -> tuple[float, float, pd.DataFrame]:
    """(wall seconds, peak RSS MB of any process, per-step table) of one run of ``cfg`` in a fresh
    ``folder`` (``extra``: further Snakemake arguments). ``keep_going``: a failed job does not
    stop the other ones nor raise; the failed rules are in ``table.attrs["failed"]``."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    cmd = [
        "/usr/bin/time", "-v", sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(folder), "--configfile", str(folder / "config.yaml"), "--cores", str(cores),
        *extra, *(["--keep-going"] if keep_going else []),
    ]  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0 and not keep_going:
        raise SystemExit(f"workflow failed in {folder}:\n{proc.stderr[-3000:]}")
    peak_kb = max(int(k) for k in re.findall(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr))
    steps = []
    for path in sorted(folder.glob("results/**/*.tsv")):
        if path.parent.name == "benchmarks" or path.name.endswith(".benchmark.tsv"):
            row = pd.read_csv(path, sep="\t").iloc[-1]
            step = path.name.removesuffix(".benchmark.tsv").removesuffix(".tsv")
            steps.append({"step": step, "seconds": float(row["s"]), "max_rss_mb": float(row["max_rss"])})
    table = pd.DataFrame(steps)
    table.attrs["failed"] = sorted(set(re.findall(r"Error in rule (\w+):", proc.stderr)))
    return wall, max(peak_kb / 1024, table["max_rss_mb"].max()), table


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--work", default=str(REPO / "benchmarks" / "data" / "workflow"))
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "out"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    totals, steps = [], []
    for n in args.sizes:
        for run in range(1, args.runs + 1):
            load = os.getloadavg()[0]
            cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
            cfg["simulate"]["n_samples"] = n
            wall, peak, table = one_run(cfg, Path(args.work) / f"n{n}", args.cores)
            totals.append({"n_samples": n, "run": run, "wall_s": wall, "peak_rss_mb": peak, "load1": load})
            steps.append(table.assign(n_samples=n, run=run))
            print(f"n={n} run {run}: {wall:.1f} s, peak {peak:.0f} MB (load {load:.1f})", flush=True)
    totals = pd.DataFrame(totals)
    steps = pd.concat(steps, ignore_index=True)
    totals.to_csv(out / "workflow_times.tsv", sep="\t", index=False)
    steps.to_csv(out / "workflow_steps.tsv", sep="\t", index=False)
    print("\n| samples | runs | median wall (s) | range (s) | peak RSS (MB) |\n|---|---|---|---|---|")
    for n, g in totals.groupby("n_samples"):
        wall = f"{statistics.median(g.wall_s):.1f} | {g.wall_s.min():.1f}-{g.wall_s.max():.1f}"
        print(f"| {n:,} | {len(g)} | {wall} | {g.peak_rss_mb.max():.0f} |")
    print_step_table(steps)
    return 0


def print_step_table(steps: pd.DataFrame) -> pd.DataFrame:
    """Markdown table of each step's median seconds and largest peak RSS per size; returns the
    medians (index step, n_samples)."""
    med = steps.groupby(["step", "n_samples"]).agg(seconds=("seconds", "median"), rss=("max_rss_mb", "max"))
    sizes = sorted(steps["n_samples"].unique())
    print("\n| step | " + " | ".join(f"{n:,}: s | {n:,}: MB" for n in sizes) + " |")
    print("|---|" + "---|---|" * len(sizes))
    for step in med.index.get_level_values(0).unique():
        cells = []
        for n in sizes:
            s, mb = med.loc[(step, n)] if (step, n) in med.index else (float("nan"), float("nan"))
            cells.append(f"{s:.1f} | {mb:.0f}")
        print(f"| {step} | " + " | ".join(cells) + " |")
    return med


if __name__ == "__main__":
    sys.exit(main())
