"""Every file a rule's script opens is one of the rule's declared inputs (or its outputs).

The rules are read from ``workflow/rules/*.smk`` (snakefmt layout: one ``key=value`` per line in
``input:`` / ``params:``), the adapters from ``workflow/scripts/*.py`` (ast). An adapter may read
a file only through ``snakemake.input`` (directly, or through a name bound from it) and write
only to ``snakemake.output`` / ``snakemake.log``; it may not list folders. A ``params`` entry that
names a path is allowed only where it is not a file the job reads as data (``PATH_PARAMS``).
"""

from __future__ import annotations

import ast
import re

import pytest
from conftest import REPO

RULES_DIR = REPO / "workflow" / "rules"
SCRIPTS_DIR = REPO / "workflow" / "scripts"
SNAKEMAKE_NAMES = {"sm", "snakemake"}
# Calls whose first argument is a file that is read (or written, for open(..., "w")).
FILE_CALLS = {
    "open",
    "read_tsv",
    "read_panel",
    "read_phenotypes",
    "vcf_samples",
    "genotype_samples",
    "extract_panel",
    "concat_tsv",
    "read_csv",
    "write_shareable_table",
}
LISTING = {"glob", "listdir", "walk", "scandir", "iterdir", "rglob"}
# params that hold a path, and why the job does not read it as data
PATH_PARAMS = {
    (
        "report",
        "checksum_cache",
    ): "memoised SHA-256 of the inputs (an optimisation, rewritten at every parse)",
    ("archive", "run_dir"): "the run folder, to name the archive members (they are inputs)",
    ("archive", "workflow_dir"): "the workflow checkout, for `git rev-parse HEAD` in the manifest",
    ("archive", "index"): "the run index shared by all runs: appended to, never read as data",
}


def parse_rules() -> dict[str, dict]:
    """{rule: {'input': keys, 'params': keys, 'script': file name}} from the .smk files."""
    rules: dict[str, dict] = {}
    for path in sorted(RULES_DIR.glob("*.smk")):
        current, section = None, None
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"^(\s*)rule (\w+):", line)
            if m:
                current = rules.setdefault(m.group(2), {"input": set(), "params": set(), "script": None})
                indent = len(m.group(1))
                section = None
                continue
            if current is None:
                continue
            m = re.match(r"^(\s*)(\w+):\s*$", line)
            if m and len(m.group(1)) == indent + 4:
                section = m.group(2)
                continue
            m = re.match(r"^(\s*)(\w+)=", line)
            if m and section in ("input", "params") and len(m.group(1)) == indent + 8:
                current[section].add(m.group(2))
            m = re.match(r'^\s*"\.\./scripts/(\w+\.py)"', line)
            if m and section == "script":
                current["script"] = m.group(1)
    return rules


RULES = parse_rules()
SCRIPTS = sorted({r["script"] for r in RULES.values() if r["script"]})


def _snakemake_part(node) -> tuple[str, str | None] | None:
    """('input' | 'output' | 'log' | 'params' | ..., key) when ``node`` is ``snakemake.<part>[.key]``."""
    key = None
    if isinstance(node, ast.Subscript):
        key = node.slice.value if isinstance(node.slice, ast.Constant) else None
        node = node.value
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
        key, node = node.attr, node.value
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in SNAKEMAKE_NAMES
    ):
        return node.attr, key
    return None


def _parts_in(node) -> set[str]:
    return {p[0] for n in ast.walk(node) if (p := _snakemake_part(n))}


def _bound_names(tree) -> dict[str, set[str]]:
    """Name -> the snakemake parts (input, output, params, ...) its value was built from."""
    bound: dict[str, set[str]] = {}
    for _ in range(3):  # names bound from names bound from snakemake.input, ...
        for node in ast.walk(tree):
            targets, value = [], None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.For | ast.comprehension):
                targets, value = [node.target], node.iter
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                targets, value = [node.optional_vars], node.context_expr
            if value is None:
                continue
            pairs = [(t, value) for t in targets]
            if (  # for a, b in zip(x, y): a from x, b from y
                len(targets) == 1
                and isinstance(targets[0], ast.Tuple)
                and isinstance(value, ast.Call)
                and _call_name(value) == "zip"
                and len(value.args) == len(targets[0].elts)
            ):
                pairs = list(zip(targets[0].elts, value.args, strict=True))
            for target, source in pairs:
                parts = _parts_in(source) | {
                    p for n in ast.walk(source) if isinstance(n, ast.Name) for p in bound.get(n.id, ())
                }
                for n in ast.walk(target):
                    if isinstance(n, ast.Name) and n.id != "log":
                        bound.setdefault(n.id, set()).update(parts)
    return bound


