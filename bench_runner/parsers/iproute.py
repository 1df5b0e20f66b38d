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
