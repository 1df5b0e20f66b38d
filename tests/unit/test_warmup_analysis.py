"""The warm-up table: each trial beside its cell's median, and each round of a pair beside the
pair's median, by the round's place in its cell; a cold first trial shows in the first row's
distance, a first round disturbed for one method only in its residuals, and bad input is a
one-line error."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench_runner.analysis.warmup import PLACES, cell_distances, main, pair_residuals, places
from bench_runner.results.document import CellResult, RunDocument, Trial, load, save

DATA = Path(__file__).resolve().parent.parent / "data"
STEADY = [10.0, 10.2, 9.8, 10.1, 9.9, 10.0, 10.3, 9.7, 10.0]


def _cell(values: list[float], *, method: str = "pasta", higher_is_better: bool = True,
          warmups: int = 1) -> CellResult:
    trials = [Trial(index=i * 10, round=i, warmup=i < warmups, started_at="", seconds=1.0, status="ok",
                    samples={"m": v}) for i, v in enumerate(values)]
    return CellResult("tcp-stream", "remote", method, "m", "x", higher_is_better, trials=trials)


def _document(*cells: CellResult) -> RunDocument:
    return RunDocument(run={"options": {}}, stack={}, lab={}, provider={"id": "bare"}, cells=list(cells))


def test_a_cold_first_trial_is_the_first_row_below_the_others_whichever_way_is_better() -> None:
    for higher, cold in ((True, 5.0), (False, 20.0)):  # half the throughput, twice the latency
        rows = places([_document(_cell([cold, *STEADY], higher_is_better=higher))])
        assert [(r.workload, r.place) for r in rows] == [("tcp-stream", p) for p in range(1, PLACES + 1)]
        assert rows[0].distances == [pytest.approx(-math.log(2.0))]
        assert rows[0].warmups == 1 and rows[0].slow_share == 1.0
        assert all(abs(d) < 0.05 for r in rows[1:] for d in r.distances)
        assert rows[-1].label == f"{PLACES}rd and later" and len(rows[-1].distances) == len(STEADY) - 1
        assert not any(r.residuals for r in rows)  # one cell: no pair


def test_a_first_round_disturbed_for_one_method_shows_in_the_pairs_residuals_and_drift_cancels() -> None:
    """Both methods slow down alike over the run (drift): the pair's residuals stay small but
    in the first round, where one method alone ran twice as fast."""
    drift = [1.0 - 0.03 * i for i in range(len(STEADY) + 1)]
    a = _cell([20.0 * d for d in drift], method="pasta")
    b = _cell([10.0 * d * (2.0 if i == 0 else 1.0) for i, d in enumerate(drift)], method="slirp4netns-rootlesskit")
    residuals = pair_residuals(a, b)
    assert residuals[0] == (1, True, pytest.approx(math.log(2.0 / 4.0)))
    assert all(abs(r) < 1e-9 for _, _, r in residuals[1:])
    rows = places([_document(a, b)])
    assert rows[0].wild_share == 1.0 and rows[1].wild_share == 0.0
    assert len(rows[0].residuals) == 1 and len(rows[0].distances) == 2


def test_a_trial_is_measured_against_the_other_measured_trials_only() -> None:
    """The warm-up is left out of every median; a cell with too few measured trials, or a value
    that is not positive, says nothing."""
    distances = cell_distances(_cell([100.0, 10.0, 20.0, 30.0, 40.0]))
    assert [p for p, _, _ in distances] == [1, 2, 3, 3, 3]
    assert distances[0][2] == pytest.approx(math.log(100.0 / math.sqrt(20.0 * 30.0)))  # the median of the logs
    assert distances[1][2] == pytest.approx(math.log(10.0 / 30.0))
    assert cell_distances(_cell([1.0, 2.0, 3.0, 4.0])) == []
    assert cell_distances(_cell([1.0, 2.0, 0.0, 4.0, 5.0])) == []
    assert [w for _, w, _ in cell_distances(_cell([1.0, 2.0, 3.0, 4.0, 5.0], warmups=0))] == [False] * 5


def test_the_command_prints_the_table_and_fails_in_one_line(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """On a stored document (a recorded run's stack and lab) with these cells."""
    path = tmp_path / "run.json"
    stored = load(DATA / "results-bare-full.json")
    stored.cells = [_cell([5.0, 10.0, 10.2, 9.8, 10.1, 9.9])]
    save(stored, path)
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "1st" in out and "-0.693" in out and "1 documents" in out
    assert main([str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("warmup: error:") and err.count("\n") == 1
    stored.cells = [_cell([5.0, 10.0, 10.2])]
    save(stored, path)
    assert main([str(path)]) == 2
    assert "no cell has 4 measured trials" in capsys.readouterr().err