def _sources(node, bound) -> set[str]:
    parts = _parts_in(node)
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            parts |= bound.get(n.id, set())
    return parts


def _call_name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_reads_only_declared_inputs(script):
    tree = ast.parse((SCRIPTS_DIR / script).read_text(encoding="utf-8"))
    rules = {name: r for name, r in RULES.items() if r["script"] == script}
    bound = _bound_names(tree)
    problems = []
    for node in ast.walk(tree):
        part = _snakemake_part(node)
        if part and part[0] in ("input", "params") and isinstance(part[1], str):
            for name, rule in rules.items():
                if part[1] not in rule[part[0]] and not (part[0] == "input" and part[1] == "keys"):
                    # a key used by this script but declared by another rule of the script is fine
                    # when the script branches on the rule (haplotypes.py)
                    if not any(part[1] in r[part[0]] for r in rules.values()):
                        problems.append(
                            f"line {node.lineno}: {part[0]}.{part[1]} not declared by rule {name}"
                        )
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name in LISTING:
                problems.append(f"line {node.lineno}: {name}() lists a folder; declare the files as inputs")
            if name in FILE_CALLS and node.args:
                src = _sources(node.args[0], bound)
                allowed = {"input", "output", "log"}
                params = {
                    p[1]
                    for n in ast.walk(node.args[0])
                    if (p := _snakemake_part(n)) and p[0] == "params" and p[1] is not None
                }
                if not src or not src <= allowed | ({"params"} if params else set()):
                    problems.append(
                        f"line {node.lineno}: {name}() opens a path not taken from snakemake.input"
                    )
                for key in params:
                    if not any((rule, key) in PATH_PARAMS for rule in rules):
                        problems.append(f"line {node.lineno}: {name}() opens params.{key}, which is no input")
    assert not problems, f"{script}:\n  " + "\n  ".join(problems)


def test_every_rule_with_a_script_was_read():
    assert {"extract", "phenotypes", "qc", "associate", "report", "archive", "simulate"} <= set(RULES)
    assert all(r["script"] for r in RULES.values() if r["input"] or r["params"]), RULES
    assert RULES["report"]["input"] >= {"logs", "panel", "genotypes", "phenotype_table", "tables"}
    assert "matching" in RULES["archive"]["input"]


def test_path_params_are_not_read_as_data():
    """The params the adapters may hold as paths are exactly those listed, each with its reason."""
    for (rule, key), reason in PATH_PARAMS.items():
        assert key in RULES[rule]["params"], (rule, key)
        assert reason


def test_rules_write_their_paths_literally():
    text = "\n".join(p.read_text(encoding="utf-8") for p in RULES_DIR.glob("*.smk"))
    assert "run_path(" not in text
    for table in ("association", "qc_variants", "extraction", "sample_matching", "haplotype_association"):
        assert f'"results/runs/{{run_id}}/tables/{table}.tsv"' in text, table


def test_checker_catches_an_undeclared_read(tmp_path, monkeypatch):
    """The check fails for a script that opens a path it built itself, or lists a folder."""
    bad = SCRIPTS_DIR / "qc.py"
    source = bad.read_text(encoding="utf-8") + (
        "\nimport glob\n"
        'extra = read_tsv(os.path.join("results", "x.tsv"))\n'
        'glob.glob("*.log")\n'
        "more = read_tsv(sm.params.qc)\n"
    )
    fake = tmp_path / "qc.py"
    fake.write_text(source, encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.SCRIPTS_DIR", tmp_path)
    with pytest.raises(AssertionError) as err:
        test_script_reads_only_declared_inputs("qc.py")
    assert "read_tsv() opens a path not taken from snakemake.input" in str(err.value)
    assert "glob() lists a folder" in str(err.value)
    assert "read_tsv() opens params.qc, which is no input" in str(err.value)
