"""The two-host lab: a server host and a client host as network namespaces on a veth pair.

Addresses are in 198.51.100.0/24 (TEST-NET-2) and, for IPv6, 2001:db8:5100::/48 (inside the
documentation prefix 2001:db8::/32). The server host's default routes point at the client
host, so "outbound" traffic from a container lands where the suite can serve it (and pasta
and slirp4netns find the template they copy); everything outside the lab's subnets is a
``prohibit`` route on both hosts, in both families, so a connection anywhere else fails at
once, and nothing can leave. The IPv6 addresses skip duplicate address detection: they are
usable the moment the link is up.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import asdict, dataclass
from typing import Callable, Iterator

from .. import procs
from ..errors import MeasurementError, SetupError
from ..parsers import iproute

SUBNET = "198.51.100.0/24"
SERVER_ADDR = "198.51.100.1"
CLIENT_ADDR = "198.51.100.2"
PREFIX_LEN = 24
#: A second link between the hosts, so a client can arrive on another interface of the
#: server host (for the device-binding check).
SECOND_SERVER_ADDR = "198.51.100.129"
SECOND_CLIENT_ADDR = "198.51.100.130"
SECOND_PREFIX_LEN = 25
#: IPv6: one /64 per link, inside the lab's 2001:db8:5100::/48.
SUBNET6 = "2001:db8:5100::/48"
SERVER_ADDR6 = "2001:db8:5100::1"
CLIENT_ADDR6 = "2001:db8:5100::2"
SECOND_SERVER_ADDR6 = "2001:db8:5100:1::1"
SECOND_CLIENT_ADDR6 = "2001:db8:5100:1::2"
PREFIX_LEN6 = 64
#: Both halves of each family's address space: more specific than the server host's
#: default route, less specific than the lab's own subnets.
PROHIBITED_HALVES = {4: ("0.0.0.0/1", "128.0.0.0/1"), 6: ("::/1", "8000::/1")}
NETNS_DIR = "/run/netns"
NAME_PREFIX = "netbench-"
IP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Lab:
    tag: str
    server_ns: str
    client_ns: str
    server_if: str
    client_if: str
    mtu: int
    server_addr: str = SERVER_ADDR
    client_addr: str = CLIENT_ADDR
    second_server_if: str = ""
    second_client_if: str = ""
    second_server_addr: str = SECOND_SERVER_ADDR
    second_client_addr: str = SECOND_CLIENT_ADDR
    server_addr6: str = SERVER_ADDR6
    client_addr6: str = CLIENT_ADDR6
    second_server_addr6: str = SECOND_SERVER_ADDR6
    second_client_addr6: str = SECOND_CLIENT_ADDR6
    #: Two computers (``run --client-host``): the server host is the network namespace the run
    #: was started in (this path), the client host another machine (this URL); the lab has no
    #: namespace of its own then, and nothing of the client host is on this machine.
    own_netns: str = ""
    client_url: str = ""

    @property
    def two_computers(self) -> bool:
        return bool(self.own_netns)

    def server_address(self, family: int = 4) -> str:
        """The server host's address on the main link in an IP family (4 or 6)."""
        return self.server_addr6 if family == 6 else self.server_addr

    def client_address(self, family: int = 4) -> str:
        return self.client_addr6 if family == 6 else self.client_addr

    def second_server_address(self, family: int = 4) -> str:
        """The server host's address on the second link (the device-binding probe's other
        interface)."""
        return self.second_server_addr6 if family == 6 else self.second_server_addr

    @property
    def server_ns_path(self) -> str:
        return self.own_netns or f"{NETNS_DIR}/{self.server_ns}"

    @property
    def client_ns_path(self) -> str:
        if self.two_computers:
            raise MeasurementError(f"the client host is another computer ({self.client_url}): it has no "
                                   "namespace on this machine")
        return f"{NETNS_DIR}/{self.client_ns}"

    def server_netns_inode(self) -> int | None:
        """The server host's namespace, as the kernel names it (an inode number)."""
        try:
            return os.stat(self.server_ns_path).st_ino
        except OSError:
            return None

    def in_server(self, argv: list[str]) -> list[str]:
        """A command run as root in the server host (observation, not workload)."""
        return ["nsenter", f"--net={self.server_ns_path}", "--", *argv]

    def in_client(self, argv: list[str]) -> list[str]:
        return ["nsenter", f"--net={self.client_ns_path}", "--", *argv]

    def namespaces(self) -> list[str]:
        return [] if self.two_computers else [self.server_ns, self.client_ns]

    def to_json(self) -> dict[str, object]:
        if self.two_computers:
            # No lab: the two computers' own addresses (the rest is recorded with the machines).
            return {"kind": "two computers", "tag": self.tag, "client_host": self.client_url,
                    **{k: getattr(self, k) or None for k in ("server_addr", "client_addr", "server_addr6",
                                                             "client_addr6")}}
        data = asdict(self)
        del data["own_netns"], data["client_url"]
        data["subnet"] = SUBNET
        data["subnet6"] = SUBNET6
        return data


