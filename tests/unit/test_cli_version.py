"""``--version`` is one line: the suite's version and, in a git checkout, its commit."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench_runner import __version__, cli
from bench_runner.stacks import detect as stack

REPO = Path(__file__).resolve().parents[2]


def test_version_names_the_checkout_s_commit() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                          timeout=30, check=True).stdout.strip()
    result = subprocess.run([sys.executable, "-m", "bench_runner", "--version"], cwd="/", capture_output=True,
                            text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"podman-netbench {__version__} (commit {head})\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_version_outside_a_checkout_says_the_commit_is_unknown(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(stack, "suite_commit", lambda: None)
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"], prog=cli.SCRIPT_PROG)
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"podman-netbench {__version__} (commit unknown)\n"


def test_version_needs_no_command() -> None:
    """--version alone is enough, although a COMMAND is otherwise required."""
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args(["--version"])
    assert exited.value.code == 0
