"""The calibrate command end to end, CI-sized: it measures both comparisons on the real
components and says what it found. Whether the goals are met is a measurement, reported by
the command, and deliberately not asserted here."""

from __future__ import annotations

import json
from pathlib import Path

from bench_runner.results import document as results
from tests.integration.conftest import cli


def test_quick_calibration_measures_both_ratios_and_records_every_step(tmp_path: Path) -> None:
    output = tmp_path / "calibration.json"
    result = cli("calibrate", "--quick", "--provider", "bare", "--output", str(output), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    found = {c["id"]: c for c in data["comparisons"]}
    assert set(found) == {"latency", "throughput"}
    for comparison in found.values():
        assert comparison["ratio"] is not None and comparison["ratio"] > 0
        assert comparison["met"] in (True, False)
        assert comparison["suite_summary"]["n"] == comparison["reference_summary"]["n"] == 1
    # the reference really is sockperf's round trip, the suite's side really the host trials
    document = results.load(output)
    assert document.run["status"] == "complete"
    assert isinstance(document.lab["server_ip_unprivileged_port_start"], int)  # recorded as run records it
    steps = document.checks["calibration"]["steps"]
    assert sorted(s["step"] for s in steps) == ["echo-stream", "sockperf", "tcp-rr", "tcp-stream"]
    sockperf = next(s for s in steps if s["step"] == "sockperf")
    assert "Round trip is" in sockperf["sockperf_output"] and sockperf["round_trips"] > 100
    assert sockperf["value"] == sockperf["rtt_us"]["p50"]
    for workload in ("tcp-rr", "echo-stream", "tcp-stream"):
        (trial,) = document.cell(workload, "remote", "host").trials
        assert trial.status == "ok", trial.error
        assert trial.observations["listener"]["kind"].startswith("server:")
        assert trial.observations["peer_address"] == document.lab["client_addr"]
    assert found["latency"]["suite_summary"]["values"] == [document.cell("tcp-rr", "remote", "host").trials[0].samples["p50"]]


def test_text_output_names_both_goals() -> None:
    result = cli("calibrate", "--quick", "--provider", "bare")
    assert result.returncode == 0, result.stderr
    assert "latency" in result.stdout and "throughput" in result.stdout
    assert "<= 1.25" in result.stdout and ">= 0.9" in result.stdout
    assert "sockperf ping-pong p50" in result.stdout and "iperf3 tcp-stream" in result.stdout
