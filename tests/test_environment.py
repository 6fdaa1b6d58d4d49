"""The pip route (requirements*.txt) and the conda route (environment.yml, workflow/envs) agree."""

import re

import yaml
from conftest import REPO


def pip_pins(path=REPO / "requirements.txt") -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins.update(pip_pins(path.parent / line[3:].strip()))
        elif line:
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;]+)", line).groups()
            pins[name.lower()] = version
    return pins


def conda_pins(path) -> dict[str, str]:
    deps = yaml.safe_load(path.read_text())["dependencies"]
    pins = {}
    for dep in deps:
        if isinstance(dep, str) and "=" in dep:
            name, version = dep.split("=", 1)
            pins[name.lower()] = version
        elif isinstance(dep, dict):  # the pip: section (packages only on PyPI)
            for line in dep.get("pip", []):
                name, version = line.split("==", 1)
                pins[name.lower()] = version
    pins.pop("python", None)
    return pins


def test_every_pip_pin_is_in_environment_yml_with_the_same_version():
    assert pip_pins() == conda_pins(REPO / "environment.yml")


def test_rule_environment_matches_environment_yml():
    assert conda_pins(REPO / "workflow" / "envs" / "vdrbone.yaml") == conda_pins(REPO / "environment.yml")
