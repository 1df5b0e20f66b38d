"""Podman's rootless ``bridge`` network: a network made with ``podman network create``, the
container on it with a published port. What every compose user gets. Under Podman 5 pasta
connects the rootless network namespace and rootlessport forwards the port, so the server
sees the bridge's address, not the client's. Needs Podman 5 and netavark (which calls
``nft``): a booted stack such as trixie has both."""

from __future__ import annotations

from ..workloads.serverspec import BIND_DEVICE, CONTAINER_MTU, HOST_LOOPBACK, TCP_NS, ServerSpec
from .base import NetworkMethod, PodmanWay


def podman_network(spec: ServerSpec, extra: tuple[str, ...], created: str | None) -> str:
    if created is None:
        raise ValueError("a bridge method needs the network made for its container")
    return created


def create_options(spec: ServerSpec) -> list[str]:
    """netavark's bridge takes the MTU as a driver option; an IPv6 trial's network is dual
    stack (``--ipv6``: without it the container has no IPv6 to connect out with)."""
    mtu = spec.option(CONTAINER_MTU)
    return (["--opt", f"mtu={mtu}"] if mtu else []) + (["--ipv6"] if spec.family == 6 else [])


METHOD = NetworkMethod(
    id="bridge",
    summary="a rootless bridge network (podman network create), rootlessport forwards the published port",
    documented={},  # the guide does not cover it
    podman=PodmanWay(network=podman_network, carrier="rootlessport", since=(5, 0),
                     feature="rootless bridge network through pasta",
                     programs=(("pasta", "passt"), ("nft", "nftables")), own_network=True,
                     create_options=create_options),
    bare=None,
    no_tap="the container's interface is a veth to the rootless network's bridge, not a tap (pasta's tap is in "
           "the rootless network namespace)",
    no_bare="the bare provider has no rootless bridge network (it is netavark's): run it in a stack with "
            "Podman 5 (--stacks host,trixie)",
    unsupported={HOST_LOOPBACK: "the suite passes no option for the host's loopback to a bridge network",
                 TCP_NS: "a bridge network has no option to forward the container's loopback",
                 BIND_DEVICE: "rootlessport has no option to bind a published port to a device"},
    # The rootless network namespace's pasta copies the server host's gateway, which maps to
    # the host's loopback only with --map-gw (not Podman's default).
    host_address=lambda client_address, family: client_address,
    outbound_carrier="pasta",
)
