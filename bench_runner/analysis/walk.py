"""A release walk: several builds of one helper (pasta-20230309, pasta-20250503, ...) measured in
one interleaved run, each step from one build to the next judged round by round, and the first
build where a figure changed named.

Each step is the ratio of the later build to the earlier, paired by round (``stats.ratio``),
with its p-value; Holm's adjustment runs over every step of every walk judged together, so
the family of "changed here" statements keeps its 5% error rate. A step is "better" or
"worse" (by the metric's direction) when its adjusted p is below 5%, "same" when both one-sided
tests show it within ±SAME_MARGIN (``stats.Ratio.within``), and "undecided" otherwise.

Pure: reads the results document only."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

from ..errors import UsageError
from ..results.document import RunDocument
from . import stats

ALPHA = stats.ALPHA
#: A step whose whole interval lies within this share of 1 changed nothing worth a name.
SAME_MARGIN = 0.05


@dataclass(frozen=True)
class Step:
    before: str
    after: str
    ratio: stats.Ratio  # after against before
    p_adjusted: float | None = None
    verdict: str = "undecided"  # better, worse, same, undecided

    @property
    def changed(self) -> bool:
        return self.verdict in ("better", "worse")


@dataclass(frozen=True)
class Walk:
    workload: str
    placement: str
    stack: str
    metric: str
    unit: str
    higher_is_better: bool
    medians: tuple[tuple[str, float | None], ...]  # each build's median, in walk order
    steps: tuple[Step, ...]

    @property
    def first_change(self) -> Step | None:
        return next((s for s in self.steps if s.changed), None)

    def sentence(self) -> str:
        """What a maintainer reads: the first build where the figure changed, and by how much."""
        where = f"{self.workload}/{self.placement}" + ("" if self.stack == "host" else f"@{self.stack}")
        step = self.first_change
        if step is None:
            undecided = [s for s in self.steps if s.verdict == "undecided"]
            tail = f" ({len(undecided)} step(s) undecided: more rounds would tell)" if undecided else ""
            return f"{where} {self.metric}: no build changed it{tail}"
        r = step.ratio
        interval = f" [{r.ci_low:.3g}, {r.ci_high:.3g}]" if r.ci_low is not None and r.ci_high is not None else ""
        return (f"{where} {self.metric}: first changed at {step.after} (from {step.before}): "
                f"x{r.value:.3g}{interval}, {step.verdict}, Holm-adjusted p {step.p_adjusted:.2g}, {r.n} rounds")


def _verdict(step: Step, p_adjusted: float | None, higher_is_better: bool) -> str:
    r = step.ratio
    if p_adjusted is not None and p_adjusted < ALPHA and r.value != 1:
        return "better" if (r.value > 1) == higher_is_better else "worse"
    if r.within(SAME_MARGIN):  # the suite's equivalence test (TOST), as the run's own rounds use it
        return "same"
    return "undecided"


def walks(document: RunDocument, builds: Sequence[str]) -> list[Walk]:
    """Every workload, placement and stack where the builds were measured, in the builds'
    order (oldest first), with each step judged."""
    if len(builds) < 2:
        raise UsageError("--walk: name at least two builds (methods of the run), oldest first")
    if len(set(builds)) != len(builds):
        raise UsageError("--walk: a build appears twice")
    measured = {c.method for c in document.cells}
    missing = [b for b in builds if b not in measured]
    if missing:
        raise UsageError(f"--walk: {', '.join(missing)} not in the run (its methods: {', '.join(sorted(measured))})")
    found: list[Walk] = []
    keys = dict.fromkeys((c.workload, c.placement, c.stack) for c in document.cells if c.method in builds)
    for workload, placement, stack in keys:
        cells = {c.method: c for c in document.cells
                 if (c.workload, c.placement, c.stack) == (workload, placement, stack) and c.method in builds}
        present = [b for b in builds if b in cells and cells[b].samples()]
        if len(present) < 2:
            continue
        first = cells[present[0]]
        steps = tuple(Step(a, b, stats.ratio(cells[b].samples_by_round(), cells[a].samples_by_round()))
                      for a, b in zip(present, present[1:]))
        medians = tuple((b, stats.summarize(cells[b].samples()).median if b in cells and cells[b].samples() else None)
                        for b in builds)
        found.append(Walk(workload, placement, stack, first.metric, first.unit, first.higher_is_better, medians,
                          steps))
    return _adjusted(found)


def _adjusted(found: list[Walk]) -> list[Walk]:
    """Holm over every step of every walk, then each step's verdict."""
    index = [(i, j) for i, w in enumerate(found) for j, _ in enumerate(w.steps)]
    adjusted = stats.holm([found[i].steps[j].ratio.p_value for i, j in index])
    steps: dict[int, list[Step]] = {i: list(w.steps) for i, w in enumerate(found)}
    for (i, j), p_adj in zip(index, adjusted):
        step = steps[i][j]
        steps[i][j] = replace(step, p_adjusted=p_adj, verdict=_verdict(step, p_adj, found[i].higher_is_better))
    return [replace(w, steps=tuple(steps[i])) for i, w in enumerate(found)]
