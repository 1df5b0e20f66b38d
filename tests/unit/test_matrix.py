"""The declarative matrix: ids, validation, applicability."""

from __future__ import annotations

import pytest

from bench_runner.run import matrix
from bench_runner.results import metrics
from bench_runner.errors import UsageError


def test_ids_parse_in_registry_order_and_deduplicate() -> None:
    assert matrix.parse_ids(["pasta,host", "host"], matrix.METHODS, "method") == ("host", "pasta")
    assert matrix.parse_ids("all", matrix.PLACEMENTS, "placement") == tuple(matrix.PLACEMENTS)
    assert matrix.parse_ids(None, matrix.PLACEMENTS, "placement") == tuple(matrix.PLACEMENTS)


def test_unknown_id_names_the_valid_choices() -> None:
    with pytest.raises(UsageError) as info:
        matrix.parse_ids("pasta,slirp", matrix.METHODS, "method")
    message = str(info.value)
    assert "unknown method 'slirp'" in message
    for method in matrix.METHODS:
        assert method in message


def test_empty_selection_is_an_error() -> None:
    with pytest.raises(UsageError, match="no workload given"):
        matrix.parse_ids(" , ", matrix.WORKLOADS, "workload")


def test_build_crosses_everything_that_applies() -> None:
    built = matrix.build(("host", "pasta"), ("tcp-stream",), ("remote", "loopback"))
    assert len(built.cells) == 4
    assert built.not_applicable == ()
    assert built.methods() == ["host", "pasta"]


def test_method_a_workload_does_not_run_under_is_not_applicable_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    workload = matrix.Workload("iperf-x", "test", metrics.THROUGHPUT, inherited_socket=False,
                               no_inherited_socket="needs a socket of its own")
    monkeypatch.setitem(matrix.WORKLOADS, "iperf-x", workload)
    built = matrix.build(("host", "socket-activation-user"), ("iperf-x",), ("remote",))
    assert [c.method for c in built.cells] == ["host"]
    assert built.not_applicable == ((matrix.Cell("iperf-x", "remote", "socket-activation-user"),
                                     "needs a socket of its own"),)


def test_every_workload_declares_valid_placements_and_metrics() -> None:
    for workload in matrix.WORKLOADS.values():
        assert set(workload.placements) <= set(matrix.PLACEMENTS)
        assert workload.protocol in ("tcp", "udp")
        for metric in workload.metrics():
            assert isinstance(metric.higher_is_better, bool) and metric.unit
