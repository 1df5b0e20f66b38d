"""Parse ``ss -Htu[l|a]np`` (no header, TCP and UDP, numeric, with processes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import ParseError

_PROC_RE = re.compile(r'\("(?P<comm>(?:[^"\\]|\\.)*)",pid=(?P<pid>\d+),fd=(?P<fd>\d+)\)')


@dataclass(frozen=True)
class SocketOwner:
    comm: str
    pid: int
    fd: int


@dataclass(frozen=True)
class Socket:
    protocol: str  # "tcp" or "udp"
    state: str  # "LISTEN", "ESTAB", "UNCONN", ...
    #: local: "0.0.0.0", "*" (IPv6 and IPv4), "::" (IPv6 only), "127.0.0.1", "198.51.100.1%eth0",
    #: "2001:db8:5100::1", "fe80::1%eth0", ... (ss's brackets removed)
    address: str
    port: int
    peer_address: str
    peer_port: int | None  # None for "*"
    owners: tuple[SocketOwner, ...]


#: A listening TCP socket or a bound UDP socket.
Listener = Socket


def _split_endpoint(text: str) -> tuple[str, int | None]:
    """``198.51.100.1:80``, ``*:80``, ``[2001:db8::1]:80``, ``[fe80::1]%eth0:80``, ``0.0.0.0:*``."""
    host, sep, port = text.rpartition(":")
    if not sep or not (port.isdigit() or port == "*"):
        raise ParseError(f"not an address:port: {text!r}")
    if host.startswith("["):
        inner, bracket, scope = host[1:].partition("]")
        if not bracket or (scope and not scope.startswith("%")):
            raise ParseError(f"not an address:port: {text!r}")
        host = inner + scope
    return host, int(port) if port.isdigit() else None


def serves_family(sock: Socket, family: int) -> bool:
    """Does a (listening) socket take clients of an IP family? ss writes an IPv6 socket bound
    to every address as ``*`` when it takes IPv4 too and as ``[::]`` when it is IPv6-only; an
    IPv4-mapped address (``::ffff:198.51.100.1``) takes IPv4 only."""
    address = sock.address.split("%", 1)[0]
    if address == "*":
        return True
    ipv6 = ":" in address and not address.lower().startswith("::ffff:")
    return ipv6 if family == 6 else not ipv6


def parse_sockets(text: str) -> list[Socket]:
    sockets = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) < 6 or fields[0] not in ("tcp", "udp"):
            raise ParseError(f"unexpected ss line: {line!r}")
        address, port = _split_endpoint(fields[4])
        peer_address, peer_port = _split_endpoint(fields[5])
        if port is None:
            raise ParseError(f"socket without a local port: {line!r}")
        owners = tuple(
            SocketOwner(m.group("comm"), int(m.group("pid")), int(m.group("fd")))
            for m in _PROC_RE.finditer(" ".join(fields[6:]))
        )
        sockets.append(Socket(fields[0], fields[1], address, port, peer_address, peer_port, owners))
    return sockets


def parse_listeners(text: str) -> list[Socket]:
    """Every listening TCP socket and bound UDP socket (established TCP lines are skipped)."""
    return [s for s in parse_sockets(text) if s.protocol == "udp" or s.state == "LISTEN"]


def find(listeners: list[Socket], protocol: str, port: int, family: int | None = None) -> list[Socket]:
    """The sockets bound to ``port``; with ``family``, only those that take its clients."""
    return [item for item in listeners if item.protocol == protocol and item.port == port
            and (family is None or serves_family(item, family))]


def address_filter(address: str) -> str:
    """An address as an ss filter expression takes it: IPv6 in brackets (``dst 2001:db8::2``
    is refused: "an inet prefix is expected")."""
    return f"[{address}]" if ":" in address else address


def connections_to(sockets: list[Socket], peer_address: str, peer_port: int) -> list[Socket]:
    """Established TCP connections whose far end is ``peer_address:peer_port``."""
    return [s for s in sockets if s.protocol == "tcp" and s.state == "ESTAB"
            and s.peer_address == peer_address and s.peer_port == peer_port]
