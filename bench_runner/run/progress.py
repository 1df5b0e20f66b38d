"""What a run shows while it measures.

On a terminal: a line per finished trial, and under it one status line, redrawn every
second, with what is running, trial n of m, the time elapsed and an estimate of the time
left. Not on a terminal (a pipe, a file, CI) or with TERM=dumb: the same per-trial lines,
plain, never a control code. With ``--format json``: nothing, so stdout and stderr stay for
machines. ``--verbose`` lines (each command started) come through :meth:`Display.note` in
every mode, on a terminal above the status line.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, TextIO

from . import eta
from ..analysis.ranking import trial_carrier, trial_peer

if TYPE_CHECKING:  # only for annotations: the runner imports the heavy modules, not the display
    from .trials import Progress, Starting

#: Clear the terminal line and return to its start; only ever written to a terminal.
CLEAR_LINE = "\r\x1b[K"
TICK_S = 1.0


def clock_text(seconds: float) -> str:
    """ "42s", "3m05s", "1h02m" """
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def left_text(left: float | tuple[float, float] | None) -> str | None:
    """ "~3m05s left", or with extra rounds still possible "~3m05s left, up to 5m10s" """
    if left is None:
        return None
    expected, most = left if isinstance(left, tuple) else (left, left)
    text = f"~{clock_text(expected)} left"
    if most > expected * 1.05 + 5:
        text += f", up to {clock_text(most)}"
    return text


def trial_line(progress: Progress, left: float | tuple[float, float] | None, *, may_grow: bool) -> str:
    """One finished trial: its position, the time, its value and what carried it."""
    trial = progress.trial
    if trial.status == "ok":
        value = trial.samples.get(next(iter(trial.samples), ""), float("nan"))
        what = f"{value:.3g} (carried by {trial_carrier(trial) or '?'}, server saw {trial_peer(trial) or '?'})"
    else:
        what = f"FAILED: {trial.error}"
    tag = " warm-up" if trial.warmup else ""
    total = f"{progress.total}{'+' if may_grow else ''}"
    eta = f", {left_text(left)}" if left is not None else ""
    return f"[{progress.done}/{total} {clock_text(progress.elapsed_s)}{eta}] {progress.cell.label}{tag}: {what}"


def status_line(starting: Starting, now: float, left: float | tuple[float, float] | None, *, may_grow: bool) -> str:
    """The live line: what is running now."""
    total = f"{starting.total}{'+' if may_grow else ''}"
    tag = " (warm-up)" if starting.warmup else ""
    eta = left_text(left) or "estimating time left"
    return (f"running {starting.cell.label}{tag}: trial {starting.number} of {total}, "
            f"{clock_text(now)} elapsed, {eta}")


@dataclass
class _State:
    starting: Starting | None = None
    started_at: float = 0.0  # monotonic time of the run's start as the display saw it
    done: int = 0
    elapsed_at_done: float = 0.0


class Display:
    """Receives ``TrialRunner``'s events (``started`` before a trial, ``finished`` after it)."""

    def __init__(self, stream: TextIO, mode: str, *, may_grow: bool = False,
                 clock: Callable[[], float] = time.monotonic, tick_s: float = TICK_S,
                 max_total: int = 0, after_s: float = 0.0, budget_left_s: float | None = None) -> None:
        if mode not in ("live", "lines", "quiet"):
            raise ValueError(mode)
        self.stream = stream
        self.mode = mode
        self.may_grow = may_grow
        #: Trials the run may reach with every extra round, and the seconds of work after
        #: the trials (claims probes, captures): both in the time left.
        self.max_total = max_total
        self.after_s = after_s
        #: --time-budget less what a resumed run's earlier sessions spent: no extra round
        #: starts past it, so the "up to" does not either (None: no budget).
        self.budget_left_s = budget_left_s
        self.clock = clock
        self.tick_s = tick_s
        self._state = _State()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._shown = False  # a status line is on the screen

    # -- events from the runner -------------------------------------------------------
    def started(self, starting: Starting) -> None:
        with self._lock:
            state = self._state
            state.starting = starting
            state.started_at = self.clock() - starting.elapsed_s
            if self.mode == "live":
                self._draw_status()
                self._start_ticker()

    def finished(self, progress: Progress) -> None:
        with self._lock:
            state = self._state
            state.done = progress.done
            state.elapsed_at_done = progress.elapsed_s
            state.started_at = self.clock() - progress.elapsed_s
            if self.mode == "quiet":
                return
            left = eta.left(progress.done, progress.total, self.max_total, progress.elapsed_s, progress.elapsed_s,
                            self.after_s, self.budget_left_s)
            line = trial_line(progress, left, may_grow=self.may_grow)
            if self.mode == "live":
                self._write(CLEAR_LINE + line + "\n")
                self._shown = False
            else:
                self._write(line + "\n")

    def note(self, text: str) -> None:
        """A line from elsewhere (run --verbose), shown in every mode: on a terminal above the
        status line, which is drawn again under it."""
        with self._lock:
            if self.mode == "live" and self._shown:
                self._write(CLEAR_LINE + text + "\n")
                self._draw_status()
            else:
                self._write(text + "\n")

    def close(self) -> None:
        """Stop redrawing and take the status line off the screen."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2 * self.tick_s + 1)
        with self._lock:
            if self._shown:
                self._write(CLEAR_LINE)
                self._shown = False

    def __enter__(self) -> "Display":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- drawing (live mode only) ------------------------------------------------------
    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed terminal must not end the measurement

    def _width(self) -> int:
        """The terminal's width; a terminal that reports none (0) gets $COLUMNS, else 80."""
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 0
        if columns <= 0:
            text = os.environ.get("COLUMNS", "")
            columns = int(text) if text.isdigit() and int(text) > 0 else 80
        return columns

    def _draw_status(self) -> None:
        state = self._state
        if state.starting is None:
            return
        now = self.clock() - state.started_at
        left = eta.left(state.done, state.starting.total, self.max_total, state.elapsed_at_done, now, self.after_s,
                        self.budget_left_s)
        line = status_line(state.starting, now, left, may_grow=self.may_grow)
        width = self._width()
        if len(line) >= width:  # a wrapped line cannot be redrawn in place
            line = line[: max(0, width - 2)] + "\u2026"
        self._write(CLEAR_LINE + line)
        self._shown = True

    def _start_ticker(self) -> None:
        if self._ticker is not None:
            return
        self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(self.tick_s):
            with self._lock:
                if self._shown:
                    self._draw_status()


def choose_mode(stream: TextIO, *, quiet: bool, environ: dict[str, str] | None = None) -> str:
    """live on a terminal, lines elsewhere (or on a dumb terminal), quiet when asked."""
    if quiet:
        return "quiet"
    env = os.environ if environ is None else environ
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return "live" if tty and env.get("TERM", "") != "dumb" else "lines"


def for_run(stream: TextIO, *, quiet: bool, may_grow: bool, max_total: int = 0, after_s: float = 0.0,
            budget_left_s: float | None = None) -> Display:
    return Display(stream, choose_mode(stream, quiet=quiet), may_grow=may_grow, max_total=max_total, after_s=after_s,
                   budget_left_s=budget_left_s)
