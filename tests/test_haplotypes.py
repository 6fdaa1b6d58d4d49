"""LD, EM haplotype frequencies and haplotype association against R (genetics, haplo.stats),
simulated truth, planted effects and reason rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from numpy.testing import assert_allclose
from scipy import stats

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


@pytest.mark.parametrize("family", ["gaussian", "binomial"])
def test_regression_estimates_do_not_depend_on_where_the_em_glm_starts(cohort, family):
    """The EM-GLM stops only once the coefficients and frequencies have settled, not on a
    log-likelihood change alone (at rounding level for large n): started from the converged EM
    or from 2, 4 or 8 EM iterations, the estimates and SEs agree to 1e-9. Stopping on the
    log-likelihood alone left them up to 4e-4 apart (relative) on these 595 samples."""
    G = cohort[LOCI[:3]].to_numpy(float)
    keep = np.isfinite(G).any(axis=1)
    G = G[keep]
    y = cohort["y_cont" if family == "gaussian" else "y_bin"].to_numpy(float)[keep]
    C = cohort[["age", "bmi"]].to_numpy(float)[keep]
    em = hp.haplotype_em(G)
    base = int(np.argmax(em.freqs))
    terms = [[i] for i in range(len(em.freqs)) if i != base and em.freqs[i] > 0.01]
    kind = "continuous" if family == "gaussian" else "binary"
    fit = hp.haplotype_regression(y, C, em, terms=terms, base=base, outcome_type=kind)
    assert fit.converged
    for start in (2, 4, 8):
        early = hp.haplotype_em(G, max_iter=start)
        other = hp.haplotype_regression(y, C, early, terms=terms, base=base, outcome_type=kind)
        assert other.converged
        assert_allclose(other.beta, fit.beta, rtol=1e-9)
        assert_allclose(other.se, fit.se, rtol=1e-9)
        assert_allclose(other.freqs, fit.freqs, rtol=1e-9, atol=1e-12)  # one heads to 0
    # covariates in other units (age x 1e4, BMI / 1e4, plus a calendar year near 2000): the
    # coefficients still settle, and the haplotype estimates do not depend on the units
    year = np.random.default_rng(1).integers(1990, 2010, len(y)).astype(float)
    scaled = hp.haplotype_regression(
        y, np.column_stack([C * [1e4, 1e-4], year]), em, terms=terms, base=base, outcome_type=kind
    )
    with_year = hp.haplotype_regression(
        y, np.column_stack([C, year]), em, terms=terms, base=base, outcome_type=kind
    )
    assert scaled.converged and scaled.n_iter < 50
    assert_allclose(scaled.beta, with_year.beta, rtol=1e-8)


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
    assert all_rows["reference"].iloc[0] == "baT (C-C-A)"
    bat = all_rows.loc["BAt"]
    # nucleotides in the letters' locus order: BsmI T, ApaI A, TaqI G for "BAt"
    assert bat["variant"] == "BsmI-ApaI-TaqI" and bat["haplotype"] == "T-A-G"
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
    assert (top["rflp"], top["haplotype"], top["block"]) == ("baT", "C-C-A", "BsmI-ApaI-TaqI")
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
    assert block.rflp([0, 0, 0, 1]) == "FbaT" and block.nucleotides([0, 0, 0, 1]) == "G-C-C-A"
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


# ------------------------------------------------------------------ Firth fallback (separation)


def firth_cohort_tables(em_tol=1e-10):
    """firth_cohort.tsv (make_firth_inputs.py: haplotype 100 only in controls) as calls/pheno."""
    d = pd.read_csv(FIX / "firth_cohort.tsv", sep="\t")
    pnl = read_panel(REPO / "resources" / "vdr_snps.tsv").select(BLOCK_IDS)
    calls = pd.DataFrame(
        {
            "sample": np.repeat(d["sample"].to_numpy(), 3),
            "variant": BLOCK_IDS * len(d),
            "effect_count": d[["taqi", "apai", "bsmi"]].to_numpy(float).reshape(-1),
        }
    )
    config = {
        "outcomes": {"y": {"type": "binary"}},
        "covariates": ["age_years"],
        "strata": ["all"],
        "association": {"min_stratum_n": 30, "min_cases": 5},
        "haplotypes": {"min_freq": 0.01, "em_tol": em_tol},
    }
    return d, calls, d[["sample", "sex", "t2dm", "y", "age_years"]], pnl, config


def test_separating_haplotype_gets_firth_rows_matching_r():
    """A common haplotype only in controls: Firth on the EM-weighted expanded data (brglm2 with
    prior weights), penalised LRT and profile limits by direct maximisation in R."""
    ref = pd.read_csv(
        FIX / "r_firth_haplo.tsv", sep="\t", dtype={"term": str, "base": str}, skipinitialspace=True
    )
    ref["term"] = ref["term"].str.strip()
    d, calls, pheno, pnl, config = firth_cohort_tables()
    block = hp.make_block(pnl, BLOCK_IDS)
    table = hp.association_table(
        calls, pheno, pnl, outcome="y", settings=settings_from_config(config)
    ).set_index("term")
    assert table.loc["global", "reference"] == f"{block.rflp([0, 0, 0])} ({block.nucleotides([0, 0, 0])})"
    assert table.loc["global", "covariates"] == "age_years+sex+t2dm"
    sep = block.rflp([1, 0, 0])
    note = f"firth-fallback: quasi-complete separation ({sep})"
    assert (table["note"] == note).all()
    for r in ref.itertuples():
        if r.term == "global":
            row = table.loc["global"]
            assert row["method"] == "logistic EM-GLM (haplo.glm, Firth), penalised LRT"
        else:
            row = table.loc[block.rflp([int(c) for c in r.term])]
            assert row["method"] == hp.FIRTH_METHOD
            assert_allclose(np.log(row["estimate"]), r.beta, rtol=1e-6, atol=1e-8)
            assert_allclose(np.log([row["ci_lower"], row["ci_upper"]]), [r.ci_lower, r.ci_upper], rtol=1e-4)
            # Wald values from the Louis information at the Firth estimate, not the penalised test
            b, s = np.log(row["estimate"]), row["standard_error"]
            assert_allclose(row["wald_p_value"], stats.chi2.sf((b / s) ** 2, 1), rtol=1e-10)
            assert_allclose(row["wald_ci_upper"], np.exp(b + 1.959963984540054 * s), rtol=1e-10)
            assert s >= r.se_fisher * (1 - 1e-9)  # phase uncertainty only adds variance
        assert_allclose([row["statistic"], row["p_value"]], [r.statistic, r.p_value], rtol=1e-6)
        assert row["df"] == r.df and row["n"] == r.n
    # the separating haplotype: tiny OR, the Wald test far weaker than the penalised LRT
    row = table.loc[sep]
    assert row["estimate"] < 0.05 and row["p_value"] < 1e-8 < 1e-3 < row["wald_p_value"]


def test_haplotype_firth_weights_and_fit_match_r():
    d, *_ = firth_cohort_tables()
    G = d[["taqi", "apai", "bsmi"]].to_numpy(float)
    y = d["y"].to_numpy(float)
    C = np.column_stack(
        [d["age_years"], (d["sex"] == "male").astype(float), (d["t2dm"] == "yes").astype(float)]
    )
    em = hp.haplotype_em(G, tol=1e-12)
    names = bits_names(em)
    ref = pd.read_csv(
        FIX / "r_firth_haplo.tsv", sep="\t", dtype={"term": str, "base": str}, skipinitialspace=True
    )
    ref = ref[ref["term"].str.strip() != "global"]
    terms = [[names.index(t.strip())] for t in ref["term"]]
    base = names.index(ref["base"].iloc[0].strip())
    # the plain EM-GLM diverges: this is the case the fallback is for
    ml = hp.haplotype_regression(y, C, em, terms=terms, base=base, outcome_type="binary")
    assert not ml.converged or np.abs(ml.beta).max() > hp.MAX_ABS_BETA or np.nanmax(ml.se) > 10
    firth = hp.haplotype_firth(y, C, em, terms=terms, base=base, tol=1e-12)
    assert firth.converged
    assert_allclose(firth.fit.se[-len(terms) :], ref["se_fisher"], rtol=1e-6)
    assert_allclose(firth.p_value, ref["p_value"], rtol=1e-6)
    w = pd.read_csv(FIX / "r_firth_weights.tsv", sep="\t", dtype={"hap1": str, "hap2": str})
    ex = em.expansion
    mine = pd.Series(
        firth.weights,
        index=pd.MultiIndex.from_arrays(
            [d["sample"].to_numpy()[ex.sample], [names[h] for h in ex.h1], [names[h] for h in ex.h2]]
        ),
    )
    assert len(mine) == len(w)
    assert_allclose(
        mine.loc[list(zip(w["sample"], w["hap1"], w["hap2"], strict=True))], w["weight"], atol=1e-7
    )
    assert 0.05 < w["weight"].between(1e-3, 1 - 1e-3).mean()  # phases are uncertain


def test_firth_failure_keeps_the_reason(monkeypatch):
    _, calls, pheno, pnl, config = firth_cohort_tables(em_tol=1e-10)

    def fails(*args, **kwargs):
        nan = np.full(len(kwargs["terms"]), np.nan)
        return hp.HaplotypeFirth(nan, nan, nan, nan, nan, nan, np.nan, np.nan, False, 1)

    monkeypatch.setattr(hp, "haplotype_firth", fails)
    table = hp.association_table(calls, pheno, pnl, outcome="y", settings=settings_from_config(config))
    hap = table[table["model"] == "haplotype"]
    block = hp.make_block(pnl, BLOCK_IDS)
    assert hap.set_index("term").loc[block.rflp([1, 0, 0]), "note"] == (
        "not estimable (separation or singular information); Firth regression did not converge"
    )
    assert (hap["method"] == "logistic EM-GLM (haplo.glm), Wald z").any()


def test_methods_text_names_the_haplotype_firth_fallback():
    import yaml

    from vdrbone.methods import methods_sections

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    pnl = read_panel(REPO / cfg["panel"]).select(cfg["variants"])

    def text(config):
        return {
            p["title"]: p["text"]
            for p in methods_sections(settings_from_config(config), panel=pnl, versions={})
        }["Linkage disequilibrium and haplotypes"]

    assert "joint penalised likelihood-ratio test" in text(cfg)
    assert "weighted by their posterior probabilities" in text(cfg)
    cfg["haplotypes"]["method"] = "expected_counts"  # no Firth fallback there
    assert "Firth" not in text(cfg)
