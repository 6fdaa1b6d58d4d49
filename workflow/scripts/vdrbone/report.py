"""The run's self-contained HTML report: aggregate tables and inline figures, no external resources.

:func:`render_report` reads the run's shareable tables (and, to compute aggregates only, the coded
phenotype table) and renders ``templates/report.html.j2``: run summary with input checksums and
warnings, QC beside reference population frequencies, a "Table 1", genotype tables per stratum,
SNPassoc-style association tables per outcome and variant with forest and BMD-by-genotype plots,
haplotypes and LD when their tables exist, and the methods text (:mod:`vdrbone.methods`).

Every number taken from ``association.tsv`` is written inside an element carrying
``data-key="outcome|variant|stratum|model|term"`` and ``data-col="<column>"``, so a reader (or a
test) can trace it back to its row. Counts are written as ``<span class="n">`` and pass through
:func:`suppress_count`: with small-cell suppression on, counts 1..k-1 appear as ``<k`` and the
frequencies and means of such cells are withheld. Individual-level data never enter the HTML.
"""

from __future__ import annotations

import html
import math
import os
import re
import shutil
from importlib import resources

import jinja2
import numpy as np
import pandas as pd
import yaml

from vdrbone import __version__
from vdrbone.files import atomic_path, sha256_file
from vdrbone.methods import REFERENCES, methods_sections, software_versions
from vdrbone.panel import Panel, PanelVariant
from vdrbone.plots import (
    forest_plot,
    genotype_means_plot,
    haplotype_bars,
    ld_heatmap,
)
from vdrbone.qc import NO_HWE_MT
from vdrbone.settings import settings_from_config
from vdrbone.strata import strata_labels, strata_masks, stratum_name
from vdrbone.tables import read_tsv, write_tsv

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
    "n_missing",
    "n_heteroplasmic",
    "n_het_haploid",
    "n_other_allele",
    "n_low_gp",
    "n_other_ploidy",
    "n_records",
    "n_chromosomes",
    "count",
}
# Proportions whose numerator or denominator is a count of the same row: withheld whenever any
# count of the row is suppressed (a frequency beside a total gives the count back).
FREQUENCY_COLUMNS = {
    "effect_allele_freq", "carrier_freq", "call_rate", "missing_rate", "freq_cases", "freq_controls",
    "freq", "frequency", "freq1", "freq2",
}  # fmt: skip
# Counts that add up to a total shown beside them (in the row, or over the rows of a group):
# when one is suppressed, the next smallest is too, so the total cannot give it back.
COMPLEMENT_SETS = (("n_hom_other", "n_het", "n_hom_effect"), ("n_cases", "n_controls"))
# Row groups of the descriptive tables whose counts add up to the stratum's totals.
GROUP_KEYS = ("outcome", "variant", "stratum")
# Columns derived from one count (frequency, mean...): withheld when that count is suppressed.
DERIVED_COLUMNS = {
    "freq_cases": "n_cases",
    "freq_controls": "n_controls",
    "freq": "n",
    "carrier_freq": "n_carriers",
    "mean": "n",
    "sd": "n",
    "median": "n",
}
# Free-text columns that may embed counts ("n=12", "A:801,G:3", "TT=3;Tt=40").
_TEXT_COUNT = re.compile(r"(\b(?:n|n_cases|n_controls)=|\b[ACGT]:|\b[A-Za-z/ ]+=)(\d+)")
_TEXT_COLUMNS = ("note", "reason", "genotype_counts", "alleles_observed")

PRIMARY_TESTS_BINARY = ("allelic", "allelic_fisher", "genotypic", "genotypic_fisher", "trend")
PRIMARY_TESTS_CONTINUOUS = ("anova", "kruskal_wallis")
SECTION_IDS = ("summary", "qc", "table1", "genotypes", "association", "skipped", "methods", "appendix")
HAPLOTYPE_TABLES = ("ld", "haplotypes", "haplotype_association")
POPULATIONS = ("EUR", "EAS", "AFR")
VARIABLE_NAMES = {"age_years": "Age (years)", "age": "Age (years)", "bmi": "BMI (kg/m\u00b2)"}
TABLE1_GROUPS = (
    "t2dm=yes,sex=female",
    "t2dm=yes,sex=male",
    "t2dm=yes",
    "t2dm=no,sex=female",
    "t2dm=no,sex=male",
    "t2dm=no",
    "all",
)
MINUS = "\u2212"


# --------------------------------------------------------------------------- suppression
def suppress_count(value, threshold: int) -> str:
    """A count as text: ``""`` for missing, ``"<k"`` when 0 < value < ``threshold``, else the integer."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return ""
    if threshold > 1 and 0 < number < threshold:
        return f"<{threshold}"
    return str(int(round(number)))


def _suppress_text(text, threshold: int):
    if threshold <= 1 or not isinstance(text, str):
        return text

    def repl(m):
        n = int(m.group(2))
        return m.group(1) + (f"<{threshold}" if 0 < n < threshold else m.group(2))

    return _TEXT_COUNT.sub(repl, text)


def _complementary(out: pd.DataFrame, numbers: dict, small_by_col: dict) -> None:
    """Secondary suppression of the counts in :data:`COMPLEMENT_SETS` (updates ``small_by_col``).

    Within a row, and over the genotype rows of one outcome x variant x stratum group of the
    descriptive tables, a set of counts that adds up to a total shown elsewhere must not have
    exactly one suppressed cell: the next smallest non-zero cell is suppressed with it.
    """

    def second(cells: list[tuple[float, np.ndarray, int]]) -> None:
        hidden = [c for c in cells if c[1][c[2]]]
        if len(hidden) != 1:
            return
        shown = [c for c in cells if not c[1][c[2]] and np.isfinite(c[0]) and c[0] > 0]
        if shown:
            _, mask, i = min(shown, key=lambda c: c[0])
            mask[i] = True

    for cols in COMPLEMENT_SETS:
        present = [c for c in cols if c in numbers]
        if len(present) > 1:
            for i in range(len(out)):
                second([(float(numbers[c].iloc[i]), small_by_col[c], i) for c in present])
    if "effect_count" in out.columns and any(c in out.columns for c in GROUP_KEYS):
        keys = [c for c in GROUP_KEYS if c in out.columns]
        for col in ("n", "n_cases", "n_controls"):
            if col not in numbers:
                continue
            for rows in out.groupby(keys, dropna=False).indices.values():
                second([(float(numbers[col].iloc[i]), small_by_col[col], i) for i in rows])


def _complement_text(text):
    """``TT=17;Tt=21;tt=<5`` -> the smallest shown count hidden too, when exactly one is hidden."""
    if not isinstance(text, str) or text.count("<") != 1:
        return text
    parts = [p.split("=", 1) for p in text.split(";") if "=" in p]
    shown = [(int(v), i) for i, (_, v) in enumerate(parts) if v.isdigit() and int(v) > 0]
    if not shown:
        return text
    k = next(v for _, v in parts if v.startswith("<"))
    _, i = min(shown)
    parts[i][1] = k
    return ";".join(f"{a}={b}" for a, b in parts)


def suppress_counts(df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Small-cell suppression of a shareable table.

    Counts in :data:`COUNT_COLUMNS` that are > 0 and below ``threshold`` become ``"<k"``; the
    columns of :data:`DERIVED_COLUMNS` (frequencies, means, SDs of that count's cell) become NaN
    in those rows; counts embedded in the text columns ``note``, ``reason``, ``genotype_counts``
    and ``alleles_observed`` are replaced the same way; a row with any suppressed count loses its
    :data:`FREQUENCY_COLUMNS` (for the genotype rows of the descriptive tables: the whole
    outcome x variant x stratum group); counts that add up to a total shown beside them get
    secondary suppression (:func:`_complementary`, ``genotype_counts`` strings likewise); in
    ``measure``/``value`` tables the values of ``n_*`` measures are treated as counts. Zero
    stays zero (an empty cell discloses nobody); NaN stays NaN. ``threshold`` 0 or 1 returns
    ``df`` unchanged. Count columns of the returned copy are strings.
    """
    if threshold <= 1:
        return df
    out = df.copy()
    small_by_col = {}
    numbers = {
        col: pd.to_numeric(out[col], errors="coerce") for col in COUNT_COLUMNS.intersection(out.columns)
    }
    for col, values in numbers.items():
        small_by_col[col] = ((values > 0) & (values < threshold)).to_numpy()
    _complementary(out, numbers, small_by_col)
    for col, values in numbers.items():
        text = values.map(lambda v: suppress_count(v, threshold)).astype(object)
        out[col] = text.where(~small_by_col[col], f"<{threshold}")
    for col, count_col in DERIVED_COLUMNS.items():
        if col in out.columns and count_col in small_by_col:
            out[col] = pd.to_numeric(out[col], errors="coerce").mask(small_by_col[count_col])
    any_small = np.zeros(len(out), dtype=bool)
    for mask in small_by_col.values():
        any_small |= mask
    for col in _TEXT_COLUMNS:
        if col in out.columns:
            before = out[col]
            out[col] = before.map(lambda t: _suppress_text(t, threshold))
            any_small |= (out[col].astype(str) != before.astype(str)).to_numpy()
    if "genotype_counts" in out.columns:
        out["genotype_counts"] = out["genotype_counts"].map(_complement_text)
    if any(c in out.columns for c in GROUP_KEYS) and "effect_count" in out.columns:
        keys = [c for c in GROUP_KEYS if c in out.columns]
        any_small = out.assign(_s=any_small).groupby(keys, dropna=False)["_s"].transform("any").to_numpy()
    for col in FREQUENCY_COLUMNS.intersection(out.columns):
        out[col] = pd.to_numeric(out[col], errors="coerce").mask(any_small)
    if {"measure", "value"} <= set(out.columns):
        is_count = out["measure"].astype(str).str.startswith("n_")
        values = out["value"].astype(object)
        out["value"] = [
            suppress_count(v, threshold) if c else v for v, c in zip(values, is_count, strict=True)
        ]
    return out


