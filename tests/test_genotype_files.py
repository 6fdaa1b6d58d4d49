"""PLINK 1, PLINK 2 and BGEN genotype files, record filters and build inference (issue 12).

One simulated cohort is written as VCF, then again as BCF, bed (also with swapped alleles and
GRCh37 positions under ``build: auto``), pgen and BGEN (layout 2 zstd; layout 1 zlib) by
tests/genotype_encodings.py. Every encoding must give the same calls and the same association
table as the VCF (estimates to 1e-9). The documented difference of BGEN: it carries genotype
probabilities, so its calls table has a ``dosage`` (equal to the hard call for 0/1
probabilities) where the GT-only VCF has none; the association estimates are the same.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3

import numpy as np
import pandas as pd
import pysam
import pytest
from conftest import REPO, default_config
from genotype_encodings import write_bcf, write_bed, write_bgen, write_pgen

from vdrbone.association import associate_outcome
from vdrbone.errors import InputError
from vdrbone.genotype_files import companion_files, file_formats, genotype_samples, panel_contig
from vdrbone.harmonise import extract_panel
from vdrbone.panel import read_panel
from vdrbone.phenotypes import match_samples, read_phenotypes
from vdrbone.qc import qc_variants
from vdrbone.record_quality import impute_info, record_filter_reason
from vdrbone.settings import settings_from_config, validate_config
from vdrbone.simulate import write_from_config
from vdrbone.vcf_reader import Record

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
PANEL = read_panel(REPO / "resources" / "vdr_snps.tsv")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("formats")
    cfg = default_config()
    sim = tmp / "sim"
    cfg["simulate"].update(
        {
            "n_samples": 600,
            "n_background": {"chr12": 10, "chrM": 3},
            "outdir": str(sim),
            "heteroplasmy_rate": 0,
        }
    )
    cfg["cohort"]["vcf"] = [str(sim / "chr12.vcf.gz"), str(sim / "chrM.vcf.gz")]
    cfg["cohort"]["phenotypes"] = str(sim / "phenotypes.tsv")
    cfg["panel"] = str(REPO / "resources" / "vdr_snps.tsv")
    cfg["interactions"] = []  # the phenotypes read below hold no modifier columns
    cfg = validate_config(cfg, SCHEMA)
    write_from_config(cfg, sim)
    vcfs = list(cfg["cohort"]["genotypes"])
    out = tmp / "enc"
    out.mkdir()
    grch37 = {("12", pv.pos("GRCh38")): pv.pos("GRCh37") for pv in PANEL if not pv.is_mt}
    layout1 = write_bgen(vcfs[:1], str(out / "l1.bgen"), layout=1, compression="zlib")
    encodings = {
        "vcf": vcfs,
        "bcf": [write_bcf(v, str(out / os.path.basename(v).replace(".vcf.gz", ".bcf"))) for v in vcfs],
        "bed": [write_bed(vcfs, str(out / "c"))],
        "bed_swapped_grch37": [write_bed(vcfs, str(out / "s37"), swap=True, positions=grch37)],
        "pgen": [write_pgen(vcfs, str(out / "c"))],
        "bgen_zstd": [write_bgen(vcfs, str(out / "c.bgen"))],
        "bgen_layout1_zlib": [layout1, write_bgen(vcfs[1:], str(out / "mt.bgen"), compression=None)],
    }
    return cfg, encodings


def _association(cfg, paths):
    panel = PANEL.select(cfg["variants"])
    ex = extract_panel(paths, panel)
    pheno = read_phenotypes(
        cfg["cohort"]["phenotypes"],
        sample_column=cfg["cohort"]["sample_column"],
        coding=cfg["phenotype_coding"],
        outcomes=cfg["outcomes"],
        covariates=list(cfg["covariates"]),
    )
    _, matched = match_samples(
        list(pheno["sample"]), genotype_samples(paths), min_overlap=0.5, pheno_path="p", vcf_path="v"
    )
    pheno = pheno.set_index("sample").loc[matched].reset_index()
    binary = [o for o, s in cfg["outcomes"].items() if s["type"] == "binary"]
    qc = qc_variants(
        ex.calls,
        pheno,
        panel,
        strata=list(cfg["strata"]),
        binary_outcomes=binary,
        min_call_rate=0.95,
        hwe_p=1e-6,
    )
    assoc = pd.concat(
        [
            associate_outcome(
                ex.calls, pheno, panel, outcome=o, settings=settings_from_config(cfg), qc=qc
            ).association
            for o in ["bmd_ls", "fracture"]
        ],
        ignore_index=True,
    )
    return ex, assoc


@pytest.fixture(scope="module")
def baseline(cohort):
    cfg, enc = cohort
    return _association(cfg, enc["vcf"])


@pytest.mark.parametrize(
    "name", ["bcf", "bed", "bed_swapped_grch37", "pgen", "bgen_zstd", "bgen_layout1_zlib"]
)
def test_every_encoding_gives_the_same_calls_and_association(cohort, baseline, name):
    cfg, enc = cohort
    ex0, assoc0 = baseline
    ex, assoc = _association(cfg, enc[name])
    assert ex.build == ("GRCh37" if name == "bed_swapped_grch37" else "GRCh38")
    if name.startswith(("bed", "pgen", "bgen")):
        assert ex.build_source.startswith("inferred from the panel alleles (cohort.build: auto): 4 of 4")
    else:
        assert ex.build_source.startswith("detected from the file headers")
    assert ex.samples == ex0.samples
    for col in ("sample", "variant", "genotype", "status"):
        assert (ex.calls[col] == ex0.calls[col]).all(), col
    np.testing.assert_array_equal(ex.calls.effect_count.to_numpy(), ex0.calls.effect_count.to_numpy())
    if name.startswith("bgen"):  # probabilities give dosages: the hard call where called, NaN where missing
        np.testing.assert_array_equal(ex.calls.dosage.to_numpy(), ex.calls.effect_count.to_numpy())
    else:
        assert ex.calls.dosage.isna().all()
    assert ex.variants["found"].all()
    expected_match = "swapped" if name == "bed_swapped_grch37" else "exact"
    assert (ex.variants.loc[~ex.variants.variant.str.startswith("m."), "match"] == expected_match).all()
    if name == "bed_swapped_grch37":
        got = ex.variants.set_index("variant")["pos"]
        assert all(got[pv.id] == pv.pos("GRCh37") for pv in PANEL if pv.id in got and not pv.is_mt)
    assert list(assoc.columns) == list(assoc0.columns)
    if name.startswith("bgen"):  # the documented difference: the method names the dosage used
        assert assoc["method"].str.contains("per_allele = DS dosage").any()
        assoc = assoc.assign(method=assoc["method"].str.replace("DS dosage", "effect-allele count"))
    assert len(assoc) == len(assoc0) > 100
    for col in assoc0.columns:
        if pd.api.types.is_float_dtype(assoc0[col]):
            np.testing.assert_allclose(
                assoc[col].to_numpy(), assoc0[col].to_numpy(), rtol=1e-9, atol=1e-12, err_msg=col
            )
        else:
            pd.testing.assert_series_equal(assoc[col], assoc0[col], check_names=False)


def test_grch37_bim_under_auto_is_inferred_and_declared_build_is_used(cohort):
    _, enc = cohort
    ex = extract_panel(enc["bed_swapped_grch37"], PANEL, build="auto")
    assert ex.build == "GRCh37"
    assert (
        "6 of 6 chr12 panel variants carry them at their GRCh37 positions, 0 at their GRCh38"
        in ex.build_source
    )
    ex = extract_panel(enc["bed"], PANEL, build="GRCh38")
    assert ex.build_source == "cohort.build"
    # the wrong declared build finds no panel variant where it looks
    with pytest.raises(InputError, match="none of the 6 panel variants is in the genotype files"):
        extract_panel(enc["bed"], PANEL.select([pv.id for pv in PANEL if not pv.is_mt]), build="GRCh37")


def test_build_cannot_be_inferred_without_panel_alleles(tmp_path, cohort):
    _, enc = cohort
    stem = str(tmp_path / "mt")
    for ext in (".bed", ".bim", ".fam"):
        shutil.copy(os.path.splitext(enc["bed"][0])[0] + ext, stem + ext)
    bim = pd.read_csv(stem + ".bim", sep="\t", header=None, dtype=str)
    bim.loc[bim[0] == "12", 3] = "1"  # no chr12 record where the panel looks
    bim.to_csv(stem + ".bim", sep="\t", header=False, index=False)
    with pytest.raises(InputError, match=r"cannot tell the genome build of .*mt\.bed.*set cohort.build"):
        extract_panel([stem + ".bed"], PANEL)


# ------------------------------------------------------------------ bad input names the file


def test_bed_without_bim_names_the_file(tmp_path, cohort):
    _, enc = cohort
    shutil.copy(enc["bed"][0], tmp_path / "x.bed")
    shutil.copy(os.path.splitext(enc["bed"][0])[0] + ".fam", tmp_path / "x.fam")
    with pytest.raises(InputError, match=r"x\.bed: its variant \(\.bim\) file .*x\.bim does not exist"):
        extract_panel([str(tmp_path / "x.bed")], PANEL)


def test_bed_of_other_size_names_the_files(tmp_path, cohort):
    _, enc = cohort
    stem = os.path.splitext(enc["bed"][0])[0]
    for ext in (".bed", ".fam"):
        shutil.copy(stem + ext, tmp_path / f"x{ext}")
    lines = open(stem + ".bim").read().splitlines()
    (tmp_path / "x.bim").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(InputError, match=rf"x\.bed has \d+ bytes, but {len(lines) - 1} variants .*x\.bim"):
        extract_panel([str(tmp_path / "x.bed")], PANEL)


def test_bgen_with_sample_file_of_other_count_names_both(tmp_path, cohort):
    _, enc = cohort
    shutil.copy(enc["bgen_zstd"][0], tmp_path / "x.bgen")
    shutil.copy(enc["bgen_zstd"][0] + ".bgi", tmp_path / "x.bgen.bgi")
    lines = open(os.path.splitext(enc["bgen_zstd"][0])[0] + ".sample").read().splitlines()
    (tmp_path / "x.sample").write_text("\n".join(lines[:-3]) + "\n")
    with pytest.raises(
        InputError, match=r"x\.bgen holds 600 samples but its sample file .*x\.sample lists 597"
    ):
        extract_panel([str(tmp_path / "x.bgen")], PANEL)
    # cohort.sample_file names another one
    (tmp_path / "ukb.sample").write_text("\n".join(lines) + "\n")
    ex = extract_panel([str(tmp_path / "x.bgen")], PANEL, sample_file=str(tmp_path / "ukb.sample"))
    assert len(ex.samples) == 600


def test_pgen_with_other_variant_count_than_pvar_names_both(tmp_path, cohort):
    _, enc = cohort
    stem = os.path.splitext(enc["pgen"][0])[0]
    for ext in (".pgen", ".psam"):
        shutil.copy(stem + ext, tmp_path / f"x{ext}")
    lines = open(stem + ".pvar").read().splitlines()
    (tmp_path / "x.pvar").write_text("\n".join(lines[:-2]) + "\n")
    n = len(lines) - 2  # two header lines
    with pytest.raises(InputError, match=rf"x\.pgen holds {n} variants but its .*x\.pvar lists {n - 2}"):
        extract_panel([str(tmp_path / "x.pgen")], PANEL)


def test_format_from_extension_or_config():
    assert file_formats(["a.vcf.gz", "b.bcf", "c.bed", "d.pgen", "e.bgen"]) == [
        "vcf",
        "bcf",
        "bed",
        "pgen",
        "bgen",
    ]
    assert file_formats(["x.dat"], declared="bgen") == ["bgen"]
    with pytest.raises(InputError, match=r"cannot tell the format of x\.dat .*set cohort.format"):
        file_formats(["x.dat"])
    assert [panel_contig(c) for c in ("chr12", "12", "012", "26", "MT", "chrM", "13")] == [
        "12", "12", "12", "MT", "MT", "MT", None,
    ]  # fmt: skip


def test_companion_files_are_inputs(cohort):
    _, enc = cohort
    stem = os.path.splitext(enc["bed"][0])[0]
    assert companion_files(enc["bed"][0]) == [stem + ".bim", stem + ".fam"]
    bgen = enc["bgen_zstd"][0]
    assert companion_files(bgen) == [bgen + ".bgi", os.path.splitext(bgen)[0] + ".sample"]


def test_bgen_without_bgi_walks_the_headers(tmp_path, cohort, caplog):
    _, enc = cohort
    shutil.copy(enc["bgen_zstd"][0], tmp_path / "x.bgen")
    shutil.copy(os.path.splitext(enc["bgen_zstd"][0])[0] + ".sample", tmp_path / "x.sample")
    with caplog.at_level(logging.WARNING):
        ex = extract_panel([str(tmp_path / "x.bgen")], PANEL, build="GRCh38")
    assert "has no .bgi index: walking its variant headers once" in caplog.text
    assert ex.variants["found"].all()
    with sqlite3.connect(
        enc["bgen_zstd"][0] + ".bgi"
    ) as con:  # the index we did not use is a real bgenix one
        assert con.execute("SELECT count(*) FROM Variant").fetchone()[0] > 8


# ------------------------------------------------------------------ record filters


def _vcf_with_quality(path):
    """Two panel records: rs731236 FILTER LowQual, rs1544410 INFO R2=0.21; rs7975232 R2=0.95."""
    lines = [
        "##fileformat=VCFv4.2",
        "##contig=<ID=chr12,length=133275309>",
        '##FILTER=<ID=LowQual,Description="low quality">',
        '##INFO=<ID=R2,Number=1,Type=Float,Description="imputation r2">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC",
    ]
    recs = []
    for vid, filt, info in (
        ("rs731236", "LowQual", "."),
        ("rs7975232", "PASS", "R2=0.95"),
        ("rs1544410", ".", "R2=0.21"),
    ):
        pv = PANEL[vid]
        recs.append(
            (
                pv.pos("GRCh38"),
                f"chr12\t{pv.pos('GRCh38')}\t{vid}\t{pv.ref}\t{pv.alt}\t.\t{filt}\t{info}\tGT\t0/0\t0/1\t1/1",
            )
        )
    text = "\n".join(lines + [r for _, r in sorted(recs)]) + "\n"
    with open(str(path)[:-3], "w") as fh:
        fh.write(text)
    pysam.tabix_index(str(path)[:-3], preset="vcf", force=True)
    return str(path)


@pytest.mark.parametrize("fast", [True, False])
def test_lowqual_and_low_r2_records_are_excluded_with_the_reason(tmp_path, fast):
    vcf = _vcf_with_quality(tmp_path / "q.vcf.gz")
    panel = PANEL.select(["rs731236", "rs7975232", "rs1544410"])
    # the pysam text reader and the cyvcf2 reader
    ex = extract_panel([vcf], panel, min_info=0.3, reader="auto" if fast else "cyvcf2")
    v = ex.variants.set_index("variant")
    assert v.loc["rs731236", "match"] == "excluded"
    assert v.loc["rs731236", "reason"] == "FILTER is LowQual, not PASS (genotypes.require_pass)"
    assert v.loc["rs731236", "filter"] == "LowQual"
    assert v.loc["rs1544410", "match"] == "excluded"
    assert v.loc["rs1544410", "reason"] == "imputation quality R2 0.21 is below genotypes.min_info 0.3"
    assert v.loc["rs1544410", "info"] == pytest.approx(0.21)
    assert v.loc["rs7975232", "match"] == "exact" and v.loc["rs7975232", "info"] == pytest.approx(0.95)
    assert not v.loc["rs731236", "found"] and v.loc["rs7975232", "found"]
    calls = ex.calls.set_index(["variant", "sample"])
    assert (calls.loc["rs731236", "status"] == "excluded").all()
    # switched off: both are used
    ex = extract_panel([vcf], panel, require_pass=False, min_info=0)
    assert ex.variants["found"].all()


def test_record_filter_reason_and_impute_info():
    rec = Record(
        "f", "12", 1, ".", "A", ["G"], None, None, None, None, filter="PASS", info=0.5, info_key="INFO"
    )
    assert record_filter_reason(rec, min_info=0.3) == ""
    assert "INFO 0.5 is below genotypes.min_info 0.8" in record_filter_reason(rec, min_info=0.8)
    # hard calls (0/1 probabilities) are perfectly imputed; monomorphic gives 1
    gp = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]], dtype=float)
    assert impute_info(gp) == pytest.approx(1.0)
    assert impute_info(np.array([[1.0, 0, 0]] * 3)) == 1.0
    assert np.isnan(impute_info(np.full((2, 3), np.nan)))


def test_impute_info_matches_r():
    fixture = REPO / "tests" / "fixtures" / "impute_info"
    gp = pd.read_csv(fixture / "gp.tsv", sep="\t")
    expected = pd.read_csv(fixture / "info.tsv", sep="\t").set_index("variant")["info"]
    for variant, rows in gp.groupby("variant", sort=False):
        ploidy = 1 if variant.startswith("haploid") else 2
        cols = ["p0", "p1"] + (["p2"] if ploidy == 2 else [])
        got = impute_info(rows[cols].to_numpy(dtype=float), ploidy=ploidy)
        assert got == pytest.approx(expected[variant], abs=1e-12), variant


# ------------------------------------------------------------------ files written by plink2 itself

PLINK2 = REPO / "tests" / "fixtures" / "plink2_cohort"


@pytest.mark.parametrize("name", ["cohort.bed", "cohort.pgen", "cohort.bgen"])
def test_files_written_by_plink2_give_the_vcf_calls(name):
    """bed, pgen and BGEN 1.2 as plink2 writes them (make_fixtures.sh): the VCF's calls."""
    ref = extract_panel([str(PLINK2 / "chr12.vcf.gz"), str(PLINK2 / "chrM.vcf.gz")], PANEL)
    ex = extract_panel([str(PLINK2 / name)], PANEL)
    assert ex.build == "GRCh38"
    assert ex.samples == ref.samples
    assert (ex.calls["status"] == ref.calls["status"]).all()
    np.testing.assert_array_equal(ex.calls.effect_count.to_numpy(), ref.calls.effect_count.to_numpy())
    assert ex.variants["found"].all()
    if name.endswith(".bgen"):  # hard calls as probabilities: IMPUTE info 1
        assert (ex.variants["info"] == 1).all()
