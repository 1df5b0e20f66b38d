"""Sweep plots: the metric against a swept value, one line per method, grouped so that only
that value varies; from a recorded --container-mtu 1500,65520 run."""

from __future__ import annotations

from pathlib import Path

from bench_runner.analysis import ranking as analysis
from bench_runner.results import document as results
from bench_runner.analysis.ranking import RankTable
from bench_runner.report.plots import plots_for, sweep_series

RECORDED = Path(__file__).resolve().parents[1] / "data" / "results-sweep-mtu-quick.json"


def _table(workload: str, placement: str = "remote") -> RankTable:
    return RankTable(workload, placement, "throughput", "Gbit/s", True, (), ())


def test_each_sweep_is_grouped_with_the_other_values_held() -> None:
    tables = [_table(f"tcp-stream+mtu{m}+P{p}") for m in (65520, 1500) for p in (1, 8)]
    tables.append(_table("tcp-rr"))  # not swept
    tables.append(_table("tcp-stream+mtu1500+P1", "loopback"))  # alone in its placement: no line
    found = {(s.sweep, s.held): [x for x, _ in s.points] for s in sweep_series(tables)}
    assert found == {("mtu", (("streams", 1),)): [1500, 65520], ("mtu", (("streams", 8),)): [1500, 65520],
                     ("streams", (("mtu", 65520),)): [1, 8], ("streams", (("mtu", 1500),)): [1, 8]}


def test_a_recorded_mtu_sweep_plots_throughput_against_the_mtu_per_placement() -> None:
    document = results.load(RECORDED)
    tables = analysis.rank_tables(document)
    plots = [p for p in plots_for(tables, document.cells) if p.kind == "sweep"]
    assert [p.name for p in plots] == ["tcp-stream-remote-by-mtu", "tcp-stream-loopback-by-mtu"]
    assert all(p.png.startswith(b"\x89PNG") and len(p.png) > 10_000 for p in plots)
    series = sweep_series([t for t in tables if t.rows])[0]
    pasta = [next(r for r in t.rows if r.method == "pasta").summary.median for _, t in series.points]
    assert [x for x, _ in series.points] == [1500, 65520] and len(pasta) == 2
