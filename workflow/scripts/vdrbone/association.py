"""Association of the panel with one outcome, over variants and strata: the association table.

For every variant x stratum this assembles, for a binary outcome, the allelic test (Pearson
chi-square, Fisher exact, allelic OR with Woolf CI), the genotypic 2x3 tests (chi-square, Fisher
exact), the Cochran-Armitage trend test and the five SNPassoc genetic models (logistic, OR); for a
continuous outcome, ANOVA and Kruskal-Wallis by genotype and the five genetic models (linear,
beta) and, for binary outcomes, the MAX3 test over the dominant, recessive and additive trend
tests (:mod:`vdrbone.maxstat`). mtDNA variants get the carrier model (and Fisher's exact test
for binary outcomes).
Interaction tests (SNP x T2DM in ``all`` and the sex strata, SNP x sex in ``all`` and the T2DM
strata), Mantel-Haenszel pooled allelic ORs with the Breslow-Day test across the T2DM and the sex
strata, the multiple-testing families of :mod:`vdrbone.families` (primary and exploratory) with
the PLINK ``--adjust`` set (Bonferroni, Holm, Sidak, Benjamini-Hochberg and -Yekutieli) within
each, and delta-AIC between the genetic models complete the table. mtDNA strata with too few
carriers (``association.mt_min_carriers``) or carrier cases (``association.mt_min_carrier_cases``)
get counts and the exact test but no regression estimate; tests whose designs are identical
(aliased) are kept once. The descriptive tables give counts both for everyone with genotype and
outcome (``sample = descriptive``) and for the regression models' own complete-case sample
(``sample = model``); ``participant_flow`` follows each stratum from the analysed samples to
each model's n.
The statistics live in :mod:`vdrbone.contingency` and :mod:`vdrbone.regression`; this module
only selects samples, counts, labels rows and adjusts p-values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vdrbone import contingency, families, interactions, maxstat, power, regression, survival
from vdrbone.families import adjust_pvalues
from vdrbone.flow import FLOW_COLUMNS, stratum_flow, variant_flow
from vdrbone.panel import Panel, PanelVariant
from vdrbone.phenotypes import entry_column, outcome_kind, time_column
from vdrbone.qc import NOT_EXTRACTED, label_positions
from vdrbone.results import ASSOCIATION_COLUMNS, TestResult
from vdrbone.settings import Settings
from vdrbone.strata import POOLED_STRATA, strata_masks, stratum_interactions, varying_factors

# Tests that enter a multiple-testing family (primary or exploratory; see vdrbone.families).
# Exact-test twins of a family test (Fisher), the unadjusted descriptive tests of BMD (ANOVA,
# Kruskal-Wallis), the Breslow-Day homogeneity test and MAX3 (itself the max over three family
# members, its p already corrected for the choice of model) are reported with unadjusted p-values only.
PRIMARY_MODELS = families.FAMILY_MODELS
# ``sample``: descriptive (everyone in the stratum with genotype and outcome: the contingency
# tests' sample) or model (the genetic models' complete cases: outcome, hard-call genotype and
# every covariate; the sample behind n, n_cases and n_controls of the regression rows).
SAMPLES = ("descriptive", "model")
GENOTYPE_COUNT_COLUMNS = [
    "outcome", "variant", "name", "stratum", "sample", "effect_count", "genotype", "rflp",
    "n_cases", "freq_cases", "n_controls", "freq_controls", "n", "freq",
]  # fmt: skip
KM_TABLE_COLUMNS = [
    "outcome",
    "variant",
    "name",
    "stratum",
    "effect_count",
    "genotype",
    "rflp",
    *survival.KM_COLUMNS,
]
BMD_COLUMNS = [
    "outcome", "variant", "name", "stratum", "sample", "effect_count", "genotype", "rflp",
    "n", "mean", "sd", "median",
]  # fmt: skip
# The columns of the call table that associate_outcome reads (dosage where present).
CALL_COLUMNS = ["sample", "variant", "effect_count", "dosage"]
MT_MIN_CARRIERS = 5
MT_MIN_CARRIER_CASES = 1
ALIAS_TOL = 1e-7
# covariate_design.tsv: one row per outcome x stratum x covariate dropped from the models.
DESIGN_COLUMNS = ["outcome", "stratum", "covariate", "action", "reason", "variants"]


@dataclass
class OutcomeResult:
    """The tables of one outcome: tests and estimates, the two descriptive tables, and the
    covariates dropped from the models (:data:`DESIGN_COLUMNS`)."""

    association: pd.DataFrame
    genotype_counts: pd.DataFrame
    bmd_by_genotype: pd.DataFrame
    covariate_design: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DESIGN_COLUMNS))
    flow: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FLOW_COLUMNS))
    kaplan_meier: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=KM_TABLE_COLUMNS))
    power: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=power.POWER_COLUMNS))


def genotype_matrix(calls: pd.DataFrame, samples: list[str], variants: list[str], column: str) -> np.ndarray:
    """Samples x variants float matrix of ``column`` from the long call table (NaN: no call).

    Rows of ``calls`` for samples or variants not asked for are ignored; a (sample, variant)
    pair must appear at most once.
    """
    return genotype_matrices(calls, samples, variants, [column])[column]


def genotype_matrices(
    calls: pd.DataFrame, samples: list[str], variants: list[str], columns: list[str]
) -> dict[str, np.ndarray]:
    """:func:`genotype_matrix` of each of ``columns``, locating the samples and variants once."""
    rows = label_positions(calls["sample"], samples, as_text=True)
    cols = label_positions(calls["variant"], variants, as_text=True)
    keep = (rows >= 0) & (cols >= 0)
    ri, ci = rows[keep], cols[keep]
    # each cell once: a count table of the cells (no larger than the matrices built below)
    if ri.size and np.bincount(ri.astype(np.int64) * len(variants) + ci).max() > 1:
        raise ValueError("genotype_matrix: a (sample, variant) pair appears more than once in the call table")
    out = {}
    for column in columns:
        m = np.full((len(samples), len(variants)), np.nan)
        m[ri, ci] = pd.to_numeric(calls[column], errors="coerce").to_numpy(dtype=float)[keep]
        out[column] = m
    return out


def reference_label(v: PanelVariant, model: str) -> str:
    """The reference genotype or group of a model, nucleotides with literature letters."""
    if v.ploidy == 1:
        nuc, lab = v.genotype_names(0)
        return f"{nuc} (non-carrier)"

    def names(k):
        nuc, lab = v.genotype_names(k)
        return nuc if nuc == lab else f"{nuc} ({lab})"

    if model in ("allelic", "allelic_fisher", "mantel_haenszel", "breslow_day"):
        o = v.other_allele
        return o if v.label(o) == o else f"{o} ({v.label(o)})"
    if model == "recessive":
        return f"{names(0)} + {names(1)}"
    if model == "overdominant":
        return f"{names(0)} + {names(2)}"
    return names(0)


def _counts(g: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(g.astype(np.int64), minlength=size)[:size]


def add_delta_aic(table: pd.DataFrame) -> pd.DataFrame:
    """``delta_aic``: AIC minus the smallest AIC among the genetic models fitted on the same
    samples (same outcome, variant, stratum and ``n``): 0 for the best-fitting model; models
    within about 2 of it are not distinguished by the data (Burnham & Anderson 2002). NaN where
    the row has no AIC (Firth rows, tests)."""
    out = table.copy()
    aic = pd.to_numeric(out["aic"], errors="coerce").astype(float)
    genetic = out["model"].isin(families.GENETIC_MODELS) & np.isfinite(aic)
    keys = ["outcome", "variant", "stratum", "n"]
    best = aic[genetic].groupby([out.loc[genetic, k] for k in keys]).transform("min")
    out["delta_aic"] = np.nan
    out.loc[genetic, "delta_aic"] = aic[genetic] - best
    return out


class _Rows:
    """Collects TestResults as association rows with their labels."""

    def __init__(self, outcome: str):
        self.outcome = outcome
        self.rows: list[dict] = []

    def add(self, v: PanelVariant, stratum: str, result: TestResult, *, covariates: str = "", reference=None):
        row = result.row()
        # The F tests' denominator df (linear models: residual df; ANOVA: n - groups).
        row["df_denominator"] = row.get("df_residual", row.get("df_denominator", np.nan))
        row.update(
            variant=v.id,
            name=v.name,
            outcome=self.outcome,
            stratum=stratum,
            effect_allele=v.effect_allele,
            other_allele=v.other_allele,
            reference=reference if reference is not None else reference_label(v, result.model),
            covariates=covariates,
        )
        self.rows.append(row)

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows)
        for col in ASSOCIATION_COLUMNS:
            if col not in df:
                df[col] = np.nan
        for col in ("n", "n_cases", "n_controls"):
            df[col] = pd.to_numeric(df[col]).round().astype("Int64")
        return df[ASSOCIATION_COLUMNS]


def _not_estimable(models_terms, note: str, **fields) -> list[TestResult]:
    return [TestResult(model=m, term=t, note=note, **fields) for m, t in models_terms]


def associate_outcome(
    calls: pd.DataFrame,
    pheno: pd.DataFrame,
    panel: Panel,
    *,
    outcome: str,
    settings: Settings,
    qc: pd.DataFrame | None = None,
) -> OutcomeResult:
    """All association tests of ``outcome`` for every panel variant and configured stratum.

    Parameters
    ----------
    calls : long call table (sample, variant, effect_count, dosage, status, ...) from extraction.
    pheno : coded phenotypes (sample, sex, t2dm, outcome and covariate columns), one row per
        analysed sample.
    panel : the analysed variants.
    outcome : key of ``settings.outcomes``.
    settings : the run's settings (outcomes, covariates, strata, genotypes.use_dosage,
        qc.action, association.min_stratum_n and min_cases).
    qc : ``qc_variants.tsv``; variants extraction could not give (flag ``not_extracted``) and,
        with ``qc.action: exclude``, variants flagged in all samples get rows with the reason
        (``note``) instead of tests.

    Missing data: each test uses the samples of the stratum with the outcome and the genotype
    called; regression models additionally need every covariate (complete cases; ``n`` says how
    many). Sex and T2DM are added as covariates where the stratum does not fix them.

    Degenerate covariates: before fitting, the covariate design of every variant x stratum is
    checked on its analysable samples (:func:`stratum_design`); a covariate constant there or
    collinear with earlier ones (``association.collinearity_tolerance``) is left out of that
    stratum's genetic and interaction models, as R ``lm`` / ``glm`` alias it. The rows'
    ``covariates`` column lists what was adjusted for and their ``note`` says what was dropped
    (``covariate dropped: bmi (constant in this stratum)``); ``covariate_design`` lists each drop
    once per stratum.
    """
    spec = settings.outcome(outcome)
    outcome_type = outcome_kind(spec)
    tte = outcome_type == "time_to_event"
    binary = outcome_type != "continuous"  # counts by case (event) status
    min_n = int(settings.association.min_stratum_n)
    min_cases = int(settings.association.min_cases)
    mt_min = (int(settings.association.mt_min_carriers), int(settings.association.mt_min_carrier_cases))
    use_dosage = settings.genotypes.use_dosage
    with_max3 = bool(settings.association.max3)
    tol = float(settings.association.collinearity_tolerance)

    samples = list(pheno["sample"].astype(str))
    ids = [v.id for v in panel]
    coded = genotype_matrices(
        calls, samples, ids, ["effect_count", "dosage"] if "dosage" in calls else ["effect_count"]
    )
    G = coded["effect_count"]
    D = coded["dosage"] if "dosage" in calls else np.full_like(G, np.nan)
    y = pheno[outcome].to_numpy(dtype=float)
    follow_up = _follow_up(pheno, outcome) if tte else None
    if tte:  # a Cox model needs the follow-up time: without it the outcome counts as missing
        y = np.where(np.isfinite(follow_up[0]), y, np.nan)
    base_covs = settings.model_covariates
    cov_values = covariate_values(pheno, base_covs)
    sex = pheno["sex"].astype(object)
    female = np.where(sex.isna(), np.nan, (sex == "female").to_numpy(dtype=float))
    masks = strata_masks(pheno, list(settings.strata))
    excluded = _qc_exclusions(qc, action=settings.qc.action)
    base_ok = covariates_complete(cov_values, base_covs)

    modifiers = modifier_values(pheno, settings.interactions)
    rows = _Rows(outcome)
    power_inputs: list[tuple] = []
    dropped = DesignLog(outcome)
    flow: list[dict] = []
    counts_rows: list[dict] = []
    bmd_rows: list[dict] = []
    levels: dict = {}
    for stratum, mask in masks.items():
        flow += stratum_flow(outcome, stratum, mask, pheno, y, cache=levels)
    # each covariate's values in each stratum, selected once for all variants
    in_stratum = {stratum: {c: x[mask] for c, x in cov_values.items()} for stratum, mask in masks.items()}
    for j, v in enumerate(panel):
        g_all = G[:, j]
        dosage_all = D[:, j] if use_dosage and v.ploidy == 2 and np.isfinite(D[:, j]).any() else None
        called = np.isfinite(g_all) if dosage_all is None else np.isfinite(g_all) | np.isfinite(dosage_all)
        for stratum, mask in masks.items():
            # Sex / T2DM enter where they vary among the samples the models can use.
            analysable = mask & np.isfinite(y) & called & base_ok
            cov_names = base_covs + varying_factors(stratum, analysable, cov_values)
            flow += variant_flow(
                outcome, stratum, v.id, mask & np.isfinite(y), g_all, cov_values, cov_names,
                excluded=excluded.get(v.id, ""),
            )  # fmt: skip
            if v.id in excluded:
                _excluded_rows(rows, v, stratum, binary and not tte, excluded[v.id], max3=with_max3, tte=tte)
                continue
            # the models' complete cases cover every covariate, dropped ones included (as R)
            cov_s = in_stratum[stratum]
            y_reg = y[mask].copy()
            for c in cov_names:
                y_reg[~np.isfinite(cov_s[c])] = np.nan
            design = stratum_design(cov_values, cov_names, analysable, tol=tol, min_n=min_n)
            dropped.add(stratum, v.id, design)
            cov_names = design.names
            cov_label = "+".join(cov_names)
            y_s, g_s = y[mask], g_all[mask]
            ok = np.isfinite(y_s) & np.isfinite(g_s)
            in_model = np.isfinite(y_reg) & np.isfinite(g_s)  # the hard-call genetic models' sample
            n_ok = int(ok.sum())
            _descriptives(counts_rows, bmd_rows, v, outcome, stratum, y_s[ok], g_s[ok], binary, "descriptive")
            _descriptives(
                counts_rows, bmd_rows, v, outcome, stratum, y_s[in_model], g_s[in_model], binary, "model"
            )
            small = f"too few samples (n={n_ok} < min_stratum_n={min_n})" if n_ok < min_n else ""
            counts = {"n": n_ok}
            if binary:
                counts.update(n_cases=int((y_s[ok] == 1).sum()), n_controls=int((y_s[ok] == 0).sum()))
            if not tte:
                for res in _unadjusted_tests(v, y_s[ok], g_s[ok], binary, small, counts, max3=with_max3):
                    rows.add(v, stratum, res)
            C = np.column_stack([cov_s[c] for c in cov_names]) if cov_names else np.empty((mask.sum(), 0))
            power_inputs.append((v, stratum, y_reg[in_model], g_s[in_model]))
            too_few = (
                mt_too_few(g_s[in_model], y_s[in_model] if binary else None, *mt_min) if v.ploidy == 1 else ""
            )
            factor = None  # the R factor shared by the genetic models and the alias check
            if tte:
                time_s, entry_s = (None if a is None else a[mask] for a in follow_up)
                genetic = survival.cox_genetic_models(
                    time_s,
                    y_reg,
                    g_s,
                    C,
                    entry=entry_s,
                    ploidy=v.ploidy,
                    dosage=None if dosage_all is None else dosage_all[mask],
                    covariate_names=cov_names,
                    min_n=min_n,
                    min_events=min_cases,
                )
            else:
                # diploid: one QR of [1, C, het, hom] (linear: and y) on the models' samples
                # serves the genetic models' rank checks (linear: their fits) and the alias check
                if v.ploidy == 2 and not too_few:
                    g_in = g_s[in_model]
                    cols = [
                        np.ones(g_in.size),
                        C[in_model],
                        (g_in == 1).astype(float),
                        (g_in == 2).astype(float),
                    ]
                    factor = np.linalg.qr(
                        np.column_stack(cols if binary else [*cols, y_reg[in_model]]), mode="r"
                    )
                # with too few mtDNA carriers the fitted rows are replaced below: checks only
                genetic = regression.genetic_models(
                    y_reg,
                    g_s,
                    C,
                    outcome_type=outcome_type,
                    ploidy=v.ploidy,
                    dosage=None if dosage_all is None else dosage_all[mask],
                    covariate_names=cov_names,
                    min_n=min_n,
                    min_cases=min_cases,
                    checks_only=bool(too_few),
                    factor=factor,
                )
                time_s = entry_s = None
            if too_few and not _data_reason(genetic[0].note):
                model_counts = _sample_counts(y_s[in_model], binary)
                genetic = _not_estimable(regression.GENETIC_MODEL_TERMS[1], too_few, **model_counts)
            if v.ploidy == 2 and factor is not None:
                p0 = 1 + C.shape[1]  # R of [1, C, het, hom]: the leading block of the factor
                mark_aliased_models(
                    genetic, g_s[in_model], None, dosage=dosage_all is not None, r=factor[: p0 + 2, : p0 + 2]
                )
            elif v.ploidy == 2:
                X0 = np.column_stack([np.ones(int(in_model.sum())), C[in_model]])
                mark_aliased_models(genetic, g_s[in_model], X0, dosage=dosage_all is not None)
            for res in genetic:
                res.note = join_notes(res.note, design.note)
                rows.add(v, stratum, res, covariates=cov_label)
            designs = []
            for modifier, values, label in stratum_interactions(stratum, cov_values["t2dm"], female):
                names = [c for c in cov_names if c != modifier]
                Ci = np.column_stack([cov_s[c] for c in names]) if names else np.empty((mask.sum(), 0))
                mod_s = values[mask]
                designs.append((y_reg, g_s, mod_s, Ci))  # interaction_design, built if compared
                sample = interaction_sample(*designs[-1])
                too_few = (
                    mt_too_few(g_s[sample], y_s[sample] if binary else None, *mt_min, groups=mod_s[sample])
                    if v.ploidy == 1
                    else ""
                )
                if mask.any() and not np.isfinite(mod_s).any():
                    # e.g. no T2DM data at all: say so rather than "too few samples (n=0)"
                    res = TestResult(
                        model=f"interaction_{modifier}",
                        term=f"per_allele_x_{modifier}",
                        note=f"modifier {modifier} missing for every sample in this stratum",
                    )
                elif tte:
                    (res,) = interactions.modifier_interaction(
                        y_reg,
                        g_s,
                        mod_s,
                        Ci,
                        outcome_type=outcome_type,
                        name=modifier,
                        time=time_s,
                        entry=entry_s,
                        covariate_names=names,
                        effects_by=False,
                        min_n=min_n,
                        min_cases=min_cases,
                    )
                else:
                    res = regression.interaction_test(
                        y_reg,
                        g_s,
                        mod_s,
                        Ci,
                        outcome_type=outcome_type,
                        modifier_name=modifier,
                        covariate_names=names,
                        min_n=min_n,
                        min_cases=min_cases,
                        checks_only=bool(too_few),  # fitted rows are replaced below
                    )
                if too_few and not _data_reason(res.note):
                    res = TestResult(
                        model=f"interaction_{modifier}",
                        term=f"per_allele_x_{modifier}",
                        note=too_few,
                        **_sample_counts(y_s[sample], binary),
                    )
                first = rows.rows[-1] if len(designs) == 2 else None  # the first interaction's row
                if (
                    first is not None
                    and np.isfinite(res.p_value)
                    and np.isfinite(float(first["p_value"]))
                    and _may_share_design(first, res)
                    and same_design(*(interaction_design(*d) for d in designs))
                ):
                    res.note = join_notes(
                        res.note,
                        f"aliased with {first['model']} in this stratum (same design on the same "
                        "samples: one test, counted once)",
                    )
                    res.extra["family"] = families.NONE
                res.note = join_notes(res.note, design.note)
                ref = interaction_reference(v, label, binary=binary)
                rows.add(v, stratum, res, covariates="+".join([*names, modifier]), reference=ref)
            _configured_interactions(
                rows, v, stratum, mask, y, g_all, modifiers, cov_values, cov_names, settings.interactions,
                outcome_type=outcome_type, follow_up=follow_up, min_n=min_n, min_cases=min_cases,
            )  # fmt: skip
        if binary and not tte:
            _pooled(rows, v, y, g_all, masks, min_n=min_n, excluded=excluded.get(v.id, ""))

    condition_on = settings.association.condition_on
    if condition_on:
        _conditional(
            rows,
            dropped,
            panel,
            G=G,
            D=D if use_dosage else None,
            y=y,
            cov_values=cov_values,
            base_covs=base_covs,
            masks=masks,
            excluded=excluded,
            condition_on=condition_on,
            block=list(settings.haplotypes.block),
            outcome_type=outcome_type,
            min_n=min_n,
            min_cases=min_cases,
            tol=tol,
        )

    primary = families.primary_spec(settings, diploid=[v.id for v in panel if v.ploidy == 2])
    table = add_delta_aic(adjust_pvalues(rows.frame(), spec=primary))[ASSOCIATION_COLUMNS]
    power_table = _power_table(
        table, power_inputs, outcome=outcome, outcome_type=outcome_type, settings=settings
    )
    km = (
        kaplan_meier_table(panel, G, follow_up, y, masks, outcome=outcome)
        if tte
        else pd.DataFrame(columns=KM_TABLE_COLUMNS)
    )
    return OutcomeResult(
        association=table,
        genotype_counts=pd.DataFrame(counts_rows, columns=GENOTYPE_COUNT_COLUMNS),
        bmd_by_genotype=pd.DataFrame(bmd_rows, columns=BMD_COLUMNS),
        kaplan_meier=km,
        power=power_table,
        covariate_design=dropped.frame(),
        flow=pd.DataFrame(flow, columns=FLOW_COLUMNS),
    )


# Reasons of the sample checks (vdrbone.regression.sample_checks and the like) that stand before
# the mtDNA minimum-carrier rule: a stratum without cases says "no cases", not "0 carrier cases".
_DATA_REASONS = ("too few samples", "no cases", "no controls", "too few cases", "too few controls",
                 "monomorphic", "modifier")  # fmt: skip


def _data_reason(note: str) -> bool:
    return str(note).startswith(_DATA_REASONS)


def _sample_counts(y: np.ndarray, binary: bool) -> dict:
    out = {"n": int(y.size)}
    if binary:
        out.update(n_cases=int((y == 1).sum()), n_controls=int((y == 0).sum()))
    return out


def mt_too_few(
    g: np.ndarray,
    y: np.ndarray | None,
    min_carriers: int,
    min_carrier_cases: int,
    *,
    groups: np.ndarray | None = None,
) -> str:
    """Why an mtDNA carrier contrast gets no regression estimate ('' when it does).

    ``g``: carrier status (0/1) of the model's samples; ``y``: their 0/1 outcome (binary outcomes;
    ``None`` for continuous ones); ``groups``: the 0/1 modifier of an interaction test, whose two
    groups must each reach the minimum (the product term is estimated from the carriers of each
    group). Fewer than ``min_carriers`` carriers, or (binary) fewer than ``min_carrier_cases``
    carrier cases, leave the counts and Fisher's exact test only.
    """
    parts = [("", np.ones(g.shape, dtype=bool))] if groups is None else [
        (" with modifier = 1", groups == 1), (" with modifier = 0", groups == 0)
    ]  # fmt: skip
    for where, sel in parts:
        carriers = int((g[sel] == 1).sum())
        if carriers < min_carriers:
            return (
                f"no regression estimate: {carriers} carrier(s){where} < association.mt_min_carriers="
                f"{min_carriers} (counts and exact test only)"
            )
        if y is not None:
            cases = int(((g[sel] == 1) & (y[sel] == 1)).sum())
            if cases < min_carrier_cases:
                return (
                    f"no regression estimate: {cases} carrier case(s){where} < "
                    f"association.mt_min_carrier_cases={min_carrier_cases} (counts and exact test only)"
                )
    return ""


def _subset_rank(m: np.ndarray | None, extra: np.ndarray | None = None, *, r: np.ndarray | None = None):
    """``rank(columns)``: the numerical rank of ``m[:, columns]`` (a column may repeat) with its
    columns scaled to unit norm, i.e. the number of singular values above :data:`ALIAS_TOL`
    times the largest.

    One Householder QR of ``m`` serves every subset: ``m[:, s] = Q R[:, s]`` with ``Q``
    orthonormal, so ``m[:, s]`` and the small ``R[:, s]`` have the same singular values (to
    rounding: QR is backward stable, Golub & Van Loan 5.2.11) and each rank is an SVD of a
    k x k matrix instead of an n x k one. Not the Gram matrix ``m'm``: squaring would put the
    relative tolerance 1e-7 at 1e-14, within rounding.

    ``extra`` (k x e): further columns ``m @ extra``, numbered after those of ``m``; their R
    columns are ``R @ extra`` and their norms those of ``R @ extra`` (``Q`` keeps norms), so
    combinations of ``m``'s columns (the genotype codings from the het and hom indicators) add
    no n-row work. ``r``: the R factor of ``m`` when the caller has it (``m`` is then not read;
    the column norms are those of ``r``)."""
    if r is None:
        norms = np.linalg.norm(m, axis=0)
        r = np.linalg.qr(m, mode="r")
    else:
        norms = np.linalg.norm(r, axis=0)
    if extra is not None:
        combined = r @ extra
        r = np.column_stack([r, combined])
        norms = np.concatenate([norms, np.linalg.norm(combined, axis=0)])

    def rank(columns: list[int]) -> int:
        cols = [j for j in columns if norms[j] > 0]
        if not cols:
            return 0
        sv = np.linalg.svd(r[:, cols] / norms[cols], compute_uv=False)
        return int((sv > ALIAS_TOL * sv[0]).sum())

    return rank


def _span_equal(rank, a: list[int], b: list[int]) -> bool:
    """True when the columns ``a`` and the columns ``b`` span the same space: rank(a) = rank(b)
    = rank(a and b), ``rank`` from :func:`_subset_rank`."""
    ra, rb = rank(a), rank(b)
    return ra == rb == rank(a + b)


def interaction_sample(y, g, modifier, covariates) -> np.ndarray:
    """The complete cases of :func:`vdrbone.regression.interaction_test` (bool mask)."""
    return np.isfinite(y) & np.isfinite(g) & np.isfinite(modifier) & regression.finite_rows(covariates)


def interaction_design(y, g, modifier, covariates):
    """(samples, null design, full design) of :func:`vdrbone.regression.interaction_test`."""
    keep = interaction_sample(y, g, modifier, covariates)
    n = int(keep.sum())
    g, modifier = g[keep], modifier[keep]
    X = np.column_stack([np.ones(n), covariates[keep], modifier, g, g * modifier])
    return keep, X[:, :-1], X


def _may_share_design(first: dict, res: TestResult) -> bool:
    """False when two tests cannot have the same design on the same samples (:func:`same_design`,
    whose QR is then not needed): their n differ, or their full models' AICs (the same maximised
    likelihood if the designs were the same) differ by more than 1e-6 relative, far beyond the
    fits' convergence. True when that cannot be told (an AIC is missing: Firth rows)."""
    if int(first["n"]) != res.n:
        return False
    a, b = float(first.get("aic", np.nan)), float(res.aic)
    return not (np.isfinite(a) and np.isfinite(b)) or abs(a - b) <= 1e-6 * max(abs(a), abs(b))


