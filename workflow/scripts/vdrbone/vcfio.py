"""Reading VCF/BCF files and harmonising the calls to the variant panel.

Two layers, kept apart:

* **Genotype coding** - small pure functions on numpy arrays (:func:`match_alleles`,
  :func:`code_diploid`, :func:`code_haploid`, :func:`calls_from_gp`, :func:`calls_from_ds`,
  :func:`dosage_from_ds`, :func:`dosage_from_gp`). They turn VCF allele indices into *allele
  classes* relative to the panel (0 = panel REF, 1 = panel ALT, 2 = any other allele, -1 =
  missing, -2 = no such allele slot, e.g. the second slot of a haploid call) and the classes
  into effect-allele counts and a status.
* **File reading** - :func:`vcf_samples`, :func:`detect_build` and :func:`extract_panel`. With
  a ``.tbi``/``.csi`` index only the panel positions are read (region queries), so the cost does
  not grow with the size of the file; without an index the file is streamed once (cyvcf2).
  Bgzipped VCF text with an index is read as text lines through pysam.TabixFile (header from
  the ``#CHROM`` line; panel positions in one 16 kb index window share a fetch) and the sample
  columns are parsed with numpy on the line's bytes (:func:`_fast_record`: single-digit
  haploid/diploid GT, FORMAT AF); a position with any record outside that (multi-digit
  alleles, polyploid calls, GP/DS, ...) and BCF files are read with cyvcf2 (htslib). Both
  readers give identical tables (tests/test_vcfio.py; benchmarks/extract_bench.py checks it
  on 100,000 samples).

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

Status vocabulary (``calls.status``):

``called``        a hard call; ``effect_count`` holds the number of panel effect alleles.
``missing``       no call (``./.``, ``.``, partially missing ``0/.`` at a diploid variant, missing
                  GP/DS).
``heteroplasmic`` mtDNA ``0/1`` whose FORMAT AF (of the non-reference allele in the genotype) is
                  below ``heteroplasmy_threshold``: not called. AF at or above it: the sample
                  carries that allele.
``het_haploid``   ``0/1`` at a haploid (mtDNA) variant without AF: not called.
``other_allele``  the genotype contains an allele that is neither panel allele (third allele of a
                  multi-allelic site; for mtDNA only with ``mt_alt="panel"``).
``low_gp``        imputed file without GT: max(GP) below ``gp_threshold`` (DS-only files: an
                  expected allele count further than ``1 - gp_threshold`` from an integer).
``other_ploidy``  a call whose shape does not fit the variant (:func:`other_ploidy`): more than two
                  alleles (``0/0/1``) anywhere, a haploid call with an allele (``1``) at a diploid
                  variant, or at an mtDNA variant a two-allele call other than ``k/k``, ``./.`` and
                  the heteroplasmic ``0/k`` (``1/2``, ``0/.``). Never read as another genotype: not
                  called, counted in ``variants.n_other_ploidy`` and logged with example samples.
``excluded``      the variant is not usable in these files (see ``variants.reason``; a variant with
                  no record in any file has match ``not_found`` and reason
                  ``not in the genotype files``).

Integrity of the files (:func:`check_integrity`, before any record is read): a BGZF file (bgzipped
VCF, BCF) must end with the 28-byte BGZF end-of-file block, and bgzipped or plain VCF text must
end with a complete record (a newline, and the header's number of columns when the last line
lies in the last block); a plain-gzip stream, which is read whole, is checked while it is read.
A file cut short (an interrupted copy) is an InputError naming the file and where it ends.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vdrbone.errors import InputError
from vdrbone.panel import BUILDS, COMPLEMENT, Panel, PanelVariant
from vdrbone.record_quality import imputation_quality, record_filter_reason

# ------------------------------------------------------------------ vocabulary and constants

STATUSES = (
    "called", "missing", "heteroplasmic", "het_haploid", "other_allele", "low_gp", "other_ploidy", "excluded",
)  # fmt: skip
CALLED, MISSING, HETEROPLASMIC, HET_HAPLOID, OTHER_ALLELE, LOW_GP, OTHER_PLOIDY, EXCLUDED = range(
    len(STATUSES)
)
# ``variants.reason`` of a panel variant without a record in any of the files (the contract word
# that QC, association and the report carry on)
NOT_IN_FILES = "not in the genotype files"
ABSENT_CHOICES = ("warn", "error")

CLASS_REF, CLASS_ALT, CLASS_OTHER, CLASS_MISSING, CLASS_ABSENT = 0, 1, 2, -1, -2

CONTIG_ALIASES = {"12": ("12", "chr12"), "MT": ("MT", "chrM", "chrMT", "NC_012920.1")}
CHR12_LENGTHS = {133851895: "GRCh37", 133275309: "GRCh38"}
RCRS_LENGTH = 16569
HG19_CHRM_LENGTH = 16571
MT_ALT_CHOICES = ("any", "panel")
# VCF/BCF store AF, GP and DS as 32-bit floats (0.9 is read back as 0.89999998): thresholds are
# compared with this tolerance so that a written 0.9 meets a threshold of 0.9.
FLOAT32_TOL = 1e-6

CALL_COLUMNS = ["sample", "variant", "genotype", "rflp", "effect_count", "dosage", "status"]
VARIANT_COLUMNS = [
    "variant", "name", "found", "file", "contig", "pos", "vcf_id", "vcf_ref", "vcf_alt", "filter",
    "info", "match", "n_records", "alleles_observed", "n_called", "n_missing", "n_heteroplasmic",
    "n_het_haploid", "n_other_allele", "n_low_gp", "n_other_ploidy", "reason", "files_searched",
]  # fmt: skip

_BUILD_PATTERNS = (
    ("GRCh38", re.compile(r"GRCh38|hg38|hs38|GCA_000001405\.(1[5-9]|2\d)|b38", re.IGNORECASE)),
    ("GRCh37", re.compile(r"GRCh37|hg19|hs37|b37|human_g1k_v37|GCA_000001405\.([1-9]|1[0-4])\b", re.I)),
)

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ pure genotype coding


def _snv_base(ref: str, allele: str) -> str | None:
    """Forward base at the record position for a REF/allele pair, or None when not an SNV.

    Multi-base REFs (an SNV written next to an indel, ``AT`` -> ``GT``) are trimmed: an allele of
    the same length sharing REF's tail is the SNV base ``allele[0]``.
    """
    allele = allele.upper()
    if len(ref) == 1:
        return allele if len(allele) == 1 and allele in COMPLEMENT else None
    if len(allele) == len(ref) and allele[1:] == ref[1:].upper() and allele[0] in COMPLEMENT:
        return allele[0]
    return None


@dataclass(frozen=True)
class AlleleMatch:
    """How one VCF record relates to a panel variant.

    ``classes[i]`` is the allele class of VCF allele index ``i`` (0 = REF): 0 panel REF,
    1 panel ALT, 2 other, or -3 for an allele that is not an SNV base (indel, ``*``).
    ``strand`` is ``"+"`` or ``"-"`` (alleles complemented). ``kind`` is empty when excluded.
    """

    kind: str
    classes: np.ndarray
    strand: str = "+"
    reason: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.kind)


def match_alleles(ref: str, alts: list[str], panel_ref: str, panel_alt: str, *, any_alt: bool = False):
    """Match a record's alleles to the panel's REF/ALT by identity, swap, or strand flip.

    Parameters
    ----------
    ref, alts : the record's REF and ALT alleles.
    panel_ref, panel_alt : forward-strand panel alleles (single bases).
    any_alt : accept a record with the panel REF and only other ALTs (mtDNA, ``mt_alt="any"``).

    Returns
    -------
    AlleleMatch
        Palindromic panel SNPs (A/T, C/G) are never strand-flipped; when REF is not the panel REF
        a swap cannot be told from a flip and the record is excluded.
    """
    ref = ref.upper()
    bases = [ref[0] if ref and ref[0] in COMPLEMENT else None] + [_snv_base(ref, a) for a in alts]
    palindromic = COMPLEMENT[panel_ref] == panel_alt
    shown = f"{ref}/{','.join(alts) or '.'}"
    strand, base_kind = "+", ""
    if panel_ref in bases and panel_alt in bases:
        if palindromic and bases[0] != panel_ref:
            return AlleleMatch(
                "",
                np.array([], dtype=np.int8),
                reason=(
                    f"palindromic {panel_ref}/{panel_alt} SNP recorded as {shown}: a REF/ALT swap "
                    f"cannot be told from a strand flip; excluded"
                ),
            )
        base_kind = "exact" if bases[0] == panel_ref else "swapped" if bases[0] == panel_alt else "exact"
    elif not palindromic and COMPLEMENT[panel_ref] in bases and COMPLEMENT[panel_alt] in bases:
        strand = "-"
        base_kind = "flipped" if bases[0] == COMPLEMENT[panel_ref] else "flipped_swapped"
    elif any_alt and bases[0] == panel_ref and len(alts) > 0:
        base_kind = "any_alt"
    else:
        return AlleleMatch(
            "",
            np.array([], dtype=np.int8),
            reason=f"alleles {shown} do not match panel {panel_ref}/{panel_alt}",
        )
    if strand == "-":
        bases = [COMPLEMENT[b] if b else None for b in bases]
    classes = np.array(
        [-3 if b is None else CLASS_REF if b == panel_ref else CLASS_ALT if b == panel_alt else CLASS_OTHER
         for b in bases],
        dtype=np.int8,
    )  # fmt: skip
    kind = base_kind
    if len(alts) > 1 and base_kind != "any_alt":
        kind = "multiallelic" if base_kind == "exact" else f"multiallelic_{base_kind}"
    return AlleleMatch(kind, classes, strand)


def allele_classes(gt: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Map VCF allele indices (n, 2) to panel allele classes; -1 (missing) and -2 (absent) kept.

    Alleles of class -3 (not an SNV base) become class 2 (other).
    """
    gt = np.asarray(gt)
    if gt.ndim != 2:
        raise ValueError(f"gt must be 2-D (samples x allele slots), got shape {gt.shape}")
    if gt.size and gt.max() >= len(classes):
        raise ValueError(f"gt holds allele index {gt.max()} but the record has {len(classes)} alleles")
    lut = np.where(classes == -3, CLASS_OTHER, classes).astype(np.int8)
    return np.where(gt >= 0, lut[np.clip(gt, 0, None)], gt).astype(np.int8)


