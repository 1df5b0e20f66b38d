"""Collecting the evidence: CPU governors and SMT from a sysfs tree, load and steal from a
/proc tree, containers.conf read by a subprocess (as the benchmark user in a run), podman
info and the link readings failing into a recorded reason instead of failing the run."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, Sequence

import pytest

from bench_runner.lab import hostinfo, linkinfo
from bench_runner import procs
from bench_runner.errors import CommandFailed
from bench_runner.parsers import containers_conf
from bench_runner.lab.user import BenchUser
from tests.conftest import read_data


class SameUser(BenchUser):
    """The benchmark user as the test's own user: commands run unchanged."""

    def argv(self, argv: Sequence[str], **kwargs: Any) -> list[str]:
        return [str(a) for a in argv]


def _user(home: Path) -> SameUser:
    return SameUser("netbench", os.getuid() or 1001, os.getgid(), str(home))


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path

# ------------------------------------------------------------------ CPU and load


def test_governors_per_cpu_and_smt(tmp_path: Path) -> None:
    _write(tmp_path / "cpu0/cpufreq/scaling_governor", "performance\n")
    (tmp_path / "cpu1").mkdir()  # no cpufreq, as in a VM
    _write(tmp_path / "cpu10/cpufreq/scaling_governor", "powersave\n")
    _write(tmp_path / "cpu2/cpufreq/scaling_governor", "performance\n")
    (tmp_path / "cpufreq").mkdir()  # not a CPU
    _write(tmp_path / "smt/active", "1\n")
    state = hostinfo.cpu_state(str(tmp_path))
    assert list(state["governors"].items()) == [("cpu0", "performance"), ("cpu1", "none"), ("cpu2", "performance"),
                                                ("cpu10", "powersave")]
    assert state["smt"] == {"active": "1", "control": "absent"}


def test_load_samples_and_the_steal_between_them(tmp_path: Path) -> None:
    _write(tmp_path / "a/loadavg", read_data("proc-loadavg.txt"))
    _write(tmp_path / "a/stat", "cpu  100 0 50 800 0 0 0 50 0 0\n")
    _write(tmp_path / "b/loadavg", read_data("proc-loadavg.txt"))
    _write(tmp_path / "b/stat", "cpu  200 0 100 1500 0 0 0 200 0 0\n")
    before, after = hostinfo.load_sample(str(tmp_path / "a")), hostinfo.load_sample(str(tmp_path / "b"))
    assert before["loadavg"] == [float(v) for v in read_data("proc-loadavg.txt").split()[:3]]
    assert before["cpu_jiffies"] == {"total": 1000, "steal": 50}
    record = hostinfo.load_record(before, after)
    assert record["steal_percent"] == pytest.approx(15.0)  # 150 of 1000 jiffies
    assert record["before"] is before and record["after"] is after


def test_an_unreadable_proc_is_recorded_not_raised(tmp_path: Path) -> None:
    sample = hostinfo.load_sample(str(tmp_path))
    assert "loadavg" in sample["error"]
    good = {"at": "t", "cpu_jiffies": {"total": 1, "steal": 0}}
    assert hostinfo.load_record(sample, good)["steal_percent"] is None

# ------------------------------------------------------------------ containers.conf


def _read_as_user(*items: str, limit: int = 1000, count: int = 10) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-I", "-c", hostinfo._READER, str(limit), str(count), *items],
                          capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)


def test_the_reader_takes_conf_files_in_name_order_and_names_what_it_cannot_read(tmp_path: Path) -> None:
    _write(tmp_path / "main.conf", "[network]\n")
    drop = tmp_path / "conf.d"
    _write(drop / "20-b.conf", "b")
    _write(drop / "10-a.conf", "a")
    _write(drop / "notes.txt", "ignored")
    (drop / "sub.conf").mkdir()  # a directory, even named .conf, is not read
    _write(tmp_path / "big.conf", "x" * 2000)
    entries = _read_as_user(f"f:{tmp_path / 'main.conf'}", f"f:{tmp_path / 'missing.conf'}", f"d:{drop}",
                            f"d:{tmp_path / 'no-such.d'}", f"f:{tmp_path / 'big.conf'}")
    assert [(Path(e["path"]).name, e.get("text")) for e in entries] == [
        ("main.conf", "[network]\n"), ("10-a.conf", "a"), ("20-b.conf", "b"), ("big.conf", None)]
    assert entries[-1]["error"] == "larger than 1000 bytes; not read"


def test_the_reader_stops_at_its_file_limit(tmp_path: Path) -> None:
    for n in range(4):
        _write(tmp_path / f"{n}.conf", str(n))
    entries = _read_as_user(f"d:{tmp_path}", count=2)
    assert [e.get("text") for e in entries] == ["0", "1", None]
    assert entries[-1]["error"] == "too many files; not read"


def test_containers_conf_merges_what_the_user_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = _write(tmp_path / "etc/containers.conf", '[network]\ndefault_rootless_network_cmd = "slirp4netns"\n')
    user_file = _write(tmp_path / "home/.config/containers/containers.conf",
                       '[network]\ndefault_rootless_network_cmd = "pasta"\n')
    monkeypatch.setattr(hostinfo.conf_parser, "search_paths", lambda uid, home: [
        containers_conf.Candidate(str(system)), containers_conf.Candidate(str(user_file))])
    monkeypatch.setattr(hostinfo.os, "geteuid", lambda: 0)
    found = hostinfo.containers_conf(_user(tmp_path / "home"))
    assert found["files"] == [str(system), str(user_file)]
    assert found["settings"]["network.default_rootless_network_cmd"] == {"value": "pasta", "file": str(user_file)}


