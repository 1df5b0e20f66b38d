"""``publish`` says how to view the site, and ``publish --serve`` serves it on 127.0.0.1 until
interrupted, then frees its port; a busy port is one line and exit 2 (real asv, loopback only)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bench_runner.history import config
from tests.conftest import as_if_from_a_terminal
from tests.unit.history_env import REPO, load_doc, use_history, write

READY_TIMEOUT_S = 300  # a generous bound for asv publish on a loaded machine: not a performance check


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench_runner", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """Nothing listens, and a new server can listen there (with SO_REUSEADDR, as http.server and
    any server does: the closed connections' TIME_WAIT does not count)."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
        return True


def _get(url: str) -> bytes:
    # No proxy: the request must reach the server on 127.0.0.1 itself.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:
        assert response.status == 200
        return response.read()


def _start(port: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "bench_runner", "publish", "--serve", "--port", str(port)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=as_if_from_a_terminal)


def _wait_listening(proc: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"publish --serve exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("publish --serve never listened")


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> config.AsvConfig:
    conf = config.load(use_history(tmp_path, monkeypatch))
    done = cli("record", str(write(tmp_path / "a.json", load_doc("results-bare-full.json"))))
    assert done.returncode == 0, done.stderr
    return conf


def test_publish_says_how_to_view_the_site(recorded: config.AsvConfig) -> None:
    done = cli("publish")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == ("view it with: python -m bench_runner publish --serve "
                                           "(then open http://127.0.0.1:8080/)")


@pytest.mark.parametrize("stop, code", [(signal.SIGINT, 0), (signal.SIGTERM, 128 + signal.SIGTERM)])
def test_serve_until_interrupted_then_free_the_port(recorded: config.AsvConfig, stop: signal.Signals,
                                                     code: int) -> None:
    port = _free_port()
    proc = _start(port)
    try:
        _wait_listening(proc, port)
        base = f"http://127.0.0.1:{port}"
        assert b'src="vendor/netbench-pages.js"' in _get(f"{base}/index.html")
        index = json.loads(_get(f"{base}/index.json"))
        assert index["benchmarks"]["netbench.track_tcp_stream_throughput"]["higher_is_better"] is True
        graph = next(p for p in (recorded.html_dir / "graphs").rglob("netbench.track_tcp_stream_throughput.json")
                     if "summary" not in p.parts)
        path = urllib.request.pathname2url(str(graph.relative_to(recorded.html_dir)))
        assert json.loads(_get(f"{base}/{path}")) == json.loads(graph.read_text())
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert f"serving {recorded.html_dir} at http://127.0.0.1:{port}/" in out
    assert "Traceback" not in err
    assert _port_is_free(port)


def test_a_busy_port_is_one_line_and_exit_2_before_asv_runs(recorded: config.AsvConfig) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = cli("publish", "--serve", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.strip() == f"bench_runner: error: port {port} on 127.0.0.1 is in use: choose another with --port N"
    assert not (recorded.html_dir / "index.html").exists()


@pytest.mark.parametrize("args, message", [
    (["--port", "8081"], "--port is the port of --serve"),
    (["--serve", "--port", "0"], "is not a port number"),
    (["--serve", "--port", "http"], "is not an integer"),
])
def test_bad_serve_options_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
                                        message: str) -> None:
    use_history(tmp_path, monkeypatch)
    done = cli("publish", *args)
    assert done.returncode == 2 and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
