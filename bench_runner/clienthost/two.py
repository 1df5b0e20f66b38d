"""A ``--client-host`` run as asked, checked on this machine before anything is built:
the SSH target, the address of this machine the client host connects to, and the tools the
selected workloads need there.

Confinement: the suite connects to nothing but the named peer (SSH, and the outbound
workloads' server), and the peer to nothing but ``--server-address``; both are literal
addresses, so nothing is resolved.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .. import procs
from ..errors import BenchError, SetupError, UsageError
from ..parsers import ParseError, iproute
from ..paths import VENV_PYTHON
from .machine import SCRIPT
from .sshcmd import SshOptions, literal_address

FACTS_TIMEOUT = 30.0


@dataclass(frozen=True)
class TwoComputers:
    options: SshOptions
    server_address: str
    #: Tools needed on the client host, each with what it is for.
    needed: dict[str, str] = field(default_factory=dict)

    def to_options(self) -> dict[str, Any]:
        """What the results document's run options record (enough to resume)."""
        return {**self.options.to_json(), "server_address": self.server_address}

    def check(self) -> None:
        """Before anything is built or printed: ``--server-address`` must be an address of
        this machine and the peer not; ssh must get in, and the peer have every tool needed
        (nothing is made there yet). Each failure is one line (SetupError, UsageError)."""
        self.check_addresses()
        from . import ssh

        ssh.check(self.options, self.server_address, self.needed)

    def check_addresses(self) -> None:
        """The peer connects to ``--server-address``: it must be this machine's (not the peer's)."""
        try:
            listed = procs.run(["ip", "-j", "addr", "show"], timeout=FACTS_TIMEOUT)
            ours = {a.address for a in iproute.parse_addresses(listed.stdout)}
        except (BenchError, ParseError) as exc:
            raise SetupError(f"could not list this machine's addresses: {exc}") from None
        if self.server_address not in ours:
            family = self.options.target.family
            usable = sorted(a for a in ours if _usable(a, family))
            raise UsageError(f"--server-address {self.server_address}: not an address of this machine (its "
                             f"IPv{family} addresses: {', '.join(usable) or 'none but loopback'})")
        peer = self.options.target.host
        if peer in ours:
            raise UsageError(f"--client-host {self.options.target.url}: {peer} is an address of this machine; "
                             "the client host must be another computer")

    def local_facts(self) -> dict[str, Any]:
        """This machine's facts (its interface toward the peer), read as the peer's are."""
        try:
            result = procs.run([str(VENV_PYTHON), "-I", "-c", SCRIPT, "facts", self.options.target.host],
                               timeout=FACTS_TIMEOUT)
            return dict(json.loads(result.stdout)["facts"])
        except (BenchError, ValueError, KeyError, TypeError) as exc:
            raise SetupError(f"could not read this machine's facts: {exc}") from None


def _usable(address: str, family: int) -> bool:
    """An address another computer could connect to, in the family: not loopback or link-local."""
    parsed = ipaddress.ip_address(address.split("%")[0])
    return parsed.version == family and not parsed.is_loopback and not parsed.is_link_local


def from_args(url: str | None, server_address: str | None, identity: str | None,
              known_hosts: str | None) -> TwoComputers | None:
    """The command line's --client-host and its companions, validated; None without
    --client-host. The key and known-hosts files are made absolute (ssh runs from /) and must
    exist: ssh would only say that the key was refused."""
    from .sshcmd import parse_url

    if url is None:
        for flag, value in (("--server-address", server_address), ("--client-key", identity),
                            ("--client-known-hosts", known_hosts)):
            if value is not None:
                raise UsageError(f"{flag} is for a run with --client-host ssh://USER@HOST[:PORT]")
        return None
    target = parse_url(url)
    if server_address is None:
        raise UsageError("--client-host needs --server-address ADDR: the address of this machine the client "
                         "host connects to")
    address = literal_address(server_address, "--server-address")
    if ipaddress.ip_address(address).version != target.family:
        raise UsageError(f"--server-address {address} and --client-host {target.url} are in different IP families")
    if ipaddress.ip_address(address).is_loopback:
        raise UsageError(f"--server-address {address}: a loopback address is not reachable from another computer")
    return TwoComputers(SshOptions(target, _file(identity, "--client-key"), _file(known_hosts, "--client-known-hosts")),
                        address)


def _file(path: str | None, flag: str) -> str | None:
    if path is None:
        return None
    found = Path(path).expanduser().absolute()
    if not found.exists() or found.is_dir():
        raise UsageError(f"{flag} {path}: no such file")
    return str(found)


def tools_needed(workloads: Iterable[str], remote_placement: bool) -> dict[str, str]:
    """What the client host needs for the selected workloads: iperf3 for those an iperf3
    client drives there (python3 runs everything else)."""
    if not remote_placement:
        return {}
    iperf = sorted({w for w in workloads if _iperf_client(w)})
    return {"iperf3": f"for {', '.join(iperf)}"} if iperf else {}


def _iperf_client(workload_id: str) -> bool:
    """Is the workload's client the iperf3 client worker (the iperf3 drivers, inbound)?"""
    from ..workloads.sweeps import base_of
    from ..workloads import DRIVERS
    from ..workloads.iperf import TcpStream

    return isinstance(DRIVERS[base_of(workload_id)], TcpStream)
