"""ss -Htinp (TCP info per connection) and ip -s -j link (interface counters; a tap's are the same
fields as this machine's eth0), on output
recorded on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench_runner.parsers import ParseError, iproute, tcpinfo

DATA = Path(__file__).resolve().parents[1] / "data"


def test_each_connection_has_its_queues_window_round_trip_and_rates() -> None:
    client, server = tcpinfo.parse_tcp_info((DATA / "ss-tin-echo-loopback.txt").read_text())
    assert (client.state, client.send_q, client.recv_q) == ("ESTAB", 64, 0)
    assert (client.address, client.port, client.peer_address, client.peer_port) == ("127.0.0.1", 49636, "127.0.0.1", 20082)
    assert client.congestion == "bbr" and client.cwnd == 18 and client.mss == 32768
    assert client.rtt_ms == pytest.approx(0.016) and server.rttvar_ms == pytest.approx(0.002)
    assert client.delivery_rate_bps == pytest.approx(20164923072) and client.pacing_rate_bps == pytest.approx(241468168304)
    assert client.unacked == 1 and client.busy_ms == 1468 and client.app_limited
    assert client.retrans_total is None  # this connection never retransmitted: ss prints no retrans item
    assert server.address == "::ffff:127.0.0.1" and server.port == 20082


def test_retransmits_limits_and_owners_are_read() -> None:
    text = ("ESTAB 0      2896512 [::ffff:198.51.100.1]:5201 [::ffff:198.51.100.2]:41234 "
            'users:(("iperf3",pid=41,fd=5))\n'
            "\t cubic wscale:7,7 rto:208 rtt:4.5/0.3 mss:1448 cwnd:3 ssthresh:2 bytes_acked:100 bytes_received:7 "
            "retrans:1/56 lost:4 unacked:12 notsent:2800000 rwnd_limited:12ms(0.6%) sndbuf_limited:900ms(45.0%) "
            "send 7.7Mbps pacing_rate 9.2Mbps delivery_rate 1.5Mbps\n")
    [sock] = tcpinfo.parse_tcp_info(text)
    assert sock.owners == ("iperf3",) and sock.send_q == 2896512
    assert (sock.retrans_now, sock.retrans_total, sock.lost, sock.unacked, sock.notsent) == (1, 56, 4, 12, 2800000)
    assert (sock.rwnd_limited_ms, sock.sndbuf_limited_ms) == (12, 900) and sock.ssthresh == 2
    assert sock.delivery_rate_bps == pytest.approx(1.5e6) and sock.pacing_rate_bps == pytest.approx(9.2e6)
    assert tcpinfo.on_port([sock], 5201) == [sock] and tcpinfo.on_port([sock], 41234) == [sock]
    assert tcpinfo.on_port([sock], 80) == []
    recorded = sock.to_json()
    assert recorded["retrans_total"] == 56 and "extra" not in recorded and recorded["owners"] == ["iperf3"]


@pytest.mark.parametrize("text", [
    "\t cubic rtt:1/1\n",  # info without its socket line
    "ESTAB x 0 1.2.3.4:5 6.7.8.9:10\n",
    "ESTAB 0 0 1.2.3.4:5 6.7.8.9:10\n\t cubic send fastbps\n",
])
def test_other_text_is_refused(text: str) -> None:
    with pytest.raises(ParseError):
        tcpinfo.parse_tcp_info(text)


def test_interface_counters_and_their_difference() -> None:
    text = (DATA / "ip-s-link.json").read_text()
    [tap] = [c for c in iproute.parse_link_counters(text) if c.ifname != "lo"]  # eth0: the counters are alike
    assert tap.tx_packets > 0 and tap.tx_dropped >= 0
    earlier = iproute.LinkCounters(tap.ifname, 1, 2, 0, 0, 3, 4, 0, 1)
    diff = tap.minus(earlier)
    assert diff.tx_packets == tap.tx_packets - 3 and diff.tx_dropped == tap.tx_dropped - 1
    with pytest.raises(ParseError):
        iproute.parse_link_counters('[{"ifname": "x", "stats64": {"rx": {}}}]')
