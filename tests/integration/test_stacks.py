"""Release stacks for real: the trixie stack built from Debian's registry, booted with systemd
as PID 1 in the lab's server host, every method measured through its Podman 5 (socket
activation from a Quadlet .container with a user .socket, and from a system .socket with a
User= service), beside this machine's own stack in one run; and nothing left behind."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bench_runner.results import document as results
from bench_runner.run.labsession import open_sessions
from bench_runner.run.matrix import METHODS, Cell
from bench_runner.paths import VENV_PYTHON
from bench_runner.providers import choose_in_stack
from bench_runner.results.document import RunDocument
from bench_runner.stacks import store
from bench_runner.run.trials import TrialRunner
from bench_runner.workloads import TrialSettings
from tests.integration.conftest import REPO, cli, leftovers

QUICK = TrialSettings(duration_s=1, omit_s=0)
ALL_SEVEN = ["host", "pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns", "socket-activation-user",
             "socket-activation-system", "bridge"]


def _trial(stack: str, cell: Cell, tmp_path: Path):  # type: ignore[no-untyped-def]
    built = store.find(stack)
    provider = choose_in_stack(stack, built.key_versions()["podman"], built.root).provider
    with open_sessions((stack,)) as sessions:
        session = sessions[stack]
        document = RunDocument(run={}, stack={}, lab={}, provider={"id": "podman", "reason": "test"})
        trial = TrialRunner(document, tmp_path / "unused.json", session, provider).run_trial(cell, 0, False, QUICK)
        return trial, session.port_floor


def test_a_second_build_of_an_unchanged_stack_only_checks(trixie: str) -> None:
    started = time.monotonic()
    result = cli("stack", "build", trixie)
    assert result.returncode == 0, result.stderr
    assert "checked, not rebuilt" in result.stderr and f"stack {trixie}: checked" in result.stdout
    listed = json.loads(cli("stack", "list", "--format", "json").stdout)
    mine = next(s for s in listed if s["name"] == trixie)
    assert mine["versions"]["podman"].startswith("5.") and mine["versions"]["systemd"]
    assert time.monotonic() - started < 60  # no download: the registry was not asked again


@pytest.mark.parametrize("method", ["pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns", "host", "bridge"])
def test_podman_5_in_the_stack_carries_each_method_by_its_helper(trixie: str, method: str, tmp_path: Path) -> None:
    trial, _ = _trial(trixie, Cell("tcp-stream", "remote", method, trixie), tmp_path)
    assert trial.status == "ok", trial.error
    assert trial.samples["throughput"] > 0.05
    listener = trial.observations["listener"]
    expected = METHODS[method].carrier("podman")
    assert listener["carrier"] == expected, listener
    assert listener["uid"] != 0
    # Podman's rootlessport hides the client behind slirp4netns's address, as the guide says;
    # on a bridge network behind the bridge's.
    peer = trial.observations["peer_address"]
    if method == "slirp4netns-rootlesskit":
        assert peer == "10.0.2.100"
    elif method == "bridge":
        assert peer.startswith("10.89.") and peer != "198.51.100.2"
        create, run = trial.observations["helper_argv"]
        assert create[:3] == ["podman", "network", "create"] and f"--network={create[3]}" in run
    else:
        assert peer == "198.51.100.2"
    assert trial.observations["helper_argv"][-1][:2] == ["podman", "run"]


@pytest.mark.parametrize("method", ["socket-activation-user", "socket-activation-system"])
def test_socket_activation_from_real_systemd_units(trixie: str, method: str, tmp_path: Path) -> None:
    trial, floor = _trial(trixie, Cell("tcp-rr", "remote", method, trixie), tmp_path)
    assert trial.status == "ok", trial.error
    assert trial.observations["listener"]["carrier"] == "inherited"
    assert trial.observations["peer_address"] == "198.51.100.2"
    assert trial.observations["server_listen"]["source"] == "inherited"
    files = trial.observations["units"]
    if method == "socket-activation-user":
        path, container = next((path, text) for path, text in files.items() if path.endswith(".container"))
        assert "Network=none" in container and path.startswith("/home/netbench/.config/containers/systemd/")
        assert trial.observations.get("port", 0) >= floor
    else:
        service = next(text for path, text in files.items() if path.endswith(".service"))
        assert "User=netbench" in service and next(iter(files)).startswith("/run/systemd/system/")
        assert trial.observations["port"] < floor  # root's socket, below ip_unprivileged_port_start
        assert trial.observations["server_uid_map"].split()[1] != "0"  # the container is still rootless


def test_one_run_measures_this_machine_and_the_stack_side_by_side(trixie: str, tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    result = cli("run", "--stacks", f"host,{trixie}", "--workloads", "tcp-stream,tcp-rr", "--placements", "remote",
                 "--quick", "--output", str(output), timeout=1800)
    document = results.load(output)
    failed = [(c.cell.label, t.error) for c in document.cells for t in c.trials if t.status != "ok"]
    assert result.returncode == 0 and not failed, result.stderr[-3000:] + str(failed)
    assert document.stacks[trixie]["versions"]["podman"].startswith("5.")
    assert document.stacks[trixie]["podman_info"]["rootless_network_cmd"] == "pasta"
    measured = {(c.stack, c.method) for c in document.cells if c.samples()}
    assert {(trixie, m) for m in ALL_SEVEN} <= measured
    # The bridge network needs Podman 5: on this machine it is left out, with why.
    assert any(c.method == "bridge" and c.stack == "host" and "Podman" in reason
               for c, reason in ((c.cell, c.reason) for c in document.cells if c.status == "not_applicable"))
    assert any(stack == "host" for stack, _ in measured)
    rootlessport = document.cell("tcp-stream", "remote", "slirp4netns-rootlesskit", trixie).trials[0]
    assert rootlessport.observations["listener"]["kind"] == "rootlessport"
    assert rootlessport.observations["peer_address"] == "10.0.2.100"
    # Both stacks in the same tables, verdicts and claims per stack.
    assert "pasta@trixie" in result.stdout and "tcp-stream (client sends) / remote @trixie" in result.stdout
    assert "claims under stack trixie" in result.stdout and "claims under stack host" in result.stdout
    claims = [o for o in document.checks["claims"] if o.get("stack") == trixie]
    assert {o["method"] for o in claims} == set(ALL_SEVEN)


def test_sigkill_during_a_stack_run_leaves_what_doctor_cleanup_powers_off(trixie: str, tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    process = subprocess.Popen([str(VENV_PYTHON), "-m", "bench_runner", "run", "--stacks", trixie, "--methods",
                                "pasta", "--placements", "remote", "--workloads", "tcp-stream", "--duration", "1",
                                "--omit", "0", "--rounds", "10", "--max-rounds", "10", "--warmup-rounds", "0",
                                "--skip-claims", "--output", str(output)], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not (output.exists() and any(t["status"] == "ok" for c in json.loads(output.read_text() or "{}").get("cells", [])
                                       for t in c["trials"])):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    left = leftovers()
    assert any(item.startswith("stack cgroup") for item in left), left  # the stack kept running
    result = cli("doctor", "--cleanup")
    assert "removing what run" in result.stdout, result.stdout + result.stderr
    assert leftovers() == []


def test_a_stack_in_use_cannot_be_removed_or_rebuilt(trixie: str) -> None:
    lock = store.StackLock(trixie)
    lock.acquire(exclusive=False)  # as a run holds it
    try:
        result = cli("stack", "remove", trixie)
        assert result.returncode == 2 and "busy" in result.stderr and "Traceback" not in result.stderr
        result = cli("stack", "build", trixie, "--rebuild")
        assert result.returncode == 2 and "busy" in result.stderr
    finally:
        lock.release()
    assert store.find(trixie)  # still there


def test_an_unbuilt_stack_is_refused_before_anything_is_made() -> None:
    result = cli("run", "--stacks", "host,nosuchstack", "--quick")
    assert result.returncode == 2, result.stderr
    assert "stack 'nosuchstack' is not built" in result.stderr and "stack build nosuchstack" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
