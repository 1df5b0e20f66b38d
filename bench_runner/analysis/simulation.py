"""Simulated runs of the default matrix, of known truth, under the suite's rules: how often a
run reports a false verdict or rank (family-wise error), how often its intervals cover the
truth, how many rounds it takes, and how often it decides.

A simulated run is what the lab makes: the default run's tables (workload x placement, with
their methods), rounds that run every pending cell once in a shuffled order, and each trial a
method's true median times the machine's speed at that moment (a slow drift: a stationary
autoregressive walk on the log scale, step by step over the trials, so it moves between rounds
and a little within one), times the trial's own lognormal noise of a given coefficient of
variation, and now and then an outlier (a trial slowed to 30-70%). Three rules:

- ``old`` (before issue 22): 10 rounds, then extra rounds to a whole table while any median's
  interval is wider than +/-5%, up to 15; pairs by the median of per-round ratios with its
  order-statistic interval and the exact sign test.
- ``table``: 6 rounds, then extra rounds to a whole table while a pair of it is undecided
  (``sequential``), up to 10, each round a look; pairs by the paired t test on log ratios, each
  look spending its share of the 5% (``looks``); a table stops once every pair still undecided
  is out of reach of the last look (``sequential.FUTILITY``).
- ``new`` (the suite's rule): ``defaults.ROUNDS``, then extra rounds to the cells of the pairs
  still undecided only, up to ``defaults.MAX_ROUNDS``, a look every ``defaults.LOOK_STEP``
  rounds, each pair judged at its own look (its share counted in the rounds both its cells
  ran) and stopping for futility on its own.

All three judge the default run's ordering verdicts as one Holm family and rank each table from
every pair. ``python -m bench_runner.analysis.simulation`` prints the comparison (seeded);
``--reps`` sets its size.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .. import defaults
from . import stats
from .looks import FIRST_SHARE, STEP, Looks, PairLooks
from .sequential import FUTILITY, FamilyState, futility_cap, pair_states

ALPHA = 1 - stats.CONFIDENCE
#: The ordering the default run judges, best first (the guide's).
ORDER = ("pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns")
#: The closest true difference among the verdicts this machine showed (pasta 1.22x rootlesskit).
CLOSE = ("tcp-stream-reverse / loopback", "pasta", "slirp4netns-rootlesskit")


@dataclass(frozen=True)
class Table:
    """One workload and placement: its methods' true medians, measured together."""

    name: str
    medians: dict[str, float]
    higher_is_better: bool = True


def default_run(truth: str) -> tuple[Table, ...]:
    """The default run's six tables (three workloads x two placements): ``equal`` has no
    differences at all; ``realistic`` the sizes this machine showed (throughput: host far
    ahead, rootlesskit and pasta 10-20% apart, slirp4netns well behind; round trips: host and
    both socket activations alike, the forwarders 2-4x slower), and one close pair (5%)."""
    stream = ("host", "pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns")
    rr = ("host", "socket-activation-user", "socket-activation-system", *stream[1:])
    if truth == "equal":
        tables = [(f"{w} / {p}", dict.fromkeys(methods, 1.0), w != "tcp-rr")
                  for w, methods in (("tcp-stream", stream), ("tcp-stream-reverse", stream), ("tcp-rr", rr))
                  for p in ("remote", "loopback")]
    elif truth == "realistic":
        tables = [
            ("tcp-stream / remote", dict(zip(stream, (1.0, 0.33, 0.42, 0.18))), True),
            ("tcp-stream / loopback", dict(zip(stream, (1.0, 0.60, 0.50, 0.15))), True),
            ("tcp-stream-reverse / remote", dict(zip(stream, (1.0, 0.40, 0.38, 0.20))), True),  # 5% apart
            ("tcp-stream-reverse / loopback", dict(zip(stream, (1.0, 0.55, 0.45, 0.16))), True),
            ("tcp-rr / remote", dict(zip(rr, (1.0, 1.0, 1.0, 2.3, 2.9, 3.7))), False),
            ("tcp-rr / loopback", dict(zip(rr, (1.0, 1.0, 1.0, 2.4, 3.1, 3.6))), False),
        ]
    else:
        raise ValueError(f"unknown truth {truth!r}")
    return tuple(Table(name, medians, higher) for name, medians, higher in tables)


