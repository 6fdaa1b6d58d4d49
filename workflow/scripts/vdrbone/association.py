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
strata, and the PLINK ``--adjust`` set (Bonferroni, Holm, Sidak, Benjamini-Hochberg and
-Yekutieli) within the outcome complete the table.
The statistics live in :mod:`vdrbone.contingency` and :mod:`vdrbone.regression`; this module
only selects samples, counts, labels rows and adjusts p-values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vdrbone import contingency, interactions, maxstat, multiple_testing, power, regression, survival
from vdrbone.panel import Panel, PanelVariant
from vdrbone.phenotypes import entry_column, outcome_kind, time_column
from vdrbone.qc import NOT_EXTRACTED
from vdrbone.results import ASSOCIATION_COLUMNS, TestResult
from vdrbone.settings import Settings
from vdrbone.strata import POOLED_STRATA, strata_masks, stratum_interactions, varying_factors

# Tests in the multiple-testing family of an outcome (one test per variant x stratum x model;
# the two codominant rows share one test). Exact-test twins of a primary test (Fisher), the
# unadjusted descriptive tests of BMD (ANOVA, Kruskal-Wallis), the Breslow-Day homogeneity
# test and MAX3 (itself the max over three family members, its p already corrected for the
# choice of model) are reported with unadjusted p-values only.
PRIMARY_MODELS = (
    "allelic",
    "genotypic",
    "trend",
    "codominant",
    "dominant",
    "recessive",
    "overdominant",
    "additive",
    "carrier",
    "interaction_t2dm",
    "interaction_sex",
    "mantel_haenszel",
)
GENOTYPE_COUNT_COLUMNS = [
    "outcome", "variant", "name", "stratum", "effect_count", "genotype", "rflp",
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
    "outcome", "variant", "name", "stratum", "effect_count", "genotype", "rflp",
    "n", "mean", "sd", "median",
]  # fmt: skip
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
    kaplan_meier: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=KM_TABLE_COLUMNS))
    power: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=power.POWER_COLUMNS))


def genotype_matrix(calls: pd.DataFrame, samples: list[str], variants: list[str], column: str) -> np.ndarray:
    """Samples x variants float matrix of ``column`` from the long call table (NaN: no call).

    Rows of ``calls`` for samples or variants not asked for are ignored; a (sample, variant)
    pair must appear at most once.
    """
    rows = pd.Index(samples).get_indexer(calls["sample"].astype(str))
    cols = pd.Index(variants).get_indexer(calls["variant"].astype(str))
    keep = (rows >= 0) & (cols >= 0)
    if pd.MultiIndex.from_arrays([rows[keep], cols[keep]]).has_duplicates:
        raise ValueError("genotype_matrix: a (sample, variant) pair appears more than once in the call table")
    out = np.full((len(samples), len(variants)), np.nan)
    out[rows[keep], cols[keep]] = pd.to_numeric(calls[column], errors="coerce").to_numpy(dtype=float)[keep]
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


