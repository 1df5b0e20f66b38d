"""Keeping a run's trials: each finished trial goes into its cell, the cell's status follows
from its trials, and the document is saved at once, so a crash loses at most the trial in
progress."""

from __future__ import annotations

from pathlib import Path

from .matrix import Cell, Matrix
from ..results.document import CellResult, MetricInfo, RunDocument, Trial, save


class DocumentWriter:
    def __init__(self, document: RunDocument, output: Path) -> None:
        self.document = document
        self.output = output

    def keep(self, cell: Cell, trial: Trial) -> None:
        add_trial(self.document, cell, trial)
        save(self.document, self.output)


def add_trial(document: RunDocument, cell: Cell, trial: Trial) -> None:
    """A finished trial into its cell, and the cell's status from its trials."""
    result = document.cell(cell.workload, cell.placement, cell.method, cell.stack)
    result.trials.append(trial)
    result.status = "measured" if result.samples(include_warmup=True) else "failed"
    result.reason = None if result.status == "measured" else trial.error


def new_cell_results(matrix: Matrix) -> list[CellResult]:
    """A document's cells before the first trial: every cell to measure, and every cell
    that is not applicable, with why."""
    from .matrix import workload as workload_of

    cells = []
    for cell in matrix.cells:
        workload = workload_of(cell.workload)
        cells.append(CellResult(cell.workload, cell.placement, cell.method, workload.metric.id,
                                workload.metric.unit, workload.metric.higher_is_better,
                                [MetricInfo.of(m) for m in workload.extra_metrics], stack=cell.stack))
    for cell, reason in matrix.not_applicable:
        workload = workload_of(cell.workload)
        cells.append(CellResult(cell.workload, cell.placement, cell.method, workload.metric.id,
                                workload.metric.unit, workload.metric.higher_is_better,
                                [MetricInfo.of(m) for m in workload.extra_metrics],
                                status="not_applicable", reason=reason, stack=cell.stack))
    return cells
