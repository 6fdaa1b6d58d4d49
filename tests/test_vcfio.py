"""VCF reading, genotype coding and harmonisation (vdrbone.vcf_reader, genotype_coding, harmonise):
the same genotype truth written in many VCF shapes must give the same calls."""

from __future__ import annotations

import logging
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from vcf_factory import expected_calls, make_truth, write_vcf

from vdrbone import genotype_coding, harmonise, vcf_reader
from vdrbone.errors import InputError
from vdrbone.genotype_coding import code_diploid, code_haploid, match_alleles
from vdrbone.harmonise import CALL_COLUMNS, VARIANT_COLUMNS, Extraction, extract_panel
from vdrbone.panel import read_panel
from vdrbone.vcf_reader import detect_build, vcf_samples

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PANEL = read_panel(os.path.join(ROOT, "resources", "vdr_snps.tsv"))
TRUTH = make_truth(PANEL)
CHR12 = [pv.id for pv in PANEL if not pv.is_mt]


def _assert_calls(ex: Extraction, expected: pd.DataFrame, variants=None):
    got = ex.calls
    if variants is not None:
        got = got[got.variant.isin(variants)]
        expected = expected[expected.variant.isin(variants)]
    merged = expected.merge(got, on=["sample", "variant"], how="left", suffixes=("_exp", ""))
    assert len(merged) == len(expected)
    bad = merged[merged.status != merged.status_exp]
    assert bad.empty, bad[["sample", "variant", "status", "status_exp"]].head(10).to_string()
    np.testing.assert_array_equal(merged.effect_count.to_numpy(), merged.effect_count_exp.to_numpy())


# ------------------------------------------------------------------ one truth, many shapes

SHAPES = {
    "grch38_chr_tbi": dict(index="tbi"),
    "grch37_plain_csi": dict(index="csi", build="GRCh37", contig12="12", contig_mt="MT"),
    "chrMT": dict(index="tbi", contig_mt="chrMT"),
    "NC_012920": dict(index="tbi", contig_mt="NC_012920.1"),
    "id_dot": dict(index="tbi", id_dot=True),
    "swapped": dict(index="tbi", swap=True),
    "flipped": dict(index="tbi", flip=True),
    "flipped_swapped_split": dict(index="tbi", flip=True, swap=True, split=True),
    "split_multiallelic": dict(index="tbi", split=True),
    "phased": dict(index="tbi", phased=True),
    "mt_diploid_coded": dict(index="tbi", mt_coding="diploid"),
    "mt_mutect2": dict(index="tbi", mt_coding="mutect2"),
    "unindexed_plain": dict(index=None),
    "bgzip_no_index": dict(index="gz"),
    "bcf_swapped_phased": dict(index="bcf", swap=True, phased=True),
    "sample_order_shuffled": dict(index="tbi", samples_order=TRUTH.samples[::-1]),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_gives_the_truth(tmp_path, shape):
    kw = SHAPES[shape]
    name = "cohort.bcf" if kw.get("index") == "bcf" else "cohort.vcf.gz"
    path = write_vcf(str(tmp_path / name), TRUTH, **kw)
    ex = extract_panel([path], PANEL)
    assert ex.build == kw.get("build", "GRCh38")
    assert list(ex.calls.columns) == CALL_COLUMNS
    assert list(ex.variants.columns) == VARIANT_COLUMNS
    assert len(ex.calls) == len(PANEL) * len(TRUTH.samples)
    assert ex.variants.found.all(), ex.variants.reason.tolist()
    _assert_calls(ex, expected_calls(TRUTH))


def test_match_kinds_reported(tmp_path):
    kinds = {}
    for shape in ("grch38_chr_tbi", "swapped", "flipped", "flipped_swapped_split", "split_multiallelic"):
        path = write_vcf(str(tmp_path / f"{shape}.vcf.gz"), TRUTH, **SHAPES[shape])
        v = extract_panel([path], PANEL).variants.set_index("variant")
        kinds[shape] = (v.loc["rs731236", "match"], v.loc["rs1544410", "match"])
    assert kinds == {
        "grch38_chr_tbi": ("exact", "multiallelic"),
        "swapped": ("swapped", "multiallelic_swapped"),
        "flipped": ("flipped", "multiallelic_flipped"),
        "flipped_swapped_split": ("flipped_swapped", "split_multiallelic"),
        "split_multiallelic": ("exact", "split_multiallelic"),
    }


def test_variant_table_counts_and_names(tmp_path):
    ex = extract_panel([write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, index="tbi")], PANEL)
    v = ex.variants.set_index("variant")
    exp = expected_calls(TRUTH)
    for vid in PANEL.ids:
        tally = exp[exp.variant == vid].status.value_counts()
        assert v.loc[vid, "n_called"] == tally.get("called", 0)
        assert v.loc[vid, "n_missing"] == tally.get("missing", 0)
        assert v.loc[vid, "n_heteroplasmic"] == tally.get("heteroplasmic", 0)
        assert v.loc[vid, "n_other_allele"] == tally.get("other_allele", 0)
    assert v.loc["rs731236", "pos"] == 47844974 and v.loc["rs731236", "contig"] == "chr12"
    assert v.loc["m.4823", "alleles_observed"].split(",")[-1] == "A:1"
    # genotype names from the panel: TaqI A/G het is "Tt", G/G "tt"; mtDNA haploid nucleotides
    taq = ex.calls[(ex.calls.variant == "rs731236") & (ex.calls.status == "called")]
    names = set(zip(taq.effect_count, taq.genotype, taq.rflp, strict=True))
    assert names == {(0.0, "A/A", "TT"), (1.0, "A/G", "Tt"), (2.0, "G/G", "tt")}
    mt = ex.calls[(ex.calls.variant == "m.15885")]
    assert set(mt[mt.status == "called"].genotype) == {"C", "T"}
    assert set(ex.calls[ex.calls.status != "called"].genotype) == {"."}
    assert ex.calls.dosage.isna().all()  # no DS/GP in the file


