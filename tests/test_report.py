"""The HTML report: self-contained valid HTML, every section, numbers traceable to association.tsv,
small-cell suppression in the report and the archived tables, methods text from the config, and a
headless Chromium screenshot without console errors.

The tables are produced in-process (simulate -> extract -> phenotypes -> qc -> associate ->
haplotypes) for an 800-sample default cohort, exactly as the workflow's adapters do, and written
into a run folder layout; the workflow itself is exercised by tests/test_run_safety.py.
"""

from __future__ import annotations

import base64
import collections
import copy
import io
import math
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import REPO, default_config

from vdrbone import plots
from vdrbone.association import associate_outcome
from vdrbone.descriptive import TABLE1_GROUPS, table_one
from vdrbone.disclosure import (
    COUNT_COLUMNS,
    complementary,
    suppress_count,
    suppress_counts,
    write_shareable_table,
)
from vdrbone.epistasis import epistasis_outcome
from vdrbone.flow import flow_head
from vdrbone.haplotypes import association_table, haplotype_frequency_table, ld_table
from vdrbone.harmonise import extract_panel
from vdrbone.methods import REFERENCES, methods_sections
from vdrbone.panel import read_panel
from vdrbone.phenotypes import match_samples, outcome_kind, read_phenotypes
from vdrbone.qc import qc_samples, qc_samples_summary, qc_variants
from vdrbone.report import (
    BROWSE_COLUMNS,
    PRINT_DPI,
    SECTION_IDS,
    collect_warnings,
    conditional_section,
    differential_missingness_section,
    drawn_figures,
    pdf_written_aside,
    permutation_section,
    render_html,
    render_report,
    report_context,
    write_pdf,
)
from vdrbone.settings import settings_from_config, validate_config
from vdrbone.simulate import write_from_config
from vdrbone.strata import strata_labels
from vdrbone.strega import STREGA_ITEMS
from vdrbone.tables import read_tsv, write_tsv
from vdrbone.vcf_reader import vcf_samples

RUN_ID = "synthetic-eur-test"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# --------------------------------------------------------------------------- the cohort
def _config(tmp: Path) -> dict:
    cfg = default_config()
    sim = tmp / "sim"
    cfg["simulate"].update({"n_samples": 800, "n_background": {"chr12": 20, "chrM": 3}, "outdir": str(sim)})
    cfg["cohort"]["vcf"] = [str(sim / "chr12.vcf.gz"), str(sim / "chrM.vcf.gz")]
    cfg["cohort"]["phenotypes"] = str(sim / "phenotypes.tsv")
    cfg["panel"] = str(REPO / "resources" / "vdr_snps.tsv")
    return validate_config(cfg, REPO / "workflow" / "schemas" / "config.schema.yaml")


def _tables(cfg: dict, run_dir: Path) -> dict[str, str]:
    """The run's shareable tables, made in-process as the workflow's adapters make them."""
    write_from_config(cfg, cfg["simulate"]["outdir"])
    panel = read_panel(cfg["panel"]).select(cfg["variants"])
    g = cfg["genotypes"]
    ex = extract_panel(
        list(cfg["cohort"]["genotypes"]),
        panel,
        build=cfg["cohort"]["build"],
        heteroplasmy_threshold=g["heteroplasmy_threshold"],
        gp_threshold=g["gp_threshold"],
        mt_alt=g["mt_alt"],
    )
    pheno = read_phenotypes(
        cfg["cohort"]["phenotypes"],
        sample_column=cfg["cohort"]["sample_column"],
        coding=cfg["phenotype_coding"],
        outcomes=cfg["outcomes"],
        covariates=list(cfg["covariates"]),
        interactions=list(cfg["interactions"]),
    )
    summary, matched = match_samples(
        list(pheno["sample"]),
        vcf_samples(list(cfg["cohort"]["genotypes"])),
        min_overlap=0.5,
        pheno_path="p",
        vcf_path="v",
    )
    pheno = pheno.set_index("sample").loc[matched].reset_index()
    binary = [o for o, s in cfg["outcomes"].items() if outcome_kind(s) == "binary"]
    qc = qc_variants(
        ex.calls,
        pheno,
        panel,
        strata=list(cfg["strata"]),
        binary_outcomes=binary,
        min_call_rate=0.95,
        hwe_p=1e-6,
    )
    results = [
        associate_outcome(ex.calls, pheno, panel, outcome=o, settings=settings_from_config(cfg), qc=qc)
        for o in cfg["outcomes"]
    ]
    tables = {
        "extraction": ex.variants,
        "sample_matching": summary.drop(columns=["examples"]),
        "qc_variants": qc,
        "qc_samples_summary": qc_samples_summary(qc_samples(ex.calls)),
        "association": pd.concat([r.association for r in results], ignore_index=True),
        "genotype_counts": pd.concat([r.genotype_counts for r in results if len(r.genotype_counts)]),
        "bmd_by_genotype": pd.concat([r.bmd_by_genotype for r in results if len(r.bmd_by_genotype)]),
        "participant_flow": pd.concat(
            [
                flow_head(summary.drop(columns=["examples"]), qc_samples_summary(qc_samples(ex.calls))),
                *[r.flow for r in results],
            ],
            ignore_index=True,
        ),
        "kaplan_meier": pd.concat([r.kaplan_meier for r in results if len(r.kaplan_meier)]),
        "power": pd.concat([r.power for r in results], ignore_index=True),
        "ld": ld_table(ex.calls, pheno, panel, settings=settings_from_config(cfg)),
        "haplotypes": haplotype_frequency_table(ex.calls, pheno, panel, settings=settings_from_config(cfg)),
        "haplotype_association": association_table(
            ex.calls, pheno, panel, outcome="bmd_ls", settings=settings_from_config(cfg)
        ),
        "epistasis": pd.concat(
            [
                epistasis_outcome(
                    ex.calls, pheno, panel, outcome=o, settings=settings_from_config(cfg), qc=qc
                )
                for o, spec in cfg["outcomes"].items()
                if outcome_kind(spec) != "time_to_event"
            ]
        ),
    }
    paths = {}
    for name, df in tables.items():
        paths[name] = str(run_dir / "tables" / f"{name}.tsv")
        write_tsv(df, paths[name])
    write_tsv(pheno, run_dir / "work" / "phenotypes.tsv")
    paths["table1"] = str(run_dir / "tables" / "table1.tsv")
    groups = list(dict.fromkeys([*TABLE1_GROUPS, *strata_labels(list(cfg["strata"]))]))
    t1 = table_one(pheno, outcomes=cfg["outcomes"], covariates=list(cfg["covariates"]), groups=groups)
    write_tsv(t1, paths["table1"])
    return paths


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    cfg = _config(tmp)
    run_dir = tmp / "results" / "runs" / RUN_ID
    (run_dir / "logs").mkdir(parents=True)
    tables = _tables(cfg, run_dir)
    log = run_dir / "logs" / "phenotypes.log"
    log.write_text(
        "2026-11-26 16:00:00,000 INFO vdrbone: 800 samples\n"
        "2026-11-26 16:00:01,000 WARNING vdrbone: bmi: 3 value(s) outside 10-80 set to missing\n",
        encoding="utf-8",
    )
    run = {"run_id": RUN_ID, "started_utc": "2026-11-26T16:00:00Z", "fingerprint": "0" * 64}
    kwargs = {
        "run": run,
        "config": cfg,
        "tables": tables,
        "inputs": {
            "Genotypes": list(cfg["cohort"]["genotypes"]),
            "Phenotypes": [cfg["cohort"]["phenotypes"]],
        },
        "logs": [str(log)],
        "populations": str(REPO / "resources" / "populations.tsv"),
    }
    html = render_report(suppress_below=0, **kwargs)
    report = run_dir / "report" / "report.html"
    report.parent.mkdir()
    report.write_text(html, encoding="utf-8")
    return {"tmp": tmp, "config": cfg, "run_dir": run_dir, "tables": tables, "html": html, "kwargs": kwargs}


