"""Exit codes a CI job can tell apart: 1 a trial or step failed, 3 the data broke an ordering,
a goal or a regression threshold that was asked to fail (compare's 3 is in test_compare)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench_runner.run import calibration
from bench_runner import errors
from bench_runner.commands import calibrate, run
from tests.unit.synthetic import document, normal

ORDER = "pasta>slirp4netns-rootlesskit"


def _violated_run():  # type: ignore[no-untyped-def]
    """pasta clearly slower than slirp4netns-rootlesskit on a throughput metric."""
    return document({
        ("w", "remote", "host"): normal(100, 1, 10, 1),
        ("w", "remote", "pasta"): normal(40, 1, 10, 2),
        ("w", "remote", "slirp4netns-rootlesskit"): normal(60, 1, 10, 3),
    })


def _show(doc, fail_on_violation: bool, tmp_path: Path) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    args = argparse.Namespace(format="text", fail_on_violation=fail_on_violation)
    request = argparse.Namespace(expectations=(ORDER,), tolerance=0.10)
    said: list[str] = []
    return run.show(args, request, doc, tmp_path / "run.json", said.append), said


def test_violation_is_3_only_when_asked(tmp_path: Path) -> None:
    assert errors.VIOLATION_EXIT == 3
    code, said = _show(_violated_run(), True, tmp_path)
    assert code == 3 and any("violated" in line for line in said)
    assert _show(_violated_run(), False, tmp_path)[0] == 0


def test_a_failed_trial_is_1_even_with_a_violation(tmp_path: Path) -> None:
    doc = _violated_run()
    trial = doc.cells[1].trials[0]
    trial.status, trial.samples = "failed", {}
    assert _show(doc, True, tmp_path)[0] == 1
    assert _show(doc, False, tmp_path)[0] == 1


def _calibration(latency: list[float | None]) -> calibration.CalibrationResult:
    found = calibration.comparisons({"tcp-rr": latency, "sockperf": [25.0] * len(latency),
                                     "echo-stream": [10.0] * len(latency), "tcp-stream": [10.0] * len(latency)})
    steps = [{"step": "tcp-rr", "error": "client failed"}] if None in latency else []
    return calibration.CalibrationResult(found, steps)


def test_calibrate_missed_goal_is_3_only_when_asked() -> None:
    missed = _calibration([40.0, 40.0])  # 1.6 against a goal of at most 1.25
    said: list[str] = []
    assert calibrate.exit_code(missed, True, said.append) == 3 and said == ["goal missed: latency"]
    assert calibrate.exit_code(missed, False, said.append) == 0
    assert calibrate.exit_code(_calibration([25.0, 25.0]), True, said.append) == 0


def test_calibrate_failed_step_is_1() -> None:
    assert calibrate.exit_code(_calibration([40.0, None]), True, lambda line: None) == 1
    assert calibrate.exit_code(_calibration([None]), False, lambda line: None) == 1


def test_usage_and_setup_errors_are_2_and_failures_1() -> None:
    assert errors.UsageError("x").exit_code == errors.SetupError("x").exit_code == 2
    assert errors.MeasurementError("x").exit_code == errors.CommandFailed(["x"], 1, "").exit_code == 1
