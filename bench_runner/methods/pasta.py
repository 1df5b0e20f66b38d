"""``--network=pasta``: pasta (from passt) connects the container and forwards its published
ports; Podman 5's default rootless network."""

from __future__ import annotations

from ..workloads.serverspec import BIND_DEVICE, CONTAINER_MTU, HOST_LOOPBACK, PCAP, TCP_NS, ServerSpec
from .base import (DEVICE_BINDING, FLOOR, HOST_LOOPBACK_DEFAULT, MINIMUM_PORT, NATIVE_PERFORMANCE, OUTBOUND_REMOTE,
                   SOURCE_ADDRESS, Attach, BareArgs, BareWay, NetworkMethod, PodmanWay)

#: The helper program; ``--pasta`` or a method file may name another build.
PROGRAM = "pasta"


def podman_network(spec: ServerSpec, extra: tuple[str, ...], created: str | None) -> str:
    """``pasta[:OPTIONS]`` in Podman's syntax (comma-separated pasta options)."""
    args: list[str] = []
    if spec.option(HOST_LOOPBACK) is not None:
        args.append("--map-gw")
    tcp_ns = spec.option(TCP_NS)
    if tcp_ns:
        args += ["-T", tcp_ns]
    device = spec.option(BIND_DEVICE)
    if device:
        args += ["-t", _on_device(spec, device)]
    args += _pcap(spec) + _mtu(spec)
    args += extra
    return "pasta" + (":" + ",".join(args) if args else "")


def _on_device(spec: ServerSpec, device: str) -> str:
    """``-t ADDRESS%DEVICE/PORT:PORT``: pasta binds the address of the trial's family (``::``
    for IPv6; 0.0.0.0 takes no IPv6 client, and pasta 0.0~git20230309 refuses a bare
    ``%DEVICE/``)."""
    return f"{spec.any_address}%{device}/{spec.published_port}:{spec.port}"


def _mtu(spec: ServerSpec) -> list[str]:
    mtu = spec.option(CONTAINER_MTU)
    return ["--mtu", mtu] if mtu else []


def _pcap(spec: ServerSpec) -> list[str]:
    path = spec.option(PCAP)
    return ["--pcap", path] if path else []


def bare_argv(a: BareArgs) -> list[str]:
    """pasta attached to the holder's namespaces with the flags Podman gives it; it daemonises
    once the namespace is configured, as under Podman."""
    spec = a.spec
    forward = f"{spec.published_port}:{spec.port}"
    device = spec.option(BIND_DEVICE)
    tcp = (_on_device(spec, device) if device else forward) if spec.publish and "tcp" in spec.protocols else "none"
    udp = forward if spec.publish and "udp" in spec.protocols else "none"
    tcp_ns = spec.option(TCP_NS) or "none"
    # Podman passes --no-map-gw unless asked for --map-gw; this pasta maps by default.
    gateway = [] if spec.option(HOST_LOOPBACK) is not None else ["--no-map-gw"]
    return [a.binary, "--config-net", "--quiet", *gateway, "-t", tcp, "-u", udp, "-T", tcp_ns, "-U", "none",
            *_pcap(spec), *_mtu(spec), *a.extra, "--netns", f"/proc/{a.netns_pid}/ns/net", "--userns", f"/proc/{a.netns_pid}/ns/user",
            "--pid", a.pid_file]


METHOD = NetworkMethod(
    id="pasta",
    summary="--network=pasta: pasta forwards the published port into the container",
    documented={SOURCE_ADDRESS: True, NATIVE_PERFORMANCE: False, DEVICE_BINDING: True, MINIMUM_PORT: FLOOR,
                HOST_LOOPBACK_DEFAULT: False, OUTBOUND_REMOTE: True},
    podman=PodmanWay(network=podman_network, carrier="pasta", since=(4, 4), feature="pasta network mode",
                     programs=((PROGRAM, "passt"),)),
    bare=BareWay(Attach.PASTA, carrier="pasta", helper=PROGRAM, tools=("unshare",), argv=bare_argv),
    # pasta copies the server host's addresses and routes; with --map-gw the gateway's address
    # is the host's loopback (Podman passes --no-map-gw by default): the lab's client host, in
    # either family (2001:db8:5100::2 reached the server host's ::1, observed with pasta
    # 0.0~git20230309).
    host_address=lambda client_address, family: client_address,
    outbound_carrier="pasta",
    writes_pcap=True,
    takes_options="pasta command-line options (Podman passes them after --network=pasta:)",
)
