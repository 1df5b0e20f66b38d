"""Replaying the stopping rule on a run that measured more rounds: the shorter run takes the
run's own trials, only those the rule asks for, and its verdicts are set beside all the
rounds'; a run with too few rounds, or a file that is not a run, is a one-line error."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bench_runner.results.document import RunDocument, Trial, load, save
from bench_runner.run import matrix
from bench_runner.run.replay import ReplayError, compare, main, replay
from bench_runner.run.schedule import Plan, Scheduler
from bench_runner.run.writer import DocumentWriter, new_cell_results
from bench_runner.workloads import TrialSettings

DATA = Path(__file__).resolve().parent.parent / "data"
#: Host far ahead, rootlesskit twice slirp4netns, pasta and rootlesskit 8% apart.
TRUTH = {"host": 20.0, "pasta": 10.8, "slirp4netns-rootlesskit": 10.0, "slirp4netns-slirp4netns": 5.0}
ROUNDS = 12


def _full_run(path: Path) -> RunDocument:
    """A run of ROUNDS fixed rounds (one warm-up), every trial recorded."""
    built = matrix.build(list(TRUTH), ["tcp-stream"], ["remote"])
    options = {"rounds": ROUNDS, "max_rounds": ROUNDS, "warmup_rounds": 1}
    document = RunDocument(run={"options": options, "seed": 5}, stack={}, lab={}, provider={"id": "bare"},
                           cells=new_cell_results(built))
    rng = np.random.default_rng(11)

    def execute(cell, round_index, warmup, settings):  # type: ignore[no-untyped-def]
        value = TRUTH[cell.method] * math.exp(rng.normal(0.0, 0.10))
        return Trial(index=round_index, round=round_index, warmup=warmup, started_at="", seconds=2.0, status="ok",
                     samples={"throughput": value})

    writer = DocumentWriter(document, path)
    Scheduler(document, execute, writer.keep).run(
        Plan(built, TrialSettings(1, 0), warmup_rounds=1, rounds=ROUNDS, seed=5, max_rounds=ROUNDS))
    return document


def test_the_rule_takes_only_the_rounds_it_asks_for_from_the_run(tmp_path: Path) -> None:
    full = _full_run(tmp_path / "run.json")
    result = replay(full, rounds=6, max_rounds=ROUNDS, look_step=2)
    assert result.full_trials == len(TRUTH) * (ROUNDS + 1)
    assert len(TRUTH) * 7 <= result.trials < result.full_trials
    for short in result.document.cells:
        whole = full.cell(short.workload, short.placement, short.method)
        recorded = {t.round: t.samples for t in whole.trials}
        assert all(recorded[t.round] == t.samples for t in short.trials)
    host = result.document.cell("tcp-stream", "remote", "host")
    assert len([t for t in host.trials if not t.warmup]) == 6  # told apart from every other method at once
    rows = compare(result.document, full)
    assert [(r.full.better, r.full.worse) for r in rows] == [("pasta", "slirp4netns-rootlesskit"),
                                                             ("slirp4netns-rootlesskit", "slirp4netns-slirp4netns")]
    assert rows[1].replayed.verdict == rows[1].full.verdict == "holds"


def test_a_time_budget_stops_the_replayed_rounds_where_a_run_would(tmp_path: Path) -> None:
    """The fixed rounds (7 of 4 trials of 2 s: 56 s) always run; a budget of 1 minute lets no
    extra round of the close pair (4 s) start past 60 s, and says so in the document."""
    full = _full_run(tmp_path / "run.json")
    free = replay(full, rounds=6, max_rounds=ROUNDS, look_step=2)
    assert free.trials > len(TRUTH) * 7 and "time_budget_stop" not in free.document.run
    capped = replay(full, rounds=6, max_rounds=ROUNDS, look_step=2, time_budget_s=60.0)
    assert capped.trials == len(TRUTH) * 7 + 2 and capped.seconds == pytest.approx(60.0)
    assert capped.document.run["time_budget_stop"]["spent_s"] == 60.0
    assert capped.document.run["options"]["time_budget_s"] == 60.0


def test_fewer_warm_up_rounds_take_the_recorded_warm_ups_as_measured_rounds(tmp_path: Path) -> None:
    """As a run without a warm-up round would have measured them: the run's first round, noise
    and all, counts, and the trials it frees buy extra rounds under a time budget."""
    full = _full_run(tmp_path / "run.json")
    left = replay(full, rounds=6, max_rounds=ROUNDS, look_step=2, warmup_rounds=0)
    assert left.document.run["options"]["warmup_rounds"] == 0
    assert not any(t.warmup for c in left.document.cells for t in c.trials)
    for short in left.document.cells:
        recorded = {t.round: t.samples for t in full.cell(short.workload, short.placement, short.method).trials}
        assert [t.round for t in short.trials][:6] == list(range(6))  # the warm-up round is round 0
        assert all(recorded[t.round] == t.samples for t in short.trials)
    # A minute: with the warm-up, the fixed rounds (56 s) leave room for one extra round of the
    # close pair; without it (48 s), for more.
    extra = [replay(full, rounds=6, max_rounds=ROUNDS, look_step=2, warmup_rounds=w, time_budget_s=60.0).trials
             - len(TRUTH) * (6 + w) for w in (1, 0)]
    assert extra[0] == 2 and extra[1] > 2
    with pytest.raises(ReplayError, match="between 0 and the 1 the run recorded"):
        replay(full, rounds=6, max_rounds=ROUNDS, warmup_rounds=2)


def test_a_run_with_fewer_rounds_than_the_cap_cannot_be_replayed(tmp_path: Path) -> None:
    full = _full_run(tmp_path / "run.json")
    with pytest.raises(ReplayError, match="recorded 12"):
        replay(full, rounds=6, max_rounds=16)


def test_the_command_prints_both_verdicts_and_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """On a stored document: a recorded run's stack, lab and provider, with these cells."""
    path = tmp_path / "run.json"
    full = _full_run(tmp_path / "synthetic.json")
    stored = load(DATA / "results-bare-full.json")
    stored.cells, stored.run["options"], stored.run["seed"] = full.cells, full.run["options"], 5
    save(stored, path)
    assert load(path).run["options"]["rounds"] == ROUNDS
    assert main([str(path), "--max-rounds", str(ROUNDS)]) == 0
    out = capsys.readouterr().out
    assert "pasta > slirp4netns-rootlesskit" in out and "of 2 verdicts the same" in out
    assert main([str(path)]) == 2  # the default cap, 16, is more than the run recorded
    err = capsys.readouterr().err
    assert err.startswith("replay: error:") and err.count("\n") == 1
    assert main([str(path), "--max-rounds", str(ROUNDS), "--warmup-rounds", "2"]) == 2
    assert "the 1 the run recorded" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.json")]) == 2
    assert "no such results document" in capsys.readouterr().err
