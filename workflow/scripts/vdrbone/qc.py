"""Genotype QC: call rates, effect-allele frequencies, genotype counts, exact HWE, sample missingness.

Counts and frequencies always refer to the panel's effect allele (never "the minor allele").
``effect_count`` in the call table is 0/1/2 (diploid) or 0/1 (mtDNA carrier) for called genotypes
and NaN otherwise; a sample of the phenotype table without a row for a variant counts as not
called.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from scipy.special import gammaln

from vdrbone.contingency import fisher_exact_2x2
from vdrbone.panel import Panel
from vdrbone.strata import strata_masks

TIE_RELATIVE = 1e-7  # as R's fisher.test: probabilities within this relative distance are ties
# as vdrbone.genotype_coding.STATUSES; other_ploidy calls count as missing, and a variant whose calls are
# all ``excluded`` (not in the genotype files, or unusable there) is flagged NOT_EXTRACTED
CALL_STATUSES = (
    "called", "missing", "heteroplasmic", "het_haploid", "other_allele", "low_gp", "other_ploidy", "excluded",
)  # fmt: skip
_CALLED = CALL_STATUSES.index("called")
_COUNTED = ("heteroplasmic", "het_haploid", "other_allele", "low_gp")  # not called, with a count column
NO_HWE_MT = "no HWE test for haploid mtDNA"
HWE_SAMPLES = ("all", "controls", "both")
NOT_EXTRACTED = "not_extracted"  # flag of a variant extraction could not give (reason: extraction's)
TEST_MISSING = "test_missing"  # flag of differential missingness between cases and controls

QC_VARIANT_COLUMNS = [
    "variant", "name", "stratum", "subset", "n_samples", "n_called", "call_rate", "effect_allele",
    "other_allele", "effect_allele_freq", "n_hom_other", "n_het", "n_hom_effect", "genotype_counts",
    "hwe_p", "hwe_midp", "n_carriers", "carrier_freq", "n_missing", "n_heteroplasmic", "n_het_haploid",
    "n_other_allele", "n_low_gp", "flag", "reason", "note",
]  # fmt: skip
QC_SAMPLE_COLUMNS = [
    "sample", "n_variants", "n_called", "missing_rate", "n_missing", "n_heteroplasmic", "n_het_haploid",
    "n_other_allele", "n_low_gp", "status",
]  # fmt: skip


def _hwe_one(n_het: int, n_hom1: int, n_hom2: int) -> tuple[float, float]:
    """(p, mid-p) of :func:`hwe_exact`, both from one vector of het-count probabilities."""
    n = n_het + n_hom1 + n_hom2
    if n == 0:
        return np.nan, np.nan
    rare = 2 * min(n_hom1, n_hom2) + n_het  # copies of the less common allele (<= n)
    hets = np.arange(rare % 2, rare + 1, 2, dtype=float)
    homr = (rare - hets) / 2
    homc = n - hets - homr
    # log P(hets | n, rare) up to a constant (Wigginton et al. 2005, eq. 2)
    logp = hets * np.log(2.0) - gammaln(hets + 1) - gammaln(homr + 1) - gammaln(homc + 1)
    prob = np.exp(logp - logp.max())
    p_obs = prob[(n_het - rare % 2) // 2]
    total = prob.sum()
    tie = np.abs(prob - p_obs) <= TIE_RELATIVE * p_obs
    below = (prob < p_obs) & ~tie
    p_below, p_tie = prob[below].sum(), prob[tie].sum()
    return float(min(1.0, (p_below + p_tie) / total)), float((p_below + 0.5 * p_tie) / total)


def hwe_exact(n_het: int, n_hom1: int, n_hom2: int, *, midp: bool = False) -> float:
    """Exact SNP test of Hardy-Weinberg equilibrium (Wigginton, Cutler & Abecasis 2005).

    The p-value is the total probability, under HWE and given the allele counts, of all
    heterozygote counts that are no more likely than the observed one (PLINK ``--hardy``).
    With ``midp`` the observed configuration (and any exact tie) counts half (Graffelman &
    Moreno 2013; PLINK ``--hardy midp``). Probabilities within relative 1e-7 are ties.
    Matches PLINK 1.9 to ~1e-10 relative (tests/fixtures/hwe); p-values below ~1e-308
    underflow to 0 as in PLINK.

    Parameters
    ----------
    n_het, n_hom1, n_hom2 : int
        Called genotype counts (>= 0); missing genotypes are simply not counted.

    Returns
    -------
    float
        p-value; NaN when there are no genotypes (PLINK writes no test then).
    """
    counts = [n_het, n_hom1, n_hom2]
    if any(int(c) != c or c < 0 for c in counts):
        raise ValueError(f"genotype counts must be non-negative integers, got {counts}")
    return _hwe_one(int(n_het), int(n_hom1), int(n_hom2))[int(midp)]


def hwe_exact_many(n_het, n_hom1, n_hom2, *, midp: bool = False) -> np.ndarray:
    """:func:`hwe_exact` on arrays of counts (broadcast); NaN where a count is NaN or all are 0."""
    het, h1, h2 = np.broadcast_arrays(
        np.asarray(n_het, dtype=float), np.asarray(n_hom1, dtype=float), np.asarray(n_hom2, dtype=float)
    )
    out = np.full(het.shape, np.nan)
    cache: dict[tuple[int, int, int], tuple[float, float]] = {}
    for idx in np.ndindex(het.shape):
        c = (het[idx], h1[idx], h2[idx])
        if any(np.isnan(x) for x in c):
            continue
        if any(x < 0 or x != int(x) for x in c):
            raise ValueError(f"genotype counts must be non-negative integers, got {c} at {idx}")
        key = (int(c[0]), min(int(c[1]), int(c[2])), max(int(c[1]), int(c[2])))
        if key not in cache:
            cache[key] = _hwe_one(*key)
        out[idx] = cache[key][int(midp)]
    return out


def label_positions(values: pd.Series, labels, *, as_text: bool = False) -> np.ndarray:
    """Position of each value of ``values`` among the unique ``labels`` (-1 where absent); each
    distinct value is looked up once (a long calls table repeats every sample id once per
    variant), a missing value as NaN.

    ``as_text`` compares ``str(value)`` (a missing value is then ``"nan"``). A categorical column
    (:func:`vdrbone.tables.read_parquet` with ``categorical``) is looked up once per category and
    mapped through its codes, so it costs no string hashing per row.
    """
    index = pd.Index(labels if isinstance(labels, pd.Series | np.ndarray) else list(labels))
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories.astype(str) if as_text else values.cat.categories
        missing = pd.Index(["nan" if as_text else np.nan])  # code -1, the last entry of lookup
        if categories.equals(index):  # (categories are unique) e.g. sample ids in the table order
            lookup = np.append(np.arange(len(index)), index.get_indexer(missing))
        else:
            lookup = index.get_indexer(categories.append(missing))
        return lookup[values.cat.codes.to_numpy()]
    codes, uniques = pd.factorize(values.astype(str) if as_text else values)
    lookup = index.get_indexer(pd.Index(uniques).append(pd.Index([np.nan])))  # code -1: missing
    return lookup[codes]


def _group_codes(values: pd.Series) -> np.ndarray:
    """Integer codes of ``values``, equal exactly where the values are (missing values: -1)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy()
    return pd.factorize(values)[0]


