"""The declarative matrix: ids, validation, applicability."""

from __future__ import annotations

import pytest

from bench_runner import matrix
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
    workload = matrix.Workload("echo-x", "test", matrix.GBITS, methods=("host",),
                               not_applicable={"pasta": "needs an inherited socket"})
    monkeypatch.setitem(matrix.WORKLOADS, "echo-x", workload)
    built = matrix.build(("host", "pasta"), ("echo-x",), ("remote",))
    assert [c.method for c in built.cells] == ["host"]
    assert built.not_applicable == ((matrix.Cell("echo-x", "remote", "pasta"), "needs an inherited socket"),)


def test_every_workload_declares_a_direction_and_valid_methods() -> None:
    for workload in matrix.WORKLOADS.values():
        assert set(workload.methods) <= set(matrix.METHODS)
        assert set(workload.placements) <= set(matrix.PLACEMENTS)
        for metric in workload.metrics():
            assert isinstance(metric.higher_is_better, bool) and metric.unit


def test_every_method_names_the_listener_each_provider_should_show() -> None:
    for method in matrix.METHODS.values():
        if method.podman_network is not None:
            assert set(method.expected_listener) == {"podman", "bare"}
