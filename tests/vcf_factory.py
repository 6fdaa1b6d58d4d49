"""Write one small genotype truth as VCF/BCF files in the many shapes real cohorts come in.

The truth (:func:`make_truth`) holds, for every panel variant and sample, the forward-strand
alleles (panel strand) or None (missing); mtDNA calls may carry a heteroplasmy level.
:func:`write_vcf` writes it with a given build, contig naming, REF/ALT swap, strand flip,
multi-allelic or split records, phasing, mtDNA coding, imputed GP/DS only, and compression /
index; :func:`expected_calls` gives the calls every correct reader must return.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pysam
import pysam.bcftools

from vdrbone.panel import COMPLEMENT, Panel

CHR12_LEN = {"GRCh37": 133851895, "GRCh38": 133275309}


@dataclass
class Truth:
    panel: Panel
    samples: list[str]
    # variant id -> list (per sample) of tuple of alleles (panel strand) or None
    alleles: dict[str, list]
    # mtDNA variant id -> array of heteroplasmy level of the ALT in a (ref, alt) call, NaN otherwise
    het_af: dict[str, np.ndarray]
    low_confidence: dict[str, set]  # imputed files: samples written with max GP < 0.9


def make_truth(panel: Panel, n: int = 40, seed: int = 7) -> Truth:
    """~40 samples with known genotypes, missing calls, third alleles and heteroplasmy."""
    rng = np.random.default_rng(seed)
    samples = [f"S{i:03d}" for i in range(n)]
    alleles, het_af, low = {}, {}, {}
    for k, pv in enumerate(panel):
        if pv.is_mt:
            calls = [(pv.alt,) if rng.random() < 0.3 else (pv.ref,) for _ in range(n)]
            af = np.full(n, np.nan)
            # heteroplasmic on both sides of the 0.9 threshold, and a missing call
            calls[1], af[1] = (pv.ref, pv.alt), 0.30
            calls[2], af[2] = (pv.ref, pv.alt), 0.95
            calls[3] = None
            if pv.pos_grch38 == 4823:
                other = "A"  # the literature's "Mt4823 C/A": another non-reference allele
                calls[4] = (other,)
            alleles[pv.id], het_af[pv.id] = calls, af
        else:
            counts = rng.binomial(2, 0.4, size=n)
            counts[:3] = [0, 1, 2]
            calls = [tuple([pv.ref] * (2 - c) + [pv.alt] * c) for c in counts]
            calls[5 + k] = None
            calls[20 + k] = None
            if pv.id == "rs1544410":  # rare further alleles at BsmI and FokI
                calls[10] = (pv.ref, "A")
                calls[11] = ("A", pv.alt)
            if pv.id == "rs2228570":
                calls[12] = (pv.alt, "C")
            alleles[pv.id] = calls
        low[pv.id] = {samples[30], samples[31 + k % 5]}
    return Truth(panel, samples, alleles, het_af, low)


def expected_calls(truth: Truth, *, mt_alt: str = "any", threshold: float = 0.9, imputed: bool = False):
    """(sample, variant) -> effect_count and status, as the reader must return them."""
    rows = []
    for pv in truth.panel:
        for i, s in enumerate(truth.samples):
            a = truth.alleles[pv.id][i]
            status, count = "called", np.nan
            if a is None:
                status = "missing"
            elif pv.is_mt:
                if len(a) == 2:
                    if truth.het_af[pv.id][i] >= threshold:
                        a = (a[1],)
                    else:
                        status = "heteroplasmic"
                if status == "called":
                    allele = a[0]
                    if allele not in (pv.ref, pv.alt):
                        if mt_alt == "any":
                            allele = pv.alt
                        else:
                            status = "other_allele"
                    if status == "called":
                        count = float(allele == pv.effect_allele)
            elif any(x not in (pv.ref, pv.alt) for x in a):
                status = "other_allele"
            else:
                count = float(sum(x == pv.effect_allele for x in a))
            if imputed and s in truth.low_confidence[pv.id] and status != "missing":
                status, count = "low_gp", np.nan
            rows.append((s, pv.id, count, status))
    return pd.DataFrame(rows, columns=["sample", "variant", "effect_count", "status"])


def _gp_values(alleles_idx, n_alleles, ploidy, low):
    """GP vector for a call (allele indices) in VCF genotype order."""
    if ploidy == 1:
        geno = [(k,) for k in range(n_alleles)]
    else:
        geno = [(j, k) for k in range(n_alleles) for j in range(k + 1)]
    true = tuple(sorted(alleles_idx))
    gp = np.full(len(geno), 0.0)
    t = geno.index(true)
    if low:
        gp[t], gp[(t + 1) % len(geno)] = 0.6, 0.4
    else:
        gp[:] = 0.03 / (len(geno) - 1)
        gp[t] = 0.97
    return gp, geno


def write_vcf(
    path: str,
    truth: Truth,
    *,
    build: str = "GRCh38",
    contig12: str = "chr12",
    contig_mt: str = "chrM",
    include: tuple[str, ...] = ("12", "MT"),
    id_dot: bool = False,
    swap: bool = False,
    flip: bool = False,
    split: bool = False,
    phased: bool = False,
    mt_coding: str = "haploid",
    imputed: str | None = None,
    index: str | None = None,
    mt_length: int = 16569,
    contig_lengths: bool = True,
    reference_line: str | None = None,
    samples_order: list[str] | None = None,
    noise: bool = True,
) -> str:
    """Write ``truth`` as a VCF in one representation; returns the final path.

    ``index``: None (plain .vcf), 'tbi' / 'csi' (bgzipped .vcf.gz + index), 'bcf' (BCF + .csi),
    'gz' (bgzipped, no index). ``imputed``: None (GT), 'gp' (GP only) or 'ds' (DS only).
    ``mt_coding``: 'haploid' (0/1 + AF for heteroplasmy), 'haploid_noaf', 'diploid' (0/0, 1/1),
    'mutect2' (0/1 with AF for every call).
    """
    order = samples_order or truth.samples
    col = [truth.samples.index(s) for s in order]
    sep = "|" if phased else "/"
    lines = ["##fileformat=VCFv4.2"]
    if reference_line:
        lines.append(f"##reference={reference_line}")
    contigs = {"12": contig12, "MT": contig_mt}
    for c in include:
        length = CHR12_LEN[build] if c == "12" else mt_length
        lines.append(
            f"##contig=<ID={contigs[c]},length={length}>" if contig_lengths else f"##contig=<ID={contigs[c]}>"
        )
    if imputed is None:
        lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
        lines.append(
            '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction (heteroplasmy level)">'
        )
    if imputed == "gp":
        lines.append('##FORMAT=<ID=GP,Number=G,Type=Float,Description="Genotype probabilities">')
    if imputed == "ds":
        lines.append('##FORMAT=<ID=DS,Number=A,Type=Float,Description="Alternate allele dosage">')
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *order]))

    records = []  # (contig rank, pos, text)
    for rank, c in enumerate(include):
        for pv in truth.panel:
            if pv.chrom != c:
                continue
            pos = pv.pos(build)
            calls = [truth.alleles[pv.id][j] for j in col]
            extras = sorted({x for a in calls if a for x in a} - {pv.ref, pv.alt})
            if pv.is_mt:
                alleles = [pv.ref, pv.alt, *extras]
            else:
                alleles = [pv.alt, pv.ref, *extras] if swap else [pv.ref, pv.alt, *extras]
                if flip:
                    alleles = [COMPLEMENT[x] for x in alleles]
            fwd = [COMPLEMENT[x] for x in alleles] if (flip and not pv.is_mt) else alleles
            vid = "." if id_dot else pv.id
            if noise:
                records.append(
                    (rank, pos - 1, f"{contigs[c]}\t{pos - 1}\tdel1\t{fwd[0]}G\t{fwd[0]}\t.\tPASS\t.", None)
                )
                records.append((rank, pos + 1, f"{contigs[c]}\t{pos + 1}\tnoise1\tG\tT\t.\tPASS\t.", None))
            if pv.is_mt:
                het = truth.het_af[pv.id][col]
                records.append(
                    (rank, pos, _mt_record(contigs[c], pos, vid, alleles, calls, het, mt_coding), None)
                )
                continue
            idx = {x: i for i, x in enumerate(fwd)}
            low = [s in truth.low_confidence[pv.id] for s in order]
            alt_sets = [[k] for k in range(1, len(alleles))] if split else [list(range(1, len(alleles)))]
            for alts in alt_sets:
                fields = [
                    contigs[c],
                    str(pos),
                    vid,
                    alleles[0],
                    ",".join(alleles[k] for k in alts),
                    ".",
                    "PASS",
                    ".",
                ]
                remap = {0: 0, **{k: i + 1 for i, k in enumerate(alts)}}
                fmt, cells = _diploid_cells(calls, idx, remap, sep, imputed, low, len(alts) + 1)
                records.append((rank, pos, "\t".join(fields + [fmt, *cells]), None))
    # noise records need sample columns
    n = len(order)
    body = []
    for _rank, _pos, text, _ in sorted(records, key=lambda r: (r[0], r[1])):
        if text.count("\t") == 7:
            fmt = {None: "GT", "gp": "GP", "ds": "DS"}[imputed]
            cell = {None: f"0{sep}0", "gp": "1,0,0", "ds": "0"}[imputed]
            text = "\t".join([text, fmt, *([cell] * n)])
        body.append(text)
    plain = path if path.endswith(".vcf") else path.rsplit(".vcf", 1)[0] + ".vcf"
    if index == "bcf":
        plain = path.rsplit(".", 1)[0] + ".tmp.vcf"
    with open(plain, "w") as fh:
        fh.write("\n".join(lines + body) + "\n")
    if index is None:
        return plain
    if index == "bcf":
        with pysam.VariantFile(plain) as src, pysam.VariantFile(path, "wb", header=src.header) as dst:
            for rec in src:
                dst.write(rec)
        os.remove(plain)
        pysam.bcftools.index(path)
        return path
    gz = plain + ".gz"
    pysam.tabix_compress(plain, gz, force=True)
    os.remove(plain)
    if index in ("tbi", "csi"):
        pysam.tabix_index(gz, preset="vcf", force=True, csi=index == "csi")
    return gz


def _diploid_cells(calls, idx, remap, sep, imputed, low, n_alleles):
    cells = []
    for a, lo in zip(calls, low, strict=True):
        if a is None:
            cells.append({None: f".{sep}.", "gp": ".", "ds": "."}[imputed])
            continue
        raw = [idx[x] for x in a]
        # split records: alleles not in this record are filled with REF (bcftools norm -m-)
        gi = [remap.get(r, 0) for r in raw]
        if imputed is None:
            cells.append(sep.join(map(str, gi)))
            continue
        gp, geno = _gp_values(gi, n_alleles, 2, lo)
        if imputed == "gp":
            cells.append(",".join(f"{x:.4g}" for x in gp))
        else:
            ds = [sum(p * g.count(k) for p, g in zip(gp, geno, strict=True)) for k in range(1, n_alleles)]
            cells.append(",".join(f"{x:.4g}" for x in ds))
    return {None: "GT", "gp": "GP", "ds": "DS"}[imputed], cells


def _mt_record(contig, pos, vid, alleles, calls, het, coding):
    n_alt = len(alleles) - 1
    idx = {x: i for i, x in enumerate(alleles)}
    cells = []
    for a, level in zip(calls, het, strict=True):
        af = ["0"] * n_alt
        if a is None:
            gt, afs = (".", ".") if coding in ("haploid", "haploid_noaf") else ("./.", ".")
            cells.append(gt if coding == "haploid_noaf" else f"{gt}:{afs}")
            continue
        if len(a) == 2:  # heteroplasmic (ref, alt) with ALT level `level`
            k = idx[a[1]]
            af[k - 1] = f"{level:g}"
            gt = f"0/{k}"
        else:
            k = idx[a[0]]
            if k:
                af[k - 1] = "0.99" if coding == "mutect2" else "1"
            gt = {"haploid": str(k), "haploid_noaf": str(k), "diploid": f"{k}/{k}"}.get(coding)
            if coding == "mutect2":
                gt = f"0/{k}" if k else "0/0"
        cells.append(gt if coding == "haploid_noaf" else f"{gt}:{','.join(af)}")
    fmt = "GT" if coding == "haploid_noaf" else "GT:AF"
    return "\t".join(
        [contig, str(pos), vid, alleles[0], ",".join(alleles[1:]), ".", "PASS", ".", fmt, *cells]
    )
