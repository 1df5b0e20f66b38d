"""Does a cell's first trial need throwing away? Over recorded runs, each trial's distance from
the median of its cell's other measured trials (the log of the ratio, signed so that positive
is better), by the trial's place in its cell: first (the warm-up, where the run had one),
second, and so on. A cold start (an image, a helper or a page cache touched for the first time)
would show as first trials worse than the later ones; drift over the run shows in every place.

``python -m bench_runner.analysis.warmup RUN.json [RUN.json ...]``; reads only the documents.
The default of --warmup-rounds comes from this table (README, "Warm-up").
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from dataclasses import dataclass
from typing import Iterable

from ..errors import UsageError
from ..results.document import CellResult, RunDocument, load

#: Places after which trials are pooled into one row.
PLACES = 7
#: A trial this much worse (relative) than its cell's median counts as a slow one.
SLOW = 0.10
#: Measured trials a cell needs for its median to say anything about one trial.
MIN_MEASURED = 4


@dataclass(frozen=True)
class Place:
    """Trials at one place in their cells, over the documents read."""

    place: int  # 1 = the cell's first trial; PLACES = that one and every later one
    distances: tuple[float, ...]  # log(trial / median of the cell's other measured trials), + is better
    warmups: int  # how many of them were warm-up trials

    @property
    def label(self) -> str:
        return f"{self.place}th and later" if self.place == PLACES else _ordinal(self.place)

    @property
    def slow_share(self) -> float:
        return sum(d < -math.log1p(SLOW) for d in self.distances) / len(self.distances)


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def cell_distances(cell: CellResult) -> list[tuple[int, bool, float]]:
    """(place in the cell, warm-up, distance) of each successful trial of one cell; none where
    the cell has too few measured trials or a value that is not positive."""
    ok = sorted((t for t in cell.trials if t.status == "ok" and cell.metric in t.samples), key=lambda t: t.index)
    measured = [t for t in ok if not t.warmup]
    if len(measured) < MIN_MEASURED or any(t.samples[cell.metric] <= 0 for t in ok):
        return []
    sign = 1.0 if cell.higher_is_better else -1.0
    found = []
    for place, trial in enumerate(ok, start=1):
        others = [t.samples[cell.metric] for t in measured if t is not trial]
        distance = sign * math.log(trial.samples[cell.metric] / statistics.median(others))
        found.append((min(place, PLACES), trial.warmup, distance))
    return found


def places(documents: Iterable[RunDocument]) -> list[Place]:
    """Every measured cell's trials of ``documents``, by place."""
    by_place: dict[int, list[tuple[bool, float]]] = {}
    for document in documents:
        for cell in document.cells:
            for place, warmup, distance in cell_distances(cell):
                by_place.setdefault(place, []).append((warmup, distance))
    return [Place(p, tuple(d for _, d in rows), sum(w for w, _ in rows)) for p, rows in sorted(by_place.items())]


def render(found: list[Place], documents: int) -> str:
    from tabulate import tabulate

    table = [[p.label, len(p.distances), p.warmups, f"{statistics.median(p.distances):+.3f}",
              f"{statistics.mean(p.distances):+.3f}", f"{p.slow_share:.0%}"] for p in found]
    return "\n".join([
        tabulate(table, headers=["trial of its cell", "trials", "warm-ups", "median distance", "mean distance",
                                 f">{SLOW:.0%} slower"], disable_numparse=True),
        f"{documents} documents; distance: log(trial / median of the cell's other measured trials), positive is "
        "better; a cold start shows as a first row below the others",
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
