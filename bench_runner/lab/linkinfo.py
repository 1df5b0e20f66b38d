"""What the links a trial's traffic crosses were set to, as observed: the lab link's offloads
(``ethtool -k``) and queueing disciplines (``tc qdisc``) at both ends, once when the lab is
built, and inside a server's own network namespace the MTU and transmit queue length of its
interfaces, per trial. Each reading records why it could not be taken instead of failing."""

from __future__ import annotations

import shutil
import time
from typing import Any

from .. import procs
from ..errors import BenchError
from .hosts import Lab
from ..parsers import ParseError, ethtool, iproute

TIMEOUT = 10.0
#: How long a server's IPv6 addresses may stay tentative (duplicate address detection takes
#: a second or two) before an IPv6 trial or probe gives up.
IPV6_SETTLE_TIMEOUT = 10.0


def in_netns(netns_path: str, argv: list[str]) -> list[str]:
    """``argv`` in a network namespace (by path), as root."""
    return ["nsenter", f"--net={netns_path}", "--", *argv]


def device_evidence(netns_path: str, device: str) -> dict[str, Any]:
    """One end of a link: its main offloads, every feature ethtool lists, and its qdiscs."""
    record: dict[str, Any] = {"device": device}
    if shutil.which("ethtool") is None:
        record["ethtool_error"] = "ethtool missing (install the ethtool package: scripts/setup.sh does)"
    else:
        try:
            result = procs.run(in_netns(netns_path, ["ethtool", "-k", device]), timeout=TIMEOUT)
            features = ethtool.parse_features(result.stdout)
            record["offloads"] = ethtool.main_offloads(features)
            record["features"] = features
        except (BenchError, ParseError) as exc:
            record["ethtool_error"] = str(exc)
    try:
        result = procs.run(in_netns(netns_path, ["tc", "-j", "qdisc", "show", "dev", device]), timeout=TIMEOUT)
        record["qdiscs"] = iproute.parse_qdiscs(result.stdout)
    except (BenchError, ParseError) as exc:
        record["qdisc_error"] = str(exc)
    return record


def lab_link(lab: Lab) -> dict[str, Any]:
    """The lab's main link (the one every trial's traffic crosses), at the server host's end
    and at the client host's."""
    return {"server": device_evidence(lab.server_ns_path, lab.server_if),
            "client": device_evidence(lab.client_ns_path, lab.client_if)}


def interfaces_of(pid: int) -> dict[str, Any]:
    """The interfaces other than lo in the network namespace of ``pid``, with their MTU and
    transmit queue length, read as root with ``ip -j link`` from inside it (/sys/class/net
    would show the namespace that mounted /sys, not this one)."""
    try:
        result = procs.run(in_netns(f"/proc/{pid}/ns/net", ["ip", "-j", "link", "show"]), timeout=TIMEOUT)
        links = iproute.parse_links(result.stdout)
    except (BenchError, ParseError) as exc:
        return {"error": str(exc)}
    return {"interfaces": [link.to_json() for link in links if link.link_type != "loopback" and link.ifname != "lo"]}


def set_txqueuelen(pid: int, packets: int) -> list[str]:
    """Set the transmit queue of every interface but lo in the network namespace of ``pid``
    (a container's tap: ``--container-txqueuelen``), as root from outside the container, the
    way an administrator would; returns the interfaces set. The trial reads the queue back
    with ``interfaces_of`` before it counts."""
    found = interfaces_of(pid)
    if "error" in found:
        raise BenchError(f"the container's interfaces could not be read: {found['error']}")
    names = [link["ifname"] for link in found["interfaces"]]
    if not names:
        raise BenchError("the container has no interface but lo: no queue to set")
    for name in names:
        procs.run(in_netns(f"/proc/{pid}/ns/net", ["ip", "link", "set", "dev", name, "txqueuelen", str(packets)]),
                  timeout=TIMEOUT)
    return names


def tentative_ipv6(pid: int) -> list[str]:
    """The IPv6 addresses in the network namespace of ``pid`` still in duplicate address
    detection ("fe80::1%eth0")."""
    result = procs.run(in_netns(f"/proc/{pid}/ns/net", ["ip", "-j", "-6", "addr", "show"]), timeout=TIMEOUT)
    return [f"{a.address}%{a.ifname}" for a in iproute.parse_addresses(result.stdout) if a.tentative]


def settle_ipv6(pid: int, timeout: float = IPV6_SETTLE_TIMEOUT) -> tuple[list[str], float]:
    """Wait until no IPv6 address in the network namespace of ``pid`` is tentative: pasta
    (before its later releases) forwards a client to the container's link-local address, and
    a connection arriving during its duplicate address detection, a second or two after the
    container starts, is reset (observed with pasta 0.0~git20230309). Returns the addresses
    first seen tentative ([] if none) and the seconds waited."""
    clock = time.monotonic()
    first: list[str] = []

    def settled() -> bool:
        tentative = tentative_ipv6(pid)
        if tentative and not first:
            first.extend(tentative)
        return not tentative

    procs.wait_until(settled, timeout=timeout, interval=0.1,
                     what="the server's IPv6 addresses to leave duplicate address detection")
    return first, time.monotonic() - clock