def write_shareable_table(src: str, dst: str, *, suppress_below: int) -> None:
    """Write the shareable copy of the table ``src`` to ``dst`` (atomically).

    With ``suppress_below`` <= 1 the copy is byte-identical; otherwise it is
    :func:`suppress_counts` of the table, written with :func:`vdrbone.tables.write_tsv`.
    """
    if suppress_below <= 1:
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
        return
    write_tsv(suppress_counts(read_tsv(src), suppress_below), dst)


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


def fmt_p(value) -> str:
    """p-value: 3 decimals down to 0.001, then 2 significant digits as ``2.3x10^-5``."""
    if not _finite(value):
        return ""
    p = float(value)
    if p >= 0.001 or p == 0:
        return f"{p:.3f}"
    mant, exp = f"{p:.1e}".split("e")
    return f"{mant}\u00d710<sup>{MINUS}{abs(int(exp))}</sup>"


def _mean_sd(mean, sd, decimals: int) -> str:
    return f"{fmt_num(mean, decimals)} ({fmt_num(sd, decimals) if _finite(sd) else '-'})"


def _est_ci(est, lo, hi, decimals: int) -> str:
    return f"{fmt_num(est, decimals)} ({fmt_num(lo, decimals)} to {fmt_num(hi, decimals)})"


def _allele_name(v: PanelVariant, allele: str) -> str:
    """``"G (t)"``: a forward allele with its literature letter when it has one."""
    return allele if v.label(allele) == allele else f"{allele} ({v.label(allele)})"


def _anchor(outcome: str, variant: str) -> str:
    return f"{outcome}-{variant}".replace(".", "_")


def _esc(value) -> str:
    return html.escape("" if value is None else str(value))


def _span(text: str, *, key: str = "", col: str = "", cls: str = "num") -> str:
    attrs = f' class="{cls}"'
    if key:
        attrs += f' data-key="{_esc(key)}" data-col="{col}"'
    return f"<span{attrs}>{text}</span>"


def _count(value, k: int, *, key: str = "", col: str = "") -> str:
    return _span(_esc(suppress_count(value, k)), key=key, col=col, cls="n")


def _row_key(row) -> str:
    return "|".join(str(row[c]) for c in ("outcome", "variant", "stratum", "model", "term"))


def _table(head: list[str], rows: list[list[str]], *, cls: str = "data", caption: str = "") -> str:
    """An HTML table from already-escaped cell HTML (``None`` cells are skipped: rowspans)."""
    cap = f"<caption>{caption}</caption>" if caption else ""
    thead = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(c for c in r if c is not None) + "</tr>" for r in rows)
    return f'<table class="{cls}">{cap}<thead><tr>{thead}</tr></thead><tbody>{body}</tbody></table>'


def _td(content: str = "", *, cls: str = "", rowspan: int = 1, colspan: int = 1) -> str:
    attrs = f' class="{cls}"' if cls else ""
    if rowspan > 1:
        attrs += f' rowspan="{rowspan}"'
    if colspan > 1:
        attrs += f' colspan="{colspan}"'
    return f"<td{attrs}>{content}</td>"


def table_html(df: pd.DataFrame, *, columns: list[str] | None = None, max_rows: int | None = None) -> str:
    """A plain HTML table of a (suppressed) DataFrame with compact number formatting."""
    if columns:
        df = df[[c for c in columns if c in df.columns]]
    if max_rows is not None:
        df = df.head(max_rows)
    head = [_esc(c) for c in df.columns]
    rows = []
    for r in df.itertuples(index=False):
        cells = []
        for col, v in zip(df.columns, r, strict=True):
            if col in COUNT_COLUMNS:
                cells.append(_td(_span(_esc(v if isinstance(v, str) else suppress_count(v, 0)), cls="n")))
            elif isinstance(v, float | np.floating):
                cells.append(_td(_esc("" if np.isnan(v) else f"{v:.4g}")))
            else:
                cells.append(_td(_esc(v), cls="text"))
        rows.append(cells)
    return _table(head, rows)


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
def table_one(pheno: pd.DataFrame, *, outcomes: dict, covariates: list[str]) -> pd.DataFrame:
    """Descriptive "Table 1" by T2DM status and sex, from the coded phenotype table.

    For every group of :data:`TABLE1_GROUPS` (a sample with missing sex or T2DM counts only in
    the groups that do not fix that factor): ``n`` participants; for covariates and continuous
    outcomes the number with a value (``n_obs``), mean and SD (ddof 1); for binary outcomes the
    number with a value and the number of cases (value 1). Missing values are excluded per
    variable. Returns a tidy frame: ``group, variable, label, kind, n, n_obs, mean, sd, n_cases``.
    """
    for col in ("sex", "t2dm"):
        if col not in pheno.columns:
            raise ValueError(f"pheno lacks column {col!r}; columns are {list(pheno.columns)}")
    masks = strata_masks(pheno, ["all", "t2dm", "sex", "t2dm_sex"])
    variables = [(c, VARIABLE_NAMES.get(c, c), "continuous") for c in covariates]
    for key, spec in outcomes.items():
        variables.append((key, spec.get("label", key), spec["type"]))
    rows = []
    for group in TABLE1_GROUPS:
        mask = masks[group]
        n = int(mask.sum())
        rows.append({"group": group, "variable": "n", "label": "Participants", "kind": "count", "n": n})
        for col, label, kind in variables:
            if col not in pheno.columns:
                continue
            x = pd.to_numeric(pheno.loc[mask, col], errors="coerce").to_numpy(float)
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
    return out[["group", "variable", "label", "kind", "n", "n_obs", "mean", "sd", "n_cases"]]


