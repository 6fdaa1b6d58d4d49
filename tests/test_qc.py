"""Exact HWE against PLINK, and per-variant / per-sample QC tables (vdrbone.qc)."""

from __future__ import annotations

from fractions import Fraction
from math import factorial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vdrbone.association import associate_outcome
from vdrbone.methods import methods_sections
from vdrbone.panel import read_panel
from vdrbone.phenotypes import outcome_kind
from vdrbone.qc import (
    NO_HWE_MT,
    QC_VARIANT_COLUMNS,
    TEST_MISSING_COLUMNS,
    add_test_missing_verdict,
    diploid_counts,
    diploid_counts_by_set,
    hwe_exact,
    hwe_exact_many,
    hwe_subsets,
    missingness_fisher,
    qc_samples,
    qc_test_missing,
    qc_variants,
)
from vdrbone.settings import load_yaml, settings_from_config, validate_config
from vdrbone.tables import read_parquet, write_parquet

REPO = Path(__file__).resolve().parents[1]
FIX = pd.read_csv(REPO / "tests" / "fixtures" / "hwe" / "plink_hardy.tsv", sep="\t")


@pytest.fixture(scope="module")
def mine():
    p = hwe_exact_many(FIX["n_het"], FIX["n_hom1"], FIX["n_hom2"])
    m = hwe_exact_many(FIX["n_het"], FIX["n_hom1"], FIX["n_hom2"], midp=True)
    return p, m


def test_fixture_covers_edge_cases():
    assert len(FIX) >= 45
    assert (FIX["n_het"] == 0).sum() >= 5  # no hets, monomorphic
    assert ((FIX["n_hom1"] == 0) & (FIX["n_hom2"] == 0)).sum() >= 4  # all hets
    assert (FIX[["n_hom1", "n_het", "n_hom2"]].sum(axis=1) >= 50000).sum() >= 5
    assert FIX["p_plink19_bisect"].notna().sum() >= 25 and FIX["midp_plink19_bisect"].notna().sum() >= 25


@pytest.mark.parametrize(("col", "which"), [("p_plink19_bisect", 0), ("midp_plink19_bisect", 1)])
def test_hwe_matches_plink19_full_precision(mine, col, which):
    ok = FIX[col].notna().to_numpy()
    np.testing.assert_allclose(mine[which][ok], FIX[col][ok], rtol=1e-6, atol=0)


@pytest.mark.parametrize(
    ("col", "which", "rtol"),
    [("p_plink2", 0, 5e-6), ("midp_plink2", 1, 5e-6), ("p_plink19", 0, 5e-4), ("midp_plink19", 1, 5e-4)],
)
def test_hwe_matches_printed_plink_values(mine, col, which, rtol):
    # PLINK 2 prints 6 significant digits, PLINK 1.9 prints 4: compare at print precision
    np.testing.assert_allclose(mine[which], FIX[col], rtol=rtol, atol=1e-300)


def test_hwe_exact_ones_and_underflow(mine):
    p, m = mine
    ones = (FIX["p_plink19"] == 1).to_numpy()
    assert ones.sum() >= 15
    assert (p[ones] == 1.0).all()
    zero = (FIX["p_plink2"] == 0).to_numpy()
    assert zero.sum() == 1 and p[zero][0] == 0.0 and m[zero][0] == 0.0


def _exact(n_het, n_hom1, n_hom2, midp):
    """Independent rational-arithmetic exact test (small n)."""
    n = n_het + n_hom1 + n_hom2
    rare = 2 * min(n_hom1, n_hom2) + n_het
    probs = {}
    for h in range(rare % 2, rare + 1, 2):
        hr = (rare - h) // 2
        probs[h] = Fraction(2**h, factorial(hr) * factorial(h) * factorial(n - h - hr))
    total, obs = sum(probs.values()), probs[n_het]
    less = sum(p for p in probs.values() if p < obs)
    ties = sum(p for p in probs.values() if p == obs)
    return (less + (ties / 2 if midp else ties)) / total


@pytest.mark.parametrize(
    "counts", [(0, 1, 0), (2, 1, 1), (4, 0, 2), (2, 4, 0), (3, 5, 1), (12, 32, 3), (0, 30, 0), (25, 1, 0)]
)
def test_hwe_exact_against_rational_arithmetic(counts):
    for midp in (False, True):
        np.testing.assert_allclose(hwe_exact(*counts, midp=midp), float(_exact(*counts, midp)), rtol=1e-12)


def test_hwe_scalar_vectorised_symmetric_and_invalid():
    assert hwe_exact(12, 32, 3) == hwe_exact(12, 3, 32) == hwe_exact_many([12], [32], [3])[0]
    assert np.isnan(hwe_exact(0, 0, 0))
    out = hwe_exact_many(np.array([[1.0, np.nan]]), 2, 3)
    assert out.shape == (1, 2) and np.isnan(out[0, 1])
    with pytest.raises(ValueError, match="non-negative integers"):
        hwe_exact(-1, 2, 3)
    with pytest.raises(ValueError, match="non-negative integers"):
        hwe_exact_many([1.5], [2], [3])


