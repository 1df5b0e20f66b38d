"""Socket activation: the listening socket is made outside the container and handed to it
(LISTEN_FDS), as a systemd ``.socket`` unit does.

- ``socket-activation-user``: the socket belongs to the unprivileged user, as a systemd
  *user* socket unit would make it; the container runs with no network of its own.
- ``socket-activation-system``: the socket is made by root on a port below the server
  host's ``ip_unprivileged_port_start``, as a *system* socket unit would, and the container
  runs as the unprivileged user, as a service with ``User=`` would.

Without a running systemd manager (as on these machines), ``systemd-socket-activate`` is the
socket unit: it listens, and on the first connection execs the command with the socket.
"""

from __future__ import annotations

import shutil

from ..errors import MeasurementError
from ..methods.socket_activation import ACTIVATOR
from .base import BIND_DEVICE, Availability, ServerSpec

#: What the activator tells the service (systemd's sd_listen_fds protocol).
LISTEN_ENV = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")
#: Ports below the floor are rotated per trial within this many, as other methods rotate theirs.
LOW_PORT_SPAN = 64


def availability() -> Availability:
    if shutil.which(ACTIVATOR) is None:
        return Availability(False, f"{ACTIVATOR} (package systemd) is not installed")
    return Availability(True)


def listen_port(spec: ServerSpec, floor: int | None, system: bool) -> int:
    """Where the socket unit listens: the spec's explicit host port if it names one, else
    for the system variant a port below the floor (its point), else the spec's own port."""
    if spec.host_port is not None or not system:
        return spec.published_port
    return system_port(floor, spec.port)


def system_port(floor: int | None, trial_port: int) -> int:
    """A port below the server host's unprivileged floor, which only root can bind: the
    point of the system variant. Read from the lab, never assumed."""
    if floor is None:
        raise MeasurementError("the server host's ip_unprivileged_port_start is unknown")
    if floor <= 1:
        raise MeasurementError(f"ip_unprivileged_port_start is {floor}: no port is privileged here")
    span = min(LOW_PORT_SPAN, floor - 1)
    return floor - 1 - (trial_port % span)


def activator_argv(spec: ServerSpec, port: int, worker_dir: str) -> list[str]:
    """``systemd-socket-activate`` listening where the spec publishes. One socket type per
    activator: it passes either stream or datagram sockets, so UDP-only specs get -d.
    With a device to bind to (systemd's BindToDevice=), the suite's own activator does it,
    since systemd-socket-activate has no such option."""
    protocols = set(spec.protocols)
    if protocols not in ({"tcp"}, {"udp"}):
        raise MeasurementError(f"{ACTIVATOR} hands over either TCP or UDP sockets, not both ({spec.protocols})")
    datagram = ["--datagram"] if protocols == {"udp"} else []
    device = spec.option(BIND_DEVICE)
    if device is not None:
        return ["/usr/bin/python3", "-I", f"{worker_dir}/activate.py", "--listen", spec.any_host(port),
                "--device", device, *datagram, "--"]
    return [ACTIVATOR, "-l", spec.any_host(port), *datagram, "--"]