@dataclass(frozen=True)
class Noise:
    cv: float  # a trial's own coefficient of variation
    outliers: float = 0.02  # share of trials slowed to 30-70%
    drift: float = 0.03  # standard deviation of the machine's speed (log scale, stationary)
    memory: float = 0.98  # the drift's correlation from one trial to the next (slow)


@dataclass(frozen=True)
class Rule:
    name: str
    first: int
    last: int
    decided_by_pairs: bool  # new: undecided pairs add rounds; old: wide median intervals
    first_share: float = FIRST_SHARE
    step: int = STEP
    #: Every look spends the whole 5% (no share): what the simulation must catch.
    naive: bool = False
    #: A table stops once every undecided pair is out of reach of the last look.
    futility: bool = True
    #: Extra rounds go to the cells of undecided pairs only, each pair judged at its own look.
    by_pair: bool = False

    @property
    def looks(self) -> Looks:
        return Looks(self.first, self.last, self.first_share, self.step)

    def share(self, rounds: int) -> float:
        return 1.0 if self.naive else self.looks.share(rounds)


OLD = Rule("old", 10, 15, False)
TABLE = Rule("table", 6, 10, True)
NEW = Rule("new", defaults.ROUNDS, defaults.MAX_ROUNDS, True, step=defaults.LOOK_STEP, by_pair=True)
RULES = (OLD, TABLE, NEW)

#: Per table, the share of the 5% a pair's comparison spends: one for the whole table, or
#: each pair's own (a, b) -> share.
Shares = list[stats.Share]


@dataclass
class Outcome:
    """Totals over simulated runs."""

    runs: int = 0
    false_verdict_runs: int = 0  # runs with any false ordering verdict
    false_rank_tables: int = 0  # tables with any false separation
    tables: int = 0
    true_pairs: int = 0  # verdict pairs whose methods differ
    decided_true_pairs: int = 0  # ... decided in the right direction
    median_cover: int = 0
    median_cells: int = 0
    median_stated: float = 0.0
    ratio_cover: int = 0
    ratio_cells: int = 0
    ratio_stated: float = 0.0
    trials: int = 0
    decided_tables: int = 0
    false_within: int = 0  # pairs called within the margin whose truth is beyond it
    close_decided: int = 0  # runs deciding CLOSE rightly
    seconds: float = 0.0
    rounds: list[int] = field(default_factory=list)

    def row(self) -> dict[str, float]:
        return {
            "fwer_verdicts": self.false_verdict_runs / self.runs,
            "false_rank_tables": self.false_rank_tables / self.tables,
            "power": self.decided_true_pairs / self.true_pairs if self.true_pairs else float("nan"),
            "median_cover": self.median_cover / self.median_cells,
            "median_stated": self.median_stated / self.median_cells,
            "ratio_cover": self.ratio_cover / self.ratio_cells,
            "ratio_stated": self.ratio_stated / self.ratio_cells,
            "trials": self.trials / self.runs,
            "rounds": float(np.mean(self.rounds)),
            "decided": self.decided_tables / self.tables,
            "false_within": self.false_within,
            "close": self.close_decided / self.runs,
        }


class _Machine:
    """The run's trials in order, each drawn at the machine's current speed."""

    def __init__(self, noise: Noise, rng: np.random.Generator) -> None:
        self.noise = noise
        self.rng = rng
        self.sigma = math.sqrt(math.log(1 + noise.cv ** 2))
        self.speed = rng.normal(0.0, noise.drift)

    def trial(self, median: float, higher_is_better: bool) -> float:
        n = self.noise
        self.speed = n.memory * self.speed + math.sqrt(1 - n.memory ** 2) * n.drift * self.rng.normal()
        value = median * math.exp(self.speed + self.rng.normal(0.0, self.sigma))
        if self.rng.random() < n.outliers:
            slowed = self.rng.uniform(0.3, 0.7)
            value = value * slowed if higher_is_better else value / slowed
        return value


def _true_median(noise: Noise, higher_is_better: bool) -> float:
    """The median of a trial of true median 1 under this noise (outliers move it a little)."""
    rng = np.random.default_rng(1)
    draws = 200_000
    sigma = math.sqrt(math.log(1 + noise.cv ** 2))
    logs = rng.normal(0.0, math.sqrt(sigma ** 2 + noise.drift ** 2), draws)
    hit = rng.random(draws) < noise.outliers
    logs[hit] += np.log(rng.uniform(0.3, 0.7, int(hit.sum()))) * (1 if higher_is_better else -1)
    return float(np.exp(np.median(logs)))