def _table_one_html(t1: pd.DataFrame, k: int) -> str:
    head = [""] + [
        {
            "t2dm=yes,sex=female": "T2DM<br>women",
            "t2dm=yes,sex=male": "T2DM<br>men",
            "t2dm=yes": "T2DM<br>all",
            "t2dm=no,sex=female": "No T2DM<br>women",
            "t2dm=no,sex=male": "No T2DM<br>men",
            "t2dm=no": "No T2DM<br>all",
            "all": "All<br>participants",
        }[g]
        for g in TABLE1_GROUPS
    ]
    rows = []
    for variable in dict.fromkeys(t1["variable"]):
        sub = t1[t1["variable"] == variable].set_index("group")
        first = sub.iloc[0]
        if variable == "n":
            rows.append(
                [_td("Participants, n", cls="text")] + [_td(_count(sub.at[g, "n"], k)) for g in TABLE1_GROUPS]
            )
            continue
        if first["kind"] == "binary":
            label = f"{_esc(first['label'])}, n (%)"
            cells = []
            for g in TABLE1_GROUPS:
                cases, obs = sub.at[g, "n_cases"], sub.at[g, "n_obs"]
                text = _count(cases, k)
                if obs and not (k > 1 and 0 < cases < k):
                    text += f" ({100 * cases / obs:.1f})"
                cells.append(_td(text))
        else:
            label = f"{_esc(first['label'])}, mean (SD)"
            decimals = 1 if abs(float(np.nanmean(sub["mean"].astype(float)))) >= 10 else 3
            cells = []
            for g in TABLE1_GROUPS:
                obs = sub.at[g, "n_obs"]
                if 0 < obs < k or not _finite(sub.at[g, "mean"]):
                    cells.append(_td("\u2013"))
                else:
                    sd = sub.at[g, "sd"]
                    cells.append(_td(_mean_sd(sub.at[g, "mean"], sd, decimals)))
        rows.append([_td(label, cls="text")] + cells)
        missing = [int(sub.at[g, "n"] - sub.at[g, "n_obs"]) for g in TABLE1_GROUPS]
        if any(missing):
            rows.append(
                [_td("&emsp;missing, n", cls="text sub")] + [_td(_count(m, k), cls="sub") for m in missing]
            )
    return _table(head, rows, cls="data table1")


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
    table = read_populations(populations_path)
    out = pd.DataFrame(index=panel.ids)
    for pop in POPULATIONS:
        try:
            model = population_model(table, panel, population=pop)
        except Exception:  # noqa: BLE001 - a population not covering the panel is simply not shown
            continue
        out[pop] = [model.effect_allele_frequency(v) for v in panel.ids]
    return out


def _qc_html(
    qc: pd.DataFrame, extraction: pd.DataFrame, ref: pd.DataFrame, panel: Panel, config: dict, k: int
):
    binary = [o for o, s in config["outcomes"].items() if s["type"] == "binary"]
    population = (
        (config.get("simulate") or {}).get("population")
        if (config.get("simulate") or {}).get("enabled")
        else None
    )
    pops = [p for p in POPULATIONS if p in ref.columns]
    head = ["Variant", "Position", "Effect / other allele", "Called", "Call rate", "Effect-allele freq."]
    head += [f"{p}{' (simulated)' if p == population else ''}<br>reference" for p in pops]
    head += ["HWE p (all)"] + [f"HWE p (controls, {_esc(o)})" for o in binary] + ["QC flag"]
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
            pos = f"{_esc(ext.at[v.id, 'contig'])}:{int(ext.at[v.id, 'pos'])}"
        elif v.id in ext.index:
            pos = f"not found ({_esc(ext.at[v.id, 'reason'])})"
        eff, oth = v.effect_allele, v.other_allele
        alleles = f"{_allele_name(v, eff)} / {_allele_name(v, oth)}"
        cells = [
            _td(f"<b>{_esc(v.name)}</b> {_esc(v.id)}", cls="text"),
            _td(pos, cls="text"),
            _td(_esc(alleles), cls="text"),
            _td(_count(r["n_called"], k) + " / " + _count(r["n_samples"], k)),
            _td(fmt_num(r["call_rate"], 3)),
            _td(
                fmt_num(r["effect_allele_freq"], 3 if not v.is_mt else 4)
                + (" <small>(carriers)</small>" if v.is_mt else "")
                if not (v.is_mt and 0 < float(r["n_carriers"] if _finite(r["n_carriers"]) else 0) < k)
                else "\u2013"
            ),
        ]
        for p in pops:
            val = ref.at[v.id, p] if v.id in ref.index else np.nan
            cells.append(
                _td(fmt_num(val, 3 if not v.is_mt else 4), cls="ref" + (" own" if p == population else ""))
            )
        cells.append(_td(fmt_p(r["hwe_p"]) if _finite(r["hwe_p"]) else "<small>n/a (haploid)</small>"))
        for o in binary:
            c = sub[sub["subset"] == f"controls:{o}"]
            hp = c["hwe_p"].iloc[0] if len(c) else np.nan
            cells.append(_td(fmt_p(hp) if _finite(hp) else "<small>n/a</small>"))
        flag = r["reason"] if isinstance(r["reason"], str) and r["reason"] else ""
        note = "; ".join(
            part
            for part in str(r["note"] if isinstance(r["note"], str) else "").split("; ")
            if part and part != NO_HWE_MT
        )
        cells.append(
            _td(
                (f'<span class="flag">{_esc(_suppress_text(flag, k))}</span>' if flag else "pass")
                + (f"<br><small>{_esc(_suppress_text(note, k))}</small>" if note else ""),
                cls="text",
            )
        )
        rows.append(cells)
    main_table = _table(head, rows)

    # HWE by stratum
    strata = list(dict.fromkeys(qc["stratum"]))
    head2 = ["Variant"] + [_esc(stratum_name(s)) for s in strata]
    rows2 = []
    for v in panel:
        if v.is_mt:
            continue
        sub = qc[(qc["variant"] == v.id) & (qc["subset"] == "all")].set_index("stratum")
        cells = [_td(f"<b>{_esc(v.name)}</b>", cls="text")]
        for s in strata:
            hp = sub.at[s, "hwe_p"] if s in sub.index else np.nan
            flagged = s in sub.index and "hwe" in str(sub.at[s, "flag"])
            cells.append(_td(fmt_p(hp) + (" \u2020" if flagged else ""), cls="flagged" if flagged else ""))
        rows2.append(cells)
    hwe_table = _table(head2, rows2)
    return main_table, hwe_table, population


