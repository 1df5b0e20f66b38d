"""Both directions of a throughput workload side by side: twins found by the workloads' own
definitions (also for swept variants), every method's two halves in one row, the reverse
direction against the forward one round by round, and the verdicts naming the direction."""

from __future__ import annotations

import pytest

from bench_runner import defaults
from bench_runner.analysis import tables
from bench_runner.analysis.directions import direction_tables, twin_of
from bench_runner.analysis.ranking import rank_tables
from bench_runner.analysis.verdicts import ordering_verdicts
from bench_runner.report.jsonout import direction_json
from tests.unit.synthetic import document, normal


def _both_ways():  # type: ignore[no-untyped-def]
    return document({
        ("tcp-stream", "remote", "host"): normal(30, 0.5, 10, 1),
        ("tcp-stream", "remote", "pasta"): normal(10, 0.3, 10, 2),
        ("tcp-stream", "remote", "slirp4netns-slirp4netns"): normal(8, 0.3, 10, 3),
        ("tcp-stream-reverse", "remote", "host"): normal(29, 0.5, 10, 4),
        ("tcp-stream-reverse", "remote", "pasta"): normal(0.1, 0.01, 10, 5),
        ("tcp-stream-reverse", "remote", "slirp4netns-slirp4netns"): normal(7, 0.3, 10, 6),
        ("tcp-rr", "remote", "host"): normal(20, 1, 10, 7),
    })


def test_twins_are_the_workloads_own_and_keep_their_sweeps() -> None:
    assert twin_of("tcp-stream") == "tcp-stream-reverse" and twin_of("tcp-stream-reverse") == "tcp-stream"
    assert twin_of("tcp-stream+mtu1500") == "tcp-stream-reverse+mtu1500"
    assert twin_of("tcp-stream-outbound") == "tcp-stream-outbound-reverse"
    assert twin_of("tcp-rr") is None and twin_of("udp-stream") is None


def test_both_halves_of_every_method_stand_in_one_row() -> None:
    doc = _both_ways()
    [found] = direction_tables(rank_tables(doc), doc)
    assert (found.forward.workload, found.reverse.workload, found.placement) == (
        "tcp-stream", "tcp-stream-reverse", "remote")
    rows = {r.method: r for r in found.rows}
    assert set(rows) == {"host", "pasta", "slirp4netns-slirp4netns"}
    pasta = rows["pasta"]
    assert pasta.forward is not None and pasta.reverse is not None
    assert pasta.forward.summary.median == pytest.approx(10, rel=0.1)
    assert pasta.reverse.summary.median == pytest.approx(0.1, rel=0.1)
    # reverse against forward, round by round: about 0.01, its interval excluding 1
    ratio = pasta.reverse_vs_forward
    assert ratio is not None and ratio.paired and ratio.value == pytest.approx(0.01, rel=0.2)
    assert ratio.ci_high is not None and ratio.ci_high < 0.05
    host = rows["host"].reverse_vs_forward
    assert host is not None and host.value == pytest.approx(29 / 30, rel=0.05)


def test_the_table_names_who_sends_and_shows_the_collapse() -> None:
    doc = _both_ways()
    [found] = direction_tables(rank_tables(doc), doc)
    text = tables.render_directions([found])
    assert "client sends (tcp-stream)" in text and "container sends (tcp-stream-reverse)" in text
    pasta = next(r for r in found.rows if r.method == "pasta")
    pasta_line = next(line for line in text.splitlines() if line.startswith("pasta"))
    assert pasta.reverse_vs_forward is not None and tables.fmt(pasta.reverse_vs_forward.value) in pasta_line
    as_json = {r["method"]: r for r in direction_json(found)["rows"]}
    assert as_json["pasta"]["reverse_vs_forward"] < 0.05 and as_json["host"]["reverse_vs_forward"] > 0.9


def test_no_table_without_both_halves() -> None:
    doc = document({("tcp-stream", "remote", "host"): normal(30, 0.5, 10, 1),
                    ("tcp-stream-reverse", "loopback", "host"): normal(30, 0.5, 10, 2)})
    assert direction_tables(rank_tables(doc), doc) == []


def test_verdicts_are_judged_and_named_per_direction() -> None:
    verdicts = ordering_verdicts(_both_ways(), "pasta>slirp4netns-slirp4netns")
    where = {v.where: v.pairs[0].verdict for v in verdicts}
    assert where == {"tcp-stream (client sends) / remote": "holds",
                     "tcp-stream-reverse (container sends) / remote": "violated"}


def test_the_default_run_measures_both_directions() -> None:
    assert defaults.WORKLOADS.split(",")[:2] == ["tcp-stream", "tcp-stream-reverse"]
