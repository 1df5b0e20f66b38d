"""The report's "Path" section, where the run shaped the path between the lab hosts
(--delay, --loss, --rate): how it was made, its own round trip and ceiling, and per cell the
round trip its trials asked for and saw, and the loss netem applied."""

from __future__ import annotations

from typing import Any

from ..analysis import pathlimit, tables
from ..results.cells import HOST_STACK
from ..results.document import RunDocument
from .blocks import Block, Heading, para, table


def _gbit(found: Any) -> str:
    if not isinstance(found, dict):
        return "-"
    if "gbit_per_s" in found:
        return f"{tables.fmt(found['gbit_per_s'])} Gbit/s"
    return f"not measured: {found.get('error', '?')}"


def _about(record: dict[str, Any]) -> list[list[str]]:
    rows = [["made by", str(record.get("via", "?"))
             + (f", {record['kernel']}" if record.get("kernel") else "")]]
    base = record.get("base_rtt_us") or {}
    if isinstance(base.get("p50"), (int, float)):
        rows.append(["its own round trip (nothing added)", f"{base['p50'] / 1000:.3f} ms (p50 of {base.get('count')} "
                                                          "echo round trips between the lab hosts)"])
    ceiling = record.get("ceiling") or {}
    for mode, words in (("gso", "its ceiling (host, nothing added)"),
                        ("per_packet", "its ceiling packet by packet (as loss is measured)")):
        if isinstance(ceiling.get(mode), dict):
            rows.append([words, f"to the server {_gbit(ceiling[mode].get('to_server'))}, to the client "
                                f"{_gbit(ceiling[mode].get('to_client'))}"])
    return rows


def blocks(document: RunDocument) -> list[Block]:
    record = pathlimit.path_record(document, HOST_STACK)
    cells = pathlimit.cell_paths(document)
    if not record and not cells:
        return []
    found: list[Block] = [Heading(2, "Path"), para(
        "The run shaped the path between the lab hosts: delay and loss added in each direction (netem), a rate "
        "limit on both (tbf). Before each trial counted, the round trip was measured through the path with the "
        "echo workers between the lab hosts (no container) and had to be within the window it records "
        "(observations: path); netem's counters give the loss it applied. A throughput within 10% of the "
        "path's own limit says \"limited by the path\" in the tables.")]
    if record:
        found.append(table(["path", "value"], _about(record)))
    rows = []
    for cell in cells:
        median = pathlimit.median_rtt(cell)
        spread = f" [{min(cell.rtt_ms):.3f}, {max(cell.rtt_ms):.3f}]" if len(cell.rtt_ms) > 1 else ""
        rows.append([cell.workload, cell.label, f"{cell.asked_rtt_ms:g}",
                     "-" if median is None else f"{median:.3f}{spread}", str(cell.trials),
                     f"{cell.loss_asked_pct:g}", "-" if cell.loss_seen_pct is None else f"{cell.loss_seen_pct:g}"])
    if rows:
        found.append(table(["workload", "method", "round trip added (ms)", "round trip seen (ms): median [min, max] "
                            "of the trials'", "trials", "loss asked (%, each way)", "loss netem applied (%)"], rows))
    return found
