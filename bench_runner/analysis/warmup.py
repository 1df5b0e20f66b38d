"""Does the first round of a run need throwing away? Over recorded runs, per workload and by
the round's place in its cell (first, second, later):

- each trial beside the median of its cell's other measured trials (the log of the ratio,
  signed so that positive is better): a cold start (an image, a helper or a page cache touched
  for the first time) shows as first trials slower than later ones;
- each round's log ratio of two methods of one family beside the median of the pair's other
  measured rounds: what the paired tests see. A round disturbed for one method and not the
  other shows here, whichever way it went; drift that hits both cancels.

``python -m bench_runner.analysis.warmup RUN.json [RUN.json ...]``; reads only the documents.
The default of --warmup-rounds comes from this table (README, "Warm-up").
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
from dataclasses import dataclass, field
from typing import Iterable

from ..errors import UsageError
from ..results.document import CellResult, RunDocument, load

#: Places after which rounds are pooled into one row.
PLACES = 3
#: A trial this much worse (relative) than its cell's median counts as a slow one.
SLOW = 0.10
#: A round's ratio this far (either way, relative) from its pair's median counts as wild.
WILD = 0.50
#: Measured trials a cell (rounds a pair) needs for its median to say anything about one.
MIN_MEASURED = 4


@dataclass
class Place:
    """Trials (and pairs' rounds) of one workload at one place in their cells, over the documents read."""

    workload: str
    place: int  # 1 = the cell's first round; PLACES = that one and every later one
    distances: list[float] = field(default_factory=list)  # trial against its cell's median, + is better
    warmups: int = 0  # how many of those trials were warm-up trials
    residuals: list[float] = field(default_factory=list)  # a pair's round against the pair's median

    @property
    def label(self) -> str:
        return f"{_ordinal(self.place)} and later" if self.place == PLACES else _ordinal(self.place)

    @property
    def slow_share(self) -> float:
        return sum(d < -math.log1p(SLOW) for d in self.distances) / len(self.distances)

    @property
    def wild_share(self) -> float:
        return sum(abs(r) > math.log1p(WILD) for r in self.residuals) / len(self.residuals)


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _usable(cell: CellResult) -> dict[int, tuple[bool, float]]:
    """round -> (warm-up, value) of a cell's successful trials; none where it has too few
    measured trials or a value that is not positive (no log of it)."""
    ok = {t.round: (t.warmup, t.samples[cell.metric]) for t in cell.trials
          if t.status == "ok" and cell.metric in t.samples}
    if sum(not warmup for warmup, _ in ok.values()) < MIN_MEASURED or any(v <= 0 for _, v in ok.values()):
        return {}
    return ok


def _against_the_others(values: dict[int, tuple[bool, float]]) -> list[tuple[int, bool, float]]:
    """(place, warm-up, value - median of the other measured values), rounds in order."""
    found = []
    for place, (round_index, (warmup, value)) in enumerate(sorted(values.items()), start=1):
        others = [v for r, (w, v) in values.items() if not w and r != round_index]
        found.append((min(place, PLACES), warmup, value - statistics.median(others)))
    return found


def cell_distances(cell: CellResult) -> list[tuple[int, bool, float]]:
    """(place in the cell, warm-up, distance) of each successful trial of one cell."""
    sign = 1.0 if cell.higher_is_better else -1.0
    logs = {r: (w, sign * math.log(v)) for r, (w, v) in _usable(cell).items()}
    return _against_the_others(logs) if logs else []


def pair_residuals(a: CellResult, b: CellResult) -> list[tuple[int, bool, float]]:
    """(place, warm-up, residual) of each round two cells of one family both ran: the round's
    log ratio against the median of the pair's other measured rounds."""
    first, second = _usable(a), _usable(b)
    both = {r: (first[r][0] or second[r][0], math.log(first[r][1] / second[r][1])) for r in first.keys() & second.keys()}
    if sum(not w for w, _ in both.values()) < MIN_MEASURED:
        return []
    return _against_the_others(both)


def places(documents: Iterable[RunDocument]) -> list[Place]:
    """Every measured cell and pair of cells of ``documents``, by workload and place."""
    by_place: dict[tuple[str, int], Place] = {}

    def at(workload: str, place: int) -> Place:
        return by_place.setdefault((workload, place), Place(workload, place))

    for document in documents:
        families: dict[tuple[str, str, str], list[CellResult]] = {}
        for cell in document.cells:
            families.setdefault((cell.workload, cell.placement, cell.stack), []).append(cell)
            for place, warmup, distance in cell_distances(cell):
                row = at(cell.workload, place)
                row.distances.append(distance)
                row.warmups += warmup
        for (workload, _, _), cells in families.items():
            for a, b in itertools.combinations(cells, 2):
                for place, _, residual in pair_residuals(a, b):
                    at(workload, place).residuals.append(residual)
    return [by_place[key] for key in sorted(by_place)]


def render(found: list[Place], documents: int) -> str:
    from tabulate import tabulate

    table = [[p.workload, p.label, len(p.distances), p.warmups, f"{statistics.median(p.distances):+.3f}",
              f"{p.slow_share:.0%}", len(p.residuals),
              f"{statistics.median(abs(r) for r in p.residuals):.3f}" if p.residuals else "-",
              f"{p.wild_share:.0%}" if p.residuals else "-"] for p in found]
    return "\n".join([
        tabulate(table, headers=["workload", "round of its cell", "trials", "warm-ups", "median distance",
                                 f">{SLOW:.0%} slower", "pair rounds", "median |residual|",
                                 f"beyond x{1 + WILD:g}"], disable_numparse=True),
        f"{documents} documents. distance: log(trial / median of its cell's other measured trials), positive is "
        "better; a cold start shows as a first row below the others. residual: log ratio of a pair of the "
        "family in that round against the median of the pair's other measured rounds, what the paired tests "
        "see; a first row wider than the others is a noisier first round",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench_runner.analysis.warmup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("documents", nargs="+", metavar="RUN.json", help="results documents")
    args = parser.parse_args(argv)
    try:
        documents = [load(path) for path in args.documents]
    except UsageError as error:
        print(f"warmup: error: {error}", file=sys.stderr)
        return 2
    found = places(documents)
    if not found:
        print(f"warmup: error: no cell has {MIN_MEASURED} measured trials", file=sys.stderr)
        return 2
    print(render(found, len(documents)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