def two_computers(tag: str, server_address: str, client_address: str, client_url: str) -> Lab:
    """The "lab" of a ``--client-host`` run: this machine, as the namespace the run is in,
    and another computer. Both addresses in the one IP family they share."""
    v6 = ":" in server_address
    return Lab(tag, "", "", "", "", 0,
               server_addr="" if v6 else server_address, client_addr="" if v6 else client_address,
               server_addr6=server_address if v6 else "", client_addr6=client_address if v6 else "",
               second_server_addr="", second_client_addr="", second_server_addr6="", second_client_addr6="",
               own_netns=f"/proc/{os.getpid()}/ns/net", client_url=client_url)


def new_tag() -> str:
    return secrets.token_hex(4)


def names_for(tag: str) -> tuple[str, str, str, str]:
    """Namespace and interface names; interface names stay within 15 characters."""
    return f"{NAME_PREFIX}{tag}-srv", f"{NAME_PREFIX}{tag}-cli", f"nb{tag}s", f"nb{tag}c"


def box_namespace(tag: str) -> str:
    """The helper namespace a run's delay box (lab/delaybox.py) runs in."""
    return f"{NAME_PREFIX}{tag}-box"


def second_link_names(tag: str) -> tuple[str, str]:
    return f"nb{tag}t", f"nb{tag}d"


def _ip(*args: str) -> None:
    procs.run(["ip", *args], timeout=IP_TIMEOUT)


def _no_dad(ns: str, ifname: str) -> None:
    """No duplicate address detection on a lab interface: its link-local address too is
    usable at once (the global ones are added with ``nodad``). Nothing else is on the link."""
    procs.run(["nsenter", f"--net={NETNS_DIR}/{ns}", "--", "sysctl", "-q", "-w",
               f"net.ipv6.conf.{ifname}.accept_dad=0"], timeout=IP_TIMEOUT)


def _sysctl(ns: str, setting: str) -> None:
    procs.run(["nsenter", f"--net={NETNS_DIR}/{ns}", "--", "sysctl", "-q", "-w", setting], timeout=IP_TIMEOUT)


#: Puts the lab's main link in place: ``lab.server_if`` in the server host and
#: ``lab.client_if`` in the client host, down and without addresses (a delay box's taps).
MainLink = Callable[["Lab"], None]


