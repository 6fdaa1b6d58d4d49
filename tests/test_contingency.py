"""Tests of vdrbone.contingency against R (make_fixtures.R), PLINK 1.9 (make_plink.sh) and
published counts; fixtures in tests/fixtures/contingency/."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from vdrbone import contingency as ct

FIX = Path(__file__).parent / "fixtures" / "contingency"
RTOL = 1e-6


# ----------------------------------------------------------------------------------------------
# fixture loading
# ----------------------------------------------------------------------------------------------
def _r_results() -> dict:
    r = pd.read_csv(FIX / "r_results.tsv", sep="\t")
    return {(s, t, q): v for s, t, q, v in r.itertuples(index=False)}


R = _r_results()
COUNT_SETS = pd.read_csv(FIX / "count_sets.tsv", sep="\t")
CARRIER_SETS = pd.read_csv(FIX / "carrier_sets.tsv", sep="\t")
STRATA_SETS = pd.read_csv(FIX / "strata_sets.tsv", sep="\t")
TARONE_SETS = pd.read_csv(FIX / "tarone_sets.tsv", sep="\t")  # written by make_fixtures.R


def _counts(row):
    return (
        np.array([row.case_0, row.case_1, row.case_2]),
        np.array([row.control_0, row.control_1, row.control_2]),
    )


def _strata_tables(name: str, sets: pd.DataFrame = STRATA_SETS) -> np.ndarray:
    sub = sets[sets["set"] == name]
    return sub[["case_effect", "case_other", "control_effect", "control_other"]].to_numpy().reshape(-1, 2, 2)


# quantity in r_results.tsv -> TestResult attribute, per test
FIELDS = {
    "allelic": (
        ct.allelic,
        {
            "chisq": "statistic",
            "p": "p_value",
            "or": "estimate",
            "se_log_or": "standard_error",
            "or_l95": "ci_lower",
            "or_u95": "ci_upper",
        },
    ),
    "allelic_fisher": (
        ct.allelic_fisher,
        {
            "p": "p_value",
            "or_cmle_tight": "estimate",
            "ci_exact_lower_tight": "ci_lower",
            "ci_exact_upper_tight": "ci_upper",
        },
    ),
    "genotypic": (ct.genotypic, {"chisq": "statistic", "df": "df", "p": "p_value"}),
    "genotypic_fisher": (ct.genotypic_fisher, {"p": "p_value"}),
    "trend": (ct.trend, {"chisq": "statistic", "p": "p_value"}),
    "dominant_chisq": (
        ct.dominant_chisq,
        {"chisq": "statistic", "p": "p_value", "or": "estimate", "or_l95": "ci_lower", "or_u95": "ci_upper"},
    ),
    "recessive_chisq": (
        ct.recessive_chisq,
        {"chisq": "statistic", "p": "p_value", "or": "estimate", "or_l95": "ci_lower", "or_u95": "ci_upper"},
    ),
}

CASES = [(row.set, test) for row in COUNT_SETS.itertuples() for test in FIELDS]


# ----------------------------------------------------------------------------------------------
# R reference values
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("set_name", "test"), CASES)
def test_count_sets_match_r(set_name, test):
    row = next(COUNT_SETS[COUNT_SETS["set"] == set_name].itertuples())
    func, fields = FIELDS[test]
    res = func(*_counts(row))
    compared = 0
    if test == "allelic_fisher" and res.note == ct.NOTE_ZERO_CELL:
        fields = {"p": "p_value"}  # R's boundary OR/CI are in extra: test_zero_cell_fisher_keeps_r_boundary
    for quantity, attr in fields.items():
        ours = getattr(res, attr)
        ref = R.get((set_name, test, quantity))
        if ref is None:
            # R has no value (undefined) -> ours must be NaN too, and say why
            assert math.isnan(ours), (set_name, test, quantity, ours, res.note)
            assert res.note, (set_name, test)
            continue
        # trend statistics of exactly null tables are 0 in exact arithmetic, ~1e-30 in R
        assert_allclose(ours, ref, rtol=RTOL, atol=1e-25, err_msg=f"{set_name} {test} {quantity}")
        compared += 1
    if (set_name, test, "p") in R:
        assert compared >= 1


def test_fixture_covers_every_defined_test():
    # each count set has an R p-value for each test unless the test is undefined there
    n_p = sum(1 for (s, t, q) in R if q == "p" and t in FIELDS)
    assert n_p >= 110


def test_fisher_ci_agrees_with_r_default_tolerance():
    # fisher.test's own output (uniroot tol ~1.2e-4) agrees to about 4 significant digits
    for row in COUNT_SETS.itertuples():
        if (row.set, "allelic_fisher", "ci_exact_lower") not in R:
            continue
        res = ct.allelic_fisher(*_counts(row))
        if res.note:
            continue
        ref = [R[(row.set, "allelic_fisher", q)] for q in ("or_cmle", "ci_exact_lower", "ci_exact_upper")]
        assert_allclose([res.estimate, res.ci_lower, res.ci_upper], ref, rtol=2e-3, err_msg=row.set)


@pytest.mark.parametrize("set_name", ["case_allele_zero", "tiny"])
def test_zero_cell_fisher_keeps_r_boundary(set_name):
    row = next(COUNT_SETS[COUNT_SETS["set"] == set_name].itertuples())
    res = ct.allelic_fisher(*_counts(row))
    assert math.isnan(res.estimate) and res.note == ct.NOTE_ZERO_CELL
    assert_allclose(res.p_value, R[(set_name, "allelic_fisher", "p")], rtol=RTOL)
    assert res.extra["or_cmle"] == R[(set_name, "allelic_fisher", "or_cmle_tight")] == 0.0
    assert res.extra["ci_exact_lower"] == 0.0
    assert_allclose(
        res.extra["ci_exact_upper"], R[(set_name, "allelic_fisher", "ci_exact_upper_tight")], rtol=RTOL
    )


@pytest.mark.parametrize("set_name", CARRIER_SETS["set"].tolist())
def test_carrier_fisher_matches_r(set_name):
    row = next(CARRIER_SETS[CARRIER_SETS["set"] == set_name].itertuples())
    res = ct.carrier_fisher([row.case_0, row.case_1], [row.control_0, row.control_1])
    assert res.model == "carrier_fisher" and res.term == "carrier"
    assert res.n == row.case_0 + row.case_1 + row.control_0 + row.control_1
    p = R.get((set_name, "carrier_fisher", "p"))
    if p is None:
        assert math.isnan(res.p_value) and res.note == ct.NOTE_MONOMORPHIC
        return
    assert_allclose(res.p_value, p, rtol=RTOL)
    assert_allclose(res.extra["or_cmle"], R[(set_name, "carrier_fisher", "or_cmle_tight")], rtol=RTOL)
    if (set_name, "carrier_fisher", "or") in R:
        got = [res.estimate, res.ci_lower, res.ci_upper]
        ref = [R[(set_name, "carrier_fisher", q)] for q in ("or", "or_l95", "or_u95")]
        assert_allclose(got, ref, rtol=RTOL)
    else:
        assert math.isnan(res.estimate) and res.note == ct.NOTE_ZERO_CELL


@pytest.mark.parametrize("set_name", STRATA_SETS["set"].unique().tolist())
def test_mantel_haenszel_and_breslow_day_match_r(set_name):
    tables = _strata_tables(set_name)
    mh = ct.mantel_haenszel(tables)
    got = [mh.statistic, mh.p_value, mh.estimate, mh.ci_lower, mh.ci_upper]
    ref = [R[(set_name, "mantel_haenszel", q)] for q in ("chisq", "p", "or", "or_l95", "or_u95")]
    assert_allclose(got, ref, rtol=RTOL)
    assert (mh.model, mh.term, mh.df, mh.estimate_type) == ("mantel_haenszel", "alt_vs_ref", 1, "OR")
    informative, _ = ct.informative_strata(tables)
    assert mh.n * 2 == tables[informative].sum() and mh.extra["strata"] == informative.sum()
    _assert_breslow_day_matches_r(tables, set_name)
    if set_name == "with_empty_margin":
        bd = ct.breslow_day(tables)
        assert bd.note == "1 stratum with a zero margin dropped (stratum 2: no effect allele)"
        assert bd.df == 1 and mh.note == bd.note and mh.n == (tables.sum() - 10) // 2


def _assert_breslow_day_matches_r(tables, set_name):
    """Tarone-corrected statistic and p (reported) and the uncorrected ones (extra) against R."""
    bd = ct.breslow_day(tables)
    got = [bd.statistic, bd.df, bd.p_value, bd.extra["statistic_uncorrected"], bd.extra["p_uncorrected"]]
    quantities = ("chisq", "df", "p", "chisq_uncorrected", "p_uncorrected")
    assert_allclose(got, [R[(set_name, "breslow_day", q)] for q in quantities], rtol=RTOL)
    assert bd.method == "Breslow-Day test of OR homogeneity with Tarone's correction, MH common OR"
    return bd


@pytest.mark.parametrize("set_name", TARONE_SETS["set"].unique().tolist())
def test_breslow_day_tarone_on_sparse_random_strata_matches_r(set_name):
    _assert_breslow_day_matches_r(_strata_tables(set_name, TARONE_SETS), set_name)


def test_tarone_fixture_covers_large_corrections():
    """The sparse random sets include ones where Tarone's correction moves BD by more than 10%."""
    changes = [
        1 - R[(s, "breslow_day", "chisq")] / R[(s, "breslow_day", "chisq_uncorrected")]
        for s in TARONE_SETS["set"].unique()
    ]
    assert sum(c > 0.1 for c in changes) >= 5 and max(changes) > 0.5
    # the corrected statistic is never larger (Cauchy-Schwarz) and never negative
    for s in list(TARONE_SETS["set"].unique()) + list(STRATA_SETS["set"].unique()):
        bd = ct.breslow_day(_strata_tables(s, TARONE_SETS if s.startswith("tarone") else STRATA_SETS))
        assert 0 <= bd.statistic <= bd.extra["statistic_uncorrected"] * (1 + 1e-12)


