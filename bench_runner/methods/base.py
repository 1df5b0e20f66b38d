"""What a method is: everything the suite knows about one way of receiving traffic, in one
object. Providers, probes, claims and the matrix ask the method; none of them keeps a
table keyed by method id.

A method module (``methods/pasta.py`` and its siblings) builds one ``NetworkMethod``. The
parts a provider needs are grouped by provider: ``PodmanWay`` (Podman's ``--network``
value) and ``BareWay`` (the helper's own command line). A provider that has no way for a
method says so with the method's own reason.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from ..workloads.definition import Workload
from ..workloads.serverspec import PCAP, ServerSpec, UnsupportedOption

#: Carriers that are not a helper: the workload's own server in the server host's network,
#: or the server in a namespace of its own holding a socket of the server host it inherited.
SERVER = "server"
INHERITED = "inherited"

#: The guide's claims, by id (claims.py gives their titles; each method what the guide says).
SOURCE_ADDRESS = "source_address_preserved"
NATIVE_PERFORMANCE = "native_performance"
DEVICE_BINDING = "device_binding"
MINIMUM_PORT = "minimum_port"
HOST_LOOPBACK_DEFAULT = "host_loopback_default"
OUTBOUND_REMOTE = "outbound_remote"
#: The guide's "minimum port number" for methods bound by the kernel's floor.
FLOOR = "ip_unprivileged_port_start"


class Attach(enum.Enum):
    """How the bare provider attaches a method's helper; it has one starter per kind."""

    SERVER = "the server itself, in the server host's network"
    PASTA = "pasta, attached to the server's own namespaces"
    SLIRP4NETNS = "slirp4netns with its API socket, attached to the server's own namespaces"
    ROOTLESSKIT = "rootlesskit running the server, with its builtin port driver"
    ACTIVATED = "a socket made outside, inherited by a server with no network of its own"


@dataclass(frozen=True)
class BareArgs:
    """What a bare helper's command line is built from."""

    spec: ServerSpec
    #: The helper program (a user-defined method may name its own build).
    binary: str
    #: A process holding the server's own user and network namespaces.
    netns_pid: int = 0
    pid_file: str = ""
    api_socket: str = ""
    ready_fd: int = -1
    state_dir: str = ""
    #: The command a helper that starts the server itself (rootlesskit) runs.
    command: tuple[str, ...] = ()
    #: Helper options a user-defined method adds.
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class PodmanWay:
    """How real Podman runs the method."""

    #: ``--network`` value from the spec, a user-defined method's extra helper options, and the
    #: name of the network made for the container (``own_network``), if any.
    network: Callable[[ServerSpec, tuple[str, ...], "str | None"], str] | None
    #: The process expected to own the published port in the server host.
    carrier: str
    #: The first Podman release that has it, and what it is called there.
    since: tuple[int, int] = (0, 0)
    feature: str = ""
    #: Programs (with their Debian package) that must be installed where Podman runs.
    programs: tuple[tuple[str, str], ...] = ()
    #: A network made for each container (``podman network create``) and removed with it.
    own_network: bool = False
    #: Options of that ``podman network create`` from the spec (its MTU).
    create_options: Callable[[ServerSpec], list[str]] | None = None


@dataclass(frozen=True)
class BareWay:
    """How the bare provider runs the method: the same helper, without Podman."""

    attach: Attach
    carrier: str
    #: The helper program (replaceable: ``--pasta``, or a user-defined method's binary).
    helper: str | None = None
    #: Other programs it needs.
    tools: tuple[str, ...] = ()
    argv: Callable[[BareArgs], list[str]] | None = None


@dataclass(frozen=True)
class Activation:
    """Socket activation: the socket unit is the user's, or root's (system) on a port below
    ``ip_unprivileged_port_start`` with a ``User=`` service."""

    system: bool


