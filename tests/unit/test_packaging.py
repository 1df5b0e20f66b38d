"""pyproject.toml ships every file the package loads and points its script at the CLI
(the real install is tests/integration/test_install.py)."""

from __future__ import annotations

import fnmatch
import importlib
import tomllib
from pathlib import Path

import bench_runner

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_data_file_of_the_package_is_declared() -> None:
    package = Path(bench_runner.__file__).parent
    globs = PROJECT["tool"]["setuptools"]["package-data"]["bench_runner"]
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert data, "the package has no data files: the schema went missing"
    undeclared = [name for name in data if not any(fnmatch.fnmatch(name, g) for g in globs)]
    assert undeclared == []


def test_console_script_is_the_cli_and_the_version_is_the_package_s() -> None:
    target = PROJECT["project"]["scripts"]["podman-netbench"]
    module, _, name = target.partition(":")
    assert callable(getattr(importlib.import_module(module), name))
    assert PROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bench_runner.__version__"}


def test_runtime_dependencies_agree_with_the_pins() -> None:
    """requirements.txt (what the set-up installs) must satisfy pyproject's ranges."""
    from packaging.requirements import Requirement

    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if spec:
            name, _, version = spec.partition("==")
            pins[name.lower().replace("_", "-")] = version
    extras = PROJECT["project"]["optional-dependencies"]
    for text in [*PROJECT["project"]["dependencies"], *extras["measure"], *extras["test"]]:
        requirement = Requirement(text)
        pinned = pins[requirement.name.lower().replace("_", "-")]
        assert requirement.specifier.contains(pinned), f"{text} excludes the pinned {pinned}"