def test_anova_and_kruskal_match_r():
    data = pd.read_csv(FIX / "anova_data.tsv", sep="\t")
    for name, sub in data.groupby("set"):
        y, g = sub["y"].to_numpy(), sub["group"].to_numpy()
        res = ct.anova_by_genotype(y, g)
        got = [res.statistic, res.df, res.extra["df_denominator"], res.p_value]
        ref = [R[(name, "anova", q)] for q in ("F", "df1", "df2", "p")]
        assert_allclose(got, ref, rtol=RTOL, err_msg=name)
        assert res.n == int(np.isfinite(y).sum()) and res.model == "anova"
        kw = ct.kruskal_by_genotype(y, g)
        got = [kw.statistic, kw.df, kw.p_value]
        ref = [R[(name, "kruskal_wallis", q)] for q in ("chisq", "df", "p")]
        assert_allclose(got, ref, rtol=RTOL, err_msg=name)
        assert kw.model == "kruskal_wallis"


def test_anova_drops_missing_genotypes_and_reports_degenerate_cases():
    y = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    g = np.array([0, 0, 1, -1, np.nan, 0])
    res = ct.anova_by_genotype(y, g)
    assert res.n == 3 and math.isnan(res.p_value) and res.note == ct.NOTE_ONE_CLASS
    assert res.extra["dropped_missing"] == 3
    kw = ct.kruskal_by_genotype([1.0, 1.0, 1.0, 1.0], [0, 0, 1, 1])
    assert math.isnan(kw.p_value) and kw.note == "all values tied"


