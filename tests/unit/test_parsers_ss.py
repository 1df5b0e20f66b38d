"""``ss -Htulnp`` parser, on output recorded in the lab under each helper."""

from __future__ import annotations

import pytest

from bench_runner.parsers import ParseError, ss
from tests.conftest import read_data


def _lines_for(title: str) -> str:
    blocks = read_data("ss-listeners.txt").split("# ")
    block = next(b for b in blocks if b.startswith(title))
    return block.split("\n", 1)[1]


@pytest.mark.parametrize("title, comm", [
    ("podman slirp4netns-rootlesskit", "rootlessport"),
    ("bare pasta", "passt.avx2"),
    ("bare slirp4netns-slirp4netns", "slirp4netns"),
    ("bare slirp4netns-rootlesskit", "rootlesskit"),
    ("podman host", "iperf3"),
])
def test_owner_of_the_published_port(title: str, comm: str) -> None:
    found = ss.find(ss.parse_listeners(_lines_for(title)), "tcp", 5201)
    assert len(found) == 1
    assert [o.comm for o in found[0].owners] == [comm]
    assert found[0].owners[0].pid > 0


def test_udp_loopback_and_ipv6_wildcard() -> None:
    listeners = ss.parse_listeners(_lines_for("a namespace"))
    assert {(item.protocol, item.address, item.port) for item in listeners} == {
        ("udp", "0.0.0.0", 5201), ("tcp", "127.0.0.1", 5201), ("tcp", "*", 5202)}


def test_bracketed_ipv6_and_interface_suffix() -> None:
    text = 'tcp LISTEN 0 128 [::ffff:198.51.100.1]:80 [::]:* users:(("x",pid=1,fd=3))\n' \
           'udp UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:*\n'
    listeners = ss.parse_listeners(text)
    assert listeners[0].address == "::ffff:198.51.100.1" and listeners[0].port == 80
    assert listeners[1].address == "127.0.0.53%lo" and listeners[1].owners == ()


def test_established_tcp_lines_are_ignored() -> None:
    text = 'tcp ESTAB 0 0 198.51.100.1:5201 198.51.100.2:40000 users:(("iperf3",pid=9,fd=5))\n'
    assert ss.parse_listeners(text) == []


@pytest.mark.parametrize("text", ["garbage", "tcp LISTEN 0 128 nowhere *:*", "icmp x y z a b"])
def test_unexpected_lines_are_errors(text: str) -> None:
    with pytest.raises(ParseError):
        ss.parse_listeners(text)


def test_established_connections_by_their_far_end() -> None:
    from tests.conftest import read_data

    sockets = ss.parse_sockets(read_data("ss-all.txt"))
    (conn,) = ss.connections_to(sockets, "127.0.0.1", 5555)
    assert conn.port == 43174 and conn.owners[0].fd == 4
    assert [s.state for s in ss.parse_listeners(read_data("ss-all.txt"))] == ["LISTEN"]
