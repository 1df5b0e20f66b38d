"""iperf3 JSON parsers, on output recorded from the iperf3 binding and the iperf3 server."""

from __future__ import annotations

import json

import pytest

from bench_runner.parsers import ParseError, iperf3
from tests.conftest import read_data


def test_tcp_client_summary_uses_receiver_side() -> None:
    text = read_data("iperf3-client-tcp.json")
    result = iperf3.parse_client(text)
    data = json.loads(text)
    assert result.protocol == "TCP"
    assert result.received_bps == data["end"]["sum_received"]["bits_per_second"]
    assert result.retransmits == data["end"]["sum_sent"]["retransmits"]
    assert result.local_host == "198.51.100.2" and result.remote_host == "198.51.100.1"
    assert result.version == "iperf 3.12"
    assert not result.reverse and result.num_streams == 1
    # omitted warm-up intervals count in the bytes moved (for CPU cost) but not the summary
    assert result.interval_bytes >= data["end"]["sum_sent"]["bytes"]


def test_reverse_and_parallel_are_recognised() -> None:
    assert iperf3.parse_client(read_data("iperf3-client-tcp-reverse.json")).reverse
    assert iperf3.parse_client(read_data("iperf3-client-tcp-parallel.json")).num_streams == 4


def test_udp_client_reports_loss_and_jitter() -> None:
    result = iperf3.parse_client(read_data("iperf3-client-udp.json"))
    assert result.protocol == "UDP"
    assert result.retransmits is None
    assert result.jitter_ms is not None and result.jitter_ms >= 0
    assert result.lost_percent is not None and 0 <= result.lost_percent <= 100


def test_error_key_is_an_error_even_with_a_plausible_shape() -> None:
    with pytest.raises(ParseError, match="unable to connect"):
        iperf3.parse_client(read_data("iperf3-client-refused.json"))


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("iperf3: error - unable to connect", "no JSON"),
    ('{"start": {', "no JSON object|not valid JSON"),
    ('{"start": {"test_start": {}}}', "lacks end"),
    ("[1, 2]", "no JSON object|not an object"),
])
def test_malformed_output_is_a_parse_error(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        iperf3.parse_client(text)


def test_truncated_recording_is_a_parse_error() -> None:
    text = read_data("iperf3-client-tcp.json")
    with pytest.raises(ParseError):
        iperf3.parse_client(text[: len(text) // 2])


def test_text_around_the_json_is_tolerated() -> None:
    text = "Control connection MSS 1448\n" + read_data("iperf3-client-tcp.json") + "\niperf Done.\n"
    assert iperf3.parse_client(text).received_bps > 0


def test_server_reports_the_peer_address() -> None:
    result = iperf3.parse_server(read_data("iperf3-server-tcp.json"))
    assert result.peer_address == "198.51.100.2"
    assert result.peer_port > 0


def test_server_peer_in_mapped_ipv6_form_is_normalised() -> None:
    data = json.loads(read_data("iperf3-server-tcp.json"))
    data["start"]["accepted_connection"]["host"] = "::ffff:10.0.2.100"
    assert iperf3.parse_server(json.dumps(data)).peer_address == "10.0.2.100"


def test_server_without_accepted_connection_is_a_parse_error() -> None:
    data = json.loads(read_data("iperf3-server-tcp.json"))
    del data["start"]["accepted_connection"]
    with pytest.raises(ParseError, match="accepted_connection"):
        iperf3.parse_server(json.dumps(data))
