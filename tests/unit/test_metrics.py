"""Every number a run records has words: each metric a workload emits is in the metrics
registry with a unit, a direction and a meaning, and the places that show metrics (list
--metrics, the results schema) take them from there."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench_runner.results import metrics
from bench_runner.run.matrix import WORKLOADS
from bench_runner.providers.base import ServerExit
from bench_runner.results.document import SCHEMA_PATH
from bench_runner.workloads import DRIVERS
from tests.conftest import read_data

REPO = Path(__file__).resolve().parents[2]
#: Output recorded in the lab (the echo round trips: on loopback, by the current client), per
#: workload: (client output, server output).
RECORDED = {
    "tcp-stream": ("iperf3-client-tcp.json", "iperf3-server-tcp.json"),
    "tcp-stream-reverse": ("iperf3-client-tcp-reverse.json", "iperf3-server-tcp-reverse.json"),
    "tcp-stream-parallel": ("iperf3-client-tcp-parallel.json", "iperf3-server-tcp-parallel.json"),
    "udp-stream": ("iperf3-client-udp.json", "iperf3-server-udp.json"),
    "tcp-rr": ("echo-client-tcp-rr-clients1-loopback.json", "echo-server-tcp-rr-clients1-loopback.json"),
    "udp-rr": ("echo-client-udp-rr-clients1-loopback.json", "echo-server-udp-rr-clients1-loopback.json"),
    "tcp-crr": ("echo-client-tcp-crr-clients1-loopback.json", "echo-server-tcp-crr-clients1-loopback.json"),
    "echo-stream": ("echo-client-echo-stream-host.json", "echo-server-echo-stream-host.json"),
    "tcp-stream-outbound": ("iperf3-client-tcp.json", "iperf3-server-tcp.json"),
    "tcp-stream-outbound-reverse": ("iperf3-client-tcp-outbound-reverse.json", "iperf3-server-tcp-outbound-reverse.json"),
}


def test_every_workload_has_recorded_output_here() -> None:
    assert set(RECORDED) == set(WORKLOADS)


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_every_metric_a_workload_emits_has_words(workload: str) -> None:
    client, server = RECORDED[workload]
    emitted = set(DRIVERS[workload].measure(read_data(client), ServerExit(0, read_data(server), "")).samples)
    declared = {m.id for m in WORKLOADS[workload].metrics()}
    assert emitted <= declared, f"{workload} emits metrics it does not declare: {emitted - declared}"
    assert emitted - set(metrics.METRICS) == set(), "metrics without a description in bench_runner/results/metrics.py"
    for metric in WORKLOADS[workload].metrics():
        assert metrics.METRICS.get(metric.id) == metric, f"{workload} declares {metric.id} other than the registry"


def test_samples_the_trial_runner_adds_have_words_too() -> None:
    """Samples set outside the drivers (helper CPU per GB, in trials.py) are found in the source."""
    found = set()
    for path in (REPO / "bench_runner").rglob("*.py"):
        found |= set(re.findall(r"""samples\[["']([A-Za-z0-9_]+)["']\]\s*=""", path.read_text()))
    assert "helper_cpu_s_per_gb" in found  # the scan sees the one it is for
    assert found - set(metrics.METRICS) == set()


def test_every_description_is_one_line_with_a_unit() -> None:
    for metric in metrics.METRICS.values():
        assert metric.unit and metric.summary and "\n" not in metric.summary, metric.id
        assert metric.direction in ("higher is better", "lower is better")
    assert metrics.meaning("p99") == metrics.P99.summary
    assert metrics.meaning("nosuch") == metrics.UNKNOWN


def test_the_results_schema_describes_every_metric_in_the_registrys_words() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    samples = schema["properties"]["cells"]["items"]["properties"]["trials"]["items"]["properties"]["samples"]
    expected = metrics.schema_properties()
    assert samples["properties"] == expected, (
        "the schema's sample descriptions differ from bench_runner/results/metrics.py; replace them with:\n"
        + json.dumps(expected, indent=1))
    assert samples["additionalProperties"] == {"type": "number"}  # older and newer metrics still load


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench_runner", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def test_list_metrics_names_each_with_unit_direction_and_meaning() -> None:
    text = _cli("list", "--metrics")
    assert text.returncode == 0, text.stderr
    for metric in metrics.METRICS.values():
        line = next(line for line in text.stdout.splitlines() if line.split()[:1] == [metric.id])
        assert f"[{metric.unit}, {metric.direction}]" in line and metric.summary in line
    data = json.loads(_cli("list", "--metrics", "--json").stdout)["metrics"]
    assert list(data) == list(metrics.METRICS)
    assert data["jitter_ms"] == {"unit": "ms", "higher_is_better": False, "meaning": metrics.JITTER.summary,
                                 "workloads": ["udp-stream"]}
    assert "tcp-crr" in data["p50"]["workloads"] and "tcp-rr" in data["p50"]["workloads"]
