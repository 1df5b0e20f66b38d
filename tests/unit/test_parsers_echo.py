"""Echo client results and echo server summaries, on output recorded in the lab."""

from __future__ import annotations

import json

import pytest

from bench_runner.parsers import ParseError, echo
from tests.conftest import read_data


def test_tcp_rr_client_gives_ordered_percentiles_and_counts() -> None:
    result = echo.parse_client(read_data("echo-client-tcp-rr-host.json"))
    raw = json.loads(read_data("echo-client-tcp-rr-host.json"))
    assert result.mode == "tcp-rr"
    assert result.latency is not None
    assert result.latency.p50 == raw["latency_us"]["p50"]
    assert result.latency.minimum <= result.latency.p50 <= result.latency.p90 <= result.latency.p99
    assert result.count == raw["count"] and result.warmup_count == raw["warmup_count"]
    assert result.transactions_total == result.count + result.warmup_count
    assert result.local_address == "198.51.100.2"
    assert result.quit == "acknowledged"


def test_crr_client_gives_time_per_transaction() -> None:
    result = echo.parse_client(read_data("echo-client-tcp-crr-host.json"))
    assert result.transaction_us is not None and result.transaction_us > 0
    # the probe transaction before the clock starts is counted for the server's tally
    assert result.transactions_total == 1 + result.count + result.warmup_count  # type: ignore[operator]


def test_udp_client_reports_its_datagram_tally() -> None:
    result = echo.parse_client(read_data("echo-client-udp-rr-host.json"))
    assert set(result.udp) == {"sent", "received", "lost", "stale"}
    assert result.udp["received"] <= result.udp["sent"]


def test_stream_client_gives_bytes_and_rate() -> None:
    result = echo.parse_client(read_data("echo-client-echo-stream-host.json"))
    assert result.mode == "stream" and result.latency is None
    assert result.bytes and result.bytes_total and result.bytes <= result.bytes_total
    assert result.gbits == pytest.approx(result.bytes * 8 / result.seconds / 1e9)  # type: ignore[operator]


