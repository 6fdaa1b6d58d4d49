#!/usr/bin/env bash
# Whole-workflow benchmark at 10,000 and 100,000 samples (fresh folder per run, --cores 2):
# total wall time, peak memory, and each step's time and peak RSS from the rules' benchmark
# files. Figures go to benchmarks/out/workflow_*.tsv; see benchmarks/README.md.
# Usage: benchmarks/run.sh          (RUNS=3 PY=.venv/bin/python SIZES="10000 100000")
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-3}
SIZES=${SIZES:-10000 100000}
uptime
# shellcheck disable=SC2086
"$PY" benchmarks/workflow_bench.py --sizes $SIZES --runs "$RUNS" --cores 2 | tee benchmarks/out/workflow_summary.txt
