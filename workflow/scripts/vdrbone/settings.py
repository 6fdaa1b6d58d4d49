"""Settings: the only code that reads the config.

The config is validated against ``workflow/schemas/config.schema.yaml`` (readable messages, the
schema's defaults filled in), checked for what the schema cannot express, split per cohort, and
turned once into typed, frozen :class:`Settings`. The rest of the package takes a
:class:`Settings` (or named options from it), never the config dict; every default lives in the
schema, none is restated in code.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

import jsonschema
import yaml

from vdrbone.errors import InputError
from vdrbone.strata import strata_labels

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


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
    if error.validator == "anyOf" and {"genotypes", "vcf"} <= {
        k for sub in error.validator_value for k in sub.get("required", [])
    }:
        return f"config key {key}: give the genotype files as genotypes (or its alias vcf)"
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
    config = copy.deepcopy(config)
    validator = _with_defaults(jsonschema.Draft7Validator)(_schema(str(schema_path)))
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = "\n  - ".join(dict.fromkeys(_describe(e) for e in errors))
        raise InputError(f"invalid configuration ({len(errors)} problem(s)):\n  - {lines}")
    cohorts = [("cohort", config["cohort"])] if config.get("cohort") else []
    cohorts += [(f"cohorts[{i}].cohort", c["cohort"]) for i, c in enumerate(config.get("cohorts") or [])]
    for key, cohort in cohorts:
        genotype_paths(cohort, key=key)
    return config


def genotype_paths(cohort: dict, *, key: str = "cohort") -> list[str]:
    """``cohort.genotypes``, with ``cohort.vcf`` (its earlier name) folded into it in place.

    Giving both with different lists is an InputError naming the key.
    """
    if "vcf" in cohort:
        alias = cohort.pop("vcf")
        if cohort.get("genotypes", alias) != alias:
            raise InputError(
                f"config key {key}: genotypes and vcf (its alias) list different files; give only genotypes"
            )
        cohort["genotypes"] = alias
    return cohort["genotypes"]


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
    return {p for p in [*cohort["genotypes"], cohort["phenotypes"]] if _inside(p, sim["outdir"])}


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
        outside = [p for p in [*cohort["genotypes"], cohort["phenotypes"]] if p not in generated]
        if outside:
            raise InputError(
                f"simulate.enabled is true but cohort file(s) {', '.join(outside)} are not inside "
                f"simulate.outdir ({sim['outdir']}); point cohort.genotypes and cohort.phenotypes into it "
                "or set simulate.enabled: false"
            )
        names = {os.path.basename(p) for p in cohort["genotypes"]}
        expected = {"chr12.vcf.gz", "chrM.vcf.gz"}
        if not names <= expected:
            raise InputError(
                f"cohort.genotypes: the simulator writes {sorted(expected)} into simulate.outdir, "
                f"got {sorted(names)}"
            )
        if os.path.basename(cohort["phenotypes"]) != "phenotypes.tsv":
            raise InputError("cohort.phenotypes: the simulator writes phenotypes.tsv into simulate.outdir")
    for key, path in [("cohort.phenotypes", cohort["phenotypes"]), ("panel", config["panel"])] + [
        (f"cohort.genotypes[{i}]", p) for i, p in enumerate(cohort["genotypes"])
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
    condition_on = (config.get("association") or {}).get("condition_on", "block_top")
    if isinstance(condition_on, list):
        for vid in condition_on:
            if vid not in config["variants"]:
                raise InputError(
                    f"config key association.condition_on: {vid!r} is not among the analysed variants "
                    f"({', '.join(config['variants'])})"
                )
        if spec["type"] == "who_class":
            src = config["outcomes"].get(spec["from"], {})
            if src.get("type") not in ("continuous", "tscore"):
                raise InputError(
                    f"config key outcomes.{key}.from: {spec['from']!r} must be a continuous (BMD) or tscore "
                    f"outcome of this config; outcomes are {', '.join(config['outcomes'])}"
                )
            if src["type"] == "continuous" and not spec.get("reference"):
                raise InputError(
                    f"config key outcomes.{key}.reference: needed to compute T-scores from {spec['from']!r} "
                    "(a key of tscore_reference)"
                )
        for role in ("time", "event", "entry", "event_codes", "censor_codes"):
            if spec["type"] != "time_to_event" and spec.get(role):
                raise InputError(f"config key outcomes.{key}.{role}: only applies to type time_to_event")
    for i, inter in enumerate(config.get("interactions") or []):
        if inter["column"] in ("sex", "t2dm", "sample"):
            raise InputError(
                f"config key interactions[{i}].column: {inter['column']!r} is built in (SNP x sex and "
                "SNP x T2DM are always tested); list other phenotype columns"
            )
        if inter.get("levels") and inter.get("type", "continuous") != "categorical":
            raise InputError(f"config key interactions[{i}].levels: only for type categorical")
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
    primary = config.get("primary") or {}
    for key, known in (("variants", config["variants"]), ("outcomes", list(config["outcomes"]))):
        unknown = [x for x in primary.get(key) or [] if x not in known]
        if unknown:
            raise InputError(
                f"config key primary.{key}: {', '.join(map(str, unknown))} not among the analysed {key} "
                f"({', '.join(known)})"
            )
    if primary.get("strata"):
        labels = strata_labels(list(config.get("strata", ["all"])))
        missing = [s for s in primary["strata"] if s not in labels]
        if missing:
            raise InputError(
                f"config key primary.strata: {', '.join(missing)} not among the analysed strata "
                f"({', '.join(labels)})"
            )
    ancestry = (config.get("ancestry") or {}).get("covariates") or []
    both = [c for c in ancestry if c in config.get("covariates", [])]
    if both:
        warnings.append(f"ancestry.covariates {', '.join(both)} also listed in covariates: used once")
    if not cohort.get("synthetic") and sim.get("enabled"):
        warnings.append(
            "simulate.enabled is true but cohort.synthetic is false: small-cell suppression stays on"
        )
    return warnings


def model_covariates(config: dict) -> list[str]:
    """The numeric covariates of every model: ``covariates``, then the ancestry covariates
    (``ancestry.covariates``, e.g. principal components supplied as phenotype columns), once each."""
    names = list(config.get("covariates", []))
    ancestry = (config.get("ancestry") or {}).get("covariates") or []
    return names + [c for c in ancestry if c not in names]


def suppress_below(config: dict) -> int:
    """Small-cell threshold: the configured value, else 0 for synthetic and 5 for real cohorts."""
    value = config.get("report", {}).get("suppress_below")
    if value is not None:
        return int(value)
    return 0 if config["cohort"].get("synthetic") else 5


# --------------------------------------------------------------------------- typed settings


@functools.cache
def _schema(schema_path: str = str(SCHEMA_PATH)) -> dict:
    """The config schema (read once per process; not to be modified). Parsed by libyaml's
    ``CSafeLoader`` where PyYAML has it (the same data as ``yaml.safe_load``, ~10x faster on
    this 700-line schema, which every job reading the settings parses)."""
    with open(schema_path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def with_schema_defaults(config: Mapping) -> dict:
    """A deep copy of ``config`` with every schema default filled in, without validating.

    The same defaults :func:`validate_config` fills in, for configs built in code (tests,
    benchmarks) that hold only the keys they change.
    """
    config = copy.deepcopy(dict(config))
    validator = _with_defaults(jsonschema.Draft7Validator)(_schema())
    for _ in validator.iter_errors(config):  # filling defaults is a side effect of validation
        pass
    return config


def _frozen(value):
    """Read-only view of nested config values: mappings as MappingProxyType, lists as tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def _fields(cls, section: Mapping) -> dict:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: _frozen(v) for k, v in section.items() if k in names}