def test_containers_conf_needs_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(hostinfo.os, "geteuid", lambda: 1000)
    assert hostinfo.containers_conf(_user(tmp_path))["error"].startswith("not read: needs root")

# ------------------------------------------------------------------ podman info


def test_podman_missing_is_recorded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(hostinfo.shutil, "which", lambda name: None)
    assert hostinfo.podman_info(_user(tmp_path)) == {"error": "podman is not installed"}


@contextlib.contextmanager
def _no_runtime_dir(user: BenchUser) -> Iterator[list[str]]:
    yield []


@pytest.mark.parametrize("outcome, expected", [
    (CommandFailed(["podman", "info"], 125, "Error: cannot set up namespace\n"),
     "podman info failed: podman exited with 125: Error: cannot set up namespace"),
    (procs.ProcessResult(["podman"], 0, "not json", "", 0.1), "podman info gave no JSON object"),
])
def test_podman_info_failing_is_one_line(outcome: object, expected: str, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    from bench_runner.lab import runstate

    def run(argv: list[str], **kwargs: Any) -> procs.ProcessResult:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome  # type: ignore[return-value]

    monkeypatch.setattr(hostinfo.shutil, "which", lambda name: "/usr/bin/podman")
    monkeypatch.setattr(hostinfo.os, "geteuid", lambda: 0)
    monkeypatch.setattr(runstate, "podman_runtime", _no_runtime_dir)
    monkeypatch.setattr(hostinfo.procs, "run", run)
    assert hostinfo.podman_info(_user(tmp_path)) == {"error": expected}


def test_podman_info_summary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bench_runner.lab import runstate

    seen: list[list[str]] = []

    def run(argv: list[str], **kwargs: Any) -> procs.ProcessResult:
        seen.append(argv)
        return procs.ProcessResult(argv, 0, read_data("podman-info-5.4.2-stack.json"), "", 0.1)

    monkeypatch.setattr(hostinfo.shutil, "which", lambda name: "/usr/bin/podman")
    monkeypatch.setattr(hostinfo.os, "geteuid", lambda: 0)
    monkeypatch.setattr(runstate, "podman_runtime", _no_runtime_dir)
    monkeypatch.setattr(hostinfo.procs, "run", run)
    info = hostinfo.podman_info(_user(tmp_path))
    assert seen == [["podman", "info", "--format", "json"]]
    assert info["version"] == "5.4.2" and info["rootless_network_cmd"] == "pasta"

# ------------------------------------------------------------------ the lab link, a namespace's links


def _fake_run(outputs: dict[str, str | Exception], seen: list[list[str]]):  # type: ignore[no-untyped-def]
    def run(argv: list[str], **kwargs: Any) -> procs.ProcessResult:
        seen.append(argv)
        program = argv[argv.index("--") + 1]
        found = outputs[program]
        if isinstance(found, Exception):
            raise found
        return procs.ProcessResult(argv, 0, found, "", 0.01)
    return run


def test_link_evidence_inside_the_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(linkinfo.shutil, "which", lambda name: f"/usr/sbin/{name}")
    monkeypatch.setattr(linkinfo.procs, "run", _fake_run(
        {"ethtool": read_data("ethtool-k-veth.txt"), "tc": read_data("tc-qdisc-noqueue.json")}, seen))
    record = linkinfo.device_evidence("/run/netns/x-srv", "nbs")
    assert seen == [["nsenter", "--net=/run/netns/x-srv", "--", "ethtool", "-k", "nbs"],
                    ["nsenter", "--net=/run/netns/x-srv", "--", "tc", "-j", "qdisc", "show", "dev", "nbs"]]
    assert record["device"] == "nbs"
    assert record["offloads"]["gro"] == "off" and record["offloads"]["tso"] == "on"
    assert record["features"]["tx-checksum-ipv4"] == "off [fixed]"
    assert record["qdiscs"] == [{"kind": "noqueue", "handle": "0:", "where": "root", "options": {}}]


def test_missing_ethtool_and_a_failing_tc_are_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(linkinfo.shutil, "which", lambda name: None)
    monkeypatch.setattr(linkinfo.procs, "run", _fake_run(
        {"tc": CommandFailed(["tc"], 1, 'Cannot find device "nbs"\n')}, seen))
    record = linkinfo.device_evidence("/run/netns/x-srv", "nbs")
    assert [argv[3] for argv in seen] == ["tc"]  # ethtool was not tried
    assert record == {"device": "nbs",
                      "ethtool_error": "ethtool missing (install the ethtool package: scripts/setup.sh does)",
                      "qdisc_error": 'tc exited with 1: Cannot find device "nbs"'}


def test_interfaces_of_a_process_leave_out_lo(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(linkinfo.procs, "run", _fake_run({"ip": read_data("ip-link-veth-netns.json")}, seen))
    found = linkinfo.interfaces_of(4242)
    assert seen == [["nsenter", "--net=/proc/4242/ns/net", "--", "ip", "-j", "link", "show"]]
    assert [(i["ifname"], i["mtu"], i["txqlen"]) for i in found["interfaces"]] == [("evA", 65520, 1000)]


def test_interfaces_of_a_process_that_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    failed = CommandFailed(["nsenter"], 1, "nsenter: cannot open /proc/4242/ns/net: No such file or directory\n")
    monkeypatch.setattr(linkinfo.procs, "run", _fake_run({"ip": failed}, []))
    assert linkinfo.interfaces_of(4242) == {"error": str(failed)}
