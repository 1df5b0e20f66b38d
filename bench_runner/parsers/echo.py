"""Parse what the suite's echo client and echo service print: one JSON line each.

The client's line carries the measurement (latency percentiles or a stream's bytes and
seconds) or an ``error``; with round trips also how many concurrent clients measured, for how
long all at once, and their transactions per second together. The service's summary says
whether it served on inherited sockets or bound its own, which peers it saw, how much it
served and the most TCP connections it served at once, so a trial can check the client's
figures against the server's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import ParseError
from .iperf3 import normalise_address

CLIENT_MODES = ("tcp-rr", "udp-rr", "tcp-crr", "stream", "stream-reverse")
LATENCY_MODES = ("tcp-rr", "udp-rr", "tcp-crr")


def _last_json(text: str, what: str) -> dict[str, Any]:
    """The last line of ``text`` that is a JSON object (tools may print around it)."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ParseError(f"{what} output is not valid JSON ({exc.msg} at char {exc.pos})") from None
        if isinstance(data, dict):
            return data
    shown = text.strip()[-200:]
    raise ParseError(f"no JSON line in {what} output" + (f": {shown!r}" if shown else " (empty)"))


def _number(data: dict[str, Any], key: str, what: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(f"{what} field {key} is not a number: {value!r}")
    return float(value)


def _count(data: dict[str, Any], key: str, what: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParseError(f"{what} field {key} is not a count: {value!r}")
    return value


def _host(endpoint: object) -> str | None:
    """'198.51.100.2:40000' -> '198.51.100.2' (and '[::1]:40000' -> '::1')."""
    if not isinstance(endpoint, str) or ":" not in endpoint:
        return None
    host = endpoint.rsplit(":", 1)[0]
    return normalise_address(host.strip("[]"))


@dataclass(frozen=True)
class Latency:
    """Per-trial percentiles of individual round trips (or transactions), microseconds."""

    p50: float
    p90: float
    p99: float
    mean: float
    minimum: float
    maximum: float


@dataclass(frozen=True)
class EchoClientResult:
    mode: str
    target: str
    local_address: str | None
    size: int
    #: Round trips or transactions measured, and run as warm-up (discarded).
    count: int | None = None
    warmup_count: int | None = None
    #: Every exchange the server should have served (warm-up and probes included).
    transactions_total: int | None = None
    latency: Latency | None = None
    transaction_us: float | None = None  # tcp-crr: measured time / transactions
    bytes: int | None = None  # streams: bytes in the measured period
    bytes_total: int | None = None  # streams: all bytes moved, warm-up included
    seconds: float | None = None
    gbits: float | None = None
    udp: dict[str, int] = field(default_factory=dict)  # sent, received, lost, stale
    quit: str | None = None
    duration_s: float | None = None  # asked for
    #: Round trips: the clients that measured (None from a client before --clients), how
    #: many seconds all of them measured at once, their transactions per second together,
    #: and the CPU seconds they spent measuring.
    clients: int | None = None
    concurrent_s: float | None = None
    transactions_per_s: float | None = None
    cpu_s: float | None = None


def parse_client(text: str) -> EchoClientResult:
    data = _last_json(text, "echo client")
    if data.get("error"):
        raise ParseError(f"echo client reported an error: {data['error']}")
    if data.get("client") != "netbench-echo":
        raise ParseError("not an echo client result (no client: netbench-echo)")
    mode = data.get("mode")
    if mode not in CLIENT_MODES:
        raise ParseError(f"echo client mode {mode!r} is not one of {', '.join(CLIENT_MODES)}")
    what = f"echo client ({mode})"
    result: dict[str, Any] = {
        "mode": mode, "target": str(data.get("target", "")), "local_address": _host(data.get("local")),
        "size": _count(data, "size", what), "quit": data.get("quit"),
        "duration_s": _number(data, "duration_s", what) if "duration_s" in data else None,
    }
    if mode in LATENCY_MODES:
        latency = data.get("latency_us")
        if not isinstance(latency, dict):
            raise ParseError(f"{what} result lacks latency_us")
        values = {key: _number(latency, key, what) for key in ("p50", "p90", "p99", "mean", "min", "max")}
        if not values["min"] <= values["p50"] <= values["p90"] <= values["p99"] <= values["max"] or values["min"] <= 0:
            raise ParseError(f"{what} percentiles are not ordered: {values}")
        result["latency"] = Latency(values["p50"], values["p90"], values["p99"], values["mean"],
                                    values["min"], values["max"])
        result["count"] = _count(data, "count", what)
        result["warmup_count"] = _count(data, "warmup_count", what)
        result["transactions_total"] = _count(data, "transactions_total", what)
        if result["count"] == 0:
            raise ParseError(f"{what} measured no round trip")
        if mode == "tcp-crr":
            result["transaction_us"] = _number(data, "transaction_us", what)
        if mode == "udp-rr":
            result["udp"] = {key: _count(data, key, what) for key in ("sent", "received", "lost", "stale")}
        if "clients" in data:
            result.update(_concurrency(data, what))
    else:
        result["bytes"] = _count(data, "bytes", what)
        result["bytes_total"] = _count(data, "bytes_total", what)
        result["seconds"] = _number(data, "seconds", what)
        result["gbits"] = _number(data, "gbits", what)
        if result["seconds"] <= 0 or result["bytes"] <= 0:
            raise ParseError(f"{what} moved nothing")
    return EchoClientResult(**result)


def _concurrency(data: dict[str, Any], what: str) -> dict[str, Any]:
    """The clients a round-trip result merged: how many measured, and what they did together."""
    found = {"clients": _count(data, "clients", what), "concurrent_s": _number(data, "concurrent_s", what),
             "transactions_per_s": _number(data, "transactions_per_s", what), "cpu_s": _number(data, "cpu_s", what)}
    if found["clients"] < 1 or found["transactions_per_s"] <= 0:
        raise ParseError(f"{what}: {found['clients']} clients measured {found['transactions_per_s']:g} transactions/s")
    return found


@dataclass(frozen=True)
class ListenSocket:
    fd: int
    protocol: str
    family: str
    address: str
    port: int
    inherited: bool


@dataclass(frozen=True)
class EchoServerSummary:
    """What the echo service printed when it exited."""

    exit: str
    pid: int
    uid: int
    uid_map: str
    #: "inherited" (LISTEN_FDS accepted) or "bound" (the service bound its own sockets).
    listen_source: str
    listen_reason: str
    listen_env: dict[str, str | None]
    sockets: tuple[ListenSocket, ...]
    tcp_connections: dict[str, int]
    tcp_peers: dict[str, int]  # address -> connections
    echo_messages: int
    crr_transactions: int
    sink_bytes: int
    source_bytes: int
    udp_datagrams: int
    udp_bytes: int
    udp_peers: dict[str, int]  # address -> distinct source ports
    errors: tuple[str, ...]
    #: The most TCP connections served at once, and the CPU seconds the service used (None
    #: from a service before they were reported).
    concurrent_peak: int | None = None
    cpu_s: float | None = None

    def peer(self, protocol: str) -> str | None:
        """The address the service saw most (connections for TCP, source ports for UDP)."""
        peers = self.tcp_peers if protocol == "tcp" else self.udp_peers
        return max(peers, key=lambda k: peers[k]) if peers else None

    def listen_json(self) -> dict[str, Any]:
        return {"source": self.listen_source, "reason": self.listen_reason, "env": dict(self.listen_env),
                "sockets": [vars(s).copy() for s in self.sockets]}


def _counts(data: object, what: str) -> dict[str, int]:
    if not isinstance(data, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in data.values()):
        raise ParseError(f"{what} is not a map of counts: {data!r}")
    return {normalise_address(str(k)): v for k, v in data.items()}


def parse_server(text: str) -> EchoServerSummary:
    data = _last_json(text, "echo server")
    if data.get("service") != "netbench-echo":
        raise ParseError("not an echo server summary (no service: netbench-echo)")
    if data.get("fatal"):
        raise ParseError(f"echo server failed: {data['fatal']}")
    what = "echo server summary"
    listen = data.get("listen")
    tcp = data.get("tcp")
    udp = data.get("udp")
    if not isinstance(listen, dict) or not isinstance(tcp, dict) or not isinstance(udp, dict):
        raise ParseError(f"{what} lacks listen, tcp or udp")
    source = listen.get("source")
    if source not in ("inherited", "bound"):
        raise ParseError(f"{what}: listen source {source!r} is neither inherited nor bound")
    sockets = []
    for item in listen.get("sockets") or []:
        if not isinstance(item, dict):
            raise ParseError(f"{what}: a listening socket is not an object")
        sockets.append(ListenSocket(_count(item, "fd", what), str(item.get("protocol")), str(item.get("family")),
                                    str(item.get("address")), _count(item, "port", what), bool(item.get("inherited"))))
    if not sockets:
        raise ParseError(f"{what} names no listening socket")
    env = listen.get("env") if isinstance(listen.get("env"), dict) else {}
    return EchoServerSummary(
        exit=str(data.get("exit", "")), pid=_count(data, "pid", what), uid=_count(data, "uid", what),
        uid_map=str(data.get("uid_map", "")), listen_source=source, listen_reason=str(listen.get("reason", "")),
        listen_env={str(k): (None if v is None else str(v)) for k, v in env.items()},
        sockets=tuple(sockets),
        tcp_connections=_counts(tcp.get("connections", {}), f"{what} tcp.connections"),
        tcp_peers=_counts(tcp.get("peers", {}), f"{what} tcp.peers"),
        echo_messages=_count(tcp, "echo_messages", what), crr_transactions=_count(tcp, "crr_transactions", what),
        sink_bytes=_count(tcp, "sink_bytes", what), source_bytes=_count(tcp, "source_bytes", what),
        udp_datagrams=_count(udp, "datagrams", what), udp_bytes=_count(udp, "bytes", what),
        udp_peers=_counts(udp.get("peers", {}), f"{what} udp.peers"),
        errors=tuple(str(e) for e in data.get("errors") or []),
        concurrent_peak=_count(tcp, "concurrent_peak", what) if "concurrent_peak" in tcp else None,
        cpu_s=_number(data, "cpu_s", what) if "cpu_s" in data else None,
    )
