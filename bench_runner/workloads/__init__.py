"""Workload drivers by id: an explicit registry, one entry per workload in the matrix."""

from __future__ import annotations

from .base import ClientContext, Measurement, TrialSettings, WorkloadDriver
from .iperf import TcpStream

DRIVERS: dict[str, WorkloadDriver] = {driver.spec.id: driver for driver in (TcpStream(),)}

__all__ = ["ClientContext", "DRIVERS", "Measurement", "TrialSettings", "WorkloadDriver"]