# --- qc_variants on a hand-checked example --------------------------------------------------
# samples s1..s10; t2dm yes s1-s5, no s6-s9, NA s10; sex F: s1 s2 s3 s6 s7 s10, M: s4 s5 s8 s9
# fracture 1: s1 s6; 0: s2 s3 s4 s7 s8 s9; NA: s5 s10
# TaqI (effect G = t): s1 2, s2 1, s3 1, s4 0, s5 0, s6 missing, s7 1, s8 0, s9 low_gp, s10 no row
# m.4823 (effect C): s1 1, s2 0, s3 heteroplasmic, s4-s6 0, s7 1, s8 other_allele, s9 0, s10 0


@pytest.fixture(scope="module")
def example():
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(["rs731236", "m.4823"])
    s = [f"s{i}" for i in range(1, 11)]
    pheno = pd.DataFrame(
        {
            "sample": s,
            "sex": pd.Series(
                ["female"] * 3 + ["male"] * 2 + ["female"] * 2 + ["male"] * 2 + ["female"], dtype=object
            ),
            "t2dm": pd.Series(["yes"] * 5 + ["no"] * 4 + [pd.NA], dtype=object),
            "fracture": [1, 0, 0, 0, np.nan, 1, 0, 0, 0, np.nan],
        }
    )
    taqi = [2, 1, 1, 0, 0, "missing", 1, 0, "low_gp", None]
    mt = [1, 0, "heteroplasmic", 0, 0, 0, 1, "other_allele", 0, 0]
    rows = []
    for variant, values in (("rs731236", taqi), ("m.4823", mt)):
        for sample, v in zip(s, values, strict=True):
            if v is None:
                continue
            called = not isinstance(v, str)
            rows.append(
                {
                    "sample": sample,
                    "variant": variant,
                    "effect_count": float(v) if called else np.nan,
                    "status": "called" if called else v,
                }
            )
    calls = pd.DataFrame(rows)
    # a sample that is not analysed must be ignored
    calls = pd.concat(
        [
            calls,
            pd.DataFrame([{"sample": "zz", "variant": "rs731236", "effect_count": 2.0, "status": "called"}]),
        ]
    )
    return calls, pheno, panel


def _row(qc, variant, stratum, subset="all"):
    r = qc[(qc["variant"] == variant) & (qc["stratum"] == stratum) & (qc["subset"] == subset)]
    assert len(r) == 1
    return r.iloc[0]


def test_qc_variants_shape(example):
    calls, pheno, panel = example
    strata = ["all", "t2dm", "sex", "t2dm_sex"]
    qc = qc_variants(
        calls, pheno, panel, strata=strata, binary_outcomes=["fracture"], min_call_rate=0.95, hwe_p=1e-6
    )
    assert list(qc.columns) == QC_VARIANT_COLUMNS
    assert len(qc) == 2 * 2 * 9  # variants x subsets x strata
    assert qc["subset"].unique().tolist() == ["all", "controls:fracture"]
    assert qc["variant"].unique().tolist() == ["rs731236", "m.4823"]


def test_qc_variants_taqi_numbers(example):
    calls, pheno, panel = example
    qc = qc_variants(calls, pheno, panel, strata=["all", "t2dm", "t2dm_sex"], binary_outcomes=["fracture"],
                     min_call_rate=0.95, hwe_p=1e-6)  # fmt: skip
    r = _row(qc, "rs731236", "all")
    assert (r.n_samples, r.n_called, r.n_hom_other, r.n_het, r.n_hom_effect) == (10, 7, 3, 3, 1)
    assert r.call_rate == pytest.approx(0.7) and r.effect_allele_freq == pytest.approx(5 / 14)
    assert (r.effect_allele, r.other_allele, r["name"]) == ("G", "A", "TaqI")
    assert r.genotype_counts == "TT=3;Tt=3;tt=1"
    assert (r.n_missing, r.n_low_gp, r.n_heteroplasmic) == (2, 1, 0)
    # 3 hets is the most likely het count given 5 effect alleles in 7 people: p = 1
    assert r.hwe_p == 1.0
    np.testing.assert_allclose(r.hwe_midp, float(_exact(3, 3, 1, True)), rtol=1e-12)
    assert r.flag == "low_call_rate" and r.reason == "call rate 0.7000 < 0.95"
    assert pd.isna(r.n_carriers) and np.isnan(r.carrier_freq)

    r = _row(qc, "rs731236", "t2dm=yes")
    assert (r.n_samples, r.n_called, r.n_hom_other, r.n_het, r.n_hom_effect) == (5, 5, 2, 2, 1)
    assert r.call_rate == 1.0 and r.effect_allele_freq == pytest.approx(0.4)
    assert r.flag == "" and r.reason == ""
    r = _row(qc, "rs731236", "t2dm=no")  # s6-s9; s10 has no t2dm
    assert (r.n_samples, r.n_called, r.n_missing, r.n_low_gp) == (4, 2, 1, 1)
    r = _row(qc, "rs731236", "t2dm=no,sex=male")  # s8, s9
    assert (r.n_samples, r.n_called, r.n_hom_other) == (2, 1, 1)
    assert r.effect_allele_freq == 0.0 and "monomorphic" in r.note

    r = _row(qc, "rs731236", "all", "controls:fracture")  # s2 s3 s4 s7 s8 s9
    assert (r.n_samples, r.n_called, r.n_hom_other, r.n_het, r.n_hom_effect) == (6, 5, 2, 3, 0)
    assert r.effect_allele_freq == pytest.approx(0.3)
    np.testing.assert_allclose(r.hwe_midp, float(_exact(3, 2, 0, True)), rtol=1e-12)
    r = _row(qc, "rs731236", "t2dm=yes", "controls:fracture")  # s2 s3 s4
    assert (r.n_samples, r.n_called, r.n_het) == (3, 3, 2)


