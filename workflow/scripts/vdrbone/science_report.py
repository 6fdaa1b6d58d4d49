"""Report data for time to event, gene-environment interactions and derived outcomes.

Plain data (dicts, lists, strings, figure data URIs) for the macros of
``templates/science.html.j2``; every number comes from a table a rule wrote (``association.tsv``,
``kaplan_meier.tsv``, ``power.tsv``) or from the config. Counts go through the report's small-cell
suppression (:func:`vdrbone.disclosure.suppress_count`): a number at risk below k shows as ``<k``
and a Kaplan-Meier curve stops where its number at risk falls below k.
"""

from __future__ import annotations

import math

import pandas as pd

from vdrbone import plots
from vdrbone.disclosure import suppress_count, suppress_text
from vdrbone.panel import Panel
from vdrbone.phenotypes import outcome_kind
from vdrbone.settings import Settings

AT_RISK_POINTS = 6  # columns of the numbers-at-risk table


def _fmt(x, d=2) -> str:
    return f"{x:.{d}f}".replace("-", "\u2212") if x is not None and math.isfinite(x) else "NA"


def _p(x) -> str:
    if x is None or not math.isfinite(x):
        return "NA"
    return f"{x:.1e}" if x < 0.001 else f"{x:.3f}"


def _est_ci(r, k: int) -> str:
    if not math.isfinite(r.estimate):
        return suppress_text(r.note, k) if isinstance(r.note, str) and r.note else "NA"
    return f"{_fmt(r.estimate, 3)} ({_fmt(r.ci_lower, 3)}, {_fmt(r.ci_upper, 3)})"


