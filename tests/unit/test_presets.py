"""Presets fill in what the command line leaves out, and nothing it gave; list shows each
with its size and time estimate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench_runner.run import presets
from bench_runner.commands import run
from bench_runner.errors import UsageError

REPO = Path(__file__).resolve().parents[2]


def _args(*argv: str):  # type: ignore[no-untyped-def]
    parser = run.argparse.ArgumentParser()
    run.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_a_preset_fills_in_workloads_sweeps_and_placements() -> None:
    args = _args("--preset", "mtu")
    built = run.selected_matrix(args)
    assert {c.workload for c in built.cells} == {f"{w}+mtu{m}" for w in ("tcp-stream", "tcp-stream-outbound-reverse")
                                                 for m in (1500, 4000, 16384, 65520)}
    assert {c.placement for c in built.cells} == {"remote"}


def test_what_the_command_line_gives_wins() -> None:
    args = _args("--preset", "mtu", "--workloads", "tcp-stream", "--container-mtu", "9000", "--placements", "loopback")
    built = run.selected_matrix(args)
    assert {(c.workload, c.placement) for c in built.cells} == {("tcp-stream+mtu9000", "loopback")}


def test_passt_perf_is_the_mtu_by_datagram_size_grid_at_10_gbits() -> None:
    request = run.request_from_args(_args("--preset", "passt-perf"))
    assert request.swept == {"mtu": (1500, 4000, 16384, 65520), "size": (1472, 3972, 16356, 65492),
                             "udp_rate": (10000,)}
    assert len({c.workload for c in request.matrix.cells}) == 16


BOTH_WAYS = ("tcp-stream", "tcp-stream-reverse", "tcp-stream-outbound-reverse", "tcp-rr")


def test_lan_is_a_fifth_of_a_millisecond_and_a_gigabit_both_ways() -> None:
    request = run.request_from_args(_args("--preset", "lan"))
    assert request.swept == {"delay": (100,), "rate": (1000,)}  # 0.1 ms each way
    assert {c.workload for c in request.matrix.cells} == {f"{w}+rtt0.2ms+bw1000M" for w in BOTH_WAYS}
    assert {c.placement for c in request.matrix.cells} == {"remote"}


def test_wan_is_20_and_80_ms_with_a_tenth_of_a_percent_lost_both_ways() -> None:
    request = run.request_from_args(_args("--preset", "wan"))
    assert request.swept == {"delay": (10_000, 40_000), "loss": (100,)}
    assert {c.workload for c in request.matrix.cells} == {f"{w}+rtt{rtt}ms+loss0.1pct" for w in BOTH_WAYS
                                                          for rtt in (20, 80)}


def test_rtt_keeps_its_round_trips_now_that_the_delay_is_added_each_way() -> None:
    request = run.request_from_args(_args("--preset", "rtt"))
    assert {c.workload for c in request.matrix.cells} == {f"{w}+rtt{rtt}ms" for w in ("tcp-stream", "tcp-rr")
                                                          for rtt in (0, 10, 50)}


def test_an_unknown_preset_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown preset 'nosuch'; valid: mtu, concurrency, rtt, lan, wan, passt-perf"):
        run.selected_matrix(_args("--preset", "nosuch"))


def test_list_shows_every_preset_with_its_estimate() -> None:
    result = subprocess.run([sys.executable, "-m", "bench_runner", "list", "--presets", "--format", "json"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = {p["name"]: p for p in json.loads(result.stdout)["presets"]}
    assert list(found) == list(presets.PRESETS)
    assert found["concurrency"]["flags"].startswith("--workloads tcp-stream,tcp-stream-outbound-reverse,tcp-rr --streams")
    expected, most = found["mtu"]["estimate_s"]
    assert found["mtu"]["trials"] > 0 and 0 < expected <= most
