"""Compare the tables of two runs, as the speed work does before and after a change.

Usage: ``python benchmarks/compare_runs.py A B``, where A and B are run folders
(``results/runs/<run_id>/``), folders holding one run (``<folder>/results/runs/*/``), or two
``.tsv`` files. For each TSV under ``tables/``, ``shareable/tables/``, ``work/association/`` and
``work/haplotypes/`` of A, the same file of B must have the same columns and rows, and:

- text columns are identical;
- numbers agree to ``rtol`` 1e-9 (the same NaN cells);
- p-value columns (``p_value``, ``p_*``, ``*_p``, ``hwe_*``, ``q_*``, ``emp*``) agree as
  -log10(p), to ``rtol`` 1e-9 and ``atol`` 1e-12: a p-value of 1e-200 carries the relative
  digits of its statistic, not more;
- ``delta_aic``, a difference of two AICs of ~1e5, agrees to 1e-9 of the largest ``|aic|``.

Exit status 1 and one line per difference when they do not agree.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys

import numpy as np
import pandas as pd

SUBFOLDERS = ("tables", "shareable/tables", "work/association", "work/haplotypes")
P_LIKE = re.compile(r"^(p|p_.*|.*_p|hwe_.*|q|q_.*|emp.*|.*_p_value)$")
RTOL = 1e-9


def run_folder(path: str) -> str:
    hits = sorted(glob.glob(os.path.join(path, "results", "runs", "*", "")))
    if len(hits) > 1:
        raise SystemExit(f"{path} holds {len(hits)} runs; name one run folder")
    return hits[0] if hits else os.path.join(path, "")


def compare_tables(a: str, b: str, label: str) -> list[str]:
    """The differences between two TSV tables (empty when they agree)."""
    x, y = pd.read_csv(a, sep="\t"), pd.read_csv(b, sep="\t")
    if list(x.columns) != list(y.columns) or x.shape != y.shape:
        return [f"{label}: columns or shape differ ({x.shape} vs {y.shape})"]
    aic = x["aic"] if "aic" in x and pd.api.types.is_numeric_dtype(x["aic"]) else pd.Series(dtype=float)
    aic_scale = float(np.nanmax(np.abs(aic.to_numpy(float)))) if aic.notna().any() else 0.0
    out = []
    for col in x.columns:
        if pd.api.types.is_numeric_dtype(x[col]) and pd.api.types.is_numeric_dtype(y[col]):
            u, v = x[col].to_numpy(float), y[col].to_numpy(float)
            if not np.array_equal(np.isnan(u), np.isnan(v)):
                out.append(f"{label}: {col}: missing cells differ")
                continue
            keep = ~np.isnan(u)
            u, v, atol = u[keep], v[keep], 0.0
            if P_LIKE.match(col):
                u, v, atol = -np.log10(np.maximum(u, 1e-320)), -np.log10(np.maximum(v, 1e-320)), 1e-12
            elif col == "delta_aic":
                atol = RTOL * aic_scale
            if not np.allclose(u, v, rtol=RTOL, atol=atol):
                worst = np.max(np.abs(u - v) / np.maximum(np.abs(u), 1e-300))
                out.append(f"{label}: {col}: largest relative difference {worst:.3g}")
        else:
            s, t = x[col].fillna("<NA>").astype(str), y[col].fillna("<NA>").astype(str)
            if not s.equals(t):
                row = int(np.flatnonzero(s.to_numpy() != t.to_numpy())[0])
                first, second = s.iloc[row], t.iloc[row]
                out.append(f"{label}: {col}: text differs, first at row {row + 1}: {first!r} vs {second!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    args = ap.parse_args(argv)
    if args.a.endswith(".tsv"):
        problems, n = compare_tables(args.a, args.b, os.path.basename(args.a)), 1
    else:
        ra, rb = run_folder(args.a), run_folder(args.b)
        problems, n = [], 0
        for sub in SUBFOLDERS:
            for path in sorted(glob.glob(os.path.join(ra, sub, "*.tsv"))):
                other = os.path.join(rb, os.path.relpath(path, ra))
                label = os.path.relpath(path, ra)
                n += 1
                if not os.path.exists(other):
                    problems.append(f"{label}: missing in {rb}")
                else:
                    problems += compare_tables(path, other, label)
    for line in problems:
        print(line)
    print(f"{n} table(s) compared, {len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
