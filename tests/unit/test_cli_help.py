"""Every command's --help explains its options with their defaults and the exit codes."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from bench_runner import cli
from bench_runner.commands import COMMANDS
from bench_runner.run.matrix import METHODS, WORKLOADS

REPO = Path(__file__).resolve().parents[2]


def _help(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "bench_runner", *args, "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=60, env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_explains_every_option_and_the_exit_codes(command: str) -> None:
    text = _help(command)
    assert "Exit codes: 0 ok; 1 a trial or command failed" in text and "2 bad usage" in text
    assert "3 an expected ordering or a calibration goal was violated, or a regression found" in " ".join(text.split())
    assert "%%" not in text and "(default: None)" not in text and "(default: False)" not in text
    for action in _subparsers()[command]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{command} {action.dest} has no help"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_options_with_a_default_state_it(command: str) -> None:
    formatter = cli.HelpFormatter(prog="x")
    for action in _subparsers()[command]._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        if not cli._unset(action.default):
            assert "default" in (formatter._get_help_string(action) or ""), f"{command} {action.option_strings}"


def test_top_level_help_lists_report_and_exit_codes() -> None:
    text = _help()
    assert "report" in text and "130/143 interrupted" in text


def test_list_describes_each_method_and_workload_in_one_line() -> None:
    result = subprocess.run([sys.executable, "-m", "bench_runner", "list"], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    lines = result.stdout.splitlines()
    for ids in (METHODS, WORKLOADS):
        for item in ids:
            mine = [line for line in lines if line.split()[:1] == [item]]
            assert len(mine) == 1, item
            assert len(mine[0].split(None, 1)[1]) > 20, f"{item} has no description"
