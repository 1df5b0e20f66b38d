"""``--network=host``: the server shares the server host's network. The baseline: no helper
is in the data path, so every other method is compared with it."""

from __future__ import annotations

from ..workloads.serverspec import BIND_DEVICE
from .base import (DEVICE_BINDING, FLOOR, HOST_LOOPBACK_DEFAULT, MINIMUM_PORT, NATIVE_PERFORMANCE, OUTBOUND_REMOTE,
                   SERVER, SOURCE_ADDRESS, Attach, BareWay, NetworkMethod, PodmanWay)

METHOD = NetworkMethod(
    id="host",
    summary="--network=host: the server shares the server host's network; the baseline",
    documented={SOURCE_ADDRESS: True, NATIVE_PERFORMANCE: True, DEVICE_BINDING: True, MINIMUM_PORT: FLOOR,
                HOST_LOOPBACK_DEFAULT: True, OUTBOUND_REMOTE: True},
    # The host's loopback is the container's own: there is nothing to map.
    podman=PodmanWay(network=lambda spec, extra, created: "host", carrier=SERVER),
    bare=BareWay(Attach.SERVER, carrier=SERVER),
    unsupported={BIND_DEVICE: "with host networking the server itself must bind to a device"},
    host_address=lambda client_address, family: "::1" if family == 6 else "127.0.0.1",
    outbound_carrier=SERVER,
    baseline=True,
    shares_host_network=True,
    no_tap="the server uses the server host's own interfaces: there is no tap",
)
