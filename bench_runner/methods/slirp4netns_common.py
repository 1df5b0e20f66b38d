"""What the two slirp4netns methods share: Podman's slirp4netns flags, its guest address,
the options it lacks."""

from __future__ import annotations

from typing import Any, Mapping

from ..workloads.serverspec import BIND_DEVICE, CONTAINER_MTU, HOST_LOOPBACK, TCP_NS, ServerSpec
from .base import BareWay, NetworkMethod, PodmanWay

#: Where slirp4netns puts the container (and forwards published ports to).
GUEST_ADDR = "10.0.2.100"
#: The host as the container sees it (slirp4netns's gateway, host loopback when allowed), in
#: each IP family: with ``--enable-ipv6`` the container's network is fd00::/64 and fd00::2
#: reaches the server host's ::1 with host loopback allowed (ENETUNREACH without; observed with
#: slirp4netns 1.2.0, libslirp 4.7.0, under both port handlers).
GATEWAY = "10.0.2.2"
GATEWAY6 = "fd00::2"
#: Podman's slirp4netns flags (libpod/networking_slirp4netns.go), minus its fd plumbing and
#: the MTU (``mtu``: 65520 unless a sweep asks for another).
FLAGS = ("--configure", "--enable-sandbox", "--enable-seccomp")
DEFAULT_MTU = "65520"
NO_HOST_LOOPBACK = "--disable-host-loopback"
UNSUPPORTED = {TCP_NS: "slirp4netns has no option to forward the container's loopback",
               BIND_DEVICE: "slirp4netns has no option to bind a published port to a device"}


def mtu(spec: ServerSpec) -> str:
    return spec.option(CONTAINER_MTU) or DEFAULT_MTU


def loopback_flags(spec: ServerSpec) -> list[str]:
    return [] if spec.option(HOST_LOOPBACK) is not None else [NO_HOST_LOOPBACK]


def ipv6_enabled(spec: ServerSpec) -> bool:
    """slirp4netns gives the container IPv6 only when asked (``--enable-ipv6``; Podman's
    ``enable_ipv6=true``): asked for where the trial is IPv6 (``--family 6``)."""
    return spec.family == 6


def podman_network(handler: str):  # type: ignore[no-untyped-def]
    """``slirp4netns:port_handler=HANDLER[,allow_host_loopback=true]``."""

    def value(spec: ServerSpec, extra: tuple[str, ...], created: str | None) -> str:
        base = f"slirp4netns:port_handler={handler}"
        base += ",allow_host_loopback=true" if spec.option(HOST_LOOPBACK) is not None else ""
        base += f",mtu={spec.option(CONTAINER_MTU)}" if spec.option(CONTAINER_MTU) else ""
        return base + (",enable_ipv6=true" if ipv6_enabled(spec) else "")

    return value


def method(method_id: str, summary: str, documented: Mapping[str, Any], *, handler: str, podman_carrier: str,
           bare: BareWay, **more: Any) -> NetworkMethod:
    """A slirp4netns method: what both port handlers share (Podman's network value and
    programs, the options slirp4netns lacks, its gateway, slirp4netns carrying outbound)."""
    return NetworkMethod(
        id=method_id, summary=summary, documented=documented,
        podman=PodmanWay(network=podman_network(handler), carrier=podman_carrier,
                         programs=(("slirp4netns", "slirp4netns"),)),
        bare=bare, unsupported=UNSUPPORTED, host_address=lambda client_address, family: GATEWAY6 if family == 6 else GATEWAY, outbound_carrier="slirp4netns",
        **more)