def _check_calls(calls: pd.DataFrame) -> np.ndarray:
    """Validate the calls table; return each call's status code (position in :data:`CALL_STATUSES`)."""
    needed = {"sample", "variant", "effect_count", "status"}
    if not needed <= set(calls.columns):
        raise ValueError(f"calls lacks column(s) {sorted(needed - set(calls.columns))}")
    status = label_positions(calls["status"], CALL_STATUSES)
    if (status < 0).any():
        bad = set(calls["status"][status < 0].unique())
        raise ValueError(f"calls: unknown status value(s) {sorted(bad)}; expected {CALL_STATUSES}")
    called = status == _CALLED
    missing = np.isnan(calls["effect_count"].to_numpy(dtype=float))
    if missing[called].any() or not missing[~called].all():
        raise ValueError("calls: effect_count must be set exactly for rows with status 'called'")
    # (sample, variant) pairs as one integer each (codes shifted by 1: missing values are -1)
    variant = _group_codes(calls["variant"]).astype(np.int64) + 1
    pair = (_group_codes(calls["sample"]).astype(np.int64) + 1) * (int(variant.max(initial=0)) + 1) + variant
    if pair.size and pair.max() < 8 * pair.size:  # the usual case: count by a table of all pairs
        n_dup = pair.size - int(np.count_nonzero(np.bincount(pair)))
    else:
        n_dup = pair.size - pd.unique(pair).size
    if n_dup:
        raise ValueError(f"calls: {n_dup} duplicated (sample, variant) rows")
    return status


def hwe_subsets(hwe_samples: str, binary_outcomes: list[str]) -> list[str]:
    """The QC subsets whose exact HWE test is applied under ``qc.hwe_samples``.

    ``all``: all samples; ``controls``: the controls of each binary outcome
    (``controls:<outcome>``), as PLINK ``--hwe`` on a case/control phenotype; ``both``: all
    samples and the controls of each binary outcome. Without a binary outcome ``controls``
    falls back to all samples.
    """
    if hwe_samples not in HWE_SAMPLES:
        raise ValueError(f"hwe_samples must be one of {HWE_SAMPLES}, got {hwe_samples!r}")
    controls = [f"controls:{o}" for o in binary_outcomes]
    if hwe_samples == "all" or not controls:
        return ["all"]
    return controls if hwe_samples == "controls" else ["all", *controls]