def test_mt_alt_panel_marks_other_alleles(tmp_path):
    path = write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, index="tbi")
    ex = extract_panel([path], PANEL, mt_alt="panel")
    _assert_calls(ex, expected_calls(TRUTH, mt_alt="panel"))
    assert ex.calls.query("variant == 'm.4823' and sample == 'S004'").status.item() == "other_allele"


@pytest.mark.parametrize("threshold", [0.25, 0.3, 0.9, 0.95, 0.96])  # 0.3 and 0.95: AF == threshold
def test_heteroplasmy_threshold_both_sides(tmp_path, threshold):
    path = write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, index="tbi", mt_coding="mutect2")
    ex = extract_panel([path], PANEL, heteroplasmy_threshold=threshold)
    _assert_calls(ex, expected_calls(TRUTH, threshold=threshold))
    s1 = ex.calls.query("variant == 'm.4823' and sample == 'S001'")  # AF 0.30
    s2 = ex.calls.query("variant == 'm.4823' and sample == 'S002'")  # AF 0.95
    assert s1.status.item() == ("called" if threshold <= 0.30 else "heteroplasmic")
    assert s2.status.item() == ("called" if threshold <= 0.95 else "heteroplasmic")


def test_het_haploid_without_af(tmp_path):
    path = write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, index="tbi", mt_coding="haploid_noaf")
    ex = extract_panel([path], PANEL)
    mt = ex.calls[ex.calls.variant == "m.15885"].set_index("sample")
    assert mt.loc["S001", "status"] == "het_haploid" and mt.loc["S002", "status"] == "het_haploid"
    assert np.isnan(mt.loc["S001", "effect_count"])
    assert ex.variants.set_index("variant").loc["m.15885", "n_het_haploid"] == 2


@pytest.mark.parametrize("imputed", ["gp", "ds"])
def test_imputed_gp_or_ds_only(tmp_path, imputed):
    path = write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, index="tbi", imputed=imputed, include=("12",))
    ex = extract_panel([path], PANEL.select(CHR12))
    _assert_calls(ex, expected_calls(TRUTH, imputed=True), variants=CHR12)
    assert ex.variants.n_low_gp.sum() > 0
    # dosage: expected effect-allele count, identical from GP (computed) and DS (written from GP)
    called = ex.calls[ex.calls.status == "called"]
    np.testing.assert_allclose(called.dosage, called.effect_count, atol=0.06)
    assert ex.calls[ex.calls.status == "missing"].dosage.isna().all()


def test_gp_and_ds_dosages_agree(tmp_path):
    out = {}
    for imputed in ("gp", "ds"):
        path = write_vcf(
            str(tmp_path / f"{imputed}.vcf.gz"), TRUTH, index="tbi", imputed=imputed, include=("12",)
        )
        out[imputed] = extract_panel([path], PANEL.select(CHR12)).calls
    np.testing.assert_allclose(out["gp"].dosage, out["ds"].dosage, atol=2e-3)
    assert out["gp"].dosage.notna().sum() > 0


def test_categorical_calls_have_the_same_values_and_read_back_from_parquet_as_text(tmp_path):
    """extract_panel(categorical=True) (the extract job, for Parquet): the calls' text columns as
    Categorical with the values of the plain table; written and read back by the tables helpers
    they are the plain table again (a variant absent from the files included)."""
    from vdrbone.tables import read_parquet, write_parquet

    path = write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, index="tbi", include=("12",))
    plain = extract_panel([path], PANEL)
    coded = extract_panel([path], PANEL, categorical=True)
    text = ["sample", "variant", "genotype", "rflp", "status"]
    assert all(isinstance(coded.calls[c].dtype, pd.CategoricalDtype) for c in text)
    assert (plain.calls["status"] == "excluded").any()
    pd.testing.assert_frame_equal(coded.calls.astype(dict.fromkeys(text, object)), plain.calls)
    write_parquet(coded.calls, tmp_path / "calls.parquet")
    pd.testing.assert_frame_equal(read_parquet(tmp_path / "calls.parquet"), plain.calls, check_exact=True)


def test_two_files_chr12_and_chrM_only(tmp_path, caplog):
    a = write_vcf(str(tmp_path / "chr12.vcf.gz"), TRUTH, index="tbi", include=("12",))
    b = write_vcf(
        str(tmp_path / "chrM.vcf"), TRUTH, index=None, include=("MT",), samples_order=TRUTH.samples[::-1]
    )
    with caplog.at_level(logging.WARNING):
        ex = extract_panel([a, b], PANEL)
    assert ex.build == "GRCh38"  # from the chr12 file; chrM carries no build
    assert "no .tbi/.csi index" in caplog.text and "tabix -p vcf" in caplog.text
    _assert_calls(ex, expected_calls(TRUTH))
    assert ex.samples == TRUTH.samples
    assert vcf_samples([b, a]) == TRUTH.samples[::-1]


def test_variant_absent_is_reported_and_the_rest_extracted(tmp_path, caplog):
    """A chr12-only VCF with the default panel: the mtDNA variants are "not in the genotype files"."""
    path = write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, index="tbi", include=("12",))
    with caplog.at_level(logging.WARNING):
        ex = extract_panel([path], PANEL)
    v = ex.variants.set_index("variant")
    for vid in ("m.4823", "m.15885"):
        assert not v.loc[vid, "found"] and v.loc[vid, "reason"] == "not in the genotype files"
        assert v.loc[vid, "match"] == "not_found" and v.loc[vid, "files_searched"] == path
        assert (ex.calls[ex.calls.variant == vid].status == "excluded").all()
        assert (
            f"{vid} (Mt{vid[2:]}) at chrM/MT:{vid[2:]} (GRCh38) is not in the genotype files" in caplog.text
        )
    assert "no file has a MT/chrM/chrMT/NC_012920.1 contig; searched: " + path in caplog.text
    assert v.loc[CHR12, "found"].all() and (v.loc[CHR12, "files_searched"] == path).all()
    _assert_calls(ex, expected_calls(TRUTH), variants=CHR12)


