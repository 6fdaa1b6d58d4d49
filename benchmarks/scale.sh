#!/usr/bin/env bash
# Scale benchmark (issue 12 item 4): the whole default analysis (snakemake --cores 2 on a
# pre-simulated cohort) against bcftools extraction + plink2 --glm for every model, stratum and
# outcome (--threads 2), at 100,000 and 500,000 people, then cProfile of the non-association
# steps. Data go to benchmarks/data/scale/ (git-ignored), figures to benchmarks/out/scale_*.tsv;
# see benchmarks/README.md.
# Usage: benchmarks/scale.sh    (RUNS=1 SIZES="100000 500000" PROFILE=1 PY=.venv/bin/python
#        TIME_ARGS=--no-epistasis to run ours without the epistasis job,
#        TIME_ARGS="--scope issue --no-report" without the report and archive jobs)
# Needs bcftools and plink2 on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-1}
SIZES=${SIZES:-100000 500000}
PROFILE=${PROFILE:-1}
export PYTHONPATH="$PWD/workflow/scripts"
mkdir -p benchmarks/data/scale benchmarks/out
# shellcheck disable=SC2086
"$PY" benchmarks/scale_bench.py prepare --sizes $SIZES
{
  date -u +%FT%TZ
  uname -srm
  lscpu | grep -E '^(Model name|CPU\(s\))'
  free -g | sed -n 2p
  uptime
  bcftools --version | head -1
  plink2 --version
  "$PY" --version
  "$PY" -m snakemake --version
} > benchmarks/out/scale_machine.txt
# shellcheck disable=SC2086
"$PY" benchmarks/scale_bench.py time --sizes $SIZES --runs "$RUNS" --cores 2 ${TIME_ARGS:-} | tee benchmarks/out/scale_summary.txt
if [ "$PROFILE" = 1 ]; then
  for n in $SIZES; do
    "$PY" benchmarks/scale_bench.py profile --n-samples "$n" --cores 2
  done
fi
echo "after: $(uptime)" >> benchmarks/out/scale_machine.txt
cat benchmarks/out/scale_machine.txt