def _hwe_reason(p: float, threshold: float, subset: str = "all") -> str:
    where = f" in controls of {subset.split(':', 1)[1]}" if subset.startswith("controls:") else ""
    return f"HWE exact p {p:.3g} < {threshold:g}{where}"


def _allel():
    """scikit-allel, imported here rather than at module level, and without its dask front end:
    ``import allel`` imports dask when it is installed (~0.3 s), while QC needs only the NumPy
    ``GenotypeArray``. ``dask`` is hidden from that one import (allel then skips
    ``allel.model.dask``, as it does where dask is absent) and visible again right after."""
    if "allel" not in sys.modules and "dask" not in sys.modules:
        sys.modules["dask"] = None  # type: ignore[assignment]  # `import dask` raises ImportError
        try:
            import allel
        finally:
            del sys.modules["dask"]
    import allel

    return allel


def diploid_counts(effect_count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Genotype and allele counts of diploid calls, through scikit-allel's ``GenotypeArray``.

    Parameters
    ----------
    effect_count : float array (n,), effect-allele counts 0/1/2; NaN (not called) is a missing
        genotype (-1/-1) and counts nowhere.

    Returns
    -------
    genotypes : int array (3,), the numbers of other-allele homozygotes, heterozygotes and
        effect-allele homozygotes (``count_hom_ref``, ``count_het``, ``count_hom_alt``).
    alleles : int array (2,), other and effect alleles (``count_alleles``).
    """
    ec = np.asarray(effect_count, dtype=float)
    genotypes, alleles = diploid_counts_by_set(ec[None, :], np.ones((1, ec.size), dtype=bool))
    return genotypes[0, 0], alleles[0, 0]


def diploid_counts_by_set(effect_count: np.ndarray, sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`diploid_counts` of several variants in several sets of samples, through one
    scikit-allel ``GenotypeArray``: its genotype classes (``is_hom_ref``, ``is_het``,
    ``is_hom_alt``) tallied per set by one matrix product (sums of 0/1 in float64: exact), and
    its allele counts per set by ``count_alleles_subpops``.

    Parameters
    ----------
    effect_count : float array (variants, n), effect-allele counts 0/1/2; NaN: not called.
    sets : bool array (k, n), the samples of each set.

    Returns
    -------
    genotypes : int array (variants, k, 3); alleles : int array (variants, k, 2).
    """
    ec = np.asarray(effect_count, dtype=float)
    sets = np.asarray(sets, dtype=bool)
    if ec.ndim != 2 or sets.ndim != 2 or sets.shape[1] != ec.shape[1]:
        raise ValueError(f"need effect_count (variants, n) and sets (k, n), got {ec.shape} and {sets.shape}")
    called = np.isfinite(ec)
    if not np.isin(ec[called], (0, 1, 2)).all():
        raise ValueError(
            f"effect_count values {sorted({float(x) for x in ec[called]} - {0, 1, 2})}; expected 0, 1 or 2"
        )
    n_variants, k = ec.shape[0], sets.shape[0]
    gt = np.full((*ec.shape, 2), -1, dtype=np.int8)  # variants x samples x ploidy 2
    gt[called, 0] = ec[called] >= 2
    gt[called, 1] = ec[called] >= 1
    g = _allel().GenotypeArray(gt)
    classes = np.stack([g.is_hom_ref(), g.is_het(), g.is_hom_alt()], axis=1)  # variants x 3 x n
    tally = classes.reshape(n_variants * 3, ec.shape[1]).astype(float) @ sets.T.astype(float)
    genotypes = np.rint(tally).astype(np.int64).reshape(n_variants, 3, k).transpose(0, 2, 1)
    subpops = {i: np.flatnonzero(chosen) for i, chosen in enumerate(sets) if chosen.any()}
    by_set = g.count_alleles_subpops(subpops, max_allele=1) if subpops else {}
    alleles = np.zeros((n_variants, k, 2), dtype=np.int64)  # an empty set has no alleles
    for i, counts in by_set.items():
        alleles[:, i] = counts
    return np.ascontiguousarray(genotypes), alleles


def _variant_row(
    v, n_samples: int, status_counts: np.ndarray, counts: list[int], alleles, *, min_call_rate: float,
    hwe_p: float, apply_hwe: bool, hwe: dict,
) -> dict:  # fmt: skip
    """QC row of one variant in one stratum and subset.

    ``status_counts``: the set's samples by :data:`CALL_STATUSES` (samples without a call row
    in none); ``counts``: called genotypes by effect-allele count; ``alleles``: other and
    effect alleles of a diploid variant (:func:`diploid_counts_by_set`); ``hwe``: a cache of
    :func:`_hwe_one` by counts.
    """
    st = {s: int(c) for s, c in zip(CALL_STATUSES, status_counts, strict=True)}
    n_called = st["called"]
    row = {
        "n_samples": n_samples,
        "n_called": n_called,
        "call_rate": n_called / n_samples if n_samples else np.nan,
        "effect_allele": v.effect_allele,
        "other_allele": v.other_allele,
        # explicit 'missing' rows plus samples without a row for this variant
        "n_missing": n_samples - n_called - sum(st[s] for s in _COUNTED),
        "n_heteroplasmic": st["heteroplasmic"],
        "n_het_haploid": st["het_haploid"],
        "n_other_allele": st["other_allele"],
        "n_low_gp": st["low_gp"],
    }
    notes, flags, reasons = [], [], []
    labels = [v.genotype_names(k)[1] for k in range(len(counts))]
    row["genotype_counts"] = ";".join(f"{lab}={c}" for lab, c in zip(labels, counts, strict=True))
    if v.is_mt:
        row.update(n_hom_other=pd.NA, n_het=pd.NA, n_hom_effect=pd.NA, hwe_p=np.nan, hwe_midp=np.nan)
        row["n_carriers"] = counts[1]
        row["carrier_freq"] = counts[1] / n_called if n_called else np.nan
        row["effect_allele_freq"] = row["carrier_freq"]
        notes.append(NO_HWE_MT)
    else:
        h0, h1, h2 = counts
        row.update(n_hom_other=h0, n_het=h1, n_hom_effect=h2, n_carriers=pd.NA, carrier_freq=np.nan)
        row["effect_allele_freq"] = int(alleles[1]) / int(alleles.sum()) if n_called else np.nan
        if n_called:
            key = (h1, min(h0, h2), max(h0, h2))  # the test is symmetric in the homozygotes
            if key not in hwe:
                hwe[key] = _hwe_one(*key)
            row["hwe_p"], row["hwe_midp"] = hwe[key]
        else:
            row["hwe_p"], row["hwe_midp"] = np.nan, np.nan
        if apply_hwe and n_called and row["hwe_p"] < hwe_p:
            flags.append("hwe")
            reasons.append(_hwe_reason(row["hwe_p"], hwe_p))
    if n_samples == 0:
        notes.append("no samples in stratum")
    elif n_called == 0:
        notes.append("no called genotypes")
    elif row["effect_allele_freq"] in (0.0, 1.0):
        notes.append("monomorphic")
    if n_samples and row["call_rate"] < min_call_rate:
        flags.insert(0, "low_call_rate")
        reasons.insert(0, f"call rate {row['call_rate']:.4f} < {min_call_rate:g}")
    row.update(flag=";".join(flags), reason="; ".join(reasons), note="; ".join(notes))
    return row


def qc_variants(
    calls: pd.DataFrame,
    pheno: pd.DataFrame,
    panel: Panel,
    *,
    strata: list[str],
    binary_outcomes: list[str],
    min_call_rate: float,
    hwe_p: float,
    hwe_samples: str = "both",
    unavailable: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Per-variant QC in every stratum, and in the controls of every binary outcome.

    For each panel variant x stratum label (:func:`vdrbone.strata.strata_masks`) and
    subset (``all``, then ``controls:<outcome>`` = samples with outcome 0), the denominator
    ``n_samples`` is the number of phenotype samples in the stratum (a sample without a call
    row counts as missing). Diploid variants: genotype counts by effect-allele count
    (``n_hom_other``, ``n_het``, ``n_hom_effect``, and ``genotype_counts`` with literature
    labels in that order, e.g. ``TT=..;Tt=..;tt=..``), effect-allele frequency
    ``(n_het + 2 n_hom_effect) / (2 n_called)``, exact HWE p and mid-p (:func:`hwe_exact`).
    mtDNA: ``n_carriers``/``carrier_freq`` (= effect-allele frequency), no HWE (note).
    The ``all`` stratum is always included: it carries the verdict.

    ``flag`` lists ``low_call_rate`` (call_rate < min_call_rate) and ``hwe`` (hwe_p < hwe_p in
    a subset that ``hwe_samples`` applies, see :func:`hwe_subsets`; the HWE p-values of the
    other subsets are reported but flag nothing). The row of stratum ``all``, subset ``all`` is
    the variant's QC verdict: it also carries ``hwe`` when HWE fails in the controls (all
    strata) of any binary outcome under ``controls``/``both``, with the reason naming the
    outcome (``HWE exact p 2.1e-08 < 1e-06 in controls of fracture``), as PLINK ``--hwe``
    removes such a variant from the whole run. Flags never remove rows: with ``qc.action:
    exclude`` :func:`vdrbone.association.associate_outcome` excludes the variants flagged in
    that row from every outcome.

    A variant whose calls are all ``excluded`` (extraction could not give it) is flagged
    ``not_extracted`` with the reason from ``unavailable`` (variant id -> ``extraction.tsv``
    reason, e.g. ``not in the genotype files``); association then gives it rows with that reason.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`QC_VARIANT_COLUMNS`; rows in panel order, then subset, then stratum.
    """
    status = _check_calls(calls)
    if "sample" not in pheno.columns:
        raise ValueError("pheno lacks column 'sample'")
    col = label_positions(calls["variant"], panel.ids)
    if (col < 0).any():
        unknown = sorted(set(calls["variant"][col < 0]))
        raise ValueError(f"calls has variant(s) {unknown} not in the panel {panel.ids}")
    missing_outcomes = [o for o in binary_outcomes if o not in pheno.columns]
    if missing_outcomes:
        raise ValueError(f"binary outcome column(s) {missing_outcomes} not in pheno")
    masks = strata_masks(pheno, ["all", *strata])
    subsets = {"all": np.ones(len(pheno), dtype=bool)}
    for o in binary_outcomes:
        subsets[f"controls:{o}"] = (pheno[o] == 0).to_numpy(dtype=bool)
    applied = hwe_subsets(hwe_samples, binary_outcomes)
    # phenotyped samples x panel variants: effect count (NaN: not called) and status code
    # (len(CALL_STATUSES): no call row), so that each stratum x subset is one row selection
    pheno_row = label_positions(calls["sample"], pheno["sample"].astype(str), as_text=True)
    mine = pheno_row >= 0
    n, k, no_row = len(pheno), len(panel), len(CALL_STATUSES)
    effect_count = np.full((n, k), np.nan)
    effect_count[pheno_row[mine], col[mine]] = calls["effect_count"].to_numpy(dtype=float)[mine]
    codes = np.full((n, k), no_row, dtype=np.int16)
    codes[pheno_row[mine], col[mine]] = status[mine]
    called = codes == _CALLED
    for j, v in enumerate(panel):  # values a variant's ploidy cannot have
        allowed = (0, 1) if v.is_mt else (0, 1, 2)
        ec = effect_count[called[:, j], j]
        if not np.isin(ec, allowed).all():
            raise ValueError(
                f"{v.id}: effect_count values {sorted(set(ec) - set(allowed))} for ploidy {v.ploidy}"
            )
    sets = [
        (subset, label, mask & smask) for subset, smask in subsets.items() for label, mask in masks.items()
    ]
    chosen = np.array([m for _, _, m in sets]).reshape(len(sets), n)
    # samples by status (and no call row) and called genotypes by effect count, per set x variant
    by_status = np.zeros((len(sets), k, no_row + 1), dtype=np.int64)
    carriers = np.zeros((len(sets), k, 2), dtype=np.int64)  # mtDNA: non-carriers, carriers
    offset = (no_row + 1) * np.arange(k)
    mt = [j for j, v in enumerate(panel) if v.is_mt]
    for i, m in enumerate(chosen):
        by_status[i] = np.bincount((codes[m] + offset).ravel(), minlength=k * (no_row + 1)).reshape(k, -1)
        if mt:
            ec = effect_count[m][:, mt]
            carriers[i, mt] = np.stack([(ec == 0).sum(axis=0), (ec == 1).sum(axis=0)], axis=1)
    diploid = [j for j, v in enumerate(panel) if not v.is_mt]
    genotypes, alleles = diploid_counts_by_set(effect_count[:, diploid].T, chosen)
    unavailable = unavailable or {}
    hwe: dict = {}
    rows = []
    for j, v in enumerate(panel):
        present = codes[:, j] != no_row
        gone = v.id in unavailable or (
            present.any() and (codes[present, j] == CALL_STATUSES.index("excluded")).all()
        )
        why = unavailable.get(v.id) or "excluded at extraction (see extraction.tsv)"
        for i, (subset, label, _) in enumerate(sets):
            if v.is_mt:
                counts = [int(c) for c in carriers[i, j]]
                allele_counts = None
            else:
                counts = [int(c) for c in genotypes[diploid.index(j), i]]
                allele_counts = alleles[diploid.index(j), i]
            row = {"variant": v.id, "name": v.name, "stratum": label, "subset": subset}
            row.update(
                _variant_row(
                    v,
                    int(chosen[i].sum()),
                    by_status[i, j, :no_row],
                    counts,
                    allele_counts,
                    min_call_rate=min_call_rate,
                    hwe_p=hwe_p,
                    apply_hwe=subset in applied,
                    hwe=hwe,
                )
            )
            if gone:
                row.update(flag=NOT_EXTRACTED, reason=why, note="")
            rows.append(row)
    out = pd.DataFrame(rows, columns=QC_VARIANT_COLUMNS)
    _controls_verdict(out, [s for s in applied if s != "all"], hwe_p)
    for col in ("n_hom_other", "n_het", "n_hom_effect", "n_carriers"):
        out[col] = out[col].astype("Int64")
    return out


def _controls_verdict(table: pd.DataFrame, controls: list[str], hwe_p: float) -> None:
    """Carry HWE failures in the controls (stratum ``all``) into the verdict row, in place."""
    top = table["stratum"] == "all"
    for i in table.index[top & (table["subset"] == "all")]:
        variant = table.at[i, "variant"]
        failed = table[top & (table["variant"] == variant) & table["subset"].isin(controls)]
        failed = failed[failed["hwe_p"] < hwe_p]
        if failed.empty:
            continue
        flags = [f for f in str(table.at[i, "flag"]).split(";") if f]
        reasons = [r for r in str(table.at[i, "reason"]).split("; ") if r]
        reasons += [_hwe_reason(r.hwe_p, hwe_p, r.subset) for r in failed.itertuples()]
        table.at[i, "flag"] = ";".join(flags + ([] if "hwe" in flags else ["hwe"]))
        table.at[i, "reason"] = "; ".join(reasons)


# qc_test_missing.tsv: one row per binary outcome x variant x stratum (PLINK --test-missing).
TEST_MISSING_COLUMNS = [
    "outcome", "variant", "name", "stratum", "n_cases", "n_controls", "n_missing_cases",
    "n_missing_controls", "f_miss_cases", "f_miss_controls", "p_test_missing", "flag", "reason", "note",
]  # fmt: skip


def missingness_fisher(n_missing_cases, n_cases, n_missing_controls, n_controls) -> np.ndarray:
    """Two-sided Fisher exact p of missing genotype x case status (PLINK 1.9 ``--test-missing``).

    The 2 x 2 table is (missing, called) x (cases, controls); the p-value is that of R
    ``fisher.test`` (:func:`vdrbone.contingency.fisher_exact_2x2`), 1 when a margin is zero
    (nothing missing, or nothing called: PLINK leaves such a variant out of its ``.missing``
    table). Arrays broadcast; NaN where there are no cases or no controls.

    Parameters
    ----------
    n_missing_cases, n_cases, n_missing_controls, n_controls : array_like of int
        Missing genotypes among the cases (controls) and the cases (controls) with the outcome
        observed; ``0 <= n_missing <= n``.
    """
    mc, nc, mk, nk = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (n_missing_cases, n_cases, n_missing_controls, n_controls))
    )
    bad = (mc < 0) | (mk < 0) | (mc > nc) | (mk > nk)
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        raise ValueError(
            "missingness_fisher: need 0 <= n_missing <= n, got cases "
            f"{mc.ravel()[i]:g}/{nc.ravel()[i]:g}, controls {mk.ravel()[i]:g}/{nk.ravel()[i]:g} at {i}"
        )
    out = np.full(mc.shape, np.nan)
    cache: dict[tuple[int, int, int, int], float] = {}
    for idx in np.ndindex(mc.shape):
        if nc[idx] == 0 or nk[idx] == 0:
            continue
        key = (int(mc[idx]), int(nc[idx] - mc[idx]), int(mk[idx]), int(nk[idx] - mk[idx]))
        if key not in cache:
            cache[key] = fisher_exact_2x2([[key[0], key[2]], [key[1], key[3]]])
        out[idx] = cache[key]
    return out


def qc_test_missing(
    calls: pd.DataFrame,
    pheno: pd.DataFrame,
    panel: Panel,
    *,
    strata: list[str],
    binary_outcomes: list[str],
    p_threshold: float | None = 1e-5,
    unavailable: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Differential missingness: missing genotype vs case status, per outcome, variant and stratum.

    PLINK 1.9 ``--test-missing`` (Fisher exact test, :func:`missingness_fisher`) for every binary
    outcome, in every stratum label (:func:`vdrbone.phenotypes.strata_masks`). The samples are
    those of the stratum with the outcome observed (cases 1, controls 0); a genotype is missing
    when it is not ``called`` (missing, heteroplasmic, het-haploid, other allele, low GP, other
    ploidy) or the sample has no call row, as in ``call_rate`` of :func:`qc_variants`.
    ``f_miss_cases`` / ``f_miss_controls`` are PLINK's F_MISS_A / F_MISS_U.

    ``flag`` is ``test_missing`` (reason ``test-missing p 3.1e-06 < 1e-05``) where
    ``p_test_missing < p_threshold`` (config ``qc.test_missing_p``; None: nothing is flagged).
    Rows of every stratum are flagged; only stratum ``all`` reaches the variant's QC verdict
    (:func:`add_test_missing_verdict`). Variants extraction could not give get a row with the
    reason (``note``) and no test; no cases or no controls give a NaN p with a note.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TEST_MISSING_COLUMNS`; rows by outcome, then panel order, then stratum.
    """
    status = _check_calls(calls)
    missing_outcomes = [o for o in binary_outcomes if o not in pheno.columns]
    if missing_outcomes:
        raise ValueError(f"binary outcome column(s) {missing_outcomes} not in pheno")
    if p_threshold is not None and not 0 <= p_threshold <= 1:
        raise ValueError(f"p_threshold must lie in [0, 1], got {p_threshold}")
    samples = pheno["sample"].astype(str)
    masks = strata_masks(pheno, ["all", *strata])
    # samples x variants: True where called
    rows_i = label_positions(calls["sample"], samples, as_text=True)
    cols_j = label_positions(calls["variant"], panel.ids, as_text=True)
    keep = (status == _CALLED) & (rows_i >= 0) & (cols_j >= 0)
    is_called = np.zeros((len(samples), len(panel.ids)), dtype=bool)
    is_called[rows_i[keep], cols_j[keep]] = True
    # variants whose every call row (any sample) is 'excluded'
    variant = label_positions(calls["variant"], panel.ids)
    n_rows = np.bincount(variant[variant >= 0], minlength=len(panel))
    is_excluded = status == CALL_STATUSES.index("excluded")
    n_excluded = np.bincount(variant[(variant >= 0) & is_excluded], minlength=len(panel))
    excluded = (n_rows > 0) & (n_excluded == n_rows)
    unavailable = unavailable or {}
    out = []
    for outcome in binary_outcomes:
        y = pd.to_numeric(pheno[outcome], errors="coerce").to_numpy(dtype=float)
        bad = np.isfinite(y) & (y != 0) & (y != 1)
        if bad.any():
            raise ValueError(
                f"binary outcome {outcome!r}: values other than 0/1: {sorted(set(y[bad].tolist()))[:5]}"
            )
        # per stratum: cases and controls, and those of them missing each variant
        tallies = {}
        for label, mask in masks.items():
            case, ctrl = mask & (y == 1), mask & (y == 0)
            nc, nk = int(case.sum()), int(ctrl.sum())
            tallies[label] = (nc, nk, nc - is_called[case].sum(axis=0), nk - is_called[ctrl].sum(axis=0))
        for j, v in enumerate(panel):
            gone = v.id in unavailable or bool(excluded[j])
            for label in masks:
                nc, nk, mc, mk = tallies[label]
                mc, mk = int(mc[j]), int(mk[j])
                row = {"outcome": outcome, "variant": v.id, "name": v.name, "stratum": label,
                       "n_cases": nc, "n_controls": nk, "n_missing_cases": mc, "n_missing_controls": mk,
                       "f_miss_cases": mc / nc if nc else np.nan,
                       "f_miss_controls": mk / nk if nk else np.nan,
                       "p_test_missing": np.nan, "flag": "", "reason": "", "note": ""}  # fmt: skip
                if gone:
                    row["note"] = unavailable.get(v.id) or "excluded at extraction (see extraction.tsv)"
                elif nc == 0 or nk == 0:
                    row["note"] = "no cases" if nc == 0 else "no controls"
                else:
                    p = float(missingness_fisher(mc, nc, mk, nk))
                    row["p_test_missing"] = p
                    if p_threshold is not None and p < p_threshold:
                        row.update(flag=TEST_MISSING, reason=_test_missing_reason(p, p_threshold))
                out.append(row)
    return pd.DataFrame(out, columns=TEST_MISSING_COLUMNS)


def _test_missing_reason(p: float, threshold: float) -> str:
    return f"test-missing p {p:.3g} < {threshold:g}"


def add_test_missing_verdict(variants: pd.DataFrame, test_missing: pd.DataFrame) -> pd.DataFrame:
    """``qc_variants`` with the ``test_missing`` flag carried into each variant's verdict row.

    A variant flagged by :func:`qc_test_missing` in stratum ``all`` for any binary outcome gets
    flag ``test_missing`` on its row of stratum ``all``, subset ``all``, with a reason naming the
    outcome (``test-missing p 3.1e-06 < 1e-05 for fracture``), so that ``qc.action: exclude``
    removes it from every outcome, as a PLINK user would drop it after ``--test-missing``.
    Within-stratum flags stay in ``qc_test_missing.tsv`` (descriptive, like HWE within strata).
    """
    out = variants.copy()
    hit = test_missing[(test_missing["stratum"] == "all") & (test_missing["flag"] == TEST_MISSING)]
    verdict = (out["stratum"] == "all") & (out["subset"] == "all")
    for i in out.index[verdict]:
        failed = hit[hit["variant"] == out.at[i, "variant"]]
        if failed.empty or out.at[i, "flag"] == NOT_EXTRACTED:
            continue
        flags = [
            f for f in str(out.at[i, "flag"] if isinstance(out.at[i, "flag"], str) else "").split(";") if f
        ]
        reasons = [
            r
            for r in str(out.at[i, "reason"] if isinstance(out.at[i, "reason"], str) else "").split("; ")
            if r
        ]
        reasons += [f"{r.reason} for {r.outcome}" for r in failed.itertuples()]
        out.at[i, "flag"] = ";".join([*flags, TEST_MISSING])
        out.at[i, "reason"] = "; ".join(reasons)
    return out


def qc_samples(
    calls: pd.DataFrame, *, max_missing_rate: float | None = None, min_call_rate: float | None = None
) -> pd.DataFrame:
    """Per-sample call summary (PLINK ``--missing`` .imiss analogue).

    ``n_variants`` is the number of distinct variants in ``calls`` with calls (rows with status
    ``excluded``, variants extraction could not give, are left out; a variant without a row for
    a sample counts as missing for it); ``missing_rate = 1 - n_called / n_variants``.
    ``status``: ``no_calls`` (nothing called), ``high_missing`` (missing_rate >
    ``max_missing_rate``, when given, as PLINK ``--mind``), ``low_call_rate`` (call rate
    ``n_called / n_variants`` below ``min_call_rate``, config ``qc.min_sample_call_rate``) or
    ``ok``. Every status but ``ok`` excludes the sample from the analyses
    (:func:`analysed_samples`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`QC_SAMPLE_COLUMNS`, one row per sample in order of first appearance.
    """
    status = _check_calls(calls)
    if max_missing_rate is not None and not 0 <= max_missing_rate <= 1:
        raise ValueError(f"max_missing_rate must lie in [0, 1], got {max_missing_rate}")
    if min_call_rate is not None and not 0 <= min_call_rate <= 1:
        raise ValueError(f"min_call_rate must lie in [0, 1], got {min_call_rate}")
    kept = status != CALL_STATUSES.index("excluded")  # variants extraction could not give
    status = status[kept]
    n_variants = int(calls["variant"][kept].nunique())
    # samples (in order of first appearance) x CALL_STATUSES counts
    codes, order = pd.factorize(calls["sample"][kept])
    k = len(CALL_STATUSES)
    counts = np.bincount(codes * k + status, minlength=len(order) * k).reshape(len(order), k)
    tab = pd.DataFrame(counts, columns=list(CALL_STATUSES))
    order = np.asarray(order, dtype=object)
    n_called = tab["called"].to_numpy()
    out = pd.DataFrame(
        {
            "sample": order.astype(str) if len(order) else np.array([], dtype=str),
            "n_variants": n_variants,
            "n_called": n_called,
            "missing_rate": 1 - n_called / n_variants if n_variants else np.nan,
            "n_missing": n_variants
            - n_called
            - tab[["heteroplasmic", "het_haploid", "other_allele", "low_gp"]].sum(axis=1).to_numpy(),
            "n_heteroplasmic": tab["heteroplasmic"].to_numpy(),
            "n_het_haploid": tab["het_haploid"].to_numpy(),
            "n_other_allele": tab["other_allele"].to_numpy(),
            "n_low_gp": tab["low_gp"].to_numpy(),
        }
    )
    status = np.where(out["n_called"] == 0, "no_calls", "ok")
    if max_missing_rate is not None:
        status = np.where((status == "ok") & (out["missing_rate"] > max_missing_rate), "high_missing", status)
    if min_call_rate is not None and n_variants:
        low = out["n_called"].to_numpy() / n_variants < min_call_rate
        status = np.where((status == "ok") & low, "low_call_rate", status)
    out["status"] = status
    return out[QC_SAMPLE_COLUMNS]


def analysed_samples(pheno: pd.DataFrame, samples: pd.DataFrame) -> pd.DataFrame:
    """The phenotype rows of the samples that pass sample QC (``status`` ``ok`` in
    :func:`qc_samples`); a phenotyped sample without calls is excluded as ``no_calls``."""
    ok = samples.loc[samples["status"] == "ok", "sample"].astype(str)  # (a Series: isin of a set is slow)
    return pheno[pheno["sample"].astype(str).isin(ok)].reset_index(drop=True)


def qc_samples_summary(samples: pd.DataFrame, *, min_call_rate: float | None = None) -> pd.DataFrame:
    """Aggregate per-sample missingness for shareable outputs (no sample ids).

    One row per measure: number of samples, samples with every panel call, with at least one
    missing call, with no call at all, and the mean, median and maximum missing rate; with
    ``min_call_rate`` (config ``qc.min_sample_call_rate``) also the threshold, the samples below
    it (``n_low_call_rate``) and those analysed (``n_analysed``, status ``ok``).
    """
    rate = samples["missing_rate"].astype(float)
    rows = [
        ("n_samples", len(samples)),
        ("n_complete", int((rate == 0).sum())),
        ("n_any_missing", int((rate > 0).sum())),
        ("n_no_calls", int((samples["n_called"] == 0).sum())),
        ("mean_missing_rate", float(rate.mean()) if len(rate) else float("nan")),
        ("median_missing_rate", float(rate.median()) if len(rate) else float("nan")),
        ("max_missing_rate", float(rate.max()) if len(rate) else float("nan")),
    ]
    if min_call_rate is not None:
        rows += [
            ("min_sample_call_rate", float(min_call_rate)),
            ("n_low_call_rate", int((samples["status"] == "low_call_rate").sum())),
            ("n_analysed", int((samples["status"] == "ok").sum())),
        ]
    return pd.DataFrame(rows, columns=["measure", "value"])