def test_absent_variant_on_a_contig_the_file_has(tmp_path, caplog):
    path = tmp_path / "c.vcf"
    lines = open(write_vcf(str(path), TRUTH, index=None)).read().splitlines(keepends=True)
    path.write_text("".join(ln for ln in lines if "\t15885\t" not in ln))
    with caplog.at_level(logging.WARNING):
        v = extract_panel([str(path)], PANEL).variants.set_index("variant")
    assert v.loc["m.15885", "reason"] == "not in the genotype files" and v.loc["m.4823", "found"]
    assert f"m.15885 (Mt15885) at chrM/MT:15885 (GRCh38) is not in the genotype files (no record at that " \
        f"position in {path}" in caplog.text  # fmt: skip


def test_absent_variants_error_option_and_no_variant_at_all(tmp_path):
    path = write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, index="tbi", include=("12",))
    with pytest.raises(InputError) as err:
        extract_panel([path], PANEL, absent_variants="error")
    msg = str(err.value)
    assert msg.startswith(
        f"2 panel variant(s) not in the genotype files {path}: m.4823 (Mt4823) at chrM/MT:4823"
    )
    assert "m.15885 (Mt15885)" in msg and "genotypes.absent_variants: warn" in msg
    with pytest.raises(InputError, match="absent_variants is 'stop'"):
        extract_panel([path], PANEL, absent_variants="stop")
    # a file with none of the panel's variants: always an error with both builds' positions
    mt_only = write_vcf(str(tmp_path / "m.vcf"), TRUTH, include=("MT",))
    with pytest.raises(InputError) as err:
        extract_panel([mt_only], PANEL.select(CHR12), build="GRCh37")
    msg = str(err.value)
    assert msg.startswith(f"none of the 6 panel variants is in the genotype files {mt_only} (build GRCh37)")
    assert "rs731236 (TaqI) at chr12/12:48238757 in GRCh37, 47844974 in GRCh38" in msg


def test_mismatching_alleles_excluded_with_reason(tmp_path):
    path = tmp_path / "c.vcf"
    text = open(write_vcf(str(path), TRUTH, index=None)).read()
    text = text.replace("\t47844974\trs731236\tA\tG\t", "\t47844974\trs731236\tG\tT\t")
    path.write_text(text)
    v = extract_panel([str(path)], PANEL).variants.set_index("variant")
    assert not v.loc["rs731236", "found"]
    assert v.loc["rs731236", "reason"] == "alleles G/T do not match panel A/G"


def test_palindromic_snp_never_flipped(tmp_path):
    rows = open(PANEL.path).read().splitlines()
    header, taq = rows[0], rows[1].split("\t")
    taq[6], taq[7], taq[8] = "A", "T", "T"  # make TaqI a palindromic A/T SNP
    pan = tmp_path / "panel.tsv"
    pan.write_text(header + "\n" + "\t".join(taq) + "\n")
    panel = read_panel(pan)
    cols = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\n"
    head = (
        "##fileformat=VCFv4.2\n##contig=<ID=chr12,length=133275309>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="x">\n'
    )
    for ref, alt, found in (("A", "T", True), ("T", "A", False)):
        vcf = tmp_path / f"{ref}{alt}.vcf"
        vcf.write_text(head + cols + f"chr12\t47844974\t.\t{ref}\t{alt}\t.\t.\t.\tGT\t0/0\t0/1\n")
        v = extract_panel([str(vcf)], panel).variants.iloc[0]
        assert v.found == found
        if not found:
            assert "palindromic A/T SNP" in v.reason and "strand flip" in v.reason


# ------------------------------------------------------------------ build and bad inputs


def test_detect_build_from_contigs_and_reference(tmp_path):
    a = write_vcf(str(tmp_path / "a.vcf"), TRUTH, build="GRCh37", contig12="12", contig_mt="MT")
    assert detect_build([a]) == "GRCh37"
    assert detect_build([a], declared="GRCh37") == "GRCh37"
    b = write_vcf(
        str(tmp_path / "b.vcf"), TRUTH, contig_lengths=False, reference_line="file:///ref/GRCh38_full.fa"
    )
    assert detect_build([b]) == "GRCh38"
    c = write_vcf(str(tmp_path / "c.vcf"), TRUTH, contig_lengths=False)
    assert detect_build([c], declared="GRCh37") == "GRCh37"
    with pytest.raises(InputError, match="set cohort.build"):
        detect_build([c])
    m = write_vcf(str(tmp_path / "m.vcf"), TRUTH, include=("MT",))
    with pytest.raises(InputError, match="set cohort.build"):
        detect_build([m])


def test_declared_build_contradicting_contigs(tmp_path):
    a = write_vcf(str(tmp_path / "a.vcf"), TRUTH, build="GRCh37")
    with pytest.raises(InputError, match=r"cohort.build is GRCh38 but the chr12 contig length .* GRCh37"):
        extract_panel([a], PANEL, build="GRCh38")


def test_hg19_chrM_refused(tmp_path):
    a = write_vcf(str(tmp_path / "a.vcf"), TRUTH, build="GRCh37", mt_length=16571)
    with pytest.raises(InputError) as err:
        detect_build([a])
    msg = str(err.value)
    assert "16571" in msg and "NC_001807" in msg and "rCRS" in msg and "Lift" in msg


