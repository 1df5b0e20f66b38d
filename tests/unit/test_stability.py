"""Plain-words warnings for unstable results."""

from __future__ import annotations

from bench_runner.analysis import stability
from tests.unit.synthetic import document, normal


def _kinds(doc):  # type: ignore[no-untyped-def]
    return {w.cell: set(w.kinds) for w in stability.warnings_for(doc)}


def test_stable_cells_have_no_warnings() -> None:
    doc = document({("w", "remote", "host"): normal(100, 0.5, 15, 1)})
    assert stability.warnings_for(doc) == []


def test_noisy_cells_are_called_unstable_and_imprecise() -> None:
    doc = document({("w", "remote", "host"): normal(100, 30, 8, 1)})
    kinds = _kinds(doc)["w/remote/host"]
    assert {"unstable", "precision"} <= kinds
    text = stability.warnings_for(doc)[0].text()
    assert "coefficient of variation" in text and "raise --rounds" in text


def test_the_terminal_gets_one_line_per_family_with_the_worst_remedy_first() -> None:
    doc = document({("w", "remote", "a"): normal(100, 30, 8, 1), ("w", "remote", "b"): normal(100, 25, 8, 2),
                    ("w", "loopback", "a"): normal(100, 0.5, 8, 3), ("v", "remote", "a"): normal(100, 0.5, 8, 4)})
    doc.cells[2].trials[0].status = "failed"
    doc.cells[2].trials[0].error = "pasta exited with 1"
    lines = stability.family_lines(doc, undecided={("v", "remote"): ["a vs b", "a vs c", "b vs c"]})
    assert [line.family for line in lines] == ["w / remote", "w / loopback", "v / remote"]
    noisy, failed, undecided = lines
    assert "trials vary by 10% or more in 2 cells (a, b)" in noisy.text()
    assert noisy.remedy == stability.REMEDIES["unstable"]
    assert failed.kinds[0] == "failed" and failed.remedy == stability.REMEDIES["failed"]
    assert undecided.text().startswith("v / remote: 3 pairs undecided (a vs b, a vs c, ...)")
    assert "max-rounds" in undecided.remedy


def test_few_trials_and_outliers_are_named() -> None:
    doc = document({("w", "remote", "a"): [10.0, 10.1], ("w", "remote", "b"): [10, 10.1, 10.2, 9.9, 10, 10.1, 30]})
    kinds = _kinds(doc)
    assert "few" in kinds["w/remote/a"]
    assert "outliers" in kinds["w/remote/b"]


def test_failed_trials_are_reported_with_the_first_reason() -> None:
    doc = document({("w", "remote", "a"): normal(10, 0.1, 6, 2)})
    doc.cells[0].trials[0].status = "failed"
    doc.cells[0].trials[0].error = "pasta exited with 1"
    text = stability.warnings_for(doc)[0].text()
    assert "1 of 6 trials failed" in text and "pasta exited with 1" in text


def test_pairs_the_time_budget_left_undecided_say_to_raise_the_budget() -> None:
    from bench_runner.analysis import tables

    doc = document({("v", "remote", "a"): normal(100, 0.5, 8, 4)})
    assert tables.budget_line(doc.run) is None
    doc.run["time_budget_stop"] = {"budget_s": 540.0, "spent_s": 531.2, "next_round_s": 11.4, "round": 12,
                                   "cells_waiting": 4}
    (line,) = stability.family_lines(doc, undecided={("v", "remote"): ["a vs b"]})
    assert line.remedy == stability.BUDGET_REMEDY and "--time-budget" in line.text()
    assert tables.budget_line(doc.run) == (
        "time budget: no extra round started after 531 s of trials, as the next (4 trials, about 11 s) would have "
        "ended past --time-budget 9 min; raise it to decide the pairs left undecided")