def test_qc_variants_mtdna_rows(example):
    calls, pheno, panel = example
    qc = qc_variants(calls, pheno, panel, strata=["all", "sex"], binary_outcomes=["fracture"],
                     min_call_rate=0.5, hwe_p=1e-6)  # fmt: skip
    r = _row(qc, "m.4823", "all")
    assert (r.n_samples, r.n_called, r.n_carriers) == (10, 8, 2)
    assert r.carrier_freq == pytest.approx(0.25) and r.effect_allele_freq == pytest.approx(0.25)
    assert (r.n_heteroplasmic, r.n_other_allele, r.n_missing) == (1, 1, 0)
    assert np.isnan(r.hwe_p) and np.isnan(r.hwe_midp) and NO_HWE_MT in r.note
    assert pd.isna(r.n_het) and pd.isna(r.n_hom_other) and pd.isna(r.n_hom_effect)
    assert r.genotype_counts == "T=6;C=2" and r.flag == ""
    r = _row(qc, "m.4823", "sex=male", "controls:fracture")  # s4 s8 s9
    assert (r.n_samples, r.n_called, r.n_carriers, r.n_other_allele) == (3, 2, 0, 1)
    mt = qc[qc["variant"] == "m.4823"]
    assert mt["hwe_p"].isna().all() and not mt["flag"].str.contains("hwe").any()


def test_qc_variants_hwe_flag():
    # 12 samples, no heterozygotes: 6 A/A and 6 G/G at TaqI; HWE p = 0.000342 (exact, rational)
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(["rs731236"])
    s = [f"p{i:02d}" for i in range(12)]
    pheno = pd.DataFrame({"sample": s, "sex": ["female"] * 12, "t2dm": ["yes"] * 6 + ["no"] * 6})
    calls = pd.DataFrame(
        {"sample": s, "variant": "rs731236", "effect_count": [0.0, 2.0] * 6, "status": "called"}
    )
    p = float(_exact(0, 6, 6, False))
    assert p == pytest.approx(0.000342, rel=1e-3)
    qc = qc_variants(
        calls, pheno, panel, strata=["all", "t2dm"], binary_outcomes=[], min_call_rate=0.95, hwe_p=1e-3
    )
    r = _row(qc, "rs731236", "all")
    np.testing.assert_allclose(r.hwe_p, p, rtol=1e-12)
    assert r.flag == "hwe" and r.reason == f"HWE exact p {p:.3g} < 0.001" and r.call_rate == 1.0
    r = _row(qc, "rs731236", "t2dm=yes")  # 3 A/A, 3 G/G: p = 0.0216 > 0.001
    np.testing.assert_allclose(r.hwe_p, float(_exact(0, 3, 3, False)), rtol=1e-12)
    assert r.flag == ""
    qc = qc_variants(calls, pheno, panel, strata=["all"], binary_outcomes=[], min_call_rate=0.95, hwe_p=1e-4)
    assert _row(qc, "rs731236", "all").flag == ""


@pytest.fixture(scope="module")
def hwe_in_controls():
    """32 women, 12 controls and 20 cases of fracture. TaqI fails HWE only in the controls (6 A/A,
    6 G/G, no heterozygote: p = 0.000342; all samples 6/20/6: p = 0.287); BsmI fails only in all
    samples (controls 3/6/3: p = 1; all samples 13/6/13: p = 0.000374); m.4823 is haploid."""
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(["rs731236", "rs1544410", "m.4823"])
    s = [f"q{i:02d}" for i in range(32)]
    fracture = [0.0] * 12 + [1.0] * 20
    pheno = pd.DataFrame(
        {
            "sample": s,
            "sex": ["female"] * 32,
            "t2dm": ["no"] * 32,
            "fracture": fracture,
            "bmd_ls": np.linspace(0.8, 1.1, 32),
        }
    )
    genotypes = {
        "rs731236": [0.0] * 6 + [2.0] * 6 + [1.0] * 20,
        "rs1544410": [0.0] * 3 + [1.0] * 6 + [2.0] * 3 + [0.0] * 10 + [2.0] * 10,
        "m.4823": [0.0, 1.0] * 16,
    }
    calls = pd.concat(
        [
            pd.DataFrame({"sample": s, "variant": v, "effect_count": g, "status": "called"})
            for v, g in genotypes.items()
        ],
        ignore_index=True,
    )
    return calls, pheno, panel