def _old_pair(a: dict[int, float], b: dict[int, float]) -> stats.Ratio:
    common = sorted(set(a) & set(b))
    return stats.paired_median_ratio([a[r] for r in common], [b[r] for r in common])


def _verdict_pairs(tables: tuple[Table, ...]) -> list[tuple[int, str, str]]:
    return [(i, better, worse) for i, t in enumerate(tables) for better, worse in zip(ORDER, ORDER[1:])
            if better in t.medians and worse in t.medians]


def _holm_decided(tables: tuple[Table, ...], samples: list[dict[str, dict[int, float]]], shares: Shares,
                  rule: Rule) -> dict[tuple[int, str, str], str]:
    """The ordering verdicts of the run, as one Holm family: "better", "worse" or "same" for
    each adjacent pair (the first against the second, by the metric's direction)."""
    pairs = _verdict_pairs(tables)
    ratios = [stats.ratio(samples[i][a], samples[i][b], share=stats.spent(shares[i], a, b)) if rule.decided_by_pairs
              else _old_pair(samples[i][a], samples[i][b]) for i, a, b in pairs]
    adjusted = stats.holm([r.p_value for r in ratios])
    found = {}
    for (i, a, b), r, p in zip(pairs, ratios, adjusted):
        if p is None or p >= ALPHA:
            found[(i, a, b)] = "same"
        else:
            found[(i, a, b)] = "better" if (r.value > 1) == tables[i].higher_is_better else "worse"
    return found


def _truth(table: Table, a: str, b: str) -> str:
    ma, mb = table.medians[a], table.medians[b]
    if math.isclose(ma, mb):
        return "same"
    return "better" if (ma > mb) == table.higher_is_better else "worse"


def _wide(values: list[float]) -> bool:
    summary = stats.summarize(values)
    return summary.half_width is None or summary.half_width > defaults.PRECISION


def simulate(tables: tuple[Table, ...], noise: Noise, rule: Rule, reps: int, seed: int, *,
             margin: float = defaults.MARGIN) -> Outcome:
    """``reps`` runs of the default matrix under one rule."""
    rng = np.random.default_rng(seed)
    looks = rule.looks
    true_medians = {h: _true_median(noise, h) for h in (True, False)}
    verdict_pairs = _verdict_pairs(tables)
    outcome = Outcome()
    started = time.monotonic()
    for _ in range(reps):
        machine = _Machine(noise, rng)
        samples: list[dict[str, dict[int, float]]] = [{m: {} for m in t.medians} for t in tables]
        cells = [(i, m) for i, t in enumerate(tables) for m in t.medians]

        def run_round(index: int, which: set[int]) -> None:
            for k in rng.permutation(len(cells)):
                i, method = cells[k]
                if i in which:
                    samples[i][method][index] = machine.trial(tables[i].medians[method], tables[i].higher_is_better)

        for index in range(rule.first):
            run_round(index, set(range(len(tables))))
        if rule.by_pair:
            states = _by_pair(tables, samples, rule, margin, cells, machine, rng)
            rounds = [max(len(v) for v in samples[i].values()) for i in range(len(tables))]
            shares: Shares = [_pair_looks(looks, samples[i]).share for i in range(len(tables))]
            _score(outcome, tables, samples, shares, rule, margin, true_medians, verdict_pairs)
            outcome.rounds += rounds
            outcome.decided_tables += sum(all(p.state in ("separated", "within") for p in table) for table in states)
            outcome.trials += sum(len(v) for table in samples for v in table.values())
            continue
        rounds = [rule.first] * len(tables)
        decided = [False] * len(tables)
        index = rule.first
        while True:
            shares = [rule.share(n) for n in rounds]
            pending_tables: set[int] = set()
            if rule.decided_by_pairs:
                verdicts = _holm_decided(tables, samples, shares, rule)
                for i, table in enumerate(tables):
                    waiting = {(a, b) for (j, a, b), v in verdicts.items() if j == i and v == "same"}
                    cap = futility_cap(looks, rounds[i]) if rule.futility else None
                    states = pair_states(samples[i], share=shares[i], margin=margin, pending=waiting, cap=cap)
                    family = FamilyState(table.name, "", rounds[i], shares[i], states, looks.is_look(rounds[i]))
                    decided[i] = family.decided
                    if (not family.at_look or family.undecided) and rounds[i] < rule.last:
                        pending_tables.add(i)
            else:
                for i, table in enumerate(tables):
                    decided[i] = not any(_wide(list(samples[i][m].values())) for m in table.medians)
                    if not decided[i] and rounds[i] < rule.last:
                        pending_tables.add(i)
            if not pending_tables:
                break
            run_round(index, pending_tables)
            index += 1
            for i in pending_tables:
                rounds[i] += 1
        final: Shares = [rule.share(n) for n in rounds]
        _score(outcome, tables, samples, final, rule, margin, true_medians, verdict_pairs)
        outcome.rounds += rounds
        outcome.decided_tables += sum(decided)
        outcome.trials += sum(len(t.medians) * n for t, n in zip(tables, rounds))
    outcome.seconds = time.monotonic() - started
    return outcome