# ----------------------------------------------------------------------------------------------
# PLINK 1.9 reference output (printed to ~4 significant digits)
# ----------------------------------------------------------------------------------------------
def _read_plink(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / name, sep=r"\s+", dtype=str, keep_default_na=False)


def _assert_printed(ours: float, printed: str, what: str):
    """ours, rounded as PLINK prints, equals the printed value (half a unit in the last digit)."""
    if printed == "NA":
        assert math.isnan(ours), f"{what}: ours {ours!r}, PLINK NA"
        return
    mant, _, exp = printed.lower().partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    tol = 0.5 * 10.0 ** (-decimals) * 10.0 ** (int(exp) if exp else 0)
    assert abs(ours - float(printed)) <= tol * 1.0001, f"{what}: ours {ours!r}, PLINK {printed}"


def _plink_counts():
    design = pd.read_csv(FIX / "plink_design.tsv", sep="\t")
    out = {}
    for v, sub in design.groupby("variant", sort=False):
        per = {}
        for r in sub.itertuples():
            per[(r.stratum, r.status)] = np.array([r.n0, r.n1, r.n2])
        case = per[("s1", "case")] + per[("s2", "case")]
        ctrl = per[("s1", "control")] + per[("s2", "control")]
        strata = np.stack(
            [
                np.vstack([ct.allele_counts(per[(s, "case")]), ct.allele_counts(per[(s, "control")])])
                for s in ("s1", "s2")
            ]
        )
        out[v] = (case, ctrl, strata)
    return out