def test_hwe_failing_only_in_controls(hwe_in_controls):
    calls, pheno, panel = hwe_in_controls
    p_ctrl, p_all = float(_exact(0, 6, 6, False)), float(_exact(6, 13, 13, False))
    in_controls = f"HWE exact p {p_ctrl:.3g} < 0.001 in controls of fracture"
    in_all = f"HWE exact p {p_all:.3g} < 0.001"
    expected = {  # hwe_samples -> (TaqI verdict reason, BsmI verdict reason)
        "both": (in_controls, in_all),
        "controls": (in_controls, ""),
        "all": ("", in_all),
    }
    for setting, (taqi, bsmi) in expected.items():
        qc = qc_variants(
            calls, pheno, panel, strata=["all"], binary_outcomes=["fracture"], min_call_rate=0.95,
            hwe_p=1e-3, hwe_samples=setting,
        )  # fmt: skip
        r = _row(qc, "rs731236", "all")
        np.testing.assert_allclose(r.hwe_p, float(_exact(20, 6, 6, False)), rtol=1e-12)
        assert (r.flag, r.reason) == (("hwe" if taqi else ""), taqi), setting
        r = _row(qc, "rs1544410", "all")
        np.testing.assert_allclose(r.hwe_p, p_all, rtol=1e-12)
        assert (r.flag, r.reason) == (("hwe" if bsmi else ""), bsmi), setting
        # the controls rows carry their own flag only where the setting applies HWE in controls
        r = _row(qc, "rs731236", "all", "controls:fracture")
        np.testing.assert_allclose(r.hwe_p, p_ctrl, rtol=1e-12)
        assert r.flag == ("" if setting == "all" else "hwe")
        assert (qc.loc[qc["variant"] == "m.4823", "flag"] == "").all()
        # qc.action: exclude drops a variant failing in controls from every outcome, as PLINK --hwe
        cfg = {
            "outcomes": {"fracture": {"type": "binary"}, "bmd_ls": {"type": "continuous"}},
            "covariates": [],
            "strata": ["all"],
            "qc": {"action": "exclude", "hwe_samples": setting},
            "association": {"min_stratum_n": 10, "min_cases": 5},
        }
        for outcome in cfg["outcomes"]:
            a = associate_outcome(
                calls, pheno, panel, outcome=outcome, settings=settings_from_config(cfg), qc=qc
            ).association
            for variant, reason in (("rs731236", taqi), ("rs1544410", bsmi)):
                rows = a[a["variant"] == variant]
                if reason:
                    assert (rows["note"] == f"excluded by QC (hwe): {reason}").all(), (setting, outcome)
                    assert rows["p_value"].isna().all()
                else:
                    assert not rows["note"].str.startswith("excluded by QC").any(), (setting, outcome)
            assert a.loc[a["variant"] == "m.4823", "p_value"].notna().any()


def test_hwe_samples_without_binary_outcome_fall_back_to_all_samples(hwe_in_controls):
    calls, pheno, panel = hwe_in_controls
    assert hwe_subsets("controls", []) == ["all"] and hwe_subsets("both", ["fracture", "x"]) == [
        "all",
        "controls:fracture",
        "controls:x",
    ]
    for setting in ("all", "controls", "both"):
        qc = qc_variants(
            calls, pheno, panel, strata=["all"], binary_outcomes=[], min_call_rate=0.95, hwe_p=1e-3,
            hwe_samples=setting,
        )  # fmt: skip
        assert _row(qc, "rs1544410", "all").flag == "hwe" and _row(qc, "rs731236", "all").flag == ""
    with pytest.raises(ValueError, match="hwe_samples must be one of"):
        hwe_subsets("cases", ["fracture"])


def test_qc_variants_always_has_the_all_stratum(hwe_in_controls):
    calls, pheno, panel = hwe_in_controls
    qc = qc_variants(
        calls, pheno, panel, strata=["sex"], binary_outcomes=["fracture"], min_call_rate=0.95, hwe_p=1e-3
    )
    assert qc["stratum"].unique().tolist() == ["all", "sex=female", "sex=male"]
    assert _row(qc, "rs731236", "all").flag == "hwe"