def create(tag: str | None = None, *, mtu: int = 1500, main_link: MainLink | None = None) -> Lab:
    """Build the lab; on any failure, remove what was built and re-raise. ``main_link``
    builds the main link instead of a veth pair: its ends arrive with IPv6 off (the
    namespaces' default while they arrive), and get it only once both are up, so that no
    IPv6 frame (router or neighbour solicitations, reports) is written to one end while the
    other is still down: a delay box's tap must never see that (lab/delaybox.py)."""
    if os.geteuid() != 0:
        raise SetupError("building the lab needs root (network namespaces and a veth pair): run as root")
    if not 1280 <= mtu <= 65535:
        raise MeasurementError(f"lab MTU {mtu} out of range 1280..65535")
    tag = tag or new_tag()
    server_ns, client_ns, server_if, client_if = names_for(tag)
    server_if2, client_if2 = second_link_names(tag)
    lab = Lab(tag, server_ns, client_ns, server_if, client_if, mtu,
              second_server_if=server_if2, second_client_if=client_if2)
    try:
        _ip("netns", "add", server_ns)
        _ip("netns", "add", client_ns)
        for ns in (server_ns, client_ns):
            _ip("-n", ns, "link", "set", "lo", "up")
        links = ((server_if, client_if, (SERVER_ADDR, CLIENT_ADDR, PREFIX_LEN),
                  (SERVER_ADDR6, CLIENT_ADDR6, PREFIX_LEN6)),
                 (server_if2, client_if2, (SECOND_SERVER_ADDR, SECOND_CLIENT_ADDR, SECOND_PREFIX_LEN),
                  (SECOND_SERVER_ADDR6, SECOND_CLIENT_ADDR6, PREFIX_LEN6)))
        for s_if, c_if, (s_addr, c_addr, prefix), (s_addr6, c_addr6, prefix6) in links:
            ends = ((server_ns, s_if, s_addr, s_addr6), (client_ns, c_if, c_addr, c_addr6))
            built_elsewhere = main_link is not None and s_if == server_if
            if built_elsewhere:
                for ns in (server_ns, client_ns):
                    _sysctl(ns, "net.ipv6.conf.default.disable_ipv6=1")
                main_link(lab)
                for ns in (server_ns, client_ns):
                    _sysctl(ns, "net.ipv6.conf.default.disable_ipv6=0")
                for ns, ifname, _, _ in ends:
                    _ip("-n", ns, "link", "set", ifname, "mtu", str(mtu))
            else:
                _ip("link", "add", s_if, "mtu", str(mtu), "netns", server_ns,
                    "type", "veth", "peer", "name", c_if, "mtu", str(mtu), "netns", client_ns)
            for ns, ifname, addr, addr6 in ends:
                _no_dad(ns, ifname)
                _ip("-n", ns, "addr", "add", f"{addr}/{prefix}", "dev", ifname)
                if not built_elsewhere:
                    _ip("-n", ns, "-6", "addr", "add", f"{addr6}/{prefix6}", "dev", ifname, "nodad")
                _ip("-n", ns, "link", "set", ifname, "up")
            if built_elsewhere:
                for ns, ifname, _, addr6 in ends:
                    _sysctl(ns, f"net.ipv6.conf.{ifname}.disable_ipv6=0")
                    _ip("-n", ns, "-6", "addr", "add", f"{addr6}/{prefix6}", "dev", ifname, "nodad")
        # pasta and slirp4netns take their template from the default route, in each family.
        _ip("-n", server_ns, "route", "add", "default", "via", CLIENT_ADDR, "dev", server_if)
        _ip("-n", server_ns, "-6", "route", "add", "default", "via", CLIENT_ADDR6, "dev", server_if)
        # ... but nothing outside the lab is reachable: more specific prohibit routes.
        for family, halves in PROHIBITED_HALVES.items():
            for half in halves:
                _ip("-n", server_ns, f"-{family}", "route", "add", "prohibit", half)
        _ip("-n", client_ns, "route", "add", "prohibit", "default")
        _ip("-n", client_ns, "-6", "route", "add", "prohibit", "default")
    except BaseException:
        destroy(lab)
        raise
    return lab


def netns_inode(name: str) -> int | None:
    try:
        return os.stat(f"{NETNS_DIR}/{name}").st_ino
    except OSError:
        return None


def pids_in_netns(name: str) -> list[int]:
    """Processes whose network namespace is the named one (zombies excluded)."""
    inode = netns_inode(name)
    if inode is None:
        return []
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/net").st_ino == inode and not procs.is_zombie(int(entry)):
                found.append(int(entry))
        except OSError:
            continue
    return found


