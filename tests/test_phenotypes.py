"""Phenotype table reading/coding/validation, strata and sample matching (vdrbone.phenotypes)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import default_config

from vdrbone.errors import InputError
from vdrbone.phenotypes import covariate_warnings, match_samples, read_phenotypes
from vdrbone.strata import strata_labels, strata_masks, stratum_fixed

CFG = default_config()
# the phenotype-table outcomes of the default config (time to event and derived WHO classes are
# tested on their own below)
CFG["outcomes"] = {k: v for k, v in CFG["outcomes"].items() if v["type"] in ("continuous", "binary")}
HEADER = [
    "participant",
    "gender",
    "diabetes",
    "ls_bmd",
    "fn_bmd",
    "th_bmd",
    "any_fracture",
    "age_years",
    "bmi",
]
ROWS = [
    ["007", "F", "yes", "0.95", "0.80", "0.88", "1", "61", "27.5"],
    ["S2", "M", "0", "1.10", "NA", "0.97", "0", "58", "30.1"],
    ["3", "2", "-9", "0.85", "0.70", "", "-9", "70", "24.0"],
    ["0004", "1", "1", "1.02", "0.91", "0.93", "0", "66", "-9"],
    ["5", "", "no", "0.99", "0.81", "0.90", "1", "55", "29"],
]


def write(tmp_path, rows=ROWS, header=HEADER, sep="\t", name="pheno.tsv", newline="\n", bom=False):
    text = newline.join(sep.join(r) for r in [header, *rows]) + newline
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def read(path, **over):
    kw = dict(
        sample_column=CFG["cohort"]["sample_column"],
        coding=CFG["phenotype_coding"],
        outcomes=CFG["outcomes"],
        covariates=CFG["covariates"],
    )
    kw.update(over)
    return read_phenotypes(path, **kw)


def with_value(row: int, column: str, value: str):
    rows = [list(r) for r in ROWS]
    rows[row][HEADER.index(column)] = value
    return rows


def test_coding_and_columns(tmp_path):
    df = read(write(tmp_path))
    assert list(df.columns) == [
        "sample",
        "sex",
        "t2dm",
        "bmd_ls",
        "bmd_fn",
        "bmd_th",
        "fracture",
        "age_years",
        "bmi",
    ]
    assert df["sample"].tolist() == ["007", "S2", "3", "0004", "5"]
    assert all(isinstance(s, str) for s in df["sample"])
    assert df["sex"].tolist()[:4] == ["female", "male", "female", "male"] and pd.isna(df["sex"][4])
    assert df["t2dm"].tolist()[:2] == ["yes", "no"] and pd.isna(df["t2dm"][2])
    assert df["t2dm"].tolist()[3:] == ["yes", "no"]
    for col in ["bmd_ls", "bmd_fn", "bmd_th", "fracture", "age_years", "bmi"]:
        assert df[col].dtype == np.float64
    np.testing.assert_array_equal(df["fracture"], [1.0, 0.0, np.nan, 0.0, 1.0])
    np.testing.assert_array_equal(df["bmd_fn"], [0.80, np.nan, 0.70, 0.91, 0.81])
    assert np.isnan(df["bmd_th"][2]) and np.isnan(df["bmi"][3])
    assert df.attrs["warnings"] == []


@pytest.mark.parametrize(
    ("sep", "newline", "bom", "name"),
    [
        (",", "\r\n", True, "p.csv"),
        (";", "\n", False, "p.csv"),
        ("\t", "\r\n", True, "p.tsv"),
        (",", "\n", False, "p.txt"),
    ],
)
def test_delimiters_bom_crlf(tmp_path, sep, newline, bom, name):
    ref = read(write(tmp_path, name="ref.tsv"))
    df = read(write(tmp_path, sep=sep, newline=newline, bom=bom, name=name))
    pd.testing.assert_frame_equal(df, ref)


def test_quoted_csv_and_blank_lines(tmp_path):
    path = tmp_path / "q.csv"
    body = "\n".join(",".join(f'"{v}"' for v in r) for r in [HEADER, *ROWS])
    path.write_text(body + "\n\n", encoding="utf-8")
    assert read(path)["sample"].tolist()[0] == "007"


UNQUOTED_TABLES = {
    "plain": "id\tsex\tbmd\n1\tF\t0.9\n2\tM\tNA\n",
    "no final line end": "id\tsex\tbmd\n1\tF\t0.9\n2\tM\t",
    "blank and delimiter-only lines": "\n\nid\tsex\tbmd\n\n1\tF\t0.9\n\t\t\n  \t \n2\tM\t1.0\n\n\n",
    "CRLF": "id,sex,bmd\r\n1,F,0.9\r\n\r\n2,M,\r\n",
    "blanks around fields": "id ; sex;bmd \n 1;F ;0.9\n2 ;\x0bM;\x0c1.0\x1f\n",
    "non-ASCII blanks": "id,sex\u00a0,bmd\n\u20031,F,0.9\u3000\n2,M\u2009,1.0\n",
    "inner blanks kept": "id\tsex\tnote\n1\tF\ttype 2 \n",
    "trailing delimiter": "id,sex,\n1,F,\n2,M,\n",
    "header only": "id\tsex\tbmd\n\n",
    "ragged row": "id;sex;bmd\n1;F;0.9\n\n2;M\n",
    "too many fields": "id,sex,bmd\n1,F,0.9,x\n",
    "duplicated column": "id\tsex\tid\n1\tF\t1\n",
}


@pytest.mark.parametrize("name", list(UNQUOTED_TABLES))
def test_fast_split_of_unquoted_tables_equals_the_csv_reader(tmp_path, name):
    """_split_unquoted (a table without quotes, split as one string) gives the header, columns,
    line numbers and errors of _split_csv (csv.reader, field by field)."""
    from vdrbone.phenotypes import _detect_delimiter, _split_csv, _split_unquoted

    text = UNQUOTED_TABLES[name]
    delimiter = _detect_delimiter(next(ln for ln in text.splitlines() if ln.strip()))
    path = tmp_path / "pheno.txt"
    try:
        expected = _split_csv(text, delimiter, path=path)
    except InputError as err:
        with pytest.raises(InputError) as got:
            _split_unquoted(text, delimiter, path=path)
        assert str(got.value) == str(err)
        return
    assert _split_unquoted(text, delimiter, path=path) == expected


def test_tables_with_quotes_or_lone_carriage_returns_go_to_the_csv_reader(tmp_path):
    from vdrbone.phenotypes import _split_unquoted

    for text in ('id,note\n1,"a, b"\n', "id\tsex\r1\tF\r", "id\tsex\n1\tF\x00\n"):
        assert _split_unquoted(text, "," if "," in text else "\t", path=tmp_path / "p.txt") is None


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.tsv does not exist"):
        read(tmp_path / "nope.tsv")


def test_missing_columns_lists_file_columns(tmp_path):
    header = [h if h != "bmi" else "BMI" for h in HEADER]
    with pytest.raises(InputError) as e:
        read(write(tmp_path, header=header))
    msg = str(e.value)
    assert (
        "pheno.tsv" in msg and "'bmi' (covariate)" in msg and "the file has columns" in msg and "'BMI'" in msg
    )


def test_empty_sample_id(tmp_path):
    with pytest.raises(InputError, match=r"column 'participant': empty sample id at line 4: ''"):
        read(write(tmp_path, rows=with_value(2, "participant", " ")))


def test_duplicated_sample_ids(tmp_path):
    with pytest.raises(InputError, match=r"duplicated sample id\(s\): line 6: '007 \(first at line 2\)'"):
        read(write(tmp_path, rows=with_value(4, "participant", "007")))


def test_leading_zero_ids_distinct(tmp_path):
    df = read(write(tmp_path, rows=with_value(4, "participant", "07")))
    assert df["sample"].tolist()[0] == "007" and df["sample"].tolist()[4] == "07"


def test_unknown_sex_code(tmp_path):
    with pytest.raises(InputError) as e:
        read(write(tmp_path, rows=with_value(1, "gender", "X")))
    msg = str(e.value)
    assert "column 'gender' (sex)" in msg and "line 3: 'X'" in msg
    assert "'F'=female" in msg and "'1'=male" in msg


def test_unknown_t2dm_code_shows_first_five(tmp_path):
    rows = [list(r) for r in ROWS * 2]
    for i, r in enumerate(rows):
        r[0] = f"id{i}"
        r[2] = "maybe"
    with pytest.raises(InputError) as e:
        read(write(tmp_path, rows=rows))
    msg = str(e.value)
    assert "column 'diabetes' (t2dm)" in msg and "'yes'=yes" in msg
    assert "line 6: 'maybe'" in msg and "line 7" not in msg and "(and 5 more)" in msg


def test_non_numeric_covariate(tmp_path):
    with pytest.raises(
        InputError, match=r"column 'age_years' \(covariate\): 1 non-numeric value\(s\): line 5: 'sixty'"
    ):
        read(write(tmp_path, rows=with_value(3, "age_years", "sixty")))


def test_non_numeric_outcome_with_decimal_comma_hint(tmp_path):
    with pytest.raises(InputError) as e:
        read(write(tmp_path, rows=with_value(0, "ls_bmd", "0,95")))
    msg = str(e.value)
    assert "column 'ls_bmd' (continuous outcome bmd_ls)" in msg and "line 2: '0,95'" in msg
    assert "decimal comma" in msg


def test_non_finite_rejected(tmp_path):
    with pytest.raises(InputError, match=r"line 2: 'inf'"):
        read(write(tmp_path, rows=with_value(0, "bmi", "inf")))


def test_implausible_bmd(tmp_path):
    with pytest.raises(InputError) as e:
        read(write(tmp_path, rows=with_value(2, "fn_bmd", "950")))
    msg = str(e.value)
    assert (
        "pheno.tsv, column 'fn_bmd' (outcome bmd_fn)" in msg
        and "0.2-2.5 g/cm2" in msg
        and "line 4: '950'" in msg
    )


def test_tscore_not_range_checked_and_explicit_range(tmp_path):
    outcomes = {"ts": {"column": "ls_bmd", "type": "tscore"}}
    rows = with_value(0, "ls_bmd", "-3.1")
    df = read(write(tmp_path, rows=rows), outcomes=outcomes)
    assert df["ts"][0] == -3.1
    outcomes = {"ts": {"column": "ls_bmd", "type": "tscore", "range": [-2, 2]}}
    with pytest.raises(InputError, match=r"outside -2-2: line 2: '-3.1'"):
        read(write(tmp_path, rows=rows), outcomes=outcomes)


def test_bad_binary_value(tmp_path):
    with pytest.raises(InputError) as e:
        read(write(tmp_path, rows=with_value(1, "any_fracture", "yes")))
    msg = str(e.value)
    assert "column 'any_fracture' (binary outcome fracture)" in msg and "line 3: 'yes'" in msg
    assert "case codes ['1']" in msg and "control codes ['0']" in msg


def test_ragged_row(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[1] = rows[1][:-1]
    with pytest.raises(InputError, match=r"pheno.tsv line 3: 8 fields, expected 9"):
        read(write(tmp_path, rows=rows))


def test_constant_covariate_warning_names_the_column_and_file(tmp_path):
    rows = [list(r) for r in ROWS]
    for r in rows:
        r[HEADER.index("age_years")] = "60"
    path = write(tmp_path, rows=rows)
    df = read(path)
    assert df.attrs["warnings"] == []
    assert covariate_warnings(df, ["age_years", "bmi"], CFG["strata"], path=str(path)) == [
        f"covariate column 'age_years' in {path}: constant in every stratum (value 60) among the 5 "
        "analysed samples; it is dropped from every model"
    ]
    # constant within each T2DM stratum but not overall: only a problem without `all`
    rows = [list(r) for r in ROWS]
    for r in rows:
        r[HEADER.index("bmi")] = "30" if r[HEADER.index("diabetes")] in ("yes", "1") else "25"
    df = read(write(tmp_path, rows=rows))
    assert covariate_warnings(df, ["bmi"], ["all", "t2dm"]) == []
    assert covariate_warnings(df, ["bmi"], ["t2dm"]) == [
        "covariate column 'bmi': constant in every stratum (value 30, 25) among the 5 analysed samples; "
        "it is dropped from every model"
    ]


def test_empty_sex_t2dm_outcome_and_covariate_columns_are_named(tmp_path):
    rows = [list(r) for r in ROWS]
    for r in rows:
        for col in ("gender", "diabetes", "fn_bmd", "bmi"):
            r[HEADER.index(col)] = "NA"
        r[HEADER.index("any_fracture")] = "0"
    path = write(tmp_path, rows=rows)
    warnings = read(path).attrs["warnings"]
    assert warnings == [
        f"outcome bmd_fn: column 'fn_bmd' in {path}: every value is missing",
        f"outcome fracture: column 'any_fracture' in {path}: 0 cases and 5 controls",
        f"covariate column 'bmi' in {path}: every value is missing",
        f"sex column 'gender' in {path}: every value is missing; the sex strata will be empty and "
        "no model adjusts for sex",
        f"T2DM column 'diabetes' in {path}: every value is missing; the T2DM strata will be empty "
        "and no model adjusts for T2DM",
    ]


def test_overlapping_codes_in_config(tmp_path):
    coding = dict(CFG["phenotype_coding"], sex={"column": "gender", "female": ["F", "1"], "male": ["M", "1"]})
    with pytest.raises(InputError, match=r"code '1' is listed as both female and male"):
        read(write(tmp_path), coding=coding)


# --- strata ---------------------------------------------------------------------------------


def test_strata_labels_and_masks(tmp_path):
    df = read(write(tmp_path))
    assert strata_labels(["t2dm_sex", "all", "sex", "t2dm"]) == [
        "all", "t2dm=yes", "t2dm=no", "sex=female", "sex=male",
        "t2dm=yes,sex=female", "t2dm=yes,sex=male", "t2dm=no,sex=female", "t2dm=no,sex=male",
    ]  # fmt: skip
    masks = strata_masks(df, CFG["strata"])
    # sex: F, M, F, M, NA ; t2dm: yes, no, NA, yes, no
    expected = {
        "all": [1, 1, 1, 1, 1],
        "t2dm=yes": [1, 0, 0, 1, 0],
        "t2dm=no": [0, 1, 0, 0, 1],
        "sex=female": [1, 0, 1, 0, 0],
        "sex=male": [0, 1, 0, 1, 0],
        "t2dm=yes,sex=female": [1, 0, 0, 0, 0],
        "t2dm=yes,sex=male": [0, 0, 0, 1, 0],
        "t2dm=no,sex=female": [0, 0, 0, 0, 0],
        "t2dm=no,sex=male": [0, 1, 0, 0, 0],
    }
    assert list(masks) == list(expected)
    for label, m in expected.items():
        assert masks[label].dtype == bool
        np.testing.assert_array_equal(masks[label], np.array(m, dtype=bool), err_msg=label)
    assert list(strata_masks(df, ["sex"])) == ["sex=female", "sex=male"]
    with pytest.raises(InputError, match="unknown"):
        strata_masks(df, ["age"])


def test_stratum_fixed():
    assert stratum_fixed("all") == {"sex": None, "t2dm": None}
    assert stratum_fixed("t2dm=no") == {"sex": None, "t2dm": "no"}
    assert stratum_fixed("t2dm=yes,sex=male") == {"sex": "male", "t2dm": "yes"}
    with pytest.raises(ValueError):
        stratum_fixed("sex=other")


# --- sample matching -----------------------------------------------------------------------


def test_match_samples_counts_and_vcf_order():
    pheno = ["a", "b", "c", "d"]
    vcf = ["x", "d", "b", "a", "y", "z"]
    summary, matched = match_samples(pheno, vcf, min_overlap=0.5)
    assert matched == ["d", "b", "a"]
    n = dict(zip(summary["measure"], summary["n"], strict=True))
    assert n == {"in_vcf": 6, "in_phenotypes": 4, "in_both": 3, "only_vcf": 3, "only_phenotypes": 1}
    ex = dict(zip(summary["measure"], summary["examples"], strict=True))
    assert ex["only_vcf"] == "x, y, z" and ex["only_phenotypes"] == "c"


def test_match_samples_below_min_overlap():
    with pytest.raises(
        InputError,
        match=r"^too little sample overlap: only 1 of 4 phenotype samples \(25.0%\) are in the VCF "
        r"\(minimum 50%\)\. Phenotype ids \(phenotype table\): a, b, c, d; VCF ids \(VCF\): a, x\.",
    ):
        match_samples(["a", "b", "c", "d"], ["a", "x"], min_overlap=0.5)


def test_match_samples_no_overlap_message():
    pheno = [f"{i:03d}" for i in range(1, 9)]
    vcf = [f"FAM{i}_{i:03d}" for i in range(1, 9)]
    with pytest.raises(InputError) as e:
        match_samples(
            pheno, vcf, min_overlap=0.5, pheno_path="ph.tsv", vcf_path="c.vcf.gz", sample_column="participant"
        )
    msg = str(e.value)
    first = msg.splitlines()[0]
    assert first.startswith("no sample overlap: only 0 of 8")
    assert "Phenotype ids (ph.tsv, column 'participant'): 001, 002, 003, 004, 005;" in first
    assert "VCF ids (c.vcf.gz): FAM1_001, FAM2_002, FAM3_003, FAM4_004, FAM5_005." in first
    assert "006" not in msg
    assert re.search(r"leading zeros.*prefixes|prefixes.*leading zeros", msg) and "FID_IID" in msg
    assert "part after the last '_' (FID_IID): 8 would match" in msg


def test_match_samples_duplicate_vcf_ids():
    with pytest.raises(InputError, match=r"duplicated VCF sample id\(s\) \['a'\]"):
        match_samples(["a"], ["a", "a"], min_overlap=0.5, vcf_path="c.vcf")


TTE_CODING = {"sex": {"column": "sex", "female": ["F"], "male": ["M"]},
              "t2dm": {"column": "t2dm", "yes": ["1"], "no": ["0"]}, "missing": ["NA"]}  # fmt: skip
TTE = {"fx": {"type": "time_to_event", "time": "years", "event": "fx", "event_codes": ["yes"],
              "censor_codes": ["no"], "entry": "start"}}  # fmt: skip


def _tte_file(tmp_path, rows):
    path = tmp_path / "tte.tsv"
    path.write_text("id\tsex\tt2dm\tyears\tfx\tstart\n" + "".join("\t".join(r) + "\n" for r in rows))
    return path


def test_time_to_event_coding(tmp_path):
    rows = [
        ("a", "F", "0", "5.5", "yes", "1"),
        ("b", "M", "1", "3", "no", "0"),
        ("c", "F", "0", "NA", "no", "0"),
    ]
    ph = read_phenotypes(
        _tte_file(tmp_path, rows), sample_column="id", coding=TTE_CODING, outcomes=TTE, covariates=[]
    )
    assert ph["fx"].tolist()[:2] == [1.0, 0.0] and np.isnan(ph["fx"].iloc[2])
    assert ph["fx.time"].tolist()[:2] == [5.5, 3.0] and ph["fx.entry"].tolist()[:2] == [1.0, 0.0]


@pytest.mark.parametrize(
    "row,message",
    [
        (
            ("a", "F", "0", "5", "maybe", "0"),
            r"column 'fx' \(event of outcome fx\): value\(s\) neither event nor censored: line 2: 'maybe'",
        ),
        (
            ("a", "F", "0", "0", "yes", "0"),
            r"column 'years' \(time of outcome fx\): 1 value\(s\) not > 0: line 2: '0'",
        ),
        (
            ("a", "F", "0", "4", "yes", "4"),
            r"column 'start' \(entry of outcome fx\): 1 sample\(s\) without 0 <= entry < time",
        ),
    ],
)
def test_time_to_event_bad_values_name_file_column_and_line(tmp_path, row, message):
    with pytest.raises(InputError, match=message):
        read_phenotypes(
            _tte_file(tmp_path, [row]), sample_column="id", coding=TTE_CODING, outcomes=TTE, covariates=[]
        )


# ------------------------------------------------------------------ statistical-package files


def _numeric_frame() -> pd.DataFrame:
    """The phenotypes as a statistics package holds them: numeric codes, NaN for missing."""
    nan = np.nan
    return pd.DataFrame(
        {
            "participant": ["007", "S2", "3", "0004", "5"],
            "gender": [2.0, 1.0, 2.0, 1.0, nan],
            "diabetes": [1.0, 0.0, nan, 1.0, 0.0],
            "ls_bmd": [0.95, 1.10, 0.85, 1.02, 0.99],
            "fn_bmd": [0.80, nan, 0.70, 0.91, 0.81],
            "any_fracture": [1.0, 0.0, nan, 0.0, 1.0],
            "age_years": [61.0, 58.0, 70.0, 66.0, 55.0],
            "bmi": [27.5, 30.1, 24.0, nan, 29.0],
        }
    )


LABELS = {"gender": {1: "Male", 2: "Female"}, "diabetes": {0: "No diabetes", 1: "Type 2 diabetes"}}
OUTCOMES = {k: v for k, v in CFG["outcomes"].items() if k in ("bmd_ls", "bmd_fn", "fracture")}


def _write_all(tmp_path, frame):
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyreadstat

    paths = {}
    text = frame.astype(object).where(frame.notna(), "NA")
    rows = [
        [str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in r] for r in text.values
    ]
    paths["tsv"] = write(tmp_path, rows=rows, header=list(frame.columns))
    paths["dta"] = tmp_path / "pheno.dta"
    pyreadstat.write_dta(frame, str(paths["dta"]), variable_value_labels=LABELS)
    paths["sav"] = tmp_path / "pheno.sav"
    pyreadstat.write_sav(frame, str(paths["sav"]), variable_value_labels=LABELS)
    paths["xlsx"] = tmp_path / "pheno.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active.append(["this sheet is not the data"])
    sheet = book.create_sheet("baseline")
    sheet.append(list(frame.columns))
    for r in frame.itertuples(index=False):
        sheet.append([None if isinstance(v, float) and np.isnan(v) else v for v in r])
    book.save(paths["xlsx"])
    paths["parquet"] = tmp_path / "pheno.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), paths["parquet"])
    return paths


@pytest.mark.parametrize("fmt", ["dta", "sav", "xlsx", "parquet"])
def test_statistical_package_files_give_the_tsv_coded_table(tmp_path, fmt):
    paths = _write_all(tmp_path, _numeric_frame())
    expected = read(paths["tsv"], outcomes=OUTCOMES)
    got = read(paths[fmt], outcomes=OUTCOMES, sheet="baseline" if fmt == "xlsx" else None)
    pd.testing.assert_frame_equal(got, expected)
    assert list(got["sample"]) == ["007", "S2", "3", "0004", "5"]


SAS_FIXTURE = Path(__file__).parent / "fixtures" / "phenotype_files" / "pheno.sas7bdat"


def test_sas7bdat_gives_the_tsv_coded_table(tmp_path):
    """A SAS file (no Python writer: made by ReadStat's converter, see the fixture's script)."""
    paths = _write_all(tmp_path, _numeric_frame())
    expected = read(paths["tsv"], outcomes=OUTCOMES)
    got = read(SAS_FIXTURE, outcomes=OUTCOMES)
    pd.testing.assert_frame_equal(got, expected)
    assert list(got["sample"]) == ["007", "S2", "3", "0004", "5"]


def test_sas7bdat_without_a_needed_column_names_it():
    with pytest.raises(
        InputError,
        match=rf"{re.escape(str(SAS_FIXTURE))}: missing column\(s\) 'pid' \(sample ids\); "
        r"the file has columns 'participant'.*\(SAS \.sas7bdat\)",
    ):
        read(SAS_FIXTURE, outcomes=OUTCOMES, sample_column="pid")


@pytest.mark.parametrize("fmt", ["dta", "sav"])
def test_value_labels_are_codes(tmp_path, fmt):
    """``1 = "Male"``: phenotype_coding may name the label instead of the stored value."""
    paths = _write_all(tmp_path, _numeric_frame())
    expected = read(paths["tsv"], outcomes=OUTCOMES)
    coding = {
        "sex": {"column": "gender", "female": ["Female"], "male": ["Male"]},
        "t2dm": {"column": "diabetes", "yes": ["Type 2 diabetes"], "no": ["No diabetes"]},
        "missing": ["NA"],
    }
    got = read(paths[fmt], outcomes=OUTCOMES, coding=coding)
    pd.testing.assert_frame_equal(got, expected)
    with pytest.raises(InputError, match=r"column 'gender' \(sex\): unknown code\(s\) line 2: '2'"):
        read(paths["tsv"], outcomes=OUTCOMES, coding=coding)  # a TSV has no labels


def test_dta_without_the_sample_column_names_it(tmp_path):
    import pyreadstat

    frame = _numeric_frame().drop(columns=["participant"])
    path = tmp_path / "pheno.dta"
    pyreadstat.write_dta(frame, str(path))
    with pytest.raises(
        InputError,
        match=rf"{re.escape(str(path))}: missing column\(s\) 'participant' \(sample ids\); "
        r"the file has columns 'gender'.*\(Stata \.dta\)",
    ):
        read(path, outcomes=OUTCOMES)


def test_bad_value_in_a_dta_names_file_row_and_column(tmp_path):
    frame = _numeric_frame()
    frame.loc[2, "gender"] = 7.0
    paths = _write_all(tmp_path, frame)
    with pytest.raises(
        InputError,
        match=rf"{re.escape(str(paths['dta']))}, column 'gender' \(sex\): unknown code\(s\) line 4: '7'",
    ):
        read(paths["dta"], outcomes=OUTCOMES)


def test_excel_sheet_must_exist(tmp_path):
    paths = _write_all(tmp_path, _numeric_frame())
    with pytest.raises(
        InputError,
        match=r"no sheet 'visit2' \(cohort.phenotype_sheet\); "
        r"the workbook has the sheet\(s\) 'notes', 'baseline'",
    ):
        read(paths["xlsx"], outcomes=OUTCOMES, sheet="visit2")
    got = read(paths["xlsx"], outcomes=OUTCOMES, sheet=2)
    assert len(got) == 5
