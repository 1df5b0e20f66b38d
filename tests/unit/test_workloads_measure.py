"""Workload drivers: server commands, and measure() on output recorded in the lab."""

from __future__ import annotations

import json

import pytest

from bench_runner.errors import MeasurementError
from bench_runner.run.matrix import WORKLOADS
from bench_runner.workloads.definition import UDP_STREAM_RATE
from bench_runner.parsers import ParseError
from bench_runner.providers.base import WORKERS, ServerExit
from bench_runner.workloads import DRIVERS, TrialSettings
from bench_runner.workloads.base import OutboundDriver
from tests.conftest import read_data


def server_exit(name: str, code: int = 0) -> ServerExit:
    return ServerExit(code, read_data(name), "")


def test_every_workload_has_a_driver_and_every_driver_a_workload() -> None:
    assert set(DRIVERS) == set(WORKLOADS)
    for workload_id, driver in DRIVERS.items():
        assert driver.spec is WORKLOADS[workload_id]


@pytest.mark.parametrize("workload, protocols", [
    ("tcp-rr", ("tcp",)), ("tcp-crr", ("tcp",)), ("echo-stream", ("tcp",)), ("udp-rr", ("udp",)),
])
def test_echo_workloads_run_the_same_service_command_under_every_method(workload: str, protocols: tuple[str, ...]) -> None:
    spec = DRIVERS[workload].server(20123)
    assert spec.argv[:3] == ("/usr/bin/python3", "-I", f"{WORKERS}/echo_server.py")
    assert spec.command("/w")[2] == "/w/echo_server.py"
    assert spec.protocols == protocols and spec.port == 20123
    assert "--protocols" in spec.argv and spec.argv[spec.argv.index("--protocols") + 1] == ",".join(protocols)


def test_udp_stream_publishes_udp_but_is_ready_on_tcp() -> None:
    spec = DRIVERS["udp-stream"].server(20123)
    assert spec.protocols == ("tcp", "udp")
    assert spec.listen_protocols == ("tcp",)


def test_tcp_rr_measure_gives_percentiles_and_the_peer() -> None:
    measurement = DRIVERS["tcp-rr"].measure(read_data("echo-client-tcp-rr-host.json"),
                                            server_exit("echo-server-tcp-rr-host.json"))
    client = json.loads(read_data("echo-client-tcp-rr-host.json"))
    # a client from before --clients: its percentiles, and no concurrency it did not report
    assert measurement.samples == {"p50": client["latency_us"]["p50"], "p90": client["latency_us"]["p90"],
                                   "p99": client["latency_us"]["p99"]}
    assert "clients" not in measurement.observations
    assert measurement.observations["peer_address"] == "198.51.100.2"
    assert measurement.observations["server_listen"]["source"] == "bound"  # type: ignore[index]
    assert measurement.bytes_moved is None


@pytest.mark.parametrize("workload", ["tcp-rr", "udp-rr", "tcp-crr"])
@pytest.mark.parametrize("clients", [1, 8])
def test_round_trips_give_every_declared_metric_and_the_clients_that_ran(workload: str, clients: int) -> None:
    client_file = f"echo-client-{workload}-clients{clients}-loopback.json"
    measurement = DRIVERS[workload].measure(read_data(client_file),
                                            server_exit(f"echo-server-{workload}-clients{clients}-loopback.json"))
    client = json.loads(read_data(client_file))
    assert {m.id for m in WORKLOADS[workload].metrics()} == set(measurement.samples)
    assert measurement.samples["transactions_per_s"] == client["transactions_per_s"]
    assert measurement.samples["p50"] == client["latency_us"]["p50"]
    assert measurement.observations["clients"] == clients  # what check_swept compares with --streams
    assert measurement.observations["concurrent_s"] == client["concurrent_s"]
    assert measurement.observations["client_cpu_s"] == round(client["cpu_s"], 3)
    assert measurement.observations["server_cpu_s"] > 0  # type: ignore[operator]
    if workload == "tcp-rr":
        assert measurement.observations["server_concurrent_peak"] == clients
    if workload == "tcp-crr":
        assert measurement.samples["transaction_us"] == client["transaction_us"]


def test_clients_that_did_not_measure_at_once_fail_the_measurement() -> None:
    data = json.loads(read_data("echo-client-udp-rr-clients8-loopback.json"))
    data["concurrent_s"] = 0.2  # of 1 s: one after another, say
    with pytest.raises(MeasurementError, match="8 echo clients measured at the same time for only 0.20 s of 1 s"):
        DRIVERS["udp-rr"].measure(json.dumps(data), server_exit("echo-server-udp-rr-clients8-loopback.json"))