def same_design(a, b) -> bool:
    """Two tests are aliased when they use the same samples and their null and full designs
    span the same column spaces: they give the same statistic and p (to numerical tolerance)."""
    (keep_a, null_a, full_a), (keep_b, null_b, full_b) = a, b
    if not np.array_equal(keep_a, keep_b) or not keep_a.any():
        return False
    # one matrix for the four designs; a null design is normally the leading columns of its
    # full one (interaction_design), else its columns are added
    parts, at, null_idx, full_idx = [], 0, [], []
    for null, full in ((null_a, full_a), (null_b, full_b)):
        full_idx.append(list(range(at, at + full.shape[1])))
        parts.append(full)
        at += full.shape[1]
        k = null.shape[1]
        if k <= full.shape[1] and np.array_equal(full[:, :k], null):
            null_idx.append(full_idx[-1][:k])
        else:
            null_idx.append(list(range(at, at + k)))
            parts.append(null)
            at += k
    # a column the designs share (the intercept, covariates, genotype) enters the QR once
    m, index = _distinct_columns(parts)
    rank = _subset_rank(m)
    null_idx = [[index[j] for j in idx] for idx in null_idx]
    full_idx = [[index[j] for j in idx] for idx in full_idx]
    return _span_equal(rank, *null_idx) and _span_equal(rank, *full_idx)