def adjust_pvalues(table: pd.DataFrame) -> pd.DataFrame:
    """Add the adjusted p-values of :data:`vdrbone.multiple_testing.ADJUSTED_COLUMNS`.

    The family is all rows of ``table`` whose model is in :data:`PRIMARY_MODELS` with a finite
    p-value, one test per (variant, stratum, model) (the codominant model's two terms share one
    2-df test). Columns: ``p_bonferroni``, ``p_holm``, ``p_sidak_ss``, ``p_sidak_sd``,
    ``q_value`` (Benjamini-Hochberg) and ``q_by`` (Benjamini-Yekutieli), the PLINK 1.9
    ``--adjust`` set (see :func:`vdrbone.multiple_testing.adjust`). Other rows get NaN.
    """
    out = table.copy()
    for col in multiple_testing.ADJUSTED_COLUMNS:
        out[col] = np.nan
    # configured interactions (interaction_<column>) are in the family too
    primary = (
        out["model"].isin(PRIMARY_MODELS) | out["model"].astype(str).str.startswith("interaction_")
    ) & np.isfinite(out["p_value"].astype(float))
    keys = ["variant", "stratum", "model"]
    tests = out.loc[primary, keys + ["p_value"]].drop_duplicates(keys)
    if tests.empty:
        return out
    adjusted = multiple_testing.adjust_all(tests["p_value"].to_numpy(float))
    tests = tests.assign(**adjusted).drop(columns="p_value")
    merged = out.loc[primary, keys].merge(tests, on=keys, how="left")
    for col in multiple_testing.ADJUSTED_COLUMNS:
        out.loc[primary, col] = merged[col].to_numpy()
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
    use_dosage = settings.genotypes.use_dosage
    with_max3 = bool(settings.association.max3)
    tol = float(settings.association.collinearity_tolerance)

    samples = list(pheno["sample"].astype(str))
    ids = [v.id for v in panel]
    G = genotype_matrix(calls, samples, ids, "effect_count")
    D = genotype_matrix(calls, samples, ids, "dosage") if "dosage" in calls else np.full_like(G, np.nan)
    y = pheno[outcome].to_numpy(dtype=float)
    follow_up = _follow_up(pheno, outcome) if tte else None
    base_covs = list(settings.covariates)
    cov_values = {name: pheno[name].to_numpy(dtype=float) for name in base_covs}
    sex = pheno["sex"].astype(object)
    t2dm = pheno["t2dm"].astype(object)
    cov_values["sex"] = np.where(sex.isna(), np.nan, (sex == "male").to_numpy(dtype=float))
    cov_values["t2dm"] = np.where(t2dm.isna(), np.nan, (t2dm == "yes").to_numpy(dtype=float))
    female = np.where(sex.isna(), np.nan, (sex == "female").to_numpy(dtype=float))
    masks = strata_masks(pheno, list(settings.strata))
    excluded = _qc_exclusions(qc, action=settings.qc.action)
    base_ok = (
        np.isfinite(np.column_stack([cov_values[c] for c in base_covs])).all(axis=1) if base_covs else True
    )

    rows = _Rows(outcome)
    power_inputs: list[tuple] = []
    dropped = DesignLog(outcome)
    counts_rows: list[dict] = []
    bmd_rows: list[dict] = []
    for j, v in enumerate(panel):
        g_all = G[:, j]
        dosage_all = D[:, j] if use_dosage and v.ploidy == 2 and np.isfinite(D[:, j]).any() else None
        called = np.isfinite(g_all) if dosage_all is None else np.isfinite(g_all) | np.isfinite(dosage_all)
        for stratum, mask in masks.items():
            # Sex / T2DM enter where they vary among the samples the models can use.
            analysable = mask & np.isfinite(y) & called & base_ok
            cov_names = base_covs + varying_factors(stratum, analysable, cov_values)
            if v.id in excluded:
                _excluded_rows(rows, v, stratum, binary and not tte, excluded[v.id], max3=with_max3, tte=tte)
                continue
            # the models' complete cases cover every covariate, dropped ones included (as R)
            y_reg = y[mask].copy()
            for c in cov_names:
                y_reg[~np.isfinite(cov_values[c][mask])] = np.nan
            design = stratum_design(cov_values, cov_names, analysable, tol=tol, min_n=min_n)
            dropped.add(stratum, v.id, design)
            cov_names = design.names
            cov_label = "+".join(cov_names)
            y_s, g_s = y[mask], g_all[mask]
            ok = np.isfinite(y_s) & np.isfinite(g_s)
            n_ok = int(ok.sum())
            _descriptives(counts_rows, bmd_rows, v, outcome, stratum, y_s[ok], g_s[ok], binary)
            small = f"too few samples (n={n_ok} < min_stratum_n={min_n})" if n_ok < min_n else ""
            counts = {"n": n_ok}
            if binary:
                counts.update(n_cases=int((y_s[ok] == 1).sum()), n_controls=int((y_s[ok] == 0).sum()))
            if not tte:
                for res in _unadjusted_tests(v, y_s[ok], g_s[ok], binary, small, counts, max3=with_max3):
                    rows.add(v, stratum, res)
            C = (
                np.column_stack([cov_values[c][mask] for c in cov_names])
                if cov_names
                else np.empty((mask.sum(), 0))
            )
            in_model = np.isfinite(y_reg) & np.isfinite(g_s) & np.isfinite(C).all(axis=1)
            power_inputs.append((v, stratum, y_reg[in_model], g_s[in_model]))
            if tte:
                time_s, entry_s = (None if a is None else a[mask] for a in follow_up)
                for res in survival.cox_genetic_models(
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
                ):
                    res.note = join_notes(res.note, design.note)
                    rows.add(v, stratum, res, covariates=cov_label)
            else:
                for res in regression.genetic_models(
                    y_reg,
                    g_s,
                    C,
                    outcome_type=outcome_type,
                    ploidy=v.ploidy,
                    dosage=None if dosage_all is None else dosage_all[mask],
                    covariate_names=cov_names,
                    min_n=min_n,
                    min_cases=min_cases,
                ):
                    res.note = join_notes(res.note, design.note)
                    rows.add(v, stratum, res, covariates=cov_label)
                time_s = entry_s = None
            for modifier, values, label in stratum_interactions(stratum, cov_values["t2dm"], female):
                names = [c for c in cov_names if c != modifier]
                Ci = (
                    np.column_stack([cov_values[c][mask] for c in names])
                    if names
                    else np.empty((mask.sum(), 0))
                )
                if mask.any() and not np.isfinite(values[mask]).any():
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
                        values[mask],
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
                        values[mask],
                        Ci,
                        outcome_type=outcome_type,
                        modifier_name=modifier,
                        covariate_names=names,
                        min_n=min_n,
                        min_cases=min_cases,
                    )
                res.note = join_notes(res.note, design.note)
                ref = f"{reference_label(v, 'additive')}; {label}"
                rows.add(v, stratum, res, covariates="+".join([*names, modifier]), reference=ref)
            _configured_interactions(
                rows, v, stratum, mask, y, g_all, pheno, cov_values, cov_names, settings.interactions,
                outcome_type=outcome_type, follow_up=follow_up, min_n=min_n, min_cases=min_cases,
            )  # fmt: skip
        if binary and not tte:
            _pooled(rows, v, y, g_all, masks, min_n=min_n, excluded=excluded.get(v.id, ""))

    table = adjust_pvalues(rows.frame())
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
    )