@pytest.mark.parametrize("setting", ["all", "controls", "both"])
def test_methods_state_where_hwe_was_applied(setting):
    cfg = validate_config(
        load_yaml(REPO / "config" / "config.yaml"), REPO / "workflow/schemas/config.schema.yaml"
    )
    assert cfg["qc"]["hwe_samples"] == "both"  # the default
    cfg["qc"]["hwe_samples"] = setting
    # one binary outcome (the derived WHO class of the default config is binary too)
    cfg["outcomes"] = {k: v for k, v in cfg["outcomes"].items() if v["type"] != "who_class"}
    panel = read_panel(REPO / cfg["panel"]).select(cfg["variants"])

    def qc_text(config):
        return {
            p["title"]: p["text"]
            for p in methods_sections(settings_from_config(config), panel=panel, versions={})
        }["Quality control"]

    text = qc_text(cfg)
    assert (
        "in all samples and in every stratum, and in the controls of the binary outcome (Any fracture)"
        in text
    )
    applied = {
        "all": "failed HWE when p < 1e-06 in all samples (qc.hwe_samples: all); HWE in controls was "
        "reported but not applied.",
        "controls": "failed HWE when p < 1e-06 in the controls of the binary outcome (qc.hwe_samples: "
        "controls), as PLINK --hwe does; a failure in controls applied to every outcome; HWE in all "
        "samples was reported but not applied.",
        "both": "failed HWE when p < 1e-06 in all samples or in the controls of the binary outcome "
        "(qc.hwe_samples: both), as PLINK --hwe does; a failure in controls applied to every outcome.",
    }
    assert applied[setting] in text
    assert "No HWE test applies to haploid mtDNA" in text and "flagged but kept" in text
    # no binary outcome: controls fall back to all samples, and the Methods say so
    cfg["outcomes"] = {k: v for k, v in cfg["outcomes"].items() if outcome_kind(v) != "binary"}
    cfg["qc"]["action"] = "exclude"
    text = qc_text(cfg)
    assert "controls" not in text.split("failed HWE")[0]
    assert f"failed HWE when p < 1e-06 in all samples (qc.hwe_samples: {setting})" in text
    fallback = "no outcome is binary, so there were no controls and all samples were used instead"
    assert (fallback in text) == (setting != "all")
    assert "excluded from association testing of every outcome" in text


def test_qc_variants_rejects_bad_calls(example):
    calls, pheno, panel = example
    bad = calls.copy()
    bad.loc[bad["status"] == "called", "effect_count"] = bad.loc[
        bad["status"] == "called", "effect_count"
    ].replace(1.0, 3.0)
    with pytest.raises(ValueError, match="effect_count values"):
        qc_variants(bad, pheno, panel, strata=["all"], binary_outcomes=[], min_call_rate=0.9, hwe_p=1e-6)
    with pytest.raises(ValueError, match="duplicated"):
        qc_variants(pd.concat([calls, calls]), pheno, panel, strata=["all"], binary_outcomes=[],
                    min_call_rate=0.9, hwe_p=1e-6)  # fmt: skip


def test_qc_samples(example):
    calls, pheno, _ = example
    calls = calls[calls["sample"] != "zz"]
    qs = qc_samples(calls, max_missing_rate=0.4).set_index("sample")
    assert qs.loc["s1", ["n_variants", "n_called"]].tolist() == [2, 2] and qs.loc["s1", "status"] == "ok"
    assert qs.loc["s3", ["n_called", "n_heteroplasmic", "n_missing"]].tolist() == [1, 1, 0]
    assert qs.loc["s6", ["n_called", "n_missing"]].tolist() == [1, 1]
    assert qs.loc["s10", ["n_called", "n_missing"]].tolist() == [1, 1]  # no TaqI row at all
    assert qs.loc["s9", ["n_called", "n_low_gp"]].tolist() == [1, 1]
    assert qs.loc["s8", ["n_called", "n_other_allele"]].tolist() == [1, 1]
    assert qs.loc["s6", "missing_rate"] == 0.5 and qs.loc["s6", "status"] == "high_missing"
    assert qs.index.tolist()[:3] == ["s1", "s2", "s3"]


