"""Parse iperf3 ``--json`` output (client and server side).

iperf3 can exit 0 and still report failure in an ``error`` key, and can print text around
the JSON; the parsers check the key and the shape independently of any exit code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import ParseError


@dataclass(frozen=True)
class IperfResult:
    """The summary of one iperf3 test, as its client saw it."""

    protocol: str  # "TCP" or "UDP"
    reverse: bool
    num_streams: int
    duration_s: float  # seconds measured (omitted warm-up excluded)
    received_bps: float  # receiver side: what actually arrived
    sent_bps: float
    #: Bytes the client moved in every interval, the omitted warm-up included (for CPU cost).
    interval_bytes: int
    retransmits: int | None  # TCP only
    jitter_ms: float | None  # UDP only
    lost_percent: float | None  # UDP only
    local_host: str | None
    remote_host: str | None
    version: str | None
    #: As the client set them up: bytes per write (the UDP datagram's payload), and the
    #: offered rate in bit/s (0: unlimited).
    blksize: int | None = None
    target_bitrate: int | None = None


def _load(text: str) -> dict[str, Any]:
    start = text.find("{")
    end = text.rfind("}")
    if start < 0 or end < start:
        raise ParseError("no JSON object in iperf3 output" + (f": {text.strip()[:200]!r}" if text.strip() else " (empty)"))
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ParseError(f"iperf3 output is not valid JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(data, dict):
        raise ParseError("iperf3 JSON is not an object")
    if data.get("error"):
        raise ParseError(f"iperf3 reported an error: {data['error']}")
    return data


def _get(data: dict[str, Any], *path: str) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise ParseError(f"iperf3 JSON lacks {'.'.join(path)}")
        node = node[key]
    return node


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParseError(f"iperf3 JSON field {what} is not a number: {value!r}")
    return float(value)


def parse_client(text: str) -> IperfResult:
    data = _load(text)
    test = _get(data, "start", "test_start")
    protocol = str(test.get("protocol", "TCP")).upper()
    connected = data.get("start", {}).get("connected") or [{}]
    first = connected[0] if isinstance(connected[0], dict) else {}
    version = data.get("start", {}).get("version")
    end = _get(data, "end")
    if protocol == "UDP":
        total = _get(data, "end", "sum")
        received = _number(_get(data, "end", "sum_received", "bits_per_second"), "end.sum_received.bits_per_second") \
            if isinstance(end.get("sum_received"), dict) else _number(total.get("bits_per_second"), "end.sum.bits_per_second")
        sent = _number(_get(data, "end", "sum_sent", "bits_per_second"), "end.sum_sent.bits_per_second") \
            if isinstance(end.get("sum_sent"), dict) else received
        jitter = _number(total.get("jitter_ms"), "end.sum.jitter_ms")
        lost = _number(total.get("lost_percent"), "end.sum.lost_percent")
        retransmits = None
        seconds = _number(total.get("seconds"), "end.sum.seconds")
    else:
        received = _number(_get(data, "end", "sum_received", "bits_per_second"), "end.sum_received.bits_per_second")
        sent_sum = _get(data, "end", "sum_sent")
        sent = _number(sent_sum.get("bits_per_second"), "end.sum_sent.bits_per_second")
        retransmits = int(_number(sent_sum.get("retransmits", 0), "end.sum_sent.retransmits"))
        jitter = lost = None
        seconds = _number(_get(data, "end", "sum_received", "seconds"), "end.sum_received.seconds")
    if seconds <= 0:
        raise ParseError("iperf3 measured for zero seconds")
    interval_bytes = 0
    for interval in data.get("intervals") or []:
        total_ = interval.get("sum", {}) if isinstance(interval, dict) else {}
        if isinstance(total_.get("bytes"), (int, float)):
            interval_bytes += int(total_["bytes"])
    return IperfResult(
        protocol=protocol,
        reverse=bool(test.get("reverse", 0)),
        num_streams=int(test.get("num_streams", 1)),
        duration_s=seconds,
        received_bps=received,
        sent_bps=sent,
        interval_bytes=interval_bytes,
        retransmits=retransmits,
        jitter_ms=jitter,
        lost_percent=lost,
        local_host=first.get("local_host"),
        remote_host=first.get("remote_host"),
        version=version,
        blksize=int(test["blksize"]) if isinstance(test.get("blksize"), (int, float)) else None,
        target_bitrate=int(test["target_bitrate"]) if isinstance(test.get("target_bitrate"), (int, float)) else None,
    )


@dataclass(frozen=True)
class IperfServerResult:
    """What the server saw: above all, the address the client connected from."""

    peer_address: str
    peer_port: int
    received_bps: float | None


def parse_server(text: str) -> IperfServerResult:
    data = _load(text)
    accepted = _get(data, "start", "accepted_connection")
    host = accepted.get("host") if isinstance(accepted, dict) else None
    if not isinstance(host, str) or not host:
        raise ParseError("iperf3 server JSON lacks start.accepted_connection.host")
    received = data.get("end", {}).get("sum_received", {}).get("bits_per_second")
    return IperfServerResult(
        peer_address=normalise_address(host),
        peer_port=int(accepted.get("port", 0)),
        received_bps=float(received) if isinstance(received, (int, float)) else None,
    )


def normalise_address(host: str) -> str:
    """iperf3 servers on a dual-stack socket report IPv4 peers as ::ffff:a.b.c.d."""
    return host[7:] if host.lower().startswith("::ffff:") and "." in host else host
