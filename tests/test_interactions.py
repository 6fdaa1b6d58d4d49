"""Tests for vdrbone.interactions (SNP x modifier) against R glm / lm / coxph.

Reference values: tests/fixtures/survival/make_interactions.R (r_interactions.tsv) on cohort.tsv
from make_cohort.py: interaction LRT (glm, coxph) or F test (lm), the product-term coefficients,
and the per-allele effect at the 10th/50th/90th percentiles (continuous modifier) or at each level
(categorical modifier, 3 levels) with Wald SEs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from vdrbone.interactions import modifier_interaction

FIX = Path(__file__).parent / "fixtures" / "survival"
COV = ["age", "bmi", "sex"]
TOL = 1e-6
Y = {"binary": "bin_y", "continuous": "cont_y", "time_to_event": "event"}


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return pd.read_csv(FIX / "cohort.tsv", sep="\t")


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(FIX / "r_interactions.tsv", sep="\t")


@pytest.mark.parametrize("kind", ["binary", "continuous", "time_to_event"])
@pytest.mark.parametrize("modifier", ["vitd", "supp"])
def test_interaction_and_effects_by_level_match_r(cohort, ref, kind, modifier):
    categorical = modifier == "supp"
    rows = modifier_interaction(
        cohort[Y[kind]], cohort["g"], cohort[modifier].to_numpy(object if categorical else float),
        cohort[COV].to_numpy(float), outcome_type=kind, name=modifier,
        modifier_type="categorical" if categorical else "continuous",
        levels=["none", "low", "high"] if categorical else None,
        time=cohort["time"] if kind == "time_to_event" else None, covariate_names=COV,
    )  # fmt: skip
    want = ref[(ref.kind == kind) & (ref.modifier == modifier)].reset_index(drop=True)
    inter = [r for r in rows if r.model == f"interaction_{modifier}"]
    by = [r for r in rows if r.model == f"effect_by_{modifier}"]
    if categorical:
        assert [r.term for r in inter] == ["per_allele_x_supp:low", "per_allele_x_supp:high"]
        assert [r.term for r in by] == ["per_allele_at_none", "per_allele_at_low", "per_allele_at_high"]
    else:
        assert [r.term for r in inter] == ["per_allele_x_vitd"]
        assert [r.term for r in by] == ["per_allele_at_p10", "per_allele_at_p50", "per_allele_at_p90"]
    for r, w in zip(inter + by, want.itertuples(), strict=True):
        b = r.estimate if kind == "continuous" else math.log(r.estimate)
        assert r.estimate_type == {"binary": "OR", "continuous": "beta", "time_to_event": "HR"}[kind]
        assert_allclose(b, w.estimate, rtol=TOL, atol=TOL)
        assert_allclose(r.standard_error, w.se, rtol=TOL, atol=TOL)
        assert_allclose(r.statistic, w.statistic, rtol=TOL, atol=TOL)
        assert_allclose(r.p_value, w.p, rtol=TOL, atol=TOL)
        assert r.df == w.df
        lo = r.ci_lower if kind == "continuous" else math.log(r.ci_lower)
        assert_allclose(lo, w.estimate - 1.959963984540054 * w.se, rtol=TOL, atol=TOL)


def test_effect_by_rows_say_the_modifier_value(cohort):
    rows = modifier_interaction(
        cohort["cont_y"], cohort["g"], cohort["vitd"], np.empty((len(cohort), 0)),
        outcome_type="continuous", name="vitd",
    )  # fmt: skip
    q10 = np.percentile(cohort["vitd"], 10)
    assert rows[1].extra["reference"] == f"vitd={q10:.4g} (10th percentile)"


def test_data_problems_are_rows_with_reasons(cohort):
    d = cohort.copy()
    rows = modifier_interaction(
        d["cont_y"], d["g"], np.full(len(d), 50.0), d[COV].to_numpy(float),
        outcome_type="continuous", name="vitd",
    )  # fmt: skip
    assert {r.note for r in rows} == {"modifier vitd constant in this stratum"} and len(rows) == 4
    rows = modifier_interaction(
        d["bin_y"], d["g"], np.where(d["supp"] == "high", "low", d["supp"]).astype(object),
        d[COV].to_numpy(float), outcome_type="binary", name="supp", modifier_type="categorical",
        levels=["none", "low", "high"],
    )  # fmt: skip
    assert rows[0].note == "no samples at supp level(s) high in this stratum"
    with pytest.raises(ValueError, match=r"modifier values \['other'\] are not among the levels"):
        modifier_interaction(
            d["bin_y"], d["g"], np.array(["other"] * len(d), dtype=object), d[COV].to_numpy(float),
            outcome_type="binary", name="supp", modifier_type="categorical", levels=["none", "low"],
        )  # fmt: skip


@pytest.mark.parametrize(
    "values",
    [
        np.array(["no", "yes", None, np.nan, "yes"], dtype=object),
        np.array([None, np.nan], dtype=object),
        np.array(["no", 1, 1.0, None, "yes"], dtype=object),  # a non-string value is missing
    ],
)
def test_categorical_modifier_design_matches_the_per_element_coding(values):
    from vdrbone.interactions import modifier_design

    M, labels, ref = modifier_design(values, modifier_type="categorical", levels=["no", "yes"])
    missing = np.array([not isinstance(x, str) for x in values])
    want = np.where(missing, np.nan, np.array([x == "yes" for x in values], dtype=float))
    assert (labels, ref) == (["yes"], "no")
    assert_allclose(M[:, 0], want)
