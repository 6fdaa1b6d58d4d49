"""Harmonisation: the records of each panel variant matched to the panel's alleles and coded
against its effect allele, giving the call table and ``extraction.tsv``.

Matching is by contig and position plus alleles, never by ID. Match kinds (``variants.match``):

``exact``            REF/ALT as in the panel.
``swapped``          REF and ALT exchanged (PLINK-exported VCFs): recoded.
``flipped``          alleles on the other strand (complements): recoded. Never done for
                     palindromic (A/T, C/G) SNPs, which are excluded when REF is not the panel REF.
``flipped_swapped``  both.
``multiallelic``     one record whose ALTs include the panel ALT (``multiallelic_swapped`` etc.
                     when the record is also swapped/flipped); further ALTs are ``other_allele``.
``split_multiallelic`` several records at the position (``bcftools norm -m-``): the one carrying
                     both panel alleles is used, the ALTs of the others mark ``other_allele``.
``any_alt``          mtDNA record with the panel REF but not the panel ALT, used when
                     ``mt_alt="any"`` (every non-reference allele makes a carrier).
``not_found`` / ``excluded``  unusable; ``reason`` says why.

Statuses of the calls: see :mod:`vdrbone.genotype_coding`. Records come from
:mod:`vdrbone.vcf_reader`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vdrbone.errors import InputError
from vdrbone.genotype_coding import (
    CALLED,
    CLASS_ALT,
    CLASS_OTHER,
    CLASS_REF,
    EXCLUDED,
    HET_HAPLOID,
    HETEROPLASMIC,
    LOW_GP,
    MISSING,
    OTHER_ALLELE,
    OTHER_PLOIDY,
    STATUSES,
    AlleleMatch,
    allele_classes,
    calls_from_ds,
    calls_from_gp,
    code_diploid,
    code_haploid,
    dosage_from_ds,
    dosage_from_gp,
    genotype_codes,
    match_alleles,
    other_ploidy,
    snv_base,
)
from vdrbone.panel import BUILDS, COMPLEMENT, Panel, PanelVariant
from vdrbone.record_quality import record_filter_reason
from vdrbone.vcf_reader import (
    CONTIG_ALIASES,
    Header,
    Record,
    build_of,
    check_integrity,
    check_last_record,
    check_path,
    read_header,
    read_positions,
    samples_of,
)

# ``variants.reason`` of a panel variant without a record in any of the files (the contract word
# that QC, association and the report carry on)
NOT_IN_FILES = "not in the genotype files"
ABSENT_CHOICES = ("warn", "error")
MT_ALT_CHOICES = ("any", "panel")

CALL_COLUMNS = ["sample", "variant", "genotype", "rflp", "effect_count", "dosage", "status"]
VARIANT_COLUMNS = [
    "variant", "name", "found", "file", "contig", "pos", "vcf_id", "vcf_ref", "vcf_alt", "filter",
    "info", "match", "n_records", "alleles_observed", "n_called", "n_missing", "n_heteroplasmic",
    "n_het_haploid", "n_other_allele", "n_low_gp", "n_other_ploidy", "reason", "files_searched",
]  # fmt: skip

log = logging.getLogger(__name__)


@dataclass
class Extraction:
    """Calls harmonised to the panel.

    ``calls``: one row per sample x panel variant, columns :data:`CALL_COLUMNS`; ``variants``:
    one row per panel variant, columns :data:`VARIANT_COLUMNS` (``found`` is False when the
    variant is not in the files or was excluded, ``reason`` then says why; ``alleles_observed``
    lists ``allele:n`` for the alleles carried by n samples, on the panel's strand; ``pos`` is
    the VCF position); ``samples``: VCF sample ids in the order of the first file; ``build``:
    'GRCh37' or 'GRCh38'.
    """

    calls: pd.DataFrame
    variants: pd.DataFrame
    samples: list[str]
    build: str
    notes: list[str] = field(default_factory=list)
    build_source: str = ""  # how the build was decided (config, file headers, panel alleles)


def _merge_split(primary: Record, pm: AlleleMatch, others: list[tuple[Record, np.ndarray]]):
    """Fold split records (``bcftools norm -m-``) into one virtual multi-allelic record.

    A sample whose allele slot is REF (0) in the primary record and an ALT in another record at
    the same position gets that ALT (bcftools fills the other ALTs with REF when splitting).
    """
    gt = primary.gt.copy()
    extra = _any_extra([primary] + [rec for rec, _ in others])
    classes = [pm.classes]
    alts = list(primary.alts)
    af = [primary.af] if primary.af is not None else None
    n_alleles = len(pm.classes)
    for rec, cls in others:
        if rec.gt is None:
            continue
        usable = cls[1:] != -3  # indel ALTs at the position do not replace the SNV base
        sec = rec.gt
        take = (gt == 0) & (sec > 0)
        take &= np.concatenate([[False], usable])[np.clip(sec, 0, None)]
        gt[take] = sec[take] + n_alleles - 1
        classes.append(cls[1:])
        alts += rec.alts
        if af is not None:
            af.append(rec.af if rec.af is not None else np.full((len(gt), len(rec.alts)), np.nan))
        n_alleles += len(rec.alts)
    af_all = np.column_stack(af) if af is not None else None
    return gt, np.concatenate(classes), alts, af_all, extra


def _any_extra(records: list[Record]) -> np.ndarray | None:
    """Samples with more than two allele slots in any of ``records`` (None: none)."""
    flags = [r.extra for r in records if r.extra is not None]
    return np.logical_or.reduce(flags) if flags else None


def _observed_from_codes(codes: np.ndarray, table: np.ndarray, alleles: list[str]) -> str:
    """``allele:n`` for every allele carried by n > 0 samples, from genotype codes."""
    per_code = np.bincount(codes, minlength=len(table))
    n = [int(per_code[(table[:, 0] == i) | (table[:, 1] == i)].sum()) for i in range(len(alleles))]
    return ",".join(f"{allele}:{c}" for allele, c in zip(alleles, n, strict=True) if c)


def _observed(gt: np.ndarray, alleles: list[str]) -> str:
    """``allele:n`` for every allele carried by n > 0 samples (each sample counted once)."""
    k = len(alleles)
    a0, a1 = gt[:, 0].astype(np.int64), gt[:, 1].astype(np.int64)
    n = np.bincount(a0[a0 >= 0], minlength=k)[:k] + np.bincount(a1[(a1 >= 0) & (a1 != a0)], minlength=k)[:k]
    return ",".join(f"{allele}:{c}" for allele, c in zip(alleles, n, strict=True) if c)


def _sorted_gt(gt: np.ndarray) -> np.ndarray:
    return np.sort(gt, axis=1)


def drop_duplicate_records(records: list[Record]) -> tuple[list[Record], str, bool]:
    """Records at one position that repeat another's REF and an ALT (duplicate probes, merged
    batches) are not split multi-allelics: fold them, never merge them genotype by genotype.

    Returns (records to use, message, usable). A duplicate with the same REF and ALTs and the
    same genotype for every sample called in both is dropped (message says so); duplicates that
    disagree, or repeat an ALT in another ALT list, make the variant unusable (message = reason).
    """
    kept: list[Record] = []
    dropped: list[str] = []
    for rec in records:
        twin = next((k for k in kept if k.ref == rec.ref and set(k.alts) & set(rec.alts)), None)
        if twin is None:
            kept.append(rec)
            continue
        label = f"{rec.chrom}:{rec.pos} {rec.ref}>{','.join(rec.alts)}"
        if twin.alts != rec.alts:
            return records, f"duplicate records at {label} with different ALT lists", False
        if twin.gt is not None and rec.gt is not None:
            both = (twin.gt >= 0).all(axis=1) & (rec.gt >= 0).all(axis=1)
            differ = int((_sorted_gt(twin.gt)[both] != _sorted_gt(rec.gt)[both]).any(axis=1).sum())
            if differ:
                return records, f"duplicate records at {label} disagree for {differ} samples", False
        dropped.append(label)
    if dropped:
        return kept, f"duplicate record(s) {', '.join(dropped)} identical to the first: used once", True
    return kept, "", True


def _harmonise(pv: PanelVariant, records: list[Record], n: int, *, het_thr, gp_thr, mt_alt):
    """Effect counts, dosages, status codes and a summary row for one panel variant."""
    any_alt = pv.is_mt and mt_alt == "any"
    effect_class = CLASS_ALT if pv.effect_allele == pv.alt else CLASS_REF
    nan = np.full(n, np.nan)
    row = {"n_records": len(records), "alleles_observed": "", "match": "not_found", "reason": ""}
    if not records:
        row["reason"] = NOT_IN_FILES
        return nan, nan, np.full(n, EXCLUDED, np.int8), row
    matches = [match_alleles(r.ref, r.alts, pv.ref, pv.alt, any_alt=any_alt) for r in records]
    ranked = [i for i, m in enumerate(matches) if m.ok and m.kind != "any_alt"] + [
        i for i, m in enumerate(matches) if m.kind == "any_alt"
    ]
    first = records[ranked[0] if ranked else 0]
    row.update(
        file=first.file, contig=first.chrom, pos=first.pos, vcf_id=first.id, vcf_ref=first.ref,
        vcf_alt=",".join(first.alts), filter=first.filter, info=first.info,
    )  # fmt: skip
    if not ranked:
        row.update(match="excluded", reason="; ".join(dict.fromkeys(m.reason for m in matches)))
        return nan, nan, np.full(n, EXCLUDED, np.int8), row
    p = ranked[0]
    primary, pm = records[p], matches[p]
    kind = pm.kind
    others = []
    for i, rec in enumerate(records):
        if i == p:
            continue
        # further records at the position, on the primary's strand
        bases = [rec.ref] + rec.alts
        if pm.strand == "-":
            bases = ["".join(COMPLEMENT.get(b, b) for b in a.upper()) for a in bases]
        cls = np.array(
            [-3] + [-3 if snv_base(bases[0], a) is None else
                    CLASS_REF if snv_base(bases[0], a) == pv.ref else
                    CLASS_ALT if snv_base(bases[0], a) == pv.alt else CLASS_OTHER for a in bases[1:]],
            dtype=np.int8,
        )  # fmt: skip
        others.append((rec, cls))
    if others and primary.gt is not None:
        kind = "split_multiallelic"
    row["match"] = kind
    mt_map = (lambda c: np.where(c == CLASS_OTHER, CLASS_ALT, c).astype(np.int8)) if any_alt else None
    strand_alleles = [primary.ref] + primary.alts
    if pm.strand == "-":
        strand_alleles = ["".join(COMPLEMENT.get(b, b) for b in a.upper()) for a in strand_alleles]
    dosage = nan
    cls_primary = mt_map(pm.classes) if any_alt else pm.classes
    if primary.gt is not None:
        if others:
            gt, cls_all, alts_all, af_all, extra = _merge_split(primary, pm, others)
            for rec, _ in others:
                strand_alleles += (
                    ["".join(COMPLEMENT.get(b, b) for b in a.upper()) for a in rec.alts]
                    if pm.strand == "-"
                    else rec.alts
                )
        else:
            gt, cls_all, af_all, extra = primary.gt, pm.classes, primary.af, primary.extra
        # code each distinct genotype once (a table of (n_alleles + 2)^2 rows), then look up samples
        codes, table = genotype_codes(gt, len(cls_all))
        tclasses = allele_classes(table, cls_all)
        if pv.is_mt:
            lut = np.where(cls_all == -3, CLASS_OTHER, cls_all).astype(np.int8)
            if any_alt:
                tclasses, lut = mt_map(tclasses), mt_map(lut)
            t_count, t_status = code_haploid(tclasses, effect_class=effect_class, threshold=het_thr)
            count, status = t_count[codes], t_status[codes]
            het = np.nonzero(status == HET_HAPLOID)[0]  # 0/1-style calls: resolved by FORMAT AF
            if het.size and af_all is not None:
                hi = np.maximum(gt[het, 0], gt[het, 1]).astype(np.int64)
                count[het], status[het] = code_haploid(
                    tclasses[codes[het]], lut[hi], af_all[het, hi - 1],
                    effect_class=effect_class, threshold=het_thr,
                )  # fmt: skip
        else:
            t_count, t_status = code_diploid(tclasses, effect_class=effect_class)
            count, status = t_count[codes], t_status[codes]
        wrong = other_ploidy(gt, extra, haploid=pv.is_mt)
        status[wrong], count[wrong] = OTHER_PLOIDY, np.nan
        row["alleles_observed"] = _observed_from_codes(codes, table, strand_alleles)
        if primary.ds is not None:
            dosage = dosage_from_ds(primary.ds, cls_primary, ploidy=pv.ploidy)[:, effect_class]
        elif primary.gp is not None:
            try:
                _, _, table = calls_from_gp(primary.gp, len(pm.classes), threshold=gp_thr)
                dosage = dosage_from_gp(primary.gp, table, cls_primary, effect_class=effect_class)
            except ValueError:
                pass
    elif primary.gp is not None:
        cls = cls_primary
        try:
            gt, low, table = calls_from_gp(primary.gp, len(pm.classes), threshold=gp_thr)
        except ValueError as err:
            row.update(match="excluded", reason=f"GP: {err}")
            return nan, nan, np.full(n, EXCLUDED, np.int8), row
        classes = allele_classes(gt, cls)
        if pv.is_mt:
            count, status = code_haploid(classes, effect_class=effect_class, threshold=het_thr)
        else:
            count, status = code_diploid(classes, effect_class=effect_class)
        lowmask = low & (status != MISSING)
        status[lowmask] = LOW_GP
        count[lowmask] = np.nan
        row["alleles_observed"] = _observed(gt[~low], strand_alleles)
        if primary.ds is not None:
            dosage = dosage_from_ds(primary.ds, cls, ploidy=pv.ploidy)[:, effect_class]
        else:
            dosage = dosage_from_gp(primary.gp, table, cls, effect_class=effect_class)
    elif primary.ds is not None:
        exp = dosage_from_ds(primary.ds, cls_primary, ploidy=pv.ploidy)
        count, status = calls_from_ds(exp, effect_class=effect_class, threshold=gp_thr)
        dosage = exp[:, effect_class]
    else:
        row.update(match="excluded", reason="record has none of FORMAT GT, GP, DS")
        return nan, nan, np.full(n, EXCLUDED, np.int8), row
    return count, dosage, status, row


def extract_panel(
    paths: list[str],
    panel: Panel,
    *,
    build: str = "auto",
    heteroplasmy_threshold: float = 0.9,
    gp_threshold: float = 0.9,
    mt_alt: str = "any",
    absent_variants: str = "warn",
    file_format: str = "auto",
    sample_file: str | None = None,
    require_pass: bool = True,
    min_info: float = 0.0,
    reader: str = "auto",
    categorical: bool = False,
    logger=None,
) -> Extraction:
    """Read the panel variants from genotype files and code them against the panel's effect allele.

    Parameters
    ----------
    paths : genotype files: VCF/BCF (plain, bgzipped, BCF), PLINK 1 ``.bed`` (``.bim``/``.fam``
        beside it), PLINK 2 ``.pgen`` (``.pvar``/``.psam``) or BGEN 1.2 ``.bgen`` (``.bgi`` and
        ``.sample`` beside it); together they must carry the same samples. PLINK and BGEN files
        are read by :mod:`vdrbone.plink_io` and :mod:`vdrbone.bgen_io` into the same records.
    panel : the panel (see :mod:`vdrbone.panel`).
    build : 'auto', 'GRCh37' or 'GRCh38' (see :func:`detect_build`). With 'auto' and no build in
        the headers (bim, pvar and BGEN files have no contig lengths) the build is the one whose
        panel positions carry the panel alleles (:func:`vdrbone.genotype_files.infer_build`).
    heteroplasmy_threshold : mtDNA ``0/1`` with FORMAT AF >= this is a carrier, below it
        ``heteroplasmic`` (not called).
    gp_threshold : files without GT: hard call when max(GP) >= this.
    mt_alt : 'any' (every non-reference mtDNA allele makes a carrier) or 'panel' (only the panel
        ALT; other ALTs are ``other_allele``).
    absent_variants : 'warn' (a panel variant without a record in any file gets the reason
        ``not in the genotype files``, its calls status ``excluded``, and a warning naming it and
        the files searched) or 'error' (an InputError naming them). No panel variant in any file
        is always an InputError naming the files and the positions looked for in both builds.
    file_format : 'auto' (from each file's extension) or one of vcf, bcf, bed, pgen, bgen.
    sample_file : the BGEN ``.sample`` file (default: beside the ``.bgen``).
    require_pass, min_info : record filters (:func:`vdrbone.record_quality.record_filter_reason`):
        a record whose FILTER is not PASS/``.`` or whose imputation quality is below ``min_info``
        is not used; a variant left without records is ``excluded`` with the reason.
    reader : VCF text: ``"auto"`` (indexed bgzipped VCF text through pysam.TabixFile and numpy,
        other VCF/BCF with cyvcf2) or ``"cyvcf2"`` (every VCF/BCF with cyvcf2); both give identical
        tables (see :mod:`vdrbone.vcf_reader`).
    categorical : the text columns of ``calls`` as pandas ``Categorical`` (the same values, built
        from the integer codes without a string per row): for writing them to Parquet, which then
        stores the dictionary as it is (:func:`vdrbone.tables.write_parquet`).
    logger : a :class:`logging.Logger` for warnings (missing index, duplicated records, absent
        variants, calls of another ploidy).

    Returns
    -------
    Extraction
        ``calls`` columns: sample, variant, genotype (``A/G`` in panel REF/ALT order, haploid
        ``C``, ``.`` when not called), rflp (``Tt``), effect_count (float, NaN when not called),
        dosage (expected effect-allele count from DS, else from GP, else NaN), status (see the
        module docstring). Dosage is reported for every sample with DS/GP, whatever the status.
    """
    logger = logger or log
    if mt_alt not in MT_ALT_CHOICES:
        raise InputError(f"mt_alt is {mt_alt!r}; expected one of {MT_ALT_CHOICES}")
    if absent_variants not in ABSENT_CHOICES:
        raise InputError(
            f"genotypes.absent_variants is {absent_variants!r}; expected one of {ABSENT_CHOICES}"
        )
    for name, value in (("heteroplasmy_threshold", heteroplasmy_threshold), ("gp_threshold", gp_threshold)):
        if not 0 < value <= 1:
            raise InputError(f"genotypes.{name} is {value}; expected a number in (0, 1]")
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    paths = [str(p) for p in paths]
    if not paths:
        raise InputError("cohort.genotypes lists no genotype files")
    # ---- the format hook: VCF/BCF are read here, PLINK 1/2 and BGEN by their own modules
    from vdrbone import genotype_files

    formats = genotype_files.file_formats(paths, declared=file_format)
    for path, fmt in zip(paths, formats, strict=True):  # a file cut short fails before it is read
        if fmt in genotype_files.VCF_FORMATS:
            check_path(path)
            check_integrity(path)
    headers = []
    for path, fmt in zip(paths, formats, strict=True):  # each file is opened once
        if fmt in genotype_files.VCF_FORMATS:
            headers.append(read_header(path, reader=reader))
            check_last_record(path, len(headers[-1].samples))
        else:
            headers.append(genotype_files.open_source(path, fmt, sample_file=sample_file))
    samples = samples_of(headers)
    declared = build
    build = build_of(headers, declared=declared, logger=logger, required=False)
    build_source = genotype_files.build_source(declared, build)
    n = len(samples)
    targets = {(pv.chrom, pv.pos(b)) for pv in panel for b in ([build] if build else BUILDS)}
    by_file = [
        (
            h.path,
            read_positions(h, targets, samples, logger)
            if isinstance(h, Header)
            else h.read_positions(targets, samples, logger),
        )
        for h in headers
    ]
    if build is None:
        build, build_source = genotype_files.infer_build(panel, by_file, paths)
        logger.info("genome build %s: %s", build, build_source)

    counts, dosages, statuses, rows = [], [], [], []
    searched = "; ".join(paths)
    for pv in panel:
        key = (pv.chrom, pv.pos(build))
        holders = [(path, recs[key]) for path, recs in by_file if key in recs]
        records = holders[0][1] if holders else []
        if len(holders) > 1:
            logger.warning(
                "%s (%s) is in several files (%s); using %s",
                pv.id, pv.name, ", ".join(p for p, _ in holders), holders[0][0],
            )  # fmt: skip
        failing = [(rec, why) for rec in records if (why := record_filter_reason(
            rec, require_pass=require_pass, min_info=min_info))]  # fmt: skip
        records = [rec for rec in records if all(rec is not r for r, _ in failing)]
        records, duplicate_note, usable = drop_duplicate_records(records)
        if duplicate_note:
            logger.warning("%s (%s): %s", pv.id, pv.name, duplicate_note)
        count, dosage, status, row = _harmonise(
            pv,
            records if usable else [],
            n,
            het_thr=heteroplasmy_threshold,
            gp_thr=gp_threshold,
            mt_alt=mt_alt,
        )
        if failing and not records:  # every record at the position failed FILTER / info
            rec = failing[0][0]
            row.update(
                match="excluded", reason="; ".join(dict.fromkeys(why for _, why in failing)),
                n_records=len(failing), file=rec.file, contig=rec.chrom, pos=rec.pos, vcf_id=rec.id,
                vcf_ref=rec.ref, vcf_alt=",".join(rec.alts), filter=rec.filter, info=rec.info,
            )  # fmt: skip
        elif failing:
            dropped = "; ".join(
                f"{r.chrom}:{r.pos} {r.ref}>{','.join(r.alts)} not used: {why}" for r, why in failing
            )
            row["reason"] = "; ".join(x for x in (row.get("reason"), dropped) if x)
        if not usable:
            row.update(match="excluded", reason=duplicate_note, n_records=len(records))
        elif duplicate_note:
            row["reason"] = "; ".join(x for x in (row.get("reason"), duplicate_note) if x)
        tally = np.bincount(status, minlength=len(STATUSES))
        row.update(
            variant=pv.id, name=pv.name, found=row["match"] not in ("not_found", "excluded"),
            n_called=int(tally[CALLED]), n_missing=int(tally[MISSING]),
            n_heteroplasmic=int(tally[HETEROPLASMIC]), n_het_haploid=int(tally[HET_HAPLOID]),
            n_other_allele=int(tally[OTHER_ALLELE]), n_low_gp=int(tally[LOW_GP]),
            n_other_ploidy=int(tally[OTHER_PLOIDY]), files_searched=searched,
        )  # fmt: skip
        if tally[OTHER_PLOIDY]:
            examples = [samples[i] for i in np.flatnonzero(status == OTHER_PLOIDY)[:5]]
            logger.warning(
                "%s (%s): %d call(s) of another ploidy set missing (other_ploidy: %s), e.g. sample(s) %s",
                pv.id, pv.name, int(tally[OTHER_PLOIDY]),
                "a haploid (mtDNA) variant takes k, k/k, ./. or 0/k" if pv.is_mt
                else "a diploid variant takes two alleles", ", ".join(examples),
            )  # fmt: skip
        rows.append(row)
        counts.append(count)
        dosages.append(dosage)
        statuses.append(status)

    absent = [(pv, row) for pv, row in zip(panel, rows, strict=True) if row["match"] == "not_found"]
    _report_absent(absent, panel, headers, build, absent_variants=absent_variants, logger=logger)
    calls = _calls_frame(panel, samples, counts, dosages, statuses, categorical=categorical)
    variants = pd.DataFrame(rows).reindex(columns=VARIANT_COLUMNS)
    variants["found"] = variants["found"].astype(bool)
    for col in (
        "file",
        "contig",
        "vcf_id",
        "vcf_ref",
        "vcf_alt",
        "reason",
        "alleles_observed",
        "files_searched",
    ):
        variants[col] = variants[col].fillna("")
    variants["filter"] = variants["filter"].fillna("")
    variants["info"] = variants["info"].astype(float)
    variants["pos"] = variants["pos"].astype("Int64")
    return Extraction(calls=calls, variants=variants, samples=samples, build=build, build_source=build_source)


def _where(pv: PanelVariant, build: str | None = None) -> str:
    """``chrM/MT:4823`` style position of a panel variant in one build (contig names it may have)."""
    names = "/".join(CONTIG_ALIASES[pv.chrom][:2][::-1])
    return f"{names}:{pv.pos(build)}" if build else names


def _report_absent(absent, panel: Panel, headers: list[Header], build: str, *, absent_variants, logger):
    """Warn about (or refuse) panel variants without a record in any file; refuse a run with none.

    ``absent``: (panel variant, extraction row) pairs whose match is ``not_found``.
    """
    if not absent:
        return
    files = ", ".join(h.path for h in headers)
    if len(absent) == len(panel):
        looked = "; ".join(
            f"{pv.id} ({pv.name}) at {_where(pv)}:{pv.pos('GRCh37')} in GRCh37, {pv.pos('GRCh38')} in GRCh38"
            for pv in panel
        )
        raise InputError(
            f"none of the {len(panel)} panel variants is in the genotype files {files} (build {build}); "
            f"looked for {looked}. Check cohort.genotypes (are these the right files, on GRCh37 or "
            f"GRCh38, with the chr12 and chrM/MT records?) and cohort.build"
        )
    found = []
    for pv, _row in absent:
        having = [h.path for h in headers if not h.contigs or set(CONTIG_ALIASES[pv.chrom]) & set(h.contigs)]
        why = (
            f"no record at that position in {', '.join(having)}"
            if having
            else f"no file has a {'/'.join(CONTIG_ALIASES[pv.chrom])} contig"
        )
        found.append((f"{pv.id} ({pv.name}) at {_where(pv, build)} ({build})", why))
    if absent_variants == "error":
        raise InputError(
            f"{len(absent)} panel variant(s) {NOT_IN_FILES} {files}: "
            + "; ".join(f"{label}: {why}" for label, why in found)
            + ". Add the files that hold them to cohort.genotypes, drop them from the config's variants "
            "list, or set genotypes.absent_variants: warn to analyse the others"
        )
    for label, why in found:
        logger.warning(
            "%s is %s (%s; searched: %s): its QC, association and report rows give this reason",
            label, NOT_IN_FILES, why, files,
        )  # fmt: skip


def unavailable_variants(extraction: pd.DataFrame) -> dict[str, str]:
    """Variant id -> reason of the ``extraction.tsv`` rows with ``found`` False (e.g.
    ``not in the genotype files``): the variants QC, association and haplotypes report as such."""
    gone = extraction[~extraction["found"].astype(bool)]
    return dict(zip(gone["variant"].astype(str), gone["reason"].fillna("").astype(str), strict=True))


def _calls_frame(panel, samples, counts, dosages, statuses, *, categorical: bool = False) -> pd.DataFrame:
    """The long calls table (plain object string columns, or with ``categorical`` Categorical
    ones, and float columns).

    Fast at 10^5 samples: each string column is one integer take from a small array of names,
    and the frame is assembled without copying or consolidating the columns (``copy=False``;
    the default copy stacks the object columns into one 2-D block, ~5x the rest of the work).
    """
    n, k = len(samples), len(panel)
    nuc, lab = [], []
    codes = np.empty(n * k, dtype=np.int16 if 4 * k < 2**15 else np.intp)  # less memory to touch
    for j, (pv, count) in enumerate(zip(panel, counts, strict=True)):
        names = [pv.genotype_names(c) for c in range(pv.ploidy + 1)]
        offset = len(nuc)
        nuc += [x[0] for x in names] + ["."]
        lab += [x[1] for x in names] + ["."]
        codes[j * n : (j + 1) * n] = np.where(
            np.isnan(count), offset + len(names), offset + np.nan_to_num(count)
        )
    empty = np.array([], dtype=float)
    parts = {  # each text column: its names, and each row's position among them
        "sample": (np.array(samples, dtype=object), np.tile(np.arange(n), k)),
        "variant": (np.array(panel.ids, dtype=object), np.repeat(np.arange(k), n)),
        "genotype": (np.array(nuc, dtype=object), codes),
        "rflp": (np.array(lab, dtype=object), codes),
        "status": (np.array(STATUSES, dtype=object), np.concatenate(statuses) if k else np.array([], int)),
    }
    if categorical:  # the same values: each distinct name a category, the positions its codes
        columns = {}
        for name, (names, at) in parts.items():
            distinct = pd.Categorical(names)
            columns[name] = pd.Series(pd.Categorical.from_codes(distinct.codes[at], dtype=distinct.dtype))
    else:
        # Series with dtype=object: pandas skips its datetime inference pass over each object column
        columns = {
            name: pd.Series(names[at], dtype=object, copy=False) for name, (names, at) in parts.items()
        }
    columns |= {
        "effect_count": np.concatenate(counts).astype(float, copy=False) if k else empty,
        "dosage": np.concatenate(dosages).astype(float, copy=False) if k else empty,
    }
    return pd.DataFrame(columns, columns=CALL_COLUMNS, copy=False)