@dataclasses.dataclass(frozen=True)
class CohortSettings:
    """``cohort``: name, genotype files (``vcf`` is folded into ``genotypes``), their format and BGEN
    sample file, declared build, phenotype table (and Excel sheet) and its sample column."""

    name: str
    genotypes: tuple[str, ...]
    build: str
    phenotypes: str
    sample_column: str
    synthetic: bool
    format: str
    sample_file: str | None = None  # no schema default: beside the .bgen
    phenotype_sheet: str | int | None = None  # no schema default: the first sheet


@dataclasses.dataclass(frozen=True)
class SimulateSettings:
    """``simulate``: the synthetic cohort the workflow writes (off for real data)."""

    enabled: bool
    outdir: str
    population: str
    n_samples: int
    seed: int
    build: str
    contig_style: str
    mt_coding: str
    heteroplasmy_rate: float
    genotype_missing_rate: float
    phenotype_missing_rate: float
    n_background: Mapping
    null_mode: bool
    effects: tuple
    mt_carrier_freq: Mapping | None = None  # the schema has no default: the population's own


@dataclasses.dataclass(frozen=True)
class GenotypeSettings:
    """``genotypes``: heteroplasmy and GP thresholds, dosage use, mtDNA ALT matching, record filters
    (FILTER PASS, imputation quality), absent variants."""

    heteroplasmy_threshold: float
    gp_threshold: float
    use_dosage: bool
    mt_alt: str
    require_pass: bool
    min_info: float
    absent_variants: str


