#!/usr/bin/env bash
# Permutation benchmark: vdrbone.permutation (1,000 max(T) permutations of the default analysis:
# 4 outcomes x 9 strata x 6 variants) against PLINK 1.9 --assoc --mperm 1000 --within on the same
# 100,000-sample simulated cohort. Data go to benchmarks/data/ (git-ignored), timings to
# benchmarks/out/. Usage: benchmarks/permutation.sh   (RUNS=1 PY=.venv/bin/python by default)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-1}
mkdir -p benchmarks/data benchmarks/out
{
  date -u +%FT%TZ
  uname -srm
  nproc
  lscpu | grep -E '^(Model name|CPU\(s\))'
  uptime
  plink1.9 --version
  "$PY" --version
} > benchmarks/out/permutation_machine.txt
"$PY" benchmarks/permutation_bench.py time --n-samples 100000 --n-perm 1000 --threads 2 --runs "$RUNS" \
  | tee benchmarks/out/permutation_summary.txt
cat benchmarks/out/permutation_machine.txt
