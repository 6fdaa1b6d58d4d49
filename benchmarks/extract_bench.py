"""Benchmark of vdrbone.harmonise.extract_panel against `bcftools view -r` on large indexed VCFs.

Two sub-commands:

``generate``  write a bgzipped, tabix-indexed VCF with N samples, B background SNVs on chr12
              (GRCh38 contig lengths) and the panel variants (chr12 diploid, chrM haploid with a
              few heteroplasmic 0/1 + AF calls). Background genotype rows are drawn from a pool of
              pre-generated rows with log-uniform allele frequencies (0.0005-0.5), so writing is
              bound by bgzip, not by Python.
``time``      for every file and run, time in the same run (interleaved, after one warm-up):
              ``bcftools view -r <panel regions> FILE -Ou > /dev/null``, the same with ``-Ov``,
              ``extract_panel`` in process (the default pysam.TabixFile + numpy reader, and the
              cyvcf2 reader it falls back to), and ``extract_panel`` as a cold ``python -c``
              command; the order of the commands alternates from run to run (ours first in even
              runs, bcftools first in odd runs) and the 1-minute load average is recorded. Before
              timing, the calls and variants of both readers are checked to be identical. Writes
              every run to a TSV and prints medians and median within-run ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PANEL = ROOT / "resources" / "vdr_snps.tsv"
CHR12_GRCH38 = 133275309


def _rows_pool(n_samples: int, n_rows: int, rng: np.random.Generator) -> list[bytes]:
    """Diploid phased GT rows ``a|b\\t...\\n`` with log-uniform ALT frequencies."""
    pool = []
    for p in np.exp(rng.uniform(np.log(0.0005), np.log(0.5), size=n_rows)):
        g = (rng.random((n_samples, 2)) < p).astype(np.uint8) + ord("0")
        buf = np.empty((n_samples, 4), dtype=np.uint8)
        buf[:, 0], buf[:, 1], buf[:, 2], buf[:, 3] = g[:, 0], ord("|"), g[:, 1], ord("\t")
        buf[-1, 3] = ord("\n")
        pool.append(buf.tobytes())
    return pool


def generate(out: str, *, n_samples: int, n_background: int, seed: int = 1, threads: int = 2) -> None:
    """Write ``out`` (.vcf.gz) and its .tbi index."""
    sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
    from vdrbone.panel import read_panel

    panel = read_panel(PANEL)
    rng = np.random.default_rng(seed)
    pool = _rows_pool(n_samples, 64, rng)
    panel_pos = {pv.pos_grch38: pv for pv in panel if not pv.is_mt}
    # background positions spread over chr12, avoiding the panel positions
    background = np.unique(rng.integers(1_000_000, CHR12_GRCH38 - 1_000_000, size=n_background * 2))
    background = rng.choice(np.setdiff1d(background, list(panel_pos)), size=n_background, replace=False)
    positions = np.sort(np.concatenate([background, list(panel_pos)]))
    header = [
        "##fileformat=VCFv4.2",
        "##reference=GRCh38",
        f"##contig=<ID=chr12,length={CHR12_GRCH38}>",
        "##contig=<ID=chrM,length=16569>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Heteroplasmy level">',
        "\t".join(
            ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
            + [f"P{i:06d}" for i in range(n_samples)]
        ),
    ]
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        bgzip = subprocess.Popen(["bgzip", "-@", str(threads), "-c"], stdin=subprocess.PIPE, stdout=fh)
        w = bgzip.stdin
        w.write(("\n".join(header) + "\n").encode())
        bases = np.array(list("ACGT"))
        for pos in positions:
            pv = panel_pos.get(int(pos))
            if pv is not None:
                p = 0.4
                g = (rng.random((n_samples, 2)) < p).astype(int)
                g[rng.random(n_samples) < 0.01] = -1
                cells = np.where(g < 0, ".", g.astype(str))
                row = "\t".join(np.char.add(np.char.add(cells[:, 0], "|"), cells[:, 1])) + "\n"
                w.write(
                    f"chr12\t{pos}\t{pv.id}\t{pv.ref}\t{pv.alt}\t.\tPASS\t.\tGT\t".encode() + row.encode()
                )
            else:
                ref, alt = rng.choice(bases, 2, replace=False)
                w.write(f"chr12\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT\t".encode())
                w.write(pool[rng.integers(len(pool))])
        for pv in (pv for pv in panel if pv.is_mt):
            carrier = rng.random(n_samples) < 0.05
            het = rng.random(n_samples) < 0.002
            cells = np.where(carrier, "1:1", "0:0").astype(object)
            cells[het] = [f"0/1:{x:.2f}" for x in rng.uniform(0.05, 0.99, het.sum())]
            w.write(f"chrM\t{pv.pos_grch38}\t{pv.id}\t{pv.ref}\t{pv.alt}\t.\tPASS\t.\tGT:AF\t".encode())
            w.write(("\t".join(cells) + "\n").encode())
        w.close()
        if bgzip.wait() != 0:
            raise SystemExit("bgzip failed")
    subprocess.run(["tabix", "-f", "-p", "vcf", out], check=True)


def _regions() -> str:
    sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
    from vdrbone.panel import read_panel

    return ",".join(
        f"{'chrM' if pv.is_mt else 'chr12'}:{pv.pos_grch38}-{pv.pos_grch38}" for pv in read_panel(PANEL)
    )


COLD = (
    "import sys; from vdrbone.panel import read_panel; from vdrbone.harmonise import extract_panel; "
    "ex = extract_panel([sys.argv[1]], read_panel(sys.argv[2])); "
    "assert ex.variants.found.all(), ex.variants"
)


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _in_process(path: str, panel, *, fast: bool = True) -> float:
    from vdrbone.harmonise import extract_panel

    t0 = time.perf_counter()
    ex = extract_panel([path], panel, reader="auto" if fast else "cyvcf2")
    elapsed = time.perf_counter() - t0
    assert ex.variants.found.all(), ex.variants
    return elapsed


def check_identical(path: str, panel) -> None:
    """The fast reader and the cyvcf2 reader give the same calls and variants tables."""
    import pandas as pd

    from vdrbone.harmonise import extract_panel

    fast = extract_panel([path], panel, reader="auto")
    slow = extract_panel([path], panel, reader="cyvcf2")
    pd.testing.assert_frame_equal(fast.calls, slow.calls)
    pd.testing.assert_frame_equal(fast.variants, slow.variants)
    print(f"# {os.path.basename(path)}: pysam/numpy and cyvcf2 readers give identical tables", flush=True)


def time_files(files: list[str], *, runs: int, out: str) -> None:
    from vdrbone.panel import read_panel

    panel = read_panel(PANEL)
    regions = _regions()
    rows = []
    for path in files:
        check_identical(path, panel)
        size = os.path.getsize(path)
        bcf_ou = ["bcftools", "view", "-r", regions, path, "-Ou"]
        bcf_ov = ["bcftools", "view", "-r", regions, path, "-Ov"]
        cold = [sys.executable, "-c", COLD, path, str(PANEL)]
        _timed(bcf_ou), _timed(cold), _in_process(path, panel)  # warm-up: page cache, imports
        jobs = {
            "extract_in_process": lambda: _in_process(path, panel),  # noqa: B023 - used in this loop
            "bcftools_Ou": lambda: _timed(bcf_ou),  # noqa: B023
            "extract_cyvcf2_in_process": lambda: _in_process(path, panel, fast=False),  # noqa: B023
            "bcftools_Ov": lambda: _timed(bcf_ov),  # noqa: B023
            "python_cold": lambda: _timed(cold),  # noqa: B023
        }
        for run in range(runs):
            names = list(jobs) if run % 2 == 0 else list(reversed(jobs))
            t = {name: jobs[name]() for name in names}
            rows.append(
                {"file": os.path.basename(path), "bytes": size, "run": run, "first": names[0],
                 "load1": os.getloadavg()[0], **{k: t[k] for k in jobs}}
            )  # fmt: skip
    import pandas as pd

    df = pd.DataFrame(rows)
    df["ratio_in_process"] = df.extract_in_process / df.bcftools_Ou
    df["ratio_cyvcf2"] = df.extract_cyvcf2_in_process / df.bcftools_Ou
    df["ratio_cold"] = df.python_cold / df.bcftools_Ou
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, sep="\t", index=False)
    med = df.groupby(["file", "bytes"], sort=False).median(numeric_only=True).drop(columns="run")
    print(
        f"# {platform.node()} {platform.processor() or platform.machine()} python {platform.python_version()}"
    )
    print(f"# runs per file: {runs}; medians (seconds) and median within-run ratios vs bcftools -Ou")
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(med.T.to_string(float_format=lambda x: f"{x:.3f}"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out", required=True)
    g.add_argument("--samples", type=int, default=100_000)
    g.add_argument("--background", type=int, default=5_000)
    g.add_argument("--seed", type=int, default=1)
    t = sub.add_parser("time")
    t.add_argument("files", nargs="+")
    t.add_argument("--runs", type=int, default=7)
    t.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "extract_times.tsv"))
    args = ap.parse_args()
    if args.cmd == "generate":
        t0 = time.perf_counter()
        generate(args.out, n_samples=args.samples, n_background=args.background, seed=args.seed)
        print(
            f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB) in {time.perf_counter() - t0:.0f} s"
        )
    else:
        time_files(args.files, runs=args.runs, out=args.out)


if __name__ == "__main__":
    main()
