"""The stopping rule replayed on a run that measured more rounds: the scheduler runs again
over the run's own recorded trials, taking only the rounds the rule asks for, and the
verdicts of that shorter run are set beside those of all the rounds. Between-run differences
(another day, another load on the host) are left out: this says whether the rule, on the
very rounds a longer run measured, decides what all of them decide.

``python -m bench_runner.run.replay RUN.json`` (RUN measured with --rounds 16 --max-rounds 16,
say); reads only the document.
"""

from __future__ import annotations

import argparse
import copy
import sys
from functools import partial
from dataclasses import dataclass, replace

from .. import defaults
from ..argtypes import minutes, non_negative_int
from ..errors import UsageError
from ..analysis.looks import rounds_of
from ..analysis.sequential import expectations_of
from ..analysis.tables import budget_line
from ..analysis.verdicts import PairVerdict, judge_all
from ..results.document import CellResult, RunDocument, Trial, load
from ..workloads import TrialSettings
from .matrix import Cell, Matrix
from .request import budget_seconds
from .schedule import Plan, Scheduler, recorded_seconds
from .writer import add_trial


class ReplayError(UsageError):
    """The run cannot be replayed under these options (one line, for the user)."""


@dataclass(frozen=True)
class Replay:
    """The shorter run and what it cost, beside the whole run."""

    document: RunDocument
    trials: int
    seconds: float  # the recorded seconds of the trials the rule asked for
    full_trials: int
    full_seconds: float


@dataclass(frozen=True)
class Compared:
    workload: str
    placement: str
    replayed: PairVerdict
    full: PairVerdict

    @property
    def same(self) -> bool:
        return self.replayed.verdict == self.full.verdict


def measured_rounds(document: RunDocument) -> int:
    """The fewest measured rounds any measured cell has recorded (failed trials count)."""
    counts = [len(rounds_of(c)) for c in document.cells if c.status == "measured"]
    if not counts:
        raise ReplayError("the run has no measured cell")
    return min(counts)


def replay(full: RunDocument, *, rounds: int = defaults.ROUNDS, max_rounds: int = defaults.MAX_ROUNDS,
           look_step: int = defaults.LOOK_STEP, time_budget_s: float | None = None,
           warmup_rounds: int | None = None) -> Replay:
    """Runs the scheduler over ``full``'s recorded trials, as a run with these options would
    have asked for them; the time budget counts the trials' recorded seconds, as a run does.
    ``warmup_rounds`` fewer than the run recorded (None: as many) takes the first of its warm-up
    rounds as measured rounds, as a run with fewer warm-up rounds would have measured them:
    a run's first round is its noisiest (README "Warm-up"), so leaving it out would flatter."""
    options = dict(full.run.get("options", {}))
    recorded_warmups = int(options.get("warmup_rounds", 0))
    warmup_rounds = recorded_warmups if warmup_rounds is None else warmup_rounds
    if not 0 <= warmup_rounds <= recorded_warmups:
        raise ReplayError(f"--warmup-rounds must be between 0 and the {recorded_warmups} the run recorded, "
                          f"not {warmup_rounds}")
    if options.get("quick"):
        raise ReplayError("a --quick run has one look; there is nothing to replay")
    have = measured_rounds(full)
    if max_rounds > have:
        raise ReplayError(f"the rule may ask for {max_rounds} rounds, but the run recorded {have}: "
                          f"replay with --max-rounds {have} or less, or measure more rounds")
    if not 0 < rounds <= max_rounds:
        raise ReplayError(f"--rounds must be between 1 and --max-rounds ({max_rounds}), not {rounds}")
    if look_step < 1:
        raise ReplayError(f"--look-step must be 1 or more, not {look_step}")
    options.update(rounds=rounds, max_rounds=max_rounds, look_step=look_step, time_budget_s=time_budget_s,
                   warmup_rounds=warmup_rounds)
    recorded: dict[tuple[Cell, int], Trial] = {}
    cells: list[CellResult] = []
    for cell in full.cells:
        for trial in cell.trials:
            recorded.setdefault((cell.cell, trial.round), trial)
        cells.append(replace(cell, trials=[], status="pending" if cell.status == "measured" else cell.status,
                             reason=None if cell.status == "measured" else cell.reason))
    document = RunDocument(run={**full.run, "options": options}, stack=full.stack, lab=full.lab,
                           provider=full.provider, availability=full.availability, cells=cells, stacks=full.stacks)
    matrix = Matrix(tuple(c.cell for c in full.cells if c.status == "measured"), ())

    def execute(cell: Cell, round_index: int, warmup: bool, settings: TrialSettings) -> Trial:
        found = recorded.get((cell, round_index))
        if found is None:
            raise ReplayError(f"the run has no trial of {cell.label} in round {round_index}")
        return replace(copy.deepcopy(found), warmup=warmup)

    expectations = expectations_of(full)
    Scheduler(document, execute, partial(add_trial, document)).run(Plan(
        matrix, TrialSettings(1, 0), warmup_rounds, rounds, int(full.run.get("seed", 0)), max_rounds=max_rounds,
        margin=float(options.get("margin", defaults.MARGIN)), expectations=expectations, time_budget_s=time_budget_s))
    return Replay(document, sum(len(c.trials) for c in document.cells),
                  recorded_seconds(document), sum(len(c.trials) for c in full.cells), recorded_seconds(full))


