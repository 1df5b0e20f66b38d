"""A listening socket made by the unprivileged user (a systemd *user* ``.socket`` unit; under a
booted stack a Quadlet ``.container`` is its service), handed to a container with
``--network=none``."""

from __future__ import annotations

from .base import DEVICE_BINDING, FLOOR, MINIMUM_PORT, NATIVE_PERFORMANCE, SOURCE_ADDRESS
from .socket_activation import method

METHOD = method(
    "socket-activation-user",
    "a listening socket made by the unprivileged user (a systemd user socket unit), handed to a "
    "container with --network=none",
    {SOURCE_ADDRESS: True, NATIVE_PERFORMANCE: True, DEVICE_BINDING: True, MINIMUM_PORT: FLOOR},
    system=False,
)
