"""Progress while a run measures: a live line on a terminal, plain lines elsewhere, nothing
with --json; and the runner says what starts before it ends."""

from __future__ import annotations

import dataclasses

import io
import threading
from pathlib import Path

import pytest

from bench_runner.run import eta, matrix, progress, schedule
from bench_runner.results.document import RunDocument, Trial
from bench_runner.run.trials import Plan, Progress, Starting, TrialRunner, new_cell_results
from bench_runner.workloads import TrialSettings

CELL = matrix.Cell("tcp-stream", "remote", "pasta")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _wide(display: progress.Display) -> progress.Display:
    display._width = lambda: 200  # type: ignore[method-assign]
    return display


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _trial(ok: bool = True, warmup: bool = False) -> Trial:
    return Trial(index=0, round=0, warmup=warmup, started_at="2026-11-28T00:00:00Z", seconds=4.0,
                 status="ok" if ok else "failed", error=None if ok else "pasta exited with 1: bind failed",
                 samples={"throughput": 8.2} if ok else {},
                 observations={"listener": {"kind": "pasta"}, "peer_address": "198.51.100.2"})


def test_clock_text_and_estimate() -> None:
    assert [progress.clock_text(s) for s in (0, 42, 185, 3725)] == ["0s", "42s", "3m05s", "1h02m"]
    assert eta.left(0, 10, 10, 0.0, 5.0, 0.0) is None
    # 2 of 10 done in 20 s: 8 more at 10 s each, less the 4 s the current one has run
    assert eta.left(2, 10, 10, 20.0, 24.0, 0.0) == pytest.approx((76.0, 76.0))
    assert eta.left(10, 10, 10, 100.0, 100.0, 0.0) == (0.0, 0.0)
    # the claims probes after the trials, and up to 5 more trials of extra rounds
    assert eta.left(2, 10, 15, 20.0, 24.0, 30.0) == pytest.approx((106.0, 156.0))


def test_the_time_left_says_how_long_extra_rounds_may_add() -> None:
    assert progress.left_text(185.0) == "~3m05s left"
    assert progress.left_text((185.0, 186.0)) == "~3m05s left"
    assert progress.left_text((185.0, 400.0)) == "~3m05s left, up to 6m40s"


def test_a_run_is_estimated_with_its_extra_rounds_probes_and_captures() -> None:
    work = eta.Work(trials=20, extra_trials=10, probes=8, capture_trials=4, stack_boots=1, trial_s=4.0)
    per_trial = 4.0 + eta.TRIAL_OVERHEAD_S
    after = 8 * eta.PROBE_S + 4 * (1.0 + eta.TRIAL_OVERHEAD_S)
    expected, most = work.seconds()
    assert expected == pytest.approx(eta.STACK_BOOT_S + after + 20 * per_trial)
    assert most - expected == pytest.approx(10 * per_trial)
    assert eta.describe((600.0, 900.0), progress.clock_text) == "about 10m00s, up to 15m00s with extra rounds"
    assert eta.describe((600.0, 600.0), progress.clock_text) == "about 10m00s"
    assert eta.probes_for(3, 2) == 3 * 4 + 2 * 2


def test_the_time_budget_bounds_the_worst_case_it_binds() -> None:
    """Every extra round would take 20 + 10 trials of 4.9 s (147 s); a budget of 2 min stops
    them at 120 s of trials, a budget above the worst case changes nothing, and the fixed
    rounds (98 s) always run."""
    free = eta.Work(trials=20, extra_trials=10, probes=0, capture_trials=0, stack_boots=0, trial_s=4.0)
    assert free.seconds() == pytest.approx((98.0, 147.0))
    capped = dataclasses.replace(free, time_budget_s=120.0)
    assert capped.seconds() == pytest.approx((98.0, 120.0))
    assert "--time-budget of 2 min stops them" in capped.upper_why()
    assert dataclasses.replace(free, time_budget_s=600.0).seconds() == pytest.approx((98.0, 147.0))
    assert "budget" not in dataclasses.replace(free, time_budget_s=600.0).upper_why()
    assert dataclasses.replace(free, time_budget_s=30.0).seconds() == pytest.approx((98.0, 98.0))


def _document_with_trial_seconds(seconds: list[float]) -> RunDocument:
    cells = new_cell_results(matrix.build(["pasta"], ["tcp-stream"], ["remote"]))
    for i, spent in enumerate(seconds):
        cells[i % len(cells)].trials.append(dataclasses.replace(_trial(), index=i, seconds=spent))
    return RunDocument(run={}, stack={}, lab={}, provider={"id": "bare"}, cells=cells)


