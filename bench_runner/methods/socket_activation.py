"""What the two socket-activation methods share: the container runs with no network of its
own (``--network=none``) and inherits a listening socket made outside, as a systemd
``.socket`` unit makes it (LISTEN_FDS)."""

from __future__ import annotations

from .base import INHERITED, Activation, Attach, BareWay, NetworkMethod, PodmanWay

#: Without a running systemd manager, this stands in for the socket unit (bare provider, and
#: this machine's Podman); a booted stack runs real units.
ACTIVATOR = "systemd-socket-activate"


def method(method_id: str, summary: str, documented: dict, *, system: bool) -> NetworkMethod:
    return NetworkMethod(
        id=method_id,
        summary=summary,
        documented=documented,
        podman=PodmanWay(network=None, carrier=INHERITED),
        bare=BareWay(Attach.ACTIVATED, carrier=INHERITED, tools=(ACTIVATOR, "unshare")),
        activation=Activation(system=system),
        no_tap="the container has no network of its own (--network=none): there is no tap",
    )
