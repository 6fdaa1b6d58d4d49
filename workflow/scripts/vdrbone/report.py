"""The run's self-contained HTML report: aggregate tables only, inline CSS, no external resources."""

from __future__ import annotations

import html
from importlib import resources

import jinja2
import numpy as np
import pandas as pd

from vdrbone import __version__
from vdrbone.tables import read_tsv

# Columns holding counts of people or alleles: small cells are suppressed in shareable outputs.
COUNT_COLUMNS = {
    "n",
    "n_cases",
    "n_controls",
    "n_called",
    "n_samples",
    "n_hom_other",
    "n_het",
    "n_hom_effect",
    "n_carriers",
    "n_heteroplasmic",
    "n_het_haploid",
    "n_other_allele",
    "n_low_gp",
    "count",
}


def suppress_counts(df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Replace counts in ``COUNT_COLUMNS`` that are >0 and below ``threshold`` with ``"<k"``.

    Zero stays zero (an empty cell discloses nobody); NaN stays NaN. ``threshold`` 0 or 1 is a
    no-op. Returns a copy with those columns as strings.
    """
    if threshold <= 1:
        return df
    out = df.copy()
    for col in COUNT_COLUMNS.intersection(out.columns):
        values = pd.to_numeric(out[col], errors="coerce")
        small = (values > 0) & (values < threshold)
        text = values.map(lambda v: "" if pd.isna(v) else str(int(v)))
        out[col] = text.where(~small, f"<{threshold}")
    return out


def _fmt(value) -> str:
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3g}"
        return f"{value:.4g}"
    return html.escape(str(value))


def table_html(df: pd.DataFrame, *, columns: list[str] | None = None, max_rows: int | None = None) -> str:
    """An HTML table with compact number formatting (4 significant digits)."""
    if columns:
        df = df[[c for c in columns if c in df.columns]]
    if max_rows is not None:
        df = df.head(max_rows)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>" for row in df.itertuples(index=False)
    )
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


ASSOC_COLUMNS = [
    "variant",
    "name",
    "stratum",
    "model",
    "term",
    "effect_allele",
    "reference",
    "n",
    "n_cases",
    "n_controls",
    "estimate_type",
    "estimate",
    "ci_lower",
    "ci_upper",
    "p_value",
    "q_value",
    "aic",
    "note",
]


def render_report(*, run: dict, config: dict, tables: dict[str, str], suppress_below: int) -> str:
    """Render the report from the run record, the config and the shareable tables (by name)."""
    frames = {name: suppress_counts(read_tsv(path), suppress_below) for name, path in tables.items()}
    assoc = frames.get("association", pd.DataFrame())
    outcomes = []
    for key, spec in config["outcomes"].items():
        rows = assoc[assoc["outcome"] == key] if "outcome" in assoc else assoc.iloc[0:0]
        outcomes.append(
            {
                "key": key,
                "label": spec.get("label", key),
                "type": spec["type"],
                "table": table_html(rows, columns=ASSOC_COLUMNS),
            }
        )
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: resources.files("vdrbone").joinpath("templates", name).read_text(encoding="utf-8")
        ),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    template = env.get_template("report.html.j2")
    return template.render(
        run=run,
        config=config,
        version=__version__,
        suppress_below=suppress_below,
        tables={name: table_html(df) for name, df in frames.items() if name != "association"},
        outcomes=outcomes,
    )
