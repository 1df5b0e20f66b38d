"""The socket made by root below ``ip_unprivileged_port_start`` (a *system* ``.socket`` unit),
the container run by the unprivileged user through a service with ``User=``."""

from __future__ import annotations

from .base import DEVICE_BINDING, MINIMUM_PORT, NATIVE_PERFORMANCE, SOURCE_ADDRESS
from .socket_activation import method

METHOD = method(
    "socket-activation-system",
    "the socket made by root below ip_unprivileged_port_start (a system socket unit), the container run "
    "as the unprivileged user (User=)",
    {SOURCE_ADDRESS: True, NATIVE_PERFORMANCE: True, DEVICE_BINDING: True, MINIMUM_PORT: 0},
    system=True,
)
