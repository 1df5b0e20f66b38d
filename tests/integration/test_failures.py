"""Faults injected into real trials: each is bounded, recorded with its reason, and the rest
of the matrix goes on. Bad environments get one clear line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench_runner.run import matrix
from bench_runner.lab import observe
from bench_runner import procs
from bench_runner.results import document as results
from bench_runner.run.labsession import open_session
from bench_runner.run.matrix import Cell
from bench_runner.paths import VENV_PYTHON
from bench_runner.providers import BareProvider, make
from bench_runner.providers.base import ServerSpec
from bench_runner.results.document import RunDocument
from bench_runner.run.trials import PORT_BASE, Plan, TrialRunner, new_cell_results
from bench_runner.workloads import DRIVERS, TrialSettings
from bench_runner.workloads.iperf import TcpStream
from tests.integration.conftest import REPO, cli

QUICK = TrialSettings(duration_s=1, omit_s=0)


class NeverListens(TcpStream):
    """A server that starts but never listens."""

    def server(self, port: int) -> ServerSpec:
        return ServerSpec(("sleep", "600"), port, ("tcp",), ready_timeout=2)


class ClientHangs(TcpStream):
    """A client that never finishes: its timeout must end it."""

    def run_client(self, ctx) -> str:  # type: ignore[no-untyped-def]
        procs.run(["sleep", "600"], timeout=2)
        return ""


class WrongPort(TcpStream):
    """iperf3 reaches nothing: its JSON carries an error although it printed JSON."""

    def run_client(self, ctx) -> str:  # type: ignore[no-untyped-def]
        from dataclasses import replace

        return super().run_client(replace(ctx, host_port=ctx.host_port + 500))


def _document(**kwargs) -> RunDocument:  # type: ignore[no-untyped-def]
    from tests.unit.synthetic import document

    base = document({})
    return RunDocument(run=base.run, stack=base.stack, lab=base.lab, provider=base.provider, **kwargs)


def _runner(session, tmp_path: Path, provider=None) -> TrialRunner:  # type: ignore[no-untyped-def]
    document = _document()
    return TrialRunner(document, tmp_path / "run.json", session, provider or BareProvider())


@pytest.mark.parametrize("driver, reason", [
    (NeverListens(), "timed out after 2 s waiting for the server to listen"),
    (ClientHangs(), "did not finish within 2 s and was killed"),
    (WrongPort(), "iperf3 reported an error: unable to connect"),
])
def test_a_faulty_trial_is_bounded_and_recorded_with_its_reason(monkeypatch, tmp_path, driver, reason) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(DRIVERS, "tcp-stream", driver)
    started = time.monotonic()
    with open_session() as session:
        trial = _runner(session, tmp_path).run_trial(Cell("tcp-stream", "remote", "host"), 0, False, QUICK)
    assert trial.status == "failed"
    assert reason in (trial.error or ""), trial.error
    assert time.monotonic() - started < 120


def test_the_rest_of_the_matrix_goes_on_after_a_failing_method(tmp_path: Path) -> None:
    provider = make("bare", podman_version=None, pasta_binary="/bin/false")
    built = matrix.build(("host", "pasta"), ("tcp-stream",), ("remote",))
    with open_session() as session:
        document = _document(cells=new_cell_results(built))
        runner = TrialRunner(document, tmp_path / "run.json", session, provider)
        runner.run(Plan(built, QUICK, warmup_rounds=0, rounds=3, seed=1))
    host = document.cell("tcp-stream", "remote", "host")
    pasta = document.cell("tcp-stream", "remote", "pasta")
    assert host.status == "measured" and len(host.samples()) == 3
    assert pasta.status == "failed" and "pasta (/bin/false) exited with 1" in (pasta.reason or "")
    assert len(pasta.trials) == 2, "a cell failing every time is given up after two attempts"
    assert results.load(tmp_path / "run.json").cell("tcp-stream", "remote", "pasta").status == "failed"


def test_a_busy_port_fails_the_trial_and_names_its_owner(tmp_path: Path) -> None:
    with open_session() as session:
        runner = _runner(session, tmp_path)
        port = PORT_BASE + runner.executor.trial_index  # the port the next trial takes
        squatter = procs.Spawned(session.lab.in_server(
            [sys.executable, "-c", f"import socket,time; s=socket.socket(); s.bind(('0.0.0.0',{port})); "
                                   f"s.listen(); time.sleep(60)"]))
        try:
            procs.wait_until(lambda: observe.is_listening(session.lab.server_ns_path, "tcp", port),
                             timeout=10, what="the squatter")
            trial = runner.run_trial(Cell("tcp-stream", "remote", "host"), 0, False, QUICK)
        finally:
            squatter.stop()
            squatter.close()
    assert trial.status == "failed"
    assert f"port {port} is already in use in the server host (python" in (trial.error or "")


def test_a_missing_subordinate_id_range_is_named(tmp_path: Path) -> None:
    name = f"nbtest{os.getpid() % 100000}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True, timeout=30)
    try:
        for path in ("/etc/subuid", "/etc/subgid"):
            subprocess.run(["sed", "-i", f"/^{name}:/d", path], check=True, timeout=10)
        env = {**os.environ, "NETBENCH_USER": name}
        result = subprocess.run([str(VENV_PYTHON), "-m", "bench_runner", "run", "--quick", "--methods", "host"],
                                cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    finally:
        subprocess.run(["userdel", name], check=True, timeout=30)
    assert result.returncode == 2
    assert f"/etc/subuid has no range for {name}: run scripts/setup.sh as root" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_root_a_run_says_what_it_needs() -> None:
    import shutil
    import tempfile

    from bench_runner.lab.user import BenchUser

    user = BenchUser.lookup()
    # A copy the unprivileged user can read, wherever the repository was cloned.
    place = Path(tempfile.mkdtemp(prefix="netbench-nonroot-"))
    try:
        place.chmod(0o755)
        shutil.copytree(REPO / "bench_runner", place / "bench_runner")
        subprocess.run(["chmod", "-R", "a+rX", str(place)], check=True, timeout=30)
        result = subprocess.run(user.argv(["sh", "-c", f"cd {place} && exec {VENV_PYTHON} -m bench_runner run --quick"]),
                                capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(place)
    assert result.returncode == 2, result.stderr
    assert "needs root to build the lab" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_binary_is_one_line(tmp_path: Path) -> None:
    result = cli("run", "--quick", "--provider", "bare", "--methods", "pasta", "--pasta", "/nonexistent/pasta",
                 "--skip-claims", "--output", str(tmp_path / "x.json"))
    assert result.returncode == 2
    assert "--pasta /nonexistent/pasta: no such program" in result.stderr
    assert "Traceback" not in result.stderr

