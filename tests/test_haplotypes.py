"""LD, EM haplotype frequencies and haplotype association against R (genetics, haplo.stats),
simulated truth, planted effects and reason rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from numpy.testing import assert_allclose

from vdrbone import haplotypes as hp
from vdrbone.panel import read_panel
from vdrbone.results import ASSOCIATION_COLUMNS
from vdrbone.settings import settings_from_config
from vdrbone.simulate import simulate_cohort

FIX = REPO / "tests" / "fixtures" / "haplotypes"
LOCI = ["taqi", "apai", "bsmi", "foki"]  # genomic order: TaqI < ApaI < BsmI < FokI
BLOCK_IDS = ["rs731236", "rs7975232", "rs1544410"]


@pytest.fixture(scope="module")
def cohort():
    return pd.read_csv(FIX / "cohort.tsv", sep="\t")


@pytest.fixture(scope="module")
def panel():
    return read_panel(REPO / "resources" / "vdr_snps.tsv").select(
        ["rs731236", "rs7975232", "rs1544410", "rs2228570", "m.4823"]
    )


def bits_names(em):
    return ["".join(map(str, h)) for h in em.expansion.haplotypes]


# ------------------------------------------------------------------------------------------ LD


def test_ld_matches_genetics(cohort):
    ref = pd.read_csv(FIX / "r_ld.tsv", sep="\t")
    assert len(ref) == 12
    for r in ref.itertuples():
        rows = slice(None) if r.subset == "all" else slice(0, 300)
        res = hp.ld_pair(cohort[r.locus1].to_numpy()[rows], cohort[r.locus2].to_numpy()[rows])
        assert res.n == r.n
        # exact likelihood maximum: genetics::LD's code with optimize(tol = 1e-12)
        assert_allclose(abs(res.d_prime), r.Dprime_tight, atol=1e-6)
        assert_allclose(res.r2, r.r2_tight, atol=1e-6)
        assert_allclose(res.d, r.effect_sign * r.D_tight, atol=1e-6)  # effect alleles, not major
        assert_allclose(res.r, r.effect_sign * r.r_tight, atol=1e-6)
        assert_allclose(res.statistic, r.chisq_tight, rtol=1e-6, atol=1e-5)  # = 2 n r2
        # genetics::LD as shipped (optimize at its default tol of about 1.2e-4)
        assert_allclose(abs(res.d_prime), r.Dprime, atol=5e-4)
        assert_allclose(res.r2, r.r2, atol=5e-4)


def test_ld_sign_and_edge_cases():
    rng = np.random.default_rng(1)
    g1 = rng.binomial(2, 0.4, 300).astype(float)
    res = hp.ld_pair(g1, g1)
    assert_allclose([res.d_prime, res.r, res.r2], [1.0, 1.0, 1.0], atol=1e-9)
    flipped = hp.ld_pair(g1, 2 - g1)  # counting the other allele at locus 2 flips D, D', r
    assert_allclose([flipped.d_prime, flipped.r], [-1.0, -1.0], atol=1e-9)
    mono = hp.ld_pair(g1, np.zeros(300))
    assert mono.note == "monomorphic in this stratum" and np.isnan(mono.r2) and mono.n == 300
    assert hp.ld_pair(np.full(5, np.nan), np.ones(5)).note.startswith("no samples")
    with pytest.raises(ValueError, match="0, 1 or 2"):
        hp.ld_pair(np.array([0.0, 3.0]), np.array([1.0, 1.0]))


# ------------------------------------------------------------------------------------------ EM


@pytest.mark.parametrize(("name", "n_loci"), [("block3", 3), ("block4", 4)])
def test_em_matches_haplo_em(cohort, name, n_loci):
    ref = pd.read_csv(FIX / "r_haplo_em.tsv", sep="\t", dtype={"bits": str})
    ref = ref[ref["set"] == name]
    G = cohort[LOCI[:n_loci]].to_numpy(float)
    em = hp.haplotype_em(G[np.isfinite(G).any(axis=1)])
    assert em.converged
    mine = pd.Series(em.freqs, index=bits_names(em))
    assert_allclose(mine.reindex(ref["bits"]).to_numpy(), ref["freq"].to_numpy(), atol=1e-4)
    assert (mine.drop(ref["bits"]) < 1e-4).all()  # haplotypes haplo.em does not list are ~0
    assert_allclose(em.loglik, ref["lnlike"].iloc[0], rtol=1e-8)


def test_em_recovers_simulated_frequencies(panel):
    """Simulated EUR cohort (resources/populations.tsv): every haplotype within 4 binomial SEs."""
    sim = simulate_cohort(
        panel.select(BLOCK_IDS), population="EUR", n_samples=2000, seed=5, n_background=(1, 1)
    )
    em = hp.haplotype_em(sim.genotypes.T.astype(float))
    block = sim.model.blocks[0]
    assert list(block.variants) == BLOCK_IDS
    est = {tuple(h): f for h, f in zip(em.expansion.haplotypes.tolist(), em.freqs, strict=True)}
    for h, f in zip(block.haplotypes.tolist(), block.freqs, strict=True):
        se = np.sqrt(f * (1 - f) / (2 * 2000))
        assert abs(est[tuple(h)] - f) < 4 * se + 1e-3, (h, f, est[tuple(h)])


def test_em_nonconvergence_and_input_checks():
    G = np.array([[1, 1, 1], [0, 1, 2], [2, 1, 0], [1, 1, 1]], dtype=float)
    em = hp.haplotype_em(G, max_iter=1)
    assert not em.converged and em.n_iter == 1
    with pytest.raises(ValueError, match="no called locus"):
        hp.haplotype_em(np.array([[np.nan, np.nan], [1.0, 1.0]]))


# ------------------------------------------------------------------------------- haplo.glm


@pytest.mark.parametrize("family", ["gaussian", "binomial"])
@pytest.mark.parametrize("covs", ["none", "age+bmi"])
def test_regression_matches_haplo_glm(cohort, family, covs):
    ref = pd.read_csv(FIX / "r_haplo_glm.tsv", sep="\t", dtype={"term": str, "base": str, "rare": str})
    ref = ref[(ref["family"] == family) & (ref["covariates"] == covs)]
    G = cohort[LOCI[:3]].to_numpy(float)
    keep = np.isfinite(G).any(axis=1)
    assert keep.sum() == ref["n"].iloc[0]
    em = hp.haplotype_em(G[keep])
    names = bits_names(em)
    base = int(np.argmax(em.freqs))
    assert names[base] == ref["base"].iloc[0]
    hap_rows = ref[~ref["term"].isin(["(Intercept)", "age", "bmi"])]
    rare = [names.index(b) for b in ref["rare"].iloc[0].split(",")]
    terms = [[names.index(t)] if t != "rare" else rare for t in hap_rows["term"]]
    y = cohort["y_cont" if family == "gaussian" else "y_bin"].to_numpy(float)[keep]
    C = cohort[["age", "bmi"]].to_numpy(float)[keep] if covs != "none" else np.empty((keep.sum(), 0))
    kind = "continuous" if family == "gaussian" else "binary"
    fit = hp.haplotype_regression(y, C, em, terms=terms, base=base, outcome_type=kind)
    assert fit.converged
    assert_allclose(fit.beta, hap_rows["coef"], atol=1e-3, rtol=1e-3)
    assert_allclose(fit.se, hap_rows["se"], atol=1e-3, rtol=1e-3)
    assert_allclose(fit.loglik, ref["lnlike"].iloc[0], rtol=1e-6)
    assert_allclose(fit.loglik_null, ref["lnlike_null_cov"].iloc[0], rtol=1e-6)
    if covs == "none":  # haplo.glm's own LRT is against the intercept-only model
        assert_allclose(fit.statistic, ref["lrt_intercept"].iloc[0], rtol=1e-4)
    # expected counts: the same model without trait-weighted phases; close, not equal
    alt = hp.haplotype_regression(
        y, C, em, terms=terms, base=base, outcome_type=kind, method="expected_counts"
    )
    assert np.max(np.abs(alt.beta - fit.beta)) < 0.05
    assert np.max(np.abs(alt.beta - fit.beta)) > 1e-6


# ------------------------------------------------------------------------ tables and reasons


def cohort_tables(n, seed, *, beta=0.0, effect_rflp="BAt", binary=False):
    """Calls and phenotypes of a simulated EUR cohort with a planted additive haplotype effect."""
    pnl = read_panel(REPO / "resources" / "vdr_snps.tsv").select(BLOCK_IDS)
    rng = np.random.default_rng(seed)
    sim = simulate_cohort(pnl, population="EUR", n_samples=n, seed=seed, n_background=(1, 1))
    block = sim.model.blocks[0]
    target = np.asarray(block.haplotypes[list(block.labels).index(effect_rflp)])
    # draw phased haplotypes here so the planted effect is on the haplotype, not a SNP
    h = rng.choice(len(block.freqs), size=(2, n), p=block.freqs)
    H = block.haplotypes[h[0]] + block.haplotypes[h[1]]
    copies = (block.haplotypes[h[0]] == target).all(axis=1) * 1.0 + (block.haplotypes[h[1]] == target).all(
        axis=1
    )
    age = rng.normal(60, 8, n)
    sex = np.where(rng.random(n) < 0.5, "female", "male")
    t2dm = np.where(rng.random(n) < 0.4, "yes", "no")
    if binary:
        y = (rng.random(n) < 1 / (1 + np.exp(-(-1 + beta * copies)))).astype(float)
    else:
        y = 1.0 + beta * copies + 0.003 * (age - 60) + rng.normal(0, 0.1, n)
    samples = [f"S{i}" for i in range(n)]
    calls = pd.DataFrame(
        {
            "sample": np.repeat(samples, 3),
            "variant": BLOCK_IDS * n,
            "effect_count": H.reshape(-1).astype(float),
        }
    )
    pheno = pd.DataFrame({"sample": samples, "sex": sex, "t2dm": t2dm, "y": y, "age_years": age})
    config = {
        "outcomes": {"y": {"type": "binary" if binary else "continuous"}},
        "covariates": ["age_years"],
        "strata": ["all", "sex"],
        "association": {"min_stratum_n": 30, "min_cases": 5},
        "haplotypes": {"min_freq": 0.01},
    }
    return calls, pheno, pnl, config


def test_planted_haplotype_effect_is_recovered():
    calls, pheno, pnl, config = cohort_tables(3000, 21, beta=-0.04)
    table = hp.association_table(calls, pheno, pnl, outcome="y", settings=settings_from_config(config))
    assert list(table.columns[: len(ASSOCIATION_COLUMNS)]) == ASSOCIATION_COLUMNS
    all_rows = table[table["stratum"] == "all"].set_index("term")
    assert all_rows.loc["global", "model"] == "haplotype_global"
    assert all_rows.loc["global", "p_value"] < 1e-6
    assert all_rows["reference"].iloc[0] == "baT (A-C-C)"
    bat = all_rows.loc["BAt"]
    assert bat["variant"] == "BsmI-ApaI-TaqI" and bat["haplotype"] == "G-A-T"
    assert bat["estimate_type"] == "beta" and bat["ci_lower"] < -0.04 < bat["ci_upper"]
    assert bat["p_value"] < 1e-6 and np.isnan(bat["wald_p_value"])  # linear: no wald_* values
    assert all_rows.loc["bAT", "p_value"] > 1e-3  # no effect planted on bAT
    assert set(table["stratum"]) == {"all", "sex=female", "sex=male"}
    assert table["covariates"].iloc[0] == "age_years+sex+t2dm"  # as the association engine


def test_planted_odds_ratio_and_frequency_table():
    calls, pheno, pnl, config = cohort_tables(3000, 4, beta=0.5, effect_rflp="bAT", binary=True)
    table = hp.association_table(calls, pheno, pnl, outcome="y", settings=settings_from_config(config))
    bat = table[(table["stratum"] == "all") & (table["term"] == "bAT")].iloc[0]
    assert bat["estimate_type"] == "OR" and bat["ci_lower"] < np.exp(0.5) < bat["ci_upper"]
    # haplotype terms are Wald tests: the wald_* columns repeat them (logistic rows only)
    assert (bat["wald_p_value"], bat["wald_ci_lower"], bat["wald_ci_upper"]) == (
        bat["p_value"],
        bat["ci_lower"],
        bat["ci_upper"],
    )
    assert bat["p_value"] < 1e-4
    freqs = hp.haplotype_frequency_table(calls, pheno, pnl, settings=settings_from_config(config))
    top = freqs[freqs["stratum"] == "all"].iloc[0]
    assert (top["rflp"], top["haplotype"], top["block"]) == ("baT", "A-C-C", "BsmI-ApaI-TaqI")
    for _, part in freqs.groupby("stratum"):
        assert_allclose(part["frequency"].sum(), 1.0, atol=1e-8)
        assert part.iloc[-1]["rflp"] == "rare" and part.iloc[-1]["pooled"]


def test_absent_haplotype_and_nonconvergence_give_reason_rows():
    calls, pheno, pnl, config = cohort_tables(1200, 8)
    # remove every carrier of bAT (A-A-C) among men: the haplotype is absent in sex=male
    wide = calls.pivot(index="sample", columns="variant", values="effect_count")
    bat_carrier = (wide["rs7975232"] > wide["rs731236"]) & (wide["rs7975232"] > wide["rs1544410"])
    men = set(pheno.loc[pheno["sex"] == "male", "sample"])
    drop = {s for s in wide.index[bat_carrier] if s in men}
    everyone = pheno
    pheno = pheno[~pheno["sample"].isin(drop)].reset_index(drop=True)
    table = hp.association_table(calls, pheno, pnl, outcome="y", settings=settings_from_config(config))
    row = table[(table["stratum"] == "sex=male") & (table["term"] == "bAT")].iloc[0]
    assert row["note"] == "absent in this stratum" and np.isnan(row["p_value"])
    assert np.isfinite(table[(table["stratum"] == "all") & (table["term"] == "bAT")]["p_value"]).all()

    # keep one bAT carrier among the men: bAT is rare there; with min_freq 0.0015 it is the only
    # rare haplotype, below haplo.glm's sum.rare.min 0.001, so it is merged into the reference
    ph1 = everyone[~everyone["sample"].isin(drop - {min(drop)})].reset_index(drop=True)
    config["haplotypes"]["min_freq"] = 0.0015
    table = hp.association_table(calls, ph1, pnl, outcome="y", settings=settings_from_config(config))
    male = table[table["stratum"] == "sex=male"].set_index("term")
    assert male.loc["bAT", "note"] == (
        f"rare in this stratum (frequency {male.loc['bAT', 'frequency']:.4g} <= min_freq 0.0015); "
        "merged into the reference (rare haplotypes' pooled frequency <= 0.001)"
    )
    assert "rare" not in male.index
    assert male.loc["global", "note"].startswith("rare haplotypes bAT (pooled frequency 0.000")
    assert male.loc["global", "note"].endswith("<= 0.001) merged into the reference")
    config["haplotypes"]["min_freq"] = 0.01
    table = hp.association_table(calls, ph1, pnl, outcome="y", settings=settings_from_config(config))
    male = table[table["stratum"] == "sex=male"].set_index("term")
    assert male.loc["bAT", "note"].endswith("; pooled with the rare haplotypes in the rare term")
    assert "bAT" in male.loc["rare", "members"].split(",")

    config["haplotypes"]["em_max_iter"] = 1
    table = hp.association_table(calls, pheno, pnl, outcome="y", settings=settings_from_config(config))
    assert (table["model"] == "haplotype_global").all()
    assert table["note"].str.startswith("EM did not converge in 1 iterations").all()
    freqs = hp.haplotype_frequency_table(calls, pheno, pnl, settings=settings_from_config(config))
    assert freqs["note"].str.startswith("EM did not converge").all()


def test_ld_table_and_block_naming(panel):
    calls, pheno, _, config = cohort_tables(400, 3)
    ld = hp.ld_table(calls, pheno, panel.select(BLOCK_IDS), settings=settings_from_config(config))
    assert list(ld.columns) == hp.LD_COLUMNS
    assert len(ld) == 3 * 3  # three pairs x three strata
    assert ld[["variant1", "variant2"]].iloc[0].tolist() == ["rs731236", "rs7975232"]  # genomic order
    block = hp.make_block(panel, ["rs1544410", "rs7975232", "rs731236", "rs2228570"])
    assert block.name == "FokI-BsmI-ApaI-TaqI"
    assert block.rflp([0, 0, 0, 1]) == "FbaT" and block.nucleotides([0, 0, 0, 1]) == "A-C-C-G"
    with pytest.raises(hp.InputError, match="not diploid"):
        hp.make_block(panel, ["rs731236", "m.4823"])
    with pytest.raises(hp.InputError, match="not among the analysed variants"):
        hp.make_block(panel, ["rs731236", "rs11568820"])


def test_block_variant_not_in_the_genotype_files_is_left_out_with_a_note():
    calls, pheno, pnl, config = cohort_tables(600, 3)
    calls.loc[calls["variant"] == "rs7975232", "effect_count"] = np.nan
    unavailable = {"rs7975232": "not in the genotype files"}
    note = "ApaI (rs7975232) left out of the block: not in the genotype files"
    freqs = hp.haplotype_frequency_table(
        calls, pheno, pnl, settings=settings_from_config(config), unavailable=unavailable
    )
    assert set(freqs["block"]) == {"BsmI-TaqI"} and freqs["note"].str.endswith(note).all()
    assert_allclose(freqs[freqs["stratum"] == "all"]["frequency"].sum(), 1.0, atol=1e-8)
    table = hp.association_table(
        calls, pheno, pnl, outcome="y", settings=settings_from_config(config), unavailable=unavailable
    )
    assert set(table["variant"]) == {"BsmI-TaqI"} and table["note"].str.endswith(note).all()
    assert np.isfinite(table.loc[table["term"] == "global", "p_value"]).all()
    ld = hp.ld_table(calls, pheno, pnl, settings=settings_from_config(config), unavailable=unavailable)
    apa = (ld["variant1"] == "rs7975232") | (ld["variant2"] == "rs7975232")
    assert (ld.loc[apa, "note"] == "ApaI (rs7975232): not in the genotype files").all()
    # fewer than two block variants left: one row per stratum with the reason, no crash
    unavailable["rs731236"] = "not in the genotype files"
    freqs = hp.haplotype_frequency_table(
        calls, pheno, pnl, settings=settings_from_config(config), unavailable=unavailable
    )
    table = hp.association_table(
        calls, pheno, pnl, outcome="y", settings=settings_from_config(config), unavailable=unavailable
    )
    for t in (freqs, table):
        assert (
            len(t) == 3 and t["note"].str.endswith("fewer than two block variants left: no haplotypes").all()
        )
    assert (table["model"] == "haplotype_global").all() and table["p_value"].isna().all()


def test_ld_r_agrees_with_scikit_allel_rogers_huff_r(panel):
    """Our two-locus ML r (signed for the effect alleles) against scikit-allel's Rogers & Huff
    (2009) r, the correlation of the unphased effect-allele counts: the two estimators agree
    closely under HWE (a simulated cohort of 3,000), within 0.01 for every pair of the block."""
    import allel

    calls, pheno, pnl, config = cohort_tables(3000, 11)
    ld = hp.ld_table(calls, pheno, pnl, settings=settings_from_config(config))
    ld = ld[ld["stratum"] == "all"]
    wide = calls.pivot(index="variant", columns="sample", values="effect_count")
    gn = wide.loc[:, pheno["sample"]].fillna(-1).to_numpy(dtype=np.int8)  # variants x samples
    order = list(wide.index)
    rh = allel.rogers_huff_r(gn)  # condensed, pairs in order (0,1), (0,2), (1,2)
    pairs = [(order[i], order[j]) for i in range(len(order)) for j in range(i + 1, len(order))]
    ref = {frozenset(p): r for p, r in zip(pairs, rh, strict=True)}
    assert len(ld) == 3
    for row in ld.itertuples():
        assert abs(row.r - ref[frozenset((row.variant1, row.variant2))]) < 0.01, row
    assert (ld["r"].abs() > 0.3).all()  # a real LD block, not three independent SNPs


def test_degenerate_covariates_dropped_in_the_haplotype_regression():
    """bmi constant among women and age_months = 12 age_years: the women's rows equal a fit
    without them, say what was dropped and list it once per stratum in attrs."""
    calls, pheno, pnl, config = cohort_tables(1200, 9)
    rng = np.random.default_rng(9)
    pheno = pheno.assign(
        bmi=np.where(pheno["sex"] == "female", 27.0, rng.normal(27, 4, len(pheno))),
        age_months=12 * pheno["age_years"],
    )
    degenerate = dict(config, covariates=["age_years", "bmi", "age_months"])
    table = hp.association_table(calls, pheno, pnl, outcome="y", settings=settings_from_config(degenerate))
    plain = hp.association_table(calls, pheno, pnl, outcome="y", settings=settings_from_config(dict(config)))
    women = table[table["stratum"] == "sex=female"].set_index("term")
    assert (women["covariates"] == "age_years+t2dm").all()
    assert (
        women["note"] == "covariate dropped: bmi (constant in this stratum); "
        "covariate dropped: age_months (collinear with age_years)"
    ).all()
    ref = plain[plain["stratum"] == "sex=female"].set_index("term")
    assert_allclose(women["estimate"], ref.loc[women.index, "estimate"], rtol=1e-8)
    assert_allclose(women["p_value"], ref.loc[women.index, "p_value"], rtol=1e-8)
    men = table[table["stratum"] == "sex=male"]
    assert (men["covariates"] == "age_years+bmi+t2dm").all() and men["p_value"].notna().any()
    design = table.attrs["covariate_design"]
    assert sorted(zip(design["stratum"], design["covariate"], strict=True)) == [
        ("all", "age_months"),
        ("sex=female", "age_months"),
        ("sex=female", "bmi"),
        ("sex=male", "age_months"),
    ]
    assert set(design["variants"]) == {"BsmI-ApaI-TaqI"}