def code_diploid(classes: np.ndarray, *, effect_class: int) -> tuple[np.ndarray, np.ndarray]:
    """Effect-allele counts and status codes of diploid calls.

    Parameters
    ----------
    classes : int array (n_samples, 2) of allele classes (0 REF, 1 ALT, 2 other, -1 missing,
        -2 absent).
    effect_class : 0 or 1, the class of the panel effect allele.

    Returns
    -------
    effect_count : float64 (n_samples,), 0/1/2, NaN when not called.
    status : int8 (n_samples,), index into :data:`STATUSES`. Any missing or absent slot (including
        a haploid call) is ``missing``; any allele of class 2 is ``other_allele``.
    """
    classes = _check_classes(classes, effect_class)
    c0, c1 = classes[:, 0], classes[:, 1]  # column ops: .any(axis=1) is slow on (n, 2)
    missing = (c0 < 0) | (c1 < 0)
    other = ~missing & ((c0 == CLASS_OTHER) | (c1 == CLASS_OTHER))
    called = ~missing & ~other
    status = np.full(len(classes), CALLED, dtype=np.int8)
    status[missing] = MISSING
    status[other] = OTHER_ALLELE
    count = (c0 == effect_class).astype(float) + (c1 == effect_class)
    count[~called] = np.nan
    return count, status


def code_haploid(
    classes: np.ndarray,
    het_class: np.ndarray | None = None,
    het_af: np.ndarray | None = None,
    *,
    effect_class: int,
    threshold: float = 0.9,
) -> tuple[np.ndarray, np.ndarray]:
    """Carrier status (0/1 effect alleles) of haploid (mtDNA) calls in any of the usual codings.

    Haploid ``0``/``1`` and diploid-style ``0/0``/``1/1`` are called directly. A heterozygous-looking
    ``0/1`` is resolved by the level ``het_af`` (FORMAT AF) of its non-reference allele, whose class
    is ``het_class``: AF >= ``threshold`` calls that allele (GATK Mutect2 writes ``0/1`` for every
    call), AF below it is ``heteroplasmic``, no AF is ``het_haploid``; neither is called.

    Parameters
    ----------
    classes : int array (n_samples, 2) of allele classes (second slot -2 for haploid calls).
    het_class, het_af : (n_samples,) class and AF of the non-reference allele of ``0/1``-style
        calls (NaN AF when absent); None when the file has no AF.
    effect_class : 0 or 1.
    threshold : heteroplasmy threshold in (0, 1].

    Returns
    -------
    effect_count : float64 (n_samples,), 0/1, NaN when not called.
    status : int8 (n_samples,). Missing slots give ``missing``; an allele of class 2 in the call
        gives ``other_allele`` (map class 2 to 1 beforehand to count any ALT as carrier).
    """
    classes = _check_classes(classes, effect_class)
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    n = len(classes)
    c0, c1 = classes[:, 0].astype(np.int16), classes[:, 1].astype(np.int16)
    missing = (c0 == CLASS_MISSING) | (c1 == CLASS_MISSING) | (c0 == CLASS_ABSENT)
    single = ~missing & ((c1 == CLASS_ABSENT) | (c0 == c1))
    het = ~missing & ~single
    allele = np.full(n, -1, dtype=np.int16)
    allele[single] = c0[single]
    status = np.full(n, CALLED, dtype=np.int8)
    status[missing] = MISSING
    if het.any():
        if het_af is None or het_class is None:
            af = np.full(n, np.nan)
            hc = np.full(n, -1, dtype=np.int16)
        else:
            af = np.asarray(het_af, dtype=float)
            hc = np.asarray(het_class, dtype=np.int16)
            if af.shape != (n,) or hc.shape != (n,):
                raise ValueError(f"het_af/het_class must have shape ({n},), got {af.shape}, {hc.shape}")
        no_af = het & np.isnan(af)
        with np.errstate(invalid="ignore"):
            high = het & (af >= threshold - FLOAT32_TOL)
        status[no_af] = HET_HAPLOID
        status[het & ~no_af & ~high] = HETEROPLASMIC
        allele[high] = hc[high]
    other = (status == CALLED) & (allele == CLASS_OTHER)
    status[other] = OTHER_ALLELE
    count = np.where(status == CALLED, (allele == effect_class).astype(float), np.nan)
    return count, status