# --------------------------------------------------------------------------- genotype tables
def _genotype_label(v: PanelVariant, k: int) -> str:
    nuc, lab = v.genotype_names(k)
    if v.is_mt:
        return f"{nuc} ({'carrier' if k else 'non-carrier'})"
    return nuc if nuc == lab else f"{nuc} ({lab})"


def complementary(counts: list, k: int) -> list[bool]:
    """Cells to withhold besides the small ones (complementary suppression).

    When a row (or column) of counts with a shown total holds a suppressed cell (0 < count < k),
    its value could be recovered as total minus the other cells; the largest other cell is then
    withheld too. Returns one flag per cell; all False when nothing is small or ``k`` <= 1.
    """
    values = [float(c) if _finite(c) else math.nan for c in counts]
    small = [k > 1 and 0 < v < k for v in values]
    out = [False] * len(values)
    if any(small):
        others = [(v, i) for i, v in enumerate(values) if not small[i] and math.isfinite(v) and v > 0]
        if others:
            out[max(others)[1]] = True
    return out


WITHHELD = '<span class="n">suppressed</span>'


def _genotype_tables(qc: pd.DataFrame, panel: Panel, k: int) -> list[dict]:
    out = []
    qc = qc[qc["subset"] == "all"]
    for v in panel:
        sub = qc[qc["variant"] == v.id]
        if sub.empty:
            continue
        levels = range(v.ploidy + 1)
        head = ["Stratum", "Called"] + [_esc(_genotype_label(v, g)) + "<br>n (%)" for g in levels]
        head += [
            "Carrier freq."
            if v.is_mt
            else f"Freq. {_esc(v.effect_allele)}"
            + (f" ({_esc(v.label(v.effect_allele))})" if v.label(v.effect_allele) != v.effect_allele else "")
        ]
        rows = []
        for _, r in sub.iterrows():
            if v.is_mt:
                counts = [
                    r["n_called"] - r["n_carriers"] if _finite(r["n_carriers"]) else np.nan,
                    r["n_carriers"],
                ]
            else:
                counts = [r["n_hom_other"], r["n_het"], r["n_hom_effect"]]
            called = r["n_called"]
            cells = [_td(_esc(stratum_name(r["stratum"])), cls="text"), _td(_count(called, k))]
            any_small = False
            for c, withhold in zip(counts, complementary(counts, k), strict=True):
                text = _count(c, k)
                small = _finite(c) and 0 < float(c) < k
                any_small |= small
                if withhold:
                    text = WITHHELD
                elif _finite(c) and called and not small:
                    text += f" ({100 * float(c) / float(called):.1f})"
                cells.append(_td(text))
            freq = r["effect_allele_freq"]
            cells.append(_td("\u2013" if (v.is_mt and any_small) else fmt_num(freq, 3 if not v.is_mt else 4)))
            rows.append(cells)
        out.append({"variant": v, "title": f"{v.name} ({v.id})", "html": _table(head, rows)})
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


def _pool_counts(desc: pd.DataFrame, counts: tuple[int, ...], col: str, k: int):
    """Sum of a count column over effect counts; None when a component is suppressed (small)."""
    sub = desc[desc["effect_count"].isin(counts)]
    if sub.empty:
        return np.nan
    values = pd.to_numeric(sub[col], errors="coerce").to_numpy(float)
    if k > 1 and len(counts) > 1 and np.any((values > 0) & (values < k)):
        return None
    return float(np.nansum(values))


def _pool_means(desc: pd.DataFrame, counts: tuple[int, ...], k: int):
    """(n, mean, sd) of the pooled genotype classes, exactly from per-class n, mean and SD."""
    sub = desc[desc["effect_count"].isin(counts)]
    if sub.empty:
        return np.nan, np.nan, np.nan
    n = sub["n"].to_numpy(float)
    m = sub["mean"].to_numpy(float)
    s = np.nan_to_num(sub["sd"].to_numpy(float))
    if k > 1 and len(counts) > 1 and np.any((n > 0) & (n < k)):
        return None, np.nan, np.nan
    total = n.sum()
    if total == 0:
        return 0.0, np.nan, np.nan
    keep = n > 0
    mean = float((n[keep] * m[keep]).sum() / total)
    ss = ((n[keep] - 1) * s[keep] ** 2).sum() + (n[keep] * (m[keep] - mean) ** 2).sum()
    sd = float(math.sqrt(ss / (total - 1))) if total > 1 else np.nan
    return total, mean, sd


def _est_cell(row, decimals: int) -> str:
    key = _row_key(row)
    if not _finite(row["estimate"]):
        note = row["note"] if isinstance(row["note"], str) and row["note"] else "not estimated"
        return f'<span class="na">{_esc(note)}</span>'
    text = _span(fmt_num(row["estimate"], decimals), key=key, col="estimate")
    if _finite(row["ci_lower"]) and _finite(row["ci_upper"]):
        text += (
            " ("
            + _span(fmt_num(row["ci_lower"], decimals), key=key, col="ci_lower")
            + " to "
            + _span(fmt_num(row["ci_upper"], decimals), key=key, col="ci_upper")
            + ")"
        )
    if isinstance(row["note"], str) and row["note"].startswith("firth"):
        text += ' <abbr class="mark" title="Firth penalised logistic regression">F</abbr>'
    return text


def _p_cell(row, col: str = "p_value") -> str:
    return _span(fmt_p(row[col]), key=_row_key(row), col=col) if _finite(row[col]) else ""