def test_variant_not_in_the_genotype_files_and_other_ploidy(example):
    """Extraction's 'excluded' (a variant not in the files) and 'other_ploidy' calls: rows with the
    reason, never the former crash "unknown status value(s) ['excluded']"."""
    calls, pheno, _ = example
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(["rs731236", "m.4823", "m.15885"])
    absent = pd.DataFrame(
        {"sample": pheno["sample"], "variant": "m.15885", "effect_count": np.nan, "status": "excluded"}
    )
    calls = pd.concat([calls, absent], ignore_index=True)
    calls.loc[(calls["variant"] == "rs731236") & (calls["sample"] == "s1"), ["effect_count", "status"]] = [
        np.nan,
        "other_ploidy",
    ]
    qc = qc_variants(
        calls, pheno, panel, strata=["all", "sex"], binary_outcomes=["fracture"], min_call_rate=0.9,
        hwe_p=1e-6, unavailable={"m.15885": "not in the genotype files"},
    )  # fmt: skip
    mt = qc[qc["variant"] == "m.15885"]
    assert len(mt) == 6 and (mt["flag"] == "not_extracted").all()
    assert (mt["reason"] == "not in the genotype files").all() and (mt["n_called"] == 0).all()
    assert _row(qc, "rs731236", "all")["n_missing"] == 3  # s6, s10 and the other_ploidy call (s1)
    assert _row(qc, "rs731236", "all")["n_called"] == 6
    # without the reasons from extraction.tsv the variant is still flagged
    qc = qc_variants(calls, pheno, panel, strata=["all"], binary_outcomes=[], min_call_rate=0.9, hwe_p=1e-6)
    assert _row(qc, "m.15885", "all")["reason"] == "excluded at extraction (see extraction.tsv)"
    # per-sample missingness is over the variants that were extracted
    qs = qc_samples(calls[calls["sample"] != "zz"]).set_index("sample")
    assert qs.loc["s2", ["n_variants", "n_called", "missing_rate"]].tolist() == [2, 2, 0.0]
    assert qs.loc["s1", ["n_called", "n_missing"]].tolist() == [1, 1]


# --------------------------------------------------------------------------- differential missingness
TM = REPO / "tests" / "fixtures" / "test_missing"
TM_VARIANTS = ["rs731236", "rs7975232", "rs1544410", "rs2228570", "m.4823", "m.15885"]


def _tm_inputs():
    calls = pd.read_csv(TM / "calls.tsv", sep="\t")
    calls = calls[calls["variant"].isin(TM_VARIANTS)]
    pheno = pd.read_csv(TM / "phenotypes.tsv", sep="\t", dtype={"fracture": float})
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(TM_VARIANTS)
    return calls, pheno, panel


def test_missingness_fisher_matches_plink_test_missing():
    """The kernel on the 2 x 2 counts of 40 SNPs vs PLINK 1.9 --test-missing (4 significant digits)."""
    counts = pd.read_csv(TM / "counts.tsv", sep="\t").set_index("variant")
    plink = pd.read_csv(TM / "plink_test_missing.tsv", sep="\t")
    plink = plink[plink["stratum"] == "all"].set_index("SNP")
    p = pd.Series(
        missingness_fisher(
            counts["n_missing_cases"], counts["n_cases"], counts["n_missing_controls"], counts["n_controls"]
        ),
        index=counts.index,
    )
    shared = counts.index.intersection(plink.index)
    assert len(shared) >= 35 and (plink.loc[shared, "P"] < 1e-100).any()
    np.testing.assert_allclose(p[shared], plink.loc[shared, "P"], rtol=5e-4, atol=0)
    np.testing.assert_allclose(
        counts.loc[shared, "n_missing_cases"] / counts.loc[shared, "n_cases"],
        plink.loc[shared, "F_MISS_A"],
        rtol=5e-4,
    )
    # PLINK leaves out SNPs with nothing missing or nothing called (a zero margin): p is 1 here
    left_out = counts.index.difference(plink.index)
    assert len(left_out) >= 2 and (p[left_out] == 1).all()
    with pytest.raises(ValueError, match=r"need 0 <= n_missing <= n, got cases 5/4"):
        missingness_fisher(5, 4, 0, 10)
    assert np.isnan(missingness_fisher(0, 0, 1, 10))


def test_qc_test_missing_matches_plink_per_stratum():
    calls, pheno, panel = _tm_inputs()
    table = qc_test_missing(
        calls, pheno, panel, strata=["t2dm", "sex"], binary_outcomes=["fracture"], p_threshold=1e-5
    )
    assert list(table.columns) == TEST_MISSING_COLUMNS
    assert len(table) == len(TM_VARIANTS) * 5
    plink = pd.read_csv(TM / "plink_test_missing.tsv", sep="\t").set_index(["stratum", "SNP"])
    got = table.set_index(["stratum", "variant"])
    shared = got.index.intersection(plink.index)
    assert len(shared) == 25  # rs1544410 has no missing genotype: PLINK leaves it out
    np.testing.assert_allclose(got.loc[shared, "p_test_missing"], plink.loc[shared, "P"], rtol=5e-4)
    np.testing.assert_allclose(got.loc[shared, "f_miss_cases"], plink.loc[shared, "F_MISS_A"], rtol=5e-4)
    np.testing.assert_allclose(
        got.loc[shared, "f_miss_controls"], plink.loc[shared, "F_MISS_U"], rtol=5e-4, atol=1e-9
    )
    assert (got.loc[("all", "rs1544410"), "p_test_missing"] == 1.0) and got.loc[
        ("all", "rs1544410"), "n_missing_cases"
    ] == 0
    flagged = table[table["flag"] == "test_missing"]
    assert set(zip(flagged["stratum"], flagged["variant"], strict=True)) == {
        (s, v) for (s, v) in shared if plink.loc[(s, v), "P"] < 1e-5
    }
    r = flagged[(flagged["stratum"] == "all") & (flagged["variant"] == "rs7975232")].iloc[0]
    assert r.reason == "test-missing p 1.53e-06 < 1e-05"
    # off: no flag, p-values kept
    off = qc_test_missing(calls, pheno, panel, strata=[], binary_outcomes=["fracture"], p_threshold=None)
    assert (off["flag"] == "").all() and off["p_test_missing"].notna().all()


