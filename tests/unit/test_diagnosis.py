"""Findings for slow throughput trials: where along the path the data stopped, named from the
evidence a trial recorded (the container's interface counters, each end's TCP info)."""

from __future__ import annotations

from bench_runner.analysis.diagnosis import SLOW, findings
from bench_runner.workloads import sweeps
from bench_runner.methods import METHODS
from tests.unit.synthetic import document, normal

PORT = 20001


def _sock(port: int, peer_port: int, **info: object) -> dict:
    return {"state": "ESTAB", "recv_q": 0, "send_q": 0, "address": "198.51.100.1", "port": port,
            "peer_address": "198.51.100.2", "peer_port": peer_port, "bytes_acked": 10_000_000, **info}


def _evidence(*, tx_dropped: int = 0, container_retrans: int = 0, helper_retrans: int = 0) -> dict:
    control = _sock(5201, 40000, bytes_acked=300)  # iperf3's control connection: not the data
    return {"sampled_at_s": 2.5,
            "container_link": {"eth0": {"ifname": "eth0", "rx_packets": 900, "rx_bytes": 1, "rx_errors": 0,
                                        "rx_dropped": 0, "tx_packets": 1800, "tx_bytes": 1, "tx_errors": 0,
                                        "tx_dropped": tx_dropped}},
            "sockets": {"client": [_sock(41000, PORT), _sock(41001, PORT, bytes_acked=10)],
                        "server host": [_sock(PORT, 41000, retrans_total=helper_retrans, cwnd=10)],
                        "container": [control, _sock(5201, 40001, retrans_total=container_retrans, cwnd=2,
                                                     rtt_ms=0.9)]}}


def _run(evidence: dict, *, moved: float = 0.05):  # type: ignore[no-untyped-def]
    doc = document({("tcp-stream-reverse", "remote", "host"): normal(12, 0.2, 6, 1),
                    ("tcp-stream-reverse", "remote", "pasta"): [moved] * 6,
                    ("tcp-stream", "remote", "pasta"): [5.0] * 6})
    for cell in doc.cells:
        for trial in cell.trials:
            trial.observations["port"] = PORT
            if cell.method == "pasta":
                trial.observations["diagnosis"] = evidence
    return findings(doc)


def test_drops_at_the_containers_tap_are_named_first() -> None:
    found = _run(_evidence(tx_dropped=450, container_retrans=56))
    assert len(found) == 6 and {f.cell for f in found} == {"tcp-stream-reverse/remote/pasta"}
    first = found[0]
    assert "dropped at the container's tap (450 frames the container sent to its helper)" in first.where
    assert any("eth0 sent 1800 frames (dropped 450" in line for line in first.evidence)
    assert "0.05 Gbit/s against host's 12" in first.text()


def test_retransmits_between_the_container_and_the_helper() -> None:
    [first, *_] = _run(_evidence(container_retrans=56))
    assert "the container's sending socket retransmitted 56 segments and the helper's connection none" in first.where
    # the data connection, not iperf3's control connection on the same port
    assert any(line.startswith("the container's sending socket: retransmitted 56, cwnd 2, rtt ms 0.9")
               for line in first.evidence)


def test_retransmits_on_the_way_to_the_client() -> None:
    [first, *_] = _run(_evidence(helper_retrans=30))
    assert "the helper's socket to the client retransmitted 30 segments" in first.where


def test_only_trials_below_a_tenth_of_host_get_a_finding() -> None:
    assert _run(_evidence(tx_dropped=1), moved=12 * SLOW * 1.5) == []
    assert len(_run(_evidence(tx_dropped=1), moved=12 * SLOW * 0.5)) == 6


def test_the_sweeps_of_the_link_and_the_tap() -> None:
    link, queue = sweeps.SWEEPS["link_mtu"], sweeps.SWEEPS["txqueuelen"]
    assert sweeps.variant_id("tcp-stream-reverse", {"link_mtu": 1500, "txqueuelen": 10000}) == \
        "tcp-stream-reverse+linkmtu1500+txq10000"
    assert sweeps.split("tcp-stream-reverse+linkmtu65520+txq1000") == \
        ("tcp-stream-reverse", {"link_mtu": 65520, "txqueuelen": 1000})
    assert sweeps.split("tcp-stream+mtu1500") == ("tcp-stream", {"mtu": 1500})
    assert link.parse("1500,65520") == (1500, 65520)
    from bench_runner.workloads import WORKLOADS
    assert link.why_not(WORKLOADS["tcp-stream"], "loopback") is not None
    assert link.why_not(WORKLOADS["tcp-stream-outbound"], "remote") is None
    assert queue.why_not(WORKLOADS["tcp-stream-outbound"], "remote") is not None
    stream = WORKLOADS["tcp-stream-reverse"]
    assert sweeps.why_not({"txqueuelen": 1000}, stream, "remote", METHODS["pasta"]) is None
    assert sweeps.why_not({"txqueuelen": 1000}, stream, "remote", METHODS["slirp4netns-slirp4netns"]) is None
    # methods without a tap are measured unchanged beside them: the reference a slow trial is held against
    for method in ("host", "bridge", "socket-activation-user"):
        assert sweeps.why_not({"txqueuelen": 1000}, stream, "remote", METHODS[method]) is None
        assert METHODS[method].no_tap


