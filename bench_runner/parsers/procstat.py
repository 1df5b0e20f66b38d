"""``/proc/stat`` and ``/proc/loadavg``: how busy the machine was around a run. CPU time a
hypervisor gave to other guests (steal) makes every method look slower at random, which a
maintainer asks about first on a VM. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from . import ParseError

#: The first fields of the ``cpu`` line, in jiffies. guest and guest_nice follow them, but are
#: already counted in user and nice, so they are left out of the total.
_CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


@dataclass(frozen=True)
class CpuTimes:
    """All CPUs together, in jiffies since boot."""

    total: int
    steal: int


@dataclass(frozen=True)
class LoadAvg:
    one: float
    five: float
    fifteen: float
    #: "running/total" scheduling entities, as the file says it.
    tasks: str


def parse_cpu_times(text: str) -> CpuTimes:
    """The aggregate ``cpu`` line of /proc/stat. Kernels before 2.6.11 have no steal field:
    it counts as 0 there."""
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] != "cpu":
            continue
        try:
            values = [int(v) for v in parts[1:len(_CPU_FIELDS) + 1]]
        except ValueError:
            raise ParseError(f"/proc/stat: the cpu line has a field that is not a number: {line!r}") from None
        if len(values) < 4:
            raise ParseError(f"/proc/stat: the cpu line has {len(values)} fields, expected at least 4")
        values += [0] * (len(_CPU_FIELDS) - len(values))
        return CpuTimes(total=sum(values), steal=values[_CPU_FIELDS.index("steal")])
    raise ParseError("/proc/stat: no aggregate cpu line")


def steal_percent(before: CpuTimes, after: CpuTimes) -> float | None:
    """Steal as a percentage of all CPU time between two readings; None when no time passed
    (or the counters went back, as after a reboot)."""
    elapsed = after.total - before.total
    if elapsed <= 0 or after.steal < before.steal:
        return None
    return 100.0 * (after.steal - before.steal) / elapsed


def parse_loadavg(text: str) -> LoadAvg:
    """``0.48 0.73 1.03 2/89 9392``: the 1, 5 and 15 minute load averages, then the tasks."""
    parts = text.split()
    if len(parts) < 4 or "/" not in parts[3]:
        raise ParseError(f"/proc/loadavg: unexpected content {text.strip()[:80]!r}")
    try:
        one, five, fifteen = (float(v) for v in parts[:3])
    except ValueError:
        raise ParseError(f"/proc/loadavg: the load averages are not numbers: {text.strip()[:80]!r}") from None
    return LoadAvg(one, five, fifteen, parts[3])
