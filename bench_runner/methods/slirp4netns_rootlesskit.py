"""``--network=slirp4netns:port_handler=rootlesskit``: slirp4netns connects the container,
rootlessport (Podman) or rootlesskit's builtin port driver (bare) forwards published ports,
so the server sees the forwarder's address, not the client's."""

from __future__ import annotations

from .base import (DEVICE_BINDING, FLOOR, HOST_LOOPBACK_DEFAULT, MINIMUM_PORT, NATIVE_PERFORMANCE, OUTBOUND_REMOTE,
                   SOURCE_ADDRESS, Attach, BareArgs, BareWay)
from . import slirp4netns_common as slirp

PROGRAM = "rootlesskit"


def bare_argv(a: BareArgs) -> list[str]:
    """rootlesskit running the server in a slirp4netns network, with the builtin port driver."""
    return [a.binary, "--net=slirp4netns", f"--mtu={slirp.mtu(a.spec)}", *slirp.loopback_flags(a.spec),
            *(["--ipv6"] if slirp.ipv6_enabled(a.spec) else []), "--slirp4netns-sandbox=auto",
            "--slirp4netns-seccomp=auto", "--port-driver=builtin", *a.extra, "--state-dir", a.state_dir, "--",
            *a.command]


METHOD = slirp.method(
    "slirp4netns-rootlesskit",
    "--network=slirp4netns:port_handler=rootlesskit: rootlessport forwards the published port",
    {SOURCE_ADDRESS: False, NATIVE_PERFORMANCE: False, DEVICE_BINDING: False, MINIMUM_PORT: FLOOR,
     HOST_LOOPBACK_DEFAULT: False, OUTBOUND_REMOTE: True},
    handler="rootlesskit", podman_carrier="rootlessport",
    bare=BareWay(Attach.ROOTLESSKIT, carrier="rootlesskit", helper=PROGRAM, tools=("rootlessctl", "slirp4netns"),
                 argv=bare_argv),
)
