"""SNP x SNP interaction over the panel (SNPassoc ``interactionPval``): the pair table.

For one outcome, every pair of panel variants (VDR x VDR and VDR x mtDNA carrier; two mtDNA
variants lie on one maternally inherited molecule and are not paired) is tested in every
configured stratum with :func:`vdrbone.regression.snp_interaction_test`: the likelihood-ratio
(logistic) or F (linear) test of the product term(s) given both main effects and the covariates
of the single-variant models. The rows form ``tables/epistasis.tsv``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vdrbone import multiple_testing, regression
from vdrbone.association import (
    StratumCovariates,
    _qc_exclusions,
    covariate_values,
    genotype_matrix,
    join_notes,
    mt_too_few,
)
from vdrbone.panel import Panel
from vdrbone.phenotypes import outcome_kind
from vdrbone.results import EPISTASIS_COLUMNS, TestResult
from vdrbone.settings import Settings
from vdrbone.strata import strata_masks


def variant_pairs(panel: Panel) -> list[tuple[int, int]]:
    """Index pairs (i < j, panel order) of the tested pairs: any pair with a diploid variant."""
    vs = list(panel)
    return [
        (i, j)
        for i in range(len(vs))
        for j in range(i + 1, len(vs))
        if vs[i].ploidy == 2 or vs[j].ploidy == 2
    ]


def epistasis_outcome(
    calls: pd.DataFrame,
    pheno: pd.DataFrame,
    panel: Panel,
    *,
    outcome: str,
    settings: Settings,
    qc: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """SNP x SNP interaction rows of ``outcome`` for every variant pair and stratum.

    Genotypes are the hard calls (effect-allele counts; mtDNA carrier 0/1), one product term,
    1 df (``coding`` ``additive x additive``), as ``interactionPval(model = "log-additive")``;
    SNPassoc's default codominant coding (up to 4 df) is not offered: in an LD block most of its
    genotype cells are empty or sparse. Covariates as the genetic models of
    :func:`vdrbone.association.associate_outcome` (configured covariates, sex and T2DM where the
    stratum does not fix them, degenerate ones dropped); samples need the outcome, both genotypes
    and every covariate (complete cases).
    Variants excluded by QC (see :func:`vdrbone.association._qc_exclusions`) give rows with the
    reason. A VDR x mtDNA pair follows the mtDNA rule of the single-variant models
    (:func:`vdrbone.association.mt_too_few`): with fewer than ``association.mt_min_carriers``
    carriers, or (binary) ``association.mt_min_carrier_cases`` carrier cases, in the model's sample
    the product term, estimated from the carriers alone, gets no estimate and the row the reason.
    ``p_bonferroni`` and ``q_value`` (Benjamini-Hochberg) adjust over all estimable rows
    of the outcome (pairs x strata); the pair table is its own family, apart from association.tsv.

    Binary outcomes include derived WHO classes; time-to-event outcomes are not tested (a
    ``ValueError``; the rule leaves them out and logs it).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EPISTASIS_COLUMNS`; rows by stratum, then pair in panel order.
    """
    outcome_type = outcome_kind(settings.outcome(outcome))
    if outcome_type == "time_to_event":
        raise ValueError(
            f"epistasis_outcome: {outcome!r} is a time-to-event outcome; only binary and continuous"
        )
    min_n = int(settings.association.min_stratum_n)
    min_cases = int(settings.association.min_cases)
    tol = float(settings.association.collinearity_tolerance)
    vs = list(panel)
    samples = list(pheno["sample"].astype(str))
    G = genotype_matrix(calls, samples, [v.id for v in vs], "effect_count")
    y = pheno[outcome].to_numpy(dtype=float)
    base_covs = settings.model_covariates
    cov_values = covariate_values(pheno, base_covs)
    masks = strata_masks(pheno, list(settings.strata))
    excluded = _qc_exclusions(qc, action=settings.qc.action)
    mt_min = (int(settings.association.mt_min_carriers), int(settings.association.mt_min_carrier_cases))
    binary = outcome_type == "binary"
    pairs = variant_pairs(panel)
    columns = np.ascontiguousarray(G.T)  # a variant's calls contiguous
    called = np.isfinite(columns)
    rows = []
    for stratum, mask in masks.items():
        covariates = StratumCovariates(
            stratum, mask, y=y, cov_values=cov_values, base_covs=base_covs, tol=tol, min_n=min_n
        )
        in_stratum = columns[:, mask]  # variants x stratum members
        in_stratum.flags.writeable = False
        for i, j in pairs:
            a, b = vs[i], vs[j]
            row = {
                "outcome": outcome, "stratum": stratum, "variant1": a.id, "name1": a.name,
                "effect_allele1": a.effect_allele, "variant2": b.id, "name2": b.name,
                "effect_allele2": b.effect_allele, "coding": "additive x additive",
            }  # fmt: skip
            gone = [f"{v.id} {excluded[v.id]}" for v in (a, b) if v.id in excluded]
            if gone:
                rows.append({**row, "n": 0, "note": "; ".join(gone)})
                continue
            y_reg, C, design = covariates(called[i] & called[j])
            g1, g2 = in_stratum[i], in_stratum[j]
            res = None
            if 1 in (a.ploidy, b.ploidy):  # the product term is estimated from the mtDNA carriers only
                keep = np.isfinite(y_reg) & np.isfinite(g1) & np.isfinite(g2) & np.isfinite(C).all(axis=1)
                y_k = y_reg[keep]
                too_few = mt_too_few((g2 if b.ploidy == 1 else g1)[keep], y_k if binary else None, *mt_min)
                if too_few and not regression.sample_checks(
                    y_k, binary, int(keep.sum()), 5 + C.shape[1], min_n, min_cases
                ):
                    res = TestResult(
                        model="snp_interaction",
                        term="g1_x_g2",
                        note=too_few,
                        **regression.sample_counts(y_k, binary),
                    )
            if res is None:
                res = regression.snp_interaction_test(
                    y_reg,
                    g1,
                    g2,
                    C,
                    outcome_type=outcome_type,
                    ploidy1=a.ploidy,
                    ploidy2=b.ploidy,
                    covariate_names=design.names,
                    variant_names=(a.id, b.id),
                    min_n=min_n,
                    min_cases=min_cases,
                )
            out = res.row()
            out.pop("model")
            out.pop("term")
            out["df_denominator"] = out.pop("df_residual", np.nan)
            out["note"] = join_notes(res.note, design.note)
            out["covariates"] = "+".join(design.names)
            rows.append({**row, **{k: v for k, v in out.items() if k in EPISTASIS_COLUMNS}})
    table = pd.DataFrame(rows, columns=EPISTASIS_COLUMNS)
    ok = np.isfinite(table["p_value"].astype(float))
    if ok.any():
        p = table.loc[ok, "p_value"].to_numpy(float)
        table.loc[ok, "p_bonferroni"] = multiple_testing.adjust(p, "bonferroni")
        table.loc[ok, "q_value"] = multiple_testing.adjust(p, "bh")
    if outcome_type != "binary":
        table["n_cases"] = table["n_controls"] = np.nan
    for col in ("n", "n_cases", "n_controls"):
        table[col] = pd.to_numeric(table[col]).round().astype("Int64")
    return table