PLINK_COUNTS = _plink_counts()


def test_plink_assoc_chisq_or_ci():
    tab = _read_plink("plink_assoc.assoc")
    assert (tab["A1"] == "G").all()
    for r in tab.itertuples():
        case, ctrl, _ = PLINK_COUNTS[r.SNP]
        res = ct.allelic(case, ctrl)
        for attr, col in [
            ("statistic", "CHISQ"),
            ("p_value", "P"),
            ("estimate", "OR"),
            ("standard_error", "SE"),
            ("ci_lower", "L95"),
            ("ci_upper", "U95"),
        ]:
            _assert_printed(getattr(res, attr), getattr(r, col), f"{r.SNP} {col}")
        eff, oth = ct.allele_counts(case)
        _assert_printed(eff / (eff + oth), r.F_A, f"{r.SNP} F_A")


def test_plink_assoc_fisher():
    tab = _read_plink("plink_assoc_fisher.assoc.fisher")
    for r in tab.itertuples():
        case, ctrl, _ = PLINK_COUNTS[r.SNP]
        res = ct.allelic_fisher(case, ctrl)
        _assert_printed(res.p_value, r.P, f"{r.SNP} fisher P")
        _assert_printed(res.extra["or_sample"], r.OR, f"{r.SNP} fisher OR")


@pytest.mark.parametrize(
    ("file", "chisq"),
    [("plink_model.model", True), ("plink_model_fisher.model", False)],
)
def test_plink_model(file, chisq):
    tab = _read_plink(file)
    funcs = {
        "GENO": ct.genotypic if chisq else ct.genotypic_fisher,
        "TREND": ct.trend,
        "ALLELIC": ct.allelic if chisq else ct.allelic_fisher,
    }
    if chisq:
        funcs.update(DOM=ct.dominant_chisq, REC=ct.recessive_chisq)
    checked = 0
    for r in tab.itertuples():
        if r.TEST not in funcs:
            continue
        case, ctrl, _ = PLINK_COUNTS[r.SNP]
        if r.TEST == "GENO":  # PLINK prints A1A1/A1A2/A2A2 = effect-allele count 2/1/0
            assert r.AFF == "/".join(str(x) for x in case[::-1]), r
        res = funcs[r.TEST](case, ctrl)
        _assert_printed(res.p_value, r.P, f"{r.SNP} {r.TEST} P")
        if chisq:
            _assert_printed(res.statistic, r.CHISQ, f"{r.SNP} {r.TEST} CHISQ")
            assert r.DF == "NA" or int(r.DF) == res.df
        checked += 1
    assert checked >= (24 if chisq else 12)


@pytest.mark.parametrize("file", ["plink_mh.cmh", "plink_bd.cmh"])
def test_plink_mh_and_bd(file):
    tab = _read_plink(file)
    for r in tab.itertuples():
        _, _, strata = PLINK_COUNTS[r.SNP]
        mh = ct.mantel_haenszel(strata)
        for attr, col in [
            ("statistic", "CHISQ"),
            ("p_value", "P"),
            ("estimate", "OR"),
            ("standard_error", "SE"),
            ("ci_lower", "L95"),
            ("ci_upper", "U95"),
        ]:
            _assert_printed(getattr(mh, attr), getattr(r, col), f"{r.SNP} {col}")
        if "CHISQ_BD" in tab.columns:
            # PLINK --bd is the uncorrected Breslow-Day statistic, kept in extra
            bd = ct.breslow_day(strata)
            _assert_printed(bd.extra["statistic_uncorrected"], r.CHISQ_BD, f"{r.SNP} CHISQ_BD")
            _assert_printed(bd.extra["p_uncorrected"], r.P_BD, f"{r.SNP} P_BD")


