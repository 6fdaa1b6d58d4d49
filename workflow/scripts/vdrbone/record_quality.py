"""Quality of genotype records: the FILTER column and imputation quality.

A record is used only when

* its FILTER is ``PASS`` or ``.`` (``genotypes.require_pass``, default true; bcftools
  ``-f PASS,.``), and
* its imputation quality is at least ``genotypes.min_info``. The quality is read from INFO
  ``R2`` (Minimac, Michigan/TOPMed imputation servers), ``DR2`` (Beagle) or ``INFO`` (IMPUTE,
  UK Biobank), whichever comes first; BGEN files carry none, so it is computed from the
  genotype probabilities as the IMPUTE info score (:func:`impute_info`). A record without any
  (hard-called arrays, PLINK files) has no quality to judge and passes.

The reason for a failing record is carried into ``extraction.tsv`` (``reason``) with the values
(``filter``, ``info`` columns), and from there into QC, association and the report.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

INFO_KEYS = ("R2", "DR2", "INFO")
PASSING_FILTERS = ("PASS", ".", "")


def imputation_quality(get: Callable[[str], object]) -> tuple[float, str]:
    """(value, key) of the first of INFO ``R2``, ``DR2``, ``INFO`` that ``get`` finds, else (NaN, "").

    ``get`` looks an INFO key up (``dict.get`` of the parsed INFO column, or cyvcf2's
    ``variant.INFO.get``). A value that is not a number (``.``) counts as absent.
    """
    for key in INFO_KEYS:
        value = get(key)
        if value is None:
            continue
        if isinstance(value, tuple | list):  # Number=A written for a bi-allelic record
            value = value[0] if len(value) == 1 else None
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isnan(number):
            return number, key
    return math.nan, ""


def impute_info(gp: np.ndarray, ploidy: int = 2) -> float:
    """IMPUTE info score of a bi-allelic variant from genotype probabilities.

    Marchini & Howie (2010, Nat Rev Genet 11:499, Box 3), as IMPUTE2/QCTOOL report it:
    with the expected ALT count ``e_i = sum_g g P_i(g)`` and ``f_i = sum_g g^2 P_i(g)`` per
    sample and ``theta = sum e_i / (ploidy N)``,
    ``info = 1 - sum_i (f_i - e_i^2) / (ploidy N theta (1 - theta))``; 1 when theta is 0 or 1.

    Parameters
    ----------
    gp : float (n_samples, ploidy + 1), probabilities of 0..ploidy ALT alleles (BGEN order for
        diploid AA, AB, BB; haploid A, B). Samples with any NaN (missing) are left out.
    ploidy : 1 or 2.

    Returns
    -------
    float, NaN when no sample has probabilities or the shape does not fit.
    """
    gp = np.asarray(gp, dtype=float)
    if gp.ndim != 2 or gp.shape[1] != ploidy + 1:
        raise ValueError(f"gp must have shape (n_samples, {ploidy + 1}) for ploidy {ploidy}, got {gp.shape}")
    gp = gp[~np.isnan(gp).any(axis=1)]
    if not len(gp):
        return math.nan
    g = np.arange(ploidy + 1, dtype=float)
    e = gp @ g
    f = gp @ (g * g)
    theta = e.sum() / (ploidy * len(gp))
    if theta <= 0 or theta >= 1:
        return 1.0
    return float(1 - (f - e * e).sum() / (ploidy * len(gp) * theta * (1 - theta)))


def record_filter_reason(record, *, require_pass: bool = True, min_info: float = 0.0) -> str:
    """Why a record is not used (empty when it is): a FILTER other than PASS/``.``, or an
    imputation quality below ``min_info``.

    ``record`` has ``filter`` (str), ``info`` (float, NaN when absent) and ``info_key``.
    """
    reasons = []
    if require_pass and record.filter not in PASSING_FILTERS:
        reasons.append(f"FILTER is {record.filter}, not PASS (genotypes.require_pass)")
    if min_info > 0 and not math.isnan(record.info) and record.info < min_info:
        reasons.append(
            f"imputation quality {record.info_key or 'info'} {record.info:.4g} is below "
            f"genotypes.min_info {min_info:g}"
        )
    return "; ".join(reasons)
