"""Tests of vdrbone.simulate: the written VCFs are read back through htslib (indexed region queries)
and the phenotype file through pandas, and checked against the population table and the planted
effects."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
import statsmodels.api as sm
import yaml
from cyvcf2 import VCF

from vdrbone import simulate
from vdrbone.errors import InputError
from vdrbone.panel import read_panel

REPO = Path(__file__).resolve().parents[1]
N = 4000
SEED = 777
EFFECTS = [
    {"variant": "rs731236", "outcome": "bmd_ls", "beta": -0.05},
    {"variant": "rs731236", "outcome": "bmd_fn", "beta": -0.05, "t2dm": "yes"},
    {"variant": "rs2228570", "outcome": "fracture", "beta": 0.35, "sex": "female"},
]


@pytest.fixture(scope="module")
def panel():
    return read_panel(REPO / "resources" / "vdr_snps.tsv")


@pytest.fixture(scope="module")
def base_config():
    with open(REPO / "config" / "config.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    config["panel"] = str(REPO / "resources" / "vdr_snps.tsv")
    return config


def make_config(base, **simulate_overrides):
    config = copy.deepcopy(base)
    config["simulate"].update(simulate_overrides)
    return config


@pytest.fixture(scope="module")
def cohort_dir(base_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("cohort")
    config = make_config(
        base_config,
        n_samples=N,
        seed=SEED,
        effects=EFFECTS,
        heteroplasmy_rate=0.02,
        mt_carrier_freq=0.02,
    )
    paths = simulate.write_from_config(config, out)
    return out, paths, config


@pytest.fixture(scope="module")
def null_dir(base_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("null")
    config = make_config(base_config, n_samples=N, seed=SEED, effects=EFFECTS, null_mode=True)
    simulate.write_from_config(config, out)
    return out


def alt_counts(path, region):
    """ALT-allele counts (NaN for missing) of the single record in ``region``, via the tabix index."""
    records = list(VCF(str(path), gts012=True)(region))
    assert len(records) == 1, f"{region}: expected one record, got {len(records)}"
    v = records[0]
    g = v.gt_types.astype(float)
    g[g == 3] = np.nan
    return v, g


def effect_counts(path, variant, build="GRCh38", contig="chr12"):
    pos = variant.pos(build)
    v, g = alt_counts(path, f"{contig}:{pos}-{pos}")
    assert v.ID == variant.id and v.REF == variant.ref and v.ALT == [variant.alt]
    return g if variant.effect_allele == variant.alt else 2 - g


def read_phenotypes(path):
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def numeric(ph, column, codes=None):
    s = ph[column].replace("NA", np.nan)
    if codes:
        return s.map(codes).astype(float)
    return s.astype(float)


def ols(y, x, covariates):
    """OLS of y on x plus covariates on complete cases; returns (estimate, SE, p) of x."""
    design = np.column_stack([x, *covariates])
    ok = np.isfinite(y) & np.all(np.isfinite(design), axis=1)
    fit = sm.OLS(y[ok], sm.add_constant(design[ok])).fit()
    return fit.params[1], fit.bse[1], fit.pvalues[1]


def covariate_columns(ph):
    return [
        numeric(ph, "gender", {"F": 1, "M": 0}).to_numpy(),
        numeric(ph, "age_years").to_numpy(),
        numeric(ph, "bmi").to_numpy(),
        numeric(ph, "diabetes", {"yes": 1, "no": 0}).to_numpy(),
    ]


# ----------------------------------------------------------------------------------------------
def test_effect_allele_frequencies_match_population_table(cohort_dir, panel):
    out, _, config = cohort_dir
    table = simulate.read_populations(simulate.DEFAULT_POPULATIONS)
    model = simulate.population_model(table, panel, population="EUR", mt_carrier_freq=0.02)
    truth = pd.read_csv(out / "truth.tsv", sep="\t")
    freq_rows = truth[truth["kind"] == "frequency"].set_index("variant")
    for v in panel:
        if v.is_mt:
            continue
        g = effect_counts(out / "chr12.vcf.gz", v)
        called = g[np.isfinite(g)]
        eaf = called.sum() / (2 * len(called))
        p = model.effect_allele_frequency(v.id)
        se = np.sqrt(p * (1 - p) / (2 * len(called)))
        assert abs(eaf - p) < 4 * se, (v.id, eaf, p, se)
        # truth.tsv reports exactly what a correct reader of the VCF recovers
        assert freq_rows.at[v.id, "n_called"] == len(called)
        np.testing.assert_allclose(freq_rows.at[v.id, "frequency"], eaf, atol=1e-6)
    # the table's EUR values are the literature's: baT/BAt/bAT and FokI F
    assert model.effect_allele_frequency("rs731236") == pytest.approx(0.413)
    assert model.effect_allele_frequency("rs1544410") == pytest.approx(0.419)
    assert model.effect_allele_frequency("rs2228570") == pytest.approx(0.62)


def test_mt_carrier_frequency_and_heteroplasmy(cohort_dir, panel):
    out, _, _ = cohort_dir
    truth = pd.read_csv(out / "truth.tsv", sep="\t").query("kind == 'frequency'").set_index("variant")
    n_het = 0
    with pysam.VariantFile(str(out / "chrM.vcf.gz")) as vf:
        assert vf.header.contigs["chrM"].length == 16569
        for v in (panel["m.4823"], panel["m.15885"]):
            (rec,) = list(vf.fetch("chrM", v.pos("GRCh38") - 1, v.pos("GRCh38")))
            assert rec.id == v.id and rec.ref == v.ref and rec.alts == (v.alt,)
            carriers, called = 0, 0
            for call in rec.samples.values():
                gt, af = call["GT"], call["AF"]
                if gt == (None,):
                    continue
                if gt == (0, 1):  # heteroplasmic: FORMAT AF = ALT fraction, carrier when >= 0.9
                    n_het += 1
                    assert af is not None and (
                        0.1 - 1e-6 <= af[0] <= 0.85 + 1e-6 or 0.91 - 1e-6 <= af[0] <= 0.99 + 1e-6
                    ), af
                    if af[0] < 0.9:
                        continue  # low-level heteroplasmy: not a call
                    carriers += 1
                else:
                    assert len(gt) == 1 and gt[0] in (0, 1)  # haploid mutserve style
                    assert af is None or af == (None,)
                    carriers += gt[0] == 1
                called += 1
            se = np.sqrt(0.02 * 0.98 / called)
            assert abs(carriers / called - 0.02) < 4 * se, (v.id, carriers, called)
            assert truth.at[v.id, "n_called"] == called
            np.testing.assert_allclose(truth.at[v.id, "frequency"], carriers / called, atol=1e-6)
    # 2% of calls heteroplasmic: about 160 over two records
    assert 100 < n_het < 230


def test_r2_taqi_bsmi_matches_haplotype_table(cohort_dir, panel):
    out, _, _ = cohort_dir
    taq = effect_counts(out / "chr12.vcf.gz", panel["rs731236"])
    bsm = effect_counts(out / "chr12.vcf.gz", panel["rs1544410"])
    fok = effect_counts(out / "chr12.vcf.gz", panel["rs2228570"])
    ok = np.isfinite(taq) & np.isfinite(bsm)
    r2 = np.corrcoef(taq[ok], bsm[ok])[0, 1] ** 2
    # Expected r2 straight from the table (written out independently of the simulator):
    # TaqI t = G, BsmI B = T; haplotypes (TaqI-ApaI-BsmI) G-A-T 0.40, A-A-T 0.012, G-A-C 0.008,
    # A-C-T 0.005, G-C-C 0.003, G-C-T 0.002.
    pt = 0.40 + 0.008 + 0.003 + 0.002
    pb = 0.40 + 0.012 + 0.005 + 0.002
    ptb = 0.40 + 0.002
    expected = (ptb - pt * pb) ** 2 / (pt * (1 - pt) * pb * (1 - pb))
    model = simulate.population_model(
        simulate.read_populations(simulate.DEFAULT_POPULATIONS), panel, population="EUR"
    )
    np.testing.assert_allclose(model.r2("rs731236", "rs1544410"), expected, rtol=1e-12)
    assert 0.85 < expected < 0.93  # the literature's ~0.9
    # Sampling SD of the genotype r2 by parametric bootstrap from the table (random mating).
    rng = np.random.default_rng(1)
    haps = np.array([[1, 1], [0, 1], [1, 0], [0, 1], [1, 0], [1, 1], [0, 0]])  # (t, B)
    freqs = np.array([0.40, 0.012, 0.008, 0.005, 0.003, 0.002, 0.57])
    boot = []
    for _ in range(200):
        h = rng.choice(len(freqs), size=(2, ok.sum()), p=freqs)
        g = haps[h[0]] + haps[h[1]]
        boot.append(np.corrcoef(g[:, 0], g[:, 1])[0, 1] ** 2)
    sd = np.std(boot)
    assert abs(np.mean(boot) - expected) < 0.01
    assert abs(r2 - expected) < 4 * sd, (r2, expected, sd)
    # FokI is independent of the block
    ok = np.isfinite(taq) & np.isfinite(fok)
    assert abs(np.corrcoef(taq[ok], fok[ok])[0, 1]) < 4 / np.sqrt(ok.sum())


def test_planted_bmd_effect_recovered_and_absent_in_null(cohort_dir, null_dir, panel):
    out, _, _ = cohort_dir
    for folder, beta in ((out, -0.05), (null_dir, 0.0)):
        ph = read_phenotypes(folder / "phenotypes.tsv")
        taq = effect_counts(folder / "chr12.vcf.gz", panel["rs731236"])
        est, se, p = ols(numeric(ph, "ls_bmd").to_numpy(), taq, covariate_columns(ph))
        assert abs(est - beta) < 4 * se, (folder, est, se)
        if beta:
            assert p < 1e-6
    truth = pd.read_csv(null_dir / "truth.tsv", sep="\t")
    assert (truth["kind"] == "effect").sum() == 0
    assert truth["comment"].str.contains("null mode").all()
    effects = pd.read_csv(out / "truth.tsv", sep="\t").query("kind == 'effect'")
    assert effects[["variant", "outcome", "beta", "group", "scale"]].values.tolist() == [
        ["rs731236", "bmd_ls", -0.05, "all", "g/cm2 per effect allele"],
        ["rs731236", "bmd_fn", -0.05, "t2dm=yes", "g/cm2 per effect allele"],
        ["rs2228570", "fracture", 0.35, "sex=female", "log-odds per effect allele"],
    ]


def test_effects_are_planted_exactly_on_top_of_the_null_cohort(panel):
    kwargs = dict(population="EUR", n_samples=1500, seed=5, effects=EFFECTS, n_background=(5, 2))
    planted = simulate.simulate_cohort(panel, **kwargs)
    null = simulate.simulate_cohort(panel, null=True, **kwargs)
    np.testing.assert_array_equal(planted.genotypes, null.genotypes)
    assert null.effects == () and len(planted.effects) == 3
    taq = planted.genotypes[panel.ids.index("rs731236")]
    a, b = planted.phenotypes, null.phenotypes
    inside = (b["bmd_ls"] - 0.05 * taq > 0.31) & (b["bmd_ls"] < 1.99)
    np.testing.assert_allclose((a["bmd_ls"] - b["bmd_ls"])[inside], (-0.05 * taq)[inside], atol=0.0011)
    t2dm = b["t2dm"].to_numpy()
    diff_fn = (a["bmd_fn"] - b["bmd_fn"]).to_numpy()
    np.testing.assert_allclose(diff_fn[~t2dm], 0)
    np.testing.assert_allclose(diff_fn[t2dm], -0.05 * taq[t2dm], atol=0.0011)
    np.testing.assert_array_equal(a["bmd_th"], b["bmd_th"])
    for col in ("sex", "age_years", "bmi", "t2dm"):
        np.testing.assert_array_equal(a[col], b[col])


def test_effect_modification_by_t2dm(cohort_dir, panel):
    out, _, _ = cohort_dir
    ph = read_phenotypes(out / "phenotypes.tsv")
    taq = effect_counts(out / "chr12.vcf.gz", panel["rs731236"])
    y = numeric(ph, "fn_bmd").to_numpy()
    sex, age, bmi, t2dm = covariate_columns(ph)
    for stratum, beta in ((1, -0.05), (0, 0.0)):
        keep = t2dm == stratum
        est, se, p = ols(y[keep], taq[keep], [sex[keep], age[keep], bmi[keep]])
        assert abs(est - beta) < 4 * se, (stratum, est, se)
        if beta:
            assert p < 1e-4
        else:
            assert p > 1e-3


def test_determinism(base_config, tmp_path):
    def run(seed, name):
        config = make_config(base_config, n_samples=300, seed=seed, heteroplasmy_rate=0.05)
        paths = simulate.write_from_config(config, tmp_path / name)
        return {k: Path(p).read_bytes() for k, p in paths.items()}

    a, b, c = run(11, "a"), run(11, "b"), run(12, "c")
    assert a.keys() == {"chr12_vcf", "chr12_tbi", "chrM_vcf", "chrM_tbi", "phenotypes", "truth"}
    for key in a:
        assert a[key] == b[key], key
    for key in ("chr12_vcf", "chrM_vcf", "phenotypes"):
        assert a[key] != c[key], key


def test_plain_contigs_grch37_and_diploid_mt(base_config, tmp_path, panel):
    config = make_config(
        base_config,
        n_samples=400,
        build="GRCh37",
        contig_style="plain",
        mt_coding="diploid",
        heteroplasmy_rate=0.05,
        mt_carrier_freq={"m.4823": 0.1},
    )
    paths = simulate.write_from_config(config, tmp_path)
    with pysam.VariantFile(paths["chr12_vcf"]) as vf:
        assert dict(vf.header.contigs.items())["12"].length == 133851895
        assert "##reference=GRCh37" in str(vf.header)
        for v in panel:
            if v.is_mt:
                continue
            recs = list(vf.fetch("12", v.pos("GRCh37") - 1, v.pos("GRCh37")))
            assert [r.id for r in recs] == [v.id]
            assert all(len(s["GT"]) == 2 for s in recs[0].samples.values())
    seen = set()
    with pysam.VariantFile(paths["chrM_vcf"]) as vf:
        assert vf.header.contigs["MT"].length == 16569
        for rec in vf.fetch("MT"):
            for call in rec.samples.values():
                gt = call["GT"]
                assert gt in ((0, 0), (1, 1), (None, None), (0, 1))
                seen.add(gt)
                if gt == (0, 1):
                    assert 0.1 - 1e-6 <= call["AF"][0] <= 0.99 + 1e-6
    assert {(0, 0), (1, 1), (0, 1)} <= seen


def test_vcf_layout_and_background(cohort_dir, panel):
    out, _, config = cohort_dir
    panel_pos = {v.pos("GRCh38") for v in panel}
    for name, contig, n_bg in (("chr12", "chr12", 300), ("chrM", "chrM", 30)):
        with pysam.VariantFile(str(out / f"{name}.vcf.gz")) as vf:
            header = str(vf.header)
            assert header.startswith("##fileformat=VCFv4.2\n") and "##reference=GRCh38" in header
            assert list(vf.header.contigs) == [contig]
            length = vf.header.contigs[contig].length
            assert list(vf.header.samples)[:2] == ["SIM000001", "SIM000002"]
            recs = list(vf.fetch(contig))
        pos = [r.pos for r in recs]
        assert pos == sorted(pos) and len(set(pos)) == len(pos)
        background = [r for r in recs if "PANEL" not in r.info]
        assert len(background) == n_bg
        assert not {r.pos for r in background} & panel_pos
        if name == "chr12":
            assert length == 133275309
            assert sum(r.id is None for r in background) > 0  # some IDs '.'
            assert sum(r.id is not None and r.id.startswith("rs") for r in background) > n_bg / 2
            lo = min(v.pos("GRCh38") for v in panel if v.chrom == "12") - 1_000_000
            hi = max(v.pos("GRCh38") for v in panel if v.chrom == "12") + 1_000_000
            assert lo <= min(pos) and max(pos) <= hi
    # genotype missingness at the configured 1%: check on the TaqI record
    g = effect_counts(out / "chr12.vcf.gz", panel["rs731236"])
    rate = np.isnan(g).mean()
    assert abs(rate - 0.01) < 4 * np.sqrt(0.01 * 0.99 / N)


def test_phenotype_file(cohort_dir):
    out, _, config = cohort_dir
    ph = read_phenotypes(out / "phenotypes.tsv")
    assert list(ph.columns) == [
        "participant", "gender", "age_years", "bmi", "diabetes", "ls_bmd", "fn_bmd", "th_bmd", "any_fracture",
        "followup_years", "incident_fracture", "vitd_25oh", "vitd_supplement",
    ]  # fmt: skip
    assert ph["participant"].iloc[0] == "SIM000001" and ph["participant"].is_unique
    assert set(ph["gender"]) == {"F", "M", "NA"}
    assert set(ph["diabetes"]) == {"yes", "no", "NA"}
    assert set(ph["any_fracture"]) == {"1", "0", "NA"}
    values = ph.drop(columns="participant")
    rate = (values == "NA").to_numpy().mean()
    assert abs(rate - 0.02) < 4 * np.sqrt(0.02 * 0.98 / values.size)
    age, bmi = numeric(ph, "age_years"), numeric(ph, "bmi")
    assert age.min() >= 45 and age.max() <= 85 and (age.dropna() % 1 == 0).all()
    assert 16 <= bmi.min() and bmi.max() <= 50 and abs(bmi.mean() - 28) < 0.5
    female = numeric(ph, "gender", {"F": 1, "M": 0})
    assert abs(female.mean() - 0.5) < 0.05
    t2dm = numeric(ph, "diabetes", {"yes": 1, "no": 0})
    assert 0.2 < t2dm.mean() < 0.3
    fracture = numeric(ph, "any_fracture")
    assert 0.09 < fracture.mean() < 0.17
    bmd = pd.DataFrame({c: numeric(ph, c) for c in ("ls_bmd", "fn_bmd", "th_bmd")})
    assert bmd.min().min() >= 0.3 and bmd.max().max() <= 2.0
    np.testing.assert_allclose(bmd.mean(), [1.0, 0.8, 0.9], atol=0.04)
    np.testing.assert_allclose(bmd.std(), [0.15, 0.12, 0.13], atol=0.02)
    corr = bmd.corr().to_numpy()[np.triu_indices(3, 1)]
    assert ((corr > 0.6) & (corr < 0.85)).all(), corr
    by_sex = bmd.groupby(female).mean()
    assert (by_sex.loc[0.0] > by_sex.loc[1.0]).all()  # men higher
    assert fracture[t2dm == 1].mean() > fracture[t2dm == 0].mean()  # T2DM: more fractures


def test_invalid_effects_raise_input_error(panel, base_config, tmp_path):
    with pytest.raises(InputError, match=r"simulate\.effects\[1\]\.variant: 'rs999'"):
        simulate.parse_effects([EFFECTS[0], {"variant": "rs999", "outcome": "bmd_ls", "beta": 0.1}], panel)
    with pytest.raises(InputError, match=r"simulate\.effects\[0\]\.outcome: 'vitd'"):
        simulate.parse_effects([{"variant": "rs731236", "outcome": "vitd", "beta": 0.1}], panel)
    with pytest.raises(InputError, match=r"simulate\.effects\[0\]\.t2dm"):
        simulate.parse_effects(
            [{"variant": "rs731236", "outcome": "bmd_ls", "beta": 0.1, "t2dm": "maybe"}], panel
        )
    # YAML 1.1 reads unquoted yes as True
    (e,) = simulate.parse_effects(
        [{"variant": "rs731236", "outcome": "bmd_ls", "beta": 0.1, "t2dm": True}], panel
    )
    assert e.group == "t2dm=yes"
    config = make_config(
        base_config, n_samples=50, effects=[{"variant": "rs999", "outcome": "bmd_ls", "beta": 1}]
    )
    with pytest.raises(InputError, match="rs999"):
        simulate.write_from_config(config, tmp_path)
    with pytest.raises(InputError, match="population 'XYZ'"):
        simulate.write_from_config(make_config(base_config, n_samples=50, population="XYZ"), tmp_path)


def test_cli(base_config, tmp_path, monkeypatch):
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(base_config))
    monkeypatch.chdir(REPO)
    rc = simulate.main(
        ["--config", str(config_path), "--outdir", str(tmp_path / "out"), "--n-samples", "200", "--seed", "3",
         "--null", "--contig-style", "plain", "--population", "EAS"]
    )  # fmt: skip
    assert rc == 0
    truth = pd.read_csv(tmp_path / "out" / "truth.tsv", sep="\t")
    assert (truth["kind"] == "effect").sum() == 0
    assert truth["comment"].str.contains("population EAS").all()
    with pysam.VariantFile(str(tmp_path / "out" / "chr12.vcf.gz")) as vf:
        assert list(vf.header.contigs) == ["12"] and len(vf.header.samples) == 200
    assert (
        simulate.main(["--config", str(config_path), "--outdir", str(tmp_path / "x"), "--population", "XYZ"])
        == 2
    )


def test_simulate_calls_heteroplasmy_levels():
    rng = np.random.default_rng(3)
    alt = np.vstack([rng.integers(0, 3, 5000), rng.integers(0, 2, 5000)]).astype(np.int8)
    missing, het_af = simulate.simulate_calls(
        alt, np.array([False, True]), missing_rate=0.1, heteroplasmy_rate=0.5, rng=rng
    )
    assert np.isnan(het_af[0]).all()  # diploid rows are never heteroplasmic
    het = ~np.isnan(het_af[1])
    assert not (het & missing[1]).any()
    assert abs(het.sum() / (~missing[1]).sum() - 0.5) < 4 * np.sqrt(0.25 / (~missing[1]).sum())
    carrier_af, other_af = het_af[1][het & (alt[1] == 1)], het_af[1][het & (alt[1] == 0)]
    assert carrier_af.min() >= 0.91 - 1e-6 and carrier_af.max() <= 0.99 + 1e-6  # float32
    assert other_af.min() >= 0.10 - 1e-6 and other_af.max() <= 0.85 + 1e-6
    assert abs(missing.mean() - 0.1) < 4 * np.sqrt(0.09 / missing.size)


def test_planted_hazard_ratio_recovered_with_censoring(panel):
    """fracture_tte: the planted log HR per allele is recovered by the Cox model (within 3 SE) on
    the true covariates, events are a minority and follow-up is censored at 3-12 years."""
    from vdrbone.survival import fit_cox

    cohort = simulate.simulate_cohort(
        panel,
        n_samples=6000,
        seed=5,
        effects=[{"variant": "rs1544410", "outcome": "fracture_tte", "beta": 0.4}],
    )
    ph = cohort.phenotypes
    g = cohort.genotypes[panel.ids.index("rs1544410")]
    X = np.column_stack([g, ph["bmd_fn"], ph["age_years"], ph["sex"] == "female", ph["t2dm"]]).astype(float)
    fit = fit_cox(ph["followup_years"], ph["fracture_tte"], X)
    assert abs(fit.beta[0] - 0.4) < 3 * fit.se[0]
    assert 0.05 < ph["fracture_tte"].mean() < 0.3
    assert ph["followup_years"].max() <= 12 and ph["followup_years"].min() > 0
    # the older fields are identical with and without the new draws' effects
    null = simulate.simulate_cohort(panel, n_samples=6000, seed=5)
    assert null.phenotypes["bmd_fn"].equals(ph["bmd_fn"]) and null.phenotypes["fracture"].equals(
        ph["fracture"]
    )
