"""The run's self-contained report (HTML, and the same pages as PDF), rendered from the run's tables.

:func:`report_context` reads the run's tables (aggregate statistics only: ``association.tsv``,
``qc_variants.tsv``, ``table1.tsv``...) and turns them into plain data (dicts, lists, strings
and numbers) for the Jinja templates in ``templates/`` (autoescape on): the findings page, run
summary with input checksums and warnings, QC beside reference population frequencies, "Table
1", genotype tables per stratum, SNPassoc-style association tables per outcome and variant with
forest and BMD-by-genotype plots, a sortable and filterable table of every association row,
haplotypes and LD when their tables exist, the methods text (:mod:`vdrbone.methods`) and each
table as a TSV download. :func:`render_report` renders the HTML page, :func:`write_pdf` the
PDF (WeasyPrint) from the same templates (print medium). The HTML's figures are SVG; in the
workflow's PDF (:func:`drawn_figures`) they are PNG copies at 200 dpi (:data:`PRINT_DPI`) placed
at the SVG's size. Python builds no markup: a table is
``{'head': [...], 'rows': [[cell, ...], ...]}``, a cell ``{'c': content, 'cls', 'rowspan',
'colspan'}`` and content is text, a list of contents or an element ``{'tag', 'cls', 'c', ...}``;
the macros of ``templates/macros.html.j2`` render them.

Every number taken from ``association.tsv`` is written inside an element carrying
``data-key="outcome|variant|stratum|model|term"`` and ``data-col="<column>"``, so a reader (or a
test) can trace it back to its row. Counts are written as ``<span class="n">`` and pass through
:func:`vdrbone.disclosure.suppress_count`: with small-cell suppression on, counts 1..k-1 appear
as ``<k`` and the frequencies and means of such cells are withheld; the downloads are the
suppressed tables. Individual-level data never enter the report.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import math
import multiprocessing
import os
import re
from importlib import resources

import jinja2
import numpy as np
import pandas as pd
import yaml

from vdrbone import __version__
from vdrbone.descriptive import TABLE1_GROUPS
from vdrbone.disclosure import (
    COUNT_COLUMNS,
    complementary,
    is_small,
    shareable_bytes,
    small_mask,
    suppress_count,
    suppress_counts,
    suppress_text,
)
from vdrbone.files import atomic_path, sha256_file
from vdrbone.methods import REFERENCES, methods_sections, p_value_legend, run_facts, software_versions
from vdrbone.panel import Panel, PanelVariant
from vdrbone.phenotypes import outcome_kind
from vdrbone.plots import (
    drawn_in_parallel,
    epistasis_heatmap,
    forest_plot,
    genotype_means_plot,
    haplotype_bars,
    ld_heatmap,
    pvalue_heatmap,
)
from vdrbone.qc import NO_HWE_MT
from vdrbone.settings import Settings, settings_from_config
from vdrbone.strata import strata_labels, stratum_name
from vdrbone.strega import flow_summary, strega_checklist
from vdrbone.tables import read_tsv

PRIMARY_TESTS_BINARY = ("allelic", "allelic_fisher", "genotypic", "genotypic_fisher", "trend")
PRIMARY_TESTS_CONTINUOUS = ("anova", "kruskal_wallis")
SECTION_IDS = (
    "findings",
    "summary",
    "qc",
    "table1",
    "genotypes",
    "association",
    "browse",
    "skipped",
    "methods",
    "downloads",
    "appendix",
)
HAPLOTYPE_TABLES = ("ld", "haplotypes", "haplotype_association")
POPULATIONS = ("EUR", "EAS", "AFR")
MINUS = "\u2212"
# The findings page: a result "passes" at this Benjamini-Hochberg false-discovery rate within its
# outcome (the multiple-testing family, association.multiple_testing_family); the strongest
# FINDINGS_NEAR results that do not pass are listed beside them.
FDR = 0.05
FINDINGS_NEAR = 3
# Columns of the browsable association table, in order.
BROWSE_COLUMNS = (
    "name", "variant", "outcome", "stratum", "model", "term", "n", "estimate", "ci_lower", "ci_upper",
    "p_value", "q_value", "note",
)  # fmt: skip
TSV_MIME = "text/tab-separated-values"
# The PDF's figures are PNG drawn by Agg at PRINT_DPI dots per inch (WeasyPrint places a PNG far
# faster than it walks an SVG); the HTML keeps the SVG. The print medium leaves the means by
# genotype to the HTML (report.html.j2), so those are drawn as SVG only, after the PNG copies.
PRINT_DPI = 200
SCREEN_ONLY_FIGURES = ("genotype_means_plot",)


# --------------------------------------------------------------------------- template data
def span(content, *, cls: str = "num", key: str = "", col: str = "") -> dict:
    """A ``<span>``; with ``key`` it carries ``data-key``/``data-col`` (the association row)."""
    return {"tag": "span", "cls": cls, "key": key, "col": col, "c": content}


def el(tag: str, content="", *, cls: str = "", title: str = "", href: str = "") -> dict:
    """An inline element (``b``, ``small``, ``sup``, ``a``, ``abbr``...) around ``content``."""
    return {"tag": tag, "cls": cls, "title": title, "href": href, "c": content}


BR = {"tag": "br"}


def na(text) -> dict:
    """A muted note in place of a number (``span.na``)."""
    return span(text, cls="na")


def flag(text) -> dict:
    return span(text, cls="flag")


def cell(content="", *, cls: str = "", rowspan: int = 1, colspan: int = 1) -> dict:
    return {"c": content, "cls": cls, "rowspan": rowspan, "colspan": colspan}


def table(head: list, rows: list[list], *, cls: str = "data", caption="") -> dict:
    """A table for the ``table`` macro; ``None`` cells of ``rows`` are skipped (rowspans)."""
    return {"head": head, "rows": rows, "cls": cls, "caption": caption}


WITHHELD = span("suppressed", cls="n")


# --------------------------------------------------------------------------- formatting
def _finite(value) -> bool:
    try:
        return value is not None and value is not pd.NA and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def fmt_num(value, decimals: int) -> str:
    """Fixed decimals with a typographic minus; ``""`` when missing."""
    if not _finite(value):
        return ""
    text = f"{float(value):.{decimals}f}"
    if text.startswith("-"):
        text = MINUS + text[1:] if float(text) != 0 else text[1:]
    return text


def fmt_p(value):
    """p-value: 3 decimals down to 0.001, then 2 significant digits as ``2.3x10^-5`` (the
    exponent a ``sup`` element); ``""`` when missing."""
    if not _finite(value):
        return ""
    p = float(value)
    if p >= 0.001 or p == 0:
        return f"{p:.3f}"
    mant, exp = f"{p:.1e}".split("e")
    return [f"{mant}\u00d710", el("sup", f"{MINUS}{abs(int(exp))}")]


def fmt_p_text(value) -> str:
    """:func:`fmt_p` as plain text (``2.3x10-5``), for figures."""
    p = fmt_p(value)
    return p if isinstance(p, str) else p[0] + p[1]["c"]


def _mean_sd(mean, sd, decimals: int) -> str:
    return f"{fmt_num(mean, decimals)} ({fmt_num(sd, decimals) if _finite(sd) else '-'})"


def _est_ci(est, lo, hi, decimals: int) -> str:
    return f"{fmt_num(est, decimals)} ({fmt_num(lo, decimals)} to {fmt_num(hi, decimals)})"


def _allele_name(v: PanelVariant, allele: str) -> str:
    """``"G (t)"``: a forward allele with its literature letter when it has one."""
    return allele if v.label(allele) == allele else f"{allele} ({v.label(allele)})"


def _anchor(outcome: str, variant: str) -> str:
    return f"{outcome}-{variant}".replace(".", "_")


def _count(value, k: int, *, key: str = "", col: str = "") -> dict:
    return span(suppress_count(value, k), key=key, col=col, cls="n")


def _row_key(row) -> str:
    return "|".join(str(row[c]) for c in ("outcome", "variant", "stratum", "model", "term"))


def table_data(df: pd.DataFrame, *, columns: list[str] | None = None, max_rows: int | None = None) -> dict:
    """A plain table of a (suppressed) DataFrame with compact number formatting."""
    if columns:
        df = df[[c for c in columns if c in df.columns]]
    if max_rows is not None:
        df = df.head(max_rows)
    rows = []
    for r in df.itertuples(index=False):
        cells = []
        for col, v in zip(df.columns, r, strict=True):
            if col in COUNT_COLUMNS:
                cells.append(cell(span(v if isinstance(v, str) else suppress_count(v, 0), cls="n")))
            elif isinstance(v, float | np.floating):
                cells.append(cell("" if np.isnan(v) else f"{v:.4g}"))
            else:
                cells.append(cell("" if v is None else str(v), cls="text"))
        rows.append(cells)
    return table([str(c) for c in df.columns], rows)


def _ratio(rows: pd.DataFrame) -> str:
    """``HR`` for the rows of a time-to-event outcome, else ``OR``."""
    types = rows["estimate_type"] if "estimate_type" in rows else pd.Series(dtype=object)
    return "HR" if (types == "HR").any() else "OR"


def estimate_decimals(assoc: pd.DataFrame, estimate_type: str) -> int:
    """Decimals for estimates: 2 for ORs; for betas enough to show 2 digits of the median SE."""
    if estimate_type == "OR":
        return 2
    se = pd.to_numeric(assoc.get("standard_error", pd.Series(dtype=float)), errors="coerce")
    se = se[np.isfinite(se) & (se > 0)]
    if se.empty:
        return 3
    return int(min(6, max(2, 1 - math.floor(math.log10(float(se.median()))))))


# --------------------------------------------------------------------------- run summary
def input_checksums(paths: dict[str, list[str]], *, cache: dict | None = None) -> list[dict]:
    """Role, path, size and SHA-256 of every input file (missing files say so).

    ``cache`` is the run's checksum cache (:func:`vdrbone.files.sha256_file`, keyed by
    absolute path, size and mtime), so large VCFs hashed for the run fingerprint are not read again.
    """
    out = []
    for role, files in paths.items():
        for path in files:
            if os.path.isfile(path):
                digest = sha256_file(path, cache)
                out.append({"role": role, "path": path, "size": os.path.getsize(path), "sha256": digest})
            else:
                out.append({"role": role, "path": path, "size": None, "sha256": "file not found"})
    return out


_PY_PATH = re.compile(r"(?:/[^\s/:]+)+/[^\s/:]+\.py")
_TMP_SCRIPT = re.compile(r"\btmp[a-z0-9_]{6,}\.")  # Snakemake's copies of scripts: tmpab12cd.qc.py
_LOG_WARNING = re.compile(r"^(?:\S+ \S+ )?WARNING\s+(?:\S+: )?(.*)$")


def collect_warnings(log_paths: list[str], *, extra: list[str] | None = None) -> list[dict]:
    """WARNING lines of the run's logs, timestamps and script paths stripped, deduplicated.

    Messages that differ only in their numbers (e.g. a condition number) are listed once with
    ``count`` > 1. Returns ``{'source': log file name(s), 'message': str, 'count': int}`` in order
    of first appearance (``extra`` first, with source ``configuration``).
    """
    found: dict[str, dict] = {}
    for message in extra or []:
        found.setdefault(message, {"source": "configuration", "message": message, "count": 0})["count"] += 1
    for path in sorted(log_paths):
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
        for line in lines:
            m = _LOG_WARNING.match(line.strip())
            if not m:
                continue
            message = _PY_PATH.sub(lambda x: os.path.basename(x.group(0)), m.group(1))
            message = _TMP_SCRIPT.sub("", message)
            key = re.sub(r"\d+(?:\.\d+)?(?:e-?\d+)?", "#", message)
            entry = found.setdefault(key, {"source": os.path.basename(path), "message": message, "count": 0})
            entry["count"] += 1
            if os.path.basename(path) not in entry["source"].split(", "):
                entry["source"] += f", {os.path.basename(path)}"
    return list(found.values())


# --------------------------------------------------------------------------- Table 1
TABLE1_HEADS = {
    "t2dm=yes,sex=female": ["T2DM", BR, "women"],
    "t2dm=yes,sex=male": ["T2DM", BR, "men"],
    "t2dm=yes": ["T2DM", BR, "all"],
    "t2dm=no,sex=female": ["No T2DM", BR, "women"],
    "t2dm=no,sex=male": ["No T2DM", BR, "men"],
    "t2dm=no": ["No T2DM", BR, "all"],
    "all": ["All", BR, "participants"],
}


def table_one_data(t1: pd.DataFrame, k: int) -> dict:
    """Table 1 from ``table1.tsv`` (:func:`vdrbone.descriptive.table_one`): participants, mean (SD)
    of continuous variables and n (%) of binary ones, and the number missing, per group."""
    groups = [g for g in TABLE1_GROUPS if g in set(t1["group"])]
    rows = []
    for variable in dict.fromkeys(t1["variable"]):
        sub = t1[t1["variable"] == variable].drop_duplicates("group").set_index("group")
        first = sub.iloc[0]
        if variable == "n":
            rows.append(
                [cell("Participants, n", cls="text")] + [cell(_count(sub.at[g, "n"], k)) for g in groups]
            )
            continue
        if first["kind"] == "binary":
            label = f"{first['label']}, n (%)"
            cells = []
            for g in groups:
                cases, obs = sub.at[g, "n_cases"], sub.at[g, "n_obs"]
                text = [_count(cases, k)]
                if _finite(obs) and obs and _finite(cases) and not is_small(cases, k):
                    text.append(f" ({100 * float(cases) / float(obs):.1f})")
                cells.append(cell(text))
        else:
            label = f"{first['label']}, mean (SD)"
            means = pd.to_numeric(sub["mean"], errors="coerce")
            decimals = 1 if abs(float(np.nanmean(means))) >= 10 else 3
            cells = []
            for g in groups:
                if is_small(sub.at[g, "n_obs"], k) or not _finite(sub.at[g, "mean"]):
                    cells.append(cell("\u2013"))
                else:
                    cells.append(cell(_mean_sd(sub.at[g, "mean"], sub.at[g, "sd"], decimals)))
        rows.append([cell(label, cls="text")] + cells)
        missing = [
            float(sub.at[g, "n"]) - float(sub.at[g, "n_obs"]) if _finite(sub.at[g, "n_obs"]) else np.nan
            for g in groups
        ]
        if any(_finite(m) and m for m in missing):
            rows.append(
                [cell("\u2003missing, n", cls="text sub")] + [cell(_count(m, k), cls="sub") for m in missing]
            )
    return table([""] + [TABLE1_HEADS.get(g, stratum_name(g)) for g in groups], rows, cls="data table1")


# --------------------------------------------------------------------------- QC
def reference_frequencies(panel: Panel, populations_path: str | None) -> pd.DataFrame:
    """Expected effect-allele (mtDNA: carrier) frequency per variant and population.

    From ``resources/populations.tsv`` through :func:`vdrbone.simulate.population_model`
    (haplotype rows are marginalised to allele frequencies). Returns ``variant`` x population
    columns; empty when the table is missing or does not cover the panel.
    """
    from vdrbone.simulate import population_model, read_populations

    if not populations_path or not os.path.exists(populations_path):
        return pd.DataFrame()
    table_ = read_populations(populations_path)
    out = pd.DataFrame(index=panel.ids)
    for pop in POPULATIONS:
        try:
            model = population_model(table_, panel, population=pop)
        except Exception:  # noqa: BLE001 - a population not covering the panel is simply not shown
            continue
        out[pop] = [model.effect_allele_frequency(v) for v in panel.ids]
    return out


def _variant_label(v: PanelVariant) -> list:
    return [el("b", v.name), f" {v.id}"]


def qc_data(
    qc: pd.DataFrame, extraction: pd.DataFrame, ref: pd.DataFrame, panel: Panel, settings: Settings, k: int
):
    """The QC table (call rate, frequency beside the reference populations, HWE, flag) and the
    HWE-by-stratum table, from ``qc_variants.tsv`` and ``extraction.tsv``; and the simulated
    population (or ``None``)."""
    binary = [o for o, s in settings.outcomes.items() if outcome_kind(s) == "binary"]
    sim = settings.simulate
    population = sim.population if sim is not None and sim.enabled else None
    pops = [p for p in POPULATIONS if p in ref.columns]
    head = ["Variant", "Position", "Effect / other allele", "Called", "Call rate", "Effect-allele freq."]
    head += [[f"{p}{' (simulated)' if p == population else ''}", BR, "reference"] for p in pops]
    head += ["HWE p (all)"] + [f"HWE p (controls, {o})" for o in binary] + ["QC flag"]
    rows = []
    ext = extraction.set_index("variant") if "variant" in extraction else pd.DataFrame()
    for v in panel:
        sub = qc[(qc["variant"] == v.id) & (qc["stratum"] == "all")]
        main = sub[sub["subset"] == "all"]
        if main.empty:
            continue
        r = main.iloc[0]
        pos = ""
        if v.id in ext.index and _finite(ext.at[v.id, "pos"]):
            pos = f"{ext.at[v.id, 'contig']}:{int(ext.at[v.id, 'pos'])}"
        elif v.id in ext.index:
            pos = f"not found ({ext.at[v.id, 'reason']})"
        alleles = f"{_allele_name(v, v.effect_allele)} / {_allele_name(v, v.other_allele)}"
        if v.is_mt and is_small(r["n_carriers"], k):
            freq = "\u2013"
        else:
            freq = [fmt_num(r["effect_allele_freq"], 3 if not v.is_mt else 4)]
            if v.is_mt:
                freq += [" ", el("small", "(carriers)")]
        cells = [
            cell(_variant_label(v), cls="text"),
            cell(pos, cls="text"),
            cell(alleles, cls="text"),
            cell([_count(r["n_called"], k), " / ", _count(r["n_samples"], k)]),
            cell(fmt_num(r["call_rate"], 3)),
            cell(freq),
        ]
        for p in pops:
            val = ref.at[v.id, p] if v.id in ref.index else np.nan
            cells.append(
                cell(fmt_num(val, 3 if not v.is_mt else 4), cls="ref" + (" own" if p == population else ""))
            )
        cells.append(cell(fmt_p(r["hwe_p"]) if _finite(r["hwe_p"]) else el("small", "n/a (haploid)")))
        for o in binary:
            c = sub[sub["subset"] == f"controls:{o}"]
            hp = c["hwe_p"].iloc[0] if len(c) else np.nan
            cells.append(cell(fmt_p(hp) if _finite(hp) else el("small", "n/a")))
        reason = r["reason"] if isinstance(r["reason"], str) and r["reason"] else ""
        note = "; ".join(
            part
            for part in str(r["note"] if isinstance(r["note"], str) else "").split("; ")
            if part and part != NO_HWE_MT
        )
        status = [flag(suppress_text(reason, k)) if reason else "pass"]
        if note:
            status += [BR, el("small", suppress_text(note, k))]
        cells.append(cell(status, cls="text"))
        rows.append(cells)
    main_table = table(head, rows)

    strata = list(dict.fromkeys(qc["stratum"]))
    rows2 = []
    for v in panel:
        if v.is_mt:
            continue
        sub = qc[(qc["variant"] == v.id) & (qc["subset"] == "all")].set_index("stratum")
        cells = [cell(el("b", v.name), cls="text")]
        for s in strata:
            hp = sub.at[s, "hwe_p"] if s in sub.index else np.nan
            flagged = s in sub.index and "hwe" in str(sub.at[s, "flag"])
            cells.append(cell([fmt_p(hp), " \u2020" if flagged else ""], cls="flagged" if flagged else ""))
        rows2.append(cells)
    hwe_table = table(["Variant"] + [stratum_name(s) for s in strata], rows2)
    return main_table, hwe_table, population


# --------------------------------------------------------------------------- genotype tables
def _genotype_label(v: PanelVariant, k: int) -> str:
    nuc, lab = v.genotype_names(k)
    if v.is_mt:
        return f"{nuc} ({'carrier' if k else 'non-carrier'})"
    return nuc if nuc == lab else f"{nuc} ({lab})"


def genotype_tables(qc: pd.DataFrame, panel: Panel, k: int) -> list[dict]:
    """Per variant: genotype counts n (%) per stratum, with complementary suppression."""
    out = []
    qc = qc[qc["subset"] == "all"]
    for v in panel:
        sub = qc[qc["variant"] == v.id]
        if sub.empty:
            continue
        head = ["Stratum", "Called"] + [[_genotype_label(v, g), BR, "n (%)"] for g in range(v.ploidy + 1)]
        head += ["Carrier freq." if v.is_mt else f"Freq. {_allele_name(v, v.effect_allele)}"]
        rows = []
        for _, r in sub.iterrows():
            if v.is_mt:
                carriers = r["n_carriers"]
                counts = [r["n_called"] - carriers if _finite(carriers) else np.nan, carriers]
            else:
                counts = [r["n_hom_other"], r["n_het"], r["n_hom_effect"]]
            called = r["n_called"]
            cells = [cell(stratum_name(r["stratum"]), cls="text"), cell(_count(called, k))]
            any_small = False
            for c, withhold in zip(counts, complementary(counts, k), strict=True):
                small = is_small(c, k)
                any_small |= small
                if withhold:
                    cells.append(cell(WITHHELD))
                elif _finite(c) and called and not small:
                    cells.append(cell([_count(c, k), f" ({100 * float(c) / float(called):.1f})"]))
                else:
                    cells.append(cell(_count(c, k)))
            freq = r["effect_allele_freq"]
            cells.append(
                cell("\u2013" if (v.is_mt and any_small) else fmt_num(freq, 3 if not v.is_mt else 4))
            )
            rows.append(cells)
        out.append({"variant": v.id, "title": f"{v.name} ({v.id})", "table": table(head, rows)})
    return out


# --------------------------------------------------------------------------- association
def _groups(v: PanelVariant, model: str) -> list[tuple[str, tuple[int, ...], str]]:
    """(label, effect counts pooled, term) of the rows of one genetic model; term '' = reference."""
    if v.is_mt:
        return [(_genotype_label(v, 0), (0,), ""), (_genotype_label(v, 1), (1,), "carrier")]
    g = [_genotype_label(v, i) for i in range(3)]
    return {
        "codominant": [(g[0], (0,), ""), (g[1], (1,), "het"), (g[2], (2,), "hom_alt")],
        "dominant": [(g[0], (0,), ""), (f"{g[1]} + {g[2]}", (1, 2), "carrier")],
        "recessive": [(f"{g[0]} + {g[1]}", (0, 1), ""), (g[2], (2,), "hom_alt")],
        "overdominant": [(f"{g[0]} + {g[2]}", (0, 2), ""), (g[1], (1,), "het")],
    }[model]


MODEL_NAMES = {
    "codominant": "Codominant",
    "dominant": "Dominant",
    "recessive": "Recessive",
    "overdominant": "Overdominant",
    "additive": "Log-additive",
    "carrier": "Carrier",
}


def _classes(desc: pd.DataFrame, binary: bool) -> dict[str, np.ndarray]:
    """The genotype classes of a descriptive table as arrays (``effect_count`` and the counts,
    or n, mean and SD), so that pooling them does not filter the DataFrame again and again."""

    def column(col: str) -> pd.Series:
        return desc[col] if col in desc.columns else pd.Series(np.nan, index=desc.index)

    out = {"effect_count": desc["effect_count"].to_numpy()}
    if binary:
        for col in ("n_controls", "n_cases"):
            out[col] = pd.to_numeric(column(col), errors="coerce").to_numpy(float)
    else:
        out["n"] = column("n").to_numpy(float)
        out["mean"] = column("mean").to_numpy(float)
        out["sd"] = np.nan_to_num(column("sd").to_numpy(float))
    return out


def _pool_counts(classes: dict, counts: tuple[int, ...], col: str, k: int):
    """Sum of a count column over effect counts; None when a component is suppressed (small)."""
    sel = np.isin(classes["effect_count"], counts)
    if not sel.any():
        return np.nan
    values = classes[col][sel]
    if len(counts) > 1 and small_mask(values, k).any():
        return None
    return float(np.nansum(values))


def _pool_means(classes: dict, counts: tuple[int, ...], k: int):
    """(n, mean, sd) of the pooled genotype classes, exactly from per-class n, mean and SD."""
    sel = np.isin(classes["effect_count"], counts)
    if not sel.any():
        return np.nan, np.nan, np.nan
    n, m, s = classes["n"][sel], classes["mean"][sel], classes["sd"][sel]
    if len(counts) > 1 and small_mask(n, k).any():
        return None, np.nan, np.nan
    total = n.sum()
    if total == 0:
        return 0.0, np.nan, np.nan
    keep = n > 0
    mean = float((n[keep] * m[keep]).sum() / total)
    ss = ((n[keep] - 1) * s[keep] ** 2).sum() + (n[keep] * (m[keep] - mean) ** 2).sum()
    sd = float(math.sqrt(ss / (total - 1))) if total > 1 else np.nan
    return total, mean, sd


def _est_cell(row, decimals: int, k: int = 0):
    key = _row_key(row)
    if not _finite(row["estimate"]):
        note = row["note"] if isinstance(row["note"], str) and row["note"] else "not estimated"
        # notes may carry counts ("too few cases (n_cases=1 < 5)"): suppressed like any count
        return na(suppress_text(note, k))
    text = [span(fmt_num(row["estimate"], decimals), key=key, col="estimate")]
    if _finite(row["ci_lower"]) and _finite(row["ci_upper"]):
        text += [
            " (",
            span(fmt_num(row["ci_lower"], decimals), key=key, col="ci_lower"),
            " to ",
            span(fmt_num(row["ci_upper"], decimals), key=key, col="ci_upper"),
            ")",
        ]
    if isinstance(row["note"], str) and row["note"].startswith("firth"):
        text += [" ", el("abbr", "F", cls="mark", title="Firth penalised logistic regression")]
    return text


def _p_cell(row, col: str = "p_value"):
    return span(fmt_p(row[col]), key=_row_key(row), col=col) if _finite(row[col]) else ""


def _delta_aic_cell(row):
    value = row.get("delta_aic", np.nan)
    return span(fmt_num(value, 1), key=_row_key(row), col="delta_aic") if _finite(value) else ""


def model_sample(desc: pd.DataFrame) -> pd.DataFrame:
    """The rows of a descriptive table that belong to the models' own sample (``sample ==
    'model'``; tables without a ``sample`` column are returned as they are)."""
    if "sample" not in desc.columns or desc.empty:
        return desc
    return desc[desc["sample"] == "model"]


CASE_WORDS = ("cases", "controls")
EVENT_WORDS = ("events", "censored")  # a time-to-event outcome's n_cases / n_controls


def count_words(spec: dict) -> tuple[str, str]:
    """What ``n_cases`` / ``n_controls`` count for an outcome: cases and controls, or (time to
    event) events and censored participants."""
    return EVENT_WORDS if outcome_kind(spec) == "time_to_event" else CASE_WORDS


def sample_note(desc: pd.DataFrame, *, binary: bool, k: int, words: tuple[str, str] = CASE_WORDS) -> str:
    """Where the descriptive sample (everyone with genotype and outcome, the unadjusted tests')
    differs from the models' sample, both sizes, labelled; '' when they agree."""
    if "sample" not in desc.columns or desc.empty:
        return ""
    sizes = {}
    for name in ("model", "descriptive"):
        d = desc[desc["sample"] == name]
        cases = _finite_sum(d["n_cases"]) if binary else None
        sizes[name] = (_finite_sum(d["n"]), cases)
    if sizes["model"] == sizes["descriptive"]:
        return ""

    def text(n, cases):
        out = suppress_count(n, k)
        return out + (f" ({suppress_count(cases, k)} {words[0]})" if cases is not None else "")

    return (
        "Counts and means beside the estimates are those of the models' sample "
        f"(n = {text(*sizes['model'])}); everyone with genotype and outcome, the sample of the "
        f"unadjusted tests: n = {text(*sizes['descriptive'])}."
    )


def _records(rows: pd.DataFrame) -> list[dict]:
    """The rows as dicts of column -> value (the values of ``rows.iloc[i]``, without building a
    Series per row)."""
    columns = list(rows.columns)
    return [dict(zip(columns, values, strict=True)) for values in rows.to_numpy(dtype=object).tolist()]


def _records_by(rows: pd.DataFrame, col: str) -> dict[object, list[dict]]:
    """:func:`_records` grouped by ``col``, in order."""
    out: dict[object, list[dict]] = {}
    for r in _records(rows):
        out.setdefault(r[col], []).append(r)
    return out


def _finite_sum(values) -> int:
    return int(np.nansum(pd.to_numeric(values, errors="coerce").to_numpy(float)))


def snpassoc_table(
    rows: pd.DataFrame,
    desc: pd.DataFrame,
    v: PanelVariant,
    *,
    binary: bool,
    decimals: int,
    k: int,
    words: tuple[str, str] = CASE_WORDS,
) -> dict:
    """SNPassoc-style table of one variant x stratum: per genetic model, the genotype groups with
    counts (cases/controls) or mean (SD), the estimate vs the reference group with 95% CI, p,
    BH-adjusted p and delta-AIC. ``rows``: association rows of that variant, outcome and stratum;
    ``desc``: its genotype_counts (binary) or bmd_by_genotype (continuous) rows, of which only the
    model sample's (``sample == 'model'``) are shown, so that the counts belong to the estimates."""
    desc = model_sample(desc)
    est_name = _ratio(rows) if binary else "Beta"
    head = ["Model", "Genotype"]
    head += (
        [[words[1].capitalize(), BR, "n (%)"], [words[0].capitalize(), BR, "n (%)"]]
        if binary
        else ["n", "Mean (SD)"]
    )
    head += [f"{est_name} (95% CI)", "p", "BH-adjusted p", "\u0394AIC"]
    models = ["carrier"] if v.is_mt else ["codominant", "dominant", "recessive", "overdominant", "additive"]
    body = []
    tot_cases = float(desc["n_cases"].sum()) if binary and len(desc) else np.nan
    tot_ctrls = float(desc["n_controls"].sum()) if binary and len(desc) else np.nan
    classes = _classes(desc, binary)
    by_model = _records_by(rows, "model")
    for model in models:
        mrows = by_model.get(model)
        if not mrows:
            continue
        first = mrows[0]
        if model == "additive":
            dosage = "dosage" in str(first["method"])
            label = f"per {v.effect_allele} allele" + (" (dosage)" if dosage else "")
            body.append(
                [
                    cell(MODEL_NAMES[model], cls="text model"),
                    cell(label, cls="text"),
                    cell(""),
                    cell(""),
                    cell(_est_cell(first, decimals, k)),
                    cell(_p_cell(first)),
                    cell(_p_cell(first, "q_value")),
                    cell(_delta_aic_cell(first)),
                ]
            )
            continue
        groups = _groups(v, model)
        # counts of each group per column, and the complementary cells to withhold (totals are shown)
        if binary:
            pooled = {
                col: [_pool_counts(classes, counts, col, k) for _, counts, _ in groups]
                for col in ("n_controls", "n_cases")
            }
        else:
            means = [_pool_means(classes, counts, k) for _, counts, _ in groups]
            pooled = {"n": [m[0] for m in means]}
        hide = {col: complementary(values, k) for col, values in pooled.items()}
        for i, (label, _counts, term) in enumerate(groups):
            cells = [cell(MODEL_NAMES[model], cls="text model", rowspan=len(groups)) if i == 0 else None]
            cells.append(cell(label, cls="text"))
            if binary:
                for col, tot in (("n_controls", tot_ctrls), ("n_cases", tot_cases)):
                    c = pooled[col][i]
                    if c is None or hide[col][i]:
                        cells.append(cell(WITHHELD))
                    elif _finite(c) and tot and not is_small(c, k):
                        cells.append(cell([_count(c, k), f" ({100 * c / tot:.1f})"]))
                    else:
                        cells.append(cell(_count(c, k)))
            else:
                n, mean, sd = means[i]
                if n is None or hide["n"][i]:
                    cells += [cell(WITHHELD), cell("\u2013")]
                else:
                    cells.append(cell(_count(n, k)))
                    cells.append(
                        cell(
                            "\u2013" if is_small(n, k) or not _finite(mean) else _mean_sd(mean, sd, decimals)
                        )
                    )
            if term == "":
                cells.append(cell("reference", cls="ref"))
            else:
                r = [x for x in mrows if x["term"] == term]
                cells.append(cell(_est_cell(r[0], decimals, k) if r else ""))
            if i == 0:
                cells += [
                    cell(_p_cell(first), rowspan=len(groups)),
                    cell(_p_cell(first, "q_value"), rowspan=len(groups)),
                    cell(_delta_aic_cell(first), rowspan=len(groups)),
                ]
            body.append(cells)
    return table(head, body, cls="data snpassoc")


def _model_n(rows: pd.DataFrame, k: int, binary: bool, words: tuple[str, str] = CASE_WORDS) -> list:
    reg = rows[rows["model"].isin(["additive", "carrier"])]
    if reg.empty:
        return []
    r = reg.iloc[0]
    key = _row_key(r)
    text = ["n = ", _count(r["n"], k, key=key, col="n")]
    if binary and _finite(r["n_cases"]):
        text += [
            " (",
            _count(r["n_cases"], k, key=key, col="n_cases"),
            f" {words[0]}, ",
            _count(r["n_controls"], k, key=key, col="n_controls"),
            f" {words[1]})",
        ]
    return text


TEST_NAMES = {
    "allelic": "Allelic, chi-square (OR per allele)",
    "allelic_fisher": "Allelic, Fisher exact",
    "genotypic": "Genotypic 2x3, chi-square",
    "genotypic_fisher": "Genotypic 2x3, Fisher exact",
    "trend": "Cochran-Armitage trend",
    "max3": "MAX3: max of dominant, recessive, additive trend",
    "carrier_fisher": "Carrier, Fisher exact",
    "anova": "ANOVA by genotype",
    "kruskal_wallis": "Kruskal-Wallis by genotype",
}


def _tests_table(rows: pd.DataFrame, *, binary: bool, k: int) -> dict | None:
    by_model = _records_by(rows, "model")
    models = [m for m in TEST_NAMES if m in by_model]
    if not models:
        return None
    body = []
    for m in models:
        r = by_model[m][0]
        key = _row_key(r)
        est = ""
        if _finite(r["estimate"]):
            est = _est_cell(r, 2, k)
        elif isinstance(r["note"], str) and r["note"]:
            est = na(suppress_text(r["note"], k))
        stat = span(fmt_num(r["statistic"], 2), key=key, col="statistic") if _finite(r["statistic"]) else ""
        df_ = span(fmt_num(r["df"], 0), key=key, col="df") if _finite(r["df"]) else ""
        body.append(
            [
                cell(TEST_NAMES[m], cls="text"),
                cell(est),
                cell(stat),
                cell(df_),
                cell(_p_cell(r)),
                cell(_p_cell(r, "q_value")),
            ]
        )
    head = [
        "Test (unadjusted for covariates)",
        "OR (95% CI)" if binary else "",
        "Statistic",
        "df",
        "p",
        "BH-adjusted p",
    ]
    return table(head, body, cls="data tests")


def _strata_table(
    rows: pd.DataFrame,
    v: PanelVariant,
    strata: list[str],
    *,
    binary: bool,
    decimals: int,
    k: int,
    words: tuple[str, str] = CASE_WORDS,
) -> dict:
    main_model = "carrier" if v.is_mt else "additive"
    head = ["Stratum", "n" + (f" ({words[0]} / {words[1]})" if binary else "")]
    head += [
        (_ratio(rows) if binary else "Beta") + (" carrier" if v.is_mt else " per allele") + " (95% CI)",
        "p",
        "BH-adjusted p",
    ]
    others = [] if v.is_mt else ["codominant", "dominant", "recessive", "overdominant"]
    head += [f"p {m}" for m in others]
    body = []
    first = {}  # (stratum, model) -> its first row
    for r in _records(rows):
        first.setdefault((r["stratum"], r["model"]), r)
    for s in strata:
        r = first.get((s, main_model))
        if r is None:
            continue
        key = _row_key(r)
        n_text = [_count(r["n"], k, key=key, col="n")]
        if binary and _finite(r["n_cases"]):
            n_text += [
                " (",
                _count(r["n_cases"], k, key=key, col="n_cases"),
                " / ",
                _count(r["n_controls"], k, key=key, col="n_controls"),
                ")",
            ]
        cells = [cell(stratum_name(s), cls="text"), cell(n_text)]
        if not _finite(r["estimate"]):
            note = (
                suppress_text(r["note"], k) if isinstance(r["note"], str) and r["note"] else "not estimated"
            )
            cells.append(cell(na(note), colspan=3 + len(others), cls="text"))
            body.append(cells)
            continue
        cells += [cell(_est_cell(r, decimals, k)), cell(_p_cell(r)), cell(_p_cell(r, "q_value"))]
        for m in others:
            mr = first.get((s, m))
            cells.append(cell(_p_cell(mr) if mr is not None else ""))
        body.append(cells)
    return table(head, body, cls="data strata")


INTERACTION_NAMES = {
    "interaction_t2dm": "SNP \u00d7 T2DM interaction",
    "interaction_sex": "SNP \u00d7 sex interaction",
    "mantel_haenszel": "Mantel-Haenszel pooled allelic OR",
    "breslow_day": "Breslow-Day homogeneity",
}


def _interaction_table(rows: pd.DataFrame, *, binary: bool, decimals: int, k: int) -> dict | None:
    sub = rows[rows["model"].isin(list(INTERACTION_NAMES))]
    if sub.empty:
        return None
    body = []
    for _, r in sub.iterrows():
        where = {
            "by_t2dm": "across T2DM strata",
            "by_sex": "across sex strata",
            "all": "all participants",
        }.get(r["stratum"], stratum_name(r["stratum"]))
        est = (
            _est_cell(r, 2 if binary else decimals, k)
            if _finite(r["estimate"]) or r["model"] != "breslow_day"
            else ""
        )
        if not _finite(r["estimate"]) and r["model"] != "breslow_day":
            est = na(suppress_text(r["note"], k) or "not estimated")
        body.append(
            [
                cell(INTERACTION_NAMES[r["model"]], cls="text"),
                cell(where, cls="text"),
                cell(str(r["reference"]) if r["model"].startswith("interaction") else "", cls="text small"),
                cell(_count(r["n"], k, key=_row_key(r), col="n")),
                cell(est),
                cell(_p_cell(r)),
                cell(_p_cell(r, "q_value") if "q_value" in r else ""),
                cell(str(r.get("family", "") or ""), cls="text"),
            ]
        )
    est_head = "Ratio of ORs / OR (95% CI)" if binary else "Difference in beta (95% CI)"
    return table(
        ["Test", "Where", "Compares", "n", est_head, "p", "BH-adjusted p", "Family"],
        body,
        cls="data interactions",
    )


def _forest(
    rows: pd.DataFrame, v: PanelVariant, strata: list[str], spec: dict, *, binary: bool, decimals: int, k: int
) -> str:
    main_model = "carrier" if v.is_mt else "additive"
    sub = rows[(rows["model"] == main_model) & rows["stratum"].isin(strata)].copy()
    if sub.empty or not np.isfinite(sub["estimate"].astype(float)).any():
        return ""
    sub["order"] = sub["stratum"].map({s: i for i, s in enumerate(strata)})
    sub = sub.sort_values("order")
    sub["n"] = [suppress_count(x, k) for x in sub["n"]]
    sub["note"] = [suppress_text(t, k) if isinstance(t, str) else "" for t in sub["note"]]
    foot = []
    for model, label in (("interaction_t2dm", "SNP\u00d7T2DM"), ("interaction_sex", "SNP\u00d7sex")):
        r = rows[(rows["model"] == model) & (rows["stratum"] == "all")]
        if len(r) and _finite(r["p_value"].iloc[0]):
            foot.append(f"{label} interaction p = " + fmt_p_text(r["p_value"].iloc[0]))
    title = f"{v.name} {v.id}: {spec.get('label', '')}, " + (
        f"carriers of {_allele_name(v, v.effect_allele)} vs non-carriers (carrier contrast)"
        if v.is_mt
        else "per effect allele " + _allele_name(v, v.effect_allele)
    )
    return forest_plot(
        sub[["stratum", "estimate", "ci_lower", "ci_upper", "p_value", "n", "note"]],
        estimate_type=_ratio(sub) if binary else "beta",
        title=title,
        footnote=("In all participants: " + "; ".join(foot)) if foot else "",
        decimals=decimals,
        contrast="carriers vs non-carriers" if v.is_mt else "per effect allele",
    )


def _means_plot(desc: pd.DataFrame, v: PanelVariant, strata: list[str], spec: dict, k: int) -> str:
    if desc.empty:
        return ""
    d = desc.copy()
    d["n"] = pd.to_numeric(d["n"], errors="coerce")
    d = d[(d["n"] > 0) & ~small_mask(d["n"], k)]
    if d.empty:
        return ""
    d["genotype"] = [_genotype_label(v, int(e)) for e in d["effect_count"]]
    return genotype_means_plot(
        d,
        strata=[s for s in strata if s in set(d["stratum"])],
        genotypes=[_genotype_label(v, i) for i in range(v.ploidy + 1)],
        ylabel=spec.get("label", ""),
        title=f"{v.name} {v.id}: mean {spec.get('label', '')} by genotype (95% CI of the mean)",
    )


def association_sections(
    assoc: pd.DataFrame,
    counts: pd.DataFrame,
    bmd: pd.DataFrame,
    panel: Panel,
    settings: Settings,
    *,
    k: int,
    plots: bool = True,
) -> list[dict]:
    """Per outcome and variant: SNPassoc table (all), tests, strata table, interactions, figures,
    and the SNPassoc tables of the other strata. Returns template dicts."""
    strata = strata_labels(list(settings.strata))
    out = []
    for key, spec in settings.outcomes.items():
        binary = outcome_kind(spec) != "continuous"  # OR or HR; time to event: events as cases
        words = count_words(spec)
        rows_o = assoc[assoc["outcome"] == key] if len(assoc) else assoc
        decimals = estimate_decimals(rows_o, "OR" if binary else "beta")
        desc_o = counts if binary else bmd
        desc_o = desc_o[desc_o["outcome"] == key] if len(desc_o) else desc_o
        variants = []
        rows_v, desc_v = _groups_of(rows_o, "variant"), _groups_of(desc_o, "variant")
        for v in panel:
            rows = rows_v.get(v.id)
            if rows is None:
                continue
            desc = desc_v.get(v.id, desc_o.iloc[:0])
            rows_s, desc_s = _groups_of(rows, "stratum"), _groups_of(desc, "stratum")
            all_rows = rows_s.get("all", rows.iloc[:0])
            desc_all = desc_s.get("all", desc.iloc[:0])
            per_stratum = []
            for s in strata[1:]:
                rs = rows_s.get(s)
                if rs is None:
                    continue
                ds = desc_s.get(s, desc.iloc[:0])
                per_stratum.append(
                    {
                        "name": stratum_name(s),
                        "n": _model_n(rs, k, binary, words),
                        "sample_note": sample_note(ds, binary=binary, k=k, words=words),
                        "table": snpassoc_table(
                            rs, ds, v, binary=binary, decimals=decimals, k=k, words=words
                        ),
                        "tests": _tests_table(rs, binary=binary, k=k),
                    }
                )
            variants.append(
                {
                    "id": v.id,
                    "anchor": _anchor(key, v.id),
                    "title": f"{v.name} ({v.id})",
                    "alleles": f"effect allele {_allele_name(v, v.effect_allele)}, other allele "
                    f"{_allele_name(v, v.other_allele)}; reference genotype {_genotype_label(v, 0)}",
                    "n": _model_n(all_rows, k, binary, words),
                    "sample_note": sample_note(desc_all, binary=binary, k=k, words=words),
                    "snpassoc": snpassoc_table(
                        all_rows, desc_all, v, binary=binary, decimals=decimals, k=k, words=words
                    ),
                    "tests": _tests_table(all_rows, binary=binary, k=k),
                    "strata": _strata_table(
                        rows, v, strata, binary=binary, decimals=decimals, k=k, words=words
                    ),
                    "interactions": _interaction_table(rows, binary=binary, decimals=decimals, k=k),
                    "forest": _forest(rows, v, strata, spec, binary=binary, decimals=decimals, k=k)
                    if plots
                    else "",
                    "means": _means_plot(model_sample(desc), v, strata, spec, k)
                    if plots and not binary
                    else "",
                    "per_stratum": per_stratum,
                }
            )
        out.append(
            {
                "key": key,
                "label": spec.get("label", key),
                "type": spec["type"],
                "estimate": {"OR": "odds ratio (OR)", "HR": "hazard ratio (HR)"}[_ratio(rows_o)]
                if binary
                else "beta (difference in outcome units)",
                "variants": variants,
                "top": _top_findings(rows_o, panel, binary=binary, decimals=decimals, k=k),
            }
        )
    return out


def _groups_of(df: pd.DataFrame, col: str) -> dict:
    """``{value: df[df[col] == value]}`` for every value of ``col`` (rows in their order)."""
    if df.empty:
        return {}
    return {key: group for key, group in df.groupby(col, sort=False, dropna=False)}


def _top_findings(rows: pd.DataFrame, panel: Panel, *, binary: bool, decimals: int, k: int) -> dict:
    """Overview of an outcome: per variant, the main effect in all participants."""
    body = []
    for v in panel:
        main = rows[
            (rows["variant"] == v.id)
            & (rows["stratum"] == "all")
            & (rows["model"] == ("carrier" if v.is_mt else "additive"))
        ]
        if main.empty:
            continue
        r = main.iloc[0]
        body.append(
            [
                cell([el("a", v.name, href="#" + _anchor(r["outcome"], v.id)), f" {v.id}"], cls="text"),
                cell(_count(r["n"], k, key=_row_key(r), col="n")),
                cell(_est_cell(r, decimals, k)),
                cell(_p_cell(r)),
                cell(_p_cell(r, "q_value")),
                cell(str(r.get("family", "") or ""), cls="text"),
            ]
        )
    est = _ratio(rows) if binary else "Beta"
    return table(
        ["Variant", "n", f"{est} per effect allele or carrier (95% CI)", "p", "BH-adjusted p", "Family"],
        body,
        cls="data overview",
    )


def skipped_rows(assoc: pd.DataFrame, *, k: int) -> tuple[list[dict], pd.DataFrame]:
    """Strata skipped for too few samples (one entry per outcome x stratum) and the other
    not-estimated tests, grouped by outcome, model and reason."""
    if assoc.empty:
        return [], pd.DataFrame()
    notes = assoc["note"].fillna("").astype(str)
    too_few = assoc[notes.str.startswith("too few samples")]
    skipped = []
    for (outcome, stratum), g in too_few.groupby(["outcome", "stratum"], sort=False):
        skipped.append(
            {
                "outcome": outcome,
                "stratum": stratum_name(stratum),
                "variants": ", ".join(dict.fromkeys(g["name"])),
                "reason": suppress_text(g["note"].iloc[0], k),
            }
        )
    other = assoc[(notes != "") & ~notes.str.startswith("too few samples") & assoc["p_value"].isna()]
    grouped = (
        other.assign(note=other["note"].map(lambda t: suppress_text(t, k)))
        .groupby(["outcome", "note"], sort=False)
        .agg(variants=("name", lambda s: ", ".join(dict.fromkeys(s))), n_rows=("model", "size"))
        .reset_index()
    )
    return skipped, grouped


def covariate_design_data(design: pd.DataFrame | None) -> dict | None:
    """The covariates dropped from the models, one row per outcome x stratum x covariate
    (``covariate_design.tsv``), or ``None`` when none was."""
    if design is None or design.empty:
        return None
    shown = design.assign(stratum=design["stratum"].map(stratum_name))
    return table_data(shown, columns=["outcome", "stratum", "covariate", "action", "reason", "variants"])


# --------------------------------------------------------------------------- haplotypes
def _ld_section(ld: pd.DataFrame, *, plots: bool) -> tuple[str, dict]:
    """LD heatmap (all participants) and a table of r2 / |D'| per pair and stratum."""
    needed = {"variant1", "variant2", "name1", "name2", "stratum", "n", "d_prime", "r2"}
    if not needed <= set(ld.columns):
        return "", table_data(ld, max_rows=200)
    sub = ld[ld["stratum"] == "all"]
    plot = ""
    if plots and len(sub):
        names = list(dict.fromkeys(list(sub["name1"]) + list(sub["name2"])))
        dpm = pd.DataFrame(np.nan, index=names, columns=names)
        r2m = pd.DataFrame(np.nan, index=names, columns=names)
        pos = {x: i for i, x in enumerate(names)}
        for _, r in sub.iterrows():
            i, j = sorted((pos[r["name1"]], pos[r["name2"]]))
            dpm.iat[i, j] = float(r["d_prime"])
            r2m.iat[j, i] = float(r["r2"])
        plot = ld_heatmap(dpm, r2m, title="Pairwise LD, all participants")
    strata = list(dict.fromkeys(ld["stratum"]))
    rows = []
    for (n1, n2), g in ld.groupby(["name1", "name2"], sort=False):
        g = g.set_index("stratum")
        cells = [cell(f"{n1}\u2013{n2}", cls="text")]
        for s in strata:
            if s in g.index and _finite(g.at[s, "r2"]):
                cells.append(cell(f"{float(g.at[s, 'r2']):.2f} / {abs(float(g.at[s, 'd_prime'])):.2f}"))
            else:
                cells.append(cell("\u2013"))
        rows.append(cells)
    return plot, table(
        ["Pair"] + [stratum_name(s) for s in strata], rows, caption="r\u00b2 / |D'| by stratum"
    )


def _hap_frequencies(haps: pd.DataFrame, *, plots: bool) -> tuple[str, list[dict]]:
    needed = {"block", "stratum", "haplotype", "rflp", "frequency"}
    if not needed <= set(haps.columns):
        return "", [table_data(haps, max_rows=200)]
    parts, plot = [], ""
    for block, g in haps.groupby("block", sort=False):
        strata = list(dict.fromkeys(g["stratum"]))
        labels = list(dict.fromkeys(zip(g["rflp"], g["haplotype"], strict=True)))
        rows = []
        for rflp, nuc in labels:
            sub = g[(g["rflp"] == rflp) & (g["haplotype"] == nuc)].set_index("stratum")
            label = [el("b", rflp), f" ({nuc})" if nuc != rflp else ""]
            if rflp == "rare" and "members" in sub.columns:
                members = sub["members"].dropna()
                if len(members):
                    label += [BR, el("small", f"pooled: {members.iloc[0]}")]
            cells = [cell(label, cls="text")]
            for s in strata:
                cells.append(cell(fmt_num(sub.at[s, "frequency"], 3) if s in sub.index else "\u2013"))
            rows.append(cells)
        head = ["Haplotype"] + [stratum_name(s) for s in strata]
        parts.append(table(head, rows, caption=f"{block}: estimated haplotype frequencies"))
        if plots and not plot:
            keep = [s for s in ("all", "t2dm=yes", "t2dm=no") if s in strata]
            d = g[g["stratum"].isin(keep)]
            d = pd.DataFrame(
                {
                    "haplotype": [
                        r if r == h else f"{r} ({h})" for r, h in zip(d["rflp"], d["haplotype"], strict=True)
                    ],
                    "stratum": d["stratum"],
                    "frequency": pd.to_numeric(d["frequency"], errors="coerce"),
                }
            ).dropna()
            if len(d):
                plot = haplotype_bars(d, title=f"{block} haplotype frequencies")
    return plot, parts


def _hap_association(ha: pd.DataFrame, settings: Settings, *, k: int) -> list[dict]:
    """Per outcome: one block of rows per stratum (reference, each haplotype, global test)."""
    needed = {"outcome", "stratum", "model", "term", "estimate", "ci_lower", "ci_upper", "p_value"}
    if not needed <= set(ha.columns):
        return [{"title": "", "table": table_data(suppress_counts(ha, k), max_rows=400)}]
    parts = []
    for key, spec in settings.outcomes.items():
        g = ha[ha["outcome"] == key]
        if g.empty:
            continue
        binary = outcome_kind(spec) != "continuous"  # OR or HR; time to event: events as cases
        decimals = estimate_decimals(g, "OR" if binary else "beta")
        est = "OR" if binary else "Beta"
        rows = []
        for s in dict.fromkeys(g["stratum"]):
            sub = g[g["stratum"] == s]
            haps = sub[sub["model"] == "haplotype"]
            glob_ = sub[sub["model"] == "haplotype_global"]
            ref = (
                sub["reference"].dropna().iloc[0]
                if "reference" in sub and sub["reference"].notna().any()
                else ""
            )
            n_rows = 1 + len(haps)
            glob_text = ""
            if len(glob_) and _finite(glob_["p_value"].iloc[0]):
                q = glob_["q_value"].iloc[0] if "q_value" in glob_ else np.nan
                glob_text = [fmt_p(glob_["p_value"].iloc[0])]
                if _finite(q):
                    glob_text += [" (q ", fmt_p(q), ")"]
            elif len(glob_) and isinstance(glob_["note"].iloc[0], str):
                glob_text = na(suppress_text(glob_["note"].iloc[0], k))
            n_val = sub["n"].iloc[0] if "n" in sub else np.nan
            rows.append(
                [
                    cell(stratum_name(s), cls="text model", rowspan=n_rows),
                    cell(_count(n_val, k), rowspan=n_rows),
                    cell(str(ref), cls="text"),
                    cell("reference", cls="ref"),
                    cell(""),
                    cell(glob_text, rowspan=n_rows),
                ]
            )
            for _, r in haps.iterrows():
                label = [el("b", r["term"])]
                if (
                    "haplotype" in r
                    and isinstance(r["haplotype"], str)
                    and r["haplotype"] not in (r["term"], "")
                ):
                    label.append(f" ({r['haplotype']})")
                if _finite(r["estimate"]):
                    cells = [
                        cell(_est_ci(r["estimate"], r["ci_lower"], r["ci_upper"], decimals)),
                        cell(fmt_p(r["p_value"])),
                    ]
                else:
                    note = r["note"] if isinstance(r["note"], str) and r["note"] else "not estimated"
                    cells = [cell(na(suppress_text(note, k))), cell("")]
                rows.append([None, None, cell(label, cls="text"), *cells, None])
        parts.append(
            {
                "title": spec.get("label", key),
                "table": table(
                    ["Stratum", "n", "Haplotype", f"{est} per copy (95% CI)", "p", "Global test p"],
                    rows,
                    cls="data haplo",
                ),
            }
        )
    return parts


def haplotype_section(
    frames: dict[str, pd.DataFrame], settings: Settings, *, k: int, plots: bool = True
) -> dict | None:
    """LD heatmap and tables, haplotype frequencies and haplotype association, from the
    ``ld``, ``haplotypes`` and ``haplotype_association`` tables (:mod:`vdrbone.haplotypes`)
    when present; ``None`` when none of them is."""
    present = {n: frames[n] for n in HAPLOTYPE_TABLES if n in frames and not frames[n].empty}
    if not present:
        return None
    out = {"ld_plot": "", "ld_table": None, "hap_plot": "", "hap_tables": [], "assoc_tables": []}
    if "ld" in present:
        out["ld_plot"], out["ld_table"] = _ld_section(present["ld"], plots=plots)
    if "haplotypes" in present:
        out["hap_plot"], out["hap_tables"] = _hap_frequencies(present["haplotypes"], plots=plots)
    if "haplotype_association" in present:
        out["assoc_tables"] = _hap_association(present["haplotype_association"], settings, k=k)
    return out


# --------------------------------------------------------------------------- findings page
def _main_model(v: PanelVariant) -> str:
    return "carrier" if v.is_mt else "additive"


def _direction(row, binary: bool) -> str:
    est = float(row["estimate"])
    return "higher" if (est > 1 if binary else est > 0) else "lower"


def _plain_words(row, v: PanelVariant, spec: dict, *, binary: bool) -> str:
    """What a result says, in words: which genotypes, which direction, which outcome, where."""
    what = f"{_direction(row, binary)} {'odds of ' if binary else ''}{spec.get('label', row['outcome'])}"
    eff = _allele_name(v, v.effect_allele)
    model, term = row["model"], row["term"]
    if model == "additive":
        who = f"with each copy of the {eff} allele"
    elif model == "carrier" and v.is_mt:
        who = f"in carriers of {eff}"
    elif model == "dominant":
        who = f"in carriers of {eff} (one or two copies) than in non-carriers"
    elif model == "recessive":
        who = f"in {_genotype_label(v, 2)} homozygotes than in the other genotypes"
    elif model == "overdominant":
        who = "in heterozygotes than in both homozygotes"
    else:  # codominant
        who = f"in {_genotype_label(v, 2 if term == 'hom_alt' else 1)} than in {_genotype_label(v, 0)}"
    where = (
        "in all participants" if row["stratum"] == "all" else f"in the {stratum_name(row['stratum'])} stratum"
    )
    return f"{what[:1].upper()}{what[1:]} {who}, {where}."


def findings(
    assoc: pd.DataFrame,
    panel: Panel,
    settings: Settings,
    *,
    k: int,
    fdr: float = FDR,
    near: int = FINDINGS_NEAR,
) -> dict:
    """The findings page: results passing the multiple-testing family's threshold, and the
    strongest that do not.

    The family is the outcome (``association.multiple_testing_family``: Benjamini-Hochberg
    ``q_value`` over all primary tests of one outcome). For every outcome x variant with a
    regression result at q < ``fdr`` one headline row is shown (the main model in all
    participants when it passes, else the passing row with the smallest q) with the number of
    further passing tests; then the ``near`` outcome x variant pairs with the smallest p among
    those with none passing. Estimates, CIs, p and q are traceable spans of ``association.tsv``.
    """
    out = {"fdr": fdr, "families": [], "passing": [], "near": []}
    if assoc.empty or "q_value" not in assoc:
        return out
    q = pd.to_numeric(assoc["q_value"], errors="coerce")
    est = pd.to_numeric(assoc["estimate"], errors="coerce")
    near_pool = []
    for key, spec in settings.outcomes.items():
        binary = outcome_kind(spec) != "continuous"  # OR or HR; time to event: events as cases
        in_o = (assoc["outcome"] == key).to_numpy()
        tested = assoc[in_o & q.notna().to_numpy()]
        m = len(tested.drop_duplicates(["variant", "stratum", "model"]))
        passing = tested[pd.to_numeric(tested["q_value"]) < fdr]
        bonf = pd.to_numeric(tested.get("p_bonferroni", pd.Series(dtype=float)), errors="coerce")
        out["families"].append(
            {
                "label": spec.get("label", key),
                "tests": m,
                "passing": len(passing.drop_duplicates(["variant", "stratum", "model"])),
                "bonferroni": int(
                    (bonf < fdr).groupby([tested["variant"], tested["stratum"], tested["model"]]).any().sum()
                )
                if len(tested)
                else 0,
            }
        )
        decimals = estimate_decimals(assoc[in_o], "OR" if binary else "beta")
        regression = assoc[in_o & assoc["model"].isin(list(MODEL_NAMES)).to_numpy() & est.notna().to_numpy()]
        for v in panel:
            rows = regression[regression["variant"] == v.id]
            rq = pd.to_numeric(rows["q_value"], errors="coerce")
            ok = rows[rq < fdr]
            item = {"outcome": spec.get("label", key), "variant": v, "decimals": decimals, "binary": binary}
            if len(ok):
                main = ok[(ok["model"] == _main_model(v)) & (ok["stratum"] == "all")]
                head = main.iloc[0] if len(main) else ok.loc[pd.to_numeric(ok["q_value"]).idxmin()]
                others = len(passing[passing["variant"] == v.id].drop_duplicates(["stratum", "model"])) - 1
                out["passing"].append(_finding_row(head, v, spec, binary, decimals, k, others=others))
            elif len(rows) and pd.to_numeric(rows["p_value"], errors="coerce").notna().any():
                best = rows.loc[pd.to_numeric(rows["p_value"], errors="coerce").idxmin()]
                near_pool.append((float(best["p_value"]), best, item, spec))
    near_pool.sort(key=lambda t: t[0])
    for _, best, item, spec in near_pool[:near]:
        out["near"].append(_finding_row(best, item["variant"], spec, item["binary"], item["decimals"], k))
    return out


def _finding_row(
    row, v: PanelVariant, spec: dict, binary: bool, decimals: int, k: int, *, others: int = 0
) -> dict:
    model = MODEL_NAMES.get(row["model"], row["model"])
    if row["model"] == "codominant":
        model += f" ({_genotype_label(v, 2 if row['term'] == 'hom_alt' else 1)} vs {_genotype_label(v, 0)})"
    return {
        "outcome": spec.get("label", row["outcome"]),
        "variant": [el("a", v.name, href="#" + _anchor(row["outcome"], v.id)), f" {v.id}"],
        "model": model,
        "stratum": stratum_name(row["stratum"]),
        "n": _count(row["n"], k, key=_row_key(row), col="n"),
        "estimate": (f"{row['estimate_type']} " if binary else "beta ", _est_cell(row, decimals, k)),
        "p": _p_cell(row),
        "q": _p_cell(row, "q_value"),
        "words": _plain_words(row, v, spec, binary=binary),
        "others": others,
    }


def heatmap_data(assoc: pd.DataFrame, panel: Panel, settings: Settings, *, fdr: float = FDR) -> pd.DataFrame:
    """-log10 p of the main model (per allele; mtDNA: carrier) per variant x outcome x stratum,
    with the direction of the effect and whether q < ``fdr``: the findings page's heat map."""
    strata = strata_labels(list(settings.strata))
    rows = []
    for key, spec in settings.outcomes.items():
        binary = outcome_kind(spec) != "continuous"  # OR or HR; time to event: events as cases
        for v in panel:
            sub = assoc[
                (assoc["outcome"] == key) & (assoc["variant"] == v.id) & (assoc["model"] == _main_model(v))
            ]
            by = sub.set_index("stratum")
            for s in strata:
                p = est = q = np.nan
                if s in by.index:
                    r = by.loc[s] if by.loc[s].ndim == 1 else by.loc[s].iloc[0]
                    p, est, q = (
                        float(r[c]) if _finite(r[c]) else np.nan for c in ("p_value", "estimate", "q_value")
                    )
                direction = 0 if not np.isfinite(est) else (1 if (est > 1 if binary else est > 0) else -1)
                rows.append(
                    {
                        "outcome": spec.get("label", key),
                        "variant": v.name,
                        "stratum": stratum_name(s),
                        "p_value": p,
                        "direction": direction,
                        "passes": bool(np.isfinite(q) and q < fdr),
                    }
                )
    return pd.DataFrame(rows)


def sample_flow(
    frames: dict[str, pd.DataFrame], assoc: pd.DataFrame, settings: Settings, k: int
) -> list[dict]:
    """CONSORT-style flow of who was analysed: samples in each input, in both, with complete
    genotypes, and analysed per outcome (complete cases, range over variants); counts suppressed."""
    matching = frames.get("sample_matching", pd.DataFrame())
    m = dict(zip(matching.get("measure", []), matching.get("n", []), strict=False)) if len(matching) else {}
    summary = frames.get("qc_samples_summary", pd.DataFrame())
    s = dict(zip(summary.get("measure", []), summary.get("value", []), strict=False)) if len(summary) else {}
    steps = []
    if m:
        steps.append(
            {
                "label": "Samples in the VCF",
                "n": _count(m.get("in_vcf"), k),
                "aside": ["not in the phenotype table: ", _count(m.get("only_vcf"), k)],
            }
        )
        steps.append(
            {
                "label": "Participants in the phenotype table",
                "n": _count(m.get("in_phenotypes"), k),
                "aside": ["without genotypes: ", _count(m.get("only_phenotypes"), k)],
            }
        )
        aside = []
        if s:
            aside = [
                _count(s.get("n_any_missing"), k),
                " with at least one missing genotype (kept; complete cases per test)",
            ]
        steps.append({"label": "Genotyped and phenotyped", "n": _count(m.get("in_both"), k), "aside": aside})
        if "n_analysed" in s:
            steps.append(
                {
                    "label": "Passed sample QC",
                    "n": _count(s.get("n_analysed"), k),
                    "aside": [
                        "excluded: ",
                        _count(s.get("n_low_call_rate"), k),
                        f" with call rate < {float(s['min_sample_call_rate']):g}, ",
                        _count(s.get("n_no_calls"), k),
                        " without any call",
                    ],
                }
            )
    reg = (
        assoc[assoc["model"].isin(["additive", "carrier"]) & (assoc["stratum"] == "all")]
        if len(assoc)
        else assoc
    )
    for key, spec in settings.outcomes.items():
        ns = (
            pd.to_numeric(reg[reg["outcome"] == key]["n"], errors="coerce").dropna()
            if len(reg)
            else pd.Series()
        )
        if ns.empty:
            continue
        lo, hi = int(ns.min()), int(ns.max())
        n = [_count(lo, k)] if lo == hi else [_count(lo, k), "\u2013", _count(hi, k)]
        steps.append(
            {
                "label": f"Analysed for {spec.get('label', key)}",
                "n": n,
                "aside": "complete cases (outcome, covariates, genotype), range over variants",
                "outcome": True,
            }
        )
    return steps


def qc_glance(qc: pd.DataFrame, panel: Panel, not_found: list[dict], k: int) -> dict:
    """Variants requested, analysed, passing QC and flagged (with the reason), from qc_variants.tsv."""
    main = qc[(qc["stratum"] == "all") & (qc["subset"] == "all")] if len(qc) else qc
    flagged = []
    for v in panel:
        r = main[main["variant"] == v.id] if len(main) else main
        if len(r) and isinstance(r["reason"].iloc[0], str) and r["reason"].iloc[0]:
            flagged.append({"name": f"{v.name} ({v.id})", "reason": suppress_text(r["reason"].iloc[0], k)})
    return {
        "requested": len(panel.ids),
        "not_found": len(not_found),
        "flagged": flagged,
        "qc_rows": len(main),
    }


def power_line(power: pd.DataFrame | None) -> str:
    """One sentence on power from ``tables/power.tsv`` when a rule wrote it; ``""`` otherwise."""
    if power is None or power.empty:
        return ""
    if "level" in power:
        power = power[power["level"] == "nominal"]  # one row per test (also bonferroni rows)
    values = pd.to_numeric(power["power"], errors="coerce").dropna() if "power" in power else pd.Series()
    if values.empty:
        return (
            f"Power: tables/power.tsv gives {len(power)} rows (see that table for the effect sizes assumed)."
        )
    return (
        f"Power (tables/power.tsv): median {values.median():.0%}, range {values.min():.0%} to "
        f"{values.max():.0%} over its {len(values)} rows; a result that does not pass is uninformative "
        "where power is low."
    )


# --------------------------------------------------------------------------- browsable table, downloads
def browse_table(assoc: pd.DataFrame, settings: Settings, *, k: int) -> dict:
    """Every row of association.tsv for the sortable, filterable table: display text and, for
    numbers, the raw value to sort on (``v``); counts suppressed. Returns the rows and the
    filter choices (variant, outcome, stratum, model)."""
    if assoc.empty:
        return {"rows": [], "choices": {}}
    decimals = {
        key: estimate_decimals(
            assoc[assoc["outcome"] == key], "OR" if outcome_kind(spec) != "continuous" else "beta"
        )
        for key, spec in settings.outcomes.items()
    }
    rows = []
    for r in assoc.to_dict("records"):
        d = decimals.get(r["outcome"], 3)
        cells = []
        for col in BROWSE_COLUMNS:
            value = r.get(col)
            if col == "n":
                shown, raw = (
                    suppress_count(value, k),
                    (float(value) if _finite(value) and not is_small(value, k) else ""),
                )
            elif col in ("estimate", "ci_lower", "ci_upper"):
                shown, raw = fmt_num(value, d), (float(value) if _finite(value) else "")
            elif col in ("p_value", "q_value"):
                shown, raw = fmt_p(value), (float(value) if _finite(value) else "")
            elif col == "stratum":
                shown, raw = stratum_name(value), None
            elif col == "note":
                shown, raw = suppress_text(value, k) if isinstance(value, str) else "", None
            else:
                shown, raw = (
                    "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value),
                    None,
                )
            cells.append({"c": shown, "v": raw})
        rows.append(cells)
    choices = {
        "name": list(dict.fromkeys(assoc["name"].astype(str))),
        "outcome": list(dict.fromkeys(assoc["outcome"].astype(str))),
        "stratum": list(dict.fromkeys(stratum_name(s) for s in assoc["stratum"])),
        "model": list(dict.fromkeys(assoc["model"].astype(str))),
    }
    return {"rows": rows, "choices": choices, "columns": list(BROWSE_COLUMNS)}


def downloads(tables: dict[str, str], *, k: int) -> list[dict]:
    """Each table of the run as a TSV download (a base64 ``data:`` URI), with small-cell
    suppression applied: the bytes are those of the table's shareable copy."""
    out = []
    for name, path in tables.items():
        data = shareable_bytes(path, suppress_below=k)
        rows = max(0, data.count(b"\n") - 1)
        out.append(
            {
                "name": name,
                "file": f"{name}.tsv",
                "rows": rows,
                "bytes": len(data),
                "href": f"data:{TSV_MIME};charset=utf-8;base64," + base64.b64encode(data).decode("ascii"),
            }
        )
    return out


def epistasis_section(
    table: pd.DataFrame | None, settings: Settings, *, k: int, plots: bool = True
) -> list[dict]:
    """Plain data of the SNP x SNP interaction section (``epistasis.tsv``), one dict per outcome:
    ``label``, ``plot`` (heat map of stratum ``all``, a data URI or ""), ``rows`` (the pairs of
    stratum ``all``: names, suppressed n, estimate and its type, CI, p, q, note). [] without rows."""
    if table is None or table.empty:
        return []
    out = []
    for outcome, part in table[table["stratum"] == "all"].groupby("outcome", sort=False):
        names = list(dict.fromkeys([*part["name1"], *part["name2"]]))
        p = pd.DataFrame(np.nan, index=names, columns=names)
        for r in part.itertuples():
            p.loc[r.name1, r.name2] = float(r.p_value)
        label = settings.outcomes.get(outcome, {}).get("label", outcome)
        plot = epistasis_heatmap(p, title=f"{label}: SNP x SNP interaction p (all)") if plots else ""
        rows = [
            {"pair": f"{r.name1} x {r.name2}", "n": suppress_count(r.n, k), "estimate": float(r.estimate),
             "estimate_type": r.estimate_type if isinstance(r.estimate_type, str) else "",
             "ci_lower": float(r.ci_lower), "ci_upper": float(r.ci_upper), "p": float(r.p_value),
             "q": float(r.q_value), "note": suppress_text(r.note, k) if isinstance(r.note, str) else ""}
            for r in part.itertuples()
        ]  # fmt: skip
        out.append({"label": label, "plot": plot, "rows": rows})
    return out


def _variant_names(assoc: pd.DataFrame) -> dict[str, str]:
    return dict(zip(assoc["variant"].astype(str), assoc["name"].astype(str), strict=True))


def _shown(value):
    """A (suppressed) count of a :func:`suppress_counts` frame as text ("" when missing)."""
    return value if isinstance(value, str) else suppress_count(value, 0)


def conditional_section(assoc: pd.DataFrame, settings: Settings, *, k: int) -> list[dict]:
    """Plain data of the conditional-analysis section (PLINK ``--condition``), one dict per
    outcome with conditional rows: ``label`` and ``table`` (stratum ``all`` first, then the
    others; variant, conditioning SNP(s) from ``covariates`` or the row's ``note``, n, the
    conditional estimate (CI) and p beside the marginal ``additive`` row's). [] without rows."""
    if assoc.empty or "conditional" not in set(assoc["model"]):
        return []
    names = _variant_names(assoc)
    additive = assoc[assoc["model"] == "additive"]
    marginal = {(r["outcome"], r["variant"], r["stratum"]): r for _, r in additive.iterrows()}
    out = []
    for outcome, spec in settings.outcomes.items():
        part = assoc[(assoc["outcome"] == outcome) & (assoc["model"] == "conditional")]
        if part.empty:
            continue
        binary = outcome_kind(spec) != "continuous"
        decimals = estimate_decimals(assoc[assoc["outcome"] == outcome], "OR" if binary else "beta")
        strata = list(dict.fromkeys(["all", *part["stratum"]]))
        rows = []
        for s in strata:
            for _, r in part[part["stratum"] == s].iterrows():
                covs = str(r["covariates"]).split("+") if isinstance(r["covariates"], str) else []
                cond = [f"{names[c]} {c}" for c in covs if c in names]
                m = marginal.get((outcome, r["variant"], s))
                rows.append([
                    cell([el("b", r["name"]), f" {r['variant']}"], cls="text"),
                    cell(stratum_name(s), cls="text"),
                    cell(", ".join(cond) if cond else na(suppress_text(r["note"], k)), cls="text"),
                    cell(_count(r["n"], k, key=_row_key(r), col="n") if _finite(r["n"]) else ""),
                    cell(_est_cell(r, decimals, k)),
                    cell(_p_cell(r)),
                    cell(_est_cell(m, decimals, k) if m is not None else ""),
                    cell(_p_cell(m) if m is not None else ""),
                ])  # fmt: skip
        ratio = _ratio(part) if binary else "beta"
        head = ["Variant", "Stratum", "Conditioned on", "n", f"Conditional {ratio} (95% CI)", "p",
                f"Marginal {ratio} (95% CI)", "p"]  # fmt: skip
        out.append({"label": spec.get("label", outcome), "table": table(head, rows)})
    return out


def permutation_section(perm: pd.DataFrame | None, settings: Settings, *, k: int) -> list[dict]:
    """Plain data of the permutation section (``permutation.tsv``), one dict per outcome:
    ``label``, ``method`` (the row's ``method``: statistic and what was permuted), ``n_perm``,
    ``family_size``, ``seed`` and ``table`` (variant, stratum, n, asymptotic p, EMP1, EMP2, and the
    adaptive EMP1 with its permutations when computed; counts suppressed). [] without rows."""
    if perm is None or perm.empty:
        return []
    shown = suppress_counts(perm, k)
    adaptive = pd.to_numeric(perm["emp1_adaptive"], errors="coerce").notna().any()
    head = ["Variant", "Stratum", "n", "Asymptotic p", "EMP1", "EMP2 (max(T))"]
    head += ["Adaptive EMP1", "Adaptive permutations"] if adaptive else []
    out = []
    for outcome, part in shown.groupby("outcome", sort=False):
        part = pd.concat([part[part["stratum"] == "all"], part[part["stratum"] != "all"]])
        rows = []
        for _, r in part.iterrows():
            note = suppress_text(r["note"], k) if isinstance(r["note"], str) and r["note"] else ""
            cells = [
                cell([el("b", r["name"]), f" {r['variant']}"], cls="text"),
                cell(stratum_name(r["stratum"]), cls="text"),
                cell(span(_shown(r["n"]), cls="n")),
            ]
            if note:
                cells.append(cell(na(note), cls="text", colspan=len(head) - 3))
            else:
                cells += [cell(fmt_p(r["p_value"])), cell(fmt_p(r["emp1"])), cell(fmt_p(r["emp2"]))]
                if adaptive:
                    cells += [cell(fmt_p(r["emp1_adaptive"])), cell(_shown(r["n_perm_adaptive"]))]
            rows.append(cells)
        first = part.iloc[0]
        out.append(
            {
                "label": settings.outcomes.get(outcome, {}).get("label", outcome),
                "method": str(first["method"]),
                "n_perm": int(pd.to_numeric(part["n_perm"], errors="coerce").max()),
                "family_size": int(first["family_size"]),
                "seed": int(first["seed"]),
                "table": table(head, rows),
            }
        )
    return out


def differential_missingness_section(tm: pd.DataFrame | None, settings: Settings, *, k: int) -> dict | None:
    """Plain data of the differential-missingness table (``qc_test_missing.tsv``, PLINK
    ``--test-missing``): the rows of stratum ``all``, missing genotypes among cases and controls
    (counts and fractions suppressed by :func:`vdrbone.disclosure.suppress_counts`), Fisher p and
    the flag. ``None`` without rows."""
    if tm is None or tm.empty:
        return None
    shown = suppress_counts(tm[tm["stratum"] == "all"], k)
    if shown.empty:
        return None
    rows = []
    for _, r in shown.iterrows():
        label = settings.outcomes.get(r["outcome"], {}).get("label", r["outcome"])
        missing = []
        for side in ("cases", "controls"):
            f = r[f"f_miss_{side}"]
            missing.append(
                [span(_shown(r[f"n_missing_{side}"]), cls="n"), " / ", span(_shown(r[f"n_{side}"]), cls="n")]
                + ([f" ({fmt_num(f, 3)})"] if _finite(f) else [])
            )
        note = r["note"] if isinstance(r["note"], str) and r["note"] else ""
        status = flag(suppress_text(r["reason"], k)) if r["flag"] == "test_missing" else "pass"
        rows.append([
            cell(label, cls="text"),
            cell([el("b", r["name"]), f" {r['variant']}"], cls="text"),
            cell(missing[0]),
            cell(missing[1]),
            cell(fmt_p(r["p_test_missing"]) if _finite(r["p_test_missing"]) else na(suppress_text(note, k))),
            cell(status, cls="text"),
        ])  # fmt: skip
    head = ["Outcome", "Variant", "Missing in cases (fraction)", "Missing in controls (fraction)",
            "Fisher p", "QC flag"]  # fmt: skip
    return table(head, rows)


# --------------------------------------------------------------------------- summary pieces
def sample_counts(frames, assoc: pd.DataFrame, settings: Settings, k: int) -> dict:
    """Samples in the inputs (sample_matching.tsv) and, per stratum, participants (table1.tsv)
    and the analysed n per outcome (range over variants of the regression models)."""
    matching = frames.get("sample_matching", pd.DataFrame())
    m = dict(zip(matching.get("measure", []), matching.get("n", []), strict=False)) if len(matching) else {}
    labels = {
        "in_vcf": "Samples in the VCF",
        "in_phenotypes": "Samples in the phenotype table",
        "in_both": "In both (analysed)",
        "only_vcf": "Only in the VCF",
        "only_phenotypes": "Only in the phenotype table",
    }
    overview = table(
        ["", "n"], [[cell(labels.get(key, key), cls="text"), cell(_count(val, k))] for key, val in m.items()]
    )
    strata = strata_labels(list(settings.strata))
    outcomes = list(settings.outcomes)
    t1 = frames.get("table1", pd.DataFrame(columns=["group", "variable", "n"]))
    sizes = dict(zip(t1.loc[t1["variable"] == "n", "group"], t1.loc[t1["variable"] == "n", "n"], strict=True))
    head = ["Stratum", "Participants"] + [
        [settings.outcomes[o].get("label", o), BR, el("small", "analysed n (range over variants)")]
        for o in outcomes
    ]
    rows = []
    reg = assoc[assoc["model"].isin(["additive", "carrier"])] if len(assoc) else assoc
    for s in strata:
        cells = [cell(stratum_name(s), cls="text"), cell(_count(sizes[s], k) if s in sizes else "")]
        for o in outcomes:
            sub = reg[(reg["outcome"] == o) & (reg["stratum"] == s)] if len(reg) else reg
            ns = pd.to_numeric(sub["n"], errors="coerce").dropna() if len(sub) else pd.Series(dtype=float)
            if ns.empty:
                cells.append(cell(""))
                continue
            lo, hi = int(ns.min()), int(ns.max())
            text = [_count(lo, k)] if lo == hi else [_count(lo, k), "\u2013", _count(hi, k)]
            if sub["note"].fillna("").astype(str).str.startswith("too few samples").any():
                text += [" ", flag("skipped")]
            cells.append(cell(text))
        rows.append(cells)
    return {"overview": overview, "strata": table(head, rows)}


def not_extracted(extraction: pd.DataFrame) -> list[dict]:
    """Panel variants extraction could not give (``extraction.tsv`` rows with ``found`` False):
    ``variant``, ``name``, ``reason`` (e.g. ``not in the genotype files``) and ``files`` searched."""
    if extraction.empty or "found" not in extraction:
        return []
    rows = extraction[~extraction["found"].astype(bool)]
    files = rows["files_searched"] if "files_searched" in rows else pd.Series("", index=rows.index)
    return [
        {"variant": r.variant, "name": r.name, "reason": r.reason, "files": f or ""}
        for r, f in zip(rows.itertuples(), files.fillna(""), strict=True)
    ]


def _build_label(extraction: pd.DataFrame, settings: Settings) -> str:
    """The build of extraction.tsv, with how it was inferred when the files named none."""
    if "build" not in extraction or not extraction["build"].notna().any():
        return str(settings.cohort.build)
    build = str(extraction["build"].dropna().iloc[0])
    source = extraction["build_source"].dropna() if "build_source" in extraction else pd.Series([], dtype=str)
    if len(source) and str(source.iloc[0]).startswith("inferred"):
        return f"{build} ({source.iloc[0]})"
    return build


def config_highlights(settings: Settings, k: int, build: str | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs of the run's main settings, for the run summary."""
    qc, assoc = settings.qc, settings.association
    strata = ", ".join(stratum_name(s) for s in strata_labels(list(settings.strata)))
    return [
        (
            "Cohort",
            f"{settings.cohort.name}" + (" (synthetic)" if settings.cohort.synthetic else ""),
        ),
        (
            "Genome build",
            build if settings.cohort.build != "auto" or not build or " (" in build else f"{build} (detected)",
        ),
        ("Variants", ", ".join(settings.variants)),
        ("Outcomes", "; ".join(f"{s.get('label', o)} ({s['type']})" for o, s in settings.outcomes.items())),
        ("Covariates", ", ".join(settings.covariates) or "none"),
        ("Strata", strata),
        (
            "QC",
            f"call rate \u2265 {qc.min_call_rate}, HWE p \u2265 {qc.hwe_p:g} "
            f"(hwe_samples: {qc.hwe_samples}), action: {qc.action}",
        ),
        (
            "Minimum per stratum",
            f"{assoc.min_stratum_n} samples, {assoc.min_cases} cases and controls",
        ),
        ("Multiple testing", "within each outcome (Bonferroni and Benjamini-Hochberg)"),
        ("Small-cell suppression", f"counts below {k} shown as <{k}" if k > 1 else "off"),
    ]


# --------------------------------------------------------------------------- entry points
def _suppressed_flow(summary: dict, k: int) -> dict:
    """A :func:`vdrbone.strega.flow_summary` with every count passed through
    :func:`suppress_count` (small cells shown as <k)."""
    out = dict(summary)
    out["steps"] = [dict(st, n=suppress_count(st["n"], k)) for st in summary["steps"]]
    out["variants"] = [
        dict(
            v,
            n=suppress_count(v["n"], k),
            excluded=[dict(e, n=suppress_count(e["n"], k)) for e in v["excluded"]],
        )
        for v in summary["variants"]
    ]
    return out


@functools.cache
def _environment(medium: str = "screen") -> jinja2.Environment:
    """The templates' environment (compiled once per medium; ``medium`` is a global so that the
    imported macros see it too)."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: resources.files("vdrbone").joinpath("templates", name).read_text(encoding="utf-8")
        ),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["medium"] = medium
    return env


def _science(
    frames: dict,
    assoc: pd.DataFrame,
    panel: Panel,
    settings: Settings,
    *,
    k: int,
    plots: bool,
    tscore_reference=None,
) -> dict:
    """Data of the time-to-event, interaction, derived-outcome and power blocks
    (:mod:`vdrbone.science_report`, macros in ``templates/science.html.j2``)."""
    from vdrbone import science_report
    from vdrbone.tscore import read_reference

    who = any(s["type"] == "who_class" for s in settings.outcomes.values())
    return {
        "km": science_report.km_sections(
            frames.get("kaplan_meier"), assoc, panel, settings, k=k, plots_on=plots
        ),
        "interactions": science_report.interaction_sections(assoc, panel, settings, k=k, plots_on=plots),
        "derived": science_report.derived_outcomes(
            settings, read_reference(tscore_reference or settings.tscore_reference) if who else None
        ),
        "power": science_report.power_sections(frames.get("power"), panel, settings, k=k, plots_on=plots),
    }


def report_context(
    *,
    run: dict,
    config: dict,
    tables: dict[str, str],
    suppress_below: int,
    panel: Panel | None = None,
    inputs: dict[str, list[str]] | None = None,
    logs: list[str] | None = None,
    populations: str | None = None,
    warnings: list[str] | None = None,
    checksum_cache: dict | None = None,
    tscore_reference: str | None = None,
    plots: bool = True,
) -> dict:
    """The report's template data, from the run's tables.

    Parameters
    ----------
    run : the run record (``run_id``, ``started_utc``, ``fingerprint``).
    config : the validated config the run used.
    tables : table name (file stem, e.g. ``association``) -> path of the TSV. ``table1`` (from
        the ``table1`` rule) gives Table 1 and the stratum sizes; optional names ``ld``,
        ``haplotypes``, ``haplotype_association`` add the haplotype section and ``power`` a line
        on power on the findings page. Each is offered as a (suppressed) TSV download.
    suppress_below : small-cell threshold k (0 or 1: off).
    panel : the analysed panel (default: read ``settings.panel`` and select ``settings.variants``).
    inputs : role -> input files, listed with size and SHA-256.
    logs : the run's log files; their WARNING lines are listed.
    populations : ``resources/populations.tsv`` for the reference frequencies.
    warnings : further warnings (e.g. from the config check).
    checksum_cache : SHA-256 cache of :func:`vdrbone.files.sha256_file` (read only).
    tscore_reference : the T-score reference table of ``who_class`` outcomes (default
        ``settings.tscore_reference``).
    plots : draw the figures (False makes a faster text-only report, for tests).
    """
    settings = settings_from_config(config)
    if panel is None:
        from vdrbone.panel import read_panel

        panel = read_panel(settings.panel).select(list(settings.variants))
    k = int(suppress_below)
    frames = {name: read_tsv(path) for name, path in tables.items()}
    empty = pd.DataFrame(
        columns=[
            "outcome",
            "variant",
            "stratum",
            "model",
            "term",
            "note",
            "p_value",
            "n",
            "aic",
            "estimate",
            "q_value",
        ]
    )
    assoc = frames.get("association", empty)
    counts = frames.get(
        "genotype_counts", pd.DataFrame(columns=["outcome", "variant", "stratum", "effect_count"])
    )
    bmd = frames.get(
        "bmd_by_genotype", pd.DataFrame(columns=["outcome", "variant", "stratum", "effect_count"])
    )
    qc = frames.get("qc_variants", pd.DataFrame(columns=["variant", "stratum", "subset"]))
    extraction = frames.get("extraction", pd.DataFrame(columns=["variant"]))
    ref = reference_frequencies(panel, populations)
    qc_table, hwe_table, population = (
        qc_data(qc, extraction, ref, panel, settings, k) if len(qc) else (None, None, None)
    )
    skipped, not_estimated = skipped_rows(assoc, k=k)
    qc_samples = frames.get("qc_samples_summary")
    missing = not_extracted(extraction)
    heat = heatmap_data(assoc, panel, settings) if plots and len(assoc) else pd.DataFrame()
    build = _build_label(extraction, settings)
    versions = software_versions()
    facts = run_facts(frames)
    flow = frames.get("participant_flow")
    flows = (
        [_suppressed_flow(flow_summary(flow, outcome=o), k) for o in settings.outcomes]
        if flow is not None and len(flow)
        else []
    )
    return {
        "run": run,
        "config": config,
        "config_yaml": yaml.safe_dump(config, sort_keys=False, default_flow_style=None, width=100),
        "version": __version__,
        "k": k,
        "findings": findings(assoc, panel, settings, k=k),
        "heatmap": pvalue_heatmap(heat, fdr=FDR) if len(heat) and heat["p_value"].notna().any() else "",
        "flow": sample_flow(frames, assoc, settings, k),
        "qc_glance": qc_glance(qc, panel, missing, k),
        "power": power_line(frames.get("power")),
        "science": _science(
            frames, assoc, panel, settings, k=k, plots=plots, tscore_reference=tscore_reference
        ),
        "inputs": input_checksums(inputs or {}, cache=checksum_cache),
        "warnings": collect_warnings(logs or [], extra=warnings),
        "samples": sample_counts(frames, assoc, settings, k),
        "highlights": config_highlights(settings, k, build),
        "not_extracted": missing,
        "qc_table": qc_table,
        "hwe_table": hwe_table,
        "population": population,
        "qc_samples": table_data(suppress_counts(qc_samples, k)) if qc_samples is not None else None,
        "table1": table_one_data(frames["table1"], k)
        if "table1" in frames and len(frames["table1"])
        else None,
        "genotype_tables": genotype_tables(qc, panel, k) if len(qc) else [],
        "outcomes": association_sections(assoc, counts, bmd, panel, settings, k=k, plots=plots),
        "browse": browse_table(assoc, settings, k=k),
        "skipped": skipped,
        "not_estimated": table_data(not_estimated) if len(not_estimated) else None,
        "covariate_design": covariate_design_data(frames.get("covariate_design")),
        "haplotypes": haplotype_section(frames, settings, k=k, plots=plots),
        "epistasis": epistasis_section(frames.get("epistasis"), settings, k=k, plots=plots),
        "conditional": conditional_section(assoc, settings, k=k),
        "permutation": permutation_section(frames.get("permutation"), settings, k=k),
        "test_missing": differential_missingness_section(frames.get("qc_test_missing"), settings, k=k),
        "methods": methods_sections(settings, panel=panel, versions=versions, suppress=k, facts=facts),
        "p_legend": p_value_legend(assoc).to_dict("records") if len(assoc) else [],
        "families": [
            {"family": f, "m": m} for f, m in {**facts.family_sizes, **facts.haplotype_family_sizes}.items()
        ],
        "flows": flows,
        "heteroplasmy": [
            {
                "variant": vid,
                "name": next((v.name for v in panel if v.id == vid), vid),
                "n": suppress_count(n, k),
            }
            for vid, n in facts.heteroplasmic.items()
        ],
        "het_threshold": settings.genotypes.heteroplasmy_threshold,
        "strega": strega_checklist(settings, facts),
        "references": list(REFERENCES.values()),
        "versions": versions,
        "downloads": downloads(tables, k=k),
    }


def render_html(context: dict, *, medium: str = "screen") -> str:
    """Render ``templates/report.html.j2``: ``medium`` ``"screen"`` (the interactive page, with
    its inline script and TSV downloads) or ``"print"`` (the same pages for the PDF)."""
    if medium not in ("screen", "print"):
        raise ValueError(f"medium must be 'screen' or 'print', got {medium!r}")
    return _environment(medium).get_template("report.html.j2").render(**context, medium=medium)


def render_report(**kwargs) -> str:
    """The report HTML page (:func:`report_context` of ``kwargs``, rendered for the screen)."""
    return render_html(report_context(**kwargs))


def drawn_figures(workers: int):
    """The report's figures drawn by ``workers`` processes (:func:`vdrbone.plots.drawn_in_parallel`),
    each shown in print also as a PNG at :data:`PRINT_DPI` for the PDF: request them inside it
    (:func:`report_context`); :func:`render_html` waits for the ones it shows."""
    return drawn_in_parallel(workers, raster_dpi=PRINT_DPI, screen_only=SCREEN_ONLY_FIGURES)


@contextlib.contextmanager
def pdf_written_aside(html: str, path: str):
    """:func:`write_pdf` of ``html`` in a forked process while the block runs (the HTML page and
    the shareable tables meanwhile); raises when the block ends if the PDF was not written. A
    failed block stops the writer and removes its half-written file (no partial output is left).

    The child only runs WeasyPrint on a string; the parent's other threads (the drawing pool's
    handlers) hold no lock that it uses."""
    proc = multiprocessing.get_context("fork").Process(target=write_pdf, args=(html, path), name="write_pdf")
    proc.start()
    try:
        yield
    except BaseException:
        proc.terminate()
        proc.join()
        _remove_partial(path, proc.pid)
        raise
    proc.join()
    if proc.exitcode != 0:
        _remove_partial(path, proc.pid)
        raise RuntimeError(f"writing the PDF {path} failed (exit code {proc.exitcode}; traceback above)")


def pdf_writer_ready() -> None:
    """Import WeasyPrint and lay out one line (its font set-up) in this process, so that a
    writer forked later (:func:`pdf_written_aside`) starts on the report at once: the report
    job calls it while the drawing processes draw the figures."""
    import logging

    import weasyprint

    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    weasyprint.HTML(string="<p>vdrbone</p>").render()


def _remove_partial(path: str, pid: int) -> None:
    """Remove the temporary file that :func:`vdrbone.files.atomic_path` of process ``pid`` left
    beside ``path`` (a writer stopped by a signal runs no clean-up of its own)."""
    folder = os.path.dirname(os.path.abspath(path))
    for name in os.listdir(folder):
        if name.startswith(f".{os.path.basename(path)}.partial-{pid}-"):
            os.unlink(os.path.join(folder, name))


def write_pdf(html: str, path: str) -> None:
    """Write the print rendering of the report as PDF with WeasyPrint (Kozea), atomically."""
    import logging

    import weasyprint

    for name in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with atomic_path(path, suffix=".pdf") as tmp:
        weasyprint.HTML(string=html).write_pdf(tmp)