def _pair_looks(looks: Looks, table: dict[str, dict[int, float]]) -> PairLooks:
    """A simulated table's pairs: no trial fails, so a cell's rounds are those it has values of."""
    return PairLooks(looks, {m: frozenset(values) for m, values in table.items()})


def _pair_states(tables: tuple[Table, ...], samples: list[dict[str, dict[int, float]]], shares: Shares,
                 rule: Rule, margin: float, looks: Looks) -> list[tuple]:
    """Each table's pairs, each at its own look, an ordering pair not yet decided over the run
    (Holm) counting as undecided, as the run's scheduler sees them."""
    verdicts = _holm_decided(tables, samples, shares, rule)
    found = []
    for i in range(len(tables)):
        waiting = {(a, b) for (j, a, b), v in verdicts.items() if j == i and v == "same"}
        found.append(pair_states(samples[i], margin=margin, pending=waiting, looks=_pair_looks(looks, samples[i]),
                                 futility=rule.futility))
    return found


def _by_pair(tables: tuple[Table, ...], samples: list[dict[str, dict[int, float]]], rule: Rule, margin: float,
             cells: list[tuple[int, str]], machine: "_Machine", rng: np.random.Generator) -> list[tuple]:
    """Extra rounds as the run's scheduler adds them: the cells of every undecided pair that
    has fewer than ``rule.last`` rounds, in one shuffled round, until none is left. Returns
    each table's pair states at the end."""
    looks = rule.looks
    index = rule.first
    while True:
        shares: Shares = [_pair_looks(looks, samples[i]).share for i in range(len(tables))]
        states = _pair_states(tables, samples, shares, rule, margin, looks)
        wanted = {(i, cell) for i, table in enumerate(states)
                  for p in table if p.state == "undecided" and p.rounds < rule.last for cell in (p.a, p.b)}
        if not wanted:
            return states
        for k in rng.permutation(len(cells)):
            i, method = cells[k]
            if (i, method) in wanted:
                samples[i][method][index] = machine.trial(tables[i].medians[method], tables[i].higher_is_better)
        index += 1


def _score(outcome: Outcome, tables: tuple[Table, ...], samples: list[dict[str, dict[int, float]]],
           shares: Shares, rule: Rule, margin: float, true_medians: dict[bool, float],
           verdict_pairs: list[tuple[int, str, str]]) -> None:
    outcome.runs += 1
    verdicts = _holm_decided(tables, samples, shares, rule)
    false_verdict = False
    for (i, a, b), found in verdicts.items():
        truth = _truth(tables[i], a, b)
        if found != "same" and found != truth:
            false_verdict = True
        if truth != "same":
            outcome.true_pairs += 1
            outcome.decided_true_pairs += found == truth
            outcome.close_decided += (tables[i].name, a, b) == CLOSE and found == truth
    outcome.false_verdict_runs += false_verdict
    for i, table in enumerate(tables):
        outcome.tables += 1
        methods = list(table.medians)
        false_rank = False
        for x, a in enumerate(methods):
            for b in methods[x + 1:]:
                ratio = (stats.ratio(samples[i][a], samples[i][b], share=stats.spent(shares[i], a, b)) if rule.decided_by_pairs
                         else _old_pair(samples[i][a], samples[i][b]))
                found = stats.better(ratio, table.higher_is_better)
                if found != "same" and found != _truth(table, a, b):
                    false_rank = True
                truly = abs(math.log(table.medians[a] / table.medians[b]))
                if rule.decided_by_pairs and ratio.within(margin) and truly > math.log1p(margin):
                    outcome.false_within += 1
        outcome.false_rank_tables += false_rank
        truth_median = true_medians[table.higher_is_better]
        for method in methods:
            values = list(samples[i][method].values())
            interval = stats.median_interval(values)
            outcome.median_cells += 1
            if interval is not None:
                target = table.medians[method] * truth_median
                outcome.median_cover += interval.low <= target <= interval.high
                outcome.median_stated += interval.level
            if method == "host":
                continue
            ratio = (stats.ratio(samples[i][method], samples[i]["host"], share=stats.spent(shares[i], method, "host"))
                     if rule.decided_by_pairs
                     else _old_pair(samples[i][method], samples[i]["host"]))
            outcome.ratio_cells += 1
            if ratio.ci_low is not None and ratio.ci_high is not None:
                target = table.medians[method] / table.medians["host"]
                outcome.ratio_cover += ratio.ci_low <= target <= ratio.ci_high
                outcome.ratio_stated += ratio.level or 0.0