def snpassoc_table(
    rows: pd.DataFrame, desc: pd.DataFrame, v: PanelVariant, *, binary: bool, decimals: int, k: int
) -> str:
    """SNPassoc-style table of one variant x stratum: per genetic model, the genotype groups with
    counts (cases/controls) or mean (SD), the estimate vs the reference group with 95% CI, p, q and
    AIC. ``rows``: association rows of that variant, outcome and stratum; ``desc``: its
    genotype_counts (binary) or bmd_by_genotype (continuous) rows."""
    est_name = "OR" if binary else "Beta"
    head = ["Model", "Genotype"]
    head += ["Controls<br>n (%)", "Cases<br>n (%)"] if binary else ["n", "Mean (SD)"]
    head += [f"{est_name} (95% CI)", "p", "q (BH)", "AIC"]
    models = ["carrier"] if v.is_mt else ["codominant", "dominant", "recessive", "overdominant", "additive"]
    body = []
    tot_cases = float(desc["n_cases"].sum()) if binary and len(desc) else np.nan
    tot_ctrls = float(desc["n_controls"].sum()) if binary and len(desc) else np.nan
    for model in models:
        mrows = rows[rows["model"] == model]
        if mrows.empty:
            continue
        first = mrows.iloc[0]
        if model == "additive":
            r = first
            dosage = "dosage" in str(r["method"])
            label = f"per {_esc(v.effect_allele)} allele" + (" (dosage)" if dosage else "")
            body.append(
                [
                    _td(MODEL_NAMES[model], cls="text model"),
                    _td(label, cls="text"),
                    _td(""),
                    _td(""),
                    _td(_est_cell(r, decimals)),
                    _td(_p_cell(r)),
                    _td(_p_cell(r, "q_value")),
                    _td(_span(fmt_num(r["aic"], 1), key=_row_key(r), col="aic") if _finite(r["aic"]) else ""),
                ]
            )
            continue
        groups = _groups(v, model)
        # counts of each group per column, and the complementary cells to withhold (totals are shown)
        if binary:
            pooled = {
                col: [_pool_counts(desc, counts, col, k) for _, counts, _ in groups]
                for col in ("n_controls", "n_cases")
            }
        else:
            means = [_pool_means(desc, counts, k) for _, counts, _ in groups]
            pooled = {"n": [m[0] for m in means]}
        hide = {col: complementary(values, k) for col, values in pooled.items()}
        for i, (label, _counts, term) in enumerate(groups):
            cells = [_td(MODEL_NAMES[model], cls="text model", rowspan=len(groups)) if i == 0 else None]
            cells.append(_td(_esc(label), cls="text"))
            if binary:
                for col, tot in (("n_controls", tot_ctrls), ("n_cases", tot_cases)):
                    c = pooled[col][i]
                    if c is None or hide[col][i]:
                        cells.append(_td(WITHHELD))
                    else:
                        text = _count(c, k)
                        if _finite(c) and tot and not (0 < c < k):
                            text += f" ({100 * c / tot:.1f})"
                        cells.append(_td(text))
            else:
                n, mean, sd = means[i]
                if n is None or hide["n"][i]:
                    cells += [_td(WITHHELD), _td("\u2013")]
                else:
                    small = _finite(n) and 0 < n < k
                    cells.append(_td(_count(n, k)))
                    cells.append(
                        _td("\u2013" if small or not _finite(mean) else _mean_sd(mean, sd, decimals))
                    )
            if term == "":
                cells.append(_td("reference", cls="ref"))
            else:
                r = mrows[mrows["term"] == term]
                cells.append(_td(_est_cell(r.iloc[0], decimals) if len(r) else ""))
            if i == 0:
                cells += [
                    _td(_p_cell(first), rowspan=len(groups)),
                    _td(_p_cell(first, "q_value"), rowspan=len(groups)),
                    _td(
                        _span(fmt_num(first["aic"], 1), key=_row_key(first), col="aic")
                        if _finite(first["aic"])
                        else "",
                        rowspan=len(groups),
                    ),
                ]
            body.append(cells)
    return _table(head, body, cls="data snpassoc")


def _model_n(rows: pd.DataFrame, k: int, binary: bool) -> str:
    reg = rows[rows["model"].isin(["additive", "carrier"])]
    if reg.empty:
        return ""
    r = reg.iloc[0]
    key = _row_key(r)
    text = "n = " + _count(r["n"], k, key=key, col="n")
    if binary and _finite(r["n_cases"]):
        text += (
            " ("
            + _count(r["n_cases"], k, key=key, col="n_cases")
            + " cases, "
            + _count(r["n_controls"], k, key=key, col="n_controls")
            + " controls)"
        )
    return text


