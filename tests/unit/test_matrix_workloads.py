"""The workloads of issue 3 in the matrix: ids, metrics and directions, applicability."""

from __future__ import annotations

import pytest

from bench_runner.run import matrix

NEW = ("tcp-stream-reverse", "tcp-stream-parallel", "udp-stream", "tcp-rr", "udp-rr", "tcp-crr", "echo-stream")


def test_the_fixed_ids_are_listed() -> None:
    for workload in NEW:
        assert workload in matrix.WORKLOADS


@pytest.mark.parametrize("workload", ["tcp-rr", "udp-rr"])
def test_round_trip_workloads_report_percentiles_in_microseconds_lower_is_better(workload: str) -> None:
    spec = matrix.WORKLOADS[workload]
    assert spec.metric.id == "p50"
    assert [m.id for m in spec.extra_metrics] == ["p90", "p99", "transactions_per_s"]
    assert all(m.unit == "us" and not m.higher_is_better for m in spec.metrics()[:3])
    # and how many round trips all its clients made together, higher is better
    assert (spec.metrics()[3].unit, spec.metrics()[3].higher_is_better) == ("transactions/s", True)


def test_crr_reports_microseconds_per_transaction() -> None:
    spec = matrix.WORKLOADS["tcp-crr"]
    assert (spec.metric.id, spec.metric.unit, spec.metric.higher_is_better) == ("transaction_us", "us", False)


@pytest.mark.parametrize("workload", ["echo-stream", "tcp-stream-reverse", "tcp-stream-parallel", "udp-stream",
                                      "tcp-stream-outbound", "tcp-stream-outbound-reverse"])
def test_streams_report_gbits_and_the_helpers_cpu_per_gb(workload: str) -> None:
    spec = matrix.WORKLOADS[workload]
    assert (spec.metric.id, spec.metric.unit, spec.metric.higher_is_better) == ("throughput", "Gbit/s", True)
    assert "helper_cpu_s_per_gb" in [m.id for m in spec.extra_metrics]


def test_udp_stream_reports_loss_and_jitter_lower_is_better() -> None:
    extra = {m.id: m for m in matrix.WORKLOADS["udp-stream"].extra_metrics}
    assert not extra["lost_percent"].higher_is_better and not extra["jitter_ms"].higher_is_better


def test_metric_ids_are_unique_within_each_workload() -> None:
    for workload in matrix.WORKLOADS.values():
        ids = [m.id for m in workload.metrics()]
        assert len(ids) == len(set(ids)), workload.id


@pytest.mark.parametrize("workload", NEW)
def test_every_new_workload_runs_under_every_published_port_method_and_both_placements(workload: str) -> None:
    port_methods = ("host", "pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns", "bridge")
    built = matrix.build(port_methods, (workload,), tuple(matrix.PLACEMENTS))
    skipped = {(c.method, c.placement) for c, _ in built.not_applicable}
    assert len(built.cells) + len(skipped) == len(port_methods) * len(matrix.PLACEMENTS)
    # the only exception: UDP from the server host's loopback through slirp4netns's port handler
    assert skipped == ({("slirp4netns-slirp4netns", "loopback")} if workload.startswith("udp") else set())


def test_a_declared_method_and_placement_pair_is_not_applicable_with_its_reason() -> None:
    built = matrix.build(("host", "slirp4netns-slirp4netns"), ("udp-rr",), ("remote", "loopback"))
    assert matrix.Cell("udp-rr", "remote", "slirp4netns-slirp4netns") in built.cells
    assert matrix.Cell("udp-rr", "loopback", "host") in built.cells
    ((cell, reason),) = built.not_applicable
    assert cell == matrix.Cell("udp-rr", "loopback", "slirp4netns-slirp4netns")
    assert "--disable-host-loopback" in reason


@pytest.mark.parametrize("workload", ["tcp-stream", "tcp-stream-reverse", "tcp-stream-parallel", "udp-stream"])
def test_iperf3_workloads_say_why_socket_activation_does_not_apply(workload: str, monkeypatch: pytest.MonkeyPatch) -> None:
    built = matrix.build(("host", "socket-activation-user"), (workload,), ("remote",))
    ((cell, reason),) = built.not_applicable
    assert cell.method == "socket-activation-user"
    assert "inherited listening socket" in reason


OUTBOUND = ("tcp-stream-outbound", "tcp-stream-outbound-reverse")


@pytest.mark.parametrize("workload", OUTBOUND)
def test_outbound_workloads_run_remote_under_every_method_that_can_connect_out(workload: str) -> None:
    spec = matrix.WORKLOADS[workload]
    assert spec.outbound and "retransmits" in [m.id for m in spec.extra_metrics]
    built = matrix.build(tuple(matrix.METHODS), (workload,), tuple(matrix.PLACEMENTS))
    measured = {c.method for c in built.cells}
    assert {c.placement for c in built.cells} == {"remote"}
    assert measured == {m for m, method in matrix.METHODS.items() if method.own_network}
    assert {"host", "pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns", "bridge"} <= measured
    socket_activation = {c.method: why for c, why in built.not_applicable if c.placement == "remote"}
    assert set(socket_activation) == {"socket-activation-user", "socket-activation-system"}
    assert all("cannot connect out" in why for why in socket_activation.values())


def test_the_download_is_in_all_beside_the_upload() -> None:
    chosen = matrix.parse_ids("all", matrix.WORKLOADS, "workload")
    assert set(OUTBOUND) <= set(chosen)
    assert matrix.parse_ids("tcp-stream-outbound-reverse", matrix.WORKLOADS, "workload") == (
        "tcp-stream-outbound-reverse",)


def test_a_workload_is_one_unit_its_driver_declares_it_and_one_registry_lists_it() -> None:
    """A new workload is a driver class with its own ``spec`` in a workload module (plus the
    worker and parser it names) and one line in ``workloads.DRIVERS``; the matrix reads it."""
    from bench_runner.run import matrix
    from bench_runner.workloads import DRIVERS

    assert list(matrix.WORKLOADS) == list(DRIVERS)
    for workload_id, driver in DRIVERS.items():
        assert "spec" in type(driver).__dict__, f"{type(driver).__name__} inherits {workload_id}'s definition"
        assert matrix.WORKLOADS[workload_id] is driver.spec