def test_tcp_clients_the_server_did_not_serve_at_once_fail_the_measurement() -> None:
    data = json.loads(read_data("echo-server-tcp-rr-clients8-loopback.json"))
    data["tcp"]["concurrent_peak"] = 1
    with pytest.raises(MeasurementError, match="8 echo clients measured, but the server served at most 1 connections"):
        DRIVERS["tcp-rr"].measure(read_data("echo-client-tcp-rr-clients8-loopback.json"), ServerExit(0, json.dumps(data), ""))


def test_tcp_crr_measure_gives_time_per_transaction_and_percentiles() -> None:
    measurement = DRIVERS["tcp-crr"].measure(read_data("echo-client-tcp-crr-host.json"),
                                             server_exit("echo-server-tcp-crr-host.json"))
    assert measurement.samples["transaction_us"] > 0
    assert measurement.samples["p50"] > 0


def test_udp_rr_measure_uses_the_udp_peer() -> None:
    measurement = DRIVERS["udp-rr"].measure(read_data("echo-client-udp-rr-pasta.json"),
                                            server_exit("echo-server-udp-rr-pasta.json"))
    assert measurement.observations["peer_address"] == "198.51.100.2"
    assert measurement.observations["udp_lost"] == 0
    assert measurement.samples["p50"] <= measurement.samples["p99"]


def test_echo_stream_measure_gives_gbits_and_bytes_moved_for_cpu_per_gb() -> None:
    client = json.loads(read_data("echo-client-echo-stream-host.json"))
    measurement = DRIVERS["echo-stream"].measure(read_data("echo-client-echo-stream-host.json"),
                                                 server_exit("echo-server-echo-stream-host.json"))
    assert measurement.samples == {"throughput": client["gbits"]}
    assert measurement.bytes_moved == client["bytes_total"]


@pytest.mark.parametrize("workload, client_file, server_file, field", [
    ("tcp-rr", "echo-client-tcp-rr-host.json", "echo-server-tcp-rr-host.json", ("tcp", "echo_messages")),
    ("tcp-crr", "echo-client-tcp-crr-host.json", "echo-server-tcp-crr-host.json", ("tcp", "crr_transactions")),
    ("echo-stream", "echo-client-echo-stream-host.json", "echo-server-echo-stream-host.json", ("tcp", "sink_bytes")),
    ("udp-rr", "echo-client-udp-rr-host.json", "echo-server-udp-rr-host.json", ("udp", "datagrams")),
])
def test_a_server_that_served_something_else_fails_the_measurement(workload: str, client_file: str, server_file: str,
                                                                   field: tuple[str, str]) -> None:
    data = json.loads(read_data(server_file))
    data[field[0]][field[1]] = data[field[0]][field[1]] // 2
    with pytest.raises(MeasurementError, match="talked to something else"):
        DRIVERS[workload].measure(read_data(client_file), ServerExit(0, json.dumps(data), ""))


def test_a_server_that_failed_fails_the_measurement() -> None:
    with pytest.raises(MeasurementError, match="exited with 1"):
        DRIVERS["tcp-rr"].measure(read_data("echo-client-tcp-rr-host.json"),
                                  server_exit("echo-server-tcp-rr-host.json", code=1))


def test_client_output_of_another_mode_is_refused() -> None:
    with pytest.raises(ParseError, match="ran tcp-rr, expected tcp-crr"):
        DRIVERS["tcp-crr"].measure(read_data("echo-client-tcp-rr-host.json"),
                                   server_exit("echo-server-tcp-rr-host.json"))


def test_iperf3_reverse_and_parallel_measure_on_recorded_output() -> None:
    reverse = DRIVERS["tcp-stream-reverse"].measure(read_data("iperf3-client-tcp-reverse.json"),
                                                    server_exit("iperf3-server-tcp-reverse.json"))
    parallel = DRIVERS["tcp-stream-parallel"].measure(read_data("iperf3-client-tcp-parallel.json"),
                                                      server_exit("iperf3-server-tcp-parallel.json"))
    for measurement in (reverse, parallel):
        assert measurement.samples["throughput"] > 0
        assert measurement.bytes_moved and measurement.bytes_moved > 0
        assert measurement.observations["peer_address"]


def test_iperf3_variant_that_ran_the_wrong_test_is_refused() -> None:
    with pytest.raises(ParseError, match="ran forward"):
        DRIVERS["tcp-stream-reverse"].measure(read_data("iperf3-client-tcp.json"), server_exit("iperf3-server-tcp.json"))
    with pytest.raises(ParseError, match="ran 1 stream"):
        DRIVERS["tcp-stream-parallel"].measure(read_data("iperf3-client-tcp.json"), server_exit("iperf3-server-tcp.json"))
    with pytest.raises(ParseError, match="did not run a UDP test"):
        DRIVERS["udp-stream"].measure(read_data("iperf3-client-tcp.json"), server_exit("iperf3-server-tcp.json"))


