"""Conditional analysis (PLINK --condition): model conditional, term per_allele, against R glm/lm
(LRT / F test against the same-sample model with the conditioning SNPs) and PLINK 1.9
--logistic/--linear --condition (Wald estimates, SE, CI at PLINK's printed precision)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from vdrbone.association import associate_outcome
from vdrbone.panel import read_panel
from vdrbone.regression import conditional_test
from vdrbone.settings import settings_from_config

REPO = Path(__file__).resolve().parents[1]
ASSOC = REPO / "tests" / "fixtures" / "association"
FIX = REPO / "tests" / "fixtures" / "conditional"
VARIANTS = ["rs731236", "rs7975232", "rs1544410", "rs2228570", "m.4823"]
BLOCK = ["rs1544410", "rs7975232", "rs731236"]
KEYS = ["variant", "outcome", "stratum"]


def make_config(condition_on="block_top") -> dict:
    return {
        "outcomes": {
            "bmd_ls": {"column": "ls_bmd", "type": "continuous"},
            "fracture": {"column": "any_fracture", "type": "binary", "case": ["1"], "control": ["0"]},
        },
        "covariates": ["age_years", "bmi"],
        "strata": ["all", "t2dm", "sex", "t2dm_sex"],
        "genotypes": {"use_dosage": True},
        "qc": {"action": "flag"},
        "association": {"min_stratum_n": 30, "min_cases": 5, "max3": False, "condition_on": condition_on},
        "haplotypes": {"block": BLOCK},
    }


@pytest.fixture(scope="module")
def cohort():
    calls = pd.read_csv(ASSOC / "calls.tsv", sep="\t")
    pheno = pd.read_csv(ASSOC / "phenotypes.tsv", sep="\t")
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(VARIANTS)
    return calls, pheno, panel


@pytest.fixture(scope="module")
def tables(cohort):
    calls, pheno, panel = cohort
    out = {}
    for mode, setting in (("block_top", "block_top"), ("list", ["rs731236", "rs1544410"])):
        for outcome in ("bmd_ls", "fracture"):
            a = associate_outcome(
                calls, pheno, panel, outcome=outcome, settings=settings_from_config(make_config(setting))
            ).association
            out[(mode, outcome)] = a
    return out


def _conditional(tables, mode):
    rows = pd.concat([tables[(mode, o)] for o in ("bmd_ls", "fracture")])
    return rows[rows["model"] == "conditional"]


@pytest.mark.parametrize("mode", ["block_top", "list"])
def test_conditional_rows_match_r(tables, mode):
    ref = pd.read_csv(FIX / "r_conditional.tsv", sep="\t", skipinitialspace=True)
    ref = ref[ref["mode"] == mode]
    ours = _conditional(tables, mode)
    est = ours[ours["p_value"].notna()]
    assert set(map(tuple, est[KEYS].to_numpy())) == set(map(tuple, ref[KEYS].to_numpy()))
    m = est.merge(ref, on=KEYS, suffixes=("", "_r"), validate="one_to_one")
    assert len(m) == len(ref) == (36 if mode == "block_top" else 36)
    assert (m["term"] == "per_allele").all()
    assert (m["n"] == m["n_r"]).all()
    binary = m["outcome"] == "fracture"
    assert (m.loc[binary, "n_cases"].astype(int) == m.loc[binary, "n_cases_r"].astype(int)).all()
    for col in ("estimate", "standard_error", "ci_lower", "ci_upper", "statistic", "p_value"):
        assert_allclose(m[col].astype(float), m[f"{col}_r"].astype(float), rtol=1e-6, atol=0, err_msg=col)
    assert (m["covariates"] == m["covariates_r"]).all()
    assert (m.loc[binary, "method"] == "logistic, LRT; per_allele = effect-allele count").all()
    assert (m.loc[~binary, "method"] == "linear, F test; per_allele = effect-allele count").all()
    # the conditioning SNP is named in the note; the conditional sample is the complete cases
    for r in m.itertuples():
        first = r.conditioning.split("+")[0]
        assert f"conditioned on {first} (" in r.note
    assert (
        m["note"]
        .str.contains(r"complete cases with the conditioning SNP\(s\): n=\d+ \(marginal additive n=\d+\)")
        .any()
    )
    # outside the multiple-testing family
    assert ours["p_bonferroni"].isna().all()


def test_block_top_rows_name_the_strongest_snp_and_sit_beside_the_marginal_rows(tables):
    a = tables[("block_top", "bmd_ls")]
    add = a[(a["model"] == "additive") & a["variant"].isin(BLOCK)]
    cond = a[a["model"] == "conditional"]
    assert set(cond["variant"]) == set(BLOCK)  # FokI is not in the block
    for stratum, part in add.groupby("stratum"):
        top = part.loc[part["p_value"].astype(float).idxmin()]
        rows = cond[cond["stratum"] == stratum].set_index("variant")
        assert rows.loc[top.variant, "note"] == "conditioning SNP (the block's strongest SNP in this stratum)"
        assert np.isnan(rows.loc[top.variant, "p_value"])
        for vid in set(BLOCK) - {top.variant}:
            assert rows.loc[vid, "note"].startswith(
                f"conditioned on {top.variant} ({top['name']}), the block's strongest SNP in this stratum "
                f"(additive p {float(top.p_value):.3g})"
            )
            assert rows.loc[vid, "covariates"].endswith(f"+{top.variant}")
            assert rows.loc[vid, "reference"] == add[add["variant"] == vid]["reference"].iloc[0]
    # TaqI carries the planted BMD effect: BsmI and ApaI lose theirs once conditioned on it
    allrows = cond[cond["stratum"] == "all"].set_index("variant")
    marg = add[add["stratum"] == "all"].set_index("variant")
    assert marg.loc["rs7975232", "p_value"] < 0.05 or marg.loc["rs1544410", "p_value"] < 0.05
    assert (allrows.loc[["rs7975232", "rs1544410"], "p_value"] > 0.05).all()


def _plink(path):
    t = pd.read_csv(path, sep=r"\s+")
    return t[t["TEST"] == "ADD"].set_index("SNP")


@pytest.mark.parametrize("mode", ["top", "list"])
@pytest.mark.parametrize("outcome", ["fracture", "bmd_ls"])
def test_conditional_matches_plink_condition(tables, mode, outcome):
    """PLINK 1.9 --condition (Wald, 4 significant digits): same n, estimate, SE and CI."""
    ext = "logistic" if outcome == "fracture" else "linear"
    plink = _plink(FIX / f"plink_{outcome}_{mode}.assoc.{ext}")
    a = tables[("block_top" if mode == "top" else "list", outcome)]
    ours = a[(a["model"] == "conditional") & (a["stratum"] == "all") & a["p_value"].notna()].set_index(
        "variant"
    )
    tested = ["rs7975232", "rs1544410"] if mode == "top" else ["rs7975232", "rs2228570"]
    assert sorted(ours.index) == sorted(tested)
    est = "OR" if outcome == "fracture" else "BETA"
    for vid in tested:
        p = plink.loc[vid]
        assert int(p["NMISS"]) == int(ours.loc[vid, "n"])
        assert_allclose(ours.loc[vid, "estimate"], p[est], rtol=5e-4)
        assert_allclose(ours.loc[vid, "standard_error"], p["SE"], rtol=5e-4)
        assert_allclose(ours.loc[vid, "ci_lower"], p["L95"], rtol=5e-4)
        assert_allclose(ours.loc[vid, "ci_upper"], p["U95"], rtol=5e-4)
        # PLINK's p is the Wald p: close to, not equal to, the LRT / F p
        assert abs(ours.loc[vid, "p_value"] - p["P"]) < 0.02


def test_conditional_test_edge_cases():
    rng = np.random.default_rng(5)
    n = 400
    g = rng.binomial(2, 0.3, n).astype(float)
    y = rng.normal(size=n)
    C = rng.normal(size=(n, 1))
    same = conditional_test(y, g, g[:, None], C, outcome_type="continuous", conditioning_names=["rsX"])
    assert same.model == "conditional" and same.term == "per_allele" and np.isnan(same.p_value)
    assert same.note == "singular design (tested SNP collinear with the conditioning SNP(s): perfect LD)"
    flat = conditional_test(y, g, np.zeros(n), C, outcome_type="continuous", conditioning_names=["rsX"])
    assert flat.note == "conditioning SNP rsX monomorphic in this stratum"
    few = conditional_test(
        y[:20], g[:20], g[:20], C[:20], outcome_type="continuous", conditioning_names=["x"]
    )
    assert few.note == "too few samples (n=20 < 30)" and few.n == 20
    h = g.copy()
    h[:50] = np.nan
    miss = conditional_test(y, g, h, C, outcome_type="continuous", conditioning_names=["rsX"])
    assert miss.n == n - 50  # complete cases of the conditioning SNP
    with pytest.raises(
        ValueError, match=r"conditioning SNP rsX: allele counts or dosages must lie in \[0, 2\]; 1 outside"
    ):
        conditional_test(y, g, np.r_[3.0, g[1:]], C, outcome_type="continuous", conditioning_names=["rsX"])
    with pytest.raises(ValueError, match=r"conditioning_names has 2 names for 1 columns"):
        conditional_test(y, g, g, C, outcome_type="continuous", conditioning_names=["a", "b"])


def test_condition_on_off_and_excluded_conditioning_snp(cohort):
    calls, pheno, panel = cohort
    off = associate_outcome(
        calls, pheno, panel, outcome="bmd_ls", settings=settings_from_config(make_config([]))
    ).association
    assert not (off["model"] == "conditional").any()
    qc = pd.DataFrame(
        {
            "variant": ["rs731236"],
            "stratum": ["all"],
            "subset": ["all"],
            "flag": ["hwe"],
            "reason": ["HWE exact p 1e-09 < 1e-06"],
        }
    )
    cfg = make_config(["rs731236"])
    cfg["qc"]["action"] = "exclude"
    a = associate_outcome(
        calls, pheno, panel, outcome="bmd_ls", settings=settings_from_config(cfg), qc=qc
    ).association
    cond = a[(a["model"] == "conditional") & (a["stratum"] == "all")].set_index("variant")
    assert sorted(cond.index) == ["rs1544410", "rs2228570", "rs7975232"]
    assert cond["p_value"].isna().all()
    assert (
        cond["note"] == "conditioning SNP rs731236 excluded: excluded by QC (hwe): HWE exact p 1e-09 < 1e-06"
    ).all()


def test_config_condition_on_is_validated():
    from test_configuration import PANEL_IDS, SCHEMA, _valid, default_config

    from vdrbone.errors import InputError
    from vdrbone.settings import check_config, validate_config

    assert validate_config(default_config(), SCHEMA)["association"]["condition_on"] == "block_top"
    cfg = _valid()
    cfg["association"]["condition_on"] = ["rs731236", "rs11568820"]
    with pytest.raises(
        InputError,
        match=r"config key association.condition_on: 'rs11568820' is not among the analysed variants",
    ):
        check_config(cfg, PANEL_IDS)
    bad = default_config()
    bad.setdefault("association", {})["condition_on"] = "strongest"
    with pytest.raises(InputError, match=r"config key association.condition_on"):
        validate_config(bad, SCHEMA)


def test_methods_describe_the_conditioning():
    from test_configuration import SCHEMA, default_config

    from vdrbone.methods import methods_sections
    from vdrbone.settings import validate_config

    cfg = validate_config(default_config(), SCHEMA)
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(cfg["variants"])

    def text(config):
        return {
            p["title"]: p["text"]
            for p in methods_sections(settings_from_config(config), panel=panel, versions={})
        }.get("Conditional analysis", "")

    t = text(cfg)
    assert "each SNP of the BsmI-ApaI-TaqI block was adjusted for the block SNP with the smallest" in t
    assert "(complete cases, as PLINK does)" in t
    cfg["association"]["condition_on"] = ["rs731236"]
    assert "each other VDR SNP was adjusted for TaqI rs731236 (association.condition_on)" in text(cfg)
    cfg["association"]["condition_on"] = []
    assert text(cfg) == ""