def test_while_the_run_goes_the_time_budget_bounds_the_time_left_too() -> None:
    """2 of 10 trials done in 20 s, 15 possible with extra rounds: 80 s and 130 s of trials
    left. A budget with 60 s left (less the 4 s the trial in progress has run) caps the worst
    case, never below the trials already planned; a resumed run's earlier trials have spent
    some of it; the trial lines say so."""
    assert eta.left(2, 10, 15, 20.0, 24.0, 0.0) == pytest.approx((76.0, 126.0))
    assert eta.left(2, 10, 15, 20.0, 24.0, 0.0, budget_left_s=124.0) == pytest.approx((76.0, 100.0))
    assert eta.left(2, 10, 15, 20.0, 24.0, 30.0, budget_left_s=50.0) == pytest.approx((106.0, 106.0))
    assert eta.left(2, 10, 15, 20.0, 24.0, 0.0, budget_left_s=None) == pytest.approx((76.0, 126.0))
    document = _document_with_trial_seconds([30.0, 12.5])
    assert schedule.budget_left(None, document) is None
    assert schedule.budget_left(120.0, document) == pytest.approx(77.5)
    lines = []
    for budget in (None, 60.0):
        stream = io.StringIO()
        with progress.for_run(stream, quiet=False, may_grow=True, max_total=15, budget_left_s=budget) as display:
            display.finished(Progress(2, 10, CELL, _trial(), 20.0))
        lines.append(stream.getvalue())
    assert "[2/10+ 20s, ~1m20s left, up to 2m10s]" in lines[0]
    assert "[2/10+ 20s, ~1m20s left]" in lines[1]  # the budget leaves no room for extra rounds


def test_not_a_terminal_gets_plain_lines_only() -> None:
    stream = io.StringIO()
    display = progress.for_run(stream, quiet=False, may_grow=True)
    assert display.mode == "lines"
    with display:
        display.started(Starting(1, 4, CELL, False, 0.0))
        display.finished(Progress(1, 4, CELL, _trial(), 10.0))
        display.started(Starting(2, 4, CELL, False, 10.0))
        display.finished(Progress(2, 4, CELL, _trial(ok=False), 20.0))
    text = stream.getvalue()
    assert "\x1b" not in text and "\r" not in text
    lines = text.splitlines()
    assert lines == [
        "[1/4+ 10s, ~30s left] tcp-stream/remote/pasta: 8.2 (carried by pasta, server saw 198.51.100.2)",
        "[2/4+ 20s, ~20s left] tcp-stream/remote/pasta: FAILED: pasta exited with 1: bind failed",
    ]


def test_json_mode_is_silent() -> None:
    stream = Terminal()
    with progress.for_run(stream, quiet=True, may_grow=False) as display:
        display.started(Starting(1, 2, CELL, True, 0.0))
        display.finished(Progress(1, 2, CELL, _trial(warmup=True), 4.0))
    assert stream.getvalue() == ""


def test_dumb_terminal_gets_plain_lines() -> None:
    assert progress.choose_mode(Terminal(), quiet=False, environ={"TERM": "dumb"}) == "lines"
    assert progress.choose_mode(Terminal(), quiet=False, environ={"TERM": "xterm"}) == "live"


def test_terminal_shows_what_runs_and_redraws_in_place() -> None:
    stream = Terminal()
    clock = Clock()
    display = _wide(progress.Display(stream, "live", clock=clock, tick_s=3600))  # no ticks: events only
    display.started(Starting(1, 3, CELL, True, 0.0))
    assert stream.getvalue() == (progress.CLEAR_LINE + "running tcp-stream/remote/pasta (warm-up): trial 1 of 3, "
                                 "0s elapsed, estimating time left")
    clock.now += 12
    display.finished(Progress(1, 3, CELL, _trial(warmup=True), 12.0))
    display.started(Starting(2, 3, CELL, False, 12.5))
    display.close()
    text = stream.getvalue()
    assert (progress.CLEAR_LINE + "[1/3 12s, ~24s left] tcp-stream/remote/pasta warm-up: 8.2 "
            "(carried by pasta, server saw 198.51.100.2)\n") in text
    assert "running tcp-stream/remote/pasta: trial 2 of 3, 12s elapsed, ~24s left" in text
    assert text.endswith(progress.CLEAR_LINE)  # the status line is taken off the screen at the end
    assert text.count("\n") == 1  # only finished trials leave a line behind


