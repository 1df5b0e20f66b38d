"""Repeated, interleaved trials: each a fresh server and a fresh client.

Rounds go A B C, A B C, ... (the order within a round shuffled with a recorded seed), so
drift hits every method alike; the first rounds are warm-up and are kept in the document
but not in the statistics. The results document is saved after every trial.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import observe, procs, stats
from .errors import BenchError, MeasurementError
from .matrix import METHODS, Cell, Matrix
from .parsers import ParseError
from .providers import Provider, RunningServer, Session
from .results import CellResult, RunDocument, Trial, save
from .workloads import DRIVERS, ClientContext, TrialSettings

#: Ports the servers use inside the server host, rotated per trial so that nothing of one
#: trial (a socket in TIME_WAIT, a slow helper) can touch the next.
PORT_BASE = 20000
PORT_SPAN = 1000
#: A cell whose first trials all fail this many times is not tried again in this run.
MAX_CONSECUTIVE_FAILURES = 2


@dataclass(frozen=True)
class Plan:
    matrix: Matrix
    settings: TrialSettings
    warmup_rounds: int
    #: Measured rounds every cell gets.
    rounds: int
    seed: int
    #: More rounds, up to this many, for cells whose 95% interval of the median is wider
    #: than ``precision`` (relative half-width) after ``rounds``.
    max_rounds: int = 0
    precision: float = 0.05

    @property
    def total_trials(self) -> int:
        """The minimum; adaptive rounds may add to it."""
        return len(self.matrix.cells) * (self.warmup_rounds + self.rounds)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    cell: Cell
    trial: Trial
    elapsed_s: float


def round_order(cells: tuple[Cell, ...], round_index: int, seed: int) -> list[Cell]:
    """Every cell once per round, in an order shuffled with (seed, round)."""
    order = list(cells)
    random.Random(f"{seed}:{round_index}").shuffle(order)
    return order


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class TrialRunner:
    def __init__(self, document: RunDocument, output: Path, session: Session, provider: Provider,
                 on_progress: Callable[[Progress], None] = lambda p: None) -> None:
        self.document = document
        self.output = output
        self.session = session
        self.provider = provider
        self.on_progress = on_progress
        self.trial_index = sum(len(c.trials) for c in document.cells)

    def run(self, plan: Plan) -> None:
        started = time.monotonic()
        self._done = 0
        self._total = plan.total_trials
        self._failures: dict[Cell, int] = {}
        fixed_rounds = plan.warmup_rounds + plan.rounds
        for round_index in range(fixed_rounds):
            self._run_round(plan, round_index, plan.matrix.cells, started)
        round_index = fixed_rounds
        while round_index < plan.warmup_rounds + plan.max_rounds:
            pending = tuple(c for c in plan.matrix.cells if self._imprecise(c, plan.precision))
            if not pending:
                break
            self._total = self._done + len(pending)
            self._run_round(plan, round_index, pending, started)
            round_index += 1

    def _imprecise(self, cell: Cell, precision: float) -> bool:
        """Still worth another round: measured, not given up, interval wider than wanted."""
        result = self.document.cell(cell.workload, cell.placement, cell.method)
        values = result.samples()
        if self._failures.get(cell, 0) >= MAX_CONSECUTIVE_FAILURES or not values:
            return False
        width = stats.summarize(values).half_width
        return width is None or width > precision

    def _run_round(self, plan: Plan, round_index: int, cells: tuple[Cell, ...], started: float) -> None:
        warmup = round_index < plan.warmup_rounds
        for cell in round_order(cells, round_index, plan.seed):
            result = self.document.cell(cell.workload, cell.placement, cell.method)
            if self._failures.get(cell, 0) >= MAX_CONSECUTIVE_FAILURES and not result.samples(include_warmup=True):
                self._done += 1
                continue
            trial = self.run_trial(cell, round_index, warmup, plan.settings)
            result.trials.append(trial)
            self._failures[cell] = 0 if trial.status == "ok" else self._failures.get(cell, 0) + 1
            result.status = "measured" if result.samples(include_warmup=True) else "failed"
            result.reason = None if result.status == "measured" else trial.error
            save(self.document, self.output)
            self._done += 1
            self.on_progress(Progress(self._done, max(self._total, self._done), cell, trial,
                                      time.monotonic() - started))

    def run_trial(self, cell: Cell, round_index: int, warmup: bool, settings: TrialSettings) -> Trial:
        driver = DRIVERS[cell.workload]
        port = PORT_BASE + self.trial_index % PORT_SPAN
        index = self.trial_index
        self.trial_index += 1
        spec = driver.server(port)
        trial = Trial(index=index, round=round_index, warmup=warmup, started_at=now_iso(), seconds=0.0,
                      status="failed", observations={"port": port})
        clock = time.monotonic()
        server: RunningServer | None = None
        try:
            _require_free_port(self.session, spec.published_port)
            server = self.provider.start(self.session, cell.method, spec)
            trial.observations["helper_argv"] = server.helper_argv
            listener = observe.listener_owner(self.session.lab.server_ns_path, spec.protocols[0], spec.published_port)
            if listener is None:
                raise MeasurementError(f"nothing listens on port {spec.published_port} in the server host")
            trial.observations["listener"] = listener.to_json()
            expected = METHODS[cell.method].expected_listener[self.provider.id]
            trial.observations["listener_expected"] = expected
            observed = "server" if listener.kind.startswith("server:") else listener.kind
            if observed != expected:
                raise MeasurementError(
                    f"{cell.method} should be carried by {expected}, but port {spec.published_port} is owned by "
                    f"{listener.kind} (pid {listener.pid}, {listener.exe})")
            cpu_before = procs.cpu_seconds(listener.pid)
            ctx = ClientContext(self.session, cell.placement, spec.published_port, settings)
            client_output = driver.run_client(ctx)
            cpu_after = procs.cpu_seconds(listener.pid)
            exit_ = server.collect(timeout=settings.client_timeout)
            measurement = driver.measure(client_output, exit_)
            trial.samples.update(measurement.samples)
            trial.observations.update(measurement.observations)
            if cpu_before is not None and cpu_after is not None and observed != "server":
                cpu = cpu_after - cpu_before
                trial.observations["helper_cpu_s"] = round(cpu, 4)
                if measurement.bytes_moved:
                    trial.samples["helper_cpu_s_per_gb"] = cpu / (measurement.bytes_moved / 1e9)
            trial.status = "ok"
        except (BenchError, ParseError) as exc:
            trial.error = str(exc)
        finally:
            if server is not None:
                problems = server.stop()
                if problems:
                    trial.observations["teardown_problems"] = problems
                procs.reap_orphans()
            trial.seconds = round(time.monotonic() - clock, 3)
        return trial


def _require_free_port(session: Session, port: int) -> None:
    for listener in observe.listeners_in(session.lab.server_ns_path):
        if listener.port == port:
            owner = ", ".join(f"{o.comm} pid {o.pid}" for o in listener.owners) or "unknown process"
            raise MeasurementError(f"port {port} is already in use in the server host ({owner})")


def new_cell_results(matrix: Matrix) -> list[CellResult]:
    from .matrix import WORKLOADS
    from .results import MetricInfo

    cells = []
    for cell in matrix.cells:
        workload = WORKLOADS[cell.workload]
        cells.append(CellResult(cell.workload, cell.placement, cell.method, workload.metric.id,
                                workload.metric.unit, workload.metric.higher_is_better,
                                [MetricInfo.of(m) for m in workload.extra_metrics]))
    for cell, reason in matrix.not_applicable:
        workload = WORKLOADS[cell.workload]
        cells.append(CellResult(cell.workload, cell.placement, cell.method, workload.metric.id,
                                workload.metric.unit, workload.metric.higher_is_better,
                                [MetricInfo.of(m) for m in workload.extra_metrics],
                                status="not_applicable", reason=reason))
    return cells
