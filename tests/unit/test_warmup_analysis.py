"""The warm-up table: each trial's distance from its cell's median, by its place in the cell,
signed so that better is positive; a cold first trial shows in the first row only, and bad
input is a one-line error."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench_runner.analysis.warmup import PLACES, cell_distances, main, places
from bench_runner.results.document import CellResult, RunDocument, Trial, load, save

DATA = Path(__file__).resolve().parent.parent / "data"


def _cell(values: list[float], *, higher_is_better: bool = True, warmups: int = 1) -> CellResult:
    trials = [Trial(index=i * 10, round=i, warmup=i < warmups, started_at="", seconds=1.0, status="ok",
                    samples={"m": v}) for i, v in enumerate(values)]
    return CellResult("tcp-stream", "remote", "pasta", "m", "x", higher_is_better, trials=trials)


def _document(*cells: CellResult) -> RunDocument:
    return RunDocument(run={"options": {}}, stack={}, lab={}, provider={"id": "bare"}, cells=list(cells))


def test_a_cold_first_trial_is_the_first_row_below_the_others_whichever_way_is_better() -> None:
    steady = [10.0, 10.2, 9.8, 10.1, 9.9, 10.0, 10.3, 9.7, 10.0]
    for higher, cold in ((True, 5.0), (False, 20.0)):  # half the throughput, twice the latency
        rows = places([_document(_cell([cold, *steady], higher_is_better=higher))])
        assert [r.place for r in rows] == list(range(1, PLACES + 1))
        assert rows[0].distances[0] == pytest.approx(-math.log(2.0))
        assert rows[0].warmups == 1 and rows[0].slow_share == 1.0
        assert all(abs(d) < 0.05 for r in rows[1:] for d in r.distances)
        assert rows[-1].label == f"{PLACES}th and later" and len(rows[-1].distances) == 4


def test_a_trial_is_measured_against_the_other_measured_trials_only() -> None:
    """The warm-up is left out of every median; a cell with too few measured trials, or a value
    that is not positive, says nothing."""
    distances = cell_distances(_cell([100.0, 10.0, 20.0, 30.0, 40.0]))
    assert [p for p, _, _ in distances] == [1, 2, 3, 4, 5]
    assert distances[0][2] == pytest.approx(math.log(100.0 / 25.0))
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
