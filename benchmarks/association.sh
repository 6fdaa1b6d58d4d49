#!/usr/bin/env bash
# Association benchmark: vdrbone.association.associate_outcome (all 4 outcomes x 9 strata x all
# models) against the like-for-like `plink2 --glm` regressions, on a 100,000-sample simulated
# cohort. Data go to benchmarks/data/ (git-ignored), timings to benchmarks/out/.
# Usage: benchmarks/association.sh            (RUNS=3 PY=.venv/bin/python by default)
# Needs plink2 on PATH (Debian package plink2). threadpoolctl, when importable, names the BLAS.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-3}
mkdir -p benchmarks/data benchmarks/out
"$PY" benchmarks/association_bench.py prepare --n-samples 100000
{
  date -u +%FT%TZ
  uname -srm
  nproc
  lscpu | grep -E '^(Model name|CPU\(s\))'
  free -g | sed -n 2p
  uptime
  env | grep -E '^(OPENBLAS|OMP|MKL)_' || echo "no OPENBLAS_/OMP_/MKL_ variables set"
  plink2 --version
  "$PY" --version
} > benchmarks/out/association_machine.txt
"$PY" benchmarks/association_bench.py time --runs "$RUNS" --out benchmarks/out/association_times.tsv \
  | tee benchmarks/out/association_summary.txt
cat benchmarks/out/association_machine.txt