def destroy(lab: Lab) -> list[str]:
    """Remove the lab. Any process still inside one of its namespaces was started by this
    run (the names are unique to it), so it is stopped first. Returns what went wrong."""
    return [problem for ns in lab.namespaces() for problem in destroy_namespace(ns)]


def destroy_namespace(ns: str) -> list[str]:
    """Remove one namespace of the suite's, stopping every process still in it first (the
    run that made it started them). Returns what went wrong."""
    problems: list[str] = []
    if netns_inode(ns) is None:
        return problems
    for pid in pids_in_netns(ns):
        ref = procs.ProcRef.of(pid)
        if ref is not None and not procs.stop(ref, grace=1.0):
            problems.append(f"process {pid} in {ns} did not stop")
    try:
        procs.run(["ip", "netns", "del", ns], timeout=IP_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - teardown collects, never raises
        problems.append(f"removing namespace {ns}: {exc}")
    return problems


def existing_lab_namespaces() -> list[str]:
    """Every namespace that carries the suite's name prefix."""
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if n.startswith(NAME_PREFIX))
    except FileNotFoundError:
        return []


def resource_name(tag: str, what: str, number: int) -> str:
    """A name for something a run makes besides the lab (containers, helper directories),
    from which cleanup can tell the run: ``netbench-<tag>-<what><number>``."""
    return f"{NAME_PREFIX}{tag}-{what}{number}"


def tag_of_resource(name: str) -> str | None:
    """The run tag in a name made by :func:`resource_name`, else None."""
    if not name.startswith(NAME_PREFIX):
        return None
    tag, dash, rest = name[len(NAME_PREFIX):].partition("-")
    what = rest.rstrip("0123456789")
    valid = (dash and len(tag) == 8 and all(c in "0123456789abcdef" for c in tag)
             and what.isalpha() and what.islower() and len(what) < len(rest))
    return tag if valid else None


def tag_of_namespace(name: str) -> str | None:
    """The run tag of a namespace the suite made (``netbench-<8 hex>-srv|cli``), else None:
    a namespace of anyone else that merely starts with the prefix is never touched."""
    if not name.startswith(NAME_PREFIX):
        return None
    tag, dash, role = name[len(NAME_PREFIX):].partition("-")
    valid = dash and role in ("srv", "cli", "box") and len(tag) == 8 and all(c in "0123456789abcdef" for c in tag)
    return tag if valid else None



@contextlib.contextmanager
def link_mtu(lab: Lab, mtu: int | None) -> Iterator[dict[str, int | None]]:
    """The lab link at ``mtu`` at both ends, for a trial (``--link-mtu``), then back to the
    lab's own MTU. Yields the MTU read back from each end, so the trial records what was in
    place; an end that did not take it fails the trial."""
    if mtu is None:
        yield {}
        return
    ends = ((lab.in_server, lab.server_if, "server_end"), (lab.in_client, lab.client_if, "client_end"))
    try:
        for run_in, device, _ in ends:
            procs.run(run_in(["ip", "link", "set", "dev", device, "mtu", str(mtu)]), timeout=15)
        seen: dict[str, int | None] = {}
        for run_in, device, key in ends:
            shown = procs.run(run_in(["ip", "-j", "link", "show", "dev", device]), timeout=15).stdout
            found = [link.mtu for link in iproute.parse_links(shown) if link.ifname == device]
            seen[key] = found[0] if found else None
        if any(value != mtu for value in seen.values()):
            raise MeasurementError(f"--link-mtu {mtu} did not take on the lab link: "
                                   + ", ".join(f"{k} {v}" for k, v in seen.items()))
        yield seen
    finally:
        for run_in, device, _ in ends:
            procs.run(run_in(["ip", "link", "set", "dev", device, "mtu", str(lab.mtu)]), timeout=15, check=False)
