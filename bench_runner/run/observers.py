"""Observers of a trial: what carried its traffic, the interfaces inside the server's
namespace, whether IPv6 went over the link, the helper's CPU, and whether a swept value is
what the trial really ran with. The executor calls them around the client; each records
what it saw in the trial's observations and raises when the trial must not count.
"""

from __future__ import annotations

import ipaddress

from ..lab import linkinfo, observe
from .. import procs
from ..workloads import sweeps
from ..errors import MeasurementError
from .matrix import METHODS, Cell
from ..methods.base import INHERITED, SERVER
from ..providers import Session
from ..results.document import Trial
from ..workloads import TrialSettings

class Observers:
    """The observers of one run: they cache the server hosts' namespaces (read once, as the
    carrier check runs while clients measure) and remember whose links were looked at."""

    def __init__(self) -> None:
        self._netns: dict[str, int | None] = {}
        #: Cells whose server namespace's links were looked at in this run.
        self.links_seen: set[Cell] = set()

    def server_host_netns(self, session: Session) -> int | None:
        """The server host's namespace inode: fixed for the session, so read once (the
        carrier check runs while clients measure)."""
        name = session.lab.server_ns_path
        if name not in self._netns:
            self._netns[name] = session.lab.server_netns_inode()
        return self._netns[name]

    def check_swept(self, cell: Cell, settings: TrialSettings, trial: Trial) -> None:
        """A swept value counts only as observed: the container's MTU on its interface, the
        streams iperf3 ran, the echo clients that measured at once."""
        mtu = settings.swept("mtu")
        if mtu is not None:
            method = METHODS[cell.method]
            links = trial.observations.get("container_links") or {}
            seen = [i.get("mtu") for i in links.get("interfaces") or []]
            if not method.own_network or method.shares_host_network:
                trial.observations["container_mtu"] = {
                    "asked": mtu, "applies": False,
                    "why": "the server uses the server host's own interfaces (lab link MTU --mtu)"}
            elif "interfaces" not in links:
                raise MeasurementError(f"the container's MTU could not be observed: {links.get('error', 'not read')}")
            else:
                trial.observations["container_mtu"] = {"asked": mtu, "seen": seen}
                if mtu not in seen:
                    raise MeasurementError(f"--container-mtu {mtu} asked, but the container's interfaces have MTU "
                                           f"{', '.join(map(str, seen)) or 'none'}")
        queue = settings.swept("txqueuelen")
        if queue is not None and METHODS[cell.method].no_tap:
            trial.observations["container_txqueuelen"] = {"asked": queue, "applies": False,
                                                          "why": METHODS[cell.method].no_tap}
        elif queue is not None:
            links = trial.observations.get("container_links") or {}
            seen = [i.get("txqlen") for i in links.get("interfaces") or []]
            trial.observations["container_txqueuelen"] = {"asked": queue, "seen": seen}
            if not seen or any(value != queue for value in seen):
                raise MeasurementError(f"--container-txqueuelen {queue} asked, but the container's interfaces have "
                                       f"{', '.join(map(str, seen)) or 'none'}")
        streams = (("streams", "streams", "iperf3 ran") if "clients" not in trial.observations
                   else ("streams", "clients", "the echo clients that measured were"))
        for name, key, what in (streams, ("size", "message_size", "the client sent"),
                                ("udp_rate", "offered_rate_mbps", "iperf3 offered")):
            asked = settings.swept(name)
            if name == "udp_rate" and asked == sweeps.UDP_MAX:
                continue  # a search: each probe was checked at its own rate
            if asked is not None and trial.observations.get(key) != asked:
                raise MeasurementError(f"{sweeps.SWEEPS[name].flag} {asked} asked, but {what} "
                                       f"{trial.observations.get(key)}")
        if settings.family == 6:
            check_ipv6(trial)

    def settle_ipv6(self, pid: int, trial: Trial) -> None:
        """An IPv6 trial's client comes only once the server's namespace has no tentative IPv6
        address (``linkinfo.settle_ipv6`` says why). The wait is recorded: a service would see
        those resets."""
        if pid <= 0:
            return
        first, waited = linkinfo.settle_ipv6(pid)
        if first:
            trial.observations["ipv6_tentative"] = {"addresses": first, "waited_s": round(waited, 3)}

    def observe_links(self, session: Session, cell: Cell, pid: int, trial: Trial) -> None:
        """The MTU and transmit queue length of the interfaces in the network namespace the
        server (or the container's client) runs in: its own, or the server host's for host
        and socket activation."""
        if pid <= 0:
            seen: dict[str, object] = {"error": "no process of the container was left to look into"}
        else:
            netns = observe.netns_of(pid)
            seen = linkinfo.interfaces_of(pid)
            if netns is not None and "error" not in seen:
                seen["namespace"] = "server host" if netns == self.server_host_netns(session) else "own"
        trial.observations["container_links"] = seen
        self.links_seen.add(cell)

    def carrier(self, session: Session, info: observe.ProcessInfo) -> str:
        """What carried the traffic, in the terms of ``NetworkMethod.carrier``."""
        if not info.kind.startswith("server:"):
            return info.kind
        return INHERITED if info.netns is not None and info.netns != self.server_host_netns(session) else SERVER