def _tests_table(rows: pd.DataFrame, *, binary: bool, k: int) -> str:
    names = {
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
    models = [m for m in names if m in set(rows["model"])]
    if not models:
        return ""
    body = []
    for m in models:
        r = rows[rows["model"] == m].iloc[0]
        key = _row_key(r)
        est = ""
        if _finite(r["estimate"]):
            est = _est_cell(r, 2)
        elif isinstance(r["note"], str) and r["note"]:
            est = f'<span class="na">{_esc(_suppress_text(r["note"], k))}</span>'
        stat = _span(fmt_num(r["statistic"], 2), key=key, col="statistic") if _finite(r["statistic"]) else ""
        df_ = _span(fmt_num(r["df"], 0), key=key, col="df") if _finite(r["df"]) else ""
        body.append(
            [
                _td(names[m], cls="text"),
                _td(est),
                _td(stat),
                _td(df_),
                _td(_p_cell(r)),
                _td(_p_cell(r, "q_value")),
            ]
        )
    return _table(
        [
            "Test (unadjusted for covariates)",
            "OR (95% CI)" if binary else "",
            "Statistic",
            "df",
            "p",
            "q (BH)",
        ],
        body,
        cls="data tests",
    )


def _strata_table(
    rows: pd.DataFrame, v: PanelVariant, strata: list[str], *, binary: bool, decimals: int, k: int
):
    main_model = "carrier" if v.is_mt else "additive"
    head = ["Stratum", "n" + (" (cases / controls)" if binary else "")]
    head += [
        ("OR" if binary else "Beta") + (" carrier" if v.is_mt else " per allele") + " (95% CI)",
        "p",
        "q (BH)",
    ]
    others = [] if v.is_mt else ["codominant", "dominant", "recessive", "overdominant"]
    head += [f"p {m}" for m in others]
    body = []
    for s in strata:
        sub = rows[rows["stratum"] == s]
        main = sub[sub["model"] == main_model]
        if main.empty:
            continue
        r = main.iloc[0]
        key = _row_key(r)
        n_text = _count(r["n"], k, key=key, col="n")
        if binary and _finite(r["n_cases"]):
            n_text += (
                " ("
                + _count(r["n_cases"], k, key=key, col="n_cases")
                + " / "
                + _count(r["n_controls"], k, key=key, col="n_controls")
                + ")"
            )
        cells = [_td(_esc(stratum_name(s)), cls="text"), _td(n_text)]
        if _finite(r["estimate"]):
            cells += [_td(_est_cell(r, decimals)), _td(_p_cell(r)), _td(_p_cell(r, "q_value"))]
        else:
            note = (
                _suppress_text(r["note"], k) if isinstance(r["note"], str) and r["note"] else "not estimated"
            )
            cells += [_td(f'<span class="na">{_esc(note)}</span>', colspan=3 + len(others), cls="text")]
            body.append(cells)
            continue
        for m in others:
            mr = sub[sub["model"] == m]
            cells.append(_td(_p_cell(mr.iloc[0]) if len(mr) else ""))
        body.append(cells)
    return _table(head, body, cls="data strata")


def _interaction_table(rows: pd.DataFrame, *, binary: bool, decimals: int, k: int) -> str:
    names = {
        "interaction_t2dm": "SNP \u00d7 T2DM interaction",
        "interaction_sex": "SNP \u00d7 sex interaction",
        "mantel_haenszel": "Mantel-Haenszel pooled allelic OR",
        "breslow_day": "Breslow-Day homogeneity",
    }
    sub = rows[rows["model"].isin(list(names))]
    if sub.empty:
        return ""
    body = []
    for _, r in sub.iterrows():
        where = {
            "by_t2dm": "across T2DM strata",
            "by_sex": "across sex strata",
            "all": "all participants",
        }.get(r["stratum"], stratum_name(r["stratum"]))
        est = (
            _est_cell(r, 2 if binary else decimals)
            if _finite(r["estimate"]) or r["model"] != "breslow_day"
            else ""
        )
        if not _finite(r["estimate"]) and r["model"] != "breslow_day":
            est = f'<span class="na">{_esc(_suppress_text(r["note"], k) or "not estimated")}</span>'
        body.append(
            [
                _td(names[r["model"]], cls="text"),
                _td(_esc(where), cls="text"),
                _td(_esc(r["reference"]) if r["model"].startswith("interaction") else "", cls="text small"),
                _td(_count(r["n"], k, key=_row_key(r), col="n")),
                _td(est),
                _td(_p_cell(r)),
            ]
        )
    est_head = "Ratio of ORs / OR (95% CI)" if binary else "Difference in beta (95% CI)"
    return _table(["Test", "Where", "Reference", "n", est_head, "p"], body, cls="data interactions")


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
    sub["note"] = [_suppress_text(t, k) if isinstance(t, str) else "" for t in sub["note"]]
    foot = []
    for model, label in (("interaction_t2dm", "SNP\u00d7T2DM"), ("interaction_sex", "SNP\u00d7sex")):
        r = rows[(rows["model"] == model) & (rows["stratum"] == "all")]
        if len(r) and _finite(r["p_value"].iloc[0]):
            foot.append(f"{label} interaction p = " + re.sub(r"</?sup>", "", fmt_p(r["p_value"].iloc[0])))
    effect = (
        f"{v.effect_allele} ({v.label(v.effect_allele)})"
        if v.label(v.effect_allele) != v.effect_allele
        else v.effect_allele
    )
    title = (
        f"{v.name} {v.id}: {spec.get('label', '')}, {'carrier' if v.is_mt else 'per effect allele ' + effect}"
    )
    return forest_plot(
        sub[["stratum", "estimate", "ci_lower", "ci_upper", "p_value", "n", "note"]],
        estimate_type="OR" if binary else "beta",
        title=title,
        footnote=("In all participants: " + "; ".join(foot)) if foot else "",
        decimals=decimals,
    )


def _means_plot(desc: pd.DataFrame, v: PanelVariant, strata: list[str], spec: dict, k: int) -> str:
    if desc.empty:
        return ""
    d = desc.copy()
    d["n"] = pd.to_numeric(d["n"], errors="coerce")
    d = d[(d["n"] > 0) & ~((d["n"] < k) if k > 1 else False)]
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
    config: dict,
    *,
    k: int,
    plots: bool = True,
) -> list[dict]:
    """Per outcome and variant: SNPassoc table (all), tests, strata table, interactions, figures,
    and the SNPassoc tables of the other strata. Returns template dicts."""
    strata = strata_labels(list(config.get("strata", ["all"])))
    out = []
    for key, spec in config["outcomes"].items():
        binary = spec["type"] == "binary"
        rows_o = assoc[assoc["outcome"] == key] if len(assoc) else assoc
        decimals = estimate_decimals(rows_o, "OR" if binary else "beta")
        desc_o = counts if binary else bmd
        desc_o = desc_o[desc_o["outcome"] == key] if len(desc_o) else desc_o
        variants = []
        for v in panel:
            rows = rows_o[rows_o["variant"] == v.id]
            if rows.empty:
                continue
            desc = desc_o[desc_o["variant"] == v.id] if len(desc_o) else desc_o
            all_rows = rows[rows["stratum"] == "all"]
            desc_all = desc[desc["stratum"] == "all"] if len(desc) else desc
            per_stratum = []
            for s in strata[1:]:
                rs = rows[rows["stratum"] == s]
                if rs.empty:
                    continue
                ds = desc[desc["stratum"] == s] if len(desc) else desc
                per_stratum.append(
                    {
                        "name": stratum_name(s),
                        "n": _model_n(rs, k, binary),
                        "table": snpassoc_table(rs, ds, v, binary=binary, decimals=decimals, k=k),
                        "tests": _tests_table(rs, binary=binary, k=k),
                    }
                )
            effect = v.effect_allele + (
                f" ({v.label(v.effect_allele)})" if v.label(v.effect_allele) != v.effect_allele else ""
            )
            other = v.other_allele + (
                f" ({v.label(v.other_allele)})" if v.label(v.other_allele) != v.other_allele else ""
            )
            variants.append(
                {
                    "id": v.id,
                    "anchor": _anchor(key, v.id),
                    "title": f"{v.name} ({v.id})",
                    "alleles": f"effect allele {effect}, other allele {other}; "
                    f"reference genotype {_genotype_label(v, 0)}",
                    "n": _model_n(all_rows, k, binary),
                    "snpassoc": snpassoc_table(all_rows, desc_all, v, binary=binary, decimals=decimals, k=k),
                    "tests": _tests_table(all_rows, binary=binary, k=k),
                    "strata": _strata_table(rows, v, strata, binary=binary, decimals=decimals, k=k),
                    "interactions": _interaction_table(rows, binary=binary, decimals=decimals, k=k),
                    "forest": _forest(rows, v, strata, spec, binary=binary, decimals=decimals, k=k)
                    if plots
                    else "",
                    "means": _means_plot(desc, v, strata, spec, k) if plots and not binary else "",
                    "per_stratum": per_stratum,
                }
            )
        out.append(
            {
                "key": key,
                "label": spec.get("label", key),
                "type": spec["type"],
                "estimate": "odds ratio (OR)" if binary else "beta (difference in outcome units)",
                "variants": variants,
                "top": _top_findings(rows_o, panel, binary=binary, decimals=decimals, k=k),
            }
        )
    return out


def _top_findings(rows: pd.DataFrame, panel: Panel, *, binary: bool, decimals: int, k: int) -> str:
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
        best = rows[
            (rows["variant"] == v.id)
            & (rows["stratum"] == "all")
            & rows["model"].isin(list(MODEL_NAMES))
            & np.isfinite(rows["aic"].astype(float))
        ]
        best_model = (
            MODEL_NAMES.get(best.loc[best["aic"].astype(float).idxmin(), "model"], "") if len(best) else ""
        )
        body.append(
            [
                _td(
                    f'<a href="#{_anchor(r["outcome"], v.id)}">{_esc(v.name)}</a> {_esc(v.id)}',
                    cls="text",
                ),
                _td(_count(r["n"], k, key=_row_key(r), col="n")),
                _td(_est_cell(r, decimals)),
                _td(_p_cell(r)),
                _td(_p_cell(r, "q_value")),
                _td(_esc(best_model), cls="text"),
            ]
        )
    est = "OR" if binary else "Beta"
    return _table(
        ["Variant", "n", f"{est} per effect allele or carrier (95% CI)", "p", "q (BH)", "Lowest-AIC model"],
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
                "reason": _suppress_text(g["note"].iloc[0], k),
            }
        )
    other = assoc[(notes != "") & ~notes.str.startswith("too few samples") & assoc["p_value"].isna()]
    grouped = (
        other.assign(note=other["note"].map(lambda t: _suppress_text(t, k)))
        .groupby(["outcome", "note"], sort=False)
        .agg(variants=("name", lambda s: ", ".join(dict.fromkeys(s))), n_rows=("model", "size"))
        .reset_index()
    )
    return skipped, grouped


def _covariate_design_html(design: pd.DataFrame | None) -> str:
    """The covariates dropped from the models, one row per outcome x stratum x covariate
    (``covariate_design.tsv``), or "" when none was."""
    if design is None or design.empty:
        return ""
    shown = design.assign(stratum=design["stratum"].map(stratum_name))
    return table_html(shown, columns=["outcome", "stratum", "covariate", "action", "reason", "variants"])


