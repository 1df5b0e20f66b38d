"""asv's published regressions, the right way round for higher-is-better benchmarks.

asv 0.6.6 has no notion of direction: its step detection calls an *upward* step a regression,
which is right for latency and CPU cost and wrong for throughput. ``publish`` therefore runs
``asv publish`` through this module (``python -m bench_runner.history.regressions ARGS``): it
runs asv's own ``main`` unchanged except for the series its regressions publisher examines.
For a benchmark whose ``benchmarks.json`` entry says ``higher_is_better``, asv's step
detection (``asv.step_detect``) runs on the *reciprocal* of each value (seconds per Gbit for
Gbit/s), and the values it reports are turned back into the benchmark's unit. So
``regressions.json``, ``regressions.xml``, the "Show regressions" page and the graph markers
its links set list a throughput drop, and not a rise; lower-is-better benchmarks are left
exactly as asv makes them.

Why the reciprocal and not the negated values: asv skips steps smaller than
``threshold * value`` (``regressions_thresholds``, 5% unless set), which is no threshold at
all for a negative value; on the reciprocal it is a relative threshold again (a 5% rise of
1/x is a 4.8% drop of x). asv weighs each point by its 99% interval (``2 / width``); the
interval of 1/x is narrower by x squared, so the weights are scaled by it and the fit sees the
points as asv's own fit on x does. Why inside asv rather than rewriting its files afterwards:
the published graph files lack the weights, and asv's thresholds, ``regressions_first_commits``
and its Atom feed would each have to be rebuilt. A value that is not positive has no
reciprocal; it is left out of the detection (a failed cell is recorded as missing, not 0).
"""

from __future__ import annotations

import math
import sys
from typing import Any, Iterator, Sequence

Step = tuple[int, int, float, float, float]  # asv's (left, right, value, minimum, error)


class InvertedSteps(list):  # type: ignore[type-arg]
    """Steps of a reciprocal series: what asv detects on them is turned back into values."""


def reciprocal_series(data: Sequence[tuple[int, Any, Any]]) -> list[tuple[int, float | None, float | None]]:
    """(revision, value, weight) of one line, as 1/value with its weight scaled by value²."""
    out: list[tuple[int, float | None, float | None]] = []
    for revision, value, weight in data:
        if value is None or not math.isfinite(value) or value <= 0:
            out.append((revision, None, None))
        else:
            out.append((revision, 1.0 / value, None if weight is None else weight * value * value))
    return out


def reciprocal_steps(data: Sequence[tuple[int, Any, Any]]) -> InvertedSteps:
    """asv's step fit of the reciprocal series, positions mapped to revisions as asv maps them."""
    from asv import step_detect

    series = reciprocal_series(data)
    revisions = [r for r, _, _ in series]
    fitted = step_detect.detect_steps([v for _, v, _ in series], [w for _, _, w in series])
    return InvertedSteps((revisions[left], revisions[right - 1] + 1, value, minimum, error)
                         for left, right, value, minimum, error in fitted)


def back_to_values(found: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
    """detect_regressions' (latest, best, jumps) on a reciprocal series, in the benchmark's unit."""
    latest, best, jumps = found
    if latest is None:
        return found
    return 1.0 / latest, 1.0 / best, [(a, b, 1.0 / before, 1.0 / after) for a, b, before, after in jumps]


def line_data(graph: Any, index: int | None) -> list[tuple[int, Any, Any]]:
    """One line of an asv graph: (revision, value, weight), as asv's own step detection reads it."""
    data = graph.get_data()
    if index is None or graph.scalar_series:
        return [(r, v, w) for r, v, w in data]
    return [(r, v[index], w[index]) for r, v, w in data]


def install() -> None:
    """Make asv's regressions publisher direction-aware (this process only)."""
    from asv.plugins import regressions as asv_regressions

    data_filter = getattr(asv_regressions, "_GraphDataFilter", None)
    if data_filter is None or not hasattr(data_filter, "_get_start_revision") \
            or not callable(getattr(asv_regressions, "detect_regressions", None)):
        raise RuntimeError("this asv has no regressions publisher the suite knows (asv 0.6.6 is pinned in "
                           "requirements.txt): its regressions would treat a throughput rise as one")
    original_data = data_filter.get_graph_data
    original_detect = asv_regressions.detect_regressions

    def get_graph_data(self: Any, graph: Any, benchmark: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
        for index, entry_name, steps, threshold in original_data(self, graph, benchmark):
            if benchmark.get("higher_is_better"):
                start = self._get_start_revision(graph, benchmark, entry_name)
                steps = InvertedSteps(s for s in reciprocal_steps(line_data(graph, index)) if s[1] >= start)
            yield index, entry_name, steps, threshold

    def detect_regressions(steps: list[Step], threshold: float = 0, min_size: int = 2) -> tuple[Any, Any, Any]:
        found = original_detect(steps, threshold, min_size)
        return back_to_values(found) if isinstance(steps, InvertedSteps) else found

    data_filter.get_graph_data = get_graph_data
    asv_regressions.detect_regressions = detect_regressions


def main(argv: Sequence[str]) -> None:
    """``asv ARGS`` with direction-aware regressions."""
    from asv.main import main as asv_main

    install()
    sys.argv = ["asv", *argv]
    asv_main()


if __name__ == "__main__":
    main(sys.argv[1:])
