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
    address: str  # local: "0.0.0.0", "*", "::", "127.0.0.1", "198.51.100.1%eth0", ...
    port: int
    peer_address: str
    peer_port: int | None  # None for "*"
    owners: tuple[SocketOwner, ...]


#: A listening TCP socket or a bound UDP socket.
Listener = Socket


def _split_endpoint(text: str) -> tuple[str, int | None]:
    host, sep, port = text.rpartition(":")
    if not sep or not (port.isdigit() or port == "*"):
        raise ParseError(f"not an address:port: {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port) if port.isdigit() else None


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


def find(listeners: list[Socket], protocol: str, port: int) -> list[Socket]:
    return [item for item in listeners if item.protocol == protocol and item.port == port]


def connections_to(sockets: list[Socket], peer_address: str, peer_port: int) -> list[Socket]:
    """Established TCP connections whose far end is ``peer_address:peer_port``."""
    return [s for s in sockets if s.protocol == "tcp" and s.state == "ESTAB"
            and s.peer_address == peer_address and s.peer_port == peer_port]
