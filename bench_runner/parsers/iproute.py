"""iproute2's JSON output: ``ip -j link show`` (each interface's MTU and transmit queue
length), ``ip -j addr show`` (its addresses, and which are still tentative) and ``tc -j
qdisc show dev DEV`` (its queueing disciplines). Pure."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from . import ParseError


@dataclass(frozen=True)
class Link:
    ifname: str
    mtu: int | None
    txqlen: int | None
    operstate: str | None
    qdisc: str | None
    link_type: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _json_list(text: str, what: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError:
        raise ParseError(f"{what}: not JSON: {text.strip()[:80]!r}") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ParseError(f"{what}: expected a JSON list of objects")
    return data


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_links(text: str) -> list[Link]:
    """Every interface ``ip -j link show`` lists, in its order."""
    links = []
    for item in _json_list(text, "ip -j link"):
        name = item.get("ifname")
        if not isinstance(name, str) or not name:
            raise ParseError("ip -j link: an interface without a name")
        links.append(Link(name, _int(item.get("mtu")), _int(item.get("txqlen")), _str(item.get("operstate")),
                          _str(item.get("qdisc")), _str(item.get("link_type"))))
    return links


@dataclass(frozen=True)
class Address:
    ifname: str
    family: str  # "inet" or "inet6"
    address: str
    prefixlen: int | None
    scope: str | None
    #: Still in duplicate address detection: the kernel does not use it yet, and drops what
    #: arrives for it.
    tentative: bool


def parse_addresses(text: str) -> list[Address]:
    """Every address ``ip -j addr show`` lists, by interface, in its order."""
    found = []
    for item in _json_list(text, "ip -j addr"):
        name = item.get("ifname")
        if not isinstance(name, str) or not name:
            raise ParseError("ip -j addr: an interface without a name")
        infos = item.get("addr_info", [])
        if not isinstance(infos, list):
            raise ParseError(f"ip -j addr: {name}'s addr_info is not a list")
        for info in infos:
            if not isinstance(info, dict) or not isinstance(info.get("local"), str):
                raise ParseError(f"ip -j addr: an address of {name} without its address")
            found.append(Address(name, _str(info.get("family")) or "?", info["local"], _int(info.get("prefixlen")),
                                 _str(info.get("scope")), info.get("tentative") is True))
    return found


def parse_qdiscs(text: str) -> list[dict[str, Any]]:
    """Each queueing discipline: its kind, handle, where it sits (root or its parent) and
    its options, as tc states them."""
    found = []
    for item in _json_list(text, "tc -j qdisc"):
        kind = item.get("kind")
        if not isinstance(kind, str) or not kind:
            raise ParseError("tc -j qdisc: a qdisc without a kind")
        where = "root" if item.get("root") else _str(item.get("parent")) or "?"
        options = item.get("options") if isinstance(item.get("options"), dict) else {}
        found.append({"kind": kind, "handle": _str(item.get("handle")), "where": where, "options": options})
    return found


@dataclass(frozen=True)
class Route:
    """Where ``ip -j route get ADDRESS`` says traffic to an address goes."""

    dst: str
    dev: str
    prefsrc: str | None
    gateway: str | None
    mtu: int | None  # the route's own MTU (``ip route ... mtu N``), where it has one

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_route_get(text: str) -> Route:
    items = _json_list(text, "ip -j route get")
    if len(items) != 1:
        raise ParseError(f"ip -j route get: expected one route, got {len(items)}")
    item = items[0]
    dst, dev = item.get("dst"), item.get("dev")
    if not isinstance(dst, str) or not isinstance(dev, str) or not dev:
        raise ParseError("ip -j route get: a route without its destination or device")
    metrics = item.get("metrics") if isinstance(item.get("metrics"), list) else []
    mtu = next((_int(m.get("mtu")) for m in metrics if isinstance(m, dict) and "mtu" in m), None)
    return Route(dst, dev, _str(item.get("prefsrc")), _str(item.get("gateway")), mtu)


def link_kind(text: str) -> str | None:
    """The kind ``ip -j -d link show dev DEV`` gives an interface (veth, bridge, vlan), None
    for a plain physical device."""
    items = _json_list(text, "ip -j -d link")
    info = items[0].get("linkinfo") if items else None
    return _str(info.get("info_kind")) if isinstance(info, dict) else None


@dataclass(frozen=True)
class LinkCounters:
    """An interface's counters (``ip -s -j link``): what it received and sent, and what it
    dropped or failed, each way. A tap's TX side is what the container sent to its helper."""

    ifname: str
    rx_packets: int
    rx_bytes: int
    rx_errors: int
    rx_dropped: int
    tx_packets: int
    tx_bytes: int
    tx_errors: int
    tx_dropped: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def minus(self, before: "LinkCounters") -> "LinkCounters":
        """What happened between two readings of the same interface."""
        return LinkCounters(self.ifname, *(getattr(self, f) - getattr(before, f) for f in _COUNTERS))