def _power_table(
    table: pd.DataFrame, inputs: list, *, outcome: str, outcome_type: str, settings: Settings
) -> pd.DataFrame:
    """``power.tsv`` rows of one outcome: the log-additive (mtDNA: carrier) model of every variant x
    stratum, at alpha and at the Bonferroni level of the outcome's family (alpha / m, m the number
    of tests with a p-value in the family; see :func:`adjust_pvalues`)."""
    alpha, effect = power.settings(settings, outcome, outcome_type)
    family = table[table["p_bonferroni"].notna()].drop_duplicates(["variant", "stratum", "model"])
    alphas = {"nominal": alpha, "bonferroni": alpha / max(len(family), 1)}
    rows = []
    for v, stratum, y, g in inputs:
        model = "carrier" if v.ploidy == 1 else "additive"
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
    pheno,
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
    :mod:`vdrbone.interactions`) in one stratum."""
    for spec in configured:
        column = spec["column"]
        categorical = spec.get("type", "continuous") == "categorical"
        values = _levels(pheno[column]) if categorical else pheno[column].to_numpy(dtype=float)
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


def _levels(values: pd.Series) -> np.ndarray:
    """A categorical column as level strings (a re-read "1" may come back as 1 or 1.0), None missing."""

    def text(x):
        if pd.isna(x):
            return None
        return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)

    return np.array([text(x) for x in values], dtype=object)


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
    C = np.column_stack([cov_values[c][analysable] for c in cov_names]) if cov_names else None
    if C is None:
        return regression.CovariateDesign([], [], [])
    C = C[np.isfinite(C).all(axis=1)]
    if C.shape[0] < min_n:
        return regression.CovariateDesign(list(range(len(cov_names))), list(cov_names), [])
    return regression.covariate_design(C, cov_names, tol=tol)


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
    outcome (PLINK ``--hwe``; see :func:`vdrbone.qc.qc_variants`). The variant is then excluded
    for every outcome, e.g. ``excluded by QC (hwe): HWE exact p 2.1e-08 < 1e-06 in controls of
    fracture``.
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
        rows.add(v, stratum, res, reference=f"{reference_label(v, 'additive')}; {label}")


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


def _descriptives(counts_rows, bmd_rows, v: PanelVariant, outcome, stratum, y, g, binary) -> None:
    """Genotype counts by case status (binary) or BMD summaries by genotype (continuous)."""
    size = v.ploidy + 1
    for k in range(size):
        nuc, lab = v.genotype_names(k)
        at = g == k
        label = {"outcome": outcome, "variant": v.id, "name": v.name, "stratum": stratum}
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
