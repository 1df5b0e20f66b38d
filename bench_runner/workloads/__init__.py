"""Workload drivers by id: an explicit registry, one entry per workload in the matrix, and
the workloads' definitions read from it."""

from __future__ import annotations

from .base import ClientContext, Measurement, TrialSettings, WorkloadDriver
from .definition import Workload
from .echo import EchoStream, TcpCrr, TcpRr, UdpRr
from .iperf import TcpStream
from .iperf_variants import TcpStreamParallel, TcpStreamReverse, UdpStream
from .outbound import TcpStreamOutbound, TcpStreamOutboundReverse

DRIVERS: dict[str, WorkloadDriver] = {driver.spec.id: driver for driver in (
    TcpStream(), TcpStreamReverse(), TcpStreamParallel(), UdpStream(),
    TcpRr(), UdpRr(), TcpCrr(), EchoStream(), TcpStreamOutbound(), TcpStreamOutboundReverse(),
)}

#: Every workload's definition, from the drivers: each declares its own.
WORKLOADS: dict[str, Workload] = {driver_id: driver.spec for driver_id, driver in DRIVERS.items()}

__all__ = ["ClientContext", "DRIVERS", "Measurement", "TrialSettings", "WORKLOADS", "Workload", "WorkloadDriver"]
