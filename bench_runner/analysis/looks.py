"""When a run looks at its pairs, and the share of the 5% each look may spend.

A run decides after its fixed rounds (--rounds) and again after every round it adds, up to
--max-rounds (``sequential``). Each look may spend only its share of the 5%: half at the
first, the other half evenly over the rounds that may follow. A p-value divided by its look's
share, and an interval at 1 - 5% x share, stay valid at whatever look the run stopped
(Bonferroni over the looks: whatever the stopping rule, the chance that any look gives a
false decision is at most the sum of the shares, 5%). The tables, verdicts and the stopping
rule all read the share from here, so they decide alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from .. import defaults
from ..results.document import CellResult, RunDocument

#: The share of the 5% the first look spends; the rest is spread over the later looks.
FIRST_SHARE = 0.5
#: Rounds a family adds between two looks after the first.
STEP = 1


@dataclass(frozen=True)
class Looks:
    """When a run looks at its pairs: after ``first`` measured rounds, then every ``step``
    rounds it adds, and at ``last``."""

    first: int
    last: int
    first_share: float = FIRST_SHARE
    step: int = STEP

    def points(self) -> tuple[int, ...]:
        """The round counts a look is taken at."""
        if self.last <= self.first:
            return (self.first,)
        return (*range(self.first, self.last, max(1, self.step)), self.last)

    def is_look(self, rounds: int) -> bool:
        return rounds in self.points()

    def share(self, rounds: int) -> float:
        """The part of the 5% a comparison made after ``rounds`` rounds may spend: that of the
        first look at or after it (a run interrupted between looks, or before the first,
        analyses its data in place of that look); a single possible look spends it all."""
        points = self.points()
        if len(points) == 1:
            return 1.0
        if rounds <= points[0]:
            return self.first_share
        return (1.0 - self.first_share) / (len(points) - 1)

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> "Looks":
        """The looks a run was planned with, from its recorded options (a document without
        them, or a --quick run, had one look)."""
        if "rounds" not in options:
            return cls(0, 0)
        try:
            first = int(options["rounds"])
            last = int(options.get("max_rounds", first))
        except (TypeError, ValueError):
            return cls(0, 0)
        if options.get("quick"):
            return cls(first, first)
        return cls(first, max(first, last))


def looks_of(document: RunDocument) -> Looks:
    options = document.run.get("options", {}) if isinstance(document.run, dict) else {}
    return Looks.of(options if isinstance(options, Mapping) else {})


def rounds_run(cells: Iterable[CellResult]) -> int:
    """How many measured rounds a family has run (failed trials count: the round was run)."""
    return len({t.round for c in cells for t in c.trials if not t.warmup})


def share_of(document: RunDocument, cells: Sequence[CellResult]) -> float:
    """The share of the 5% the comparisons of one family spend: the look it stopped at."""
    return looks_of(document).share(rounds_run(cells))


def margin_of(document: RunDocument) -> float:
    options = document.run.get("options", {}) if isinstance(document.run, dict) else {}
    try:
        return float(options.get("margin", defaults.MARGIN))
    except (TypeError, ValueError):
        return defaults.MARGIN
