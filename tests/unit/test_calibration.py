"""Calibration's pure parts: which way each ratio goes, how a goal is judged, what is
printed, and bad input. (The measured ratios themselves are a benchmark, never asserted.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench_runner import calibration
from bench_runner.commands.calibrate import render
from bench_runner.workloads import TrialSettings

REPO = Path(__file__).resolve().parents[2]


def test_latency_ratio_is_suite_over_sockperf_and_must_stay_below_its_goal() -> None:
    latency, _ = calibration.comparisons({"tcp-rr": [30.0, 31.0, 32.0], "sockperf": [24.0, 25.0, 26.0]})
    assert latency.ratio is not None
    assert latency.ratio.value == pytest.approx(31.0 / 25.0)
    assert latency.goal_is_max and latency.goal == calibration.LATENCY_GOAL
    assert latency.met is True  # 1.24 <= 1.25
    slower, _ = calibration.comparisons({"tcp-rr": [40.0], "sockperf": [25.0]})
    assert slower.met is False


def test_throughput_ratio_is_echo_stream_over_iperf3_and_must_stay_above_its_goal() -> None:
    _, throughput = calibration.comparisons({"echo-stream": [9.5, 10.0, 10.5], "tcp-stream": [11.0, 11.0, 11.0]})
    assert throughput.ratio is not None and throughput.ratio.value == pytest.approx(10.0 / 11.0)
    assert not throughput.goal_is_max
    assert throughput.met is True  # 0.909 >= 0.9
    _, low = calibration.comparisons({"echo-stream": [8.0], "tcp-stream": [11.0]})
    assert low.met is False


def test_a_side_without_samples_has_no_ratio_and_no_verdict() -> None:
    latency, throughput = calibration.comparisons({"tcp-rr": [30.0], "echo-stream": [10.0], "tcp-stream": []})
    assert latency.ratio is None and latency.met is None
    assert throughput.ratio is None and throughput.met is None
    assert latency.to_json()["reference_summary"] is None


def test_json_carries_inputs_ratio_and_verdict() -> None:
    latency, _ = calibration.comparisons({"tcp-rr": [30.0, 31.0, 32.0], "sockperf": [24.0, 25.0, 26.0]})
    data = latency.to_json()
    assert data["suite_summary"]["median"] == 31.0 and data["suite_summary"]["values"] == [30.0, 31.0, 32.0]
    assert data["reference_summary"]["median"] == 25.0
    assert data["ratio"] == pytest.approx(1.24)
    assert data["goal"] == "<= 1.25" and data["met"] is True


def test_rendered_table_shows_both_ratios_their_inputs_and_verdicts() -> None:
    found = calibration.comparisons({"tcp-rr": [40.0], "sockperf": [25.0], "echo-stream": [10.0], "tcp-stream": [10.5]})
    text = render(found, calibration.CalibrationPlan(1, 0, TrialSettings(1, 0)), "bare")
    assert "latency" in text and "throughput" in text
    assert "1.60" in text and "NOT met" in text  # 40 / 25
    assert "0.952" in text and " met" in text  # 10 / 10.5
    assert "sockperf ping-pong p50" in text and "iperf3 tcp-stream" in text
    assert "40.0 us" in text and "25.0 us" in text


@pytest.mark.parametrize("args, expected", [
    (["calibrate", "--provider", "docker"], "unknown provider 'docker'"),
    (["calibrate", "--repetitions", "0"], "argument --repetitions: 0 is not positive"),
    (["calibrate", "--output", "/nonexistent-dir/c.json"], "directory /nonexistent-dir does not exist"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = subprocess.run([sys.executable, "-m", "bench_runner", *args], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