@dataclasses.dataclass(frozen=True)
class QcSettings:
    """``qc``: call-rate and HWE thresholds, HWE samples, flag or exclude, sample overlap."""

    min_call_rate: float
    hwe_p: float
    hwe_samples: str
    action: str
    min_sample_overlap: float
    min_sample_call_rate: float
    test_missing_p: float | None = None


@dataclasses.dataclass(frozen=True)
class AssociationSettings:
    """``association``: smallest stratum and case count analysed, multiple-testing family, MAX3,
    covariate collinearity tolerance."""

    min_stratum_n: int
    min_cases: int
    multiple_testing_family: str
    max3: bool
    collinearity_tolerance: float
    mt_min_carriers: int
    mt_min_carrier_cases: int
    condition_on: str | tuple[str, ...] = "block_top"


@dataclasses.dataclass(frozen=True)
class MetaSettings:
    """``meta``: random-effects tau2 estimator, Hartung-Knapp, forest plots' models and strata."""

    tau2_method: str
    hartung_knapp: bool
    forest_models: tuple[str, ...]
    forest_strata: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class HaplotypeSettings:
    """``haplotypes``: the block, extra variants, rare-haplotype threshold, EM and GLM method."""

    enabled: bool
    block: tuple[str, ...]
    extra_variants: tuple[str, ...]
    min_freq: float
    em_max_iter: int
    em_tol: float
    method: str

    @property
    def ids(self) -> list[str]:
        """Block variant ids: ``block`` plus the ``extra_variants`` not already in it."""
        ids = list(self.block)
        return ids + [v for v in self.extra_variants if v not in ids]

    def without(self, gone: Iterable[str]) -> HaplotypeSettings:
        """These settings with the variants ``gone`` taken out of the block (no extras)."""
        gone = set(gone)
        return dataclasses.replace(self, block=tuple(i for i in self.ids if i not in gone), extra_variants=())


@dataclasses.dataclass(frozen=True)
class EpistasisSettings:
    """``epistasis``: whether every pair of panel variants is tested (SNPassoc interactionPval)."""

    enabled: bool


@dataclasses.dataclass(frozen=True)
class PermutationSettings:
    """``permutation``: max(T) permutations (PLINK --mperm), seed, adaptive EMP1 (--perm)."""

    n: int
    seed: int
    adaptive: bool
    adaptive_max: int