def test_the_tap_queue_is_checked_where_there_is_a_tap_and_said_not_to_apply_elsewhere() -> None:
    from bench_runner.errors import MeasurementError
    from bench_runner.results.document import Trial
    from bench_runner.run.matrix import Cell
    from bench_runner.run.observers import Observers
    from bench_runner.workloads import TrialSettings

    settings = TrialSettings(duration_s=1, omit_s=0, sweep=(("txqueuelen", 5000),))

    def checked(method: str, txqlens: list[int]) -> Trial:
        trial = Trial(0, 0, False, "now", 0.0, "ok", observations={
            "container_links": {"interfaces": [{"name": "tap0", "mtu": 65520, "txqlen": q} for q in txqlens]}})
        Observers().check_swept(Cell("tcp-stream-reverse+txq5000", "remote", method, "host"), settings, trial)
        return trial

    assert checked("pasta", [5000]).observations["container_txqueuelen"] == {"asked": 5000, "seen": [5000]}
    host = checked("host", []).observations["container_txqueuelen"]
    assert host["applies"] is False and "no tap" in host["why"]
    import pytest
    with pytest.raises(MeasurementError, match="--container-txqueuelen 5000 asked, but the container's interfaces have 1000"):
        checked("pasta", [1000])


def test_a_cell_is_summed_up_in_one_line() -> None:
    from bench_runner.analysis.diagnosis import by_cell

    doc = document({("tcp-stream-reverse", "remote", "host"): normal(12, 0.2, 6, 1),
                    ("tcp-stream-reverse", "remote", "pasta"): [0.05] * 6})
    for cell in doc.cells:
        for i, trial in enumerate(cell.trials):
            trial.observations["port"] = PORT
            trial.observations["diagnosis"] = _evidence(tx_dropped=100 + i if i < 4 else 0, container_retrans=9)
    [summary] = by_cell(doc)
    assert (summary.slow, summary.trials) == (6, 6)
    assert summary.first.kind == "tap drops" and summary.line().startswith(
        "tcp-stream-reverse/remote/pasta: 6 of 6 trials moved less than a tenth of host's: frames were dropped")


def _with_cpu(cpu_s: float, evidence: dict) -> list:
    doc = document({("tcp-stream-reverse", "remote", "host"): normal(12, 0.2, 6, 1),
                    ("tcp-stream-reverse", "remote", "pasta"): [0.05] * 6})
    for cell in doc.cells:
        for trial in cell.trials:
            trial.observations["port"] = PORT
            if cell.method == "pasta":
                trial.observations.update(diagnosis=evidence, helper_cpu_s=cpu_s)
    return findings(doc)


def test_a_busy_helper_is_the_limit_and_an_idle_one_means_the_sender_stopped() -> None:
    evidence = {**_evidence(), "client_run_s": 4.0}
    [busy, *_] = _with_cpu(3.8, evidence)
    assert busy.kind == "helper CPU" and "busy 95% of one core" in busy.where
    assert "helper CPU: 3.8 s over the 4 s client run (95% of one core)" in busy.evidence
    [idle, *_] = _with_cpu(0.2, evidence)
    assert idle.kind == "idle" and "the sender stopped sending" in idle.where and idle.helper_cpu_share == 0.05
    # loss found on a hop is named first, whatever the CPU
    [lossy, *_] = _with_cpu(3.8, {**_evidence(tx_dropped=3), "client_run_s": 4.0})
    assert lossy.kind == "tap drops"


def test_counters_of_a_container_that_ended_with_its_client_are_taken_halfway(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A one-off server ends with its client and its namespace with it: the counters read
    halfway are the last there are, and the record says what span they cover."""
    from bench_runner.errors import MeasurementError
    from bench_runner.parsers.iproute import LinkCounters
    from bench_runner.run import diagnosis

    readings = iter([{"tap0": LinkCounters("tap0", 1, 1, 0, 0, 10, 10, 0, 0)},
                     {"tap0": LinkCounters("tap0", 5, 5, 0, 0, 90, 90, 0, 7)}])

    def counters(netns: str):  # type: ignore[no-untyped-def]
        try:
            return next(readings)
        except StopIteration:
            raise MeasurementError("nsenter: cannot open /proc/1/ns/net") from None

    monkeypatch.setattr(diagnosis, "link_counters", counters)
    monkeypatch.setattr(diagnosis, "connections", lambda netns, port: [])
    watch = diagnosis.ThroughputDiagnosis("/proc/1/ns/net", {"container": ("/proc/1/ns/net", 5201)}, 0.0, 4.0)
    watch.start()
    watch._timer.join(5)  # type: ignore[union-attr]
    record = watch.finish()
    assert record["container_link"]["tap0"]["tx_packets"] == 80 and record["container_link"]["tap0"]["tx_dropped"] == 7
    assert record["container_link_span"].startswith("the first 0 s")
    assert "container_link_error" not in record


def _lab(rx_dropped: int) -> dict:
    zero = {"rx_packets": 10, "rx_bytes": 1, "rx_errors": 0, "rx_dropped": 0, "tx_packets": 10, "tx_bytes": 1,
            "tx_errors": 0, "tx_dropped": 0}
    return {"client": {"nbc": {"ifname": "nbc", **zero, "rx_dropped": rx_dropped}}, "server host": {"nbs": {
        "ifname": "nbs", **zero}}}


def test_retransmits_past_the_helper_with_and_without_a_dropped_frame() -> None:
    [dropped, *_] = _run({**_evidence(helper_retrans=30), "lab_links": _lab(rx_dropped=12)})
    assert "retransmitted 30 segments and the lab links dropped 12 frames" in dropped.where
    assert any(line.startswith("lab links: client nbc dropped 12 received") for line in dropped.evidence)
    [clean, *_] = _run({**_evidence(helper_retrans=30), "lab_links": _lab(rx_dropped=0)})
    assert clean.kind == "retransmits without a drop"
    assert "yet no interface on the way (the container's, the lab link's ends) counted a dropped frame" in clean.where
