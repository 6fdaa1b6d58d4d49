"""Table I/O helpers (vdrbone.tables)."""

import pandas as pd
import pytest

from vdrbone.tables import concat_tsv, read_tsv, write_tsv


def test_concat_tsv_keeps_values_exactly_and_checks_headers(tmp_path):
    a, b, c = tmp_path / "a.tsv", tmp_path / "b.tsv", tmp_path / "c.tsv"
    write_tsv(pd.DataFrame({"variant": ["rs1"], "n_cases": [12], "p": [0.1234567890123]}), a)
    write_tsv(pd.DataFrame({"variant": ["rs2"], "n_cases": [None], "p": [1e-300]}), b)
    out = tmp_path / "out.tsv"
    assert concat_tsv([a, b], out) == 2
    assert out.read_text() == "variant\tn_cases\tp\nrs1\t12\t0.1234567890123\nrs2\tNA\t1e-300\n"
    merged = read_tsv(out)
    assert merged["p"].tolist() == [0.1234567890123, 1e-300]
    write_tsv(pd.DataFrame({"variant": ["rs3"], "q": [1.0]}), c)
    with pytest.raises(ValueError, match="c.tsv: header differs"):
        concat_tsv([a, c], tmp_path / "bad.tsv")
    assert not (tmp_path / "bad.tsv").exists()