def km_sections(
    km: pd.DataFrame, assoc: pd.DataFrame, panel: Panel, settings: Settings, *, k: int, plots_on: bool
) -> list:
    """Per time-to-event outcome and variant: KM figure, numbers at risk, additive HR and PH test."""
    out = []
    for key, spec in settings.outcomes.items():
        if outcome_kind(spec) != "time_to_event" or km is None or km.empty:
            continue
        ko = km[km["outcome"] == key]
        variants = []
        for v in panel:
            kv = ko[ko["variant"] == v.id]
            if kv.empty:
                continue
            grid = sorted(kv["time"].unique())
            step = max(1, len(grid) // (AT_RISK_POINTS - 1))
            shown = grid[::step][:AT_RISK_POINTS]
            curves, at_risk = [], []
            for _cls, g in kv.groupby("effect_count", sort=True):
                label = g["genotype"].iloc[0] + (
                    f" ({g['rflp'].iloc[0]})" if g["rflp"].iloc[0] != g["genotype"].iloc[0] else ""
                )
                visible = g[g["n_risk"] >= max(k, 1)] if k > 1 else g
                if len(visible):
                    curves.append(
                        {"label": label, "time": visible["time"].tolist(), "surv": visible["surv"].tolist()}
                    )
                at = g.set_index("time")["n_risk"]
                at_risk.append(
                    {"genotype": label, "counts": [suppress_count(int(at.get(t, 0)), k) for t in shown]}
                )
            rows = assoc[(assoc["outcome"] == key) & (assoc["variant"] == v.id) & (assoc["stratum"] == "all")]
            model = "carrier" if v.ploidy == 1 else "additive"
            hr = rows[rows["model"] == model]
            ph = rows[(rows["model"] == "ph_test") & (rows["term"] == model)]
            summary = ""
            if len(hr) and math.isfinite(float(hr["estimate"].iloc[0])):
                r = hr.iloc[0]
                summary = (
                    f"HR {'carrier' if v.ploidy == 1 else 'per effect allele'} {_fmt(r['estimate'])} "
                    f"({_fmt(r['ci_lower'])}, {_fmt(r['ci_upper'])}), LRT p {_p(r['p_value'])}"
                )
            elif len(hr):
                summary = f"HR not estimated: {hr['note'].iloc[0]}"
            if len(ph) and math.isfinite(float(ph["p_value"].iloc[0])):
                summary += f"; proportional-hazards test (cox.zph) p {_p(ph['p_value'].iloc[0])}"
            variants.append(
                {
                    "title": f"{v.name} ({v.id})",
                    "figure": plots.km_plot(
                        curves, title=f"{spec.get('label', key)}: {v.name}", xlabel="Follow-up time"
                    )
                    if plots_on and curves
                    else "",
                    "times": [f"{t:g}" for t in shown],
                    "at_risk": at_risk,
                    "summary": summary,
                }
            )
        out.append({"key": key, "label": spec.get("label", key), "variants": variants})
    return out


def interaction_sections(
    assoc: pd.DataFrame, panel: Panel, settings: Settings, *, k: int, plots_on: bool
) -> list:
    """Per configured interaction and outcome: the effect-by-level table and an interaction plot."""
    out = []
    for inter in settings.interactions:
        col = inter["column"]
        for key, spec in settings.outcomes.items():
            rows = assoc[(assoc["outcome"] == key) & (assoc["stratum"] == "all")]
            by = rows[rows["model"] == f"effect_by_{col}"]
            test = rows[rows["model"] == f"interaction_{col}"]
            if by.empty:
                continue
            etype = next((t for t in by["estimate_type"].dropna() if t), "beta")
            series, table = [], []
            for v in panel:
                b = by[by["variant"] == v.id]
                t = test[test["variant"] == v.id]
                if b.empty:
                    continue
                points = []
                for r in b.itertuples():
                    at = r.term.removeprefix("per_allele_at_")
                    points.append(
                        {
                            "at": at,
                            "estimate": float(r.estimate),
                            "ci_lower": float(r.ci_lower),
                            "ci_upper": float(r.ci_upper),
                        }
                    )
                    table.append(
                        {
                            "variant": f"{v.name} ({v.id})",
                            "at": str(r.reference).split("; ")[-1],
                            "estimate": _est_ci(r, k),
                            "p": _p(float(r.p_value)),
                            "p_interaction": _p(float(t["p_value"].iloc[0])) if len(t) else "NA",
                        }
                    )
                series.append({"label": v.name, "points": points})
            out.append(
                {
                    "column": col,
                    "outcome": spec.get("label", key),
                    "key": key,
                    "estimate_type": etype,
                    "table": table,
                    "figure": plots.interaction_plot(
                        series,
                        estimate_type=etype,
                        title=f"{spec.get('label', key)} by {col}",
                        xlabel=f"{col} ({'level' if inter.get('type') == 'categorical' else 'percentile'})",
                    )
                    if plots_on and series
                    else "",
                }
            )
    return out


def derived_outcomes(settings: Settings, reference: pd.DataFrame | None) -> list[str]:
    """How each ``who_class`` outcome was derived (one sentence each)."""
    from vdrbone.tscore import derivation_text

    outcomes = settings.outcomes
    return [
        derivation_text(k, s, outcomes, reference) for k, s in outcomes.items() if s["type"] == "who_class"
    ]


def power_sections(
    pw: pd.DataFrame | None, panel: Panel, settings: Settings, *, k: int, plots_on: bool
) -> dict:
    """Per outcome (stratum ``all``): power at alpha and at the Bonferroni level for the assumed
    effect, and the minimum detectable effect at 80% power, per variant; a compact figure."""
    out = {}
    if pw is None or pw.empty:
        return out
    for key, spec in settings.outcomes.items():
        p = pw[(pw["outcome"] == key) & (pw["stratum"] == "all")]
        if p.empty:
            continue
        nominal, bonf = p[p["level"] == "nominal"], p[p["level"] == "bonferroni"]
        etype = str(nominal["estimate_type"].iloc[0])
        rows, bars = [], []
        for v in panel:
            a, b = nominal[nominal["variant"] == v.id], bonf[bonf["variant"] == v.id]
            if a.empty:
                continue
            a, b = a.iloc[0], (b.iloc[0] if len(b) else None)
            d = 2 if etype != "beta" else 3
            rows.append(
                {
                    "variant": f"{v.name} ({v.id})",
                    "n": suppress_count(a["n"], k),
                    "freq": _fmt(float(a["effect_allele_freq"]), 3),
                    "power": _fmt(float(a["power"])),
                    "power_bonferroni": _fmt(float(b["power"])) if b is not None else "NA",
                    "mde": _fmt(float(a["mde_80"]), d),
                    "mde_bonferroni": _fmt(float(b["mde_80"]), d) if b is not None else "NA",
                    "note": a["note"] if isinstance(a["note"], str) else "",
                }
            )
            bars.append((v.name, float(a["power"]), float(b["power"]) if b is not None else float("nan")))
        first = nominal.iloc[0]
        alpha_b = float(bonf["alpha"].iloc[0]) if len(bonf) else float("nan")
        out[key] = {
            "estimate_type": etype,
            "assumed": f"{float(first['assumed_effect']):g}",
            "alpha": f"{float(first['alpha']):g}",
            "alpha_bonferroni": f"{alpha_b:.2g}",
            "rows": rows,
            "figure": plots.power_bars(
                bars,
                title=f"{spec.get('label', key)}: power",
                effect=f"{etype} {float(first['assumed_effect']):g}",
            )
            if plots_on and bars
            else "",
        }
    return out
