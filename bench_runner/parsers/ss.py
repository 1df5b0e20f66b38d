"""Parse ``ss -Htulnp`` (no header, TCP and UDP, listening, numeric, with processes)."""

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
class Listener:
    protocol: str  # "tcp" or "udp"
    address: str  # "0.0.0.0", "*", "::", "127.0.0.1", "198.51.100.1%eth0", ...
    port: int
    owners: tuple[SocketOwner, ...]


def _split_endpoint(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ParseError(f"not an address:port: {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def parse_listeners(text: str) -> list[Listener]:
    """Every listening TCP socket and bound UDP socket in ``ss -Htulnp`` output."""
    listeners = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) < 6 or fields[0] not in ("tcp", "udp"):
            raise ParseError(f"unexpected ss line: {line!r}")
        protocol, state, local = fields[0], fields[1], fields[4]
        if protocol == "tcp" and state != "LISTEN":
            continue
        address, port = _split_endpoint(local)
        rest = " ".join(fields[6:])
        owners = tuple(
            SocketOwner(m.group("comm"), int(m.group("pid")), int(m.group("fd")))
            for m in _PROC_RE.finditer(rest)
        )
        listeners.append(Listener(protocol, address, port, owners))
    return listeners


def find(listeners: list[Listener], protocol: str, port: int) -> list[Listener]:
    return [item for item in listeners if item.protocol == protocol and item.port == port]