def compare(replayed: RunDocument, full: RunDocument) -> list[Compared]:
    """Each ordering pair's verdict in the replayed run beside the whole run's."""
    expectations = expectations_of(full)
    mine, theirs = judge_all(replayed, expectations), judge_all(full, expectations)
    found = []
    for expectation in expectations:
        for short, long in zip(mine[expectation], theirs[expectation]):
            for a, b in zip(short.pairs, long.pairs):
                found.append(Compared(short.workload, short.placement, a, b))
    return found


def _verdict(pair: PairVerdict) -> str:
    if pair.ratio is None:
        return pair.verdict
    interval = f" [{pair.ci_low:.3g}, {pair.ci_high:.3g}]" if pair.ci_low is not None and pair.ci_high is not None else ""
    return f"{pair.verdict} {pair.ratio:.3g}{interval}"


def render(result: Replay, rows: list[Compared], rounds: int, max_rounds: int) -> str:
    from tabulate import tabulate

    table = [[f"{r.workload} / {r.placement}", f"{r.full.better} > {r.full.worse}", _verdict(r.replayed),
              _verdict(r.full), "yes" if r.same else "NO"] for r in rows]
    same = sum(r.same for r in rows)
    return "\n".join([
        tabulate(table, headers=["workload / placement", "expected", f"rule ({rounds}-{max_rounds} rounds)",
                                 "all rounds", "same"]),
        f"{same} of {len(rows)} verdicts the same; the rule took {result.trials} of the run's {result.full_trials} "
        f"trials ({result.seconds:.0f} s of {result.full_seconds:.0f} s measured, recorded seconds)",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench_runner.run.replay", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("document", help="a results document measured with more rounds than the rule asks for")
    parser.add_argument("--rounds", type=int, default=defaults.ROUNDS, help="rounds before the first look")
    parser.add_argument("--max-rounds", type=int, default=defaults.MAX_ROUNDS, help="rounds at most per pair")
    parser.add_argument("--look-step", type=int, default=defaults.LOOK_STEP, help="rounds between two looks")
    parser.add_argument("--time-budget", type=minutes, default=defaults.TIME_BUDGET_MIN, metavar="MIN",
                        help="minutes of recorded trial time before no more extra rounds start, as a run "
                             "with --time-budget (default: 0, none)")
    parser.add_argument("--warmup-rounds", type=non_negative_int,
                        help="warm-up rounds, at most as many as the run recorded: the first of its warm-up "
                             "rounds are taken as measured rounds, as a run with fewer would have measured "
                             "them (default: as many as the run recorded)")
    args = parser.parse_args(argv)
    try:
        full = load(args.document)
        result = replay(full, rounds=args.rounds, max_rounds=args.max_rounds, look_step=args.look_step,
                        time_budget_s=budget_seconds(args.time_budget), warmup_rounds=args.warmup_rounds)
    except UsageError as error:
        print(f"replay: error: {error}", file=sys.stderr)
        return 2
    print(render(result, compare(result.document, full), args.rounds, args.max_rounds))
    stopped = budget_line(result.document.run)
    if stopped:
        print(stopped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