@dataclass(frozen=True)
class NetworkMethod:
    id: str
    summary: str
    #: What podman-networking-docs states for the method, by claim id (absent: it says nothing).
    documented: Mapping[str, Any]
    podman: PodmanWay | None
    bare: BareWay | None
    #: Why a provider cannot run it, where that provider has no way for it.
    no_podman: str = ""
    no_bare: str = ""
    #: Network options (serverspec) the method has no way to do, with why.
    unsupported: Mapping[str, str] = field(default_factory=dict)
    #: The address a container uses for a service on the server host's loopback, from the
    #: client host's lab address in an IP family and that family (the host-loopback probe);
    #: None where the container has no network of its own.
    host_address: Callable[[str, int], str] | None = None
    #: Who owns the server host's end of a connection the container makes (outbound).
    outbound_carrier: str | None = None
    #: The yardstick every other method is compared with.
    baseline: bool = False
    #: The server is in the server host's own network: nothing is published, it binds itself.
    shares_host_network: bool = False
    activation: Activation | None = None
    #: (protocol, placement) cells that do not apply although both do, with why.
    not_applicable_cells: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: Why clients cannot reach its published port over IPv6 (``--family 6``), as observed
    #: when tried; "" where they can.
    no_ipv6: str = ""
    #: Why the container cannot connect out over IPv6, as observed when tried; "" where it can.
    no_ipv6_outbound: str = ""
    #: Why the container has no tap device whose transmit queue ``--container-txqueuelen`` can
    #: set ("" where it has one: the helper's tap, as pasta and slirp4netns make it).
    no_tap: str = ""
    #: Does the helper capture the container's frames itself (the ``pcap`` spec option; pasta
    #: ``--pcap``)? Elsewhere a capture is taken with tcpdump in the server host.
    writes_pcap: bool = False
    #: What extra options a user-defined variant may add ("" = it takes none).
    takes_options: str = ""
    #: For a user-defined method: the base method, the helper options it adds, the helper
    #: binary it names, as given (recorded in the results document).
    base: str | None = None
    extra_options: tuple[str, ...] = ()
    binary: str | None = None

    # ---------------------------------------------------------------- questions
    @property
    def own_network(self) -> bool:
        """Has the container a network of its own (so it can connect out)?"""
        return self.activation is None

    @property
    def publishes_port(self) -> bool:
        """Do clients reach the server through a published port (a forwarding helper)?"""
        return not self.shares_host_network

    def carrier(self, provider_id: str) -> str | None:
        """The process expected to carry inbound traffic under a provider."""
        way = {"podman": self.podman, "bare": self.bare}.get(provider_id)
        return way.carrier if way is not None else None

    def why_not(self, workload: Workload, placement: str) -> str | None:
        """Why a workload does not run under this method in a placement; None if it does."""
        if self.activation is not None and not workload.inherited_socket:
            return workload.no_inherited_socket or f"{workload.id} cannot take an inherited listening socket"
        if not self.own_network and workload.outbound:
            return "the container has no network of its own (--network=none): it cannot connect out"
        if placement not in workload.placements:
            return f"{workload.id} has no {placement} placement"
        return self.not_applicable_cells.get((workload.protocol, placement))

    def why_not_family(self, family: int, *, outbound: bool) -> str | None:
        """Why the method cannot carry an IP family, inbound (clients reach its published
        port) or outbound (the container connects out); None where it can."""
        if family != 6:
            return None
        return (self.no_ipv6_outbound if outbound else self.no_ipv6) or None

    def refuse_unsupported(self, spec: ServerSpec) -> None:
        """An option the method has no way to do is refused up front, with the method's reason."""
        for option, why in self.unsupported.items():
            if spec.option(option) is not None:
                raise UnsupportedOption(why)
        if spec.option(PCAP) is not None and not self.writes_pcap:
            raise UnsupportedOption(f"{self.id}'s helper does not capture packets itself")

    def podman_network(self, spec: ServerSpec, created: str | None = None) -> str:
        """Podman's ``--network`` value for a spec (after refusing what the method cannot do)."""
        if self.podman is None or self.podman.network is None:
            raise UnsupportedOption(self.no_podman or f"{self.id} is not a Podman network mode")
        self.refuse_unsupported(spec)
        return self.podman.network(spec, self.extra_options, created)

    def bare_argv(self, args: BareArgs) -> list[str]:
        """The bare helper's command line (after refusing what the method cannot do)."""
        if self.bare is None or self.bare.argv is None:
            raise UnsupportedOption(self.no_bare or f"the bare provider does not implement {self.id}")
        self.refuse_unsupported(args.spec)
        return self.bare.argv(replace(args, extra=self.extra_options))

    def derive(self, method_id: str, summary: str, options: tuple[str, ...], binary: str | None) -> "NetworkMethod":
        """A user-defined variant: this method with more helper options or another binary."""
        bare = self.bare
        if binary is not None and bare is not None:
            bare = replace(bare, helper=binary)
        return replace(self, id=method_id, summary=summary, documented={}, bare=bare, base=self.id,
                       extra_options=(*self.extra_options, *options), binary=binary,
                       no_podman=(f"{method_id} names a {self.id} binary of its own, which only the bare provider "
                                  "runs (--provider bare)") if binary is not None else self.no_podman,
                       podman=None if binary is not None else self.podman)

    def definition(self) -> dict[str, Any] | None:
        """A user-defined method as the results document records it."""
        if self.base is None:
            return None
        return {"base": self.base, "options": list(self.extra_options), "binary": self.binary,
                "summary": self.summary}
