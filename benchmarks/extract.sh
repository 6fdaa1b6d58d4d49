#!/usr/bin/env bash
# Extraction benchmark: vdrbone.harmonise.extract_panel against `bcftools view -r` on two indexed
# 100,000-sample VCFs with the same samples: 5,000 and 50,000 background SNVs on chr12 plus the
# panel. Data go to benchmarks/data/ (git-ignored), timings to benchmarks/out/.
# Usage: benchmarks/extract.sh            (RUNS=7 PY=.venv/bin/python by default)
# Needs bgzip, tabix and bcftools on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-7}
mkdir -p benchmarks/data benchmarks/out
for bg in 5000 50000; do
  f=benchmarks/data/chr12_100k_$((bg / 1000))k.vcf.gz
  if [ ! -s "$f.tbi" ]; then
    "$PY" benchmarks/extract_bench.py generate --out "$f" --samples 100000 --background "$bg" --seed 1
  fi
done
{
  date -u +%FT%TZ
  uname -srm
  lscpu | grep -E '^(Model name|CPU\(s\))'
  free -g | sed -n 2p
  uptime
  bcftools --version | head -1
  "$PY" --version
  ls -l benchmarks/data/*.vcf.gz
} > benchmarks/out/extract_machine.txt
"$PY" benchmarks/extract_bench.py time \
  benchmarks/data/chr12_100k_5k.vcf.gz benchmarks/data/chr12_100k_50k.vcf.gz \
  --runs "$RUNS" --out benchmarks/out/extract_times.tsv | tee benchmarks/out/extract_summary.txt
echo "after: $(uptime)" >> benchmarks/out/extract_machine.txt
cat benchmarks/out/extract_machine.txt
