"""The combined (multi-cohort) report: per-effect forest plots with the pooled diamonds.

Reads ``meta_analysis.tsv`` and ``meta_cohorts.tsv`` (written by the ``combine`` rule) and
renders ``templates/meta_report.html.j2``; Python hands the template plain data (titles, figure
data URIs, numbers), never markup.
"""

from __future__ import annotations

from importlib import resources

import jinja2
import numpy as np
import pandas as pd

from vdrbone.meta import KEYS
from vdrbone.plots import meta_forest_plot
from vdrbone.strata import stratum_name


def forest_sections(
    meta: pd.DataFrame, cohorts: pd.DataFrame, *, models: list[str], strata: list[str]
) -> list[dict]:
    """One forest plot per meta-analysis row with ``model`` in ``models`` and ``stratum`` in
    ``strata`` and at least one cohort, in table order: ``{"title", "figure", "row"}`` where
    ``row`` holds the pooled numbers shown under the figure (plain floats and strings)."""
    sel = meta[meta["model"].isin(models) & meta["stratum"].isin(strata) & (meta["n_cohorts"] > 0)]
    by_key = {key: grp for key, grp in cohorts.groupby(KEYS, sort=False)}
    out = []
    for _, row in sel.iterrows():
        key = tuple(row[k] for k in KEYS)
        if key not in by_key:
            continue
        title = (
            f"{row['name']} ({row['variant']}), {row['outcome']}, {stratum_name(row['stratum'])}: "
            f"{row['model']} {row['term']}"
        )
        numbers = {
            c: (None if pd.isna(row[c]) else row[c])
            for c in ("estimate_type", "estimate", "ci_lower", "ci_upper", "p_value", "re_estimate",
                      "re_ci_lower", "re_ci_upper", "re_p_value", "pi_lower", "pi_upper", "tau2", "i2",
                      "q_p_value", "re_method", "n_cohorts", "note")
        }  # fmt: skip
        out.append(
            {"title": title, "figure": meta_forest_plot(by_key[key], row, title=title), "row": numbers}
        )
    return out


def render_combined_report(
    meta: pd.DataFrame,
    cohorts: pd.DataFrame,
    *,
    cohort_names: list[str],
    models: list[str],
    strata: list[str],
    tau2_method: str,
    hartung_knapp: bool,
) -> str:
    """HTML of the combined report (self-contained; figures inlined as SVG data URIs)."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: resources.files("vdrbone").joinpath("templates", name).read_text(encoding="utf-8")
        ),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, d=3: (
        "NA" if v is None or not np.isfinite(float(v)) else f"{float(v):.{d}f}"
    )
    env.filters["pval"] = lambda v: (
        "NA" if v is None or not np.isfinite(float(v)) else (f"{float(v):.1e}" if v < 0.001 else f"{v:.3f}")
    )
    return env.get_template("meta_report.html.j2").render(
        cohorts=cohort_names,
        forests=forest_sections(meta, cohorts, models=models, strata=strata),
        tau2_method=tau2_method,
        hartung_knapp=hartung_knapp,
        models=models,
        strata=strata,
    )
