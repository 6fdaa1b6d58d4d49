"""T-scores and WHO classes (vdrbone.tscore) against a hand-computed fixture, and their wiring
into the phenotype table as ``who_class`` outcomes (tests/fixtures/tscore/hand_computed.tsv)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from vdrbone.errors import InputError
from vdrbone.phenotypes import read_phenotypes
from vdrbone.tscore import read_reference, tscores, who_class

HAND = Path(__file__).parent / "fixtures" / "tscore" / "hand_computed.tsv"
CODING = {"sex": {"column": "sex", "female": ["female"], "male": ["male"]},
          "t2dm": {"column": "t2dm", "yes": ["yes"], "no": ["no"]}, "missing": ["NA"]}  # fmt: skip


@pytest.fixture(scope="module")
def hand() -> pd.DataFrame:
    return pd.read_csv(HAND, sep="\t", comment="#")


def test_tscores_and_classes_match_the_hand_computed_values(hand):
    ref = read_reference()
    for key, rows in hand.groupby("reference"):
        t = tscores(rows["bmd"], rows["sex"], ref, key)
        assert_allclose(t, rows["t_score"], rtol=1e-6, atol=1e-6)
        assert_array_equal(who_class(t, "osteoporosis"), rows["osteoporosis"])
        assert_array_equal(who_class(t, "osteopenia_or_worse"), rows["osteopenia_or_worse"])


def test_who_class_outcomes_in_the_phenotype_table(tmp_path, hand):
    fn = hand[hand.reference == "nhanes3_femoral_neck"]
    table = fn[["sample", "sex", "bmd"]].assign(t2dm="no", tscore=fn["t_score"])
    table.loc[len(table)] = ["s9", "female", "NA", "no", "NA"]
    path = tmp_path / "ph.tsv"
    table.to_csv(path, sep="\t", index=False)
    outcomes = {
        "bmd_fn": {"column": "bmd", "type": "continuous"},
        "t_fn": {"column": "tscore", "type": "tscore"},
        "osteoporosis_fn": {"type": "who_class", "from": "bmd_fn", "class": "osteoporosis",
                            "reference": "nhanes3_femoral_neck"},
        "osteopenia_fn": {"type": "who_class", "from": "t_fn", "class": "osteopenia_or_worse"},
    }  # fmt: skip
    ph = read_phenotypes(path, sample_column="sample", coding=CODING, outcomes=outcomes, covariates=[])
    assert_array_equal(ph["osteoporosis_fn"], [*fn["osteoporosis"], np.nan])
    assert_array_equal(ph["osteopenia_fn"], [*fn["osteopenia_or_worse"], np.nan])
    outcomes["osteoporosis_fn"]["reference"] = "nhanes3_spine"
    with pytest.raises(
        InputError, match="tscore reference 'nhanes3_spine' is not in .*tscore_reference.tsv; available"
    ):
        read_phenotypes(path, sample_column="sample", coding=CODING, outcomes=outcomes, covariates=[])


def test_bad_reference_file_is_named(tmp_path):
    bad = tmp_path / "ref.tsv"
    bad.write_text("reference\tsite\tsex\tmean\tsd\tunit\tsource\nx\tfn\tF\t0.8\t0.1\tg/cm2\tme\n")
    with pytest.raises(InputError, match=r"ref.tsv, row 1 \(x\): sex 'F' is not female or male"):
        read_reference(bad)