@pytest.fixture(scope="module")
def suppressed(cohort):
    """The same report with small-cell suppression at 5 (figures off: they are not counts)."""
    return render_report(suppress_below=5, plots=False, **cohort["kwargs"])


# --------------------------------------------------------------------------- HTML helpers
class _Checker(HTMLParser):
    """Balanced-tag check and collection of ids, images and data-key spans."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: set[str] = set()
        self.imgs: list[str] = []
        self.scripts: list[dict] = []
        self.tags: set[str] = set()
        self.spans: list[dict] = []  # data-key spans and count spans, with their text
        self._open: list[dict | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if "id" in a:
            if a["id"] in self.ids:
                self.errors.append(f"duplicate id {a['id']}")
            self.ids.add(a["id"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "script":
            self.scripts.append(a)
        if tag in VOID:
            return
        self.stack.append(tag)
        rec = None
        if tag == "span" and ("data-key" in a or a.get("class") == "n"):
            rec = {"key": a.get("data-key"), "col": a.get("data-col"), "cls": a.get("class"), "text": ""}
            self.spans.append(rec)
        self._open.append(rec)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}>, open: {self.stack[-3:]}")
            return
        self.stack.pop()
        self._open.pop()

    def handle_data(self, data):
        for rec in self._open:
            if rec is not None:
                rec["text"] += data


def _parse(html: str) -> _Checker:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker


def _displayed(text: str) -> tuple[float, float]:
    """(value, half a unit of the last displayed digit) of '0.123', '\u22120.05', '2.3\u00d710\u22125'."""
    text = text.strip().replace("\u2212", "-")
    m = re.fullmatch(r"(-?\d+(?:\.(\d+))?)(?:\u00d710(-?\d+))?", text)
    assert m, f"unparseable number {text!r}"
    decimals = len(m.group(2) or "")
    exp = int(m.group(3) or 0)
    return float(m.group(1)) * 10.0**exp, 0.5 * 10.0 ** (exp - decimals)


# --------------------------------------------------------------------------- tests
def test_report_is_balanced_self_contained_html_with_every_section(cohort):
    html = cohort["html"]
    checker = _parse(html)
    assert checker.errors == []
    assert checker.stack == []
    assert "http://" not in html and "https://" not in html
    assert not {"link", "iframe", "object", "embed"} & checker.tags
    # one inline script (sort and filter of the association table), never a script from elsewhere
    assert checker.scripts == [{}]
    assert checker.imgs and all(src.startswith("data:image/svg+xml;base64,") for src in checker.imgs)
    for section in (*SECTION_IDS, "haplotypes"):
        assert section in checker.ids, section
    # one SNPassoc block per outcome x variant, a forest plot each, BMD plots for the 3 BMD outcomes
    assert len([i for i in checker.ids if i.startswith("bmd_ls-")]) == 6
    # a forest plot per outcome x variant with an estimate in some stratum (m.15885 is monomorphic
    # in 800 samples; mtDNA strata below association.mt_min_carriers / mt_min_carrier_cases have none)
    assoc = pd.read_csv(cohort["tables"]["association"], sep="\t")
    main = assoc[assoc["model"].isin(["additive", "carrier"])]
    n_forests = main[main["estimate"].notna()].groupby(["outcome", "variant"]).ngroups
    n_outcomes = assoc["outcome"].nunique()
    assert 4 * n_outcomes <= n_forests < 6 * n_outcomes
    assert len(checker.imgs) >= n_forests + 3 * 5 + 2
    # the warning of the run's log and the input checksums are shown
    assert "bmi: 3 value(s) outside 10-80 set to missing" in html
    for path in cohort["config"]["cohort"]["genotypes"]:
        digest = __import__("hashlib").sha256(Path(path).read_bytes()).hexdigest()
        assert digest in html


def test_every_association_number_equals_its_row_at_the_displayed_precision(cohort):
    assoc = read_tsv(cohort["tables"]["association"]).set_index(
        ["outcome", "variant", "stratum", "model", "term"]
    )
    spans = [s for s in _parse(cohort["html"]).spans if s["key"]]
    assert len(spans) > 2000
    seen_cols, seen_outcomes = set(), set()
    for s in spans:
        key = tuple(s["key"].split("|"))
        row = assoc.loc[key]
        truth = row[s["col"]]
        seen_cols.add(s["col"])
        seen_outcomes.add(key[0])
        if s["col"] in COUNT_COLUMNS:
            assert s["text"] == str(int(truth)), (key, s)
            continue
        value, tol = _displayed(s["text"])
        assert abs(value - float(truth)) <= tol * (1 + 1e-9), (key, s["col"], s["text"], truth)
    assert {
        "estimate",
        "ci_lower",
        "ci_upper",
        "p_value",
        "q_value",
        "delta_aic",
        "n",
        "n_cases",
    } <= seen_cols
    assert seen_outcomes == set(cohort["config"]["outcomes"])


def test_suppression_shows_less_than_k_and_never_a_count_below_k(cohort, suppressed):
    checker = _parse(suppressed)
    assert checker.errors == []
    counts = [s for s in checker.spans if s["cls"] == "n"]
    texts = [s["text"].strip() for s in counts]
    assert "<5" in texts
    for text in texts:
        assert text in ("", "0", "<5", "suppressed") or (text.isdigit() and int(text) >= 5), text
    # rows whose true count is 1-4 are exactly the ones shown as <5
    assoc = read_tsv(cohort["tables"]["association"]).set_index(
        ["outcome", "variant", "stratum", "model", "term"]
    )
    for s in counts:
        if s["key"]:
            truth = assoc.loc[tuple(s["key"].split("|")), s["col"]]
            assert s["text"] == ("<5" if 0 < truth < 5 else str(int(truth)))
    # the cohort does have cells of 1-4 people (m.4823 carriers), so the check above is not vacuous
    gc = read_tsv(cohort["tables"]["genotype_counts"])
    assert ((gc["n_cases"] > 0) & (gc["n_cases"] < 5)).any()
    assert texts.count("<5") >= ((gc["n_cases"] > 0) & (gc["n_cases"] < 5) & (gc["stratum"] == "all")).sum()
    # no raw small count in the text either (notes such as "n_cases=3")
    assert not re.search(r"\bn(?:_cases|_controls)?=[1-4]\b", suppressed)
    assert "Counts of 1 to 4 people are shown as &lt;5" in suppressed


def test_suppressed_shareable_tables_hold_no_count_below_k(cohort, tmp_path):
    for name, src in cohort["tables"].items():
        dst = tmp_path / "k0" / f"{name}.tsv"
        write_shareable_table(src, str(dst), suppress_below=0)
        assert dst.read_bytes() == Path(src).read_bytes()
        dst = tmp_path / "k5" / f"{name}.tsv"
        write_shareable_table(src, str(dst), suppress_below=5)
        table = pd.read_csv(dst, sep="\t", dtype=str, keep_default_na=False)
        original = read_tsv(src)
        assert list(table.columns) == list(original.columns) and len(table) == len(original)
        for col in COUNT_COLUMNS.intersection(table.columns):
            for value in table[col]:
                assert value in ("", "NA", "<5") or int(value) == 0 or int(value) >= 5, (name, col, value)
        for col in ("genotype_counts", "alleles_observed", "note", "reason"):
            if col in table.columns:
                assert not table[col].str.contains(r"(?:[=:])[1-4]\b", regex=True).any(), (name, col)
    original = read_tsv(cohort["tables"]["genotype_counts"])
    copy5 = pd.read_csv(tmp_path / "k5" / "genotype_counts.tsv", sep="\t", dtype=str, keep_default_na=False)
    keys = ["outcome", "variant", "stratum"]
    small_any = np.zeros(len(original), dtype=bool)
    for count in ("n_cases", "n_controls", "n"):
        small = ((original[count] > 0) & (original[count] < 5)).to_numpy()
        assert (copy5.loc[small, count] == "<5").all()
        small_any |= small
    group_small = original.assign(_s=small_any).groupby(keys)["_s"].transform("any").to_numpy()
    for freq, count in (("freq_cases", "n_cases"), ("freq_controls", "n_controls"), ("freq", "n")):
        # a frequency beside the group's total would give a suppressed count back; a group
        # without cases (a stratum of the derived osteoporosis outcome) has no frequency at all
        has_total = (original.groupby(keys)[count].transform("sum") > 0).to_numpy()
        assert (copy5.loc[group_small, freq] == "NA").all()
        assert (copy5.loc[~group_small & has_total, freq] != "NA").all()
    for count in ("n_cases", "n_controls", "n"):
        hidden = copy5.assign(_h=copy5[count] == "<5").groupby(keys)["_h"].sum()
        # never one hidden cell beside a known total; except where every other cell is 0: the
        # total is then the hidden count itself, below k and suppressed wherever it appears
        # (rare derived outcomes, e.g. osteoporosis cases of a monomorphic mtDNA variant)
        others = copy5.assign(_o=(copy5[count] != "<5") & (copy5[count] != "0")).groupby(keys)["_o"].sum()
        assert not ((hidden == 1) & (others > 0)).any(), count
    assert ((original["n_controls"] > 0) & (original["n_controls"] < 5)).any()  # mtDNA carriers
    qc5 = pd.read_csv(tmp_path / "k5" / "qc_variants.tsv", sep="\t", dtype=str, keep_default_na=False)
    hidden_rows = qc5.apply(lambda r: any(v == "<5" for v in r.values), axis=1)
    assert hidden_rows.any()
    for freq in ("effect_allele_freq", "carrier_freq", "call_rate"):
        assert (qc5.loc[hidden_rows, freq].isin(["NA", ""])).all(), freq
    assert not qc5["genotype_counts"].str.count("<5").eq(1).any()


def test_suppress_count_and_table_edges():
    assert [suppress_count(v, 5) for v in (0, 1, 4, 5, 12, np.nan, None)] == [
        "0",
        "<5",
        "<5",
        "5",
        "12",
        "",
        "",
    ]
    assert suppress_count(3, 0) == "3" and suppress_count(3, 1) == "3"
    df = pd.DataFrame({"n": [3, 7], "mean": [1.0, 2.0], "note": ["too few cases (n_cases=2 < 5)", ""]})
    assert suppress_counts(df, 0) is df
    out = suppress_counts(df, 5)
    assert out["n"].tolist() == ["<5", "7"]
    assert np.isnan(out.loc[0, "mean"]) and out.loc[1, "mean"] == 2.0
    assert out.loc[0, "note"] == "too few cases (n_cases=<5 < 5)"


def test_complementary_suppression_hides_the_cell_that_would_reveal_a_small_one(suppressed):
    assert complementary([985, 2], 5) == [True, False]
    assert complementary([300, 100, 3], 5) == [True, False, False]
    assert complementary([300, 100, 30], 5) == [False, False, False]
    assert complementary([300, 0, 0], 5) == [False, False, False]
    assert complementary([985, 2], 0) == [False, False]
    # in the report's genotype tables no row shows a small cell next to all the others
    section = re.search(r'<section id="genotypes">(.*?)</section>', suppressed, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)
    small_rows = [r for r in rows if "&lt;5" in r]
    assert small_rows
    assert all("suppressed" in r for r in small_rows)


def test_table_one_matches_direct_computation(cohort):
    pheno = read_tsv(cohort["run_dir"] / "work" / "phenotypes.tsv")
    cfg = cohort["config"]
    t1 = table_one(pheno, outcomes=cfg["outcomes"], covariates=cfg["covariates"]).set_index(
        ["group", "variable"]
    )
    women_t2dm = pheno[(pheno["t2dm"] == "yes") & (pheno["sex"] == "female")]
    assert t1.loc[("t2dm=yes,sex=female", "n"), "n"] == len(women_t2dm)
    assert t1.loc[("all", "n"), "n"] == len(pheno)
    np.testing.assert_allclose(
        t1.loc[("t2dm=yes,sex=female", "age_years"), "mean"], women_t2dm["age_years"].mean()
    )
    np.testing.assert_allclose(
        t1.loc[("t2dm=no", "bmd_fn"), "sd"], pheno.loc[pheno["t2dm"] == "no", "bmd_fn"].std()
    )
    row = t1.loc[("t2dm=yes", "fracture")]
    sub = pheno.loc[pheno["t2dm"] == "yes", "fracture"]
    assert (row["n_obs"], row["n_cases"]) == (int(sub.notna().sum()), int((sub == 1).sum()))


def test_methods_text_follows_the_configuration(cohort):
    cfg = copy.deepcopy(cohort["config"])
    panel = read_panel(cfg["panel"]).select(cfg["variants"])
    text = " ".join(
        p["text"] for p in methods_sections(settings_from_config(cfg), panel=panel, versions={"numpy": "9.9"})
    )
    assert "age (years)" in text and "body-mass index" in text
    assert "Wigginton" in text and "Firth" in text and "Benjamini-Hochberg" in text
    assert "Every other test is exploratory: one family per outcome" in text and "interaction_t2dm" in text
    assert "fewer than 30 analysable samples" in text and "numpy 9.9" in text
    assert "Small-cell suppression is off" in text
    assert "penalised likelihood-ratio test" in text and "profile penalised-likelihood intervals" in text
    assert "wald_p_value" in text
    cfg["covariates"] = ["bmi"]
    cfg["strata"] = ["all", "sex"]
    cfg["association"]["min_stratum_n"] = 77
    cfg["qc"]["hwe_p"] = 1e-4
    cfg["cohort"]["synthetic"] = False
    cfg["report"]["suppress_below"] = None
    text2 = " ".join(p["text"] for p in methods_sections(settings_from_config(cfg), panel=panel, versions={}))
    assert "age (years)" not in text2 and "fewer than 77" in text2 and "p < 0.0001" in text2
    assert "in the strata All, Women and Men." in text2
    assert "shown as <5" in text2
    html = cohort["html"]
    for ref in REFERENCES.values():
        assert html.count(ref.split(".")[0]) >= 1  # authors of every reference are listed
    for needle in ("Gonzalez JR", "Chang CC", "Robins J, Breslow N, Greenland S", "Heinze G, Schemper M"):
        assert needle in html


def test_skipped_strata_are_stated(cohort):
    cfg = copy.deepcopy(cohort["config"])
    cfg["association"]["min_stratum_n"] = 150  # the T2DM x sex strata have about 110-130 people
    run_dir = cohort["run_dir"]
    pheno = read_tsv(run_dir / "work" / "phenotypes.tsv")
    panel = read_panel(cfg["panel"]).select(["rs731236"])
    tables = dict(cohort["tables"])
    cfg["variants"] = ["rs731236"]
    cfg["outcomes"] = {"bmd_ls": cfg["outcomes"]["bmd_ls"]}
    # re-run the association of one variant with the stricter minimum
    ex_calls = _calls(cfg)
    result = associate_outcome(ex_calls, pheno, panel, outcome="bmd_ls", settings=settings_from_config(cfg))
    path = cohort["tmp"] / "assoc_skip.tsv"
    write_tsv(result.association, path)
    tables["association"] = str(path)
    html = render_report(
        run=cohort["kwargs"]["run"],
        config=cfg,
        tables=tables,
        suppress_below=0,
        panel=panel,
        plots=False,
    )
    skipped = re.search(r'<section id="skipped">(.*?)</section>', html, re.S).group(1)
    assert "Strata skipped for too few samples" in skipped
    for name in ("T2DM, women", "T2DM, men"):
        assert f"stratum <strong>{name}</strong>" in skipped
    assert "No stratum was skipped" in cohort["html"]


def test_dropped_covariates_are_listed_once_per_stratum(cohort):
    cfg = copy.deepcopy(cohort["config"])
    pheno = read_tsv(cohort["run_dir"] / "work" / "phenotypes.tsv")
    pheno["age_months"] = 12 * pheno["age_years"]
    cfg["covariates"] = ["age_years", "bmi", "age_months"]
    cfg["variants"] = ["rs731236", "rs2228570"]
    panel = read_panel(cfg["panel"]).select(cfg["variants"])
    result = associate_outcome(
        _calls(cfg), pheno, panel, outcome="bmd_ls", settings=settings_from_config(cfg)
    )
    tables = dict(cohort["tables"])
    for name in ("association", "covariate_design"):
        tables[name] = str(cohort["tmp"] / f"degenerate_{name}.tsv")
        write_tsv(getattr(result, name), tables[name])
    html = render_report(
        run=cohort["kwargs"]["run"], config=cfg, tables=tables, suppress_below=5, panel=panel, plots=False
    )
    section = re.search(r'<section id="skipped">(.*?)</section>', html, re.S).group(1)
    table = section.split("Covariates dropped from the models")[1]
    assert table.count("collinear with age_years") == 9  # one row per stratum, not per variant or model
    assert table.count("rs731236,rs2228570") == 9
    assert "relative tolerance 1e-07" in html
    assert "Covariates dropped from the models" not in cohort["html"]


def _calls(cfg):
    panel = read_panel(cfg["panel"]).select(cfg["variants"])
    g = cfg["genotypes"]
    return extract_panel(
        list(cfg["cohort"]["genotypes"]),
        panel,
        build="auto",
        heteroplasmy_threshold=g["heteroplasmy_threshold"],
        gp_threshold=g["gp_threshold"],
        mt_alt=g["mt_alt"],
    ).calls


def test_haplotype_section_only_when_its_tables_exist(cohort):
    tables = {
        k: v for k, v in cohort["tables"].items() if k not in ("ld", "haplotypes", "haplotype_association")
    }
    kwargs = dict(cohort["kwargs"], tables=tables)
    html = render_report(suppress_below=0, plots=False, **kwargs)
    assert 'id="haplotypes"' not in html and "Haplotypes and LD" not in html
    assert 'id="haplotypes"' in cohort["html"] and "baT" in cohort["html"]


def test_warnings_are_collected_without_timestamps(tmp_path):
    a = tmp_path / "a.log"
    a.write_text(
        "2026-11-26 16:00:00,000 WARNING vdrbone: first\n"
        "2026-11-26 16:00:00,000 WARNING py.warnings: /x/y/z/mod.py:3: FutureWarning: second\n"
        "2026-11-26 16:00:00,000 INFO vdrbone: not a warning\n",
        encoding="utf-8",
    )
    b = tmp_path / "b.log"
    b.write_text(
        "2026-11-26 16:00:01,000 WARNING vdrbone: first\n"
        "2026-11-26 16:00:01,000 WARNING py.warnings: /t/s/tmpab12cd_x.qc.py:9: W: rcond 1.5e-26\n"
        "2026-11-26 16:00:01,000 WARNING py.warnings: /t/s/tmpzz99yy_x.qc.py:9: W: rcond 2.5e-26\n",
        encoding="utf-8",
    )
    found = collect_warnings([str(b), str(a)], extra=["config: something"])
    assert [w["message"] for w in found] == [
        "config: something",
        "first",
        "mod.py:3: FutureWarning: second",
        "qc.py:9: W: rcond 1.5e-26",
    ]
    assert [w["count"] for w in found] == [1, 2, 1, 2]
    assert found[1]["source"] == "a.log, b.log"


# --------------------------------------------------------------------------- headless Chromium
def _chromium() -> str | None:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path:
        return path
    if shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True, timeout=600)
    return shutil.which("chromium")


def test_time_to_event_interaction_and_derived_outcome_sections(cohort, suppressed):
    """KM curves with numbers at risk, SNP effect by modifier, how the WHO class was derived."""
    html = cohort["html"]
    ids = _parse(html).ids
    assert (
        "km-fracture_tte" in ids and "gxe-vitd_25oh-bmd_ls" in ids and "gxe-vitd_supplement-fracture" in ids
    )
    assert "Kaplan-Meier curves of Time to incident fracture" in html and "Numbers at risk" in html
    assert "hazard ratio (HR)" in html and "proportional-hazards test (cox.zph) p" in html
    assert "osteoporosis_fn: 1 when T-score &lt;= -2.5, else 0" in html and "Looker et al. 1998" in html
    # numbers at risk are suppressed like any count
    km = pd.read_csv(cohort["tables"]["kaplan_meier"], sep="\t")
    assert (km["n_risk"].between(1, 4)).any()
    assert "&lt;5" in suppressed
    # power beside the results of every outcome, from tables/power.tsv
    assert html.count("What this cohort could detect") == len(cohort["config"]["outcomes"])
    pw = pd.read_csv(cohort["tables"]["power"], sep="\t")
    contract = "variant outcome stratum model n effect_allele_freq assumed_effect power mde_80".split()
    assert list(pw.columns[:9]) == contract
    assert set(pw["level"]) == {"nominal", "bonferroni"}


def test_headless_chromium_screenshot_without_console_errors(cohort, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed and 'apt-get install -y chromium' did not install it")
    report = cohort["run_dir"] / "report" / "report.html"
    png = tmp_path / "report.png"
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        f"--screenshot={png}",
        "--window-size=1280,4000",
        f"file://{report}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert png.is_file() and png.stat().st_size > 50_000, proc.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == [], console
    # every inline image decodes: the DOM Chromium built has them all, and it issued no request
    dom = subprocess.run(
        [c for c in cmd if not c.startswith("--screenshot")][:-1] + ["--dump-dom", f"file://{report}"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert dom.returncode == 0
    assert dom.stdout.count("<img") == cohort["html"].count("<img")
    assert not re.search(r"net::ERR_|Failed to load resource", dom.stderr)


def test_numbers_helper_parses_the_formats():
    assert _displayed("0.123") == (0.123, 0.0005)
    value, tol = _displayed("2.3\u00d710\u22125")
    assert math.isclose(value, 2.3e-5) and math.isclose(tol, 0.05e-5)
    assert _displayed("\u22120.050")[0] == -0.05


def test_epistasis_section_has_a_heat_map_and_the_pairs_of_all_participants(cohort, suppressed):
    html = cohort["html"]
    section = html.split('<section id="epistasis">', 1)[1].split("</section>", 1)[0]
    assert "SNP x SNP interaction</h2>" in section
    tested = [o for o, spec in cohort["config"]["outcomes"].items() if outcome_kind(spec) != "time_to_event"]
    assert section.count("<figure>") == len(tested)
    assert 'alt="SNP x SNP interaction p-values for' in section and "data:image/svg+xml;base64," in section
    assert "TaqI x ApaI" in section and "BH-adjusted p" in section
    assert '<a href="#epistasis">' in html
    numbers = [int(n) for n in re.findall(r"<h2[^>]*>(\d+)\. ", html)]
    assert numbers == list(range(1, len(numbers) + 1))  # sections numbered in order
    assert "<figure>" not in suppressed.split('<section id="epistasis">', 1)[1].split("</section>", 1)[0]


def _section(html: str, sid: str) -> str:
    return html.split(f'<section id="{sid}">', 1)[1].split("</section>", 1)[0]


def test_conditional_permutation_and_missingness_sections(cohort, tmp_path):
    """Conditional rows beside their marginal additive rows, permutation.tsv and the stratum-all
    rows of qc_test_missing.tsv, rendered with suppression at 5 (small frames for the latter two)."""
    perm = pd.DataFrame(
        [
            ["fracture", "rs731236", "TaqI", "t2dm=yes", 0.0042, 0.005, 0.031, 40, 2000, "", 11],
            ["fracture", "rs731236", "TaqI", "all", 0.0013, 0.0015, 0.00032, 120, 1000, "", 3],
            ["fracture", "rs1544410", "BsmI", "all", np.nan, np.nan, np.nan, 3, 0, "too few samples", 3],
        ],
        columns=["outcome", "variant", "name", "stratum", "p_value", "emp1", "emp2", "n",
                 "n_perm_adaptive", "note", "n_cases"],
    )  # fmt: skip
    perm = perm.assign(test="allelic", effect_allele="A", n_controls=perm["n"] - perm["n_cases"],
                       statistic=9.1, n_perm=1000, emp1_adaptive=perm["emp1"], family_size=7,
                       cells="T2DM x sex cells",
                       seed=20261130, method="allelic chi-square (PLINK --assoc); outcome permuted within "
                       "T2DM x sex cells; max(T) 1000 permutations (PLINK --mperm)")  # fmt: skip
    tm = pd.DataFrame(
        [
            ["fracture", "rs731236", "TaqI", "all", 100, 700, 3, 10, 0.03, 10 / 700, 0.047, "", "", ""],
            ["fracture", "rs1544410", "BsmI", "all", 100, 700, 20, 9, 0.2, 9 / 700, 2.1e-7, "test_missing",
             "test-missing p 2.1e-07 < 1e-05", ""],
            ["fracture", "rs731236", "TaqI", "sex=male", 50, 300, 1, 2, 0.02, 2 / 300, 0.5, "", "", ""],
        ],
        columns=["outcome", "variant", "name", "stratum", "n_cases", "n_controls", "n_missing_cases",
                 "n_missing_controls", "f_miss_cases", "f_miss_controls", "p_test_missing", "flag", "reason",
                 "note"],
    )  # fmt: skip
    tables = dict(cohort["tables"])
    for name, df in {"permutation": perm, "qc_test_missing": tm}.items():
        tables[name] = str(tmp_path / f"{name}.tsv")
        write_tsv(df, tables[name])
    html = render_html(
        report_context(**{**cohort["kwargs"], "tables": tables}, suppress_below=5, plots=False)
    )
    assert _parse(html).errors == []
    assert '<a href="#conditional">' in html and '<a href="#permutation">' in html
    numbers = [int(n) for n in re.findall(r"<h2[^>]*>(\d+)\. ", html)]
    assert numbers == list(range(1, len(numbers) + 1))

    # conditional: each estimated row's numbers equal its row, its marginal additive row beside it
    assoc = read_tsv(cohort["tables"]["association"])
    cond = assoc[(assoc["model"] == "conditional") & np.isfinite(assoc["estimate"])]
    assert len(cond)
    section = _section(html, "conditional")
    spans = [s for s in _parse(section).spans if s["key"]]
    keys = {(s["key"], s["col"]): s["text"] for s in spans}
    indexed = assoc.set_index(["outcome", "variant", "stratum", "model", "term"]).sort_index()
    for _, r in cond.iterrows():
        key = "|".join(str(r[c]) for c in ("outcome", "variant", "stratum", "model", "term"))
        for col in ("estimate", "ci_lower", "ci_upper", "p_value"):
            value, tol = _displayed(keys[(key, col)])
            assert abs(value - r[col]) <= tol * (1 + 1e-9), (key, col)
        assert keys[(key, "n")] == str(int(r["n"]))
        marginal = indexed.xs((r["outcome"], r["variant"], r["stratum"], "additive"), drop_level=False).iloc[
            0
        ]
        mkey = "|".join(marginal.name)
        value, tol = _displayed(keys[(mkey, "estimate")])
        assert abs(value - marginal["estimate"]) <= tol * (1 + 1e-9)
        conditioning = r["covariates"].split("+")[-1]
        assert conditioning in section
    strata_order = [s["key"].split("|")[2] for s in spans if s["col"] == "estimate"]
    assert strata_order[0] == "all" and "Conditioned on" in section and "Marginal" in section

    # permutation: stratum all first, EMP1/EMP2/adaptive formatted, seed and what was permuted
    section = _section(html, "permutation")
    assert "outcome permuted within T2DM x sex cells" in section and "seed 20261130" in section
    assert "family of 7 tests" in section and "1000 permutations" in section
    assert section.index("<td>3.2\u00d710<sup>\u22124</sup></td>") < section.index("<td>0.031</td>")
    assert "<td>0.001</td><td>0.002</td>" in section  # asymptotic p, EMP1 (0.0013, 0.0015)
    assert "Adaptive EMP1" in section and "too few samples" in section
    assert '<span class="n">&lt;5</span>' in section  # n = 3 suppressed

    # differential missingness: stratum all only, small counts and their fractions withheld
    qc = html.split('<h3 id="test-missing">', 1)[1].split("</table>", 1)[0]
    assert '<span class="n">&lt;5</span> / <span class="n">100</span></td>' in qc  # 3 of 100, no fraction
    assert '<span class="n">10</span> / <span class="n">700</span></td>' in qc  # row with a <5: no fraction
    assert '<span class="n">9</span> / <span class="n">700</span> (0.013)' in qc
    assert "<td>0.047</td>" in qc and "2.1\u00d710<sup>\u22127</sup>" in qc
    assert "test-missing p 2.1e-07 &lt; 1e-05" in qc and "<td>0.500</td>" not in qc
    assert qc.count("<tr>") == 3  # head + two variants of stratum all


def test_new_sections_are_empty_without_their_tables(cohort):
    cfg = cohort["config"]
    assert (
        permutation_section(None, settings_from_config(cfg), k=0) == []
        and differential_missingness_section(None, settings_from_config(cfg), k=0) is None
    )
    assoc = read_tsv(cohort["tables"]["association"])
    assert conditional_section(assoc[assoc["model"] != "conditional"], settings_from_config(cfg), k=0) == []


def test_reviewer_items_are_in_the_report(cohort):
    """BH-adjusted p and delta-AIC headers (no "q (BH)", no lowest-AIC column), the families with
    their m, the p-value legend, model-sample counts labelled, the participant flow, heteroplasmic
    calls, the haplogroup caveat and every STREGA item."""
    html = cohort["html"]
    assert "BH-adjusted p" in html and "\u0394AIC" in html
    assert "q (BH)" not in html and "Lowest-AIC" not in html
    assert '<td class="text">primary</td>' in html and "exploratory:fracture" in html
    assert (
        "Which test produced each p-value" in html
        and "Fisher&#39;s exact test on the 2x2 allele table" in html
    )
    assert "Counts and means beside the estimates are those of the models&#39; sample" in html
    assert "Participant flow" in html and "in the phenotype table: <b>n = " in html
    assert "analysed samples (phenotyped, genotyped, passed sample QC)" in html
    assert "mtDNA heteroplasmic calls" in html and "haplogroup markers" in html
    strega = html[html.index('<section id="strega">') : html.index('<section id="appendix">')]
    assert strega.count("<tr><td>") == len(STREGA_ITEMS) == 22
    for item, section, topic, _ in STREGA_ITEMS:
        assert f'<tr><td>{item}</td><td class="text">{section}: {topic}</td>' in strega, item
    assert "not provided" in strega


# --------------------------------------------------------------------------- figures: no text overlaps
@pytest.fixture
def figure_overlaps(monkeypatch):
    """Every figure the report draws is checked for overlapping texts before it is serialised:
    returns the list of (figure title, overlapping text pairs) found."""
    found = []
    original = plots.figure_data_uri

    def checked(fig):
        titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
        found.append((titles[0] if titles else "untitled", plots.text_overlaps(fig)))
        return original(fig)

    monkeypatch.setattr(plots, "figure_data_uri", checked)
    return found


def test_overlap_check_finds_overlapping_text():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.text(0.1, 0.5, "beta 0.0123 (0.0100, 0.0150)")
    ax.text(0.3, 0.5, "p 0.001")
    ax.text(0.1, 0.1, "apart")
    assert plots.text_overlaps(fig) == [("beta 0.0123 (0.0100, 0.0150)", "p 0.001")]
    plt.close(fig)


@pytest.mark.parametrize("decimals", [2, 4, 6])
def test_forest_plot_columns_never_overlap_whatever_the_width_of_the_numbers(figure_overlaps, decimals):
    rows = pd.DataFrame(
        {
            "stratum": ["all", "t2dm=yes", "t2dm=no", "t2dm=yes,sex=female"],
            "estimate": [-1234.5678901, 0.0123, -0.5, np.nan],
            "ci_lower": [-2345.6789012, -0.0456, -1.25, np.nan],
            "ci_upper": [-123.4567890, 0.0789, 0.25, np.nan],
            "p_value": [1.2e-300, 0.04, 0.5, np.nan],
            "n": ["123456", "<5", "12", "3"],
            "note": ["", "", "", "too few samples (n=3 < 30): not analysed in this stratum"],
        }
    )
    plots.forest_plot(rows, estimate_type="beta", title="wide numbers", decimals=decimals)
    rows_or = rows.assign(estimate=[1.5, 2.0, 0.5, np.nan], ci_lower=[1.01, 0.9, 0.1, np.nan])
    rows_or["ci_upper"] = [2.2, 4.4, 2.5, np.nan]
    plots.forest_plot(rows_or, estimate_type="OR", title="odds ratios", decimals=decimals)
    assert [o for _, o in figure_overlaps] == [[], []]


def test_no_text_overlaps_in_any_figure_of_the_report(cohort, figure_overlaps):
    html = render_report(suppress_below=0, **cohort["kwargs"])
    # (mtDNA variants below association.mt_min_carriers in every stratum have no forest plot)
    assert len(figure_overlaps) == html.count("<img") >= 36
    assert [(title, pairs) for title, pairs in figure_overlaps if pairs] == []


# --------------------------------------------------------------------------- Chromium: first pages
def _page(html: str, fragment: str, extra: str = "") -> str:
    """A page with the report's head (its styles) and one fragment of its body."""
    return html[: html.index("<body>")] + "<body><main>" + fragment + "</main>" + extra + "</body></html>"