def test_missing_file_and_not_a_vcf(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        extract_panel([str(tmp_path / "nope.vcf.gz")], PANEL)
    bad = tmp_path / "pheno.vcf"
    bad.write_text("participant\tage\nP1\t60\n")
    with pytest.raises(InputError, match="is not a readable VCF/BCF file"):
        extract_panel([str(bad)], PANEL)


def test_files_with_different_samples(tmp_path):
    a = write_vcf(str(tmp_path / "a.vcf"), TRUTH, include=("12",))
    b = write_vcf(str(tmp_path / "b.vcf"), TRUTH, include=("MT",), samples_order=TRUTH.samples[:-2])
    with pytest.raises(InputError) as err:
        vcf_samples([a, b])
    msg = str(err.value)
    assert "a.vcf" in msg and "b.vcf" in msg and "S038" in msg and "S039" in msg


def test_bad_options():
    with pytest.raises(InputError, match="mt_alt"):
        extract_panel(["x.vcf"], PANEL, mt_alt="C")
    with pytest.raises(InputError, match="gp_threshold"):
        extract_panel(["x.vcf"], PANEL, gp_threshold=1.5)


# ------------------------------------------------------------------ pure coding functions


def test_code_diploid():
    cls = np.array([[0, 0], [0, 1], [1, 1], [-1, -1], [0, -1], [0, 2], [1, -2]])
    count, status = code_diploid(cls, effect_class=1)
    np.testing.assert_array_equal(count, [0, 1, 2, np.nan, np.nan, np.nan, np.nan])
    assert [genotype_coding.STATUSES[s] for s in status] == ["called"] * 3 + ["missing"] * 2 + [
        "other_allele",
        "missing",
    ]
    count_ref, _ = code_diploid(cls, effect_class=0)
    np.testing.assert_array_equal(count_ref[:3], [2, 1, 0])
    with pytest.raises(ValueError, match="shape"):
        code_diploid(np.zeros((3, 3)), effect_class=1)


def test_code_haploid_codings():
    cls = np.array([[0, -2], [1, -2], [1, 1], [0, 1], [0, 1], [0, 1], [-1, -2], [2, -2]])
    het_class = np.array([0, 1, 1, 1, 1, 1, 0, 2])
    af = np.array([np.nan, np.nan, np.nan, 0.95, 0.5, np.nan, np.nan, np.nan])
    count, status = code_haploid(cls, het_class, af, effect_class=1, threshold=0.9)
    np.testing.assert_array_equal(count, [0, 1, 1, 1, np.nan, np.nan, np.nan, np.nan])
    assert [genotype_coding.STATUSES[s] for s in status] == [
        "called", "called", "called", "called", "heteroplasmic", "het_haploid", "missing", "other_allele",
    ]  # fmt: skip


def test_match_alleles_kinds():
    assert match_alleles("A", ["G"], "A", "G").kind == "exact"
    assert match_alleles("G", ["A"], "A", "G").kind == "swapped"
    assert match_alleles("T", ["C"], "A", "G").kind == "flipped"
    assert match_alleles("C", ["T"], "A", "G").kind == "flipped_swapped"
    assert match_alleles("A", ["C", "G"], "A", "G").kind == "multiallelic"
    assert match_alleles("AT", ["GT"], "A", "G").kind == "exact"  # SNV written beside an indel
    assert match_alleles("T", ["A"], "T", "C", any_alt=True).kind == "any_alt"
    assert not match_alleles("T", ["A"], "T", "C").ok
    m = match_alleles("A", ["T"], "A", "G")
    assert not m.ok and m.reason == "alleles A/T do not match panel A/G"
    np.testing.assert_array_equal(match_alleles("G", ["A", "AT"], "A", "G").classes, [1, 0, -3])


def test_variant_in_two_files_uses_the_first(tmp_path, caplog):
    a = write_vcf(str(tmp_path / "a.vcf.gz"), TRUTH, index="tbi")
    b = write_vcf(str(tmp_path / "b.vcf.gz"), TRUTH, index="csi", swap=True)
    with caplog.at_level(logging.WARNING):
        ex = extract_panel([a, b], PANEL)
    assert "is in several files" in caplog.text
    assert (ex.variants.file == a).all() and (ex.variants.match != "swapped").all()
    _assert_calls(ex, expected_calls(TRUTH))


# ------------------------------------------------------------------ fast path (pysam.TabixFile + numpy)

FAST_SHAPES = [s for s, kw in SHAPES.items() if kw.get("index") in ("tbi", "csi")]


@pytest.mark.parametrize("shape", FAST_SHAPES)
def test_fast_path_reads_indexed_text_without_cyvcf2(tmp_path, shape, monkeypatch):
    path = write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, **SHAPES[shape])

    def no_cyvcf2(p):
        raise AssertionError(f"cyvcf2 opened {p}")

    monkeypatch.setattr(vcf_reader, "_open", no_cyvcf2)
    _assert_calls(extract_panel([path], PANEL), expected_calls(TRUTH))


@pytest.mark.parametrize(
    "kw",
    [SHAPES[s] for s in FAST_SHAPES]
    + [
        dict(index="tbi", mt_coding="haploid_noaf"),
        dict(index="tbi", imputed="gp", include=("12",)),  # GP: read by cyvcf2
        dict(index="tbi", imputed="ds", include=("12",)),  # DS: read by cyvcf2
    ],
    ids=FAST_SHAPES + ["haploid_noaf", "gp", "ds"],
)
@pytest.mark.parametrize("mt_alt", ["any", "panel"])
def test_fast_path_identical_to_cyvcf2(tmp_path, kw, mt_alt, monkeypatch):
    path = write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, **kw)
    panel = PANEL.select(CHR12) if kw.get("imputed") else PANEL
    fast = extract_panel([path], panel, mt_alt=mt_alt, heteroplasmy_threshold=0.3)
    slow = extract_panel([path], panel, mt_alt=mt_alt, heteroplasmy_threshold=0.3, reader="cyvcf2")
    pd.testing.assert_frame_equal(fast.calls, slow.calls)
    pd.testing.assert_frame_equal(fast.variants, slow.variants)
    assert (fast.samples, fast.build) == (slow.samples, slow.build)