@dataclasses.dataclass(frozen=True)
class PowerSettings:
    """``power``: significance level and assumed effect per outcome type (OR, beta, HR)."""

    alpha: float
    assumed_effect: Mapping[str, float]


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything a run computes from, typed and read-only; see :func:`settings_from_config`.

    ``outcomes`` maps each outcome key to its spec (``column``, ``type``, ``label``, ``case``,
    ``control``, ``range``), ``phenotype_coding`` is the section as configured, and
    ``suppress_below`` is the small-cell threshold in force (:func:`suppress_below`). ``cohort``,
    ``simulate`` and ``suppress_below`` are ``None`` for a config without a ``cohort`` (a partial
    config built in code).
    """

    run_id: str | None
    cohort: CohortSettings | None
    simulate: SimulateSettings | None
    panel: str
    variants: tuple[str, ...]
    phenotype_coding: Mapping
    outcomes: Mapping[str, Mapping]
    covariates: tuple[str, ...]
    strata: tuple[str, ...]
    genotypes: GenotypeSettings
    qc: QcSettings
    association: AssociationSettings
    haplotypes: HaplotypeSettings
    meta: MetaSettings
    interactions: tuple[Mapping, ...]
    power: PowerSettings
    epistasis: EpistasisSettings
    permutation: PermutationSettings
    tscore_reference: str
    primary: Mapping
    ancestry_covariates: tuple[str, ...]
    definitions: Mapping
    suppress_below: int | None

    @property
    def model_covariates(self) -> list[str]:
        """The numeric covariates of every model: ``covariates``, then the ancestry covariates
        not already among them."""
        names = list(self.covariates)
        return names + [c for c in self.ancestry_covariates if c not in names]

    @property
    def binary_outcomes(self) -> list[str]:
        """Outcomes analysed as binary (``binary`` and ``who_class``)."""
        from vdrbone.phenotypes import outcome_kind

        return [key for key, spec in self.outcomes.items() if outcome_kind(spec) == "binary"]

    def outcome(self, key: str) -> Mapping:
        """The spec of outcome ``key``; KeyError naming the configured outcomes."""
        if key not in self.outcomes:
            raise KeyError(f"outcome {key!r} is not configured (outcomes: {', '.join(self.outcomes)})")
        return self.outcomes[key]


def settings_from_config(config: Mapping) -> Settings:
    """Typed :class:`Settings` from a (validated, single-cohort) config.

    Keys the config leaves out get the schema's defaults (:func:`with_schema_defaults`), so a
    partial config built in code reads the same as the validated config of a run.
    """
    cfg = with_schema_defaults(config)
    cohort, sim = cfg.get("cohort"), cfg.get("simulate")
    if cohort:
        genotype_paths(cohort)  # ``vcf`` folded into ``genotypes``
    return Settings(
        run_id=cfg.get("run_id"),
        cohort=CohortSettings(**_fields(CohortSettings, cohort)) if cohort else None,
        simulate=SimulateSettings(**_fields(SimulateSettings, sim)) if sim else None,
        panel=cfg["panel"],
        variants=tuple(cfg.get("variants") or ()),
        phenotype_coding=_frozen(cfg.get("phenotype_coding") or {}),
        outcomes=_frozen(cfg.get("outcomes") or {}),
        covariates=tuple(cfg["covariates"]),
        strata=tuple(cfg["strata"]),
        genotypes=GenotypeSettings(**_fields(GenotypeSettings, cfg["genotypes"])),
        qc=QcSettings(**_fields(QcSettings, cfg["qc"])),
        association=AssociationSettings(**_fields(AssociationSettings, cfg["association"])),
        haplotypes=HaplotypeSettings(**_fields(HaplotypeSettings, cfg["haplotypes"])),
        meta=MetaSettings(**_fields(MetaSettings, cfg["meta"])),
        interactions=_frozen(cfg["interactions"]),
        power=PowerSettings(**_fields(PowerSettings, cfg["power"])),
        epistasis=EpistasisSettings(**_fields(EpistasisSettings, cfg["epistasis"])),
        permutation=PermutationSettings(**_fields(PermutationSettings, cfg["permutation"])),
        tscore_reference=cfg["tscore_reference"],
        primary=_frozen(cfg["primary"]),
        ancestry_covariates=tuple(cfg["ancestry"]["covariates"]),
        definitions=_frozen(cfg["definitions"]),
        suppress_below=suppress_below(cfg) if cfg.get("cohort") else None,
    )


def run_inputs(config: Mapping) -> tuple[list[str], set[str]]:
    """The run's input files by content (panel, phenotype table, genotype files with the companion
    and index files that exist) and the subset the simulator generates, for the run fingerprint."""
    generated = simulated_paths(config)
    # The inputs by content: genotype files with their companions (index files are rule inputs, so
    # adding or rebuilding one must not rerun an existing run), the phenotype table and the panel.
    from vdrbone.genotype_files import companion_files

    cohort = config["cohort"]
    inputs = [config["panel"], cohort["phenotypes"]]
    for path in cohort["genotypes"]:
        inputs.append(path)
        if path not in generated:
            inputs += companion_files(
                path, file_format=cohort.get("format", "auto"), sample_file=cohort.get("sample_file")
            )
    return inputs, generated


def resolve_run_id(config: Mapping, fp: str) -> str:
    """The explicit ``run_id``, or ``<cohort name>-<first 10 hex digits of the fingerprint>``."""
    return config.get("run_id") or f"{config['cohort']['name']}-{fp[:10]}"


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping, at any level.

    Plain YAML loaders keep the last of two equal keys without a word (two ``bmd_site:`` under
    ``outcomes`` silently drop the first outcome); this one raises :class:`InputError` naming the
    key, where it sits (dotted path), both line numbers and the file. Merge keys (``<<``) keep
    their YAML meaning.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._key_paths: dict[int, str] = {}  # id(node) -> dotted path of the key holding it

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            path = self._key_paths.get(id(node), "")
            seen: dict = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable key: the SafeLoader reports it
                    continue
                if first is not None:
                    where = f"under {path}" if path else "at the top level"
                    raise InputError(
                        f"duplicate config key {key!r} {where} in {key_node.start_mark.name}: lines "
                        f"{first} and {line}; YAML would silently keep only the second. Remove or "
                        "rename one of them"
                    )
                seen[key] = line
                child = f"{path}.{key}" if path else str(key)
                self._key_paths[id(value_node)] = child
                if isinstance(value_node, yaml.SequenceNode):
                    for i, item in enumerate(value_node.value):
                        self._key_paths[id(item)] = f"{child}[{i}]"
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: str | Path) -> dict:
    """Read a YAML config file with :class:`UniqueKeyLoader` (duplicate keys are an error)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=UniqueKeyLoader) or {}


def check_config_files(paths: Iterable[str | Path]) -> None:
    """Re-read every config file that Snakemake loaded, refusing duplicate keys.

    Snakemake's own loader keeps the last of two equal keys; this raises :class:`InputError`
    (see :class:`UniqueKeyLoader`). A file that only Snakemake's JSON reader accepts is skipped.
    """
    for path in paths:
        try:
            load_yaml(path)
        except yaml.YAMLError:
            continue