def _chromium_run(chromium: str, page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    cmd += [
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
        f"file://{page}",
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def _ink(png: Path) -> float:
    """Fraction of pixels that are not white."""
    image = plt.imread(png)[..., :3]
    return float((image.min(axis=2) < 0.9).mean())


def test_chromium_findings_page_forest_plot_and_interactive_table(cohort, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium is not installed and 'apt-get install -y chromium' did not install it")
    html = cohort["html"]
    findings = re.search(r'<section id="findings">.*?</section>', html, re.S).group(0)
    forest = re.search(r'<div class="variant" id="bmd_ls-rs731236">.*?</figure>', html, re.S).group(0)
    browse = re.search(r'<section id="browse">.*?</section>', html, re.S).group(0)
    script = re.search(r"<script>.*?</script>", html, re.S).group(0)
    # the findings page names what passes, with the numbers, and draws the heat map
    assert "Results that pass the threshold" in findings and 'data-col="q_value"' in findings
    assert findings.count("<img") == 1
    assert "Forest plot" in forest
    for name, fragment in (("findings", findings), ("forest", forest + "</div>")):
        page = tmp_path / f"{name}.html"
        page.write_text(_page(html, fragment), encoding="utf-8")
        png = tmp_path / f"{name}.png"
        proc = _chromium_run(chromium, page, tmp_path, f"--screenshot={png}", "--window-size=1280,1800")
        assert png.is_file() and _ink(png) > 0.02, (name, proc.stderr[-2000:])
        assert not [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    # the association table: filter on an outcome, sort by p; Chromium runs the page's own script
    cols = list(BROWSE_COLUMNS)
    outcome_col, p_col = cols.index("outcome"), cols.index("p_value")
    driver = (
        f"<script>var s = document.querySelector('select[data-filter=\"{outcome_col}\"]');"
        "s.value = 'fracture'; s.dispatchEvent(new Event('change'));"
        f"document.querySelector('button[data-sort=\"{p_col}\"]').click();</script>"
    )
    page = tmp_path / "browse.html"
    page.write_text(_page(html, browse, script + driver), encoding="utf-8")
    png = tmp_path / "browse.png"
    shot = _chromium_run(chromium, page, tmp_path, f"--screenshot={png}", "--window-size=1280,1200")
    assert png.is_file() and _ink(png) > 0.02, shot.stderr[-2000:]
    dom = _chromium_run(chromium, page, tmp_path, "--dump-dom")
    assert not re.search(r"Uncaught|CONSOLE", dom.stderr), dom.stderr[-2000:]
    body = re.search(r'<table class="data browse".*?<tbody>(.*?)</tbody>', dom.stdout, re.S).group(1)
    rows = re.findall(r"<tr( hidden=\"\")?>(.*?)</tr>", body, re.S)
    shown = [r for hidden, r in rows if not hidden]
    assoc = read_tsv(cohort["tables"]["association"])
    assert len(rows) == len(assoc)
    assert len(shown) == (assoc["outcome"] == "fracture").sum() > 0
    assert all(">fracture<" in r for r in shown)
    numeric = [c for c in cols if c in ("n", "estimate", "ci_lower", "ci_upper", "p_value", "q_value")]
    p_values = [re.findall(r'<td data-v="([^"]*)"', r)[numeric.index("p_value")] for r in shown]
    p_shown = [float(v) for v in p_values if v]
    assert p_values[: len(p_shown)] == [v for v in p_values if v]  # rows without p come last
    assert p_shown == sorted(p_shown) and len(p_shown) > 10


# --------------------------------------------------------------------------- PDF
def _pdftoppm() -> str | None:
    if shutil.which("pdftoppm") is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "poppler-utils"], capture_output=True, timeout=600)
    return shutil.which("pdftoppm")


def _page_words(pdf: Path) -> list[collections.Counter]:
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [collections.Counter(page.split()) for page in text.split("\f")]


def test_pdf_pages_render_and_none_is_blank(cohort, tmp_path):
    """The workflow's PDF (figures as PNG copies, written aside) has every page inked and the
    pagination of the PDF with the SVG figures: each page holds the same text less the figures';
    its images have the PNG copies' pixels."""
    pdftoppm = _pdftoppm()
    if pdftoppm is None:
        pytest.skip("pdftoppm is not installed and 'apt-get install -y poppler-utils' did not install it")
    cfg = copy.deepcopy(cohort["config"])
    cfg["outcomes"] = {"bmd_ls": cfg["outcomes"]["bmd_ls"]}  # one outcome keeps the test short
    kwargs = dict(cohort["kwargs"], config=cfg, suppress_below=5)
    with drawn_figures(workers=2):
        print_html = render_html(report_context(**kwargs), medium="print")
    assert "<script" not in print_html and "data:text/tab-separated-values" not in print_html
    svg_html = render_html(report_context(**kwargs), medium="print")  # figures drawn in turn: SVG
    pdf, svg_pdf = tmp_path / "report" / "report.pdf", tmp_path / "svg.pdf"
    with pdf_written_aside(print_html, str(pdf)):
        write_pdf(svg_html, str(svg_pdf))
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run([pdftoppm, "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=600)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 10
    blank = [p.name for p in pages if _ink(p) < 0.002]
    assert blank == []
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True)
    assert "Findings" in text.stdout and "Results that pass the threshold" in text.stdout
    raster, vector = _page_words(pdf), _page_words(svg_pdf)
    assert len(raster) == len(vector)
    assert [i for i, (r, v) in enumerate(zip(raster, vector, strict=True)) if r - v] == []
    assert sum((v - r).total() for r, v in zip(raster, vector, strict=True)) > 0  # the figures' text
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True)
    ppi = [int(line.split()[12]) for line in listing.stdout.splitlines()[2:]]
    assert len(ppi) == print_html.count("<img") > 0
    copies = [
        np.asarray(_png_image(uri))
        for uri in re.findall(r'<img [^>]*src="(data:image/png[^"]+)"', print_html)
    ]
    subprocess.run(["pdfimages", "-png", str(pdf), str(tmp_path / "image")], check=True, timeout=600)
    embedded = [np.asarray(_png_image(p.read_bytes())) for p in sorted(tmp_path.glob("image-*.png"))]
    assert len(embedded) == len(copies) == len(ppi)
    assert all(np.array_equal(e, c) for e, c in zip(embedded, copies, strict=True))
    # placed at the SVG's size (a figure taller than the page is shrunk to it: a higher ppi)
    assert all(PRINT_DPI - 5 <= x for x in ppi) and sorted(ppi)[len(ppi) // 2] <= PRINT_DPI + 5, ppi


def test_print_figures_fit_on_a_page(cohort):
    """Print CSS: a figure taller than an A4 landscape page is scaled down to the page (its whole
    height and caption on it), never cut off at the page foot (the p-value heatmap of four
    outcomes was). Each PNG is shown here at ten times its size to make every figure tall."""
    import weasyprint
    from weasyprint.formatting_structure import boxes

    cfg = copy.deepcopy(cohort["config"])
    cfg["outcomes"] = {"bmd_ls": cfg["outcomes"]["bmd_ls"]}
    with drawn_figures(workers=2):
        html = render_html(
            report_context(**dict(cohort["kwargs"], config=cfg, suppress_below=5)), medium="print"
        )
    tall = html.replace(f"image-resolution: {PRINT_DPI}dpi", f"image-resolution: {PRINT_DPI // 10}dpi")
    assert tall.count(f"image-resolution: {PRINT_DPI // 10}dpi") == html.count("<img") > 0

    def walk(box):
        yield box
        for child in getattr(box, "children", None) or []:
            yield from walk(child)

    images = 0
    for page in weasyprint.HTML(string=tall).render().pages:
        frame = page._page_box
        bottom = frame.content_box_y() + frame.height
        for box in walk(frame):
            if isinstance(box, boxes.ReplacedBox):
                images += 1
                assert box.position_y + box.margin_height() <= bottom + 0.5
                assert box.height <= 170 * 96 / 25.4 + 0.5  # max-height: 170mm (CSS px)
    assert images == html.count("<img")


def test_pdf_written_aside_raises_when_the_pdf_fails(tmp_path):
    with pytest.raises(RuntimeError, match="writing the PDF"):
        with pdf_written_aside(None, str(tmp_path / "r.pdf")):  # not HTML: the forked writer fails
            pass
    assert not (tmp_path / "r.pdf").exists()
    assert not list(tmp_path.iterdir())  # the failed writer's temporary file is gone too


def test_pdf_written_aside_leaves_no_partial_file_when_the_block_fails(tmp_path):
    """The block fails while the forked writer is writing: the writer is stopped, and its
    temporary file beside the PDF (atomic_path's) is removed; the error is the block's."""
    import time

    html = "<html><body>" + "<p>vdrbone</p>" * 20000 + "</body></html>"
    with pytest.raises(ValueError, match="block failed"):
        with pdf_written_aside(html, str(tmp_path / "r.pdf")):
            deadline = time.monotonic() + 60
            while not list(tmp_path.glob(".r.pdf.partial-*")) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert list(tmp_path.glob(".r.pdf.partial-*"))  # the writer has started its file
            raise ValueError("block failed")
    assert not list(tmp_path.iterdir())


def test_print_medium_shows_png_copies_and_the_html_page_is_unchanged(cohort):
    """Drawn by drawn_figures, the screen page is byte for byte the page of figures drawn in turn
    (SVG); the print medium shows each figure's PNG copy at PRINT_DPI (the means by genotype,
    HTML only, get none) and otherwise the same markup."""
    with drawn_figures(workers=2):
        context = report_context(suppress_below=0, **cohort["kwargs"])
        lean = render_html(context, medium="print")
        screen = render_html(context)
    assert screen == cohort["html"]
    imgs = re.findall(r"<img [^>]*>", lean)
    assert len(imgs) >= 10
    assert all(
        'src="data:image/png;base64,' in i and f'style="image-resolution: {PRINT_DPI}dpi"' in i for i in imgs
    )
    svg_lean = render_html(report_context(suppress_below=0, **cohort["kwargs"]), medium="print")
    strip = re.compile(r' src="data:[^"]*"( style="[^"]*")?')
    assert strip.sub("", lean) == strip.sub("", svg_lean)


def test_print_medium_keeps_each_forest_plot_and_leaves_the_detail_to_the_html(cohort):
    """The PDF's print medium is lean: per variant the forest plot and a note naming what the
    HTML holds; the SNPassoc, per-stratum, means and conditional detail only on screen."""
    cfg = copy.deepcopy(cohort["config"])
    cfg["outcomes"] = {"bmd_ls": cfg["outcomes"]["bmd_ls"]}
    context = report_context(suppress_below=5, **dict(cohort["kwargs"], config=cfg))
    screen, lean = render_html(context), render_html(context, medium="print")
    forests = screen.count('alt="Forest plot of the')
    assert forests > 0 and lean.count('alt="Forest plot of the') == forests
    variants = len(context["outcomes"][0]["variants"])  # a variant without estimates has no forest plot
    assert lean.count("In the HTML report: the SNPassoc table of every genetic model") == variants >= forests
    for detail in ("SNPassoc tables in each stratum", 'alt="Mean ', "<h4>By stratum</h4>"):
        assert detail in screen and detail not in lean, detail
    assert len(lean) < len(screen) / 2


def test_time_to_event_counts_are_events_and_censored_not_cases_and_controls(cohort):
    """n_cases / n_controls of a Cox outcome count events and censored participants: the
    SNPassoc headers, the by-stratum n and the models' n say so; a binary outcome keeps cases and
    controls."""

    def section(key: str) -> str:
        html = cohort["html"]
        start = html.index(f'id="outcome-{key}"')
        end = html.find('id="outcome-', start + 20)
        return re.sub(r"<[^>]+>", " ", html[start : end if end > 0 else None])

    tte, binary = section("fracture_tte"), section("fracture")
    for text, (yes, no) in ((tte, ("events", "cases")), (binary, ("cases", "events"))):
        assert yes.capitalize() in text and f" {yes}, " in text and f"({yes} / " in text
        assert no.capitalize() not in text and f" {no}, " not in text and f"({no} / " not in text
    assert "Censored" in tte and "Controls" not in tte and "Controls" in binary


def test_figures_drawn_in_parallel_are_the_bytes_of_drawing_them_in_turn():
    """Figures requested inside plots.drawn_in_parallel are drawn by forked processes while the
    caller goes on: each comes back as the same SVG data URI as a direct call, in order (used
    inside the block, it waits for its drawing). With raster_dpi each also has a PNG copy of the
    SVG's area, the same bytes drawn in parallel or in turn; the screen-only functions' have none."""
    rows = pd.DataFrame(
        {
            "stratum": ["all", "t2dm=yes", "t2dm=no"],
            "estimate": [1.5, 2.0, 0.5],
            "ci_lower": [1.01, 0.9, 0.1],
            "ci_upper": [2.2, 4.4, 2.5],
            "p_value": [1e-5, 0.04, 0.5],
            "n": ["1200", "300", "900"],
            "note": ["", "", ""],
        }
    )
    calls = [dict(estimate_type="OR", title=f"figure {i}", decimals=2 + i % 2) for i in range(5)]
    serial = [plots.forest_plot(rows, **kw) for kw in calls]
    with plots.drawn_in_parallel(workers=2):
        pending = [plots.forest_plot(rows, **kw) for kw in calls]
        assert all(isinstance(p, plots.PendingFigure) and p for p in pending)
        assert str(pending[1]) == serial[1]  # used inside the block: waits for it
    assert [str(p) for p in pending] == serial
    assert [p.raster for p in pending] == [None] * len(calls)
    assert len(set(serial)) == len(serial)
    assert plots.forest_plot(rows, **calls[0]) == serial[0]  # outside the block: drawn at once

    means = pd.DataFrame(
        {
            "stratum": ["all", "all"],
            "genotype": ["A", "B"],
            "n": [10, 12],
            "mean": [1.0, 1.2],
            "sd": [0.1, 0.2],
        }
    )
    drawn = {}
    for workers in (2, 1):
        with plots.drawn_in_parallel(workers=workers, raster_dpi=120, screen_only=("genotype_means_plot",)):
            figures = [plots.forest_plot(rows, **kw) for kw in calls[:2]]
            figures.append(
                plots.genotype_means_plot(means, strata=["all"], genotypes=["A", "B"], ylabel="y", title="t")
            )
        drawn[workers] = [(str(f), f.raster) for f in figures]
    assert drawn[2] == drawn[1]
    assert [svg for svg, _ in drawn[2][:2]] == serial[:2] and drawn[2][2][1] is None
    for svg, png in drawn[2][:2]:
        head = base64.b64decode(svg.split(",", 1)[1])[:1000]
        width, height = (
            float(x) / 72 for x in re.search(rb'width="([\d.]+)pt" height="([\d.]+)pt"', head).groups()
        )
        image = _png_image(png)
        assert (
            image.mode == "L"
            and abs(image.width - 120 * width) <= 1
            and abs(image.height - 120 * height) <= 1
        )
        assert 0.005 < (np.asarray(image) < 128).mean() < 0.5  # inked, not blank


def _layout_figures():
    """Figures whose layout pass matters: an equal-aspect image with a colorbar at an odd size
    (LD heatmap of 3 variants) and a constrained layout (p-value heatmap of 3 outcomes)."""
    labels = ["rs1", "rs22", "m.333"]
    ld = pd.DataFrame(
        [[1.0, 0.93, 0.2], [0.93, 1.0, np.nan], [0.2, np.nan, 1.0]], index=labels, columns=labels
    )
    cells = pd.DataFrame(
        [
            {"outcome": o, "variant": v, "stratum": s, "p_value": p, "direction": d, "passes": p < 1e-4}
            for o in ("BMD LS", "BMD FN", "Fracture")
            for v, p, d in (("TaqI", 1e-6, 1), ("FokI", 0.3, -1), ("Mt4823", np.nan, 0))
            for s in ("All", "T2DM", "No T2DM, women")
        ]
    )
    return [
        ("ld_heatmap", (ld, ld**2), {"title": "Pairwise LD"}),
        ("pvalue_heatmap", (cells,), {}),
    ]


def test_print_copies_keep_the_svg_bytes_of_figures_with_a_layout_pass():
    """A figure with a PNG copy is measured once (plots.tight_box), drawn as PNG, then written
    as SVG from that measurement: the SVG bytes are those of savefig(bbox_inches="tight") (a
    direct call), the same drawn in parallel or in turn, and the PNG covers the SVG's area."""
    figures = _layout_figures()
    direct = [getattr(plots, name)(*args, **kwargs) for name, args, kwargs in figures]
    drawn = {}
    for workers in (2, 1):
        with plots.drawn_in_parallel(workers=workers, raster_dpi=150):
            pending = [getattr(plots, name)(*args, **kwargs) for name, args, kwargs in figures]
        drawn[workers] = [(str(p), p.raster) for p in pending]
    assert drawn[2] == drawn[1]
    assert [svg for svg, _ in drawn[2]] == direct
    for svg, png in drawn[2]:
        head = base64.b64decode(svg.split(",", 1)[1])[:1000]
        width, height = (
            float(x) / 72 for x in re.search(rb'width="([\d.]+)pt" height="([\d.]+)pt"', head).groups()
        )
        image = _png_image(png)
        assert abs(image.width - 150 * width) <= 1 and abs(image.height - 150 * height) <= 1


def _png_image(png: str | bytes):
    """A PNG data URI or PNG bytes as a PIL image."""
    from PIL import Image

    if isinstance(png, str):
        png = base64.b64decode(png.removeprefix("data:image/png;base64,"))
    return Image.open(io.BytesIO(png))


@pytest.mark.parametrize(
    ("colour", "transparent", "mode"),
    [("#555555", False, "L"), ("red", False, "RGB"), ("black", True, "RGBA")],
)
def test_png_copy_has_the_pixels_of_savefig_in_the_fewest_channels(colour, transparent, mode):
    """plots.png_data_uri (Agg's raw pixels, grey when every pixel is an opaque grey) holds the
    pixels of the straightforward savefig(format="png")."""
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1], color=colour)
    ax.set_title("title")
    if transparent:
        fig.patch.set_alpha(0)
        ax.patch.set_alpha(0)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    image = _png_image(plots.png_data_uri(fig, dpi=90))
    plt.close(fig)
    reference = np.asarray(_png_image("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()))
    assert image.mode == mode
    pixels = np.asarray(image)
    expected = {"L": reference[..., 0], "RGB": reference[..., :3], "RGBA": reference}[mode]
    assert pixels.shape == expected.shape and (pixels == expected).all()


def test_records_and_pooled_classes_equal_the_dataframe_computation(cohort):
    """report._records gives the values of rows.iloc[i]; _pool_counts / _pool_means on _classes
    arrays give the sums, n, mean and SD of filtering the descriptive table directly."""
    from vdrbone.report import _classes, _pool_counts, _pool_means, _records

    assoc = read_tsv(cohort["tables"]["association"])
    records = _records(assoc)
    assert len(records) == len(assoc)
    for i in range(0, len(assoc), 7):
        expected = assoc.iloc[i].to_dict()
        assert list(records[i]) == list(expected)
        for col, value in expected.items():
            got = records[i][col]
            assert got == value or (pd.isna(got) and pd.isna(value)), (i, col)
            assert str(got) == str(value)
    pools = [(0,), (1,), (2,), (1, 2), (0, 1), (0, 2)]
    for name, binary in (("genotype_counts", True), ("bmd_by_genotype", False)):
        table = read_tsv(cohort["tables"][name])
        for _, desc in table.groupby(["outcome", "variant", "stratum", "sample"]):
            classes = _classes(desc, binary)
            for counts in pools:
                sub = desc[desc["effect_count"].isin(counts)]
                if binary:
                    for col in ("n_controls", "n_cases"):
                        got = _pool_counts(classes, counts, col, 0)
                        want = (
                            float(np.nansum(pd.to_numeric(sub[col]).to_numpy(float))) if len(sub) else np.nan
                        )
                        assert got == want or (np.isnan(got) and np.isnan(want))
                    continue
                n, mean, sd = _pool_means(classes, counts, 0)
                if sub.empty:
                    assert np.isnan(n)
                    continue
                m, s, w = (
                    sub["mean"].to_numpy(float),
                    np.nan_to_num(sub["sd"].to_numpy(float)),
                    sub["n"].to_numpy(float),
                )
                assert n == w.sum()
                if n > 1 and (w > 0).all():
                    grand = (w * m).sum() / w.sum()
                    ss = ((w - 1) * s**2).sum() + (w * (m - grand) ** 2).sum()
                    assert mean == pytest.approx(grand, rel=1e-12) and sd == pytest.approx(
                        math.sqrt(ss / (n - 1)), rel=1e-12
                    )
