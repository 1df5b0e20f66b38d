"""Calibration's pure parts: which way each ratio goes, how a goal is judged, what is
printed, and bad input. (The measured ratios themselves are a benchmark, never asserted.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench_runner.run import calibration
from bench_runner.commands.calibrate import render
from bench_runner.workloads import TrialSettings

REPO = Path(__file__).resolve().parents[2]


def test_latency_ratio_is_suite_over_sockperf_and_must_stay_below_its_goal() -> None:
    latency, _ = calibration.comparisons({"tcp-rr": [30.0, 31.0, 32.0], "sockperf": [24.0, 25.0, 26.0]})
    assert latency.ratio_of_medians == pytest.approx(31.0 / 25.0)
    assert latency.judged == pytest.approx(31.0 / 25.0)  # paired: 1.25, 1.24, 1.23
    assert latency.goal_is_max and latency.goal == calibration.LATENCY_GOAL
    assert latency.met is True
    slower, _ = calibration.comparisons({"tcp-rr": [40.0], "sockperf": [25.0]})
    assert slower.met is False


def test_throughput_ratio_is_echo_stream_over_iperf3_and_must_stay_above_its_goal() -> None:
    _, throughput = calibration.comparisons({"echo-stream": [9.5, 10.0, 10.5], "tcp-stream": [11.0, 11.0, 11.0]})
    assert throughput.judged == pytest.approx(10.0 / 11.0)
    assert not throughput.goal_is_max
    assert throughput.met is True  # 0.909 >= 0.9
    _, low = calibration.comparisons({"echo-stream": [8.0], "tcp-stream": [11.0]})
    assert low.met is False


def test_the_goal_is_judged_on_paired_rounds_so_drift_between_rounds_cancels() -> None:
    """The machine got twice as fast after round 2: every pair says 0.95, while the ratio
    of the medians, mixing slow and fast rounds, says 1.9."""
    _, throughput = calibration.comparisons({"echo-stream": [9.5, 9.5, 19.0, 19.0, 19.0],
                                              "tcp-stream": [10.0, 10.0, 20.0, 20.0, 20.0]})
    assert throughput.paired_ratios == pytest.approx([0.95] * 5)
    assert throughput.judged == pytest.approx(0.95) and throughput.met is True
    drifted, _ = calibration.comparisons({"tcp-rr": [20.0, 20.0, 20.0, 10.0, 10.0],
                                          "sockperf": [10.0, 10.0, 8.0, 8.0, 8.0]})
    assert drifted.ratio_of_medians == pytest.approx(2.5)
    assert drifted.judged == pytest.approx(2.0)


def test_a_round_whose_step_failed_drops_out_of_the_pairs_only() -> None:
    latency, _ = calibration.comparisons({"tcp-rr": [30.0, None, 32.0], "sockperf": [25.0, 26.0, 25.0]})
    assert latency.suite == [30.0, 32.0] and latency.reference == [25.0, 26.0, 25.0]
    assert latency.paired_ratios == pytest.approx([30.0 / 25.0, 32.0 / 25.0])


def test_a_side_without_samples_has_no_ratio_and_no_verdict() -> None:
    latency, throughput = calibration.comparisons({"tcp-rr": [30.0], "echo-stream": [10.0], "tcp-stream": [None]})
    assert latency.ratio_of_medians is None and latency.met is None
    assert throughput.ratio_of_medians is None and throughput.met is None
    assert latency.to_json()["reference_summary"] is None


def test_json_carries_inputs_ratios_and_verdict() -> None:
    latency, _ = calibration.comparisons({"tcp-rr": [30.0, 31.0, 32.0], "sockperf": [24.0, 25.0, 26.0]})
    data = latency.to_json()
    assert data["suite_summary"]["median"] == 31.0 and data["suite_summary"]["values"] == [30.0, 31.0, 32.0]
    assert data["reference_summary"]["median"] == 25.0
    assert data["ratio_of_medians"] == pytest.approx(1.24)
    assert data["paired_ratios"]["n"] == 3 and data["ratio"] == pytest.approx(1.24)
    assert data["goal"] == "<= 1.25" and data["met"] is True


def test_each_round_runs_every_step_once_with_each_pair_back_to_back() -> None:
    for round_index in range(20):
        order = calibration.round_order(round_index, seed=7)
        assert sorted(order) == sorted(calibration.STEPS)
        for suite, reference in calibration.PAIRS.values():
            assert abs(order.index(suite) - order.index(reference)) == 1
    orders = {tuple(calibration.round_order(i, seed=7)) for i in range(20)}
    assert len(orders) > 1  # shuffled, not fixed
    assert calibration.round_order(3, seed=7) == calibration.round_order(3, seed=7)  # and reproducible


def test_rendered_table_shows_both_ratios_their_inputs_and_verdicts() -> None:
    found = calibration.comparisons({"tcp-rr": [40.0], "sockperf": [25.0], "echo-stream": [10.0], "tcp-stream": [10.5]})
    text = render(found, calibration.CalibrationPlan(1, 0, TrialSettings(1, 0)), "bare")
    assert "latency" in text and "throughput" in text
    assert "1.60" in text and "NOT met" in text  # 40 / 25
    assert "0.952" in text and " met" in text  # 10 / 10.5
    (latency_line,) = [line for line in text.splitlines() if line.startswith("latency")]
    (throughput_line,) = [line for line in text.splitlines() if line.startswith("throughput")]
    assert latency_line.rstrip().endswith("NOT met")
    assert throughput_line.rstrip().endswith(" met") and not throughput_line.rstrip().endswith("NOT met")
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