def test_test_missing_verdict_and_exclusion():
    calls, pheno, panel = _tm_inputs()
    tm = qc_test_missing(calls, pheno, panel, strata=["sex"], binary_outcomes=["fracture"], p_threshold=1e-5)
    qc = qc_variants(
        calls, pheno, panel, strata=["sex"], binary_outcomes=["fracture"], min_call_rate=0.5, hwe_p=1e-6
    )
    out = add_test_missing_verdict(qc, tm)
    verdict = out[(out["stratum"] == "all") & (out["subset"] == "all")].set_index("variant")
    assert verdict.loc["rs7975232", "flag"] == "test_missing"
    assert verdict.loc["rs7975232", "reason"] == "test-missing p 1.53e-06 < 1e-05 for fracture"
    assert verdict.loc["m.4823", "flag"] == "test_missing"
    assert verdict.loc["rs2228570", "flag"] == ""  # p 8.4e-4: not below 1e-5
    # stratum rows keep their own flags only
    assert (
        out[out["stratum"] != "all"]["flag"].fillna("") == qc[qc["stratum"] != "all"]["flag"].fillna("")
    ).all()
    from vdrbone.association import _qc_exclusions

    gone = _qc_exclusions(out, action="exclude")
    assert gone["rs7975232"] == "excluded by QC (test_missing): test-missing p 1.53e-06 < 1e-05 for fracture"
    assert "rs2228570" not in gone


def test_test_missing_bad_outcome_values():
    calls, pheno, panel = _tm_inputs()
    pheno.loc[3, "fracture"] = 2
    with pytest.raises(ValueError, match=r"binary outcome 'fracture': values other than 0/1: \[2\.0\]"):
        qc_test_missing(calls, pheno, panel, strata=[], binary_outcomes=["fracture"])


def test_methods_describe_test_missing():
    from vdrbone.phenotypes import outcome_kind

    cfg = validate_config(
        load_yaml(REPO / "config" / "config.yaml"), REPO / "workflow/schemas/config.schema.yaml"
    )
    panel = read_panel(REPO / cfg["panel"]).select(cfg["variants"])

    def qc_text(config):
        return {
            p["title"]: p["text"]
            for p in methods_sections(settings_from_config(config), panel=panel, versions={})
        }["Quality control"]

    assert cfg["qc"]["test_missing_p"] == 1e-5
    text = qc_text(cfg)
    assert (
        "as PLINK --test-missing does (qc_test_missing.tsv); a variant with p < 1e-05 in all samples" in text
    )
    assert "(call rate, HWE or differential missingness)" in text
    cfg["qc"]["test_missing_p"] = None
    assert "reported but flagged nothing (qc.test_missing_p: null)" in qc_text(cfg)
    cfg["outcomes"] = {k: v for k, v in cfg["outcomes"].items() if outcome_kind(v) != "binary"}
    assert "missingness" not in qc_text(cfg)


def test_diploid_counts_through_scikit_allel_match_a_plain_count():
    """scikit-allel's GenotypeArray counts (used by qc_variants) equal np.bincount of the
    effect-allele counts; not-called samples count nowhere."""
    rng = np.random.default_rng(7)
    ec = rng.choice([0.0, 1.0, 2.0, np.nan], size=997, p=[0.5, 0.3, 0.15, 0.05])
    genotypes, alleles = diploid_counts(ec)
    called = ec[np.isfinite(ec)].astype(int)
    expected = np.bincount(called, minlength=3)
    np.testing.assert_array_equal(genotypes, expected)
    np.testing.assert_array_equal(alleles, [2 * expected[0] + expected[1], expected[1] + 2 * expected[2]])
    np.testing.assert_array_equal(diploid_counts(np.full(4, np.nan))[0], [0, 0, 0])
    with pytest.raises(ValueError, match=r"effect_count values \[3.0\]"):
        diploid_counts(np.array([0.0, 3.0]))


