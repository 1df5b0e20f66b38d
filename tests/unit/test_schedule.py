"""Extra rounds go to the cells of undecided pairs only, and each pair is judged at its own
look: a pair whose cells stopped early keeps the share of the look it stopped at, a pair
that went on spends the share of its later look."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bench_runner.analysis import sequential, stats
from bench_runner.analysis.looks import Looks, pair_looks
from bench_runner.analysis.ranking import rank_tables
from bench_runner.results.document import RunDocument, Trial
from bench_runner.run import matrix
from bench_runner.run.schedule import Plan, Scheduler
from bench_runner.run.writer import DocumentWriter, new_cell_results
from bench_runner.workloads import TrialSettings

#: True throughput per method: host far ahead; pasta and rootlesskit 8% apart, which 6 rounds
#: at a 10% CV seldom separate.
TRUTH = {"host": 10.0, "pasta": 1.08, "slirp4netns-rootlesskit": 1.0}
OPTIONS = {"rounds": 6, "max_rounds": 12, "look_step": 2}


def _run(tmp_path: Path, seed: int, budget_s: float | None = None,
         seconds: float = 1.0) -> tuple[RunDocument, list[tuple[int, str]]]:
    built = matrix.build(list(TRUTH), ["tcp-stream"], ["remote"])
    document = RunDocument(run={"options": dict(OPTIONS)}, stack={}, lab={}, provider={"id": "bare"},
                           cells=new_cell_results(built))
    rng = np.random.default_rng(seed)
    ran: list[tuple[int, str]] = []

    def execute(cell, round_index, warmup, settings):  # type: ignore[no-untyped-def]
        ran.append((round_index, cell.method))
        value = TRUTH[cell.method] * math.exp(rng.normal(0.0, 0.10))
        return Trial(index=len(ran), round=round_index, warmup=warmup, started_at="", seconds=seconds, status="ok",
                     samples={"throughput": value})

    writer = DocumentWriter(document, tmp_path / "run.json")
    Scheduler(document, execute, writer.keep).run(
        Plan(built, TrialSettings(1, 0), warmup_rounds=0, rounds=6, seed=seed, max_rounds=12, time_budget_s=budget_s))
    return document, ran


def test_the_time_budget_starts_no_round_that_would_end_past_it(tmp_path: Path) -> None:
    """The same run as below, its trials 2.5 s each: without a budget the close pair takes
    extra rounds; with 52 s the 6 fixed rounds (45 s) run whole, one extra round of the pair
    (5 s) fits and the next would not, so the run stops there and says why."""
    unlimited, ran = _run(tmp_path, seed=4, seconds=2.5)
    assert max(r for r, _ in ran) == 7 and "time_budget_stop" not in unlimited.run
    document, ran = _run(tmp_path, seed=4, budget_s=52.0, seconds=2.5)
    assert sorted({r for r, _ in ran}) == list(range(7))
    assert [m for r, m in ran if r == 6] and all(m != "host" for r, m in ran if r == 6)
    stop = document.run["time_budget_stop"]
    assert stop == {"budget_s": 52.0, "spent_s": 50.0, "next_round_s": 5.0, "round": 7, "cells_waiting": 2}
    tight, ran = _run(tmp_path, seed=4, budget_s=1.0, seconds=2.5)
    assert sorted({r for r, _ in ran}) == list(range(6))  # the fixed rounds always run


def test_extra_rounds_run_the_undecided_pair_alone_and_keep_it_paired(tmp_path: Path) -> None:
    document, ran = _run(tmp_path, seed=4)
    by_round: dict[int, set[str]] = {}
    for index, method in ran:
        by_round.setdefault(index, set()).add(method)
    assert all(by_round[r] == set(TRUTH) for r in range(6))
    extra = [by_round[r] for r in sorted(by_round) if r >= 6]
    assert extra, "the close pair should have asked for more rounds"
    assert all(methods == {"pasta", "slirp4netns-rootlesskit"} for methods in extra)
    assert len(by_round) <= 12
    (state,) = sequential.family_states(document, expectations=())
    pairs = {(p.a, p.b): p for p in state.pairs}
    assert pairs[("host", "pasta")].rounds == 6 and pairs[("host", "pasta")].state == "separated"
    assert pairs[("pasta", "slirp4netns-rootlesskit")].rounds == len(by_round)


def test_each_pair_spends_the_share_of_its_own_look(tmp_path: Path) -> None:
    document, ran = _run(tmp_path, seed=4)
    rounds = len({index for index, _ in ran})
    looks = Looks(6, 12, step=2)
    shares = pair_looks(document, document.cells)
    assert shares.share("host", "pasta") == looks.share(6) == 0.5
    assert shares.share("pasta", "slirp4netns-rootlesskit") == looks.share(rounds) < 0.5
    (table,) = rank_tables(document)
    pasta = next(row for row in table.rows if row.method == "pasta")
    assert pasta.vs_baseline is not None and pasta.vs_baseline.share == 0.5 and pasta.vs_baseline.n == 6


def test_a_pair_between_two_looks_asks_for_a_round() -> None:
    samples = {"a": {r: 2.0 + 0.01 * r for r in range(7)}, "b": {r: 1.0 for r in range(7)}}
    from bench_runner.analysis.looks import PairLooks

    at_seven = PairLooks(Looks(6, 12, step=2), {"a": frozenset(range(7)), "b": frozenset(range(7))})
    (pair,) = sequential.pair_states(samples, margin=0.05, looks=at_seven)
    assert pair.rounds == 7 and not pair.at_look and pair.state == "undecided"
    assert stats.ratio(samples["a"], samples["b"], share=at_seven.share("a", "b")).excludes_one()
