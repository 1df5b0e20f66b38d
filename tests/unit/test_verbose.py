"""run --verbose: each command the suite starts, and a failed one's output, logged from the one
place commands are started (procs) and shown on stderr, above a live status line."""

from __future__ import annotations

import io
import logging

import pytest

from bench_runner import cli, procs, verbose
from bench_runner.run import matrix, progress
from bench_runner.commands import run as run_command
from bench_runner.errors import CommandTimeout
from bench_runner.run.trials import Starting

DEBUG_PROCS = {"level": logging.DEBUG, "logger": "bench_runner"}


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bench_runner.procs"]


def test_each_command_is_logged_as_run_and_a_failure_with_its_output(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(**DEBUG_PROCS)
    procs.run(["true"], timeout=10)
    procs.run(["sh", "-c", "echo fine; echo bind failed >&2; echo in use >&2; exit 3"], timeout=10, check=False)
    assert _messages(caplog) == [
        "+ true",
        "+ sh -c 'echo fine; echo bind failed >&2; echo in use >&2; exit 3'",
        "! sh exited with 3\n    bind failed\n    in use",  # stderr, the helper's log
    ]


def test_a_timeout_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(**DEBUG_PROCS)
    with pytest.raises(CommandTimeout):
        procs.run(["sleep", "30"], timeout=0.2)
    assert _messages(caplog) == ["+ sleep 30", "! sleep did not finish within 0.2 s and was killed"]


def test_a_helper_that_fails_by_itself_shows_its_log_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(**DEBUG_PROCS)
    helper = procs.Spawned(["sh", "-c", "echo starting; echo 'no such device' >&2; exit 4"])
    try:
        assert helper.wait(10) == 4
        helper.poll()
        helper.stop()
    finally:
        helper.close()
    assert _messages(caplog)[1:] == ["! sh exited with 4\n    no such device"]


def test_a_helper_the_suite_stops_is_no_failure(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(**DEBUG_PROCS)
    helper = procs.Spawned(["sleep", "30"])
    try:
        assert helper.stop() != 0
    finally:
        helper.close()
    assert _messages(caplog) == ["+ sleep 30"]


def test_without_verbose_nothing_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    assert not logging.getLogger("bench_runner").isEnabledFor(logging.DEBUG)
    procs.run(["sh", "-c", "echo oops >&2; exit 1"], timeout=10, check=False)
    assert capsys.readouterr().err == ""


def test_verbose_lines_go_to_the_stream_and_stop_with_the_block() -> None:
    stream = io.StringIO()
    with verbose.enabled(stream, True):
        procs.run(["true"], timeout=10)
    procs.run(["true"], timeout=10)
    with verbose.enabled(stream, False):
        procs.run(["true"], timeout=10)
    assert stream.getvalue() == "+ true\n"
    assert logging.getLogger("bench_runner").handlers == []


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_lines_go_above_the_status_line() -> None:
    screen = Terminal()
    display = progress.Display(screen, "live", clock=lambda: 100.0, tick_s=3600)  # no ticks: events only
    display._width = lambda: 200  # type: ignore[method-assign]
    with verbose.enabled(screen, True), display, verbose.through(display.note):
        display.started(Starting(1, 4, matrix.Cell("tcp-stream", "remote", "pasta"), False, 0.0))
        status = screen.getvalue()
        assert status.startswith(progress.CLEAR_LINE + "running tcp-stream/remote/pasta")
        procs.run(["true"], timeout=10)
        # the status line is cleared, the command line takes its place, the status is drawn below it
        assert screen.getvalue() == status + progress.CLEAR_LINE + "+ true\n" + status


def test_run_takes_verbose_also_when_resuming() -> None:
    args = cli.build_parser().parse_args(["run", "--verbose", "--resume", "x.json"])
    assert args.verbose and run_command.options_given_with_resume(args) == []
    assert cli.build_parser().parse_args(["run"]).verbose is False