# ----------------------------------------------------------------------------------------------
# published counts
# ----------------------------------------------------------------------------------------------
def test_south_indian_published_counts():
    si = pd.read_csv(FIX / "south_indian.tsv", sep="\t")
    for name, sub in si.groupby("name"):
        case = sub[sub["group"] == "case"][["n_hom_other", "n_het", "n_hom_effect"]].to_numpy()[0]
        ctrl = sub[sub["group"] == "control"][["n_hom_other", "n_het", "n_hom_effect"]].to_numpy()[0]
        res = ct.genotypic(case, ctrl)
        assert round(res.statistic, 2) == sub["published_genotype_chisq"].iloc[0], name
        assert res.df == 2
        pub_p = sub["published_genotype_p"].iloc[0]
        assert float(f"{res.p_value:.1g}" if pub_p < 1e-3 else f"{res.p_value:.2g}") == pub_p, name
        if name == "TaqI":
            allelic = ct.allelic(case, ctrl)  # effect allele G = t: OR(t vs T)
            assert round(1 / allelic.estimate, 4) == sub["published_allelic_or"].iloc[0]
            assert allelic.estimate < 1
    # the ApaI effect allele A is the capital A, which is more frequent in cases
    apai = si[si["name"] == "ApaI"]
    case = apai[apai["group"] == "case"][["n_hom_other", "n_het", "n_hom_effect"]].to_numpy()[0]
    ctrl = apai[apai["group"] == "control"][["n_hom_other", "n_het", "n_hom_effect"]].to_numpy()[0]
    assert_allclose(ct.allelic(case, ctrl).estimate, (76 * 39) / (18 * 61), rtol=1e-12)


# ----------------------------------------------------------------------------------------------
# the exact 2 x 3 algorithm against brute-force enumeration
# ----------------------------------------------------------------------------------------------
def _fisher_2x3_brute(table) -> float:
    from scipy.special import gammaln

    t = np.asarray(table)
    c = t.sum(axis=0)
    r1 = int(t[0].sum())
    n = int(c.sum())

    def lchoose(a, b):
        return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

    x0, x1 = np.meshgrid(np.arange(c[0] + 1), np.arange(c[1] + 1), indexing="ij")
    x2 = r1 - x0 - x1
    ok = (x2 >= 0) & (x2 <= c[2])
    x0, x1, x2 = x0[ok], x1[ok], x2[ok]
    lp = lchoose(c[0], x0) + lchoose(c[1], x1) + lchoose(c[2], x2) - lchoose(n, r1)
    obs = lchoose(c[0], t[0, 0]) + lchoose(c[1], t[0, 1]) + lchoose(c[2], t[0, 2]) - lchoose(n, r1)
    return float(np.exp(lp[lp <= obs + math.log(1 + 1e-7)]).sum())


def test_fisher_2x3_equals_brute_force_enumeration():
    rng = np.random.default_rng(11)
    tables = [
        [[0, 0, 1], [1, 0, 0]],
        [[5, 0, 5], [0, 10, 0]],
        [[0, 10, 0], [0, 8, 1]],
        [[3, 2, 0], [1, 4, 5]],
        [[50, 30, 20], [20, 30, 50]],
        [[100, 100, 100], [100, 100, 100]],
        [[0, 0, 5], [5, 0, 0]],
        [[7, 0, 0], [0, 3, 4]],
        [[1, 1, 1], [0, 0, 0]],
    ]
    for _ in range(40):
        n = rng.integers(2, 400)
        p = rng.dirichlet([1, 1, 1])
        tables.append(rng.multinomial(n, p, size=2).tolist())
    for t in tables:
        if np.asarray(t).sum(axis=1).min() == 0:
            continue
        p, _ = ct.fisher_exact_2x3(t)
        assert_allclose(p, _fisher_2x3_brute(t), rtol=1e-9, atol=1e-300, err_msg=str(t))


def test_fisher_2x2_equals_scipy_and_is_symmetric():
    from scipy.stats import fisher_exact

    rng = np.random.default_rng(3)
    for _ in range(50):
        t = rng.integers(0, 40, size=(2, 2))
        if t.sum(axis=0).min() == 0 or t.sum(axis=1).min() == 0:
            continue
        assert_allclose(ct.fisher_exact_2x2(t), fisher_exact(t)[1], rtol=1e-9)
        assert_allclose(ct.fisher_exact_2x2(t), ct.fisher_exact_2x2(t.T), rtol=1e-12)