def is_ipv6(address: object) -> bool:
    """An IPv6 address, not an IPv4-mapped one (``::ffff:198.51.100.2`` is an IPv4 client)."""
    if not isinstance(address, str):
        return False
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return parsed.version == 6 and parsed.ipv4_mapped is None


def check_ipv6(trial: Trial) -> None:
    """An IPv6 trial counts only if IPv6 is what went over the lab link, as the far end saw it:
    inbound, the client's own address (the server may see a forwarder's instead); outbound,
    the address the client host's server saw the container's connection come from."""
    seen = trial.observations
    outbound = "remote_saw" in seen
    key = "remote_saw" if outbound else "client_address"
    address = seen.get(key)
    seen["ip_family"] = {"asked": 6, key: address,
                         **({} if outbound else {"server_saw": seen.get("peer_address")})}
    if not is_ipv6(address):
        what = "the client host's server saw the container connect from" if outbound else "the client connected from"
        raise MeasurementError(f"--family 6 asked, but {what} {address or 'an unknown address'}")


class CpuFromSighting:
    """The ``enough`` of an outbound trial's connection watcher that also reads the helper's CPU.
    The client connects as soon as its container starts, so the helper is named only by its end
    of the connection: its CPU is read from that first sighting on (a helper only: no CPU is
    counted for the server itself, as inbound)."""

    FROM = "the first sighting of the helper's end of the connection"

    def __init__(self, carrier: str | None) -> None:
        self.carrier = carrier if carrier not in (None, SERVER, INHERITED) else None
        self.watch: procs.CpuWatch | None = None

    def __call__(self, seen: list[observe.ProcessInfo]) -> bool:
        helper = next((i for i in seen if i.kind == self.carrier), None)
        if helper is not None and self.watch is None:
            self.watch = procs.CpuWatch(helper.pid)
        return bool(seen)

    def finish(self) -> tuple[float | None, bool]:
        """(CPU seconds since the sighting, whether read at the end); (None, False) if no helper was seen."""
        return self.watch.finish() if self.watch is not None else (None, False)


def record_helper_cpu(trial: Trial, cpu: float | None, read_at_end: bool, bytes_moved: int | None) -> None:
    """The helper's CPU seconds over the client run, and per GB moved when the bytes are known."""
    if cpu is None:
        return
    trial.observations["helper_cpu_s"] = round(cpu, 4)
    if not read_at_end:
        # the helper ended with its container: its last reading, at most 0.1 s before
        trial.observations["helper_cpu_read"] = "last sample before the helper exited"
    if bytes_moved:
        trial.samples["helper_cpu_s_per_gb"] = cpu / (bytes_moved / 1e9)
