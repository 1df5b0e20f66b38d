"""Everything a report shows, gathered from one results document by the suite's own
analysis modules (rankings, verdicts, claims, stability), so a report never computes a
statistic its own way and a stored run renders the same every time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..analysis import ranking as analysis, claims, stability
from .. import defaults
from ..analysis import diagnosis
from ..analysis.diagnosis import Finding
from ..analysis.directions import DirectionTable, direction_tables
from ..analysis.ranking import RankTable
from ..analysis.claims import MatrixCell
from ..results.document import CellResult, RunDocument
from ..analysis.stability import Warning_
from ..analysis.verdicts import DOCUMENTED, OrderingVerdict, judge_all, parse_expectation
from .reproduce import Reproduction, command


WHAT = "Rootless Podman networking benchmark"


@dataclass(frozen=True)
class Group:
    """One workload and placement: its ranked table and the cells it was computed from."""

    table: RankTable
    cells: tuple[CellResult, ...]

    def units(self) -> dict[str, str]:
        """Metric id -> unit, for every metric these cells record."""
        found: dict[str, str] = {}
        for cell in self.cells:
            found.setdefault(cell.metric, cell.unit)
            for info in cell.extra_metrics:
                found.setdefault(info.id, info.unit)
        return found


@dataclass(frozen=True)
class ReportContent:
    source: Path
    document: RunDocument
    groups: tuple[Group, ...]
    verdicts: dict[str, list[OrderingVerdict]]  # expectation -> verdicts per workload/placement
    claims: tuple[MatrixCell, ...]
    tolerance: float
    warnings: tuple[Warning_, ...]
    reproduction: Reproduction
    #: Throughput workloads measured both ways, side by side.
    directions: tuple[DirectionTable, ...] = ()
    #: Throughput trials that moved less than a tenth of host's, and where their data stopped.
    findings: tuple[Finding, ...] = ()

    def about(self) -> str:
        """What the report is, for its first line."""
        return f"{WHAT} ({self.document.tool.get('name', 'podman-netbench')} {self.document.tool.get('version', '?')})"

    def workloads(self) -> list[str]:
        return list(dict.fromkeys(g.table.workload for g in self.groups))

    def groups_of(self, workload: str) -> list[Group]:
        return [g for g in self.groups if g.table.workload == workload]


def expectations_of(document: RunDocument) -> list[str]:
    """The orderings the run itself was asked to judge; the documented one for older runs."""
    stored = (document.run.get("options") or {}).get("expect")
    return list(stored) if stored else [DOCUMENTED]


def tolerance_of(document: RunDocument) -> float:
    stored = (document.run.get("options") or {}).get("tolerance")
    return float(stored) if stored is not None else defaults.TOLERANCE


def gather(document: RunDocument, source: Path, *, expectations: list[str] | None = None,
           tolerance: float | None = None) -> ReportContent:
    """Expectations and tolerance default to the run's own."""
    expectations = expectations or expectations_of(document)
    for expectation in expectations:
        parse_expectation(expectation)  # a UsageError names what is wrong
    tolerance = tolerance_of(document) if tolerance is None else tolerance
    cells_by_group = analysis.groups(document)
    groups = tuple(Group(t, tuple(cells_by_group[(t.workload, t.placement)])) for t in analysis.rank_tables(document))
    return ReportContent(
        source=source,
        document=document,
        groups=groups,
        verdicts=judge_all(document, list(expectations)),
        claims=tuple(claims.matrix(document, tolerance)),
        tolerance=tolerance,
        warnings=tuple(stability.warnings_for(document)),
        reproduction=command(document),
        directions=tuple(direction_tables([g.table for g in groups], document)),
        findings=tuple(diagnosis.findings(document)),
    )