def _tabix_vcf(tmp_path, rows: list[str], n: int = 6) -> str:
    """A bgzipped, tabix-indexed VCF of ``n`` samples with the given chr12 records."""
    import pysam

    head = [
        "##fileformat=VCFv4.2",
        "##contig=<ID=chr12,length=133275309>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
        '##FORMAT=<ID=GP,Number=G,Type=Float,Description="Genotype probabilities">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"])
        + "".join(f"\tS{i}" for i in range(n)),
    ]
    plain = tmp_path / "r.vcf"
    body = [f"chr12\t{1000 + i}\t.\t{r}" for i, r in enumerate(rows)]
    plain.write_text("\n".join(head + body) + "\n")
    pysam.tabix_compress(str(plain), str(plain) + ".gz", force=True)
    pysam.tabix_index(str(plain) + ".gz", preset="vcf", force=True)
    return str(plain) + ".gz"


FAST_ROWS = [
    "A\tG\t.\tPASS\t.\tGT\t0/0\t0/1\t1|1\t./.\t0/.\t.|1",  # diploid, phased, missing
    "A\tG\t.\tPASS\t.\tGT\t0\t1\t.\t0\t1\t0",  # haploid
    "A\tG\t.\tPASS\t.\tGT:AF\t0:0\t1:1\t0/1:0.3\t.:.\t0/0:0\t0/1:.",  # mixed ploidy, AF
    "A\tG,C\t.\tPASS\t.\tGT:DP:AF\t0/2:7:0,0.95\t1:3:1,0\t0\t2/1:.:0.5,0.5\t./.\t0/1:4",  # AF third key
    "A\t.\t.\tPASS\t.\tGT\t0/0\t0/0\t0\t./.\t0/0\t0/0",  # no ALT
]
SLOW_ROWS = [
    "A\tG\t.\tPASS\t.\tGT\t0/0\t0/1\t1/1\t0/0\t0/0\t0/0/1",  # triploid
    "A\t"
    + ",".join("CGTN"[i % 4] * (i // 4 + 1) for i in range(11))
    + "\t.\tPASS\t.\tGT\t0/10"
    + "\t0/0" * 5,  # two-digit allele index
    "A\tG\t.\tPASS\t.\tGT:GP\t0/0:1,0,0" + "\t0/1:0,1,0" * 5,  # GP
    "A\tG\t.\tPASS\t.\tAF:GT\t0:0" + "\t1:1" * 5,  # GT not first
    "A\tG,C\t.\tPASS\t.\tGT:AF\t0/1:0.5" + "\t0/0:0,0" * 5,  # AF with one value for two ALTs
]


def test_fast_record_equals_htslib(tmp_path):
    """The numpy parser gives cyvcf2's (htslib's) GT, and its AF wherever AF is ever read."""
    path = _tabix_vcf(tmp_path, FAST_ROWS + SLOW_ROWS)
    header = vcf_reader.read_header(path)
    assert header.tabix is not None
    lines = list(header.tabix.fetch("chr12"))
    variants = list(vcf_reader._open(path))
    assert len(lines) == len(variants) == len(FAST_ROWS) + len(SLOW_ROWS)
    order = np.array([5, 4, 3, 2, 1, 0])
    for i, (line, v) in enumerate(zip(lines, variants, strict=True)):
        fast = vcf_reader._fast_record(line, path, 6, order)
        if i >= len(FAST_ROWS):
            assert fast is None, line
            continue
        slow = vcf_reader._snapshot(v, path, order)
        assert (fast.chrom, fast.pos, fast.id, fast.ref, fast.alts) == (
            slow.chrom, slow.pos, slow.id, slow.ref, slow.alts,
        )  # fmt: skip
        np.testing.assert_array_equal(fast.gt, slow.gt, err_msg=line)
        assert fast.gp is None and fast.ds is None
        if slow.af is None:
            assert fast.af is None
            continue
        carrier = (slow.gt > 0).any(axis=1)  # AF is read only where a non-reference allele is called
        np.testing.assert_array_equal(fast.af[carrier], slow.af[carrier][:, : len(slow.alts)], err_msg=line)
        assert fast.af.shape == (6, len(slow.alts))
    # not valid VCF (htslib refuses it): left to cyvcf2, which raises as before
    assert vcf_reader._fast_record("chr12\t5\t.\tA\tG\t.\t.\t.\tGT\t0-1\t0/0", path, 2, None) is None
    assert vcf_reader._fast_record("chr12\t5\t.\tA\tG\t.\t.\t.\tGT\t0/1", path, 2, None) is None
    assert vcf_reader._fast_record("chr12\t5\t.\tA\tG\t.\t.\t.\tGT\t0:1\t0/0", path, 2, None) is None
    assert vcf_reader._fast_record("chr12\t5\t.\tA\tG\t.\t.\t.\tGT\t0/1\t\t0/0", path, 3, None) is None


def test_fast_path_falls_back_per_position(tmp_path, caplog):
    """A position with a record the numpy parser does not handle is read by cyvcf2: same calls."""
    import gzip

    import pysam

    path = write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, index="tbi")
    taq = next(pv for pv in PANEL if pv.id == "rs731236").pos_grch38
    header = vcf_reader.read_header(path)
    got = vcf_reader._tabix_records(header, ["chr12"], [taq, taq + 80, taq + 5], None)  # one fetch
    assert [len(got[taq]), len(got[taq + 80]), got[taq + 5]] == [1, 1, []]
    assert got[taq][0].id == "rs731236" and got[taq + 80][0].id == "rs7975232"
    # a triploid 0/0/0 for the first sample at TaqI (htslib keeps the first two slots: 0/0)
    lines = gzip.open(path, "rt").read().splitlines()
    i = next(i for i, ln in enumerate(lines) if f"\t{taq}\trs731236\t" in ln)
    cells = lines[i].split("\t")
    assert cells[9] == "0/0"
    cells[9] = "0/0/0"
    lines[i] = "\t".join(cells)
    plain = tmp_path / "d.vcf"
    plain.write_text("\n".join(lines) + "\n")
    pysam.tabix_compress(str(plain), str(plain) + ".gz", force=True)
    pysam.tabix_index(str(plain) + ".gz", preset="vcf", force=True)
    header = vcf_reader.read_header(str(plain) + ".gz")
    got = vcf_reader._tabix_records(header, ["chr12"], [taq, taq + 80], None)
    assert got[taq] is None and len(got[taq + 80]) == 1  # TaqI to cyvcf2, ApaI still fast
    expected = expected_calls(TRUTH)
    expected.loc[(expected["sample"] == "S000") & (expected.variant == "rs731236"), "status"] = "other_ploidy"
    expected.loc[(expected["sample"] == "S000") & (expected.variant == "rs731236"), "effect_count"] = np.nan
    _assert_calls(extract_panel([str(plain) + ".gz"], PANEL), expected)


# one column per sample: TaqI (diploid) and the two mtDNA variants, with the status each must get
PLOIDY_CALLS = [
    # TaqI A/G       m.15885 C/T,A   status TaqI      status m.15885
    ("0/0", "0:0,0", "called", "called"),
    ("0/1", "1:1,0", "called", "called"),
    ("1|1", "1/1:1,0", "called", "called"),
    ("0/0/1", "0/0:0,0", "other_ploidy", "called"),
    ("1", "./.:.", "other_ploidy", "missing"),
    (".", "0/1:0.3,0", "missing", "heteroplasmic"),
    ("0/.", "1/2:0.5,0.5", "missing", "other_ploidy"),
    ("./././.", "0/.:.", "other_ploidy", "other_ploidy"),
    ("0/1", "0/0/1:0.1,0", "called", "other_ploidy"),
]


def _ploidy_vcf(tmp_path, *, triploid_mt: bool) -> str:
    import pysam

    n = len(PLOIDY_CALLS)
    cols = [
        c if triploid_mt or i != 8 else ("0/1", "1:1,0", "called", "called")
        for i, c in enumerate(PLOIDY_CALLS)
    ]
    text = "\n".join([
        "##fileformat=VCFv4.2", "##contig=<ID=chr12,length=133275309>", "##contig=<ID=chrM,length=16569>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
                  + [f"P{i}" for i in range(n)]),
        "\t".join(["chr12", "47844974", "rs731236", "A", "G", ".", "PASS", ".", "GT"] + [c[0] for c in cols]),
        "\t".join(["chrM", "15885", ".", "C", "T,A", ".", "PASS", ".", "GT:AF"] + [c[1] for c in cols]),
    ]) + "\n"  # fmt: skip
    plain = tmp_path / f"ploidy{int(triploid_mt)}.vcf"
    plain.write_text(text)
    pysam.tabix_index(str(plain), preset="vcf", force=True, keep_original=True)
    return str(plain)


