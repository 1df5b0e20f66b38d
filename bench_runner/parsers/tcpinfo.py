"""Parse ``ss -Htinp`` (TCP only, no header, numeric, the kernel's TCP info, with processes):
per connection the queues, the congestion window, the round trip, retransmits and rates, which
tell a maintainer which end of a slow connection stopped sending, and why.

Each socket is a line with the state, the two queues and both endpoints (and the owning
processes), followed by an indented line of ``key:value`` and ``key value`` items."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from . import ParseError
from .ss import _PROC_RE, _split_endpoint

#: ``key value`` items (the value follows after a space) among the ``key:value`` ones.
_SPACED = ("send", "pacing_rate", "delivery_rate")
_RATE_RE = re.compile(r"^(?P<value>[\d.]+)(?P<unit>[KMG]?)bps$")
_UNITS = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9}


@dataclass(frozen=True)
class TcpInfo:
    state: str
    recv_q: int
    send_q: int
    address: str
    port: int
    peer_address: str
    peer_port: int | None
    #: The owning processes' names (``comm``), where ss could see them.
    owners: tuple[str, ...] = ()
    congestion: str | None = None
    rtt_ms: float | None = None
    rttvar_ms: float | None = None
    mss: int | None = None
    pmtu: int | None = None
    cwnd: int | None = None
    ssthresh: int | None = None
    bytes_acked: int | None = None
    bytes_received: int | None = None
    #: Segments retransmitted so far (the second of ``retrans:N/TOTAL``), and those in flight now.
    retrans_total: int | None = None
    retrans_now: int | None = None
    lost: int | None = None
    unacked: int | None = None
    notsent: int | None = None
    snd_wnd: int | None = None
    pacing_rate_bps: float | None = None
    delivery_rate_bps: float | None = None
    #: Milliseconds the sender was limited by the receiver's window and by its own send buffer.
    rwnd_limited_ms: int | None = None
    sndbuf_limited_ms: int | None = None
    busy_ms: int | None = None
    bytes_sent: int | None = None
    rto_ms: float | None = None
    minrtt_ms: float | None = None
    #: The sender had nothing more to send at the last sample (not a network limit).
    app_limited: bool = False
    #: Every other item, as ss printed it (not recorded in the results document).
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """What was read (None fields and the other items left out), to keep the results
        document small."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()
                if k != "extra" and v is not None and v is not False and v != ()}


def _rate(text: str) -> float:
    found = _RATE_RE.match(text)
    if found is None:
        raise ParseError(f"not a rate: {text!r}")
    return float(found.group("value")) * _UNITS[found.group("unit")]


def _ms(text: str) -> int:
    """ ``1468ms`` or ``12ms(3.4%)`` -> 1468, 12."""
    found = re.match(r"^(\d+)ms", text)
    if found is None:
        raise ParseError(f"not a duration in ms: {text!r}")
    return int(found.group(1))


def _info(line: str) -> dict[str, Any]:
    items = line.split()
    values: dict[str, Any] = {"extra": {}}
    i = 0
    if items and ":" not in items[0] and items[0] not in _SPACED:
        values["congestion"] = items[0]
        i = 1
    while i < len(items):
        item = items[i]
        if item in _SPACED and i + 1 < len(items):
            values[{"send": "_send", "pacing_rate": "pacing_rate_bps",
                    "delivery_rate": "delivery_rate_bps"}[item]] = _rate(items[i + 1])
            i += 2
            continue
        key, sep, value = item.partition(":")
        i += 1
        if not sep:
            if key == "app_limited":
                values["app_limited"] = True
            else:
                values["extra"][key] = "yes"  # other flags
            continue
        if key == "rtt":
            rtt, _, var = value.partition("/")
            values["rtt_ms"], values["rttvar_ms"] = float(rtt), float(var) if var else None
        elif key == "retrans":
            now, _, total = value.partition("/")
            values["retrans_now"], values["retrans_total"] = int(now), int(total or now)
        elif key in ("mss", "pmtu", "cwnd", "ssthresh", "bytes_acked", "bytes_received", "bytes_sent", "lost",
                     "unacked", "notsent", "snd_wnd"):
            values[key] = int(value)
        elif key in ("rto", "minrtt"):
            values[f"{key}_ms"] = float(value)
        elif key in ("rwnd_limited", "sndbuf_limited", "busy"):
            values[f"{key}_ms"] = _ms(value)
        else:
            values["extra"][key] = value
    values.pop("_send", None)
    return values


def parse_tcp_info(text: str) -> list[TcpInfo]:
    """Every TCP socket ``ss -Htinp`` printed, with its info where a line of it followed."""
    found: list[TcpInfo] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        if line[0].isspace():
            raise ParseError(f"TCP info without its socket line: {line.strip()[:60]!r}")
        fields = line.split()
        if len(fields) < 5 or not fields[1].isdigit() or not fields[2].isdigit():
            raise ParseError(f"unexpected ss -tin line: {line!r}")
        address, port = _split_endpoint(fields[3])
        peer_address, peer_port = _split_endpoint(fields[4])
        if port is None:
            raise ParseError(f"socket without a local port: {line!r}")
        owners = tuple(m.group("comm") for m in _PROC_RE.finditer(" ".join(fields[5:])))
        info: dict[str, Any] = {}
        if i < len(lines) and lines[i][:1].isspace():
            info = _info(lines[i])
            i += 1
        found.append(TcpInfo(fields[0], int(fields[1]), int(fields[2]), address, port, peer_address, peer_port,
                             owners, **info))
    return found


def on_port(sockets: list[TcpInfo], port: int) -> list[TcpInfo]:
    """The connections with ``port`` at either end (a published port, a server's port)."""
    return [s for s in sockets if s.state == "ESTAB" and port in (s.port, s.peer_port)]
