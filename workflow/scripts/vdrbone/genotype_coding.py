"""Genotype coding: VCF allele indices to panel allele classes, effect-allele counts and statuses.

small pure functions on numpy arrays (:func:`match_alleles`,
:func:`code_diploid`, :func:`code_haploid`, :func:`calls_from_gp`, :func:`calls_from_ds`,
:func:`dosage_from_ds`, :func:`dosage_from_gp`). They turn VCF allele indices into *allele
classes* relative to the panel (0 = panel REF, 1 = panel ALT, 2 = any other allele, -1 =
missing, -2 = no such allele slot, e.g. the second slot of a haploid call) and the classes
into effect-allele counts and a status.
Pure functions on numpy arrays; no file is read here (:mod:`vdrbone.vcf_reader` reads the
records, :mod:`vdrbone.harmonise` applies these functions to them).

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vdrbone.panel import COMPLEMENT

STATUSES = (
    "called", "missing", "heteroplasmic", "het_haploid", "other_allele", "low_gp", "other_ploidy", "excluded",
)  # fmt: skip
CALLED, MISSING, HETEROPLASMIC, HET_HAPLOID, OTHER_ALLELE, LOW_GP, OTHER_PLOIDY, EXCLUDED = range(
    len(STATUSES)
)
CLASS_REF, CLASS_ALT, CLASS_OTHER, CLASS_MISSING, CLASS_ABSENT = 0, 1, 2, -1, -2
# VCF/BCF store AF, GP and DS as 32-bit floats (0.9 is read back as 0.89999998): thresholds are
# compared with this tolerance so that a written 0.9 meets a threshold of 0.9.
FLOAT32_TOL = 1e-6


def snv_base(ref: str, allele: str) -> str | None:
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
    bases = [ref[0] if ref and ref[0] in COMPLEMENT else None] + [snv_base(ref, a) for a in alts]
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