def test_client_error_line_is_a_parse_error() -> None:
    line = json.dumps({"client": "netbench-echo", "mode": "tcp-rr", "error": "cannot connect to 198.51.100.1:20001"})
    with pytest.raises(ParseError, match="cannot connect"):
        echo.parse_client(line)


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("Traceback (most recent call last):", "no JSON line"),
    ('{"client": "netbench-echo", "mode": "tcp-rr"', "not valid JSON"),
    ('{"client": "other", "mode": "tcp-rr"}', "not an echo client"),
    ('{"client": "netbench-echo", "mode": "ping"}', "mode 'ping'"),
    ('{"client": "netbench-echo", "mode": "tcp-rr", "size": 64}', "lacks latency_us"),
])
def test_malformed_client_output_is_a_parse_error(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        echo.parse_client(text)


def test_unordered_percentiles_are_rejected() -> None:
    data = json.loads(read_data("echo-client-tcp-rr-host.json"))
    data["latency_us"]["p90"] = data["latency_us"]["p50"] / 2
    with pytest.raises(ParseError, match="not ordered"):
        echo.parse_client(json.dumps(data))


def test_server_summary_says_it_bound_its_own_socket_and_whom_it_saw() -> None:
    summary = echo.parse_server(read_data("echo-server-tcp-rr-host.json"))
    assert summary.listen_source == "bound"
    assert summary.listen_reason == "LISTEN_FDS is not set"
    assert [(s.protocol, s.inherited) for s in summary.sockets] == [("tcp", False)]
    assert summary.peer("tcp") == "198.51.100.2"
    assert summary.tcp_connections == {"echo": 1, "quit": 1}
    assert summary.exit == "quit"
    client = echo.parse_client(read_data("echo-client-tcp-rr-host.json"))
    assert summary.echo_messages == client.transactions_total


def test_server_behind_rootlesskit_saw_loopback_and_ran_as_root_of_its_namespace() -> None:
    summary = echo.parse_server(read_data("echo-server-tcp-rr-slirp4netns-rootlesskit.json"))
    assert summary.peer("tcp") == "127.0.0.1"
    assert summary.uid == 0 and summary.uid_map.startswith("0 1001 1")


def test_udp_peers_are_counted_by_source_port() -> None:
    summary = echo.parse_server(read_data("echo-server-udp-rr-pasta.json"))
    assert summary.peer("udp") == "198.51.100.2"
    assert summary.peer("tcp") is None
    assert summary.udp_datagrams > 0


def test_mapped_ipv6_peers_are_normalised() -> None:
    data = json.loads(read_data("echo-server-tcp-rr-host.json"))
    data["tcp"]["peers"] = {"::ffff:10.0.2.100": 2}
    assert echo.parse_server(json.dumps(data)).peer("tcp") == "10.0.2.100"


def test_fatal_server_summary_is_a_parse_error() -> None:
    line = json.dumps({"service": "netbench-echo", "version": 1, "fatal": "cannot bind tcp 0.0.0.0:80: Permission denied"})
    with pytest.raises(ParseError, match="echo server failed: cannot bind"):
        echo.parse_server(line)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["listen"].update(source="maybe"), "neither inherited nor bound"),
    (lambda d: d["listen"].update(sockets=[]), "names no listening socket"),
    (lambda d: d.pop("tcp"), "lacks listen, tcp or udp"),
    (lambda d: d["tcp"].update(echo_messages=-1), "not a count"),
    (lambda d: d["tcp"].update(peers={"198.51.100.2": "two"}), "not a map of counts"),
])
def test_malformed_server_summary_is_a_parse_error(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(read_data("echo-server-tcp-rr-host.json"))
    mutate(data)
    with pytest.raises(ParseError, match=message):
        echo.parse_server(json.dumps(data))


# ---------------------------------------------------------------- concurrent clients (--clients, run --streams)
# Recorded on this machine's loopback with the suite's client and server, 1 s after 1 s of warm-up.

@pytest.mark.parametrize("mode", ["tcp-rr", "udp-rr", "tcp-crr"])
def test_several_clients_are_merged_into_one_result(mode: str) -> None:
    text = read_data(f"echo-client-{mode}-clients8-loopback.json")
    raw = json.loads(text)
    result = echo.parse_client(text)
    assert result.clients == 8 and len(raw["locals"]) == 8
    assert result.transactions_per_s == raw["transactions_per_s"] and result.transactions_per_s > 0
    # they measured at once for about the duration asked, and the CPU they spent is recorded
    assert result.duration_s == 1.0 and 0 < result.concurrent_s <= 1.1  # type: ignore[operator]
    assert result.cpu_s is not None and result.cpu_s > 0
    # the percentiles are over every client's round trips: one result, as with one client
    assert result.latency is not None and result.latency.p50 == raw["latency_us"]["p50"]
    summary = echo.parse_server(read_data(f"echo-server-{mode}-clients8-loopback.json"))
    if mode == "tcp-rr":
        assert summary.echo_messages == result.transactions_total
        assert summary.concurrent_peak == 8  # a process per connection, all 8 at once
        assert summary.tcp_connections == {"echo": 8, "quit": 1}
    elif mode == "tcp-crr":
        assert summary.crr_transactions == result.transactions_total
    else:
        assert summary.udp_peers == {"127.0.0.1": 9}  # a source port per client, and the quit's
    assert summary.cpu_s is not None and summary.cpu_s > 0


def test_one_client_reports_itself_as_one() -> None:
    result = echo.parse_client(read_data("echo-client-tcp-rr-clients1-loopback.json"))
    assert result.clients == 1
    assert result.transactions_per_s == pytest.approx(result.count / result.concurrent_s, rel=0.05)  # type: ignore[operator]


def test_a_client_from_before_clients_reports_none() -> None:
    """An older result says nothing about concurrency: None, never a guessed 1."""
    result = echo.parse_client(read_data("echo-client-tcp-rr-host.json"))
    assert result.clients is None and result.transactions_per_s is None and result.concurrent_s is None
    summary = echo.parse_server(read_data("echo-server-tcp-rr-host.json"))
    assert summary.concurrent_peak is None and summary.cpu_s is None


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(clients=0), "0 clients measured"),
    (lambda d: d.update(transactions_per_s=0), "measured 0 transactions/s"),
    (lambda d: d.pop("concurrent_s"), "concurrent_s is not a number"),
    (lambda d: d.update(clients="8"), "clients is not a count"),
])
def test_malformed_concurrency_is_a_parse_error(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(read_data("echo-client-tcp-rr-clients8-loopback.json"))
    mutate(data)
    with pytest.raises(ParseError, match=message):
        echo.parse_client(json.dumps(data))