# --------------------------------------------------------------------------- haplotypes
def _ld_section(ld: pd.DataFrame, *, plots: bool) -> tuple[str, str]:
    """LD heatmap (all participants) and a table of r2 / |D'| per pair and stratum."""
    needed = {"variant1", "variant2", "name1", "name2", "stratum", "n", "d_prime", "r2"}
    if not needed <= set(ld.columns):
        return "", table_html(ld, max_rows=200)
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
    head = ["Pair"] + [_esc(stratum_name(s)) for s in strata]
    rows = []
    for (n1, n2), g in ld.groupby(["name1", "name2"], sort=False):
        g = g.set_index("stratum")
        cells = [_td(f"{_esc(n1)}–{_esc(n2)}", cls="text")]
        for s in strata:
            if s in g.index and _finite(g.at[s, "r2"]):
                cells.append(_td(f"{float(g.at[s, 'r2']):.2f} / {abs(float(g.at[s, 'd_prime'])):.2f}"))
            else:
                cells.append(_td("–"))
        rows.append(cells)
    return plot, _table(head, rows, caption="r² / |D'| by stratum")


def _hap_frequencies(haps: pd.DataFrame, *, plots: bool) -> tuple[str, str]:
    needed = {"block", "stratum", "haplotype", "rflp", "frequency"}
    if not needed <= set(haps.columns):
        return "", table_html(haps, max_rows=200)
    parts, plot = [], ""
    for block, g in haps.groupby("block", sort=False):
        strata = list(dict.fromkeys(g["stratum"]))
        labels = list(dict.fromkeys(zip(g["rflp"], g["haplotype"], strict=True)))
        head = ["Haplotype"] + [_esc(stratum_name(s)) for s in strata]
        rows = []
        for rflp, nuc in labels:
            sub = g[(g["rflp"] == rflp) & (g["haplotype"] == nuc)].set_index("stratum")
            label = f"<b>{_esc(rflp)}</b>" + (f" ({_esc(nuc)})" if nuc != rflp else "")
            if rflp == "rare" and "members" in sub.columns:
                members = sub["members"].dropna()
                if len(members):
                    label += f"<br><small>pooled: {_esc(members.iloc[0])}</small>"
            cells = [_td(label, cls="text")]
            for s in strata:
                cells.append(_td(fmt_num(sub.at[s, "frequency"], 3) if s in sub.index else "–"))
            rows.append(cells)
        parts.append(_table(head, rows, caption=f"{_esc(block)}: estimated haplotype frequencies"))
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
    return plot, "".join(parts)


def _hap_association(ha: pd.DataFrame, config: dict, *, k: int) -> str:
    """Per outcome: one block of rows per stratum (reference, each haplotype, global test)."""
    needed = {"outcome", "stratum", "model", "term", "estimate", "ci_lower", "ci_upper", "p_value"}
    if not needed <= set(ha.columns):
        return table_html(suppress_counts(ha, k), max_rows=400)
    parts = []
    for key, spec in config["outcomes"].items():
        g = ha[ha["outcome"] == key]
        if g.empty:
            continue
        binary = spec["type"] == "binary"
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
                glob_text = fmt_p(glob_["p_value"].iloc[0]) + (f" (q {fmt_p(q)})" if _finite(q) else "")
            elif len(glob_) and isinstance(glob_["note"].iloc[0], str):
                glob_text = f'<span class="na">{_esc(_suppress_text(glob_["note"].iloc[0], k))}</span>'
            n_val = sub["n"].iloc[0] if "n" in sub else np.nan
            rows.append(
                [
                    _td(_esc(stratum_name(s)), cls="text model", rowspan=n_rows),
                    _td(_count(n_val, k), rowspan=n_rows),
                    _td(_esc(ref), cls="text"),
                    _td("reference", cls="ref"),
                    _td(""),
                    _td(glob_text, rowspan=n_rows),
                ]
            )
            for _, r in haps.iterrows():
                label = f"<b>{_esc(r['term'])}</b>"
                if (
                    "haplotype" in r
                    and isinstance(r["haplotype"], str)
                    and r["haplotype"] not in (r["term"], "")
                ):
                    label += f" ({_esc(r['haplotype'])})"
                if _finite(r["estimate"]):
                    cells = [
                        _td(_est_ci(r["estimate"], r["ci_lower"], r["ci_upper"], decimals)),
                        _td(fmt_p(r["p_value"])),
                    ]
                else:
                    note = r["note"] if isinstance(r["note"], str) and r["note"] else "not estimated"
                    cells = [_td(f'<span class="na">{_esc(_suppress_text(note, k))}</span>'), _td("")]
                rows.append([None, None, _td(label, cls="text"), *cells, None])
        parts.append(
            f"<h4>{_esc(spec.get('label', key))}</h4>"
            + _table(
                ["Stratum", "n", "Haplotype", f"{est} per copy (95% CI)", "p", "Global test p"],
                rows,
                cls="data haplo",
            )
        )
    return "".join(parts)


def haplotype_section(
    frames: dict[str, pd.DataFrame], config: dict, *, k: int, plots: bool = True
) -> dict | None:
    """LD heatmap and tables, haplotype frequencies and haplotype association, from the
    ``ld``, ``haplotypes`` and ``haplotype_association`` tables (:mod:`vdrbone.haplotypes`)
    when present; ``None`` when none of them is."""
    present = {n: frames[n] for n in HAPLOTYPE_TABLES if n in frames and not frames[n].empty}
    if not present:
        return None
    out = {"ld_plot": "", "ld_table": "", "hap_plot": "", "hap_table": "", "assoc_table": ""}
    if "ld" in present:
        out["ld_plot"], out["ld_table"] = _ld_section(present["ld"], plots=plots)
    if "haplotypes" in present:
        out["hap_plot"], out["hap_table"] = _hap_frequencies(present["haplotypes"], plots=plots)
    if "haplotype_association" in present:
        out["assoc_table"] = _hap_association(present["haplotype_association"], config, k=k)
    return out


# --------------------------------------------------------------------------- summary pieces
def _sample_counts(frames, pheno: pd.DataFrame | None, assoc: pd.DataFrame, config: dict, k: int) -> dict:
    matching = frames.get("sample_matching", pd.DataFrame())
    m = dict(zip(matching.get("measure", []), matching.get("n", []), strict=False)) if len(matching) else {}
    labels = {
        "in_vcf": "Samples in the VCF",
        "in_phenotypes": "Samples in the phenotype table",
        "in_both": "In both (analysed)",
        "only_vcf": "Only in the VCF",
        "only_phenotypes": "Only in the phenotype table",
    }
    overview = _table(
        ["", "n"], [[_td(labels.get(key, key), cls="text"), _td(_count(val, k))] for key, val in m.items()]
    )
    strata = strata_labels(list(config.get("strata", ["all"])))
    outcomes = list(config["outcomes"])
    masks = strata_masks(pheno, list(config.get("strata", ["all"]))) if pheno is not None else {}
    head = ["Stratum", "Participants"] + [
        _esc(config["outcomes"][o].get("label", o)) + "<br><small>analysed n (range over variants)</small>"
        for o in outcomes
    ]
    rows = []
    reg = assoc[assoc["model"].isin(["additive", "carrier"])] if len(assoc) else assoc
    for s in strata:
        cells = [
            _td(_esc(stratum_name(s)), cls="text"),
            _td(_count(int(masks[s].sum()), k) if s in masks else ""),
        ]
        for o in outcomes:
            sub = reg[(reg["outcome"] == o) & (reg["stratum"] == s)] if len(reg) else reg
            ns = pd.to_numeric(sub["n"], errors="coerce").dropna() if len(sub) else pd.Series(dtype=float)
            if ns.empty:
                cells.append(_td(""))
                continue
            lo, hi = int(ns.min()), int(ns.max())
            text = _count(lo, k) if lo == hi else _count(lo, k) + "\u2013" + _count(hi, k)
            skipped = sub["note"].fillna("").astype(str).str.startswith("too few samples").any()
            cells.append(_td(text + (' <span class="flag">skipped</span>' if skipped else "")))
        rows.append(cells)
    return {"overview": overview, "strata": _table(head, rows)}


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


