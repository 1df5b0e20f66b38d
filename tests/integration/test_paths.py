"""Real paths end to end (issue 23), CI-sized: a delay, a loss and a rate through the path this
kernel gives (kernel netem on the veth link, or the delay box where it has none), for every
method that takes the workload; each trial's path observed, not trusted; the path's ceiling
recorded; bad values one line and exit 2; a SIGKILLed run's box removed by doctor --cleanup.
That nothing is left behind is checked after every test (conftest's nothing_left_behind)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from bench_runner.lab import hosts as lab
from bench_runner.lab import netem
from bench_runner.paths import VENV_PYTHON
from bench_runner.results import document as results
from bench_runner.run import pathcheck
from tests.conftest import as_if_from_a_terminal
from tests.integration.conftest import REPO, cli, leftovers
from tests.integration.test_sweeps_cli import run

#: Every method this machine runs without a stack (bridge needs Podman 5's netavark: the trixie stack).
METHODS = "host,pasta,slirp4netns-rootlesskit,slirp4netns-slirp4netns,socket-activation-user,socket-activation-system"


def _path_kind() -> str:
    found = netem.which_path()
    assert found["path"] is not None, f"this machine gets no path: {found['reason']}"
    return str(found["path"])


def _ok_cells(document: results.RunDocument, workload: str) -> dict[str, Any]:
    cells = {c.method: c for c in document.cells if c.workload == workload and c.status != "not_applicable"}
    assert cells, f"no cell of {workload}"
    for method, cell in cells.items():
        for trial in cell.trials:
            assert trial.status == "ok", f"{workload} {method}: {trial.error}"
    return cells


#: How a trial fails when the path's own round trip, measured before it, is not what was asked.
PATH_MISSED = pathcheck.MISSED


def _only_path_checks_failed(path: Path) -> bool:
    """Every failed trial of the run was refused by the path check (none failed otherwise)."""
    errors = [t.error or "" for c in results.load(path).cells for t in c.trials if t.status != "ok"]
    return bool(errors) and all(e.startswith(PATH_MISSED) for e in errors)


def test_a_delay_is_observed_through_the_path_for_every_method(tmp_path: Path) -> None:
    out = tmp_path / "delay.json"
    args = ("--methods", METHODS, "--workloads", "tcp-rr", "--placements", "remote", "--delay", "0,5", "-o", str(out))
    result = run(*args)
    # Under CPU steal the delay box's p50 can land outside the window (10.711 ms for 10 ms asked,
    # window 9.800-10.529, in 1 of 12 trials at 3.8% steal): the run refuses that trial, as it
    # should, and a run would try the cell again in its next round; this --quick run has one
    # round, so the test runs it again once, and only for that reason.
    if result.returncode == 1 and _only_path_checks_failed(out):
        result = run(*args, "--force")
    assert result.returncode == 0, result.stderr
    document = results.load(out)
    path = document.lab["path"]
    assert path["via"] == _path_kind()
    own = path["base_rtt_us"]["p50"]
    assert 0 < own < 2000
    if path["via"] == netem.BOX:  # the box's ceiling measured both ways, before the trials
        for way in ("to_server", "to_client"):
            assert path["ceiling"]["gso"][way]["gbit_per_s"] > 0.1, path["ceiling"]
    for method, cell in _ok_cells(document, "tcp-rr+rtt10ms").items():
        (trial,) = cell.trials
        seen = trial.observations["path"]
        assert seen["asked"]["rtt_added_ms"] == 10.0
        low, high = seen["rtt_window_us"]
        assert 9_800 <= low <= seen["rtt_us"]["p50"] <= high, seen
        # the method's own round trip crosses the same path: at least the 10 ms added
        assert 10.0 <= cell.samples()[0] / 1000 < 15.0, (method, cell.samples(), cell.unit)
    for method, cell in _ok_cells(document, "tcp-rr+rtt0ms").items():
        assert cell.trials[0].observations["path"]["rtt_us"]["p50"] < 2000, method


def test_a_loss_is_seen_in_netems_counters_for_every_method(tmp_path: Path) -> None:
    out = tmp_path / "loss.json"
    result = run("--methods", METHODS, "--workloads", "tcp-stream", "--placements", "remote", "--loss", "2",
                 "-o", str(out))
    assert result.returncode == 0, result.stderr
    document = results.load(out)
    if document.lab["path"]["via"] == netem.BOX:
        assert "per_packet" in document.lab["path"]["ceiling"]
    for method, cell in _ok_cells(document, "tcp-stream+rtt0ms+loss2pct").items():
        (trial,) = cell.trials
        seen = trial.observations["path"]["netem"]
        bulk = seen["to_server"]  # tcp-stream: the client host sends
        total = bulk["packets"] + bulk["dropped"]
        assert total > 1000 and 1.0 <= 100 * bulk["dropped"] / total <= 3.0, (method, seen)


def test_a_rate_limit_is_what_host_and_every_method_get(tmp_path: Path) -> None:
    out = tmp_path / "rate.json"
    result = run("--methods", METHODS, "--workloads", "tcp-stream,tcp-stream-reverse", "--placements", "remote",
                 "--rate", "200", "-o", str(out))
    assert result.returncode == 0, result.stderr
    document = results.load(out)
    for workload, way in (("tcp-stream+rtt0ms+bw200M", "to_server"), ("tcp-stream-reverse+rtt0ms+bw200M",
                                                                        "to_client")):
        for method, cell in _ok_cells(document, workload).items():
            (trial,) = cell.trials
            passed = trial.observations["path"]["rate"][way]["mbit_per_s"]
            # tbf lets through at most its rate (plus the bucket at the start), and no method
            # gets more (some get much less: Debian 12's pasta got 0.078 here)
            assert passed <= 220, (method, passed)
            assert cell.unit == "Gbit/s" and 0 < cell.samples()[0] <= 0.21, (method, cell.samples())
        host = document.cell(workload, "remote", "host").samples()[0]
        assert 0.15 <= host <= 0.21, (workload, host)
    # host at the rate is limited by the path, as the table says
    assert "limited by the path (the 200 Mbit/s rate limit" in result.stdout, result.stdout


@pytest.mark.parametrize("flag, value, message", [
    ("--delay", "-1", "--delay -1: must be between 0 and 10000 ms"),
    ("--loss", "100", "--loss 100: must be between 0 and 99.999 %"),
    ("--rate", "fast", "--rate 'fast': not a whole number"),
])
def test_bad_values_are_one_line_and_exit_2_before_anything_is_built(flag: str, value: str, message: str,
                                                                     tmp_path: Path) -> None:
    result = cli("run", "--quick", "--placements", "remote", f"{flag}={value}", "-o", str(tmp_path / "x.json"))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.json").exists()


def _some_trial_ok(output: Path) -> bool:
    try:
        data = json.loads(output.read_text())
    except (OSError, ValueError):
        return False
    return any(t["status"] == "ok" for c in data["cells"] for t in c["trials"])


def test_sigkill_leaves_the_box_for_doctor_cleanup(tmp_path: Path) -> None:
    if _path_kind() != netem.BOX:
        pytest.skip("this kernel has sch_netem: no delay box to leave behind")
    out = tmp_path / "killed.json"
    process = subprocess.Popen([str(VENV_PYTHON), "-m", "bench_runner", "run", "--quick", "--skip-claims",
                                "--methods", "host", "--workloads", "tcp-rr", "--placements", "remote",
                                "--delay", "0,5", "--rounds", "20", "--max-rounds", "20", "-o", str(out)],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=as_if_from_a_terminal)
    deadline = time.monotonic() + 180
    while not _some_trial_ok(out):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.5)
    process.kill()
    process.communicate(timeout=30)
    left = leftovers()
    assert any(item.startswith("namespace") and item.endswith("-box") for item in left), left
    result = cli("doctor", "--cleanup")
    assert result.returncode == 0, result.stdout + result.stderr
    assert leftovers() == []
    assert not any(name.endswith("-box") for name in lab.existing_lab_namespaces())
