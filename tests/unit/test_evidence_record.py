"""The evidence in the results document: where a trial records the server namespace's links,
and that the schema takes the new fields while older documents still load."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench_runner.lab import hosts as lab_mod
from bench_runner.lab import linkinfo
from bench_runner.run import matrix
from bench_runner.results import document as results
from bench_runner.errors import UsageError
from bench_runner.results.document import Trial
from bench_runner.run.observers import Observers
from tests.conftest import read_data

CELL = matrix.Cell("tcp-stream", "remote", "pasta")
SEEN = {"interfaces": [{"ifname": "eth0", "mtu": 65520, "txqlen": 1000, "operstate": "UNKNOWN",
                        "qdisc": "pfifo_fast", "link_type": "ether"}]}


def _runner(tmp_path: Path) -> Observers:
    return Observers()


def _session() -> Any:
    return SimpleNamespace(lab=lab_mod.Lab("00000000", "netbench-00000000-srv", "netbench-00000000-cli",
                                                  "nb00000000s", "nb00000000c", 1500))


def _trial() -> Trial:
    return Trial(index=0, round=0, warmup=False, started_at="t", seconds=0.0, status="failed")


@pytest.mark.parametrize("same_netns, expected", [(False, "own"), (True, "server host")])
def test_a_trial_records_its_servers_links_and_whose_namespace_they_are(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, same_netns: bool, expected: str) -> None:
    own = os.stat(f"/proc/{os.getpid()}/ns/net").st_ino
    monkeypatch.setattr(lab_mod.Lab, "server_netns_inode", lambda lab: own if same_netns else own + 1)
    looked: list[int] = []
    monkeypatch.setattr(linkinfo, "interfaces_of", lambda pid: looked.append(pid) or copy.deepcopy(SEEN))
    runner, trial = _runner(tmp_path), _trial()
    runner.observe_links(_session(), CELL, os.getpid(), trial)
    assert looked == [os.getpid()]
    assert trial.observations["container_links"] == {**SEEN, "namespace": expected}
    assert CELL in runner.links_seen


def test_no_process_to_look_into_is_said_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linkinfo, "interfaces_of", lambda pid: pytest.fail("nothing to look into"))
    trial = _trial()
    _runner(tmp_path).observe_links(_session(), CELL, 0, trial)
    assert trial.observations["container_links"] == {"error": "no process of the container was left to look into"}


def test_a_failed_look_has_no_namespace_label(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linkinfo, "interfaces_of", lambda pid: {"error": "nsenter exited with 1: gone"})
    trial = _trial()
    _runner(tmp_path).observe_links(_session(), CELL, os.getpid(), trial)
    assert trial.observations["container_links"] == {"error": "nsenter exited with 1: gone"}


def test_a_document_with_every_kind_of_evidence_loads(tmp_path: Path) -> None:
    document = results.load(Path(__file__).parents[1] / "data" / "results-evidence-quick.json")
    assert document.stack["podman_info"]["version"]
    assert document.lab["link"]["server"]["offloads"]
    assert document.run["load"][0]["steal_percent"] is not None


@pytest.mark.parametrize("where, value, message", [
    (("run", "load"), [{"before": {"at": "t"}, "after": {"at": "t"}}], "'steal_percent' is a required property"),
    (("lab", "link"), {"server": {"offloads": {}}}, "'device' is a required property"),
    (("stack", "cpu_state"), {"governors": {"cpu0": 1}}, "1 is not of type 'string'"),
])
def test_the_schema_checks_the_evidence_fields(where: tuple[str, str], value: object, message: str) -> None:
    data = json.loads(read_data("results-evidence-quick.json"))
    data[where[0]][where[1]] = value
    with pytest.raises(UsageError, match=message):
        results.validate(data)


def test_a_trials_links_must_name_each_interface() -> None:
    data = json.loads(read_data("results-evidence-quick.json"))
    data["cells"][0]["trials"][0]["observations"]["container_links"] = {"interfaces": [{"mtu": 1500}]}
    with pytest.raises(UsageError, match="'ifname' is a required property"):
        results.validate(data)