def other_ploidy(gt: np.ndarray, extra: np.ndarray | None = None, *, haploid: bool) -> np.ndarray:
    """Calls whose shape does not fit the variant's ploidy (``other_ploidy``), as a mask.

    Parameters
    ----------
    gt : int (n_samples, 2) VCF allele indices of the first two slots (-1 missing, -2 absent:
        the second slot of a haploid call).
    extra : bool (n_samples,), the call has more than two allele slots (``0/0/1``); None: none.
    haploid : the variant is haploid (mtDNA).

    Returns
    -------
    bool (n_samples,)
        True for every call with more than two slots; at a diploid variant also a haploid call
        with an allele (``1``; a lone ``.`` is a missing call, as many VCFs write it); at a
        haploid variant also a two-slot call other than ``k/k``, ``./.`` and the heteroplasmic
        ``0/k`` or ``k/0``: two different non-reference alleles (``1/2``) or one slot missing
        (``0/.``).
    """
    gt = np.asarray(gt)
    if gt.ndim != 2 or gt.shape[1] != 2:
        raise ValueError(f"gt must have shape (n_samples, 2), got {gt.shape}")
    a, b = gt[:, 0], gt[:, 1]
    out = np.zeros(len(gt), dtype=bool) if extra is None else np.asarray(extra, dtype=bool).copy()
    if out.shape != (len(gt),):
        raise ValueError(f"extra must have shape ({len(gt)},), got {out.shape}")
    if haploid:
        two = b != CLASS_ABSENT
        out |= two & ((a == CLASS_MISSING) != (b == CLASS_MISSING))
        out |= two & (a > 0) & (b > 0) & (a != b)
    else:
        out |= (b == CLASS_ABSENT) & (a >= 0)
    return out


