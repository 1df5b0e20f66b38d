"""Workload drivers by id: an explicit registry, one entry per workload in the matrix."""

from __future__ import annotations

from .base import ClientContext, Measurement, TrialSettings, WorkloadDriver
from .echo import EchoStream, TcpCrr, TcpRr, UdpRr
from .iperf import TcpStream
from .iperf_variants import TcpStreamParallel, TcpStreamReverse, UdpStream
from .outbound import TcpStreamOutbound, TcpStreamOutboundReverse

DRIVERS: dict[str, WorkloadDriver] = {driver.spec.id: driver for driver in (
    TcpStream(), TcpStreamReverse(), TcpStreamParallel(), UdpStream(),
    TcpRr(), UdpRr(), TcpCrr(), EchoStream(), TcpStreamOutbound(), TcpStreamOutboundReverse(),
)}

__all__ = ["ClientContext", "DRIVERS", "Measurement", "TrialSettings", "WorkloadDriver"]