def _build_label(extraction: pd.DataFrame, config: dict) -> str:
    """The build of extraction.tsv, with how it was inferred when the files named none."""
    if "build" not in extraction or not extraction["build"].notna().any():
        return str(config["cohort"].get("build"))
    build = str(extraction["build"].dropna().iloc[0])
    source = extraction["build_source"].dropna() if "build_source" in extraction else pd.Series([], dtype=str)
    if len(source) and str(source.iloc[0]).startswith("inferred"):
        return f"{build} ({source.iloc[0]})"
    return build


def _config_highlights(config: dict, k: int, build: str | None = None) -> str:
    qc, assoc = config.get("qc", {}), config.get("association", {})
    strata = ", ".join(stratum_name(s) for s in strata_labels(list(config.get("strata", ["all"]))))
    items = [
        (
            "Cohort",
            f"{config['cohort']['name']}" + (" (synthetic)" if config["cohort"].get("synthetic") else ""),
        ),
        (
            "Genome build",
            build
            if config["cohort"].get("build") != "auto" or not build or " (" in build
            else f"{build} (detected)",
        ),
        ("Variants", ", ".join(config.get("variants", []))),
        ("Outcomes", "; ".join(f"{s.get('label', o)} ({s['type']})" for o, s in config["outcomes"].items())),
        ("Covariates", ", ".join(config.get("covariates", [])) or "none"),
        ("Strata", strata),
        (
            "QC",
            f"call rate \u2265 {qc.get('min_call_rate')}, HWE p \u2265 {qc.get('hwe_p'):g} "
            f"(hwe_samples: {qc.get('hwe_samples', 'both')}), action: {qc.get('action')}",
        ),
        (
            "Minimum per stratum",
            f"{assoc.get('min_stratum_n')} samples, {assoc.get('min_cases')} cases and controls",
        ),
        ("Multiple testing", "within each outcome (Bonferroni and Benjamini-Hochberg)"),
        ("Small-cell suppression", f"counts below {k} shown as &lt;{k}" if k > 1 else "off"),
    ]
    return (
        '<dl class="kv">'
        + "".join(f"<dt>{_esc(a)}</dt><dd>{b if 'lt;' in b else _esc(b)}</dd>" for a, b in items)
        + "</dl>"
    )


# --------------------------------------------------------------------------- entry point
def _load(path: str) -> pd.DataFrame:
    return read_tsv(path)


def render_report(
    *,
    run: dict,
    config: dict,
    tables: dict[str, str],
    suppress_below: int,
    panel: Panel | None = None,
    phenotypes: str | None = None,
    inputs: dict[str, list[str]] | None = None,
    logs: list[str] | None = None,
    populations: str | None = None,
    warnings: list[str] | None = None,
    checksum_cache: dict | None = None,
    plots: bool = True,
) -> str:
    """Render the report HTML.

    Parameters
    ----------
    run : the run record (``run_id``, ``started_utc``, ``fingerprint``).
    config : the validated config the run used.
    tables : table name (file stem, e.g. ``association``) -> path of the shareable TSV. Optional
        names ``ld``, ``haplotypes``, ``haplotype_association`` add the haplotype section.
    suppress_below : small-cell threshold k (0 or 1: off).
    panel : the analysed panel (default: read ``config['panel']`` and select ``config['variants']``).
    phenotypes : the coded phenotype table (``work/phenotypes.tsv``), read to compute aggregate
        Table 1 statistics and stratum sizes only.
    inputs : role -> input files, listed with size and SHA-256.
    logs : the run's log files; their WARNING lines are listed.
    populations : ``resources/populations.tsv`` for the reference frequencies.
    warnings : further warnings (e.g. from the config check).
    checksum_cache : SHA-256 cache of :func:`vdrbone.files.sha256_file` (read only).
    plots : draw the figures (False makes a faster text-only report, for tests).
    """
    if panel is None:
        from vdrbone.panel import read_panel

        panel = read_panel(config["panel"]).select(list(config["variants"]))
    k = int(suppress_below)
    frames = {name: _load(path) for name, path in tables.items()}
    empty = pd.DataFrame(
        columns=["outcome", "variant", "stratum", "model", "term", "note", "p_value", "n", "aic"]
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
    pheno = read_tsv(phenotypes) if phenotypes else None

    ref = reference_frequencies(panel, populations)
    qc_table, hwe_table, population = (
        _qc_html(qc, extraction, ref, panel, config, k) if len(qc) else ("", "", None)
    )
    skipped, not_estimated = skipped_rows(assoc, k=k)
    t1 = (
        _table_one_html(
            table_one(pheno, outcomes=config["outcomes"], covariates=list(config.get("covariates", []))), k
        )
        if pheno is not None
        else ""
    )
    qc_samples = frames.get("qc_samples_summary")
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: resources.files("vdrbone").joinpath("templates", name).read_text(encoding="utf-8")
        ),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("report.html.j2")
    cfg_yaml = yaml.safe_dump(config, sort_keys=False, default_flow_style=None, width=100)
    versions = software_versions()
    return template.render(
        run=run,
        config=config,
        config_yaml=cfg_yaml,
        version=__version__,
        k=k,
        inputs=input_checksums(inputs or {}, cache=checksum_cache),
        warnings=collect_warnings(logs or [], extra=warnings),
        samples=_sample_counts(frames, pheno, assoc, config, k),
        highlights=_config_highlights(
            config,
            k,
            _build_label(extraction, config),
        ),
        not_extracted=not_extracted(extraction),
        qc_table=qc_table,
        hwe_table=hwe_table,
        population=population,
        qc_samples=table_html(suppress_counts(qc_samples, k)) if qc_samples is not None else "",
        table1=t1,
        genotype_tables=_genotype_tables(qc, panel, k) if len(qc) else [],
        outcomes=association_sections(assoc, counts, bmd, panel, config, k=k, plots=plots),
        skipped=skipped,
        not_estimated=table_html(not_estimated) if len(not_estimated) else "",
        covariate_design=_covariate_design_html(frames.get("covariate_design")),
        haplotypes=haplotype_section(frames, config, k=k, plots=plots),
        methods=methods_sections(settings_from_config(config), panel=panel, versions=versions, suppress=k),
        references=list(REFERENCES.values()),
        versions=versions,
    )