def test_fisher_2x3_fast_and_accurate_at_n_100000():
    # with n = 100,000 the exact p is close to the chi-square p (asymptotics), in the centre
    # and in the tail of the distribution, and each call takes well under a second
    for case, ctrl in [
        ([15000, 25000, 10000], [15200, 25000, 9800]),
        ([15000, 25500, 9500], [16000, 25000, 9000]),
    ]:
        start = time.perf_counter()
        res = ct.genotypic_fisher(np.array(case), np.array(ctrl))
        elapsed = time.perf_counter() - start
        assert elapsed < 1.0, elapsed
        chi = ct.genotypic(case, ctrl)
        assert abs(math.log(res.p_value / chi.p_value)) < 0.01, (res.p_value, chi.p_value)
    assert res.p_value < 1e-10


# ----------------------------------------------------------------------------------------------
# sparse data, vocabulary and validation
# ----------------------------------------------------------------------------------------------
def test_monomorphic_and_empty_groups_never_raise():
    mono = ([10, 0, 0], [20, 0, 0])
    for f in (ct.allelic, ct.allelic_fisher, ct.genotypic, ct.genotypic_fisher, ct.trend):
        res = f(*mono)
        assert math.isnan(res.p_value) and res.note == ct.NOTE_MONOMORPHIC, f.__name__
    for f in (ct.allelic, ct.allelic_fisher, ct.genotypic, ct.genotypic_fisher, ct.trend, ct.dominant_chisq):
        res = f([5, 5, 5], [0, 0, 0])
        assert math.isnan(res.p_value) and res.note == ct.NOTE_NO_CONTROLS, f.__name__
        res = f([0, 0, 0], [5, 5, 5])
        assert math.isnan(res.p_value) and res.note == ct.NOTE_NO_CASES, f.__name__
    res = ct.genotypic([0, 10, 0], [0, 8, 0])
    assert math.isnan(res.p_value) and res.note == ct.NOTE_ONE_CLASS
    res = ct.carrier_fisher([40, 0], [60, 0])
    assert math.isnan(res.p_value) and res.note == ct.NOTE_MONOMORPHIC


def test_zero_cell_reports_chisq_but_not_or():
    res = ct.allelic([10, 0, 0], [5, 4, 1])
    assert res.p_value < 0.01 and math.isnan(res.estimate) and res.note == ct.NOTE_ZERO_CELL
    res = ct.carrier_fisher([100, 0], [98, 2])
    assert 0 < res.p_value <= 1 and math.isnan(res.estimate) and res.note == ct.NOTE_ZERO_CELL


def test_empty_genotype_class_reduces_df():
    res = ct.genotypic([10, 5, 0], [12, 8, 0])
    assert res.df == 1 and "df = 1" in res.note
    assert_allclose(res.statistic, ct.dominant_chisq([10, 5, 0], [12, 8, 0]).statistic, rtol=1e-12)


def test_mantel_haenszel_sparse_strata():
    # a stratum with < 2 alleles is dropped, with a note
    t = np.array([[[10, 20], [15, 15]], [[1, 0], [0, 0]], [[8, 12], [5, 15]]])
    res = ct.mantel_haenszel(t)
    ref = ct.mantel_haenszel(t[[0, 2]])
    assert "dropped" in res.note and res.extra["strata"] == 2
    assert_allclose([res.statistic, res.estimate], [ref.statistic, ref.estimate], rtol=1e-12)
    # zero in every b or c cell: OR not estimable, chi-square still reported
    res = ct.mantel_haenszel(np.array([[[5, 0], [3, 4]], [[6, 2], [0, 9]]]))
    assert math.isnan(res.estimate) and ct.NOTE_ZERO_CELL in res.note and res.p_value < 0.05
    bd = ct.breslow_day(np.array([[[5, 5], [5, 5]]]))
    assert math.isnan(bd.p_value) and bd.note == "fewer than 2 informative strata"


