"""Workloads: what each measures and how its server and client run, one driver class per
workload with its own definition (``spec``), in one registry (``DRIVERS``, and the
definitions read from it, ``WORKLOADS``); the server a driver asks for (``serverspec``), the
sweeps that make variants of a workload (``sweeps``). A driver asks a ``WorkerHost`` to run
its client and never a provider, so the definitions can be read without any run machinery.

May import: parsers, results.
"""

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
