"""Configuration: schema validation with readable messages, semantic checks, run ids.

A run is a function of (config, input files, workflow code). Its id is the cohort name plus
a fingerprint of those three, so an unchanged rerun resolves to the same run folder (and
Snakemake has nothing to do) while any change gets a new folder and leaves earlier runs alone.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import jsonschema
import yaml

from vdrbone.errors import InputError
from vdrbone.files import sha256_file, write_bytes_atomic

RUN_RECORD = "run.json"
_CODE_SUFFIXES = {".py", ".smk", ".yaml", ".yml", ".rst", ".html", ".j2", ".css", ".tsv"}


def _with_defaults(validator_class):
    """A jsonschema validator class that also fills in ``default`` values (as Snakemake does)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    key = _key_path(error)
    if error.validator == "additionalProperties":
        if isinstance(error.instance, dict) and any(isinstance(k, bool) for k in error.instance):
            return (
                f"config key {key}: the keys yes/no were read as booleans by YAML; "
                'quote them ("yes": [...], "no": [...])'
            )
        allowed = sorted(error.schema.get("properties", {}))
        extra = re.findall(r"'([^']+)' (?:was|were) unexpected", error.message)
        names = extra[0] if extra else error.message
        where = "the top level" if key == "(top level)" else key
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return f"unknown config key {names!r} in {where}{hint}"
    if error.validator == "oneOf" and key == "(top level)":
        return (
            "give either `cohort` (with an optional `simulate`) or `cohorts` (a list), "
            "not both and not neither"
        )
    if error.validator == "required":
        return f"config key {key}: {error.message}"
    if error.validator == "type":
        return f"config key {key}: {error.instance!r} is not of type {error.validator_value}"
    if error.validator == "enum":
        return f"config key {key}: {error.instance!r} is not one of {error.validator_value}"
    return f"config key {key}: {error.message}"


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Validate ``config`` against the JSON schema, fill in defaults, return a deep copy.

    Raises :class:`InputError` listing every violation with the dotted key that holds it.
    """
    with open(schema_path, encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)
    config = copy.deepcopy(config)
    validator = _with_defaults(jsonschema.Draft7Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = "\n  - ".join(dict.fromkeys(_describe(e) for e in errors))
        raise InputError(f"invalid configuration ({len(errors)} problem(s)):\n  - {lines}")
    return config


def cohort_configs(config: dict) -> list[dict]:
    """One single-cohort config per cohort: ``config`` itself, or one per ``cohorts`` entry.

    Each entry's ``cohort`` and ``simulate`` replace the top-level ones; every other setting is
    shared. With an explicit ``run_id`` and several cohorts, each run is ``<run_id>-<cohort>``.
    Cohort names must be unique.
    """
    if not config.get("cohorts"):
        return [config]
    names = [item["cohort"]["name"] for item in config["cohorts"]]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"config key cohorts: cohort name(s) {', '.join(dupes)} appear more than once")
    shared = {k: v for k, v in config.items() if k != "cohorts"}
    out = []
    for item in config["cohorts"]:
        cfg = copy.deepcopy(shared)
        cfg["cohort"] = copy.deepcopy(item["cohort"])
        cfg["simulate"] = copy.deepcopy(item.get("simulate", {"enabled": False}))
        if config.get("run_id"):
            cfg["run_id"] = f"{config['run_id']}-{item['cohort']['name']}"
        out.append(cfg)
    return out


def simulated_paths(config: dict) -> set[str]:
    """Input paths that the simulator generates (empty when simulation is off)."""
    sim = config.get("simulate") or {}
    if not sim.get("enabled"):
        return set()
    cohort = config["cohort"]
    return {p for p in [*cohort["vcf"], cohort["phenotypes"]] if _inside(p, sim["outdir"])}


def _inside(path: str, folder: str) -> bool:
    return os.path.normpath(path).startswith(os.path.normpath(folder) + os.sep)


def check_config(
    config: dict, panel_ids: Iterable[str], panel_ploidy: dict[str, int] | None = None
) -> list[str]:
    """Semantic checks the schema cannot express; raise InputError naming the key or file.

    Returns warnings (strings) for things that are allowed but worth saying.
    """
    warnings: list[str] = []
    cohort = config["cohort"]
    sim = config.get("simulate") or {}
    generated = simulated_paths(config)
    if sim.get("enabled"):
        outside = [p for p in [*cohort["vcf"], cohort["phenotypes"]] if p not in generated]
        if outside:
            raise InputError(
                f"simulate.enabled is true but cohort file(s) {', '.join(outside)} are not inside "
                f"simulate.outdir ({sim['outdir']}); point cohort.vcf and cohort.phenotypes into it "
                "or set simulate.enabled: false"
            )
        names = {os.path.basename(p) for p in cohort["vcf"]}
        expected = {"chr12.vcf.gz", "chrM.vcf.gz"}
        if not names <= expected:
            raise InputError(
                f"cohort.vcf: the simulator writes {sorted(expected)} into simulate.outdir, "
                f"got {sorted(names)}"
            )
        if os.path.basename(cohort["phenotypes"]) != "phenotypes.tsv":
            raise InputError("cohort.phenotypes: the simulator writes phenotypes.tsv into simulate.outdir")
    for key, path in [("cohort.phenotypes", cohort["phenotypes"]), ("panel", config["panel"])] + [
        (f"cohort.vcf[{i}]", p) for i, p in enumerate(cohort["vcf"])
    ]:
        if path not in generated and not os.path.isfile(path):
            raise InputError(
                f"config key {key}: file {path!r} does not exist (working directory {os.getcwd()})"
            )
    panel_ids = list(panel_ids)
    unknown = [v for v in config["variants"] if v not in panel_ids]
    if unknown:
        raise InputError(
            f"config key variants: unknown variant id(s) {', '.join(unknown)}; "
            f"the panel {config['panel']} has {', '.join(panel_ids)}"
        )
    for key, spec in config["outcomes"].items():
        if spec["type"] == "binary" and not (spec.get("case") and spec.get("control")):
            raise InputError(
                f"config key outcomes.{key}: a binary outcome needs non-empty 'case' and 'control' codes"
            )
        if spec["type"] != "binary" and (spec.get("case") or spec.get("control")):
            raise InputError(f"config key outcomes.{key}: 'case'/'control' codes only apply to type binary")
    hap = config.get("haplotypes") or {}
    if hap.get("enabled"):
        ploidy = dict(panel_ploidy or {})
        for key in ("block", "extra_variants"):
            for vid in hap.get(key) or []:
                if vid not in config["variants"]:
                    raise InputError(
                        f"config key haplotypes.{key}: {vid!r} is not among the analysed variants "
                        f"({', '.join(config['variants'])})"
                    )
                if ploidy.get(vid) == 1:
                    raise InputError(
                        f"config key haplotypes.{key}: {vid!r} is haploid (mtDNA); "
                        "haplotypes need diploid variants"
                    )
    for effect in sim.get("effects", []) if sim.get("enabled") else []:
        if effect["variant"] not in panel_ids:
            raise InputError(f"config key simulate.effects: unknown variant id {effect['variant']!r}")
    coding = config["phenotype_coding"]
    clash = set(coding["sex"]["female"]) & set(coding["sex"]["male"])
    if clash:
        raise InputError(
            f"config key phenotype_coding.sex: code(s) {sorted(clash)} listed as both female and male"
        )
    clash = set(coding["t2dm"]["yes"]) & set(coding["t2dm"]["no"])
    if clash:
        raise InputError(
            f"config key phenotype_coding.t2dm: code(s) {sorted(clash)} listed as both yes and no"
        )
    if not cohort.get("synthetic") and sim.get("enabled"):
        warnings.append(
            "simulate.enabled is true but cohort.synthetic is false: small-cell suppression stays on"
        )
    return warnings


def suppress_below(config: dict) -> int:
    """Small-cell threshold: the configured value, else 0 for synthetic and 5 for real cohorts."""
    value = config.get("report", {}).get("suppress_below")
    if value is not None:
        return int(value)
    return 0 if config["cohort"].get("synthetic") else 5


def code_files(workflow_dir: str | Path) -> list[Path]:
    """Files whose content defines what the workflow computes (rules, scripts, schemas, panel)."""
    root = Path(workflow_dir)
    files = [root / "Snakefile"] if (root / "Snakefile").exists() else []
    for sub in ("workflow", "resources"):
        base = root / sub
        if base.is_dir():
            files += [
                p
                for p in base.rglob("*")
                if p.is_file() and p.suffix in _CODE_SUFFIXES and "__pycache__" not in p.parts
            ]
    return sorted(files)


def fingerprint(config: dict, *, workflow_dir: str | Path, cache_path: str | None = None) -> str:
    """Hex sha256 over the config (without run_id), the input files' contents and the code.

    Files the simulator generates are represented by the simulate section of the config
    (the simulation is deterministic for a seed), so the fingerprint is the same before and
    after they exist.
    """
    cache: dict = {}
    if cache_path and os.path.exists(cache_path):
        try:
            with open(cache_path, encoding="utf-8") as fh:
                cache = json.load(fh)
        except (OSError, ValueError):
            cache = {}
    h = hashlib.sha256()
    cfg = {k: v for k, v in config.items() if k != "run_id"}
    h.update(json.dumps(cfg, sort_keys=True, default=str).encode())
    generated = simulated_paths(config)
    # The inputs by content: VCFs with their index files (an index is a rule input, so adding or
    # rebuilding one must not rerun an existing run), the phenotype table and the panel.
    inputs = [config["panel"], config["cohort"]["phenotypes"]]
    for vcf in config["cohort"]["vcf"]:
        inputs.append(vcf)
        if vcf not in generated:
            inputs += [f"{vcf}{ext}" for ext in (".tbi", ".csi") if os.path.exists(f"{vcf}{ext}")]
    for path in inputs:
        h.update(path.encode())
        if path not in generated:
            h.update(sha256_file(path, cache).encode())
    root = Path(workflow_dir)
    for path in code_files(root):
        h.update(str(path.relative_to(root)).encode())
        h.update(sha256_file(path, cache).encode())
    if cache_path:
        try:
            write_bytes_atomic(json.dumps(cache).encode(), cache_path)
        except OSError:
            pass
    return h.hexdigest()


def resolve_run_id(config: dict, fp: str) -> str:
    """The explicit ``run_id``, or ``<cohort name>-<first 10 hex digits of the fingerprint>``."""
    return config.get("run_id") or f"{config['cohort']['name']}-{fp[:10]}"


def check_run_folder(run_dir: str | Path, run_id: str, fp: str, *, archive: str | Path | None = None) -> None:
    """Refuse to reuse a run id whose folder holds a run with another fingerprint, or whose
    archive exists while its run folder is gone (the archive would be written anew)."""
    record = Path(run_dir) / RUN_RECORD
    if not record.exists():
        if archive is not None and Path(archive).exists():
            raise InputError(
                f"run_id {run_id!r}: the archive {archive} exists but its run folder {run_dir} is "
                "missing, so this run would write the archive anew. Archives are never overwritten: "
                "restore the run folder, move the archive away yourself, or set another run_id."
            )
        return
    try:
        previous = json.loads(record.read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError) as exc:
        raise InputError(f"{record} is unreadable ({exc}); choose another run_id") from exc
    if previous != fp:
        raise InputError(
            f"run_id {run_id!r}: {run_dir} already holds a run made with a different configuration, "
            f"inputs or workflow code (fingerprint {previous[:10] if previous else '?'} there, "
            f"{fp[:10]} now). Runs are never overwritten: set a new run_id, or run_id: null to "
            "derive one."
        )


def load_yaml(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}