@pytest.mark.parametrize("triploid_mt", [True, False], ids=["mt_by_cyvcf2", "mt_by_fast_path"])
def test_other_ploidy_never_read_as_another_genotype(tmp_path, triploid_mt, monkeypatch, caplog):
    """0/0/1 and haploid calls at an autosomal SNP, 1/2, 0/. and 0/0/1 at mtDNA: other_ploidy,
    in all three readers (indexed text through numpy, through cyvcf2, streamed)."""
    plain = _ploidy_vcf(tmp_path, triploid_mt=triploid_mt)
    panel = PANEL.select(["rs731236", "m.15885"])
    header = vcf_reader.read_header(plain + ".gz")
    assert vcf_reader._tabix_records(header, ["chr12"], [47844974], None)[47844974] is None  # to cyvcf2
    fast_mt = vcf_reader._tabix_records(header, ["chrM"], [15885], None)[15885]
    assert (fast_mt is None) == triploid_mt  # without 0/0/1 the numpy parser reads the mtDNA record
    with caplog.at_level(logging.WARNING):
        fast = extract_panel([plain + ".gz"], panel)
    streamed = extract_panel([plain], panel)
    slow = extract_panel([plain + ".gz"], panel, reader="cyvcf2")
    for other in (streamed, slow):
        pd.testing.assert_frame_equal(fast.calls, other.calls)
        pd.testing.assert_frame_equal(
            fast.variants.drop(columns=["file", "files_searched"]),
            other.variants.drop(columns=["file", "files_searched"]),
        )
    calls = fast.calls.set_index(["variant", "sample"])
    cols = PLOIDY_CALLS if triploid_mt else PLOIDY_CALLS[:8] + [("0/1", "1", "called", "called")]
    for i, (_, _, taq, mt) in enumerate(cols):
        assert calls.loc[("rs731236", f"P{i}"), "status"] == taq, i
        assert calls.loc[("m.15885", f"P{i}"), "status"] == mt, i
    assert calls.loc[calls.status == "other_ploidy", "effect_count"].isna().all()
    assert calls.loc[calls.status == "other_ploidy", "genotype"].eq(".").all()
    v = fast.variants.set_index("variant")
    assert v.loc["rs731236", "n_other_ploidy"] == 3 and v.loc["rs731236", "n_called"] == 4
    assert v.loc["m.15885", "n_other_ploidy"] == (3 if triploid_mt else 2)
    assert (
        "rs731236 (TaqI): 3 call(s) of another ploidy set missing (other_ploidy: a diploid variant takes "
        "two alleles), e.g. sample(s) P3, P4, P7" in caplog.text
    )
    assert "m.15885 (Mt15885): " in caplog.text and "e.g. sample(s) P6, P7" in caplog.text