def test_pooled_tests_with_one_informative_stratum_are_not_estimable():
    # mtDNA carrier tables (rows case/control, columns carrier/non-carrier): nobody with T2DM
    # carries the variant, so only the T2DM=no stratum informs an OR; nothing is pooled
    tables = np.array([[[0, 40], [0, 260]], [[6, 134], [9, 991]]])
    labels = ("t2dm=yes", "t2dm=no")
    note = "fewer than 2 informative strata (t2dm=yes: no carriers)"
    mh = ct.mantel_haenszel(tables, ploidy=1, labels=labels)
    bd = ct.breslow_day(tables, ploidy=1, labels=labels)
    alone = ct.mantel_haenszel(tables[1:], ploidy=1, min_strata=1)
    assert np.isfinite([alone.estimate, alone.p_value]).all()  # what the row used to show
    for res in (mh, bd):
        assert res.note == note and res.term == "carrier" and "(carrier x case tables)" in res.method
        values = [res.estimate, res.ci_lower, res.ci_upper, res.standard_error, res.statistic, res.p_value]
        assert np.isnan(values).all()
        assert (res.n, res.n_cases, res.n_controls, res.extra["strata"]) == (1140, 140, 1000, 1)
    ok, gaps = ct.informative_strata(tables, ploidy=1, labels=labels)
    assert ok.tolist() == [False, True] and gaps == ["t2dm=yes: no carriers"]
    # diploid allele tables: a monomorphic stratum (only the other allele) and one without cases
    tables = np.array([[[0, 60], [0, 140]], [[20, 80], [30, 170]], [[0, 0], [12, 8]]])
    labels = ("sex=female", "sex=male", "s3")
    for res in (ct.mantel_haenszel(tables, labels=labels), ct.breslow_day(tables, labels=labels)):
        assert res.note == ("fewer than 2 informative strata (sex=female: no effect allele; s3: no cases)")
        assert np.isnan(res.p_value) and (res.n, res.n_cases, res.n_controls) == (150, 50, 100)
    both = ct.mantel_haenszel(np.array([[[3, 0], [5, 0]], [[0, 0], [0, 0]]]), labels=["a", "b"])
    assert both.note == "fewer than 2 informative strata (a: no other allele; b: no samples)"
    assert both.n == 0


def test_mantel_haenszel_single_stratum_equals_allelic_chisq_times_n_minus_1_over_n():
    case, ctrl = np.array([30, 50, 20]), np.array([45, 40, 15])
    tab = ct.allele_table(case, ctrl)
    mh = ct.mantel_haenszel(tab[None], min_strata=1)
    assert np.isnan(ct.mantel_haenszel(tab[None]).p_value)  # nothing pooled by default
    al = ct.allelic(case, ctrl)
    n = tab.sum()
    assert_allclose(mh.statistic, al.statistic * (n - 1) / n, rtol=1e-12)
    assert_allclose(mh.estimate, al.estimate, rtol=1e-12)


def test_effect_allele_orientation():
    # swapping which allele is the effect allele inverts the OR and keeps the p-value
    case, ctrl = np.array([30, 50, 20]), np.array([45, 40, 15])
    a, b = ct.allelic(case, ctrl), ct.allelic(case[::-1], ctrl[::-1])
    assert_allclose(a.estimate, 1 / b.estimate, rtol=1e-12)
    assert_allclose(a.p_value, b.p_value, rtol=1e-12)
    assert ct.trend(case, ctrl).extra["direction"] == 1
    assert ct.trend(case[::-1], ctrl[::-1]).extra["direction"] == -1
    assert_allclose(ct.allele_table(case, ctrl), [[90, 110], [70, 130]])


def test_vectorised_kernels_match_single_calls():
    rng = np.random.default_rng(5)
    cases = rng.integers(0, 60, size=(200, 3))
    ctrls = rng.integers(0, 60, size=(200, 3))
    stat, df = ct.pearson_chisq(np.stack([cases, ctrls], axis=1))
    tr = ct.trend_chisq(cases, ctrls)
    for i in range(0, 200, 37):
        g = ct.genotypic(cases[i], ctrls[i])
        assert_allclose([stat[i], df[i]], [g.statistic, g.df], rtol=1e-12)
        assert_allclose(tr[i], ct.trend(cases[i], ctrls[i]).statistic, rtol=1e-12)


