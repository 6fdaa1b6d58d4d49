"""Config validation, semantic checks (vdrbone.settings) and run ids (vdrbone.provenance)."""

import copy
import json

import pytest
import yaml
from conftest import REPO, default_config

from vdrbone.errors import InputError
from vdrbone.panel import read_panel
from vdrbone.provenance import check_run_folder, fingerprint
from vdrbone.settings import (
    check_config,
    cohort_configs,
    load_yaml,
    resolve_run_id,
    suppress_below,
    validate_config,
)

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
PANEL_IDS = read_panel(REPO / "resources" / "vdr_snps.tsv").ids


def test_default_config_is_valid_and_gets_defaults():
    cfg = validate_config(default_config(), SCHEMA)
    assert cfg["qc"]["action"] == "flag"
    assert cfg["genotypes"]["mt_alt"] == "any"
    assert cfg["association"]["min_stratum_n"] == 30
    assert cfg["association"]["collinearity_tolerance"] == 1e-7
    del cfg["association"]["collinearity_tolerance"]
    assert validate_config(cfg, SCHEMA)["association"]["collinearity_tolerance"] == 1e-7


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c.update(colour="red"), "unknown config key 'colour' in the top level"),
        (lambda c: c["cohort"].update(bild="GRCh38"), "unknown config key 'bild' in cohort"),
        (lambda c: c["cohort"].update(build="GRCh39"), "config key cohort.build: 'GRCh39' is not one of"),
        (
            lambda c: c.update(covariates="age_years"),
            "config key covariates: 'age_years' is not of type array",
        ),
        (
            lambda c: c["simulate"].update(n_samples="many"),
            "config key simulate.n_samples: 'many' is not of type",
        ),
        (lambda c: c["outcomes"]["fracture"].update(type="yes/no"), "config key outcomes.fracture.type"),
        (
            lambda c: c["cohort"].pop("vcf"),
            "config key cohort: give the genotype files as genotypes (or its alias vcf)",
        ),
        (lambda c: c.update(strata=["all", "age"]), "config key strata.1: 'age' is not one of"),
    ],
)
def test_schema_errors_name_the_key(mutate, message):
    cfg = default_config()
    mutate(cfg)
    with pytest.raises(InputError, match="invalid configuration") as err:
        validate_config(cfg, SCHEMA)
    assert message in str(err.value)


def _valid(**changes):
    cfg = validate_config(default_config(), SCHEMA)
    cfg["panel"] = str(REPO / "resources" / "vdr_snps.tsv")
    for key, value in changes.items():
        cfg[key] = value
    return cfg


def test_unknown_variant_id_is_named():
    cfg = _valid(variants=["rs731236", "rs9999999"])
    with pytest.raises(InputError, match=r"config key variants: unknown variant id\(s\) rs9999999"):
        check_config(cfg, PANEL_IDS)


def test_missing_input_file_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = _valid()
    cfg["simulate"]["enabled"] = False
    cfg["cohort"]["phenotypes"] = "pheno.tsv"
    with pytest.raises(InputError, match=r"config key cohort.phenotypes: file 'pheno.tsv' does not exist"):
        check_config(cfg, PANEL_IDS)
    (tmp_path / "pheno.tsv").write_text("participant\n")
    with pytest.raises(
        InputError, match=r"config key cohort.genotypes\[0\]: file 'results/synthetic/synthetic-eur/chr12"
    ):
        check_config(cfg, PANEL_IDS)


def test_simulated_inputs_need_not_exist_but_must_lie_in_outdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = _valid()
    assert check_config(cfg, PANEL_IDS) == []
    cfg["cohort"]["phenotypes"] = "elsewhere/phenotypes.tsv"
    with pytest.raises(InputError, match="not inside simulate.outdir"):
        check_config(cfg, PANEL_IDS)


def test_binary_outcome_needs_codes():
    cfg = _valid()
    del cfg["outcomes"]["fracture"]["case"]
    with pytest.raises(InputError, match="outcomes.fracture: a binary outcome needs"):
        check_config(cfg, PANEL_IDS)


def test_contradictory_codes():
    cfg = _valid()
    cfg["phenotype_coding"]["sex"]["male"] = ["M", "F"]
    with pytest.raises(InputError, match=r"code\(s\) \['F'\] listed as both female and male"):
        check_config(cfg, PANEL_IDS)