def test_udp_stream_measure_gives_received_rate_loss_and_jitter() -> None:
    client = json.loads(read_data("iperf3-client-udp.json"))
    measurement = DRIVERS["udp-stream"].measure(read_data("iperf3-client-udp.json"), server_exit("iperf3-server-udp.json"))
    assert measurement.samples["throughput"] == pytest.approx(client["end"]["sum_received"]["bits_per_second"] / 1e9)
    assert measurement.samples["lost_percent"] == pytest.approx(client["end"]["sum"]["lost_percent"])
    assert measurement.samples["jitter_ms"] == pytest.approx(client["end"]["sum"]["jitter_ms"])
    assert {m.id for m in WORKLOADS["udp-stream"].metrics()} - set(measurement.samples) == {"helper_cpu_s_per_gb"}


def test_udp_stream_client_asks_for_the_declared_rate() -> None:
    flags = DRIVERS["udp-stream"].client_flags  # type: ignore[attr-defined]
    assert flags[flags.index("--bandwidth") + 1] == str(UDP_STREAM_RATE)


@pytest.mark.parametrize("workload, reverse", [("tcp-stream-outbound", False), ("tcp-stream-outbound-reverse", True)])
def test_outbound_clients_run_iperf3_in_the_container_with_or_without_reverse(workload: str, reverse: bool) -> None:
    driver = DRIVERS[workload]
    assert isinstance(driver, OutboundDriver) and driver.direction == "outbound"
    assert WORKLOADS[workload].outbound and WORKLOADS[workload].placements == ("remote",)
    spec = driver.container_client("198.51.100.2", 20123, TrialSettings(duration_s=7, omit_s=2))
    argv = list(spec.argv)
    assert argv[0] == "iperf3" and argv[argv.index("--client") + 1] == "198.51.100.2"
    assert argv[argv.index("--port") + 1] == "20123"
    assert argv[argv.index("--time") + 1] == "7" and argv[argv.index("--omit") + 1] == "2"
    assert "--json" in argv
    assert ("--reverse" in argv) is reverse
    assert not spec.publish and not spec.wait_listening  # a client: nothing to publish or wait for
    assert driver.remote_server(20123) == ["iperf3", "-s", "-1", "--json", "-p", "20123"]


def test_a_download_is_measured_at_the_container_with_the_remote_senders_retransmits() -> None:
    client = json.loads(read_data("iperf3-client-tcp-outbound-reverse.json"))
    server = json.loads(read_data("iperf3-server-tcp-outbound-reverse.json"))
    measurement = DRIVERS["tcp-stream-outbound-reverse"].measure(
        read_data("iperf3-client-tcp-outbound-reverse.json"), server_exit("iperf3-server-tcp-outbound-reverse.json"))
    # received at the container, the receiver; not the remote server's sending rate
    assert measurement.samples["throughput"] == pytest.approx(client["end"]["sum_received"]["bits_per_second"] / 1e9)
    assert client["end"]["sum_received"]["bits_per_second"] != client["end"]["sum_sent"]["bits_per_second"]
    # the sender is the remote server: its own count, as the client reports it
    assert measurement.samples["retransmits"] == server["end"]["sum_sent"]["retransmits"] > 0
    # bytes the container received, the omitted warm-up included (the helper carried those too)
    assert measurement.bytes_moved == sum(i["sum"]["bytes"] for i in client["intervals"])
    assert any(i["sum"]["omitted"] for i in client["intervals"])
    assert measurement.observations == {"remote_saw": server["start"]["accepted_connection"]["host"],
                                        "container_address": client["start"]["connected"][0]["local_host"],
                                        "streams": 1}
    assert {m.id for m in WORKLOADS["tcp-stream-outbound-reverse"].metrics()} - set(measurement.samples) == {
        "helper_cpu_s_per_gb"}  # added by the trial runner where a helper carries it


def test_an_upload_counts_the_bytes_it_sent_for_cpu_per_gb() -> None:
    client = json.loads(read_data("iperf3-client-tcp.json"))
    measurement = DRIVERS["tcp-stream-outbound"].measure(read_data("iperf3-client-tcp.json"),
                                                         server_exit("iperf3-server-tcp.json"))
    assert measurement.bytes_moved == sum(i["sum"]["bytes"] for i in client["intervals"]) > 0
    assert measurement.samples["throughput"] == pytest.approx(client["end"]["sum_received"]["bits_per_second"] / 1e9)


def test_a_download_that_ran_as_an_upload_is_refused() -> None:
    with pytest.raises(ParseError, match="ran forward, but tcp-stream-outbound-reverse asked for -R"):
        DRIVERS["tcp-stream-outbound-reverse"].measure(read_data("iperf3-client-tcp.json"),
                                                       server_exit("iperf3-server-tcp.json"))