_COUNTERS = ("rx_packets", "rx_bytes", "rx_errors", "rx_dropped", "tx_packets", "tx_bytes", "tx_errors", "tx_dropped")


def parse_link_counters(text: str) -> list[LinkCounters]:
    """Every interface's counters from ``ip -s -j link show``."""
    found = []
    for item in _json_list(text, "ip -s -j link"):
        stats = item.get("stats64") or item.get("stats")
        name = _str(item.get("ifname"))
        if not isinstance(stats, dict) or name is None:
            raise ParseError("ip -s -j link: an interface without a name or counters")
        values = []
        for way in ("rx", "tx"):
            side = stats.get(way)
            if not isinstance(side, dict):
                raise ParseError(f"ip -s -j link: {name} has no {way} counters")
            for key in ("packets", "bytes", "errors", "dropped"):
                value = _int(side.get(key))
                if value is None:
                    raise ParseError(f"ip -s -j link: {name} {way} {key} is not a count")
                values.append(value)
        rx, tx = values[:4], values[4:]
        found.append(LinkCounters(name, rx[0], rx[1], rx[2], rx[3], tx[0], tx[1], tx[2], tx[3]))
    return found


@dataclass(frozen=True)
class QdiscCounters:
    """One queueing discipline as ``tc -s -j qdisc show`` gives it: where it sits, and what
    it passed on (``packets``: segments, a GSO frame counts as its segments) and dropped
    (netem's loss is counted there) since it was added."""

    dev: str
    kind: str
    handle: str
    where: str
    options: dict[str, Any]
    packets: int
    bytes: int
    drops: int
    overlimits: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_qdisc_counters(text: str, device: str = "") -> list[QdiscCounters]:
    """Every qdisc of every JSON list in ``text``: one ``tc -s -j qdisc show`` per line, as
    a ``tc -batch`` of show commands prints them (other lines, what a batch's other commands
    said, are left out). ``show dev X`` names no device in its entries: ``device`` is that X.
    A qdisc without its device or counters is an error."""
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("["):
            continue
        for item in _json_list(line, "tc -s -j qdisc"):
            dev, kind = item.get("dev") or device, item.get("kind")
            if not isinstance(dev, str) or not dev or not isinstance(kind, str) or not kind:
                raise ParseError("tc -s -j qdisc: a qdisc without its device or kind")
            counts = {key: _int(item.get(key)) for key in ("packets", "bytes", "drops", "overlimits")}
            missing = [key for key, value in counts.items() if value is None or value < 0]
            if missing:
                raise ParseError(f"tc -s -j qdisc: {kind} on {dev} without its counters ({', '.join(missing)})")
            where = "root" if item.get("root") else _str(item.get("parent")) or "?"
            options = item.get("options") if isinstance(item.get("options"), dict) else {}
            found.append(QdiscCounters(dev, kind, _str(item.get("handle")) or "?", where, options,
                                       counts["packets"] or 0, counts["bytes"] or 0, counts["drops"] or 0,
                                       counts["overlimits"] or 0))
    return found
