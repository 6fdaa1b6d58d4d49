"""The PLINK --adjust set (vdrbone.multiple_testing) against R p.adjust and PLINK 1.9 --adjust."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from vdrbone import families
from vdrbone.families import adjust_pvalues
from vdrbone.multiple_testing import ADJUSTED_COLUMNS, adjust, adjust_all

FIX = Path(__file__).resolve().parent / "fixtures" / "multiple_testing"
PLINK_NAMES = {
    "p_bonferroni": "BONF",
    "p_holm": "HOLM",
    "p_sidak_ss": "SIDAK_SS",
    "p_sidak_sd": "SIDAK_SD",
    "q_value": "FDR_BH",
    "q_by": "FDR_BY",
}


@pytest.mark.parametrize("column", list(ADJUSTED_COLUMNS))
def test_against_r_p_adjust(column):
    """Ties, p = 0, p = 1, 2e-300: R p.adjust (Sidak written out) to 1e-12 relative."""
    ref = pd.read_csv(FIX / "r_adjust.tsv", sep="\t")
    got = adjust(ref["p_value"].to_numpy(), ADJUSTED_COLUMNS[column])
    assert_allclose(got, ref[column].to_numpy(), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("column", list(ADJUSTED_COLUMNS))
def test_against_plink_adjust(column):
    """PLINK 1.9 --adjust on the p-values it printed (4 significant digits in and out).

    PLINK prints INF for Sidak when 1 - (1 - p)^m underflows to 0 (p = 6e-43): not compared.
    """
    ref = pd.read_csv(FIX / "plink_adjust.tsv", sep="\t", dtype={PLINK_NAMES[column]: str})
    got = adjust(ref["UNADJ"].to_numpy(float), ADJUSTED_COLUMNS[column])
    want = ref[PLINK_NAMES[column]]
    finite = want != "INF"
    assert finite.sum() >= len(ref) - 1
    # printed to 4 significant digits: input and output each within 5e-4 relative
    assert_allclose(got[finite], want[finite].astype(float), rtol=1.2e-3)
    assert (got[finite] < 1).sum() >= 4


def test_order_and_monotonicity():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=200) ** 3
    out = adjust_all(p)
    order = np.argsort(p)
    for col, values in out.items():
        assert (np.diff(values[order]) >= -1e-15).all(), col
        assert (values >= p - 1e-15).all() and (values <= 1).all(), col
    # Holm <= Bonferroni, Sidak <= Bonferroni / Holm, BH <= BY
    assert (out["p_holm"] <= out["p_bonferroni"]).all()
    assert (out["p_sidak_ss"] <= out["p_bonferroni"]).all() and (out["p_sidak_sd"] <= out["p_holm"]).all()
    assert (out["q_value"] <= out["q_by"]).all()


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match=r"method must be one of .* got 'hommel'"):
        adjust([0.1], "hommel")
    with pytest.raises(ValueError, match=r"p-values must lie in \[0, 1\], got \[1.5\] at \[1\]"):
        adjust([0.1, 1.5], "holm")
    assert adjust([], "holm").size == 0


def test_association_family_gets_every_column():
    t = pd.DataFrame(
        {
            "variant": ["a", "a", "b", "c", "d", "d"],
            "stratum": ["all"] * 6,
            "model": ["additive", "anova", "additive", "additive", "codominant", "codominant"],
            "p_value": [0.01, 0.001, 0.04, np.nan, 0.03, 0.03],
        }
    )
    # no primary stratum: the three tests form one (exploratory) family
    out = adjust_pvalues(t, spec=families.PrimarySpec(strata=("none",)))
    fam = np.array([0.01, 0.04, 0.03])
    for col, method in ADJUSTED_COLUMNS.items():
        want = adjust(fam, method)
        assert_allclose(out[col].to_numpy(), [want[0], np.nan, want[1], np.nan, want[2], want[2]])
    # R: p.adjust(c(0.01, 0.04, 0.03), "holm") = 0.03 0.06 0.06; "BY" = 0.055 0.0733 0.0733
    assert_allclose(out["p_holm"].dropna(), [0.03, 0.06, 0.06, 0.06])
    assert_allclose(out["q_by"].dropna(), [0.055, 0.04 * 11 / 6, 0.04 * 11 / 6, 0.04 * 11 / 6])
