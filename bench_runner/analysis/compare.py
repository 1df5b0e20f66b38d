"""Compare two stacks cell by cell, knowing which way is better for each metric.

A side is a results document or a stack snapshot in the asv history (all samples recorded
for it on one machine; ``history.sides`` reads both, ``report.compare`` renders the result). Per workload, metric, placement and method: both medians, the
ratio B/A with its interval (``stats.ratio``: paired by round for two stacks of one run, else
Hodges-Lehmann with the Mann-Whitney interval), and a verdict for B against
A from the metric's own direction (``stats.better``): a throughput drop is "worse", a
latency rise is "worse". asv's compare assumes lower is better for everything, so its
+/- cannot be used for throughput. No finite interval of the ratio (fewer than three
samples on a side, or medians of 0 in A): "inconclusive", never "same".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import UsageError
from . import stats


@dataclass(frozen=True, order=True)
class CellKey:
    workload: str
    metric: str
    placement: str
    method: str

    @property
    def label(self) -> str:
        return f"{self.workload}/{self.placement}/{self.method} {self.metric}"


@dataclass(frozen=True)
class CellSamples:
    unit: str
    higher_is_better: bool
    samples: tuple[float, ...]
    #: The round of each sample, where the side is one run's document.
    rounds: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Side:
    label: str
    kind: str  # "document" or "snapshot"
    source: str  # a path, or a commit of the stack history
    versions: tuple[tuple[str, str], ...]
    cells: dict[CellKey, CellSamples] = field(hash=False)
    #: The run a document side came from (its id and start), to pair two stacks of one run.
    run: tuple[str, str] | None = None
    #: A snapshot side's samples run by run, where it pools several runs and their documents
    #: are still where they were recorded from (for an interval that covers run-to-run variance).
    runs: dict[CellKey, tuple[tuple[float, ...], ...]] = field(default_factory=dict, hash=False)
    #: Runs pooled in a snapshot side (1 for a document).
    run_count: int = 1
    #: Methods a document side's stack could not run at all, with why (its not-applicable
    #: cells: Podman 6 has no slirp4netns), so a method missing on one side is explained.
    lacking: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Row:
    key: CellKey
    unit: str
    higher_is_better: bool
    a: stats.Summary
    b: stats.Summary
    ratio: stats.Ratio  # median(B) / median(A)
    verdict: str  # better / worse / same / inconclusive: B against A
    worse_by_pct: float  # how much worse B is than A, in the metric's direction (negative: better)
    #: Rounds paired: A and B are two stacks of one run, their trials of a round resampled together.
    paired: bool = False
    #: Runs behind each side where a side pools several (the interval then resamples runs).
    runs: tuple[int, int] | None = None


@dataclass(frozen=True)
class Comparison:
    a: Side
    b: Side
    rows: tuple[Row, ...]
    only_a: tuple[CellKey, ...]
    only_b: tuple[CellKey, ...]
    not_compared: tuple[tuple[CellKey, str], ...]
    threshold_pct: float | None
    #: Methods measured on one side only, each with why the other side lacks it (None: it
    #: has no cell of it at all, so no reason was recorded).
    a_lacks: tuple[tuple[str, str | None], ...] = ()
    b_lacks: tuple[tuple[str, str | None], ...] = ()

    def regressions(self) -> list[Row]:
        """Cells whose whole interval of the change lies beyond the threshold, the worse way
        (none without a threshold): "worse by more than PCT" is then what the data show, not
        only what the point estimate says."""
        if self.threshold_pct is None:
            return []
        return [r for r in self.rows if r.verdict == "worse" and interval_beyond(r, self.threshold_pct)]


def worse_by_pct(ratio_value: float, higher_is_better: bool) -> float:
    """Percent by which B is worse than A given median(B)/median(A): a drop to 0.8 of a
    throughput is 20, a rise to 1.2 of a latency is 20; improvements are negative."""
    if not math.isfinite(ratio_value):
        return math.inf if higher_is_better is False else -math.inf
    return (1.0 - ratio_value) * 100.0 if higher_is_better else (ratio_value - 1.0) * 100.0


def interval_beyond(row: "Row", threshold_pct: float) -> bool:
    """The whole interval of B/A is worse than A by more than ``threshold_pct`` percent."""
    low, high = row.ratio.ci_low, row.ratio.ci_high
    if low is None or high is None:
        return False
    if row.higher_is_better:
        return high < 1 - threshold_pct / 100
    return low > 1 + threshold_pct / 100


def verdict(ratio_: stats.Ratio, higher_is_better: bool) -> str:
    """B against A; "same" where every round gave exactly the same value on both sides."""
    if ratio_.ci_low is None or ratio_.ci_high is None:
        return "same" if ratio_.paired and ratio_.value == 1 and ratio_.n >= stats.MIN_SAMPLES_FOR_CI \
            else "inconclusive"
    if not ratio_.nominal:
        return "inconclusive"
    return stats.better(ratio_, higher_is_better)


def compare(a: Side, b: Side, *, threshold_pct: float | None = None) -> Comparison:
    rows: list[Row] = []
    not_compared: list[tuple[CellKey, str]] = []
    for key in sorted(set(a.cells) & set(b.cells)):
        left, right = a.cells[key], b.cells[key]
        if left.unit != right.unit or left.higher_is_better != right.higher_is_better:
            not_compared.append((key, f"A is in {left.unit}, B in {right.unit} (or their directions differ)"))
            continue
        pairs = _round_pairs(a, b, left, right)
        runs = None
        if pairs is not None:
            ratio_ = stats.paired_ratio([y for _, y in pairs], [x for x, _ in pairs])
        elif len(a.runs.get(key, ())) > 1 or len(b.runs.get(key, ())) > 1:
            a_runs, b_runs = a.runs.get(key) or (left.samples,), b.runs.get(key) or (right.samples,)
            ratio_ = stats.hierarchical_ratio(b_runs, a_runs)
            runs = (len(a_runs), len(b_runs))
        else:
            ratio_ = stats.ratio(right.samples, left.samples)
        rows.append(Row(key, left.unit, left.higher_is_better, stats.summarize(left.samples),
                        stats.summarize(right.samples), ratio_, verdict(ratio_, left.higher_is_better),
                        worse_by_pct(ratio_.value, left.higher_is_better), paired=pairs is not None, runs=runs))
    if not rows:
        raise UsageError("A and B have no measured cell in common (same workload, metric, placement and method)")
    return Comparison(a, b, tuple(rows), tuple(sorted(set(a.cells) - set(b.cells))),
                      tuple(sorted(set(b.cells) - set(a.cells))), tuple(not_compared), threshold_pct,
                      lacks(a, b), lacks(b, a))


def lacks(side: Side, other: Side) -> tuple[tuple[str, str | None], ...]:
    """Methods ``other`` measured that ``side`` measured nothing of, with ``side``'s reason
    (its not-applicable cells), or None where it has no cell of the method at all."""
    have = {k.method for k in side.cells}
    missing = sorted({k.method for k in other.cells} - have)
    return tuple((m, side.lacking.get(m)) for m in missing)


def _round_pairs(a: Side, b: Side, left: CellSamples, right: CellSamples) -> list[tuple[float, float]] | None:
    """(A, B) samples of the same round, when A and B are two stacks of one run: the run
    interleaved them round by round. Rounds where one side has no sample (a failed trial) are
    left out, as the run's own ratios do (``stats.per_round_ratios``), while enough remain."""
    if a.run is None or a.run != b.run or left.rounds is None or right.rounds is None:
        return None
    by_round_a, by_round_b = dict(zip(left.rounds, left.samples)), dict(zip(right.rounds, right.samples))
    if len(by_round_a) != len(left.rounds) or len(by_round_b) != len(right.rounds):
        return None
    common = sorted(set(by_round_a) & set(by_round_b))
    if len(common) < stats.MIN_PAIRED_ROUNDS:
        return None
    return [(by_round_a[r], by_round_b[r]) for r in common]
