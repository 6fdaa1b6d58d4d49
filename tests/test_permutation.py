"""Permutation p-values (vdrbone.permutation) against PLINK 1.9 --assoc --mperm 10000 (max(T):
EMP1, EMP2) and adaptive --perm (EMP1), within Monte Carlo error, and reproducibility."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vdrbone.panel import read_panel
from vdrbone.permutation import (
    PERMUTATION_COLUMNS,
    Adaptive,
    permutation_cells,
    permutation_outcome,
    permutation_pvalues,
)
from vdrbone.settings import settings_from_config
from vdrbone.tables import write_tsv

REPO = Path(__file__).resolve().parents[1]
ASSOC = REPO / "tests" / "fixtures" / "association"
FIX = REPO / "tests" / "fixtures" / "permutation"
VARIANTS = ["rs731236", "rs7975232", "rs1544410", "rs2228570", "m.4823"]
N_PERM = 10_000


@pytest.fixture(scope="module")
def cohort():
    calls = pd.read_csv(ASSOC / "calls.tsv", sep="\t")
    pheno = pd.read_csv(ASSOC / "phenotypes.tsv", sep="\t")
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(VARIANTS)
    G = (
        calls.pivot(index="sample", columns="variant", values="effect_count")
        .reindex(index=pheno["sample"], columns=VARIANTS)
        .to_numpy(float)
    )
    return calls, pheno, panel, G


def _mc_tolerance(p, n1, n2):
    """4 binomial SEs of the difference of two independent estimates of p, plus one step of each."""
    p = np.clip(p, 0, 1)
    return 4 * np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2)) + 1 / (n1 + 1) + 1 / (n2 + 1)


@pytest.fixture(scope="module")
def ours(cohort):
    _, pheno, panel, G = cohort
    cells, _ = permutation_cells(pheno, ["t2dm_sex"])  # T2DM x sex cells, as PLINK --within
    out = {}
    for outcome, binary in (("fracture", True), ("bmd_ls", False)):
        out[outcome] = permutation_pvalues(
            pheno[outcome].to_numpy(float),
            G,
            ploidy=[v.ploidy for v in panel],
            strata=[np.ones(len(pheno), dtype=bool)],
            cells=cells,
            binary=binary,
            n_perm=N_PERM,
            seed=2026,
            adaptive=Adaptive(max=20_000),
        )
    return out


@pytest.mark.parametrize("outcome", ["fracture", "bmd_ls"])
def test_observed_statistics_match_plink_assoc(ours, outcome):
    if outcome == "fracture":
        plink = pd.read_csv(FIX / "plink_fracture.assoc.tsv", sep="\t")
        want = plink["CHISQ"].to_numpy(float)
    else:
        plink = pd.read_csv(FIX / "plink_bmd_ls.qassoc.tsv", sep="\t")
        want = plink["T"].to_numpy(float) ** 2
    assert list(plink["SNP"]) == VARIANTS
    np.testing.assert_allclose(ours[outcome]["statistic"], want, rtol=1e-3)  # PLINK prints 4 digits


@pytest.mark.parametrize("outcome", ["fracture", "bmd_ls"])
def test_max_t_emp1_emp2_agree_with_plink_mperm(ours, outcome):
    """PLINK 1.9 --mperm 10000 --within (T2DM x sex cells) vs ours at 10,000: within Monte Carlo error."""
    plink = pd.read_csv(FIX / f"plink_{outcome}.mperm.tsv", sep="\t").set_index("SNP").loc[VARIANTS]
    for col, key in (("EMP1", "emp1"), ("EMP2", "emp2")):
        got, want = ours[outcome][key], plink[col].to_numpy(float)
        tol = _mc_tolerance((got + want) / 2, N_PERM, N_PERM)
        assert (np.abs(got - want) <= tol).all(), (col, got, want, tol)
    # EMP2 (family-wise) is never below EMP1
    assert (ours[outcome]["emp2"] >= ours[outcome]["emp1"] - 1e-12).all()


@pytest.mark.parametrize("outcome", ["fracture", "bmd_ls"])
def test_adaptive_emp1_agrees_with_plink_perm(ours, outcome):
    plink = pd.read_csv(FIX / f"plink_{outcome}.perm.tsv", sep="\t").set_index("SNP").loc[VARIANTS]
    got, n_got = ours[outcome]["emp1_adaptive"], ours[outcome]["n_perm_adaptive"]
    want, n_want = plink["EMP1"].to_numpy(float), plink["NP"].to_numpy(float)
    tol = _mc_tolerance((got + want) / 2, n_got, n_want)
    assert (np.abs(got - want) <= tol).all(), (got, want, tol)
    # the same tests stop early (weak) or run to the maximum (PLINK's maximum is 1,000,000)
    assert ((n_got == 20_000) == (n_want == 1_000_000)).all()
    assert (n_got[n_got < 20_000] < 1000).all()


def test_rerun_with_the_same_seed_is_byte_identical(cohort, tmp_path):
    calls, pheno, panel, _ = cohort
    cfg = {
        "outcomes": {"fracture": {"type": "binary"}, "bmd_ls": {"type": "continuous"}},
        "strata": ["all", "t2dm", "sex", "t2dm_sex"],
        "association": {"min_stratum_n": 30},
        "qc": {"action": "flag"},
        "permutation": {"n": 400, "seed": 7, "adaptive": True, "adaptive_max": 400},
    }

    def run(name, seed):
        cfg["permutation"]["seed"] = seed
        parts = [
            permutation_outcome(
                calls, pheno, panel, outcome=o, outcome_index=k, settings=settings_from_config(cfg)
            )
            for k, o in enumerate(cfg["outcomes"])
        ]
        write_tsv(pd.concat(parts), tmp_path / name)
        return (tmp_path / name).read_bytes()

    first, again, other = run("a.tsv", 7), run("b.tsv", 7), run("c.tsv", 8)
    assert first == again and first != other
    t = pd.read_csv(tmp_path / "a.tsv", sep="\t")
    assert list(t.columns) == PERMUTATION_COLUMNS
    assert (t["seed"] == 7).all() and set(t["n_perm"].dropna()) <= {0, 400}
    assert set(t["cells"]) == {"t2dm x sex"} and set(t["test"]) == {"allelic", "linear_t2"}
    # every estimable variant x stratum test of an outcome is in its max(T) family
    for _, part in t.groupby("outcome"):
        ok = part["statistic"].notna()
        assert (part["family_size"] == ok.sum()).all() and part.loc[~ok, "note"].notna().all()
        assert part.loc[ok, "emp2"].between(1 / 401 - 1e-12, 1).all()


def test_strata_must_be_unions_of_cells_and_inputs_are_checked(cohort):
    _, pheno, panel, G = cohort
    y = pheno["fracture"].to_numpy(float)
    female = (pheno["sex"] == "female").to_numpy()
    one_cell = np.zeros(len(y), dtype=int)
    with pytest.raises(ValueError, match=r"stratum 0 is not a union of permutation cells: cell 0 is split"):
        permutation_pvalues(y, G, ploidy=[2, 2, 2, 2, 1], strata=[female], cells=one_cell, binary=True,
                            n_perm=10, seed=1)  # fmt: skip
    with pytest.raises(ValueError, match=r"ploidy must be 5 values of 1 or 2"):
        permutation_pvalues(
            y, G, ploidy=[2, 2], strata=[female], cells=one_cell, binary=True, n_perm=10, seed=1
        )
    with pytest.raises(ValueError, match=r"binary y must be 0/1 or NaN"):
        permutation_pvalues(y + 1, G, ploidy=[2, 2, 2, 2, 1], strata=[], cells=one_cell, binary=True,
                            n_perm=10, seed=1)  # fmt: skip


def test_null_emp1_is_uniform():
    """Under H0 the max(T) EMP1 of a test is (discretely) uniform: P(EMP1 <= 0.1) ~ 0.1."""
    rng = np.random.default_rng(11)
    n, reps = 300, 300
    hits = 0
    for r in range(reps):
        G = rng.binomial(2, 0.3, (n, 1)).astype(float)
        y = rng.binomial(1, 0.4, n).astype(float)
        res = permutation_pvalues(y, G, ploidy=[2], strata=[np.ones(n, bool)], cells=np.zeros(n, int),
                                  binary=True, n_perm=99, seed=r)  # fmt: skip
        hits += res["emp1"][0] <= 0.1
    assert abs(hits / reps - 0.1) < 4 * np.sqrt(0.1 * 0.9 / reps)


def test_methods_and_config_defaults():
    from test_configuration import SCHEMA, default_config

    from vdrbone.methods import methods_sections
    from vdrbone.settings import validate_config

    cfg = validate_config(default_config(), SCHEMA)
    assert cfg["permutation"] == {"n": 1000, "seed": 20261130, "adaptive": False, "adaptive_max": 100000}
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(cfg["variants"])
    text = {
        p["title"]: p["text"] for p in methods_sections(settings_from_config(cfg), panel=panel, versions={})
    }["Permutation"]
    assert "within the T2DM x sex cells" in text and "1000 max(T) permutations per outcome" in text
    assert "seed 20261130" in text and "adaptive" not in text
    cfg["permutation"].update(n=0, adaptive=False)
    assert "Permutation" not in {
        p["title"] for p in methods_sections(settings_from_config(cfg), panel=panel, versions={})
    }


def test_permuted_blocks_are_the_documented_draws():
    """Each cell's block of permuted outcomes is ``y[rng.permuted(tile(arange), axis=1)]`` (the
    formulation the seeds of earlier runs were drawn with): same rows, same generator state
    after, for cells of several sizes (one person, none with the outcome observed)."""
    from vdrbone.permutation import _Cells

    rng = np.random.default_rng(3)
    n = 2_000
    y = rng.normal(size=n)
    y[rng.random(n) < 0.1] = np.nan
    codes = rng.integers(0, 4, n)
    codes[0], y[0] = 7, 0.5  # a cell of one person
    G = rng.integers(0, 3, (n, 2)).astype(float)
    cells = _Cells(y, G, [2, 2], [np.ones(n, dtype=bool)], codes)
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    for n_block in (1, 5, 200):
        got = cells.permuted(n_block, a)
        want = [c[b.permuted(np.tile(np.arange(c.size), (n_block, 1)), axis=1)] for c in cells.y]
        assert len(got) == len(want) >= 4
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
            assert g.shape == (n_block, w.shape[1])
    assert a.random() == b.random()