def test_the_status_line_ticks_while_a_trial_runs() -> None:
    stream = Terminal()
    clock = Clock()
    display = _wide(progress.Display(stream, "live", clock=clock, tick_s=0.01))
    display.started(Starting(1, 2, CELL, False, 0.0))
    clock.now += 5  # time passes; no event arrives
    seen = threading.Event()
    for _ in range(1000):  # the redraw itself is what is awaited, not a speed
        if "trial 1 of 2, 5s elapsed" in stream.getvalue():
            seen.set()
            break
        threading.Event().wait(0.01)
    display.close()
    assert seen.is_set(), stream.getvalue()[-200:]


def test_a_long_status_line_is_cut_to_the_terminal_width() -> None:
    stream = Terminal()
    display = progress.Display(stream, "live", tick_s=3600)
    display._width = lambda: 40  # type: ignore[method-assign]
    display.started(Starting(1, 2, CELL, False, 0.0))
    display.close()
    status = stream.getvalue().split(progress.CLEAR_LINE)[1]
    assert len(status) < 40 and status.endswith("\u2026")


class _FakeRunner(TrialRunner):
    """Runs no server: every trial succeeds at once, so only the events are under test."""

    def run_trial(self, cell, round_index, warmup, settings):  # type: ignore[no-untyped-def]
        self.events.append(("run", cell.label))
        trial = _trial(warmup=warmup)
        trial.round = round_index
        return trial


def test_runner_announces_each_trial_before_running_it(tmp_path: Path) -> None:
    built = matrix.build(["host", "pasta"], ["tcp-stream"], ["remote"])
    document = RunDocument(run={"options": {}}, stack={}, lab={}, provider={"id": "bare"},
                           cells=new_cell_results(built))
    events: list[tuple[str, object]] = []
    runner = _FakeRunner(document, tmp_path / "run.json", session=None, provider=None,  # type: ignore[arg-type]
                         on_progress=lambda p: events.append(("finished", (p.done, p.total, p.cell.label))),
                         on_start=lambda s: events.append(("started", (s.number, s.total, s.cell.label, s.warmup))))
    runner.events = events  # type: ignore[attr-defined]
    runner.run(Plan(built, TrialSettings(1, 0), warmup_rounds=1, rounds=1, seed=3))
    kinds = [kind for kind, _ in events]
    assert kinds == ["started", "run", "finished"] * 4
    starts = [e for k, e in events if k == "started"]
    finishes = [e for k, e in events if k == "finished"]
    assert [s[0] for s in starts] == [f[0] for f in finishes] == [1, 2, 3, 4]
    assert [s[2] for s in starts] == [f[2] for f in finishes]
    assert [s[3] for s in starts] == [True, True, False, False]


def test_a_terminal_that_reports_no_width_gets_columns_or_80(monkeypatch: pytest.MonkeyPatch) -> None:
    display = progress.Display(Terminal(), "live")
    monkeypatch.setattr(progress.os, "get_terminal_size", lambda fd: __import__("os").terminal_size((0, 0)))
    monkeypatch.setenv("COLUMNS", "132")
    assert display._width() == 132
    monkeypatch.delenv("COLUMNS")
    assert display._width() == 80


def test_a_socket_activated_server_is_named_as_in_the_tables() -> None:
    trial = _trial()
    trial.observations["listener"] = {"kind": "server:python3", "carrier": "inherited", "comm": "python3"}
    cell = matrix.Cell("tcp-rr", "remote", "socket-activation-user")
    line = progress.trial_line(Progress(1, 2, cell, trial, 5.0), 5.0, may_grow=False)
    assert "(carried by python3 (inherited socket), server saw 198.51.100.2)" in line


def test_each_trial_runs_with_its_workloads_own_length() -> None:
    from bench_runner.run.schedule import Scheduler

    built = matrix.build(["host", "pasta"], ["tcp-stream", "tcp-rr"], ["remote"])
    document = RunDocument(run={"options": {}}, stack={}, lab={}, provider={"id": "bare"},
                           cells=new_cell_results(built))
    seen: dict[str, set[tuple[int, int]]] = {}

    def execute(cell, round_index, warmup, settings):  # type: ignore[no-untyped-def]
        seen.setdefault(cell.workload, set()).add((settings.duration_s, settings.omit_s))
        return Trial(index=0, round=round_index, warmup=warmup, started_at="", seconds=0.0, status="failed",
                     error="not run")

    settings = TrialSettings(3, 1, by_workload=(("tcp-rr", 1, 0),))
    Scheduler(document, execute, lambda cell, trial: None).run(
        Plan(built, settings, warmup_rounds=0, rounds=1, seed=3))
    assert seen == {"tcp-rr": {(1, 0)}, "tcp-stream": {(3, 1)}}
