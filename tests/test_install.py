"""Installing gives the versions that were tested: constraints.txt pins every package the suite runs with, the
README's installs and the test script use it, pyproject.toml's ranges are bounded, and the tests' environment is
not the demo's."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
# Time-zone data must follow the world's changes, so it takes any newer release.
UNBOUNDED_ON_PURPOSE = {"tzdata"}


def pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    found = {}
    for line in lines:
        if line and not line.startswith("#"):
            name, version = line.split("==")
            found[canonicalize_name(name)] = version
    return found


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + [item for extra in project["optional-dependencies"].values() for item in extra]
    return [Requirement(item) for item in listed]


def test_the_suite_runs_with_exactly_the_pinned_versions() -> None:
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    differing = {
        name: (version, installed[name]) for name, version in pins().items() if installed.get(name, version) != version
    }
    assert differing == {}


def test_every_dependency_is_pinned_and_its_pin_is_inside_the_range() -> None:
    pinned = pins()
    outside = [str(r) for r in requirements() if pinned.get(canonicalize_name(r.name)) not in r.specifier]
    assert outside == []


def test_every_range_in_pyproject_has_an_upper_bound() -> None:
    unbounded = [
        str(r)
        for r in requirements()
        if canonicalize_name(r.name) not in UNBOUNDED_ON_PURPOSE
        and not any(s.operator in ("<", "<=", "==", "~=") for s in r.specifier)
    ]
    assert unbounded == []


def test_the_readme_installs_and_the_test_script_use_the_constraints() -> None:
    readme = (ROOT / "README.md").read_text()
    installs = re.findall(r"pip install [^\n`]*\.", readme)
    assert installs and all("-c constraints.txt" in command for command in installs), installs
    assert "--constraint constraints.txt" in (ROOT / "scripts" / "install-test-deps").read_text()


def test_the_tests_never_install_into_the_environment_the_readme_demo_runs_from() -> None:
    demo_venv = re.search(r"python3 -m venv (\S+) &&", (ROOT / "README.md").read_text())
    assert demo_venv is not None
    script = (ROOT / "scripts" / "install-test-deps").read_text()
    test_venv = re.search(r"-m venv (\S+)\n", script)
    assert test_venv is not None and test_venv.group(1) != demo_venv.group(1)
    assert f"{demo_venv.group(1)}/" not in script
