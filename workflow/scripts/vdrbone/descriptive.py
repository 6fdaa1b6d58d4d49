"""Descriptive statistics of the analysed participants: the report's "Table 1".

:func:`table_one` aggregates the coded phenotype table (``work/phenotypes.tsv``) by T2DM status
and sex into a tidy table (``tables/table1.tsv``, written by the ``table1`` rule), so the report
reads aggregates only and never the individual-level phenotypes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from vdrbone.phenotypes import outcome_kind
from vdrbone.strata import strata_masks

# Columns of Table 1, in display order (a sample with missing sex or T2DM counts only in the
# columns that do not fix that factor).
TABLE1_GROUPS = (
    "t2dm=yes,sex=female",
    "t2dm=yes,sex=male",
    "t2dm=yes",
    "t2dm=no,sex=female",
    "t2dm=no,sex=male",
    "t2dm=no",
    "all",
)
TABLE1_COLUMNS = ["group", "variable", "label", "kind", "n", "n_obs", "mean", "sd", "n_cases"]
VARIABLE_NAMES = {"age_years": "Age (years)", "age": "Age (years)", "bmi": "BMI (kg/m\u00b2)"}


def table_one(
    pheno: pd.DataFrame,
    *,
    outcomes: dict,
    covariates: list[str],
    groups: Sequence[str] = TABLE1_GROUPS,
) -> pd.DataFrame:
    """Descriptive "Table 1" by T2DM status and sex, from the coded phenotype table.

    For every group of ``groups`` (stratum labels such as ``t2dm=yes,sex=female``; default
    :data:`TABLE1_GROUPS`; a sample with missing sex or T2DM counts only in the groups that do
    not fix that factor): ``n`` participants; for covariates and continuous outcomes the number
    with a value (``n_obs``), mean and SD (ddof 1); for binary outcomes the number with a value
    and the number of cases (value 1). Missing values are excluded per variable. Returns a tidy
    frame with the columns :data:`TABLE1_COLUMNS`.
    """
    for col in ("sex", "t2dm"):
        if col not in pheno.columns:
            raise ValueError(f"pheno lacks column {col!r}; columns are {list(pheno.columns)}")
    masks = strata_masks(pheno, ["all", "t2dm", "sex", "t2dm_sex"])
    if unknown := [g for g in groups if g not in masks]:
        raise ValueError(f"table_one: unknown group(s) {unknown}; expected some of {list(masks)}")
    variables = [(c, VARIABLE_NAMES.get(c, c), "continuous") for c in covariates]
    for key, spec in outcomes.items():
        # time to event: the event column (number with an event, like cases); who_class: binary
        kind = "binary" if outcome_kind(spec) != "continuous" else "continuous"
        variables.append((key, spec.get("label", key), kind))
    values = {  # each column as numbers once, then subset per group
        col: pd.to_numeric(pheno[col], errors="coerce").to_numpy(float)
        for col, _, _ in variables
        if col in pheno.columns
    }
    rows = []
    for group in groups:
        mask = masks[group]
        n = int(mask.sum())
        rows.append({"group": group, "variable": "n", "label": "Participants", "kind": "count", "n": n})
        for col, label, kind in variables:
            if col not in values:
                continue
            x = values[col][mask]
            x = x[np.isfinite(x)]
            row = {
                "group": group,
                "variable": col,
                "label": label,
                "kind": kind,
                "n": n,
                "n_obs": int(x.size),
            }
            if kind == "binary":
                row["n_cases"] = int((x == 1).sum())
            else:
                row["mean"] = float(x.mean()) if x.size else np.nan
                row["sd"] = float(x.std(ddof=1)) if x.size > 1 else np.nan
            rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("n_obs", "n_cases", "mean", "sd"):
        if col not in out:
            out[col] = np.nan
    out = out[TABLE1_COLUMNS]
    for col in ("n_obs", "n_cases"):
        out[col] = out[col].astype("Int64")
    return out
