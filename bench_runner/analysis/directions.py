"""Both directions of a throughput workload side by side: the client sending into the
container (``tcp-stream``) and the container sending to the client (``tcp-stream-reverse``),
or the container uploading and downloading (the outbound pair). A method can be fast one way
and collapse the other (a web server, a registry or a file share sends to its clients), so
the two halves are read together: each method's median and rank in each direction, and the
ratio of the directions round by round (the two cells ran in the same rounds).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..results.cells import stack_label
from ..results.document import RunDocument
from ..workloads import WORKLOADS, sweeps
from ..workloads.definition import SENDER_WORDS
from . import stats
from .ranking import MethodRow, RankTable


@dataclass(frozen=True)
class DirectionRow:
    method: str
    stack: str
    forward: MethodRow | None
    reverse: MethodRow | None
    #: The reverse direction against the forward one, the median of per-round ratios.
    reverse_vs_forward: stats.Ratio | None

    @property
    def label(self) -> str:
        return stack_label(self.method, self.stack)


@dataclass(frozen=True)
class DirectionTable:
    placement: str
    forward: RankTable
    reverse: RankTable
    rows: tuple[DirectionRow, ...]

    def words(self, table: RankTable) -> str:
        """ "client sends (tcp-stream)"."""
        sends = WORKLOADS[sweeps.base_of(table.workload)].sends
        return f"{SENDER_WORDS.get(sends, sends)} ({table.workload})"


def twin_of(workload_id: str) -> str | None:
    """The workload (variant) moving the data the other way between the same ends, if any."""
    base, values = sweeps.split(workload_id)
    reverse = WORKLOADS[base].reverse if base in WORKLOADS else ""
    return sweeps.variant_id(reverse, values) if reverse else None


def direction_tables(tables: list[RankTable], document: RunDocument) -> list[DirectionTable]:
    """One table per pair of twin workloads and placement where both were ranked, the one
    listed first in the run as the forward half."""
    by_key = {(t.workload, t.placement): t for t in tables}
    found: list[DirectionTable] = []
    seen: set[tuple[str, str]] = set()
    for table in tables:
        twin = twin_of(table.workload)
        other = by_key.get((twin, table.placement)) if twin else None
        if other is None or (table.workload, table.placement) in seen:
            continue
        seen |= {(table.workload, table.placement), (other.workload, table.placement)}
        forward_rows = {(r.method, r.stack): r for r in table.rows}
        reverse_rows = {(r.method, r.stack): r for r in other.rows}
        rows = []
        for method, stack in dict.fromkeys([*forward_rows, *reverse_rows]):
            ratio = None
            if (method, stack) in forward_rows and (method, stack) in reverse_rows:
                a = document.cell(other.workload, table.placement, method, stack).samples_by_round()
                b = document.cell(table.workload, table.placement, method, stack).samples_by_round()
                ratio = stats.ratio(a, b) if a and b else None
            rows.append(DirectionRow(method, stack, forward_rows.get((method, stack)),
                                     reverse_rows.get((method, stack)), ratio))
        found.append(DirectionTable(table.placement, table, other, tuple(rows)))
    return found
