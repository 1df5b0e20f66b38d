"""The shaped path, read from a results document (run --delay, --loss, --rate): what each
cell asked of it and saw, and which cells the path itself limits.

A throughput cell whose median is within 10% of the path's limit in its direction is
"limited by the path": of the delay box's ceiling (``host`` through the box with nothing
added, measured before the trials; packet by packet where loss is asked), or of a rate
limit. Nobody should read that limit as a method's. The veth link of kernel netem is the
lab's own link, as in every run, and limits nothing here.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from ..results.cells import HOST_STACK
from ..results.document import CellResult, RunDocument
from ..workloads import WORKLOADS, sweeps

#: Within 10% of the limit.
LIMITED_SHARE = 0.9
BOX = "delay box"


def path_record(document: RunDocument, stack: str = HOST_STACK) -> dict[str, Any]:
    """What the run measured of its path before the trials ({} where it shaped none)."""
    lab = document.lab if stack == HOST_STACK else (document.stacks.get(stack) or {}).get("lab") or {}
    found = lab.get("path")
    return found if isinstance(found, dict) else {}


def direction(workload_id: str) -> str | None:
    """Which way a throughput workload's bulk data crosses the path: ``to_server`` (the
    client host sends) or ``to_client``; None for what is not a bulk transfer."""
    try:
        base, _ = sweeps.split(workload_id)
    except KeyError:
        return None
    workload = WORKLOADS.get(base)
    if workload is None or not workload.metric.higher_is_better:
        return None
    reverse = base.endswith("-reverse")
    return "to_client" if workload.outbound != reverse else "to_server"


def limit(document: RunDocument, cell: CellResult) -> tuple[float, str] | None:
    """The path's limit for a cell, in Gbit/s, and what sets it; None where none applies."""
    way = direction(cell.workload)
    if way is None or cell.unit != "Gbit/s":
        return None
    _, values = sweeps.split(cell.workload)
    found: list[tuple[float, str]] = []
    record = path_record(document, cell.stack)
    if record.get("via") == BOX:
        mode = "per_packet" if values.get("loss", 0) else "gso"
        measured = ((record.get("ceiling") or {}).get(mode) or {}).get(way) or {}
        if isinstance(measured.get("gbit_per_s"), (int, float)):
            what = "the delay box's ceiling" + (" packet by packet" if mode == "per_packet" else "")
            found.append((float(measured["gbit_per_s"]), what))
    if values.get("rate"):
        found.append((values["rate"] / 1000, f"the {values['rate']} Mbit/s rate limit"))
    return min(found) if found else None


def limited(document: RunDocument, cell: CellResult, median: float | None) -> str | None:
    """"limited by the path (...)" where the median is within 10% of the path's limit."""
    found = limit(document, cell)
    if found is None or median is None:
        return None
    value, what = found
    if median >= LIMITED_SHARE * value:
        return f"limited by the path ({what}, {value:.3g} Gbit/s)"
    return None


@dataclass(frozen=True)
class CellPath:
    """What one cell's trials asked of the path and saw."""

    workload: str
    label: str
    asked_rtt_ms: float
    #: Each ok trial's round trip (p50 of its check), in ms.
    rtt_ms: tuple[float, ...]
    loss_asked_pct: float
    #: netem's drops over packets, all directions and trials together (None: no counts).
    loss_seen_pct: float | None
    trials: int


def cell_paths(document: RunDocument) -> list[CellPath]:
    """Every cell whose trials crossed a shaped path, in the document's order."""
    found = []
    for cell in document.cells:
        records = [t.observations.get("path") for t in cell.trials if t.status == "ok"]
        records = [r for r in records if isinstance(r, dict)]
        if not records:
            continue
        asked = records[0].get("asked") or {}
        rtts = tuple(round(r["rtt_us"]["p50"] / 1000, 3) for r in records
                     if isinstance(r.get("rtt_us"), dict) and isinstance(r["rtt_us"].get("p50"), (int, float)))
        packets = dropped = 0
        for record in records:
            for counts in (record.get("netem") or {}).values():
                packets += int(counts.get("packets", 0)) + int(counts.get("dropped", 0))
                dropped += int(counts.get("dropped", 0))
        found.append(CellPath(cell.workload, cell.label, float(asked.get("rtt_added_ms", 0.0)), rtts,
                              float(asked.get("loss_percent_each_way", 0.0)),
                              round(100 * dropped / packets, 3) if packets else None, len(records)))
    return found


def median_rtt(path: CellPath) -> float | None:
    return statistics.median(path.rtt_ms) if path.rtt_ms else None