CVS = (0.03, 0.07, 0.10, 0.15, 0.20)


def report(reps: int, seed: int, cvs: tuple[float, ...] = CVS) -> str:
    """The full comparison, the rules side by side, as text."""
    header = (f"{'truth':<10} {'CV':>4} {'rule':<5} {'FWER':>6} {'rank':>6} {'power':>6} {'close':>6} "
              f"{'median cov':>15} {'ratio cov':>15} {'rounds':>6} {'trials':>6} {'decided':>7}")
    lines = [
        "Simulated default runs (tcp-stream, tcp-stream-reverse, tcp-rr x remote, loopback: 28 cells, 12 ordering "
        "pairs),",
        f"{reps} runs per row, seed {seed}; noise: the CV per trial, {Noise(0).outliers:.0%} outliers (a trial slowed "
        f"to 30-70%), slow drift of the machine (sd {Noise(0).drift:.0%}, correlation {Noise(0).memory} from one "
        "trial to the next).",
        f"old: {OLD.first} rounds, up to {OLD.last} while a median's interval is wider than "
        f"+/-{defaults.PRECISION:.0%}; median ratios, sign test.",
        f"table: {TABLE.first} rounds, up to {TABLE.last} to a whole table while a pair is undecided (margin "
        f"+/-{defaults.MARGIN:.0%}), a look every round; paired t on log ratios, each look spending its share of 5%; "
        f"a table stops once every undecided pair is out of reach (less than a {FUTILITY:.0%} chance that the last "
        "look decides it).",
        f"new: {NEW.first} rounds, up to {NEW.last} to the cells of undecided pairs only, a look every {NEW.step} "
        "rounds, each pair at its own look (share counted in its own rounds) and out of reach on its own.",
        "FWER: share of runs with any false ordering verdict (Holm over the 12 pairs; 'equal': no method differs, "
        "'realistic': a verdict against the truth's direction);",
        "rank: share of tables with any false separation; power: true differences among the 12 pairs decided "
        "rightly; close: the share of runs deciding tcp-stream-reverse / loopback pasta > rootlesskit (1.22);",
        "median cov / ratio cov: intervals covering the truth (stated level in parentheses); rounds: mean measured "
        "rounds of a table's busiest cell; trials: per run; decided: tables stopped with every pair decided.",
        "",
        header,
        "-" * len(header),
    ]
    for truth in ("equal", "realistic"):
        tables = default_run(truth)
        for cv in cvs:
            for rule in RULES:
                row = simulate(tables, Noise(cv), rule, reps, seed).row()
                lines.append(
                    f"{truth:<10} {cv:>4.0%} {rule.name:<5} {row['fwer_verdicts']:>6.3f} {row['false_rank_tables']:>6.3f} "
                    f"{row['power']:>6.2f} {row['close']:>6.2f} {row['median_cover']:>7.3f} ({row['median_stated']:.3f}) "
                    f"{row['ratio_cover']:>7.3f} ({row['ratio_stated']:.3f}) {row['rounds']:>6.1f} "
                    f"{row['trials']:>6.0f} {row['decided']:>7.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench_runner.analysis.simulation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=1000, help="simulated runs per row (default: 1000)")
    parser.add_argument("--seed", type=int, default=20261130, help="seed (default: 20261130)")
    args = parser.parse_args(argv)
    if args.reps < 20:
        parser.error("--reps must be at least 20")
    print(report(args.reps, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