def test_fingerprint_and_run_id(tmp_path):
    cfg = _valid()
    fp = fingerprint(cfg, workflow_dir=REPO)
    assert fp == fingerprint(copy.deepcopy(cfg), workflow_dir=REPO)
    assert resolve_run_id(cfg, fp) == f"synthetic-eur-{fp[:10]}"
    changed = copy.deepcopy(cfg)
    changed["simulate"]["seed"] += 1
    assert fingerprint(changed, workflow_dir=REPO) != fp
    explicit = dict(cfg, run_id="my-run")
    assert fingerprint(explicit, workflow_dir=REPO) == fp  # run_id itself is not fingerprinted
    assert resolve_run_id(explicit, fp) == "my-run"


def test_fingerprint_follows_input_content(tmp_path):
    cfg = _valid()
    cfg["simulate"]["enabled"] = False
    pheno = tmp_path / "p.tsv"
    pheno.write_text("participant\n1\n")
    cfg["cohort"]["phenotypes"] = str(pheno)
    cfg["cohort"]["genotypes"] = [str(pheno)]
    cache = {}
    fp1 = fingerprint(cfg, workflow_dir=REPO, cache_path=str(tmp_path / "cache.json"))
    pheno.write_text("participant\n2\n")
    fp2 = fingerprint(cfg, workflow_dir=REPO, cache_path=str(tmp_path / "cache.json"))
    assert fp1 != fp2
    assert cache == {}


def test_explicit_run_id_with_other_config_is_refused(tmp_path):
    run_dir = tmp_path / "results/runs/my-run"
    run_dir.mkdir(parents=True)
    check_run_folder(run_dir, "my-run", "a" * 64)  # no record yet: fine
    (run_dir / "run.json").write_text(json.dumps({"fingerprint": "b" * 64}))
    check_run_folder(run_dir, "my-run", "b" * 64)  # same fingerprint: fine
    with pytest.raises(InputError, match="already holds a run made with a different configuration"):
        check_run_folder(run_dir, "my-run", "a" * 64)


def test_suppression_default_depends_on_synthetic():
    cfg = _valid()
    assert suppress_below(cfg) == 0
    cfg["cohort"]["synthetic"] = False
    assert suppress_below(cfg) == 5
    cfg["report"]["suppress_below"] = 10
    assert suppress_below(cfg) == 10


def test_several_cohorts_expand_to_one_config_each():
    raw = default_config()
    cohort, sim = raw.pop("cohort"), raw.pop("simulate")
    second = dict(cohort, name="second", vcf=["x.vcf.gz"], phenotypes="x.tsv")
    raw["cohorts"] = [{"cohort": cohort, "simulate": sim}, {"cohort": second}]
    cfgs = cohort_configs(validate_config(raw, SCHEMA))
    assert [c["cohort"]["name"] for c in cfgs] == ["synthetic-eur", "second"]
    assert cfgs[0]["simulate"]["enabled"] and not cfgs[1]["simulate"]["enabled"]
    assert all("cohorts" not in c and c["outcomes"] == raw["outcomes"] for c in cfgs)
    raw["run_id"] = "study1"
    assert [c["run_id"] for c in cohort_configs(validate_config(raw, SCHEMA))] == [
        "study1-synthetic-eur",
        "study1-second",
    ]
    raw["cohorts"][1]["cohort"]["name"] = "synthetic-eur"
    with pytest.raises(InputError, match="cohort name.s. synthetic-eur appear more than once"):
        cohort_configs(validate_config(raw, SCHEMA))


def test_cohort_and_cohorts_are_exclusive():
    raw = default_config()
    raw["cohorts"] = [{"cohort": raw["cohort"]}]
    with pytest.raises(InputError, match="give either `cohort`"):
        validate_config(raw, SCHEMA)


