"""Repeated, interleaved trials: each a fresh server and a fresh client.

A run is four parts with one job each: the scheduler (``schedule``: rounds, their order,
extra rounds), the executor (``executor``: one trial, server to samples), the observers
(``observers``: carrier, peer, links, CPU, swept values) and the writer (``writer``: each
trial into the document, saved at once). ``TrialRunner`` puts them together for ``run``;
``calibrate`` and the capture trials use the executor alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping

from .capture import TrialCapture
from .executor import PORT_BASE, PORT_SPAN, TrialExecutor, ss_endpoint, with_sweep
from .matrix import Cell
from .observers import CpuFromSighting, check_ipv6, is_ipv6, record_helper_cpu
from ..providers import Provider, Session
from ..results.document import RunDocument, Trial, now_iso
from .schedule import MAX_CONSECUTIVE_FAILURES, Plan, Progress, Scheduler, Starting, extra_round, family, round_order
from ..workloads import TrialSettings
from .writer import DocumentWriter, new_cell_results

__all__ = ["CpuFromSighting", "DocumentWriter", "MAX_CONSECUTIVE_FAILURES", "PORT_BASE", "PORT_SPAN", "Plan",
           "Progress", "Scheduler", "Starting", "TrialExecutor", "TrialRunner", "check_ipv6", "extra_round",
           "family", "is_ipv6", "new_cell_results", "now_iso", "record_helper_cpu", "round_order", "ss_endpoint",
           "with_sweep"]


class TrialRunner:
    """Runs the plan's cells, each in the lab of its stack with that stack's provider.
    ``session`` and ``provider`` are the only target, unless ``stacks`` names one per stack."""

    def __init__(self, document: RunDocument, output: Path, session: Session, provider: Provider,
                 on_progress: Callable[[Progress], None] = lambda p: None,
                 on_start: Callable[[Starting], None] = lambda s: None, *,
                 stacks: Mapping[str, tuple[Session, Provider]] | None = None) -> None:
        targets = dict(stacks) if stacks else {session.stack_name: (session, provider)} if session else {}
        self.document = document
        self.executor = TrialExecutor(targets, first_index=sum(len(c.trials) for c in document.cells),
                                      document=document)
        self.writer = DocumentWriter(document, output)
        self.on_progress = on_progress
        self.on_start = on_start

    def run(self, plan: Plan) -> None:
        Scheduler(self.document, self.run_trial, self.writer.keep, self.on_progress, self.on_start).run(plan)

    def session_of(self, cell: Cell) -> Session:
        return self.executor.session_of(cell)

    def run_trial(self, cell: Cell, round_index: int, warmup: bool, settings: TrialSettings,
                  capture: TrialCapture | None = None) -> Trial:
        return self.executor.run_trial(cell, round_index, warmup, settings, capture)
