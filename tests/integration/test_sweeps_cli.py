"""Sweeps end to end, CI-sized: --container-mtu is the MTU the container's interface has
under each method (bare helpers here, Podman 5 in the trixie stack), --streams is the
streams iperf3 ran and the echo clients that measured at once (--delay, --loss and --rate:
test_paths.py); --udp-rate max is a search whose every probe is recorded, and reported. That nothing is left
behind is checked
after every test (conftest's nothing_left_behind, with leftovers())."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from bench_runner.results import document as results
from tests.integration.conftest import cli

#: Another run holds the host-wide lock (a shared machine): wait for it rather than fail.
BUSY = "another benchmark run is in progress"
BUSY_WAIT_S = 900


def run(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + BUSY_WAIT_S
    while True:
        result = cli("run", "--quick", "--skip-claims", *args, timeout=timeout)
        if BUSY not in result.stderr or time.monotonic() > deadline:
            return result
        time.sleep(20)


def trials_by_cell(path: Path) -> dict[tuple[str, str, str], list[Any]]:
    document = results.load(path)
    return {(c.workload, c.method, c.stack): c.trials for c in document.cells if c.status != "not_applicable"}


def test_the_container_mtu_is_the_one_asked_for_under_each_method(tmp_path: Path) -> None:
    out = tmp_path / "mtu.json"
    result = run("--methods", "host,pasta,slirp4netns-rootlesskit", "--workloads", "tcp-stream",
                 "--placements", "remote", "--container-mtu", "1500,65520", "-o", str(out))
    assert result.returncode == 0, result.stderr
    cells = trials_by_cell(out)
    assert {w for w, _, _ in cells} == {"tcp-stream+mtu1500", "tcp-stream+mtu65520"}
    for (workload, method, _), trials in cells.items():
        mtu = int(workload.rsplit("mtu", 1)[1])
        assert trials and all(t.status == "ok" for t in trials), (workload, method, [t.error for t in trials])
        for trial in trials:
            seen = trial.observations["container_mtu"]
            assert seen["asked"] == mtu
            if method == "host":
                assert seen["applies"] is False, seen  # the server host's own interfaces
            else:
                assert mtu in seen["seen"], (workload, method, seen)
                # and the helper was asked for it (pasta --mtu N, rootlesskit --mtu=N)
                flat = [str(a) for argv in trial.observations["helper_argv"] for a in
                        (argv if isinstance(argv, list) else [argv])]
                assert str(mtu) in " ".join(flat), (method, flat)
    # a 1500-byte container interface under pasta, not pasta's default 65520
    (pasta,) = cells[("tcp-stream+mtu1500", "pasta", "host")]
    assert 65520 not in pasta.observations["container_mtu"]["seen"]


def test_iperf3_runs_the_streams_asked_for_inbound_and_outbound(tmp_path: Path) -> None:
    """--streams is iperf3's -P, and the echo round trips' concurrent clients."""
    out = tmp_path / "streams.json"
    result = run("--methods", "host,pasta", "--workloads", "tcp-stream,tcp-stream-outbound,tcp-rr", "--placements",
                 "remote", "--streams", "1,8", "-o", str(out))
    assert result.returncode == 0, result.stderr
    cells = trials_by_cell(out)
    assert {w for w, _, _ in cells} == {"tcp-stream+P1", "tcp-stream+P8", "tcp-stream-outbound+P1",
                                        "tcp-stream-outbound+P8", "tcp-rr+P1", "tcp-rr+P8"}
    assert {m for _, m, _ in cells} == {"host", "pasta"}
    for (workload, method, _), trials in cells.items():
        streams = int(workload.rsplit("+P", 1)[1])
        for trial in trials:
            assert trial.status == "ok", (workload, method, trial.error)
            if workload.startswith("tcp-rr"):
                # that many clients measured at once, over as many connections the service held at once
                assert trial.observations["clients"] == streams, (workload, method)
                assert trial.observations["server_concurrent_peak"] == streams, (workload, method)
                assert trial.samples["transactions_per_s"] > 0 and trial.samples["p50"] > 0
            else:
                assert trial.observations["streams"] == streams, (workload, method)
                assert trial.samples["throughput"] > 0


def test_podman_5_sets_the_container_mtu_for_pasta_and_a_bridge_network(trixie: str, tmp_path: Path) -> None:
    out = tmp_path / "trixie-mtu.json"
    result = run("--stacks", trixie, "--methods", "pasta,bridge", "--workloads", "tcp-stream", "--placements",
                 "remote", "--container-mtu", "1500", "-o", str(out))
    assert result.returncode == 0, result.stderr
    cells = trials_by_cell(out)
    assert set(cells) == {("tcp-stream+mtu1500", m, trixie) for m in ("host", "pasta", "bridge")}
    (pasta,) = cells[("tcp-stream+mtu1500", "pasta", trixie)]
    (bridge,) = cells[("tcp-stream+mtu1500", "bridge", trixie)]
    for trial in (pasta, bridge):
        assert trial.status == "ok", trial.error
        assert 1500 in trial.observations["container_mtu"]["seen"], trial.observations["container_mtu"]
    podman_run = pasta.observations["helper_argv"][-1]
    assert "--network=pasta:--mtu,1500" in podman_run, podman_run
    create, _ = bridge.observations["helper_argv"]
    assert create[:3] == ["podman", "network", "create"]
    assert create[create.index("--opt") + 1] == "mtu=1500", create
    # pasta's own default would have been 65520: the option is what made it 1500
    assert 65520 not in pasta.observations["container_mtu"]["seen"]


def test_udp_rate_max_records_every_probe_and_reports_the_rate_found(tmp_path: Path) -> None:
    out = tmp_path / "udpmax.json"
    result = run("--methods", "host", "--workloads", "udp-stream", "--placements", "remote", "--udp-rate", "max",
                 "-o", str(out))
    assert result.returncode == 0, result.stderr
    (trial,) = trials_by_cell(out)[("udp-stream+ratemax", "host", "host")]
    assert trial.status == "ok", trial.error
    search = trial.observations["udp_max"]
    probes = search["probes"]
    assert 2 <= len(probes) <= 12 and probes[0]["offered_mbps"] == 1000
    assert all(p["carried"] == (p["lost_percent"] <= 1.0 and not p.get("sent_short")) and p["received_mbps"] > 0
               for p in probes)
    best = max((p for p in probes if p["carried"]), key=lambda p: p["offered_mbps"])
    assert search["max_offered_mbps"] == best["offered_mbps"]
    assert trial.samples["udp_max_offered"] == best["offered_mbps"] / 1000
    assert trial.samples["throughput"] * 1000 == pytest.approx(best["received_mbps"], abs=0.001)
    assert trial.observations["offered_rate_mbps"] == best["offered_mbps"]  # the best probe's own record
    report = cli("report", str(out), "--no-plots", "-o", str(tmp_path / "udpmax.md"))
    assert report.returncode == 0, report.stderr
    text = (tmp_path / "udpmax.md").read_text()
    assert "Probes of the --udp-rate max searches of udp-stream+ratemax / remote" in text
    assert "--udp-rate max" in text.splitlines()[0]  # the reproduce command


def test_the_link_mtu_and_the_tap_queue_are_set_read_back_and_diagnosed(tmp_path: Path) -> None:
    """--link-mtu on both ends of the lab link and --container-txqueuelen on pasta's tap, each
    read back per trial; host is measured beside them unchanged (no tap), and every pasta
    trial carries the evidence a slow one would be diagnosed from."""
    out = tmp_path / "link.json"
    result = run("--methods", "host,pasta", "--workloads", "tcp-stream-reverse", "--placements", "remote",
                 "--link-mtu", "1500,9000", "--container-txqueuelen", "1000,5000", "-o", str(out))
    assert result.returncode == 0, result.stderr
    cells = trials_by_cell(out)
    assert {w for w, _, _ in cells} == {f"tcp-stream-reverse+linkmtu{m}+txq{q}" for m in (1500, 9000)
                                        for q in (1000, 5000)}
    assert {m for _, m, _ in cells} == {"host", "pasta"}
    for (workload, method, _), trials in cells.items():
        mtu, queue = (int(x) for x in workload.replace("tcp-stream-reverse+linkmtu", "").split("+txq"))
        assert trials and all(t.status == "ok" for t in trials), (workload, method, [t.error for t in trials])
        for trial in trials:
            assert trial.observations["lab_link_mtu"] == {"asked": mtu, "server_end": mtu, "client_end": mtu}
            seen = trial.observations["container_txqueuelen"]
            if method == "host":
                assert seen["applies"] is False and "no tap" in seen["why"]
                assert "diagnosis" not in trial.observations
                continue
            assert seen == {"asked": queue, "seen": [queue]}, seen
            evidence = trial.observations["diagnosis"]
            [tap] = evidence["container_link"].values()
            assert tap["tx_packets"] > 0  # the container sent: tcp-stream-reverse
            sockets = evidence["sockets"]
            assert set(sockets) == {"client", "server host", "container"}, sockets
            assert all(isinstance(found, list) and found for found in sockets.values()), sockets