def test_chisq_calls_are_fast():
    case, ctrl = np.array([30000, 50000, 20000]), np.array([45000, 40000, 15000])
    start = time.perf_counter()
    for _ in range(200):
        for f in (ct.allelic, ct.genotypic, ct.trend):
            f(case, ctrl)
    assert time.perf_counter() - start < 2.0
    start = time.perf_counter()
    tables = np.random.default_rng(1).integers(50, 500, size=(50, 2, 2))
    for _ in range(100):
        ct.mantel_haenszel(tables)
        ct.breslow_day(tables)
    assert time.perf_counter() - start < 2.0


def test_result_rows_use_the_vocabulary():
    case, ctrl = [30, 50, 20], [45, 40, 15]
    got = {
        (r.model, r.term, r.estimate_type)
        for r in (
            ct.allelic(case, ctrl),
            ct.allelic_fisher(case, ctrl),
            ct.genotypic(case, ctrl),
            ct.genotypic_fisher(case, ctrl),
            ct.trend(case, ctrl),
            ct.dominant_chisq(case, ctrl),
            ct.recessive_chisq(case, ctrl),
        )
    }
    assert got == {
        ("allelic", "alt_vs_ref", "OR"),
        ("allelic_fisher", "alt_vs_ref", "OR"),
        ("genotypic", "genotype", ""),
        ("genotypic_fisher", "genotype", ""),
        ("trend", "per_allele", ""),
        ("dominant_chisq", "dominant", "OR"),
        ("recessive_chisq", "recessive", "OR"),
    }
    res = ct.allelic(case, ctrl)
    assert (res.n, res.n_cases, res.n_controls) == (200, 100, 100)
    assert "Woolf" in res.method and "conditional MLE" in ct.allelic_fisher(case, ctrl).method


def test_genotype_table():
    tab = ct.genotype_table([3, 12, 32], [8, 23, 19], labels=["aa", "Aa", "AA"])
    assert list(tab.columns) == [
        "effect_allele_count",
        "genotype",
        "n_cases",
        "n_controls",
        "freq_cases",
        "freq_controls",
    ]
    assert_allclose(tab["freq_cases"], np.array([3, 12, 32]) / 47)
    empty = ct.genotype_table([0, 0], [1, 2])
    assert empty["freq_cases"].isna().all()


@pytest.mark.parametrize(
    ("case", "ctrl"),
    [([1, 2], [1, 2, 3]), ([1, -2, 3], [1, 2, 3]), ([1, 2.5, 3], [1, 2, 3]), ([1, np.nan, 3], [1, 2, 3])],
)
def test_bad_counts_raise_value_error(case, ctrl):
    with pytest.raises(ValueError, match="case_counts"):
        ct.allelic(case, ctrl)


def test_bad_strata_shape_raises():
    with pytest.raises(ValueError, match=r"\(K, 2, 2\)"):
        ct.mantel_haenszel(np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="1-D of equal length"):
        ct.anova_by_genotype([1.0, 2.0], [0])


def test_midranks_equal_scipy_rankdata():
    """Kruskal-Wallis ranks from one stable sort: the mid-ranks of scipy.stats.rankdata and the tie
    counts of np.unique, exactly."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(11)
    for x in (
        rng.normal(size=500),
        np.round(rng.normal(size=5000), 1),
        np.array([2.0, 2.0, 2.0]),
        np.array([1.0]),
        np.array([]),
    ):
        ranks, ties = ct.midranks(x)
        assert np.array_equal(ranks, rankdata(x))
        assert np.array_equal(ties, np.unique(x, return_counts=True)[1])


def test_genotype_levels_by_counting_equal_np_unique():
    rng = np.random.default_rng(5)
    cases = (rng.integers(0, 3, 999).astype(float), np.array([2.0, 2.0]), np.array([]), np.array([0.5, 1.0]),
             np.array([1e6, 3.0]), rng.integers(1, 3, 50).astype(float))  # fmt: skip
    for g in cases:
        levels, codes = ct._levels_and_codes(g)
        ref_levels, ref_codes = np.unique(g, return_inverse=True)
        assert np.array_equal(levels, ref_levels) and levels.dtype == ref_levels.dtype
        assert np.array_equal(codes, ref_codes)
