"""When a run looks at its pairs, and the share of the 5% each look may spend.

A pair of cells is looked at after its fixed rounds (--rounds) and again every --look-step
rounds it adds, up to --max-rounds (``sequential``). A pair's rounds are those both its cells
ran: extra rounds go only to the cells of undecided pairs, so pairs of one family can stop at
different looks. Each look may spend only its share of the 5%: half at the first, the other
half evenly over the looks that may follow. A p-value divided by its look's share, and an
interval at 1 - 5% x share, stay valid at whatever look the pair stopped (Bonferroni over the
looks, indexed by the pair's own rounds: whatever the stopping rule, and whichever other
pairs asked for the rounds, the chance that any look gives a false decision is at most the
sum of the shares, 5%). The tables, verdicts and the stopping rule all read the share from
here, so they decide alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .. import defaults
from ..results.document import CellResult, RunDocument

#: The share of the 5% the first look spends; the rest is spread over the later looks.
FIRST_SHARE = 0.5
#: Rounds a pair adds between two looks after the first, where a run records none (runs before
#: looks were per pair looked after every round).
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
        try:
            step = max(1, int(options.get("look_step", STEP)))
        except (TypeError, ValueError):
            step = STEP
        if options.get("quick"):
            return cls(first, first)
        return cls(first, max(first, last), step=step)


def looks_of(document: RunDocument) -> Looks:
    options = document.run.get("options", {}) if isinstance(document.run, dict) else {}
    return Looks.of(options if isinstance(options, Mapping) else {})


def rounds_run(cells: Iterable[CellResult]) -> int:
    """How many measured rounds a family has run (failed trials count: the round was run)."""
    return len({t.round for c in cells for t in c.trials if not t.warmup})


def rounds_of(cell: CellResult) -> frozenset[int]:
    """The measured rounds a cell ran (a failed trial counts: the round was run)."""
    return frozenset(t.round for t in cell.trials if not t.warmup)


@dataclass(frozen=True)
class PairLooks:
    """Where each pair of one family stands: its rounds are those both its cells ran."""

    looks: Looks
    rounds: Mapping[str, frozenset[int]]  # by cell label

    def rounds_of(self, a: str, b: str) -> int:
        return len(self.rounds.get(a, frozenset()) & self.rounds.get(b, frozenset()))

    def share(self, a: str, b: str) -> float:
        """The share of the 5% a comparison of a and b spends: that of the pair's own look."""
        return self.looks.share(self.rounds_of(a, b))

    def at_look(self, a: str, b: str) -> bool:
        return self.looks.is_look(self.rounds_of(a, b))


def pair_looks(document: RunDocument, cells: Iterable[CellResult]) -> PairLooks:
    """The looks of one family's pairs (``cells``: one workload and placement)."""
    return PairLooks(looks_of(document), {c.label: rounds_of(c) for c in cells})


def margin_of(document: RunDocument) -> float:
    options = document.run.get("options", {}) if isinstance(document.run, dict) else {}
    try:
        return float(options.get("margin", defaults.MARGIN))
    except (TypeError, ValueError):
        return defaults.MARGIN
