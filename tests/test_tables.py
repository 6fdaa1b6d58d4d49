"""Table I/O helpers (vdrbone.tables)."""

import numpy as np
import pandas as pd
import pytest

from vdrbone.tables import concat_tsv, read_parquet, read_tsv, write_parquet, write_tsv


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


def test_parquet_work_table_reads_back_as_the_tsv_would(tmp_path):
    """The calls table goes through Parquet between jobs: the same frame comes back as through
    write_tsv/read_tsv (text columns as Python strings, NaN for a missing genotype, floats exact)."""
    calls = pd.DataFrame(
        {
            "sample": ["S1", "007", "S3"],
            "variant": ["rs731236", "rs731236", "m.4823"],
            "genotype": ["A/G", None, "C"],
            "effect_count": [1.0, np.nan, 1.0],
            "dosage": [0.1 + 0.2, np.nan, 1e-300],
            "status": ["called", "missing", "called"],
        }
    )
    write_parquet(calls, tmp_path / "calls.parquet")
    write_tsv(calls, tmp_path / "calls.tsv.gz")
    got = read_parquet(tmp_path / "calls.parquet")
    # as read_tsv gives it, except that Parquet keeps every float bit (read_csv's parser may
    # round the last digit: 0.30000000000000004 comes back as 0.3)
    pd.testing.assert_frame_equal(got, read_tsv(tmp_path / "calls.tsv.gz"), check_exact=False, rtol=1e-15)
    pd.testing.assert_frame_equal(got, calls.assign(genotype=["A/G", np.nan, "C"]), check_exact=True)
    assert got["sample"].tolist() == ["S1", "007", "S3"] and got["genotype"].dtype == object
    assert isinstance(got.loc[1, "genotype"], float) and np.isnan(got.loc[1, "genotype"])
    assert got["dosage"].tolist()[0] == 0.1 + 0.2
    assert not list(tmp_path.glob("*.tmp*"))
    # columns: only those asked for that the file has, in the asked order, values as the full read
    part = read_parquet(tmp_path / "calls.parquet", columns=["variant", "sample", "effect_count", "absent"])
    pd.testing.assert_frame_equal(part, got[["variant", "sample", "effect_count"]], check_exact=True)


def test_parquet_columns_and_categorical_read_the_same_values(tmp_path):
    """read_parquet(columns=..., categorical=...): the chosen columns, text columns as pandas
    Categorical with the same values (missing stays missing) as the plain read."""
    calls = pd.DataFrame(
        {
            "sample": ["S1", "007", "S3", "S1"],
            "variant": ["rs731236", "rs731236", "m.4823", "m.4823"],
            "genotype": ["A/G", None, "C", "T"],
            "effect_count": [1.0, np.nan, 1.0, 0.0],
            "status": ["called", "missing", "called", None],
        }
    )
    write_parquet(calls, tmp_path / "calls.parquet")
    plain = read_parquet(tmp_path / "calls.parquet")
    got = read_parquet(
        tmp_path / "calls.parquet",
        columns=["sample", "status", "effect_count"],
        categorical=["sample", "status"],
    )
    assert list(got.columns) == ["sample", "status", "effect_count"]
    assert isinstance(got["sample"].dtype, pd.CategoricalDtype) and got["effect_count"].dtype == float
    pd.testing.assert_frame_equal(got.astype({"sample": object, "status": object}), plain[got.columns])
    assert got["status"].isna().tolist() == [False, False, False, True]


def test_tsv_text_shortcut_writes_what_to_csv_writes(tmp_path):
    """write_tsv formats plain tables itself (_tsv_text): the same text as DataFrame.to_csv for
    floats of every magnitude (-0.0, inf, NaN, 0.1 + 0.2, 1e16, 5e-324), integers, text with NA
    and blanks, and no rows; tables it cannot format exactly go to pandas."""
    from vdrbone.tables import _tsv_text

    rng = np.random.default_rng(5)
    n = 2000
    floats = rng.standard_normal(n) * 10.0 ** rng.integers(-320, 300, n)
    floats[:12] = [0.0, -0.0, np.inf, -np.inf, np.nan, 0.1 + 0.2, 1e16, 1e-5, 5e-324, 64.0, 1e22, 123.456]
    frame = pd.DataFrame(
        {
            "sample": [f"S{i:05d}" for i in range(n)],
            "x": floats,
            "same": rng.choice([1.0, 0.0, np.nan, 28.5], n),
            "k": rng.integers(-(2**62), 2**62, n),
            "note": rng.choice(["yes", "", " a b ", None, "ünï", np.nan], n).astype(object),
            "empty": pd.Series([None] * n, dtype=object),
        }
    )
    for df in (frame, frame.iloc[:0], frame[["x", "k"]].iloc[::-3]):
        assert _tsv_text(df) == df.to_csv(sep="\t", index=False, na_rep="NA")
        write_tsv(df, tmp_path / "t.tsv")
        assert (tmp_path / "t.tsv").read_text(encoding="utf-8") == df.to_csv(
            sep="\t", index=False, na_rep="NA"
        )
    for other in (
        frame.assign(note=["a\tb"] * n),  # quoted by the csv writer
        frame.assign(note='say "x"'),
        frame.assign(flag=True),
        frame.assign(n=pd.array([1, None] * (n // 2), dtype="Int64")),
        frame.assign(mixed=[1.5, "a"] * (n // 2)),
        frame[["x"]],
    ):
        assert _tsv_text(other) is None
        write_tsv(other, tmp_path / "o.tsv")
        assert (tmp_path / "o.tsv").read_text(encoding="utf-8") == other.to_csv(
            sep="\t", index=False, na_rep="NA"
        )


def test_header_only_table_is_what_write_tsv_writes_for_no_rows(tmp_path):
    """write_header_tsv (the switched-off epistasis and permutation jobs, without pandas): the
    text write_tsv writes for an empty table of those columns; names the csv writer would quote
    are refused rather than written differently."""
    from vdrbone.results import EPISTASIS_COLUMNS, PERMUTATION_COLUMNS
    from vdrbone.tables import write_header_tsv

    for columns in (EPISTASIS_COLUMNS, PERMUTATION_COLUMNS, ["only"]):
        write_header_tsv(columns, tmp_path / "h.tsv")
        write_tsv(pd.DataFrame(columns=columns), tmp_path / "w.tsv")
        assert (tmp_path / "h.tsv").read_bytes() == (tmp_path / "w.tsv").read_bytes()
        assert list(read_tsv(tmp_path / "h.tsv").columns) == list(columns)
    with pytest.raises(ValueError, match="plain column names"):
        write_header_tsv(["a", 'say "x"'], tmp_path / "q.tsv")
    assert not (tmp_path / "q.tsv").exists()


def test_parquet_columns_the_file_lacks_are_left_out(tmp_path):
    """read_parquet(columns=...): only those asked for that the file has, in the asked order."""
    calls = pd.DataFrame({"sample": ["S1", "S2"], "variant": ["rs1", "rs1"], "effect_count": [1.0, np.nan]})
    write_parquet(calls, tmp_path / "calls.parquet")
    part = read_parquet(tmp_path / "calls.parquet", ["variant", "sample", "absent"])
    pd.testing.assert_frame_equal(part, calls[["variant", "sample"]], check_exact=True)
