#!/usr/bin/env bash
# Write one cohort's VCFs again as BCF, PLINK 1 bed, PLINK 2 pgen and BGEN 1.2 with the field's
# own tools (bcftools, plink2), the way real cohorts arrive; tests/genotype_encodings.py does the
# same in Python for the tests. Every encoding must give the same association.tsv
# (tests/test_genotype_files.py; README "Genotype files").
#
#   benchmarks/convert_cohort.sh OUTDIR chr12.vcf.gz chrM.vcf.gz
#
# Writes OUTDIR/cohort.{bcf,bed,bim,fam,pgen,pvar,psam,bgen,sample} and cohort.bgen.bgi (the
# BGEN is copied variant by variant with the `bgen` PyPI package, which writes the .bgi that
# bgenix would). Needs bcftools, plink2 (2.00a3 or later) and the project's Python.
set -euo pipefail
out=$1; shift
mkdir -p "$out"
PY=${PYTHON:-python}
bcftools concat -a -O z -o "$out/cohort.vcf.gz" "$@"
bcftools index -t "$out/cohort.vcf.gz"
bcftools view -O b -o "$out/cohort.bcf" "$out/cohort.vcf.gz"
bcftools index "$out/cohort.bcf"
# --vcf-half-call m: a partly missing call is missing, as vdrbone reads it; chrM is haploid
common=(--vcf "$out/cohort.vcf.gz" --double-id --vcf-half-call m --allow-extra-chr --split-par hg38)
plink2 "${common[@]}" --make-bed --out "$out/cohort"
plink2 "${common[@]}" --make-pgen --out "$out/cohort"
plink2 "${common[@]}" --export bgen-1.2 bits=8 ref-first id-paste=iid --out "$out/cohort.plink2"
"$PY" - "$out/cohort.plink2.bgen" "$out/cohort.bgen" <<'PYEOF'
import sys
from bgen import BgenReader, BgenWriter
src, dst = sys.argv[1:]
with BgenReader(src, delay_parsing=True) as reader:
    h = reader.header
    with BgenWriter(dst, h.nsamples, samples=reader.samples if h.has_sample_ids else None,
                    compression=h.compression, layout=h.layout) as writer:
        for var in reader:
            writer.add_variant_direct(var)
PYEOF
mv "$out/cohort.plink2.sample" "$out/cohort.sample"
rm -f "$out/cohort.plink2.bgen" "$out/cohort.plink2.log"
