"""Real signals to real runs: Ctrl-C and SIGTERM tear everything down and keep the finished
trials; SIGKILL leaves state that the next run or ``doctor --cleanup`` removes; a second run
started meanwhile refuses instead of touching the first one's lab."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bench_runner.lab import hosts as lab
from bench_runner import procs
from bench_runner.results import document as results
from bench_runner.paths import IMAGE, VENV_PYTHON
from bench_runner.providers.podman import container_names
from bench_runner.lab.runstate import podman_runtime
from bench_runner.lab.user import BenchUser
from tests.conftest import as_if_from_a_terminal
from tests.integration.conftest import REPO, cli, leftovers

#: Enough trials that a signal lands mid-run: 2 methods x 1 placement x 4 rounds of 1 s.
RUN = ["run", "--methods", "host,slirp4netns-slirp4netns", "--placements", "remote", "--duration", "1",
       "--omit", "0", "--rounds", "4", "--max-rounds", "4", "--warmup-rounds", "0", "--skip-claims"]


def start(output: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(VENV_PYTHON), "-m", "bench_runner", *RUN, "--output", str(output), *extra],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=as_if_from_a_terminal)


def ok_trials(output: Path) -> int:
    try:
        data = json.loads(output.read_text())
    except (OSError, ValueError):
        return 0
    return sum(1 for cell in data["cells"] for t in cell["trials"] if t["status"] == "ok")


def wait_for_trials(output: Path, count: int, process: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while ok_trials(output) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.2)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_mid_run_keeps_finished_trials_and_removes_everything(tmp_path: Path, sig: int, code: int) -> None:
    output = tmp_path / "run.json"
    process = start(output)
    wait_for_trials(output, 2, process)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    document = results.load(output)
    assert document.run["status"] == "incomplete"
    assert sum(len(c.samples()) for c in document.cells) >= 2
    # the conftest fixture checks afterwards that no namespace, process or container remains


def test_sigkill_leaves_state_that_doctor_cleanup_removes(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    process = start(output)
    wait_for_trials(output, 1, process)
    process.kill()
    process.communicate(timeout=30)
    left = leftovers()
    assert any(item.startswith("namespace") for item in left), left
    result = cli("doctor", "--cleanup")
    assert "removing what run" in result.stdout, result.stdout + result.stderr
    assert leftovers() == []
    assert results.load(output).run["status"] == "running"  # what it was when killed: finished trials kept
    assert ok_trials(output) >= 1


def test_a_container_whose_run_state_is_gone_is_found_and_removed_but_nobody_elses() -> None:
    """SIGKILL between ``podman run`` and the state file being written leaves a container no
    state names; cleanup finds it by the suite's name pattern and a dead run tag."""
    user = BenchUser.lookup()
    ours, foreign = "netbench-0badc0de-c1", "someone-elses-container"
    try:
        with podman_runtime(user):
            for name in (ours, foreign):
                procs.run(user.argv(["podman", "create", "--name", name, "--network", "none", IMAGE, "true"]),
                          timeout=120)
        result = cli("doctor", "--cleanup")
        assert f"removing orphaned container {ours}" in result.stdout, result.stdout + result.stderr
        with podman_runtime(user):
            listed = container_names(user)
        assert ours not in listed and foreign in listed
    finally:
        with podman_runtime(user):
            procs.run(user.argv(["podman", "rm", "-f", "--ignore", ours, foreign]), timeout=120)


def test_the_next_run_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    process = start(tmp_path / "killed.json")
    wait_for_trials(tmp_path / "killed.json", 1, process)
    process.kill()
    process.communicate(timeout=30)
    assert lab.existing_lab_namespaces()
    result = cli("run", "--quick", "--methods", "host", "--placements", "remote", "--skip-claims",
                 "--output", str(tmp_path / "next.json"))
    assert result.returncode == 0, result.stderr
    assert "removing what run" in result.stderr
    assert leftovers() == []


def test_a_second_run_refuses_while_the_first_measures(tmp_path: Path) -> None:
    first_output = tmp_path / "first.json"
    first = start(first_output)
    wait_for_trials(first_output, 1, first)
    second = cli("run", "--quick", "--methods", "host", "--skip-claims", "--output", str(tmp_path / "second.json"),
                 timeout=120)
    assert second.returncode == 2
    assert "another benchmark run is in progress" in second.stderr
    assert not (tmp_path / "second.json").exists()
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    document = results.load(first_output)
    assert document.run["status"] == "complete"
    assert all(c.status == "measured" for c in document.cells)


def test_an_interrupted_run_resumes_to_completion_keeping_its_trials(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    process = start(output)
    wait_for_trials(output, 2, process)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=120)
    before = results.load(output)
    kept = {(c.method, t.index, t.started_at) for c in before.cells for t in c.trials}
    assert before.run["status"] == "incomplete" and kept
    result = cli("run", "--resume", str(output))
    assert result.returncode == 0, result.stderr
    after = results.load(output)
    assert after.run["status"] == "complete" and after.run["resumed_at"]
    assert kept <= {(c.method, t.index, t.started_at) for c in after.cells for t in c.trials}
    for cell in after.cells:
        assert sorted(t.round for t in cell.trials) == [0, 1, 2, 3], cell.method
    assert after.run["seed"] == before.run["seed"]


def test_resume_refuses_a_complete_run_and_a_missing_file(tmp_path: Path) -> None:
    from tests.conftest import DATA

    complete = tmp_path / "complete.json"
    complete.write_text((DATA / "results-bare-quick.json").read_text())
    result = cli("run", "--resume", str(complete))
    assert result.returncode == 2 and "the run is complete; nothing to resume" in result.stderr
    missing = cli("run", "--resume", str(tmp_path / "absent.json"))
    assert missing.returncode == 2 and "no such results document" in missing.stderr


def test_what_a_killed_run_left_running_is_stopped_but_not_what_was_there_before() -> None:
    """A Podman call in flight when its run was SIGKILLed outlives the run; once, it started a
    pause process after the next run had cleaned up. The clean-up stops the benchmark user's
    processes that started after the dead run did, and nothing older, and nothing of root's."""
    from bench_runner.lab.runstate import RunLock, RunState
    from bench_runner.lab.user import BenchUser
    from bench_runner.run.cleanup import cleanup_stale

    user = BenchUser.lookup()
    older = subprocess.Popen(user.argv(["sleep", "60"]), stdin=subprocess.DEVNULL)
    time.sleep(0.05)
    dead_owner = subprocess.Popen(["true"])
    owner = procs.ProcRef.of(dead_owner.pid)
    dead_owner.wait(timeout=10)
    assert owner is not None
    time.sleep(0.05)
    orphan = subprocess.Popen(user.argv(["sleep", "60"]), stdin=subprocess.DEVNULL)
    roots = subprocess.Popen(["sleep", "60"], stdin=subprocess.DEVNULL)
    state = RunState(lab.new_tag(), owner=owner)
    state.save()
    try:
        removed: list[str] = []
        with RunLock():
            problems = cleanup_stale(log=removed.append)
        assert problems == []
        assert orphan.wait(timeout=10) != 0
        assert f"stopping process {orphan.pid} a dead run left running" in removed
        assert older.poll() is None and roots.poll() is None
    finally:
        for process in (older, orphan, roots):
            process.kill()
            process.wait(timeout=10)
    assert leftovers() == []