def _distinct_columns(blocks: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """The columns of the 2-D ``blocks`` (same rows), each distinct column once, and for each input
    column (numbered across the blocks) the index of its column in that matrix. Equal columns
    are found by their sums, then compared element by element."""
    cols: list[np.ndarray] = []
    index: list[int] = []
    by_sum: dict[float, list[int]] = {}
    for block in blocks:
        for j, total in enumerate(block.sum(axis=0).tolist()):
            col = block[:, j]
            same = by_sum.setdefault(total, [])
            hit = next((k for k in same if np.array_equal(cols[k], col)), None)
            if hit is None:
                hit = len(cols)
                cols.append(col)
                same.append(hit)
            index.append(hit)
    return np.column_stack(cols), index


# Which genetic model is kept when several are aliased (same design), most preferred first.
ALIAS_PREFERENCE = ("additive", "codominant", "dominant", "recessive", "overdominant")


def mark_aliased_models(
    results: list[TestResult],
    g: np.ndarray,
    X0: np.ndarray | None,
    *,
    dosage: bool,
    r: np.ndarray | None = None,
) -> None:
    """Note genetic models whose genotype coding spans the same space as a preferred one's.

    ``g``: effect-allele counts of the models' complete-case samples; ``X0``: their intercept and
    covariates. E.g. with no homozygote of the effect allele the dominant, overdominant and
    additive codings are the same column: the additive row is kept, the others get the note
    ``aliased with additive ...`` and family ``none`` (counted once). The dosage additive
    model (``dosage``) is left out (its column is the dosage). ``r``: the R factor of
    ``[X0, het, hom]`` when the caller has it (``X0`` may then be None).
    """
    # each coding as a combination of the het and hom indicators (additive: g = het + 2 hom)
    cols = {
        "codominant": [[1.0, 0.0], [0.0, 1.0]],
        "dominant": [[1.0], [1.0]],
        "recessive": [[0.0], [1.0]],
        "overdominant": [[1.0], [0.0]],
    }
    if not dosage:
        cols["additive"] = [[1.0], [2.0]]
    fitted = {r.model for r in results if np.isfinite(r.p_value)}
    # one QR of [X0, het, hom]; design of a model = X0's columns and its coding's combinations
    p0 = X0.shape[1] if r is None else r.shape[1] - 2
    combine = np.zeros((p0 + 2, sum(len(c[0]) for c in cols.values())))
    at, design = 0, {}
    for model, c in cols.items():
        k = len(c[0])
        combine[p0:, at : at + k] = c
        design[model] = list(range(p0)) + list(range(p0 + 2 + at, p0 + 2 + at + k))
        at += k
    if r is None:
        het, hom = (g == 1).astype(float), (g == 2).astype(float)
        rank = _subset_rank(np.column_stack([X0, het, hom]), combine)
    else:
        rank = _subset_rank(None, combine, r=r)
    kept: list[str] = []
    for model in ALIAS_PREFERENCE:
        if model not in cols or model not in fitted:
            continue
        twin = next((k for k in kept if _span_equal(rank, design[k], design[model])), None)
        if twin is None:
            kept.append(model)
            continue
        for r in results:
            if r.model == model:
                r.note = join_notes(
                    r.note, f"aliased with {twin} (same design on the same samples: counted once)"
                )
                r.extra["family"] = families.NONE


def _power_table(
    table: pd.DataFrame, inputs: list, *, outcome: str, outcome_type: str, settings: Settings
) -> pd.DataFrame:
    """``power.tsv`` rows of one outcome: the log-additive (mtDNA: carrier) model of every variant x
    stratum, at alpha and at the Bonferroni level of the row's family (alpha / m): for an
    exploratory row m is the number of tests with a p-value in the outcome's exploratory family;
    for a primary row m is the planned size of the primary family (variants x outcomes x strata x
    models of config ``primary``), which spans outcomes and is only adjusted at the merge."""
    alpha, effect = power.settings(settings, outcome, outcome_type)
    sizes = {r.family: int(r.m) for r in families.family_sizes(table).itertuples()} if len(table) else {}
    spec = families.primary_spec(settings, diploid=[v.id for v, *_ in inputs if v.ploidy == 2])
    n_outcomes = len(spec.outcomes) if spec.outcomes is not None else len(settings.outcomes)
    m_primary = len(spec.variants or ()) * n_outcomes * len(spec.strata) * len(spec.models)
    family_of = {
        (r.variant, r.stratum, r.model): r.family
        for r in table[["variant", "stratum", "model", "family"]].itertuples()
    }
    rows = []
    for v, stratum, y, g in inputs:
        model = "carrier" if v.ploidy == 1 else "additive"
        fam = family_of.get((v.id, stratum, model), families.exploratory(outcome))
        m = m_primary if fam == families.PRIMARY else sizes.get(fam, 1)
        alphas = {"nominal": alpha, "bonferroni": alpha / max(m, 1)}
        for r in power.power_rows(outcome_type, y, g, assumed_effect=effect, alphas=alphas, ploidy=v.ploidy):
            rows.append({"variant": v.id, "outcome": outcome, "stratum": stratum, "model": model, **r})
    out = pd.DataFrame(rows, columns=power.POWER_COLUMNS)
    for col in ("n", "n_events"):
        out[col] = pd.to_numeric(out[col]).round().astype("Int64")
    return out


def kaplan_meier_table(panel: Panel, G: np.ndarray, follow_up, event: np.ndarray, masks, *, outcome: str):
    """Kaplan-Meier estimates by genotype class in the ``all`` stratum, read on one time grid
    (:func:`vdrbone.survival.km_grid`), for the report's curves and numbers at risk."""
    time, entry = follow_up
    mask = masks.get("all", np.ones(len(event), dtype=bool))
    grid = survival.time_grid(time[mask & np.isfinite(event)])
    frames = []
    for j, v in enumerate(panel):
        for k in range(v.ploidy + 1):
            at = mask & (G[:, j] == k) & np.isfinite(event) & np.isfinite(time)
            if not at.any():
                continue
            nuc, lab = v.genotype_names(k)
            km = survival.km_grid(time[at], event[at], entry=None if entry is None else entry[at], grid=grid)
            frames.append(
                km.assign(
                    outcome=outcome,
                    variant=v.id,
                    name=v.name,
                    stratum="all",
                    effect_count=k,
                    genotype=nuc,
                    rflp=lab,
                )
            )
    if not frames:
        return pd.DataFrame(columns=KM_TABLE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[KM_TABLE_COLUMNS]


def _follow_up(pheno: pd.DataFrame, outcome: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Follow-up time and (if configured) entry time of a time-to-event outcome."""
    entry = entry_column(outcome)
    return (
        pheno[time_column(outcome)].to_numpy(dtype=float),
        pheno[entry].to_numpy(dtype=float) if entry in pheno else None,
    )


def _configured_interactions(
    rows,
    v,
    stratum,
    mask,
    y,
    g,
    modifiers,
    cov_values,
    cov_names,
    configured,
    *,
    outcome_type,
    follow_up,
    min_n,
    min_cases,
) -> None:
    """Rows of the configured ``interactions`` (``Settings.interactions``; see
    :mod:`vdrbone.interactions`) in one stratum; ``modifiers`` from :func:`modifier_values`."""
    for spec in configured:
        column = spec["column"]
        categorical = spec.get("type", "continuous") == "categorical"
        values = modifiers[column]
        names = [c for c in cov_names if c != column]
        C = np.column_stack([cov_values[c][mask] for c in names]) if names else np.empty((mask.sum(), 0))
        time_s, entry_s = (
            (None, None) if follow_up is None else (None if a is None else a[mask] for a in follow_up)
        )
        got = interactions.modifier_interaction(
            y[mask], g[mask], values[mask], C, outcome_type=outcome_type, name=column,
            modifier_type="categorical" if categorical else "continuous", levels=spec.get("levels"),
            time=time_s, entry=entry_s, covariate_names=names, min_n=min_n, min_cases=min_cases,
        )  # fmt: skip
        base_ref = reference_label(v, "additive")
        for res in got:
            where = res.extra.pop("reference", "")
            if not where and categorical:
                levels = spec.get("levels") or []
                where = f"{column}={levels[0]}" if levels else ""
            rows.add(
                v,
                stratum,
                res,
                covariates="+".join([*names, column]),
                reference="; ".join(x for x in (base_ref, where) if x),
            )


def modifier_values(pheno: pd.DataFrame, configured) -> dict[str, np.ndarray]:
    """Column -> values of each configured interaction modifier, as
    :func:`vdrbone.interactions.modifier_interaction` takes them: level strings (:func:`_levels`)
    for a categorical modifier, floats (NaN missing) for a continuous one."""
    out = {}
    for spec in configured:
        column = spec["column"]
        categorical = spec.get("type", "continuous") == "categorical"
        out[column] = _levels(pheno[column]) if categorical else pheno[column].to_numpy(dtype=float)
    return out


def _level_text(x) -> str | None:
    """One categorical value as its level string: None if missing, ``1.0`` as ``"1"``."""
    if pd.isna(x):
        return None
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def _levels(values: pd.Series) -> np.ndarray:
    """A categorical column as level strings (a re-read "1" may come back as 1 or 1.0), None missing.

    Each element as :func:`_level_text`, computed once per distinct value: a column of strings
    (and missing values) is kept as it is, a numeric or boolean one is converted value by value
    over its distinct values; any other column (mixed types) element by element.
    """
    s = pd.Series(values)
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        out = s.to_numpy(dtype=object, copy=True)
        out[s.isna().to_numpy()] = None
        return out
    if s.dtype.kind in "biuf":
        codes, uniques = pd.factorize(s)  # exact values; missing -> -1
        text = np.array([None, *(_level_text(u) for u in uniques.tolist())], dtype=object)
        return text[codes + 1]
    return np.array([_level_text(x) for x in s], dtype=object)


def stratum_design(
    cov_values: dict[str, np.ndarray],
    cov_names: list[str],
    analysable: np.ndarray,
    *,
    tol: float = regression.RANK_TOL,
    min_n: int = 30,
) -> regression.CovariateDesign:
    """Which covariates a stratum's models adjust for (:func:`vdrbone.regression.covariate_design`).

    Checked on the stratum's analysable samples (``analysable``: outcome and genotype present)
    that have every covariate (complete cases), in the order of ``cov_names`` (the configured
    covariates, then sex and T2DM). With fewer than ``min_n`` such samples nothing is dropped:
    the models' rows already say ``too few samples``.
    """
    if not cov_names:
        return regression.CovariateDesign([], [], [])
    complete = analysable & covariates_complete(cov_values, cov_names)
    # the complete rows of each covariate into one column of a column-major matrix
    rows = np.flatnonzero(complete)
    C = np.empty((rows.size, len(cov_names)), order="F")
    for j, c in enumerate(cov_names):
        np.take(cov_values[c], rows, out=C[:, j])
    if C.shape[0] < min_n:
        return regression.CovariateDesign(list(range(len(cov_names))), list(cov_names), [])
    return regression.covariate_design(C, cov_names, tol=tol)


def covariates_complete(cov_values: dict[str, np.ndarray], names: list[str]) -> np.ndarray | bool:
    """Samples with every covariate of ``names`` finite (``True`` when there are none)."""
    ok = True
    for c in names:
        ok = ok & np.isfinite(cov_values[c])
    return ok


def covariate_values(pheno: pd.DataFrame, covariates: list[str]) -> dict[str, np.ndarray]:
    """Covariate name -> float values (NaN missing): the configured covariates, ``sex`` (male =
    1) and ``t2dm`` (yes = 1), as the regression models use them."""
    values = {name: pheno[name].to_numpy(dtype=float) for name in covariates}
    sex = pheno["sex"].astype(object)
    t2dm = pheno["t2dm"].astype(object)
    values["sex"] = np.where(sex.isna(), np.nan, (sex == "male").to_numpy(dtype=float))
    values["t2dm"] = np.where(t2dm.isna(), np.nan, (t2dm == "yes").to_numpy(dtype=float))
    return values


def stratum_covariates(
    stratum: str,
    mask: np.ndarray,
    genotyped: np.ndarray,
    *,
    y: np.ndarray,
    cov_values: dict[str, np.ndarray],
    base_covs: list[str],
    tol: float,
    min_n: int,
) -> tuple[np.ndarray, np.ndarray, regression.CovariateDesign]:
    """Outcome, covariate matrix and covariate design of one stratum's regression models.

    As the genetic models of :func:`associate_outcome`: the configured covariates plus sex and
    T2DM where the stratum does not fix them and they vary among the analysable samples (mask,
    outcome, ``genotyped`` and the configured covariates present), then
    :func:`stratum_design` drops constant or collinear ones. Returns ``y`` of the stratum with
    NaN where any candidate covariate is missing (complete cases over every covariate, dropped
    ones included, as R), the kept covariates' columns (rows of the stratum) and the design.
    For many genotype masks of one stratum, :class:`StratumCovariates` gives the same.
    """
    found = StratumCovariates(
        stratum, mask, y=y, cov_values=cov_values, base_covs=base_covs, tol=tol, min_n=min_n
    )
    y_reg, C, design = found(genotyped)
    return y_reg.copy(), C.copy(), design


class StratumCovariates:
    """:func:`stratum_covariates` of one stratum for many genotype masks (the variant pairs of
    :func:`vdrbone.epistasis.epistasis_outcome`), computing once what does not depend on the mask:
    the samples with the outcome and configured covariates, the outcome vector per candidate
    covariate set, the covariate matrix per kept set. Call it with ``genotyped``; the returned
    outcome vector and covariate matrix are shared between calls and read-only."""

    def __init__(
        self,
        stratum: str,
        mask: np.ndarray,
        *,
        y: np.ndarray,
        cov_values: dict[str, np.ndarray],
        base_covs: list[str],
        tol: float,
        min_n: int,
    ) -> None:
        self.stratum, self.mask, self.y, self.cov_values = stratum, mask, y, cov_values
        self.base_covs, self.tol, self.min_n = list(base_covs), tol, min_n
        self.ready = mask & np.isfinite(y) & covariates_complete(cov_values, self.base_covs)
        self._y: dict[tuple[str, ...], np.ndarray] = {}
        self._C: dict[tuple[str, ...], np.ndarray] = {}

    def __call__(self, genotyped: np.ndarray) -> tuple[np.ndarray, np.ndarray, regression.CovariateDesign]:
        mask, cov_values = self.mask, self.cov_values
        analysable = self.ready & genotyped
        cov_names = self.base_covs + varying_factors(self.stratum, analysable, cov_values)
        y_reg = self._y.get(tuple(cov_names))
        if y_reg is None:
            y_reg = self.y[mask].copy()
            for c in cov_names:
                y_reg[~np.isfinite(cov_values[c][mask])] = np.nan
            y_reg.flags.writeable = False
            self._y[tuple(cov_names)] = y_reg
        design = stratum_design(cov_values, cov_names, analysable, tol=self.tol, min_n=self.min_n)
        C = self._C.get(tuple(design.names))
        if C is None:
            C = (
                np.column_stack([cov_values[c][mask] for c in design.names])
                if design.names
                else np.empty((int(mask.sum()), 0))
            )
            C.flags.writeable = False
            self._C[tuple(design.names)] = C
        return y_reg, C, design


def join_notes(*notes: str) -> str:
    """Non-empty notes joined by "; " (a reason first, then remarks such as a dropped covariate)."""
    return "; ".join(n for n in notes if n)


class DesignLog:
    """Covariates dropped per stratum, over variants: the rows of ``covariate_design.tsv``."""

    def __init__(self, outcome: str):
        self.outcome = outcome
        self.found: dict[tuple[str, str, str], list[str]] = {}

    def add(self, stratum: str, variant: str, design: regression.CovariateDesign) -> None:
        for name, reason in design.dropped:
            ids = self.found.setdefault((stratum, name, reason), [])
            if variant not in ids:
                ids.append(variant)

    def frame(self) -> pd.DataFrame:
        rows = [
            {"outcome": self.outcome, "stratum": s, "covariate": c, "action": "dropped", "reason": r,
             "variants": ",".join(ids)}
            for (s, c, r), ids in self.found.items()
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=DESIGN_COLUMNS)


def design_messages(table: pd.DataFrame, *, models: str = "models") -> list[str]:
    """Log lines for a covariate-design table: one per outcome x covariate x reason, naming
    each stratum once, e.g. ``outcome bmd_ls: covariate dropped: bmi (constant in this stratum)
    from the models of stratum t2dm=yes``."""
    lines = []
    for (outcome, covariate, reason), part in table.groupby(["outcome", "covariate", "reason"], sort=False):
        strata = list(dict.fromkeys(part["stratum"]))
        where = "stratum" if len(strata) == 1 else "strata"
        lines.append(
            f"outcome {outcome}: covariate dropped: {covariate} ({reason}) from the {models} of "
            f"{where} {', '.join(strata)}"
        )
    return lines


def _qc_exclusions(qc: pd.DataFrame | None, *, action: str) -> dict[str, str]:
    """Variants to exclude, with the reason.

    Always those that extraction could not give (QC flag ``not_extracted``, with extraction's
    reason, e.g. ``not in the genotype files``). With ``qc.action: exclude`` also those failing
    the QC verdict row (stratum ``all``, subset ``all``) of ``qc_variants.tsv``: call rate, and
    HWE where ``qc.hwe_samples`` applies it, including a failure in the controls of any binary
    outcome (PLINK ``--hwe``; see :func:`vdrbone.qc.qc_variants`), and differential missingness
    in any binary outcome (flag ``test_missing``, :func:`vdrbone.qc.add_test_missing_verdict`).
    The variant is then excluded for every outcome, e.g. ``excluded by QC (hwe): HWE exact p
    2.1e-08 < 1e-06 in controls of fracture``.
    """
    if qc is None or qc.empty:
        return {}
    flags = qc["flag"].fillna("")
    gone = qc[flags == NOT_EXTRACTED].drop_duplicates("variant")
    out = {r.variant: str(r.reason) for r in gone.itertuples()}
    if action != "exclude":
        return out
    sel = qc[(qc["stratum"] == "all") & (qc["subset"] == "all") & (flags != "") & ~qc["variant"].isin(out)]
    return out | {r.variant: f"excluded by QC ({r.flag}): {r.reason}" for r in sel.itertuples()}


def unadjusted_terms(binary: bool, ploidy: int, *, max3: bool = True) -> list[tuple[str, str]]:
    """(model, term) rows of the unadjusted tests of a variant in one stratum, in table order."""
    if ploidy == 1:
        return [("carrier_fisher", "carrier")] if binary else []
    if binary:
        return [
            ("allelic", "alt_vs_ref"),
            ("allelic_fisher", "alt_vs_ref"),
            ("genotypic", "genotype"),
            ("genotypic_fisher", "genotype"),
            ("trend", "per_allele"),
        ] + ([(maxstat.MODEL, maxstat.TERM)] if max3 else [])
    return [("anova", "genotype"), ("kruskal_wallis", "genotype")]


def _excluded_rows(
    rows: _Rows,
    v: PanelVariant,
    stratum: str,
    binary: bool,
    reason: str,
    *,
    max3: bool = True,
    tte: bool = False,
) -> None:
    """The rows a QC-excluded variant would have had in ``stratum``, each with the reason."""
    terms = ([] if tte else unadjusted_terms(binary, v.ploidy, max3=max3)) + regression.GENETIC_MODEL_TERMS[
        v.ploidy
    ]
    for res in _not_estimable(terms, reason):
        rows.add(v, stratum, res)
    for modifier, _values, label in stratum_interactions(stratum, None, None):
        res = TestResult(model=f"interaction_{modifier}", term=f"per_allele_x_{modifier}", note=reason)
        rows.add(v, stratum, res, reference=interaction_reference(v, label, binary=binary))


def _unadjusted_tests(
    v: PanelVariant,
    y: np.ndarray,
    g: np.ndarray,
    binary: bool,
    small: str,
    counts: dict,
    *,
    max3: bool = True,
) -> list[TestResult]:
    """Contingency tests (binary) or ANOVA / Kruskal-Wallis (continuous) on complete pairs.

    Binary outcomes also get the MAX3 row (:func:`vdrbone.maxstat.max3`) when ``max3`` is set.

    ``small`` (a reason) gives rows that are not estimable, carrying ``counts`` (n, cases,
    controls) so that the reader sees how many samples the stratum had.
    """
    if small:
        return _not_estimable(unadjusted_terms(binary, v.ploidy, max3=max3), small, **counts)
    if v.ploidy == 1:
        if not binary:
            return []
        return [contingency.carrier_fisher(_counts(g[y == 1], 2), _counts(g[y == 0], 2))]
    if binary:
        case, ctrl = _counts(g[y == 1], 3), _counts(g[y == 0], 3)
        return [
            contingency.allelic(case, ctrl),
            contingency.allelic_fisher(case, ctrl),
            contingency.genotypic(case, ctrl),
            contingency.genotypic_fisher(case, ctrl),
            contingency.trend(case, ctrl),
        ] + ([maxstat.max3(case, ctrl)] if max3 else [])
    return [contingency.anova_by_genotype(y, g), contingency.kruskal_by_genotype(y, g)]


def additive_coding(g: np.ndarray, ds: np.ndarray | None) -> tuple[np.ndarray, str]:
    """The log-additive column of a variant and its ``method`` suffix, as the ``additive`` model.

    With DS dosages (``ds`` not None and not all NaN): the dosage, a missing DS replaced by the
    hard call; otherwise the effect-allele count (see :func:`vdrbone.regression.genetic_models`).
    """
    if ds is not None and np.isfinite(ds).any():
        return np.where(np.isnan(ds), g, ds), "; per_allele = DS dosage"
    return g, "; per_allele = effect-allele count"


def _conditional(
    rows: _Rows,
    dropped: DesignLog,
    panel: Panel,
    *,
    G: np.ndarray,
    D: np.ndarray | None,
    y: np.ndarray,
    cov_values: dict[str, np.ndarray],
    base_covs: list[str],
    masks: dict[str, np.ndarray],
    excluded: dict[str, str],
    condition_on,
    block: list[str],
    outcome_type: str,
    min_n: int,
    min_cases: int,
    tol: float,
) -> None:
    """Conditional rows (PLINK ``--condition``): model ``conditional``, term ``per_allele``.

    ``condition_on`` ``block_top``: each diploid SNP of ``block`` (config ``haplotypes.block``)
    adjusted for the block SNP with the smallest marginal ``additive`` p-value in the stratum
    (first in block order on a tie); that SNP's own row says it is the conditioning SNP. A list
    of variant ids: every other diploid (VDR) SNP adjusted for all of them together. Each row is
    :func:`vdrbone.regression.conditional_test` with the covariates of the marginal models and
    the same additive coding (:func:`additive_coding`) for the tested and the conditioning SNPs;
    samples missing a conditioning genotype are dropped (complete cases, as PLINK), and a note
    gives both n when that makes the conditional sample smaller than the marginal one.
    ``covariates`` lists the covariates, then the conditioning SNP ids; ``note`` names them.
    """
    index = {v.id: j for j, v in enumerate(panel)}
    variants = list(panel)
    marginal = {(r["variant"], r["stratum"]): r for r in rows.rows if r["model"] == "additive"}
    top_mode = condition_on == "block_top"
    if top_mode:
        tested = [v for v in variants if v.ploidy == 2 and v.id in block]
    else:
        tested = [v for v in variants if v.ploidy == 2 and v.id not in condition_on]

    def coded(vid: str) -> tuple[np.ndarray, str]:
        j = index[vid]
        ds = D[:, j] if D is not None and variants[j].ploidy == 2 else None
        return additive_coding(G[:, j], ds)

    if outcome_type == "time_to_event":
        note = "not computed for time-to-event outcomes (PLINK --condition has no Cox model)"
        for stratum in masks:
            for v in tested:
                rows.add(v, stratum, TestResult(model="conditional", term="per_allele", note=note))
        return
    for stratum, mask in masks.items():
        if top_mode:
            ps = [
                (float(marginal[(vid, stratum)]["p_value"]), k, vid)
                for k, vid in enumerate(block)
                if (vid, stratum) in marginal and np.isfinite(float(marginal[(vid, stratum)]["p_value"]))
            ]
            if not ps:
                cond_ids, why = [], "no block SNP has an additive p-value in this stratum"
            else:
                p_top, _, top = min(ps)
                cond_ids = [top]
                why = (
                    f"conditioned on {top} ({variants[index[top]].name}), the block's strongest SNP in "
                    f"this stratum (additive p {p_top:.3g})"
                )
            role = "the block's strongest SNP in this stratum"
        else:
            cond_ids = list(condition_on)
            names = ", ".join(f"{c} ({variants[index[c]].name})" for c in cond_ids)
            why, role = f"conditioned on {names} (association.condition_on)", "association.condition_on"
        for v in tested:
            ref = reference_label(v, "additive")
            blocked = excluded.get(v.id) or (why if not cond_ids else "")
            if not blocked and v.id in cond_ids:
                blocked = f"conditioning SNP ({role})"
            if not blocked:
                gone = [c for c in cond_ids if c in excluded]
                if gone:
                    blocked = "; ".join(f"conditioning SNP {c} excluded: {excluded[c]}" for c in gone)
            if blocked:
                rows.add(v, stratum, TestResult(model="conditional", term="per_allele", note=blocked))
                continue
            g, suffix = coded(v.id)
            K = np.column_stack([coded(c)[0] for c in cond_ids])
            y_reg, C, design = stratum_covariates(
                stratum,
                mask,
                np.isfinite(g) & regression.finite_rows(K),
                y=y,
                cov_values=cov_values,
                base_covs=base_covs,
                tol=tol,
                min_n=min_n,
            )
            dropped.add(stratum, v.id, design)
            res = regression.conditional_test(
                y_reg,
                g[mask],
                K[mask],
                C,
                outcome_type=outcome_type,
                conditioning_names=cond_ids,
                covariate_names=design.names,
                min_n=min_n,
                min_cases=min_cases,
                method_suffix=suffix,
            )
            m = marginal.get((v.id, stratum))
            fewer = ""
            if m is not None and int(m["n"] or 0) > res.n:
                fewer = (
                    f"complete cases with the conditioning SNP(s): n={res.n} "
                    f"(marginal additive n={int(m['n'])})"
                )
            res.note = join_notes(res.note, why, fewer, design.note)
            rows.add(v, stratum, res, covariates="+".join([*design.names, *cond_ids]), reference=ref)


def interaction_reference(v: PanelVariant, contrast: str, *, binary: bool) -> str:
    """What an interaction estimate compares, e.g. ``ratio of per-allele ORs of G (t): t2dm=yes
    vs t2dm=no`` (binary) or ``difference of per-allele betas ...`` (continuous); mtDNA:
    ``carrier ORs of C``."""
    allele = v.effect_allele if v.label(v.effect_allele) == v.effect_allele else (
        f"{v.effect_allele} ({v.label(v.effect_allele)})"
    )  # fmt: skip
    unit = "carrier" if v.ploidy == 1 else "per-allele"
    kind = f"ratio of {unit} ORs" if binary else f"difference of {unit} betas"
    return f"{kind} of {allele}: {contrast}"


def _descriptives(counts_rows, bmd_rows, v: PanelVariant, outcome, stratum, y, g, binary, sample) -> None:
    """Genotype counts by case status (binary) or BMD summaries by genotype (continuous) of one
    sample (:data:`SAMPLES`: ``descriptive`` or ``model``)."""
    size = v.ploidy + 1
    for k in range(size):
        nuc, lab = v.genotype_names(k)
        at = g == k
        label = {"outcome": outcome, "variant": v.id, "name": v.name, "stratum": stratum, "sample": sample}
        if binary:
            n_case, n_ctrl = int((at & (y == 1)).sum()), int((at & (y == 0)).sum())
            tot_case, tot_ctrl = int((y == 1).sum()), int((y == 0).sum())
            counts_rows.append(
                {
                    **label,
                    "effect_count": k,
                    "genotype": nuc,
                    "rflp": lab,
                    "n_cases": n_case,
                    "freq_cases": n_case / tot_case if tot_case else np.nan,
                    "n_controls": n_ctrl,
                    "freq_controls": n_ctrl / tot_ctrl if tot_ctrl else np.nan,
                    "n": n_case + n_ctrl,
                    "freq": (n_case + n_ctrl) / len(g) if len(g) else np.nan,
                }
            )
        else:
            vals = y[at]
            bmd_rows.append(
                {
                    **label,
                    "effect_count": k,
                    "genotype": nuc,
                    "rflp": lab,
                    "n": int(vals.size),
                    "mean": float(vals.mean()) if vals.size else np.nan,
                    "sd": float(vals.std(ddof=1)) if vals.size > 1 else np.nan,
                    "median": float(np.median(vals)) if vals.size else np.nan,
                }
            )


def _pooled(
    rows: _Rows,
    v: PanelVariant,
    y: np.ndarray,
    g: np.ndarray,
    masks: dict[str, np.ndarray],
    *,
    min_n: int,
    excluded: str = "",
) -> None:
    """Mantel-Haenszel allelic OR and Breslow-Day test across the T2DM and the sex strata.

    Each stratum must reach ``min_stratum_n`` analysable samples (as for the per-stratum tests);
    otherwise, or for a QC-excluded variant, the two rows carry the reason. Only informative
    strata (both outcome levels and both alleles, or carriers and non-carriers, see
    :func:`vdrbone.contingency.informative_strata`) are pooled; with fewer than 2 nothing is
    pooled, both rows are NaN with a note naming what each stratum lacks, and the
    Mantel-Haenszel row drops out of the multiple-testing family (its p is NaN). ``n``,
    ``n_cases`` and ``n_controls`` count people in the informative strata.
    """
    term = "carrier" if v.ploidy == 1 else "alt_vs_ref"
    for label, pair in POOLED_STRATA.items():
        if not all(s in masks for s in pair):
            continue
        tables, small = [], []
        for s in pair:
            m = masks[s] & np.isfinite(y) & np.isfinite(g)
            if int(m.sum()) < min_n:
                small.append(f"{s} n={int(m.sum())}")
            size = v.ploidy + 1
            case, ctrl = _counts(g[m & (y == 1)], size), _counts(g[m & (y == 0)], size)
            if v.ploidy == 2:
                tables.append(contingency.allele_table(case, ctrl))
            else:
                tables.append([[case[1], case[0]], [ctrl[1], ctrl[0]]])
        reason = excluded or (
            f"too few samples in {', '.join(small)} (< min_stratum_n={min_n})" if small else ""
        )
        if reason:
            for res in _not_estimable([("mantel_haenszel", term), ("breslow_day", term)], reason):
                rows.add(v, label, res)
            continue
        tables = np.asarray(tables, dtype=np.int64)
        rows.add(v, label, contingency.mantel_haenszel(tables, ploidy=v.ploidy, labels=pair))
        rows.add(v, label, contingency.breslow_day(tables, ploidy=v.ploidy, labels=pair))