def test_other_ploidy_mask():
    gt = np.array([[0, 0], [0, -2], [-1, -2], [1, 2], [0, -1], [-1, -1], [2, 0], [1, 1]])
    extra = np.array([True, False, False, False, False, False, False, False])
    np.testing.assert_array_equal(
        genotype_coding.other_ploidy(gt, extra, haploid=False), [1, 1, 0, 0, 0, 0, 0, 0]
    )
    np.testing.assert_array_equal(
        genotype_coding.other_ploidy(gt, extra, haploid=True), [1, 0, 0, 1, 1, 0, 0, 0]
    )


def _two_taqi_records(path, second_gts):
    samples = ["S1", "S2", "S3", "S4"]
    first_gts = ["0/0", "0/1", "1/1", "0/0"]
    lines = [
        "##fileformat=VCFv4.2",
        "##contig=<ID=chr12,length=133275309>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]),
        "\t".join(["chr12", "47844974", "rs731236", "A", "G", ".", "PASS", ".", "GT", *first_gts]),
        "\t".join(["chr12", "47844974", "dup_probe", "A", "G", ".", "PASS", ".", "GT", *second_gts]),
    ]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_duplicate_records_are_used_once_or_excluded_never_merged(tmp_path, caplog):
    from conftest import REPO

    panel = read_panel(REPO / "resources" / "vdr_snps.tsv").select(["rs731236"])
    same = _two_taqi_records(tmp_path / "same.vcf", ["0/0", "0/1", "1/1", "0/0"])
    ex = harmonise.extract_panel([same], panel, build="GRCh38")
    assert ex.calls["effect_count"].tolist() == [0, 1, 2, 0]
    assert "identical to the first: used once" in ex.variants.loc[0, "reason"]
    assert "used once" in caplog.text
    differ = _two_taqi_records(tmp_path / "differ.vcf", ["0/1", "0/1", "1/1", "1/1"])
    ex = harmonise.extract_panel([differ], panel, build="GRCh38")
    row = ex.variants.iloc[0]
    assert row["match"] == "excluded" and not row["found"]
    assert row["reason"] == "duplicate records at chr12:47844974 A>G disagree for 2 samples"
    assert ex.calls["effect_count"].isna().all()


def test_hg19_chrM_without_length_is_refused(tmp_path):
    path = tmp_path / "hg19.vcf"
    path.write_text(
        "##fileformat=VCFv4.2\n##reference=file:///ref/ucsc.hg19.fasta\n##contig=<ID=chrM>\n"
        "##contig=<ID=chr12>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        "chrM\t4823\t.\tT\tC\t.\tPASS\t.\tGT\t1\n"
    )
    with pytest.raises(InputError, match="contig chrM has no length and the header names hg19/UCSC"):
        vcf_reader.detect_build([str(path)])


def test_plain_gzip_with_index_and_stale_index_are_refused(tmp_path):
    import gzip
    import time

    text = (
        "##fileformat=VCFv4.2\n##contig=<ID=chr12,length=133275309>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        "chr12\t47844974\trs731236\tA\tG\t.\tPASS\t.\tGT\t0/1\n"
    )
    panel = PANEL.select(["rs731236"])
    plain = tmp_path / "plain.vcf.gz"
    plain.write_bytes(gzip.compress(text.encode()))
    (tmp_path / "plain.vcf.gz.tbi").write_bytes(b"TBI\1")
    with pytest.raises(InputError, match="is not BGZF-compressed"):
        harmonise.extract_panel([str(plain)], panel, build="GRCh38")
    import pysam

    good = tmp_path / "good.vcf"
    good.write_text(text)
    pysam.tabix_index(str(good), preset="vcf", force=True)
    bgz = str(good) + ".gz"
    assert harmonise.extract_panel([bgz], panel, build="GRCh38").calls["effect_count"].tolist() == [1.0]
    later = time.time() + 5
    os.utime(bgz, (later, later))
    logger = logging.getLogger("test_stale_index")
    with _capture(logger) as records:
        assert harmonise.extract_panel([bgz], panel, build="GRCh38", logger=logger).calls[
            "effect_count"
        ].tolist() == [1]
    assert any("is older than" in r and "index it again" in r for r in records)


class _capture:
    def __init__(self, logger):
        self.logger, self.records = logger, []

    def __enter__(self):
        records = self.records

        class H(logging.Handler):
            def emit(self, record):
                records.append(record.getMessage())

        self.handler = H()
        self.logger.addHandler(self.handler)
        return self.records

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)


# ------------------------------------------------------------------ files cut short

BIG = make_truth(PANEL, n=3000)  # ~300 kB of VCF text: several BGZF blocks
RECOPY = "copy it again from the source (an interrupted copy leaves a file cut short)"


@pytest.fixture(scope="module")
def big_vcf(tmp_path_factory):
    return write_vcf(str(tmp_path_factory.mktemp("big") / "big.vcf.gz"), BIG, index="tbi")