def test_diploid_counts_by_set_equal_diploid_counts_of_each_set():
    """The batched scikit-allel counts (variants x sample sets, used by qc_variants) equal
    diploid_counts of each variant's calls in each set, an empty set included."""
    rng = np.random.default_rng(11)
    ec = rng.choice([0.0, 1.0, 2.0, np.nan], size=(3, 501), p=[0.4, 0.35, 0.2, 0.05])
    sets = rng.random((5, 501)) < [[0.5], [0.1], [1.0], [0.0], [0.9]]
    genotypes, alleles = diploid_counts_by_set(ec, sets)
    assert genotypes.shape == (3, 5, 3) and alleles.shape == (3, 5, 2)
    for v in range(3):
        for k in range(5):
            g, a = diploid_counts(ec[v, sets[k]])
            np.testing.assert_array_equal(genotypes[v, k], g)
            np.testing.assert_array_equal(alleles[v, k], a)
    with pytest.raises(ValueError, match=r"effect_count values \[3.0\]"):
        diploid_counts_by_set(np.array([[0.0, 3.0]]), np.ones((1, 2), dtype=bool))


def test_qc_tables_from_categorical_calls_equal_those_from_text_calls(example, tmp_path):
    """The QC job reads the calls with categorical text columns (read_parquet(categorical=...)):
    qc_samples, qc_variants and qc_test_missing give the same tables as from plain text columns,
    with samples outside the phenotype table, variants not extracted and missing calls."""
    calls, pheno, _ = example
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(["rs731236", "m.4823", "m.15885"])
    absent = pd.DataFrame(
        {"sample": pheno["sample"], "variant": "m.15885", "effect_count": np.nan, "status": "excluded"}
    )
    calls = pd.concat([calls, absent], ignore_index=True)
    write_parquet(calls, tmp_path / "calls.parquet")
    text = read_parquet(tmp_path / "calls.parquet")
    coded = read_parquet(tmp_path / "calls.parquet", categorical=["sample", "variant", "status"])
    assert isinstance(coded["sample"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(qc_samples(coded, min_call_rate=0.6), qc_samples(text, min_call_rate=0.6))
    kw = dict(strata=["all", "t2dm", "sex"], binary_outcomes=["fracture"])
    pd.testing.assert_frame_equal(
        qc_variants(coded, pheno, panel, min_call_rate=0.9, hwe_p=0.05, **kw),
        qc_variants(text, pheno, panel, min_call_rate=0.9, hwe_p=0.05, **kw),
    )
    pd.testing.assert_frame_equal(
        qc_test_missing(coded, pheno, panel, p_threshold=0.5, **kw),
        qc_test_missing(text, pheno, panel, p_threshold=0.5, **kw),
    )
    tm_calls, tm_pheno, tm_panel = _tm_inputs()
    write_parquet(tm_calls, tmp_path / "tm.parquet")
    tm_coded = read_parquet(tmp_path / "tm.parquet", categorical=["sample", "variant", "status"])
    kw = dict(strata=["t2dm", "sex"], binary_outcomes=["fracture"])
    pd.testing.assert_frame_equal(
        qc_test_missing(tm_coded, tm_pheno, tm_panel, p_threshold=1e-5, **kw),
        qc_test_missing(tm_calls, tm_pheno, tm_panel, p_threshold=1e-5, **kw),
    )
    pd.testing.assert_frame_equal(
        qc_variants(tm_coded, tm_pheno, tm_panel, min_call_rate=0.95, hwe_p=1e-6, **kw),
        qc_variants(tm_calls, tm_pheno, tm_panel, min_call_rate=0.95, hwe_p=1e-6, **kw),
    )
    with pytest.raises(ValueError, match="duplicated"):
        qc_samples(pd.concat([coded, coded]))


def test_label_positions_equal_a_lookup_per_value():
    """qc.label_positions (one lookup per distinct value or category) gives, for text, categorical
    and missing values, with and without as_text, the position a per-value list lookup gives."""
    from vdrbone.qc import label_positions

    labels = ["S2", "S1", "nan", "7"]
    raw = ["S1", "S9", np.nan, "S2", "S1", np.nan, "7", "S2"]  # missing text as read_parquet gives it

    def expected(values, as_text):
        out = []
        for v in values:
            if as_text:
                key = str(v) if isinstance(v, str) else "nan"
                out.append(labels.index(key) if key in labels else -1)
            else:
                out.append(labels.index(v) if isinstance(v, str) and v in labels else -1)
        return out

    for values in (pd.Series(raw, dtype=object), pd.Series(raw, dtype="category")):
        for as_text in (False, True):
            got = label_positions(values, labels, as_text=as_text)
            assert got.tolist() == expected(raw, as_text), (values.dtype, as_text)
    ints = pd.Series([7, 3, 7])
    assert label_positions(ints, labels, as_text=True).tolist() == [3, -1, 3]
    # labels equal to the categories (the shortcut without hashing), "nan" among them
    cat = pd.Series(["S1", "nan", np.nan, "S2", "S1", np.nan], dtype="category")
    same = list(cat.cat.categories)
    assert same == ["S1", "S2", "nan"]
    assert label_positions(cat, same, as_text=True).tolist() == [0, 2, 2, 1, 0, 2]
    assert label_positions(cat, same).tolist() == [0, 2, -1, 1, 0, -1]
    assert label_positions(cat, same[:2], as_text=True).tolist() == [0, -1, -1, 1, 0, -1]