def genotype_codes(gt: np.ndarray, n_alleles: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each sample's allele-index pair, and the pair of every code.

    ``code = (a + 2) * K + (b + 2)`` with ``K = n_alleles + 2`` (so -2 absent and -1 missing are
    codes too); ``table[code]`` is ``(a, b)``. Coding the K^2 possible genotypes once and indexing
    by ``code`` is much faster than per-sample work at 10^5 samples.
    """
    gt = np.asarray(gt)
    if gt.ndim != 2 or gt.shape[1] != 2:
        raise ValueError(f"gt must have shape (n_samples, 2), got {gt.shape}")
    k = n_alleles + 2
    codes = (gt[:, 0].astype(np.intp) + 2) * k + (gt[:, 1] + 2)
    alleles = np.arange(-2, n_alleles, dtype=np.int16)
    table = np.column_stack([np.repeat(alleles, k), np.tile(alleles, k)])
    return codes, table


def diploid_genotype_order(n_alleles: int) -> np.ndarray:
    """VCF order of diploid genotypes (j, k), j <= k: index k(k+1)/2 + j (VCF 4.3 section 1.6.2)."""
    return np.array([(j, k) for k in range(n_alleles) for j in range(k + 1)], dtype=np.int16)


def calls_from_gp(gp: np.ndarray, n_alleles: int, *, threshold: float = 0.9):
    """Hard calls from genotype probabilities: the most likely genotype when max(GP) >= threshold.

    Parameters
    ----------
    gp : float (n_samples, G) with G = n_alleles (haploid) or n_alleles(n_alleles+1)/2 (diploid).
    n_alleles : alleles of the record (REF + ALTs).
    threshold : minimal max(GP).

    Returns
    -------
    gt : int16 (n_samples, 2) allele indices (-1 missing, second slot -2 when haploid); samples
        below the threshold keep their best genotype.
    low : bool (n_samples,), max(GP) < threshold (and GP present).
    table : int16 (G, 2) allele indices of each genotype index.
    """
    gp = np.asarray(gp, dtype=float)
    if gp.ndim != 2:
        raise ValueError(f"gp must be 2-D, got shape {gp.shape}")
    if gp.shape[1] == n_alleles:
        table = np.column_stack([np.arange(n_alleles), np.full(n_alleles, CLASS_ABSENT)]).astype(np.int16)
    elif gp.shape[1] == n_alleles * (n_alleles + 1) // 2:
        table = diploid_genotype_order(n_alleles)
    else:
        raise ValueError(
            f"GP has {gp.shape[1]} values per sample; {n_alleles} alleles need {n_alleles} (haploid) "
            f"or {n_alleles * (n_alleles + 1) // 2} (diploid)"
        )
    nan = np.isnan(gp).any(axis=1)
    safe = np.where(np.isnan(gp), -1.0, gp)
    best = safe.argmax(axis=1)
    gt = table[best].copy()
    gt[nan] = CLASS_MISSING
    low = ~nan & (safe.max(axis=1) < threshold - FLOAT32_TOL)
    return gt, low, table


def dosage_from_gp(gp: np.ndarray, table: np.ndarray, classes: np.ndarray, *, effect_class: int):
    """Expected effect-allele count sum_g P(g) * count_effect(g) from GP (NaN where GP missing)."""
    cls = allele_classes(table, classes)
    per_genotype = (cls == effect_class).sum(axis=1).astype(float)
    return np.asarray(gp, dtype=float) @ per_genotype


def dosage_from_ds(ds: np.ndarray, classes: np.ndarray, *, ploidy: int) -> np.ndarray:
    """Expected count of each allele class (n_samples, 3) from DS (Number=A, expected ALT counts).

    The REF expectation is ``ploidy - sum(DS)``; alleles that are not SNV bases count as class 2.
    """
    ds = np.asarray(ds, dtype=float)
    if ds.ndim != 2 or ds.shape[1] != len(classes) - 1:
        raise ValueError(f"ds must have shape (n, {len(classes) - 1}), got {ds.shape}")
    per_allele = np.column_stack([ploidy - ds.sum(axis=1), ds])
    lut = np.where(classes == -3, CLASS_OTHER, classes)
    return np.column_stack([per_allele[:, lut == c].sum(axis=1) for c in (0, 1, 2)])


def calls_from_ds(expected: np.ndarray, *, effect_class: int, threshold: float = 0.9):
    """Hard calls from expected allele-class counts (DS-only files).

    A sample is called when every class expectation lies within ``1 - threshold`` of an integer;
    a rounded class-2 count above 0 gives ``other_allele``; otherwise ``low_gp``; NaN is missing.
    """
    expected = np.asarray(expected, dtype=float)
    nan = np.isnan(expected).any(axis=1)
    rounded = np.rint(expected)
    with np.errstate(invalid="ignore"):
        close = (np.abs(expected - rounded) <= (1 - threshold) + FLOAT32_TOL).all(axis=1)
    status = np.full(len(expected), CALLED, dtype=np.int8)
    status[~close] = LOW_GP
    status[close & (rounded[:, CLASS_OTHER] > 0)] = OTHER_ALLELE
    status[nan] = MISSING
    count = np.where(status == CALLED, rounded[:, effect_class], np.nan)
    return count, status


def _check_classes(classes: np.ndarray, effect_class: int) -> np.ndarray:
    classes = np.asarray(classes)
    if classes.ndim != 2 or classes.shape[1] != 2:
        raise ValueError(f"classes must have shape (n_samples, 2), got {classes.shape}")
    if effect_class not in (CLASS_REF, CLASS_ALT):
        raise ValueError(f"effect_class must be 0 (REF) or 1 (ALT), got {effect_class}")
    return classes


# ------------------------------------------------------------------ headers, samples, build


def _check_path(path: str) -> None:
    if not os.path.exists(path):
        raise InputError(f"VCF file {path} does not exist (check cohort.genotypes in the config)")
    if os.path.isdir(path):
        raise InputError(f"VCF path {path} is a directory; expected a .vcf, .vcf.gz or .bcf file")


def _open(path: str):
    from cyvcf2 import VCF

    _check_path(path)
    try:
        vcf = VCF(path)
    except Exception as err:  # noqa: BLE001 - htslib raises plain OSError / Exception
        raise InputError(
            f"{path} is not a readable VCF/BCF file (expected plain VCF, bgzipped VCF or BCF with a "
            f"'#CHROM' header line): {err}"
        ) from None
    return vcf


@dataclass
class _Header:
    """One file: its samples and contigs, and the readers (opened once, cyvcf2 only on demand).

    ``tabix`` is a :class:`pysam.TabixFile` for bgzipped VCF text with a ``.tbi``/``.csi`` index
    (the fast path of :func:`_read_positions`), else None; ``vcf`` is the cyvcf2 reader, opened
    on first use (opening parses every sample name into htslib's header: ~40 ms at 10^5 samples).
    """

    path: str
    samples: list[str]
    contigs: dict[str, int | None]
    header_text: str | None = None
    tabix: object | None = None
    _vcf: object | None = None
    _refs: list[str] | None = None

    @property
    def vcf(self):
        if self._vcf is None:
            self._vcf = _open(self.path)
        return self._vcf

    @property
    def refs(self) -> list[str]:
        """``##reference`` / ``##assembly`` values and contig ``assembly=`` tags."""
        if self._refs is None:
            self._refs = []
            text = self.header_text if self.header_text is not None else self.vcf.raw_header
            for line in text.split("\n#CHROM", 1)[0].splitlines():
                if line.startswith("##contig=<"):
                    m_asm = re.search(r"[<,]assembly=([^,>]+)", line)
                    if m_asm:
                        self._refs.append(m_asm.group(1))
                elif line.startswith(("##reference=", "##assembly=")):
                    self._refs.append(line.split("=", 1)[1])
        return self._refs


# Read indexed bgzipped VCF text with pysam.TabixFile and numpy (see _fast_records); tests switch
# it off to compare with the cyvcf2 path.
_FAST_TABIX = True
_CONTIG_ID = re.compile(r"[<,]ID=([^,>]+)")
_CONTIG_LENGTH = re.compile(r"[<,]length=(\d+)")


def _tabix_header(path: str, index: str) -> _Header | None:
    """Header of a bgzipped VCF read through its tabix/CSI index; None when not bgzipped VCF text."""
    import gzip

    import pysam

    try:
        with gzip.open(path, "rb") as fh:
            if fh.read(16) != b"##fileformat=VCF"[:16]:
                return None  # BCF (b"BCF\2"), or VCF text without the fileformat line: cyvcf2
        tbx = pysam.TabixFile(path, index=index)
        lines = list(tbx.header)
    except Exception:  # noqa: BLE001 - not BGZF, broken index: the cyvcf2 path reports it
        return None
    if not lines or not lines[-1].startswith("#CHROM\t"):
        return None
    columns = lines[-1].rstrip("\r\n").split("\t")
    if len(columns) < 10 or columns[8] != "FORMAT":
        return None
    contigs: dict[str, int | None] = {}
    for line in lines:
        if line.startswith("##contig=<"):
            m_id, m_len = _CONTIG_ID.search(line), _CONTIG_LENGTH.search(line)
            if m_id:
                length = int(m_len.group(1)) if m_len else 0
                contigs[m_id.group(1)] = length if length > 0 else None
    return _Header(path, columns[9:], contigs, header_text="\n".join(lines), tabix=tbx)


def _header_info(path: str) -> _Header:
    _check_path(path)
    index = _index_of(path)
    if _FAST_TABIX and index:
        header = _tabix_header(path, index)
        if header is not None:
            return header
    vcf = _open(path)
    names = list(vcf.seqnames)
    try:
        lengths = list(vcf.seqlens)
    except Exception:  # noqa: BLE001 - no contig lengths in the header
        lengths = [-1] * len(names)
    contigs = {n: (int(x) if x and x > 0 else None) for n, x in zip(names, lengths, strict=False)}
    return _Header(path, list(vcf.samples), contigs, _vcf=vcf)


def vcf_samples(paths: list[str]) -> list[str]:
    """Sample ids of the VCF files (order of the first file); all files must carry the same set.

    Raises InputError naming both files and the first ids that differ, or duplicated ids.
    """
    if not paths:
        raise InputError("cohort.genotypes lists no genotype files")
    return _samples_of([_header_info(str(p)) for p in paths])


def _samples_of(headers: list[_Header]) -> list[str]:
    first = None
    for h in headers:
        path, samples = h.path, h.samples
        if not samples:
            raise InputError(f"{path}: the VCF has no samples (no columns after FORMAT)")
        if len(set(samples)) != len(samples):
            seen, dup = set(), []
            for s in samples:
                if s in seen:
                    dup.append(s)
                seen.add(s)
            raise InputError(f"{path}: duplicated sample ids in the #CHROM line: {', '.join(dup[:5])}")
        if first is None:
            first = (path, samples)
            continue
        a, b = set(first[1]), set(samples)
        if a != b:
            only_a, only_b = sorted(a - b), sorted(b - a)
            raise InputError(
                f"VCF files {first[0]} and {path} carry different samples "
                f"({len(a)} vs {len(b)}); only in {first[0]}: {', '.join(only_a[:5]) or '-'}"
                f"{' ...' if len(only_a) > 5 else ''}; only in {path}: {', '.join(only_b[:5]) or '-'}"
                f"{' ...' if len(only_b) > 5 else ''}"
            )
    return list(first[1])


def detect_build(paths: list[str], *, declared: str = "auto", logger=None) -> str:
    """The genome build ('GRCh37' or 'GRCh38') of the VCF files.

    Evidence, strongest first: the ``##contig`` length of chr12 (GRCh37 133,851,895; GRCh38
    133,275,309), then ``##reference`` / ``##assembly`` lines and contig ``assembly=`` tags.
    A declared build (config ``cohort.build``) wins over header text but must agree with the
    contig lengths. A mitochondrial contig of 16,571 bp (hg19 UCSC chrM, the Yoruba sequence
    NC_001807, not rCRS) is refused. Files with only mtDNA contigs carry no build information.
    """
    return _build_of([_header_info(str(p)) for p in paths], declared=declared, logger=logger or log)


def _build_of(headers: list[_Header], *, declared: str, logger, required: bool = True) -> str | None:
    """The build from the headers (see :func:`detect_build`); None when they carry no build
    information, ``declared`` is auto and ``required`` is False."""
    if declared not in ("auto", *BUILDS):
        raise InputError(f"cohort.build is {declared!r}; expected auto, GRCh37 or GRCh38")
    by_length: dict[str, list[str]] = {}
    for h in headers:
        for name, length in h.contigs.items():
            if name in CONTIG_ALIASES["MT"] and length == HG19_CHRM_LENGTH:
                raise InputError(
                    f"{h.path}: contig {name} has length {HG19_CHRM_LENGTH}: this is hg19's UCSC chrM "
                    f"(the Yoruba sequence NC_001807), not the revised Cambridge Reference Sequence "
                    f"(rCRS, NC_012920.1, {RCRS_LENGTH} bp) that mtDNA positions such as m.4823 and "
                    f"m.15885 refer to; positions would be shifted. Lift the mtDNA calls over to rCRS "
                    f"or use an rCRS-based VCF (b37/hs37d5 'MT' or GRCh38 'chrM'); if this file holds "
                    f"no mtDNA calls, drop the {name} line from its header (bcftools reheader)."
                )
            if name == "chrM" and length is None and any(re.search(r"hg19|ucsc", t, re.I) for t in h.refs):
                raise InputError(
                    f"{h.path}: contig chrM has no length and the header names hg19/UCSC: hg19's "
                    f"chrM is the Yoruba sequence (NC_001807, {HG19_CHRM_LENGTH} bp), not the rCRS "
                    f"(NC_012920.1, {RCRS_LENGTH} bp) that m.4823 and m.15885 refer to. Lift the mtDNA "
                    f"calls over to rCRS, or, if they are already on rCRS, declare it in the header "
                    f"(##contig=<ID=chrM,length={RCRS_LENGTH}>, bcftools reheader)."
                )
            if name in CONTIG_ALIASES["12"] and length is not None:
                build = CHR12_LENGTHS.get(length)
                if build is None:
                    raise InputError(
                        f"{h.path}: contig {name} has length {length}, which is neither GRCh37 "
                        f"(133851895) nor GRCh38 (133275309); the VCF must be on GRCh37 or GRCh38"
                    )
                by_length.setdefault(build, []).append(h.path)
    if len(by_length) > 1:
        raise InputError(
            "VCF files are on different builds by their chr12 contig length: "
            + "; ".join(f"{b}: {', '.join(sorted(set(p)))}" for b, p in by_length.items())
        )
    from_length = next(iter(by_length), None)
    if from_length:
        if declared not in ("auto", from_length):
            raise InputError(
                f"cohort.build is {declared} but the chr12 contig length in "
                f"{', '.join(sorted(set(by_length[from_length])))} is that of {from_length}; "
                f"set cohort.build to {from_length} or auto, or use a {declared} VCF"
            )
        return from_length
    # no contig lengths: header text (##reference, ##assembly, contig assembly= tags)
    by_text: dict[str, list[str]] = {}
    for h in headers:
        for text in h.refs:
            for build, pattern in _BUILD_PATTERNS:
                if pattern.search(text):
                    by_text.setdefault(build, []).append(h.path)
                    break
    if declared != "auto":
        other = [b for b in by_text if b != declared]
        if other:
            logger.warning(
                "cohort.build is %s but header lines of %s name %s; using %s",
                declared, ", ".join(sorted(set(by_text[other[0]]))), other[0], declared,
            )  # fmt: skip
        return declared
    if len(by_text) > 1:
        raise InputError(
            "VCF header lines name different builds: "
            + "; ".join(f"{b}: {', '.join(sorted(set(p)))}" for b, p in by_text.items())
            + "; set cohort.build to GRCh37 or GRCh38"
        )
    if by_text:
        return next(iter(by_text))
    if not required:
        return None
    raise InputError(
        f"cannot tell the genome build of {', '.join(h.path for h in headers)}: no chr12 ##contig "
        f"length and no ##reference/##assembly line; set cohort.build to GRCh37 or GRCh38 in the config"
    )


# ------------------------------------------------------------------ reading records


@dataclass
class _Record:
    file: str
    chrom: str
    pos: int
    id: str
    ref: str
    alts: list[str]
    gt: np.ndarray | None  # (n, 2) int16 allele indices, -1 missing, -2 absent
    af: np.ndarray | None  # (n, n_alt)
    gp: np.ndarray | None
    ds: np.ndarray | None
    extra: np.ndarray | None = None  # (n,) bool: the call has more than two allele slots
    filter: str = "."  # FILTER column (``PASS``, ``.`` or the failed filters, ``;``-separated)
    info: float = float("nan")  # imputation quality (INFO R2/DR2/INFO, or computed), NaN if none
    info_key: str = ""  # where ``info`` comes from (``R2``, ``DR2``, ``INFO``, ``IMPUTE info``)


def _format(variant, key: str, fields, order):
    if key not in fields:
        return None
    values = variant.format(key)
    if values is None:
        return None
    values = np.asarray(values, dtype=float)
    return values if order is None else values[order]


def _snapshot(variant, path: str, order) -> _Record:
    gt = extra = None
    fields = set(variant.FORMAT)
    if "GT" in fields:
        arr = variant.genotype.array()[:, :-1]  # slots beyond a call's ploidy are -2 (vector end)
        if order is not None:
            arr = arr[order]
        if arr.shape[1] == 1:
            arr = np.column_stack([arr, np.full(len(arr), CLASS_ABSENT, dtype=arr.dtype)])
        gt = np.ascontiguousarray(arr[:, :2], dtype=np.int16)
        if arr.shape[1] > 2:
            extra = (arr[:, 2:] != CLASS_ABSENT).any(axis=1)
    quality = imputation_quality(variant.INFO.get)
    return _Record(
        file=path,
        chrom=variant.CHROM,
        pos=variant.POS,
        id=variant.ID or ".",
        ref=variant.REF,
        alts=list(variant.ALT),
        gt=gt,
        af=_format(variant, "AF", fields, order),
        gp=_format(variant, "GP", fields, order),
        ds=_format(variant, "DS", fields, order),
        extra=extra,
        filter=";".join(variant.FILTERS) or ".",
        info=quality[0],
        info_key=quality[1],
    )


def check_index(path: str, index: str) -> str:
    """Check that ``index`` can answer region queries for ``path``; return a warning or "".

    A ``.tbi``/``.csi`` beside a gzip file that is not BGZF-compressed would make every query
    come back empty (every variant "not in the genotype files"): an InputError naming the file and the fix. An
    index older than its file may be stale (the file rewritten after indexing) or merely copied
    first (``cp`` without ``-p``): a warning, as htslib gives.
    """
    with open(path, "rb") as fh:
        head = fh.read(18)
    bgzf = head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"
    if path.endswith(".gz") and not bgzf:
        raise InputError(
            f"{path} has the index {index} but is not BGZF-compressed (plain gzip?), so the index "
            "cannot be used; recompress it with bgzip (zcat FILE | bgzip > FILE.vcf.gz) and index it "
            "again (tabix -p vcf or bcftools index)"
        )
    if os.path.getmtime(index) < os.path.getmtime(path):
        return (
            f"the index {index} is older than {path}: if the file was changed after it was indexed, "
            "region queries may miss records; index it again (tabix -f -p vcf or bcftools index -f)"
        )
    return ""


# ------------------------------------------------------------------ integrity of the files

# The empty BGZF block that bgzip, htslib and BCF writers put at the end of every file (SAM/BAM
# specification, section 4.1.2): a file without it was cut short (or written by a plain gzip).
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_RECOPY = (
    "copy it again from the source (an interrupted copy leaves a file cut short) and check its size "
    "or checksum"
)


def _is_bgzf(head: bytes) -> bool:
    return head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"


def check_integrity(path: str) -> None:
    """Refuse a BGZF file (bgzipped VCF, BCF) that is cut short, before its header is read.

    Cheap at any size: the file must end with the 28-byte BGZF end-of-file block
    (:data:`BGZF_EOF`). Without it the message gives the byte where the file ends, the last
    complete block and, when it can be decompressed, the last complete record (CHROM:POS).
    Records cut mid-line are found by :func:`check_last_record`. Plain gzip (not BGZF) cannot be
    checked without reading it whole; it is read whole anyway (no index can be used), and a
    stream that ends early is reported while it is read (:func:`_read_positions`).

    Raises InputError naming the file and where it ends, and suggesting to copy it again.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(18)
        fh.seek(max(0, size - len(BGZF_EOF)))
        tail = fh.read()
    if _is_bgzf(head) and tail != BGZF_EOF:
        raise InputError(f"{path} is cut short: {_bgzf_end(path, size)}; {_RECOPY}")


def _bgzf_blocks(path: str, size: int):
    """(offset, length) of the complete BGZF blocks from the start, and the offset of the first
    block that is cut (or not a BGZF block); walks the block headers only (one seek per ~64 kB)."""
    blocks, offset = [], 0
    with open(path, "rb") as fh:
        while offset < size:
            fh.seek(offset)
            head = fh.read(18)
            if len(head) < 18 or not _is_bgzf(head):
                break
            length = int.from_bytes(head[16:18], "little") + 1
            if offset + length > size:
                break
            blocks.append((offset, length))
            offset += length
    return blocks, offset


def _inflate(path: str, blocks) -> bytes:
    import zlib

    out = []
    blocks = [b for b in blocks if b is not None]
    with open(path, "rb") as fh:
        for offset, length in blocks:
            fh.seek(offset)
            data = fh.read(length)
            try:
                out.append(zlib.decompress(data[18:-8], -15))
            except zlib.error:
                return b""
    return b"".join(out)


def _record_label(line: bytes) -> str:
    fields = line.split(b"\t", 2)
    text = ":".join(f.decode("utf-8", "replace") for f in fields[:2])
    return text if len(fields) > 2 else text[:40]


def _bgzf_end(path: str, size: int) -> str:
    """Where a BGZF file without its end-of-file block ends, for the message."""
    blocks, cut = _bgzf_blocks(path, size)
    if cut >= size:
        where = (
            f"it ends at byte {size} after {len(blocks)} complete BGZF blocks, without the end-of-file block"
        )
    else:
        where = f"it ends at byte {size}, inside the BGZF block that starts at byte {cut}"
    text = _inflate(path, blocks[-3:]) if blocks else b""
    lines = text.split(b"\n")[1:-1]  # the first may have begun in an earlier block
    records = [ln for ln in lines if ln and not ln.startswith(b"#")]
    if records:
        where += f"; the last complete record is {_record_label(records[-1])}"
    elif blocks and lines:
        where += "; it ends within the header"
    return where + " (bgzip files end with a 28-byte empty block)"


def check_last_record(path: str, n_samples: int) -> None:
    """Refuse a VCF text file whose last record is cut mid-line (wrong number of columns).

    Bgzipped VCF: the last data block (before the end-of-file block) is decompressed; plain VCF
    text: its last megabyte is read. The data must end with a newline, and the last line, when
    it starts in what was read, must have ``9 + n_samples`` columns. BCF and plain gzip pass
    (plain gzip is checked while it is read whole).
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(18)
        if _is_bgzf(head):
            text = _inflate(path, [_last_data_block(fh, size)] if size > len(BGZF_EOF) else [])
            if not text or _starts_bcf(path):
                return
        elif head[:2] == b"\x1f\x8b" or head[:3] == b"BCF":
            return
        else:
            fh.seek(max(0, size - 1_000_000))
            text = fh.read()
    if not text.endswith(b"\n"):
        lines = text.split(b"\n")
        prev = f" (the last complete record is {_record_label(lines[-2])})" if len(lines) > 2 else ""
        raise InputError(
            f"{path} is cut short: its last record has no newline at the end of the data (byte {size} "
            f"of the file), so it was cut mid-line{prev}; {_RECOPY}. If the file is complete and only "
            f"lacks the final newline, add it"
        )
    lines = text.split(b"\n")
    if len(lines) < 3 or lines[-2].startswith(b"#"):
        return  # the last line may begin before what was read, or there are no records
    n_columns = lines[-2].count(b"\t") + 1
    if n_columns != 9 + n_samples:
        raise InputError(
            f"{path} is cut short or damaged: its last record {_record_label(lines[-2])} has {n_columns} "
            f"columns, but the header has {9 + n_samples} (9 + {n_samples} samples); {_RECOPY}"
        )


def _last_data_block(fh, size: int) -> tuple[int, int] | None:
    """(offset, length) of the BGZF block that ends where the end-of-file block starts."""
    end = size - len(BGZF_EOF)
    start = max(0, end - 65536 - 18)
    fh.seek(start)
    chunk = fh.read(end - start)
    at = chunk.rfind(b"\x1f\x8b\x08\x04")
    while at >= 0:
        length = int.from_bytes(chunk[at + 16 : at + 18], "little") + 1
        if chunk[at + 12 : at + 14] == b"BC" and length == len(chunk) - at:
            return start + at, length
        at = chunk.rfind(b"\x1f\x8b\x08\x04", 0, at)
    return None


def _gzip_end(path: str) -> str | None:
    """Where a gzip stream ends early (None when it is complete): read it whole with zlib.

    Used only after htslib failed on a plain-gzip file, to tell a truncated stream (and its last
    complete record) from a damaged record."""
    import zlib

    size, n_out, n_lines, tail, last = os.path.getsize(path), 0, 0, b"", b""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            while chunk:
                try:
                    out = inflater.decompress(chunk)
                except zlib.error as err:
                    return f"its gzip data are damaged after {n_out} decompressed bytes ({err})"
                n_out += len(out)
                n_lines += out.count(b"\n")
                text = tail + out
                end = text.rfind(b"\n")
                if end >= 0:
                    last, tail = text[text.rfind(b"\n", 0, end) + 1 : end], text[end + 1 :]
                else:
                    tail = text
                chunk = inflater.unused_data
                if inflater.eof and chunk:  # a further gzip member (concatenated gzip files)
                    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    break
    if inflater.eof:
        return None
    label = (
        f"; the last complete record is {_record_label(last)}" if last and not last.startswith(b"#") else ""
    )
    return (
        f"its gzip stream ends early, at byte {size}, {n_out} bytes into the decompressed data "
        f"(after {n_lines} complete lines){label}"
    )


def _read_error(path: str, err: Exception, where: str) -> InputError:
    """The error for a file htslib could not read through: a cut gzip stream or a damaged record."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if head[:2] == b"\x1f\x8b" and not _is_bgzf(head) and (end := _gzip_end(path)):
        return InputError(f"{path} is cut short: {end}; {_RECOPY}")
    return InputError(
        f"{path} could not be read {where} ({err}): the file is damaged or cut short; {_RECOPY}"
    )


def _starts_bcf(path: str) -> bool:
    import gzip

    with gzip.open(path, "rb") as fh:
        return fh.read(3) == b"BCF"


def _index_of(path: str) -> str | None:
    for ext in (".tbi", ".csi"):
        if os.path.exists(path + ext):
            return path + ext
    return None


# VCF GT bytes -> allele index: '0'-'9' -> 0-9, '.' -> -1 (missing), anything else -> -99 (not handled)
_GT_ALLELE = np.full(256, -99, dtype=np.int16)
_GT_ALLELE[ord("0") : ord("9") + 1] = np.arange(10)
_GT_ALLELE[ord(".")] = CLASS_MISSING
_TAB, _COLON, _SLASH, _PIPE = 9, ord(":"), ord("/"), ord("|")


def _fast_record(line: str, path: str, n: int, order) -> _Record | None:
    """Parse one VCF text line of ``n`` samples with numpy on its bytes; None when not handled.

    Handled: FORMAT starting with GT, every sample's GT a single-digit diploid call (``a/b``,
    ``a|b``, any of them ``.``) or a single-digit haploid call (``a``, ``.``), mixed in any way;
    haploid calls get a -2 (absent) second slot, as htslib/cyvcf2 report them. FORMAT AF
    (mtDNA heteroplasmy levels) is parsed, rounded to float32 as htslib stores it, for the
    samples that carry a non-reference allele (the only ones whose AF is ever looked at; NaN
    elsewhere). Anything else - multi-digit allele indices, polyploid calls, FORMAT GP or DS,
    an AF with another number of values than ALTs, non-ASCII text, a wrong number of
    columns - returns None, and the caller reads the position with cyvcf2 instead.
    """
    parts = line.rstrip("\n").split("\t", 9)
    if len(parts) != 10:
        return None
    chrom, pos, vid, ref, alt, _qual, filter_, info_text, fmt, text = parts
    keys = fmt.split(":")
    if keys[0] != "GT" or "GP" in keys or "DS" in keys:
        return None
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return None
    buf = np.frombuffer(raw, dtype=np.uint8)
    alts = [] if alt == "." else alt.split(",")
    gt = _gt_diploid_only(buf, n) if len(keys) == 1 else None
    af = None
    if gt is None:
        tabs = np.flatnonzero(buf == _TAB)
        if len(tabs) != n - 1:
            return None
        starts = np.empty(n, dtype=np.intp)
        starts[0], starts[1:] = 0, tabs + 1
        ends = np.empty(n, dtype=np.intp)
        ends[:-1], ends[-1] = tabs, len(buf)
        # GT is 1 byte (haploid) or 3 bytes (a/b) when followed by the field's end or ':'
        padded = np.concatenate([buf, np.full(4, _TAB, dtype=np.uint8)])  # the line ends a field
        colon = _COLON if len(keys) > 1 else _TAB
        after1, after3 = padded[starts + 1], padded[starts + 3]
        haploid = (after1 == colon) | (after1 == _TAB)
        diploid = ((after1 == _SLASH) | (after1 == _PIPE)) & ((after3 == colon) | (after3 == _TAB))
        a = _GT_ALLELE[padded[starts]]
        b = np.where(haploid, CLASS_ABSENT, _GT_ALLELE[padded[starts + 2]]).astype(np.int16)
        if not ((a > -9) & (b > -9) & (haploid | diploid)).all():
            return None
        gt = np.column_stack([a, b])
        if "AF" in keys:
            # AF follows the (k)th ':' of the field; it is read for carriers of a non-REF allele
            colons = np.flatnonzero(buf == _COLON)
            stops = np.append(colons, len(buf))  # end of the subfield after colons[j - 1]
            carriers = np.flatnonzero((a > 0) | (b > 0))
            at = np.searchsorted(colons, starts[carriers]) + keys.index("AF") - 1
            has = stops[np.minimum(at, len(colons))] < ends[carriers]
            rows, at = carriers[has], at[has]
            lo, hi = colons[at] + 1, np.minimum(stops[at + 1], ends[rows])
            af = np.full((n, len(alts)), np.nan, dtype=np.float32)
            values = _af_values(raw, padded, lo, hi, len(alts))
            if values is None:
                return None
            af[rows] = values
            af = af.astype(float)
    if order is not None:
        gt = gt[order]
        af = af[order] if af is not None else None
    fields = dict(kv.split("=", 1) for kv in info_text.split(";") if "=" in kv)
    info, info_key = imputation_quality(fields.get)
    return _Record(
        file=path, chrom=chrom, pos=int(pos), id=vid, ref=ref, alts=alts, gt=gt, af=af, gp=None, ds=None,
        filter=filter_, info=info, info_key=info_key,
    )  # fmt: skip


def _gt_diploid_only(buf: np.ndarray, n: int) -> np.ndarray | None:
    """GT of a GT-only record in which every sample field is 3 bytes (``a/b``): one (n, 4) view."""
    if len(buf) != 4 * n - 1:
        return None
    cells = np.empty(4 * n, dtype=np.uint8)
    cells[:-1], cells[-1] = buf, _TAB
    cells = cells.reshape(n, 4)
    if not (cells[:, 3] == _TAB).all():
        return None
    a, sep, b = _GT_ALLELE[cells[:, 0]], cells[:, 1], _GT_ALLELE[cells[:, 2]]
    if not (((sep == _SLASH) | (sep == _PIPE)) & (a > -9) & (b > -9)).all():
        return None  # a field that is not a single-digit diploid GT: the general parser decides
    return np.column_stack([a, b])


def _af_values(raw: bytes, padded: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_alt: int):
    """FORMAT AF values ``raw[lo:hi]`` as (len(lo), n_alt) float32 (htslib: double rounded to float);
    ``.`` is NaN. None when a value list does not have n_alt values or does not parse."""
    width = hi - lo
    if n_alt == 1 and len(lo) and width.max() <= 32:  # vectorised: fixed-width byte strings
        w = int(max(width.max(), 3))
        take = lo[:, None] + np.arange(w)
        mat = np.where(np.arange(w) < width[:, None], padded[np.minimum(take, len(padded) - 1)], 0)
        strings = np.ascontiguousarray(mat, dtype=np.uint8).view(f"S{w}").ravel()
        if (mat == ord(",")).any():
            return None
        strings = np.where(strings == b".", b"nan", strings)
        try:
            return strings.astype(np.float64).astype(np.float32)[:, None]
        except ValueError:
            return None
    out = np.full((len(lo), n_alt), np.nan, dtype=np.float32)
    for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
        values = raw[a:b].split(b",")
        if values == [b"."]:
            if n_alt > 1:
                return None
            continue
        if len(values) != n_alt:
            return None
        try:
            out[i] = [np.nan if v == b"." else float(v) for v in values]
        except ValueError:
            return None
    return out


def _cyvcf2_records(vcf, contigs: list[str], pos: int, path: str, order) -> list[_Record]:
    records = []
    for contig in contigs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                for v in vcf(f"{contig}:{pos}-{pos}"):
                    if v.POS == pos:
                        records.append(_snapshot(v, path, order))
            except Exception as err:  # noqa: BLE001 - htslib: a damaged block or record in the region
                raise _read_error(path, err, f"in the region {contig}:{pos}") from None
    return records


# Positions in the same 16 kb window (tabix and default CSI indices, min_shift 14) share one fetch:
# a fetch starts at the first record of the window, so separate fetches would decompress the
# records before each position again, while one fetch reads each of them once.
_WINDOW_SHIFT = 14


def _tabix_records(header: _Header, contigs: list[str], positions: list[int], order):
    """Records at ``positions`` through pysam.TabixFile and :func:`_fast_record`.

    Returns {pos: list of records} with None for a position holding a record that
    :func:`_fast_record` does not handle (the caller reads that position with cyvcf2).
    Positions in the same 16 kb index window are read with one fetch.
    """
    tbx, n = header.tabix, len(header.samples)
    indexed = set(tbx.contigs)
    wanted = sorted(set(positions))
    runs: list[list[int]] = []
    for pos in wanted:
        if runs and (pos - 1) >> _WINDOW_SHIFT == (runs[-1][0] - 1) >> _WINDOW_SHIFT:
            runs[-1].append(pos)
        else:
            runs.append([pos])
    found: dict[int, list[_Record] | None] = {pos: [] for pos in wanted}
    for contig in contigs:
        if contig not in indexed:
            continue  # no records on it (a fetch would raise)
        for run in runs:
            try:
                lines = list(tbx.fetch(contig, run[0] - 1, run[-1]))
            except (OSError, ValueError) as err:  # a damaged BGZF block in the region (htslib error)
                raise _read_error(header.path, err, f"in the region {contig}:{run[0]}-{run[-1]}") from None
            for line in lines:
                pos = int(line.split("\t", 2)[1])
                if found.get(pos, None) is None:
                    continue  # not a target (or a longer record overlapping one), or already failed
                rec = _fast_record(line, header.path, n, order)
                found[pos] = None if rec is None else found[pos] + [rec]
    return found


def _read_positions(header: _Header, targets, samples, logger) -> dict[tuple[str, int], list[_Record]]:
    """Records at the target (panel contig, pos) positions: region queries or one streaming pass.

    Indexed bgzipped VCF text is read with pysam.TabixFile and parsed by :func:`_fast_record`;
    a position with any record it does not handle, BCF and other indexed files are read with
    cyvcf2 region queries; unindexed files are streamed once with cyvcf2.
    """
    path = header.path
    file_samples = header.samples
    order = None
    if file_samples != samples:
        where = {s: i for i, s in enumerate(file_samples)}
        order = np.array([where[s] for s in samples])
    found: dict[tuple[str, int], list[_Record]] = {}
    names = set(header.contigs)
    index = _index_of(path)
    if index and (stale := check_index(path, index)):
        logger.warning(stale)
    if header.tabix is not None or index:
        for panel_chrom in sorted({chrom for chrom, _ in targets}):
            contigs = [c for c in CONTIG_ALIASES[panel_chrom] if c in names] or (
                [] if names else list(CONTIG_ALIASES[panel_chrom])
            )
            positions = sorted(pos for chrom, pos in targets if chrom == panel_chrom)
            fast = {}
            if header.tabix is not None:
                fast = _tabix_records(header, contigs, positions, order)
            for pos in positions:
                records = fast.get(pos)
                if records is None:
                    records = _cyvcf2_records(header.vcf, contigs, pos, path, order)
                if records:
                    found[(panel_chrom, pos)] = records
    else:
        logger.warning(
            "%s has no .tbi/.csi index: streaming the whole file once; index it "
            "(bgzip + `tabix -p vcf`, or `bcftools index`) to read only the panel regions",
            path,
        )
        alias = {c: k for k, cs in CONTIG_ALIASES.items() for c in cs}
        wanted = set(targets)
        last = None
        try:  # a plain-gzip stream that ends early, or a damaged record, stops htslib here
            for v in header.vcf:
                last = (v.CHROM, v.POS)
                key = (alias.get(v.CHROM), v.POS)
                if key in wanted:
                    found.setdefault(key, []).append(_snapshot(v, path, order))
        except Exception as err:  # noqa: BLE001 - cyvcf2 raises a plain Exception
            where = f"after the record {last[0]}:{last[1]}" if last else "at its first record"
            raise _read_error(path, err, where) from None
    return found


# ------------------------------------------------------------------ harmonisation


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


def _merge_split(primary: _Record, pm: AlleleMatch, others: list[tuple[_Record, np.ndarray]]):
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


def _any_extra(records: list[_Record]) -> np.ndarray | None:
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


def drop_duplicate_records(records: list[_Record]) -> tuple[list[_Record], str, bool]:
    """Records at one position that repeat another's REF and an ALT (duplicate probes, merged
    batches) are not split multi-allelics: fold them, never merge them genotype by genotype.

    Returns (records to use, message, usable). A duplicate with the same REF and ALTs and the
    same genotype for every sample called in both is dropped (message says so); duplicates that
    disagree, or repeat an ALT in another ALT list, make the variant unusable (message = reason).
    """
    kept: list[_Record] = []
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


def _harmonise(pv: PanelVariant, records: list[_Record], n: int, *, het_thr, gp_thr, mt_alt):
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
            [-3] + [-3 if _snv_base(bases[0], a) is None else
                    CLASS_REF if _snv_base(bases[0], a) == pv.ref else
                    CLASS_ALT if _snv_base(bases[0], a) == pv.alt else CLASS_OTHER for a in bases[1:]],
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
            _check_path(path)
            check_integrity(path)
    headers = []
    for path, fmt in zip(paths, formats, strict=True):  # each file is opened once
        if fmt in genotype_files.VCF_FORMATS:
            headers.append(_header_info(path))
            check_last_record(path, len(headers[-1].samples))
        else:
            headers.append(genotype_files.open_source(path, fmt, sample_file=sample_file))
    samples = _samples_of(headers)
    declared = build
    build = _build_of(headers, declared=declared, logger=logger, required=False)
    build_source = genotype_files.build_source(declared, build)
    n = len(samples)
    targets = {(pv.chrom, pv.pos(b)) for pv in panel for b in ([build] if build else BUILDS)}
    by_file = [
        (
            h.path,
            _read_positions(h, targets, samples, logger)
            if isinstance(h, _Header)
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
    calls = _calls_frame(panel, samples, counts, dosages, statuses)
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


def _report_absent(absent, panel: Panel, headers: list[_Header], build: str, *, absent_variants, logger):
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


def _calls_frame(panel, samples, counts, dosages, statuses) -> pd.DataFrame:
    """The long calls table (plain object string columns, float columns).

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
    variant = np.empty(n * k, dtype=object)
    for j, vid in enumerate(panel.ids):
        variant[j * n : (j + 1) * n] = vid
    empty = np.array([], dtype=float)
    text = {
        "sample": np.tile(np.array(samples, dtype=object), k),
        "variant": variant,
        "genotype": np.array(nuc, dtype=object)[codes],
        "rflp": np.array(lab, dtype=object)[codes],
        "status": np.array(STATUSES, dtype=object)[np.concatenate(statuses) if k else np.array([], int)],
    }
    # Series with dtype=object: pandas skips its datetime inference pass over each object column
    columns = {name: pd.Series(values, dtype=object, copy=False) for name, values in text.items()}
    columns |= {
        "effect_count": np.concatenate(counts).astype(float, copy=False) if k else empty,
        "dosage": np.concatenate(dosages).astype(float, copy=False) if k else empty,
    }
    return pd.DataFrame(columns, columns=CALL_COLUMNS, copy=False)