def _cut_bgzip(big_vcf, folder):
    """The .vcf.gz cut in the middle of its fourth BGZF block, its .tbi whole (an interrupted scp)."""
    import shutil

    data = open(big_vcf, "rb").read()
    blocks, _ = vcf_reader._bgzf_blocks(big_vcf, len(data))
    assert len(blocks) >= 4
    cut_at = blocks[3][0] + blocks[3][1] // 2
    cut = folder / "cut.vcf.gz"
    cut.write_bytes(data[:cut_at])
    shutil.copy(big_vcf + ".tbi", str(cut) + ".tbi")
    return cut, cut_at, data


def _cut_gzip(big_vcf, folder):
    """The VCF as one plain gzip stream, cut at two thirds."""
    import gzip

    packed = gzip.compress(gzip.decompress(open(big_vcf, "rb").read()))
    cut = folder / "plain.vcf.gz"
    cut.write_bytes(packed[: len(packed) * 2 // 3])
    return cut, len(packed) * 2 // 3, packed


def test_bgzip_cut_mid_block_is_refused_before_reading(tmp_path, big_vcf):
    """An interrupted scp: the .tbi copied whole, the .vcf.gz cut inside a block."""
    cut, cut_at, data = _cut_bgzip(big_vcf, tmp_path)
    with pytest.raises(InputError) as err:
        extract_panel([str(cut)], PANEL)
    msg = str(err.value)
    assert msg.startswith(
        f"{cut} is cut short: it ends at byte {cut_at}, inside the BGZF block that starts at byte"
    )
    assert "the last complete record is chr" in msg and RECOPY in msg
    # cut exactly between blocks: only the end-of-file block is missing
    cut.write_bytes(data[: -len(vcf_reader.BGZF_EOF)])
    with pytest.raises(InputError, match=r"cut short: it ends at byte \d+ after \d+ complete BGZF blocks"):
        extract_panel([str(cut)], PANEL)
    assert vcf_reader.BGZF_EOF == data[-28:]


def test_plain_gzip_cut_short_is_refused_while_read(tmp_path, big_vcf):
    cut, _, packed = _cut_gzip(big_vcf, tmp_path)
    with pytest.raises(InputError) as err:
        extract_panel([str(cut)], PANEL)
    msg = str(err.value)
    assert msg.startswith(f"{cut} is cut short: its gzip stream ends early, at byte {len(packed) * 2 // 3}")
    assert "the last complete record is chr12:" in msg and RECOPY in msg
    cut.write_bytes(packed)  # the whole stream reads
    assert extract_panel([str(cut)], PANEL).variants.found.all()


@pytest.mark.parametrize("kind", ["plain", "bgzip"])
def test_record_cut_mid_line_is_refused(tmp_path, kind):
    import pysam

    text = open(write_vcf(str(tmp_path / "whole.vcf"), TRUTH, noise=False)).read()
    cut = tmp_path / "cut.vcf"
    cut.write_text(text[:-7])  # the last record (m.15885 is the last line) loses its end
    path = str(cut)
    if kind == "bgzip":
        pysam.tabix_index(path, preset="vcf", force=True)
        path += ".gz"
    with pytest.raises(InputError) as err:
        extract_panel([path], PANEL)
    msg = str(err.value)
    assert msg.startswith(f"{path} is cut short: its last record has no newline")
    assert "the last complete record is chrM:4823" in msg and RECOPY in msg
    # the newline there but columns missing
    lines = text.splitlines()
    lines[-1] = "\t".join(lines[-1].split("\t")[:-3])
    (tmp_path / "cols.vcf").write_text("\n".join(lines) + "\n")
    with pytest.raises(
        InputError, match=r"cols.vcf is cut short or damaged: its last record chrM:15885 has 46"
    ):
        extract_panel([str(tmp_path / "cols.vcf")], PANEL)


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools is not installed")
def test_bcftools_also_refuses_the_cut_files(tmp_path, big_vcf):
    import subprocess

    for cut in (_cut_bgzip(big_vcf, tmp_path)[0], _cut_gzip(big_vcf, tmp_path)[0]):
        proc = subprocess.run(["bcftools", "view", "-H", str(cut)], capture_output=True, text=True)
        assert proc.returncode != 0, cut
        assert "truncated" in proc.stderr or "Failed to read" in proc.stderr
    proc = subprocess.run(["bcftools", "view", "-H", big_vcf], capture_output=True, text=True)
    assert proc.returncode == 0


def test_unavailable_variants_from_the_extraction_table(tmp_path):
    path = write_vcf(str(tmp_path / "c.vcf.gz"), TRUTH, index="tbi", include=("12",))
    variants = extract_panel([path], PANEL).variants
    variants.to_csv(tmp_path / "extraction.tsv", sep="\t", index=False)
    read = pd.read_csv(tmp_path / "extraction.tsv", sep="\t", keep_default_na=False)
    expected = {"m.4823": "not in the genotype files", "m.15885": "not in the genotype files"}
    assert harmonise.unavailable_variants(variants) == harmonise.unavailable_variants(read) == expected


def test_damaged_block_in_a_panel_region_names_the_file(tmp_path, big_vcf):
    """A block damaged in the middle (end-of-file block intact) fails where a region read meets it."""
    import shutil

    data = bytearray(open(big_vcf, "rb").read())
    blocks, _ = vcf_reader._bgzf_blocks(big_vcf, len(data))
    offset = blocks[1][0]  # holds the first panel records (TaqI...)
    data[offset + 40 : offset + 200] = bytes(160)
    bad = tmp_path / "damaged.vcf.gz"
    bad.write_bytes(bytes(data))
    shutil.copy(big_vcf + ".tbi", str(bad) + ".tbi")
    with pytest.raises(InputError) as err:
        extract_panel([str(bad)], PANEL)
    msg = str(err.value)
    assert msg.startswith(f"{bad} could not be read in the region chr12:47844974-")
    assert "the file is damaged or cut short" in msg and RECOPY in msg
