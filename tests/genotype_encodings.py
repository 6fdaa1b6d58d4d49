"""Write one cohort's VCFs again as BCF, PLINK 1 bed, PLINK 2 pgen and BGEN 1.2, in Python.

Used by tests/test_genotype_files.py: every encoding must give the same calls (and association
results) as the VCFs. The writers are the PyPI packages' own: pysam's bundled bcftools (BCF),
bed-reader (``to_bed``), pgenlib (``PgenWriter``, PLINK 2's library) and bgen (``BgenWriter``,
which also writes the ``.bgi``). ``benchmarks/convert_cohort.sh`` does the same conversions with
plink2 and bcftools for real files.
"""

from __future__ import annotations

import os

import numpy as np
import pysam
import pysam.bcftools
from cyvcf2 import VCF


def read_vcfs(paths):
    """Samples and records ``(chrom, pos, id, ref, alts, gt)`` of VCFs; gt (n, 2), -1 missing, -2 absent."""
    samples, records = None, []
    for path in paths:
        vcf = VCF(path)
        samples = samples or list(vcf.samples)
        for v in vcf:
            arr = v.genotype.array()[:, :-1].astype(np.int16)  # last column: phased flag
            gt = arr[:, :2] if arr.shape[1] > 1 else np.column_stack([arr[:, 0], np.full(len(arr), -2)])
            records.append((v.CHROM, v.POS, v.ID or ".", v.REF, list(v.ALT), gt))
    return samples, records


def _plink_chrom(chrom: str) -> str:
    return "MT" if chrom in ("chrM", "MT", "chrMT") else chrom.removeprefix("chr")


def _alt_counts(gt: np.ndarray) -> np.ndarray:
    """ALT allele counts (int8, -9 missing): haploid calls as homozygous diploid, as PLINK stores them."""
    haploid = gt[:, 1] == -2
    count = np.where(haploid, 2 * (gt[:, 0] > 0), (gt[:, 0] > 0).astype(int) + (gt[:, 1] > 0))
    return np.where(gt[:, 0] < 0, -9, count).astype(np.int8)


def write_bcf(vcf: str, out: str) -> str:
    pysam.bcftools.view("-O", "b", "-o", out, vcf, catch_stdout=False)
    pysam.bcftools.index(out)
    return out


def write_bed(paths, stem: str, *, swap: bool = False, positions: dict | None = None) -> str:
    """``stem.bed/.bim/.fam``; ``swap``: A1 is the VCF REF (counts of REF), as PLINK 1.9 writes
    when REF is the minor allele; ``positions``: (chrom, pos) -> pos written in the .bim."""
    from bed_reader import to_bed

    samples, records = read_vcfs(paths)
    counts = np.column_stack([_alt_counts(r[5]) for r in records]).astype(np.float32)
    counts[counts < 0] = np.nan
    a1 = [r[4][0] for r in records]
    a2 = [r[3] for r in records]
    if swap:
        counts, a1, a2 = 2 - counts, a2, a1
    pos = [(positions or {}).get((_plink_chrom(r[0]), r[1]), r[1]) for r in records]
    to_bed(
        stem + ".bed", counts,
        properties={
            "fid": samples, "iid": samples, "chromosome": [_plink_chrom(r[0]) for r in records],
            "sid": [r[2] for r in records], "bp_position": pos, "allele_1": a1, "allele_2": a2,
        },
    )  # fmt: skip
    return stem + ".bed"


def write_pgen(paths, stem: str) -> str:
    import pgenlib

    samples, records = read_vcfs(paths)
    writer = pgenlib.PgenWriter(
        (stem + ".pgen").encode(), len(samples), variant_ct=len(records), nonref_flags=False
    )
    for r in records:
        writer.append_biallelic(_alt_counts(r[5]))
    writer.close()
    with open(stem + ".pvar", "w") as fh:
        fh.write("##fileformat=PVARv1.0\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for r in records:
            fh.write(f"{_plink_chrom(r[0])}\t{r[1]}\t{r[2]}\t{r[3]}\t{','.join(r[4])}\t.\tPASS\t.\n")
    with open(stem + ".psam", "w") as fh:
        fh.write("#IID\tSEX\n" + "".join(f"{s}\tNA\n" for s in samples))
    return stem + ".pgen"


def write_bgen(
    paths, path: str, *, layout: int = 2, compression: str | None = "zstd", sample_ids=True
) -> str:
    """BGEN with probabilities 0/1 (hard calls), missing calls flagged missing; ``.bgi`` and ``.sample``."""
    from bgen import BgenWriter

    samples, records = read_vcfs(paths)
    with BgenWriter(path, len(samples), samples=samples if sample_ids else None, layout=layout,
                    compression=compression) as writer:  # fmt: skip
        for chrom, pos, vid, ref, alts, gt in records:
            haploid = bool((gt[:, 1] == -2).all())
            if haploid and layout == 1:
                continue
            k = 1 if haploid else 2
            count = np.where(gt[:, 0] < 0, -1, (gt[:, 0] > 0).astype(int) + (0 if haploid else gt[:, 1] > 0))
            probs = np.zeros((len(samples), k + 1))
            probs[np.arange(len(samples)), np.clip(count, 0, None)] = 1.0
            probs[count < 0] = np.nan
            writer.add_variant(vid, vid, _plink_chrom(chrom), pos, [ref, *alts], probs, ploidy=k)
    with open(os.path.splitext(path)[0] + ".sample", "w") as fh:
        fh.write("ID_1 ID_2 missing sex\n0 0 0 D\n" + "".join(f"{s} {s} 0 NA\n" for s in samples))
    return path