def test_fingerprint_covers_panel_content_and_index_files(tmp_path):
    cfg = _valid()
    cfg["simulate"]["enabled"] = False
    vcf = tmp_path / "c.vcf.gz"
    vcf.write_bytes(b"x")
    pheno = tmp_path / "p.tsv"
    pheno.write_text("participant\n1\n")
    panel = tmp_path / "panel.tsv"
    panel.write_text((REPO / "resources" / "vdr_snps.tsv").read_text())
    cfg["cohort"].update(genotypes=[str(vcf)], phenotypes=str(pheno))
    cfg["panel"] = str(panel)
    fp = fingerprint(cfg, workflow_dir=REPO)
    panel.write_text(panel.read_text().replace("\tG\tG\tTaqI", "\tG\tA\tTaqI"))
    fp_panel = fingerprint(cfg, workflow_dir=REPO)
    assert fp_panel != fp  # a changed effect allele in a user panel is a new analysis
    (tmp_path / "c.vcf.gz.tbi").write_bytes(b"index")
    assert fingerprint(cfg, workflow_dir=REPO) != fp_panel  # an index added is an input changed


def test_archive_without_its_run_folder_is_refused(tmp_path):
    archive = tmp_path / "results/archive/r1.tar.gz"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"old")
    with pytest.raises(InputError, match="the archive .* exists but its run folder .* is missing"):
        check_run_folder(tmp_path / "results/runs/r1", "r1", "a" * 64, archive=archive)
    check_run_folder(
        tmp_path / "results/runs/r2", "r2", "a" * 64, archive=tmp_path / "results/archive/r2.tar.gz"
    )


def test_unquoted_yes_no_and_haplotype_block_errors():
    raw = default_config()
    coding = raw["phenotype_coding"]["t2dm"]
    raw["phenotype_coding"]["t2dm"] = {"column": coding["column"], True: ["yes"], False: ["no"]}
    with pytest.raises(InputError, match="read as booleans by YAML; quote them"):
        validate_config(raw, SCHEMA)
    panel = read_panel(REPO / "resources" / "vdr_snps.tsv")
    ploidy = {v.id: v.ploidy for v in panel}
    cfg = _valid()
    cfg["haplotypes"]["extra_variants"] = ["rs11568820"]
    with pytest.raises(InputError, match="haplotypes.extra_variants: 'rs11568820' is not among the analysed"):
        check_config(cfg, PANEL_IDS, ploidy)
    cfg["variants"] = [*cfg["variants"], "rs11568820"]
    cfg["haplotypes"]["extra_variants"] = ["m.4823"]
    with pytest.raises(InputError, match="'m.4823' is haploid"):
        check_config(cfg, PANEL_IDS, ploidy)


@pytest.mark.parametrize("value", [1e-9, 0.5, "tiny"])
def test_collinearity_tolerance_range(value):
    cfg = default_config()
    cfg["association"]["collinearity_tolerance"] = value
    with pytest.raises(InputError, match="config key association.collinearity_tolerance"):
        validate_config(cfg, SCHEMA)


def test_duplicate_keys_are_refused_at_any_level_with_both_lines_and_the_file(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(
        "outcomes:\n"
        "  bmd_site: {column: ls_bmd, type: continuous}\n"
        "  fracture: {column: any_fracture, type: binary}\n"
        "  bmd_site: {column: fn_bmd, type: continuous}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as e:
        load_yaml(path)
    assert str(e.value).startswith(f"duplicate config key 'bmd_site' under outcomes in {path}: lines 2 and 4")
    # deeper: inside a flow mapping in a list item; and at the top level
    path.write_text("cohorts:\n  - cohort: {name: a, vcf: [x.vcf], name: b}\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"duplicate config key 'name' under cohorts\[0\]\.cohort in .*lines 2 and 2"
    ):
        load_yaml(path)
    path.write_text("variants: [a]\nstrata: [all]\nvariants: [b]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"'variants' at the top level in .*: lines 1 and 3"):
        load_yaml(path)
    # merge keys keep their meaning; equal keys in different mappings are fine
    path.write_text("base: &b {min: 1}\nqc: {<<: *b, min: 2}\nassociation: {min: 3}\n", encoding="utf-8")
    assert load_yaml(path) == {"base": {"min": 1}, "qc": {"min": 2}, "association": {"min": 3}}
    # the default config reads as with yaml.safe_load
    default = REPO / "config" / "config.yaml"
    assert load_yaml(default) == yaml.safe_load(default.read_text(encoding="utf-8"))


def test_schema_read_by_libyaml_is_the_safe_load_schema():
    """settings._schema parses the schema with libyaml's CSafeLoader (where PyYAML has it): the
    same data as yaml.safe_load."""
    from vdrbone import settings

    schema = settings._schema(str(SCHEMA))
    assert schema == yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    assert settings._schema(str(SCHEMA)) is schema  # read once per process
