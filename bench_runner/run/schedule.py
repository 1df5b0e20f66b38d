"""The order of a run's trials: rounds that go A B C, A B C, ... (the order within a round
shuffled with a recorded seed), so drift hits every method alike; the first rounds are
warm-up; then more rounds, to the cells of the pairs still undecided (``analysis.sequential``),
so a family whose methods are told apart but for one pair spends its extra rounds on that pair. What a trial does is the executor's; keeping it is the writer's.
This decides only which trial runs next, and when the run has enough.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable

from .. import defaults
from ..analysis import sequential
from .matrix import Cell, Matrix, stack_label
from ..results.document import RunDocument, Trial
from ..workloads import TrialSettings

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
    #: More rounds, up to this many, to the cells of each pair (of one workload and placement)
    #: neither separated nor within ``margin`` (``analysis.sequential``).
    max_rounds: int = 0
    #: The target half-width of each median's interval: reported, it adds no rounds.
    precision: float = defaults.PRECISION
    margin: float = defaults.MARGIN
    #: The orderings the run judges: a pair of one is decided only once its verdict is.
    expectations: tuple[str, ...] = ()
    #: Seconds the trials may take (their recorded seconds, warm-up included) before no more
    #: extra rounds start; None: no limit but ``max_rounds``.
    time_budget_s: float | None = None

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


@dataclass(frozen=True)
class Starting:
    """A trial about to start, so a display can say what runs before it ends."""

    number: int  # 1-based position among the run's trials
    total: int
    cell: Cell
    warmup: bool
    elapsed_s: float


def family(cell: Cell) -> tuple[str, str]:
    """Cells compared with one another (ranked, judged, divided by host): one workload and
    placement, every method and stack."""
    return cell.workload, cell.placement


def cell_key(cell: Cell) -> tuple[tuple[str, str], str]:
    """A cell as a family's pairs name it: (family, label)."""
    return family(cell), stack_label(cell.method, cell.stack)


def extra_round(cells: tuple[Cell, ...], wanted: Callable[[tuple[tuple[str, str], str]], bool],
                given_up: Callable[[Cell], bool]) -> tuple[Cell, ...]:
    """The cells of another round: both cells of every pair still undecided, run in one
    shuffled round, so each such pair stays paired round by round and drift hits both alike;
    cells given up on are left out."""
    return tuple(c for c in cells if wanted(cell_key(c)) and not given_up(c))


def round_order(cells: tuple[Cell, ...], round_index: int, seed: int) -> list[Cell]:
    """Every cell once per round, in an order shuffled with (seed, round)."""
    order = list(cells)
    random.Random(f"{seed}:{round_index}").shuffle(order)
    return order


@dataclass(frozen=True)
class BudgetStop:
    """Why no more extra rounds started: the trials so far and the next round would take
    longer than the budget."""

    budget_s: float
    spent_s: float  # the recorded seconds of every trial so far
    next_round_s: float  # the next round's trials, each at its cell's mean so far

    def to_json(self) -> dict[str, float]:
        return {"budget_s": self.budget_s, "spent_s": round(self.spent_s, 1),
                "next_round_s": round(self.next_round_s, 1)}


def recorded_seconds(document: RunDocument) -> float:
    """The seconds every trial of the run took, as recorded (warm-up and failed ones too): what
    --time-budget counts, so a replay spends as the run did."""
    return sum(t.seconds for cell in document.cells for t in cell.trials)


def over_budget(document: RunDocument, pending: tuple[Cell, ...], budget_s: float | None) -> BudgetStop | None:
    """A stop when the next round would end past ``budget_s``, counted in the trials' own
    recorded seconds (so a replay of the run stops where the run did); None to go on."""
    if budget_s is None:
        return None
    seconds = {cell.cell: [t.seconds for t in cell.trials] for cell in document.cells}
    every = [s for values in seconds.values() for s in values]
    spent = recorded_seconds(document)
    overall = spent / len(every) if every else 0.0
    upcoming = sum((sum(seconds[c]) / len(seconds[c])) if seconds.get(c) else overall for c in pending)
    if spent + upcoming <= budget_s:
        return None
    return BudgetStop(budget_s, spent, upcoming)


