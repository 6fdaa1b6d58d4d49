"""benchmarks/compare_runs.py: the equality bar of the speed work (before/after tables)."""

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("compare_runs", REPO / "benchmarks" / "compare_runs.py")
compare_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare_runs)


def _table(**changes):
    t = pd.DataFrame(
        {
            "variant": ["rs1", "rs2", "rs3"],
            "estimate": [0.5, -1.25, float("nan")],
            "p_value": [1e-200, 0.5, float("nan")],
            "aic": [120000.0, 120001.5, 119999.0],
            "delta_aic": [0.0, 1.5, -1.0],
            "note": ["", "ok", "monomorphic"],
        }
    )
    for column, (row, value) in changes.items():
        t.loc[row, column] = value
    return t


def _differences(tmp_path, other):
    a, b = tmp_path / "a.tsv", tmp_path / "b.tsv"
    _table().to_csv(a, sep="\t", index=False)
    other.to_csv(b, sep="\t", index=False)
    return compare_runs.compare_tables(str(a), str(b), "t")


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"estimate": (0, 0.5 * (1 + 5e-10))},
        {"p_value": (0, 1e-200 * (1 + 1e-8))},  # -log10 p moves by 2e-11 relative
        {"delta_aic": (1, 1.5 + 1e-5)},  # 1e-10 of |aic|
    ],
)
def test_agreeing_tables_pass(tmp_path, changes):
    assert _differences(tmp_path, _table(**changes)) == []


@pytest.mark.parametrize(
    "changes, column",
    [
        ({"estimate": (0, 0.5 * (1 + 1e-8))}, "estimate"),
        ({"estimate": (2, 1.0)}, "estimate"),  # a missing cell filled
        ({"p_value": (1, 0.5 * (1 + 1e-8))}, "p_value"),
        ({"delta_aic": (1, 1.5 + 1e-3)}, "delta_aic"),
        ({"note": (1, "ok.")}, "note"),
    ],
)
def test_each_kind_of_difference_is_reported(tmp_path, changes, column):
    problems = _differences(tmp_path, _table(**changes))
    assert len(problems) == 1 and f": {column}:" in problems[0]


def test_run_folders_missing_table_and_exit_status(tmp_path):
    for run in ("a", "b"):
        (tmp_path / run / "tables").mkdir(parents=True)
        _table().to_csv(tmp_path / run / "tables" / "association.tsv", sep="\t", index=False)
    assert compare_runs.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    _table().to_csv(tmp_path / "a" / "tables" / "extra.tsv", sep="\t", index=False)
    assert compare_runs.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1
