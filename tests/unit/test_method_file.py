"""User-defined methods (--method-file): checked up front with one-line errors, measured under
their own id, and recorded so a stored run brings them back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from bench_runner.run import matrix
from bench_runner import methods
from bench_runner.analysis import verdicts
from bench_runner.errors import UsageError
from bench_runner.methods import userfile
from bench_runner.methods.base import BareArgs
from bench_runner.providers.bare import BareProvider
from bench_runner.providers.podman import PodmanProvider
from bench_runner.workloads.serverspec import ServerSpec

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(autouse=True)
def only_builtin_methods() -> Iterator[None]:
    methods.forget_defined()
    yield
    methods.forget_defined()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "methods.toml"
    path.write_text(text)
    return path


def test_a_pasta_variant_runs_with_its_options_under_either_provider(tmp_path: Path) -> None:
    (variant,) = userfile.load(_write(tmp_path, 'pasta-mtu1500 = { base = "pasta", options = ["--mtu", "1500"] }\n'))
    methods.define([variant])
    assert matrix.parse_ids("pasta-mtu1500", matrix.METHODS, "method") == ("pasta-mtu1500",)
    assert verdicts.parse_expectation("pasta-mtu1500>pasta") == ("pasta-mtu1500", "pasta")
    spec = ServerSpec(("srv",), 5201)
    assert variant.podman_network(spec) == "pasta:--mtu,1500"
    argv = variant.bare_argv(BareArgs(spec, "pasta", netns_pid=7, pid_file="/p"))
    assert argv[argv.index("--mtu") + 1] == "1500" and argv[-2:] == ["--pid", "/p"]
    assert variant.carrier("podman") == variant.carrier("bare") == "pasta"
    built = matrix.build(("host", "pasta", "pasta-mtu1500"), ("tcp-stream",), ("remote",))
    assert [c.method for c in built.cells] == ["host", "pasta", "pasta-mtu1500"]


def test_a_binary_of_ones_own_is_run_by_the_bare_provider_only(tmp_path: Path) -> None:
    binary = tmp_path / "pasta"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    (mine,) = userfile.load(_write(tmp_path, f'pasta-mine = {{ base = "pasta", binary = "{binary}" }}\n'))
    methods.define([mine])
    assert BareProvider().check("pasta-mine").available  # its own binary stands in for pasta
    argv = mine.bare_argv(BareArgs(ServerSpec(("srv",), 1), BareProvider()._binary(mine)))
    assert argv[0] == str(binary)
    refused = PodmanProvider("5.4.2").check("pasta-mine")
    assert not refused.available and "only the bare provider" in refused.reason


@pytest.mark.parametrize("text,message", [
    ('host = { base = "pasta" }', "built-in method"),
    ('Pasta_X = { base = "pasta" }', "lower-case"),
    ('x = { base = "nope" }', "base must be one of"),
    ('x = { base = "slirp4netns-slirp4netns", options = ["--mtu=1500"] }', "takes no extra options"),
    ('x = { base = "pasta", options = "--mtu" }', "list of non-empty strings"),
    ('x = { base = "pasta", options = ["--map-gw,--mtu"] }', "without commas"),
    ('x = { base = "pasta", binary = "relative/pasta" }', "absolute path"),
    ('x = { base = "pasta", binary = "/nonexistent/pasta" }', "not an executable file"),
    ('x = { base = "pasta", colour = "red" }', "unknown key"),
    ('x = "pasta"', "expected a table"),
    ('x = { base = ', "not valid TOML"),
    ('', "defines no method"),
])
def test_a_bad_definition_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        userfile.load(_write(tmp_path, text + "\n"))
    assert "\n" not in str(info.value)


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        userfile.load(tmp_path / "absent.toml")


def test_two_different_definitions_under_one_id_are_refused() -> None:
    methods.define([userfile.from_definition("v", {"base": "pasta", "options": ["--mtu", "1500"]})])
    methods.define([userfile.from_definition("v", {"base": "pasta", "options": ["--mtu", "1500"]})])  # same: fine
    with pytest.raises(UsageError, match="defined twice"):
        methods.define([userfile.from_definition("v", {"base": "pasta", "options": ["--mtu", "9000"]})])


def test_a_stored_run_brings_its_definitions_back(tmp_path: Path) -> None:
    """The results document records each definition; loading it (userfile.load_document) defines
    them again, even where a named binary is not present."""
    data = json.loads((DATA / "results-bare-quick.json").read_text())
    definition = {"base": "pasta", "binary": "/elsewhere/pasta", "summary": "a branch"}
    data["run"]["options"]["method_definitions"] = {"pasta-branch": definition}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(data))
    assert "pasta-branch" not in methods.METHODS
    userfile.load_document(path)
    assert methods.get("pasta-branch").binary == "/elsewhere/pasta"
    assert userfile.definitions(methods.defined()) == {"pasta-branch": definition}
