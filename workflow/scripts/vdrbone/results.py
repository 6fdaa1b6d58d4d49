"""The result row shared by every statistical test, and the association table's columns."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

# Column order of association.tsv (see README, "Outputs").
ASSOCIATION_COLUMNS = [
    "variant",
    "name",
    "outcome",
    "stratum",
    "model",
    "term",
    "effect_allele",
    "other_allele",
    "reference",
    "n",
    "n_cases",
    "n_controls",
    "estimate",
    "estimate_type",
    "ci_lower",
    "ci_upper",
    "standard_error",
    "statistic",
    "df",
    "df_denominator",
    "p_value",
    "family",
    "p_bonferroni",
    "p_holm",
    "p_sidak_ss",
    "p_sidak_sd",
    "q_value",
    "q_by",
    "aic",
    "delta_aic",
    "wald_p_value",
    "wald_ci_lower",
    "wald_ci_upper",
    "method",
    "covariates",
    "note",
]

# Column order of epistasis.tsv and permutation.tsv (header-only when the step is off).
EPISTASIS_COLUMNS = [
    "outcome", "stratum", "variant1", "name1", "effect_allele1", "variant2", "name2", "effect_allele2",
    "coding", "n", "n_cases", "n_controls", "estimate", "estimate_type", "ci_lower", "ci_upper",
    "standard_error", "statistic", "df", "df_denominator", "p_value", "p_bonferroni", "q_value",
    "method", "covariates", "note",
]  # fmt: skip
PERMUTATION_COLUMNS = [
    "outcome", "variant", "name", "stratum", "test", "effect_allele", "n", "n_cases", "n_controls",
    "statistic", "p_value", "emp1", "emp2", "n_perm", "emp1_adaptive", "n_perm_adaptive",
    "family_size", "cells", "seed", "method", "note",
]  # fmt: skip


@dataclass
class TestResult:
    """One estimate or test: what goes into one association.tsv row besides its labels.

    ``estimate_type`` is ``"OR"`` or ``"beta"`` (or ``""`` for tests without an effect);
    ``note`` carries the reason when nothing could be estimated (``p_value`` is then NaN),
    or a remark such as ``"firth"`` when a fallback was used. ``wald_p_value``, ``wald_ci_lower``
    and ``wald_ci_upper`` hold the Wald test and 95% CI of logistic regression rows (for Firth
    rows, whose ``p_value`` and CI come from the penalised likelihood: the Wald values PLINK 2
    ``--glm firth`` prints); NaN for every other row.
    """

    model: str
    term: str = ""
    estimate: float = math.nan
    estimate_type: str = ""
    ci_lower: float = math.nan
    ci_upper: float = math.nan
    standard_error: float = math.nan
    statistic: float = math.nan
    df: float = math.nan
    p_value: float = math.nan
    aic: float = math.nan
    wald_p_value: float = math.nan
    wald_ci_lower: float = math.nan
    wald_ci_upper: float = math.nan
    n: int = 0
    n_cases: int | None = None
    n_controls: int | None = None
    method: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict)

    def row(self) -> dict:
        d = asdict(self)
        d.pop("extra")
        d.update(self.extra)
        return d
