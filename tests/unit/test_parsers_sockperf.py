"""sockperf 3.7 ping-pong output, recorded in the lab (client host -> server host, TCP, 64 bytes)."""

from __future__ import annotations

import pytest

from bench_runner.parsers import ParseError, sockperf
from tests.conftest import read_data


def test_full_rtt_output_gives_round_trips_as_printed() -> None:
    result = sockperf.parse_ping_pong(read_data("sockperf-3.7-pp-full-rtt.txt"))
    assert result.printed_rtt
    assert result.version == "3.7-no.git"
    assert result.percentile(50) == pytest.approx(24.148)
    assert result.percentile(99) == pytest.approx(111.143)
    assert result.rtt_avg_us == pytest.approx(31.777)
    assert result.rtt_min_us == pytest.approx(16.376) and result.rtt_max_us == pytest.approx(2432.222)
    assert result.received == 48633 and result.dropped == 0
    assert result.runtime_s == pytest.approx(1.550)


def test_latency_output_is_doubled_to_round_trips() -> None:
    """Without --full-rtt sockperf prints half the round trip ("avg-latency")."""
    result = sockperf.parse_ping_pong(read_data("sockperf-3.7-pp-latency.txt"))
    assert not result.printed_rtt
    assert result.percentile(50) == pytest.approx(2 * 7.949)
    assert result.rtt_avg_us == pytest.approx(2 * 78.879)


def test_percentiles_are_ordered() -> None:
    result = sockperf.parse_ping_pong(read_data("sockperf-3.7-pp-full-rtt.txt"))
    points = sorted(result.rtt_us)
    values = [result.rtt_us[p] for p in points]
    assert values == sorted(values)
    assert result.rtt_min_us <= values[0] and values[-1] <= result.rtt_max_us


def test_refused_connection_is_an_error_although_sockperf_exits_0() -> None:
    with pytest.raises(ParseError, match="Can`t connect socket .*Connection refused"):
        sockperf.parse_ping_pong(read_data("sockperf-3.7-refused.txt"))


def test_truncated_output_is_a_parse_error() -> None:
    text = read_data("sockperf-3.7-pp-full-rtt.txt")
    cut = text[: text.index("---> percentile 99.999")]
    with pytest.raises(ParseError, match="percentile ladder"):
        sockperf.parse_ping_pong(cut)


@pytest.mark.parametrize("text", ["", "sockperf: == version #3.7 ==\n"])
def test_output_without_statistics_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="no ping-pong statistics"):
        sockperf.parse_ping_pong(text)


def test_missing_percentile_is_a_key_error() -> None:
    result = sockperf.parse_ping_pong(read_data("sockperf-3.7-pp-full-rtt.txt"))
    with pytest.raises(KeyError):
        result.percentile(95)