def budget_left(budget_s: float | None, document: RunDocument) -> float | None:
    """What --time-budget leaves for this session's trials, in the trials' recorded seconds:
    a resumed run's earlier trials have spent some (None: no budget)."""
    if budget_s is None:
        return None
    return budget_s - recorded_seconds(document)


#: Runs one trial of a cell: (cell, round, warm-up, settings) -> the trial.
Execute = Callable[[Cell, int, bool, TrialSettings], Trial]
#: Keeps a finished trial (in the document, on disk).
Keep = Callable[[Cell, Trial], None]


class Scheduler:
    """Runs a plan's trials through ``execute`` and hands each to ``keep``, announcing each
    trial before and after. A resumed run's document already holds some trials: a round a
    cell has run is not run again."""

    def __init__(self, document: RunDocument, execute: Execute, keep: Keep,
                 on_progress: Callable[[Progress], None] = lambda p: None,
                 on_start: Callable[[Starting], None] = lambda s: None) -> None:
        self.document = document
        self.execute = execute
        self.keep = keep
        self.on_progress = on_progress
        self.on_start = on_start
        self._done = 0
        self._total = 0
        self._failures: dict[Cell, int] = {}
        self._started = 0.0

    def run(self, plan: Plan) -> None:
        self._started = time.monotonic()
        self._done = 0
        self._total = plan.total_trials
        self._failures = {}
        fixed_rounds = plan.warmup_rounds + plan.rounds
        for round_index in range(fixed_rounds):
            self._run_round(plan, round_index, plan.matrix.cells)
        round_index = fixed_rounds
        while round_index < plan.warmup_rounds + plan.max_rounds:
            wanted = self.wanted(plan)
            pending = extra_round(plan.matrix.cells, lambda key: key in wanted, self._given_up)
            if not pending:
                break
            budget = over_budget(self.document, pending, plan.time_budget_s)
            if budget is not None:
                self.document.run["time_budget_stop"] = {**budget.to_json(), "round": round_index - plan.warmup_rounds,
                                                         "cells_waiting": len(pending)}
                break
            self._total = self._done + len(pending)
            self._run_round(plan, round_index, pending)
            round_index += 1

    def wanted(self, plan: Plan) -> set[tuple[tuple[str, str], str]]:
        """The cells (family, label) of every pair neither separated nor within the margin
        (or between two of its looks) that may still take a round: fewer than --max-rounds run
        by both, neither cell given up on."""
        states = sequential.family_states(self.document, margin=plan.margin, expectations=plan.expectations)
        gone = {cell_key(c) for c in plan.matrix.cells if self._given_up(c)}
        found: set[tuple[tuple[str, str], str]] = set()
        for state in states:
            name = (state.workload, state.placement)
            for pair in state.undecided:
                keys = {(name, pair.a), (name, pair.b)}
                if pair.rounds < plan.max_rounds and not keys & gone:
                    found |= keys
        return found

    def _given_up(self, cell: Cell) -> bool:
        return self._failures.get(cell, 0) >= MAX_CONSECUTIVE_FAILURES

    def _run_round(self, plan: Plan, round_index: int, cells: tuple[Cell, ...]) -> None:
        warmup = round_index < plan.warmup_rounds
        for cell in round_order(cells, round_index, plan.seed):
            result = self.document.cell(cell.workload, cell.placement, cell.method, cell.stack)
            given_up = self._given_up(cell) and not result.samples(include_warmup=True)
            already = any(t.round == round_index for t in result.trials)
            if given_up or already:
                self._done += 1
                continue
            self.on_start(Starting(self._done + 1, max(self._total, self._done + 1), cell, warmup,
                                   time.monotonic() - self._started))
            trial = self.execute(cell, round_index, warmup, plan.settings.for_workload(cell.workload))
            self._failures[cell] = 0 if trial.status == "ok" else self._failures.get(cell, 0) + 1
            self.keep(cell, trial)
            self._done += 1
            self.on_progress(Progress(self._done, max(self._total, self._done), cell, trial,
                                      time.monotonic() - self._started))
