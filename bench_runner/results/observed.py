"""What a trial observed, typed: the process that carried its traffic, the address the other
end saw, the interfaces inside the server's namespace.

A trial keeps its observations as the JSON object the results document stores (documents of
every earlier version must still load, with keys that were added later missing). Readers
take them through these dataclasses, so which key an inbound or an outbound trial uses, and
what a missing or malformed value means, is decided once here and not at every reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

#: ``carrier`` values that mean the server itself carried the traffic, not a helper.
SERVER_CARRIERS = ("server", "inherited")


@dataclass(frozen=True)
class CarrierProcess:
    """The process seen owning the published port (inbound) or the container's outbound
    connection on the host side (outbound), with what carried it in the method's terms."""

    pid: int | None
    comm: str
    kind: str  # "pasta", "rootlessport", ... or "server:<comm>"
    carrier: str | None  # NetworkMethod.carrier: "server", "inherited", a helper's name
    argv: tuple[str, ...]

    @classmethod
    def from_json(cls, data: object) -> "CarrierProcess | None":
        if not isinstance(data, Mapping):
            return None
        pid = data.get("pid")
        carrier = data.get("carrier")
        return cls(pid if isinstance(pid, int) else None, str(data.get("comm") or ""), str(data.get("kind") or "?"),
                   str(carrier) if carrier is not None else None, tuple(str(a) for a in data.get("argv") or ()))

    @property
    def label(self) -> str:
        """As the tables name a carrier: its kind, or the server that inherited the socket."""
        return f"{self.comm} (inherited socket)" if self.carrier == "inherited" else self.kind

    @property
    def is_helper(self) -> bool:
        """A helper (pasta, rootlessport, ...) rather than the server, with a command line."""
        return bool(self.argv) and self.carrier not in SERVER_CARRIERS and not self.kind.startswith("server:")


@dataclass(frozen=True)
class Interface:
    name: str
    mtu: int | None
    txqueuelen: int | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Interface":
        mtu, queue = data.get("mtu"), data.get("txqlen")
        return cls(str(data.get("ifname") or "?"), mtu if isinstance(mtu, int) else None,
                   queue if isinstance(queue, int) else None)


@dataclass(frozen=True)
class Links:
    """The interfaces besides lo in the namespace the server ran in, or why they were not seen."""

    interfaces: tuple[Interface, ...]
    namespace: str | None  # "own", "server host", or None when not known
    error: str | None

    @classmethod
    def from_json(cls, data: object) -> "Links | None":
        if not isinstance(data, Mapping):
            return None
        interfaces = tuple(Interface.from_json(i) for i in data.get("interfaces") or () if isinstance(i, Mapping))
        namespace, error = data.get("namespace"), data.get("error")
        return cls(interfaces, str(namespace) if namespace else None, str(error) if error else None)


@dataclass(frozen=True)
class Observed:
    carrier: CarrierProcess | None
    #: The address the far end saw the connection come from: the server in the container for
    #: inbound trials, the server on the client host for outbound ones.
    peer: str | None
    links: Links | None

    @classmethod
    def from_json(cls, observations: Mapping[str, Any]) -> "Observed":
        # Inbound trials record "listener" and "peer_address", outbound ones
        # "outbound_carrier" and "remote_saw"; a trial has one pair or the other.
        carrier = CarrierProcess.from_json(observations.get("listener")) \
            or CarrierProcess.from_json(observations.get("outbound_carrier"))
        peer = observations.get("peer_address")
        if not isinstance(peer, str):
            peer = observations.get("remote_saw")
        return cls(carrier, peer if isinstance(peer, str) else None,
                   Links.from_json(observations.get("container_links")))
