"""``--network=slirp4netns:port_handler=slirp4netns``: slirp4netns connects the container and
forwards published ports itself (its API's add_hostfwd), so the server sees the client."""

from __future__ import annotations

from .base import (DEVICE_BINDING, FLOOR, HOST_LOOPBACK_DEFAULT, MINIMUM_PORT, NATIVE_PERFORMANCE, OUTBOUND_REMOTE,
                   SOURCE_ADDRESS, Attach, BareArgs, BareWay)
from . import slirp4netns_common as slirp

PROGRAM = "slirp4netns"


def bare_argv(a: BareArgs) -> list[str]:
    """slirp4netns in the server host's network namespace but inside the namespace owner's
    user namespace, as Podman runs it (nsenter makes the second part true)."""
    return ["nsenter", f"--user=/proc/{a.netns_pid}/ns/user", "--preserve-credentials", "--",
            a.binary, *slirp.FLAGS, f"--mtu={slirp.mtu(a.spec)}", *slirp.loopback_flags(a.spec),
            *(["--enable-ipv6"] if slirp.ipv6_enabled(a.spec) else []), *a.extra, "--api-socket", a.api_socket,
            "--ready-fd", str(a.ready_fd), "--netns-type=path", f"/proc/{a.netns_pid}/ns/net", "tap0"]


#: The UDP reply it does not send (re-checked by tests/integration/test_echo_workloads.py).
NO_UDP_LOOPBACK_REPLY = (
    "slirp4netns's port handler returns no UDP reply to the server host's own 127.0.0.1 with Podman's "
    "default --disable-host-loopback (allow_host_loopback=true changes that)")

#: What its port forwarding does with IPv6 (re-checked by tests/integration/test_ipv6.py).
NO_IPV6_FORWARDING = (
    "slirp4netns's port forwarding API (add_hostfwd, which Podman's slirp4netns port handler uses) takes IPv4 "
    "only: slirp4netns 1.2.0 (libslirp 4.7.0) refuses an IPv6 forward (proto tcp6: \"bad arguments.proto\"; "
    "host_addr \"::\": \"bad arguments.host_addr\"; 1.2.1's binary knows no tcp6 either), so nothing listens "
    "for IPv6 clients")

METHOD = slirp.method(
    "slirp4netns-slirp4netns",
    "--network=slirp4netns:port_handler=slirp4netns: slirp4netns forwards the published port",
    {SOURCE_ADDRESS: True, NATIVE_PERFORMANCE: False, DEVICE_BINDING: False, MINIMUM_PORT: FLOOR,
     HOST_LOOPBACK_DEFAULT: False, OUTBOUND_REMOTE: True},
    handler="slirp4netns", podman_carrier="slirp4netns",
    bare=BareWay(Attach.SLIRP4NETNS, carrier="slirp4netns", helper=PROGRAM, tools=("unshare", "nsenter"),
                 argv=bare_argv),
    not_applicable_cells={("udp", "loopback"): NO_UDP_LOOPBACK_REPLY},
    no_ipv6=NO_IPV6_FORWARDING,
)
