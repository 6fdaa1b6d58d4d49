"""Multiple-testing families of the result tables, defined in one place.

Every row of ``association.tsv`` names its family in the column ``family``:

- ``primary``: the pre-specified primary analysis of config ``primary`` (default: the log-additive
  model in all participants for the four VDR SNPs x every outcome, plus the SNP x T2DM and SNP x
  sex interactions in all participants), one family across outcomes;
- ``exploratory:<outcome>``: every other test of :data:`FAMILY_MODELS` (and of the configured
  interactions ``interaction_<column>``) of that outcome (one test per variant x stratum x model;
  the two codominant rows share one 2-df test), as config
  ``association.multiple_testing_family: outcome``;
- ``none``: rows outside every family: exact-test twins of a family test (Fisher), the descriptive
  ANOVA / Kruskal-Wallis tests, Breslow-Day, and tests aliased with another test (note
  ``aliased with ...``), shown with their unadjusted p only.

Haplotype tables (``haplotype_association.tsv``) use ``haplotype:<outcome>``: the global tests
of one outcome over the strata.

Within each family the finite p-values (one per test) are adjusted by the PLINK 1.9 ``--adjust``
set of :mod:`vdrbone.multiple_testing` (Bonferroni, Holm, Sidak single-step and step-down,
Benjamini & Hochberg 1995 in column ``q_value`` -- the "BH-adjusted p", not a Storey q -- and
Benjamini-Yekutieli), as R ``p.adjust``. A row of a family with no p-value (not estimable)
keeps its family label and is not counted in m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vdrbone import multiple_testing
from vdrbone.results import ASSOCIATION_COLUMNS
from vdrbone.settings import Settings

PRIMARY = "primary"
NONE = "none"
ADJUSTED = tuple(multiple_testing.ADJUSTED_COLUMNS)
# Tests that enter a family (the primary one or an exploratory one).
FAMILY_MODELS = (
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
TEST_KEYS = ["outcome", "variant", "stratum", "model"]
GENETIC_MODELS = ("codominant", "dominant", "recessive", "overdominant", "additive")
INTERACTIONS = ("t2dm", "sex")


def exploratory(outcome: str) -> str:
    """Family label of the exploratory tests of ``outcome``."""
    return f"exploratory:{outcome}"


def haplotype_family(outcome: str) -> str:
    """Family label of the haplotype global tests of ``outcome``."""
    return f"haplotype:{outcome}"


@dataclass(frozen=True)
class PrimarySpec:
    """The pre-specified primary analysis (config ``primary``).

    ``variants`` / ``outcomes`` ``None``: every analysed diploid variant / every outcome.
    ``interactions``: modifiers (``t2dm``, ``sex``) whose SNP x modifier test is primary, in the
    primary strata. ``alpha``: the significance level the primary family is read at.
    """

    model: str = "additive"
    strata: tuple[str, ...] = ("all",)
    variants: tuple[str, ...] | None = None
    outcomes: tuple[str, ...] | None = None
    interactions: tuple[str, ...] = INTERACTIONS
    alpha: float = 0.05

    @property
    def models(self) -> tuple[str, ...]:
        return (self.model, *(f"interaction_{m}" for m in self.interactions))


def primary_spec(settings: Settings, *, diploid: list[str] | None = None) -> PrimarySpec:
    """:class:`PrimarySpec` from ``settings.primary`` (config ``primary``, defaults from the schema).

    ``diploid``: the analysed diploid variant ids, the default of ``primary.variants``.
    """
    p = settings.primary
    variants = p.get("variants")
    if variants is None and diploid is not None:
        variants = list(diploid)
    outcomes = p.get("outcomes")
    return PrimarySpec(
        model=p.get("model", "additive"),
        strata=tuple(p.get("strata", ["all"])),
        variants=None if variants is None else tuple(variants),
        outcomes=None if outcomes is None else tuple(outcomes),
        interactions=tuple(p.get("interactions", list(INTERACTIONS))),
        alpha=float(p.get("alpha", 0.05)),
    )


def assign_families(table: pd.DataFrame, spec: PrimarySpec) -> pd.Series:
    """The family label of every row of an association table (see the module docstring).

    Rows whose ``family`` is already ``none`` (aliased tests) stay ``none``.
    """
    model = table["model"].astype(str)
    # configured gene-environment interactions (interaction_<column>) are family members too
    in_family = model.isin(FAMILY_MODELS) | model.str.startswith("interaction_")
    primary = model.isin(spec.models) & table["stratum"].isin(spec.strata)
    if spec.variants is not None:
        primary &= table["variant"].isin(spec.variants)
    if spec.outcomes is not None:
        primary &= table["outcome"].isin(spec.outcomes)
    out = pd.Series(NONE, index=table.index, dtype=object)
    out[in_family] = table.loc[in_family, "outcome"].map(exploratory)
    out[in_family & primary] = PRIMARY
    if "family" in table:
        out[table["family"].fillna("").astype(str) == NONE] = NONE
    return out


def adjust_family(p) -> dict[str, np.ndarray]:
    """The adjusted columns (:data:`ADJUSTED`) of one family of finite p-values."""
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or not np.isfinite(p).all():
        raise ValueError(f"adjust_family: expected a 1-D array of finite p-values, got shape {p.shape}")
    return multiple_testing.adjust_all(p)


def adjust_by_family(table: pd.DataFrame, *, keys: list[str] | None = None) -> pd.DataFrame:
    """Adjust the p-values of ``table`` within each family of its ``family`` column.

    One test per ``keys`` (default :data:`TEST_KEYS`; the codominant model's two rows share
    one test and one adjusted value); rows of family ``none`` and rows without a finite p get
    NaN.
    """
    keys = TEST_KEYS if keys is None else keys
    out = table.copy()
    for col in ADJUSTED:
        out[col] = np.nan
    p_all = pd.to_numeric(out["p_value"], errors="coerce").astype(float)
    usable = (out["family"] != NONE) & np.isfinite(p_all)
    for _family, part in out[usable].groupby("family", sort=False):
        tests = part[keys].assign(p_value=p_all[part.index]).drop_duplicates(keys)
        adjusted = adjust_family(tests["p_value"].to_numpy(float))
        tests = tests.assign(**adjusted).drop(columns="p_value")
        merged = part[keys].merge(tests, on=keys, how="left")
        for col in ADJUSTED:
            out.loc[part.index, col] = merged[col].to_numpy()
    return out


def family_sizes(table: pd.DataFrame, *, keys: list[str] | None = None) -> pd.DataFrame:
    """Number of tests (finite p) per family: columns ``family``, ``m``."""
    keys = TEST_KEYS if keys is None else keys
    p = pd.to_numeric(table["p_value"], errors="coerce")
    sel = table[(table["family"] != NONE) & p.notna()]
    m = sel.drop_duplicates(keys).groupby("family", sort=False).size()
    return m.rename("m").reset_index()


def adjust_pvalues(table: pd.DataFrame, *, spec: PrimarySpec | None = None) -> pd.DataFrame:
    """Label each row's multiple-testing family and adjust within it.

    ``family`` from :func:`assign_families` with ``spec`` (default: the default
    primary analysis over whatever variants are in ``table``); ``p_bonferroni`` and ``q_value``
    (Benjamini-Hochberg) from :func:`adjust_by_family`, one test per (outcome,
    variant, stratum, model) (the codominant model's two terms share one 2-df test), as R
    ``p.adjust``. Rows of family ``none`` or without a finite p get NaN.
    """
    out = table.copy()
    if "outcome" not in out:
        out["outcome"] = ""
    out["family"] = assign_families(out, spec or PrimarySpec())
    return adjust_by_family(out)


def merge_outcomes(tables: list[pd.DataFrame], *, spec: PrimarySpec | None = None) -> pd.DataFrame:
    """One association table across outcomes (``association.tsv``).

    The per-outcome tables are concatenated and their families adjusted again over all outcomes:
    the primary family spans outcomes, so its Bonferroni and BH values are only final here.
    """
    parts = [t for t in tables if len(t)]
    if not parts:
        return pd.DataFrame(columns=ASSOCIATION_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    for col in ("n", "n_cases", "n_controls"):
        table[col] = pd.to_numeric(table[col]).round().astype("Int64")
    return adjust_pvalues(table, spec=spec)[ASSOCIATION_COLUMNS]


def adjust_global(df: pd.DataFrame) -> pd.DataFrame:
    """Bonferroni and BH adjustment of the ``haplotype_global`` tests within the family
    ``haplotype:<outcome>`` (the global tests of one outcome over its strata; see
    the module docstring); the per-haplotype rows are family ``none`` and get NaN."""
    out = df.copy()
    glob = out["model"] == "haplotype_global"
    out["family"] = np.where(glob, out["outcome"].map(haplotype_family), NONE)
    return adjust_by_family(out)
