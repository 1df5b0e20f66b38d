"""A live run as a person and as a pipeline see it: on a terminal (a pseudo-terminal here) an
updating status line; piped to a file, plain lines without a control code; then the report
of that real run."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

from bench_runner.results import document as results
from bench_runner.paths import VENV_PYTHON
from tests.integration.conftest import REPO, cli

QUICK = ("run", "--quick", "--methods", "host,pasta", "--workloads", "tcp-stream", "--placements", "remote",
         "--skip-claims")


def test_run_piped_to_a_file_has_no_control_codes(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    result = cli(*QUICK, "--output", str(output))
    assert result.returncode == 0, result.stderr
    for text in (result.stdout, result.stderr):
        assert "\x1b" not in text and "\r" not in text
    trials = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert len(trials) == 2
    assert re.match(r"\[1/2 \d+s, ~\d+s left\] tcp-stream/remote/(host|pasta): ", trials[0])
    assert trials[1].startswith("[2/2 ")
    # the stored run renders as a report with a plot
    report = cli("report", str(output))
    assert report.returncode == 0, report.stderr
    text = output.with_name("run-report.md").read_text()
    assert "## Stack and host" in text and "![tcp-stream" in text
    assert output.with_name("run-report-tcp-stream.png").stat().st_size > 10_000
    document = results.load(output)
    assert f"--seed {document.run['seed']}" in text


def test_json_run_says_nothing_on_stderr_but_errors(tmp_path: Path) -> None:
    result = cli(*QUICK, "--output", str(tmp_path / "run.json"), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "[1/2" not in result.stderr and "\x1b" not in result.stderr


def test_run_on_a_terminal_shows_live_progress(tmp_path: Path) -> None:
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))  # 50 rows, 200 columns
    env = {**os.environ, "TERM": "xterm"}
    process = subprocess.Popen([str(VENV_PYTHON), "-m", "bench_runner", *QUICK, "--output", str(tmp_path / "run.json")],
                               cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=secondary, env=env)
    os.close(secondary)
    seen = b""
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # the terminal closed: the run ended
                    break
                if not chunk:
                    break
                seen += chunk
            elif process.poll() is not None:
                break
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        os.close(main)
    assert process.returncode == 0, seen.decode(errors="replace")[-2000:]
    text = seen.decode(errors="replace")
    assert "\r\x1b[K" in text  # the status line is redrawn in place
    assert re.search(r"running tcp-stream/remote/(host|pasta): trial 1 of 2, \d+s elapsed, estimating time left", text)
    assert re.search(r"running tcp-stream/remote/(host|pasta): trial 2 of 2, \d+s elapsed, ~\d+s left", text)
    assert re.search(r"\[2/2 \d+s, ~0s left\] tcp-stream/remote/", text)
