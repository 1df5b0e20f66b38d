"""The two sides of ``compare``: one stack's cells of a results document, or a stack
snapshot of the asv history (all samples recorded for it on one machine, and run by run
where every document it pools can still be read)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

from ..analysis.compare import CellKey, CellSamples, Side
from ..errors import UsageError
from ..methods import userfile
from ..results.cells import HOST_STACK
from . import asvfiles
from .config import AsvConfig
from .machine import checked_name
from .snapshots import StackRepo


def side_from_document(path: Path, metrics: str, stack: str = HOST_STACK) -> Side:
    """One stack's cells of a results document (this machine's own unless ``stack`` names a
    booted one)."""
    from .record import snapshot_of

    document = userfile.load_document(path)
    if stack not in document.stack_names():
        raise UsageError(f"{path}: no stack {stack!r} in this run (it has: {', '.join(document.stack_names())})")
    cells: dict[CellKey, CellSamples] = {}
    for cell in document.cells:
        if cell.status != "measured" or cell.stack != stack:
            continue
        infos = [cell.metric_info(cell.metric)] + (list(cell.extra_metrics) if metrics == "all" else [])
        for info in infos:
            kept = [t for t in cell.trials if t.status == "ok" and not t.warmup and info.id in t.samples
                    and math.isfinite(t.samples[info.id])]
            if kept:
                cells[CellKey(cell.workload, info.id, cell.placement, cell.method)] = CellSamples(
                    info.unit, info.higher_is_better, tuple(t.samples[info.id] for t in kept),
                    tuple(t.round for t in kept))
    label = f"{path.name} (run {document.run.get('id', '?')}" + ("" if stack == HOST_STACK else f", stack {stack}") + ")"
    return Side(label, "document", f"{path}" + ("" if stack == HOST_STACK else f"@{stack}"),
                snapshot_of(document, stack).items, cells,
                run=(str(document.run.get("id")), str(document.run.get("started_at"))),
                lacking=lacking_methods(document.cells, stack))


def lacking_methods(cells, stack: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Methods of a stack with no measured cell whose cells were not applicable, with their
    reasons (each once: a method's workloads may give different ones)."""
    measured = {c.method for c in cells if c.stack == stack and c.status == "measured"}
    reasons: dict[str, list[str]] = {}
    for cell in cells:
        if cell.stack == stack and cell.status == "not_applicable" and cell.method not in measured:
            found = reasons.setdefault(cell.method, [])
            if cell.reason and cell.reason not in found:
                found.append(cell.reason)
    return {m: "not applicable: " + ("; ".join(r) or "no reason recorded") for m, r in reasons.items()}


def side_from_snapshot(conf: AsvConfig, name: str, machine: str | None, metrics: str) -> Side | None:
    repo = StackRepo(conf.stack_repo, conf.branch)
    point = repo.resolve(name)
    if point is None:
        return None
    holders = [m for m in asvfiles.machines(conf) if asvfiles.result_path(conf, m, point.commit).is_file()]
    if machine is None:
        if not holders:
            raise UsageError(f"{name}: no samples recorded for this stack snapshot")
        if len(holders) > 1:
            raise UsageError(f"{name}: recorded on several machines ({', '.join(holders)}); choose one with --machine")
        machine = holders[0]
    elif machine not in holders:
        raise UsageError(f"{name}: no samples recorded for this stack snapshot on machine {machine}")
    cells: dict[CellKey, CellSamples] = {}
    for stored in asvfiles.read_samples(conf, machine, point.commit):
        if metrics == "primary" and not stored.primary:
            continue
        cells[CellKey(stored.workload, stored.metric, stored.placement, stored.method)] = CellSamples(
            stored.unit, stored.higher_is_better, tuple(stored.samples))
    label = f"{point.tag or point.commit[:8]} on {machine}"
    run_count, runs = _runs_of(conf, machine, point.commit, metrics, set(cells))
    return Side(label, "snapshot", point.commit, point.snapshot.items, cells, runs=runs, run_count=run_count)


def _runs_of(conf: AsvConfig, machine: str, commit: str, metrics: str,
             keys: set[CellKey]) -> tuple[int, dict[CellKey, tuple[tuple[float, ...], ...]]]:
    """How many runs a snapshot pools on a machine, and, when every one of their documents
    can still be read, each cell's samples run by run (the ledger names the documents)."""
    from .record import ledger_rows

    rows = [r for r in ledger_rows(conf) if r["machine"] == machine and r["commit"] == commit]
    per_run: list[dict[CellKey, tuple[float, ...]]] = []
    for row in rows:
        run_id, at, stack = row["run_id"].partition("@")
        try:
            side = side_from_document(Path(row["source"]), metrics, stack if at else HOST_STACK)
        except UsageError:
            return len(rows), {}  # a document is gone: the pooled samples are all there is
        if side.run is None or side.run[0] != run_id:
            # Another document at that path (a row a shared history brought from another
            # machine names that machine's path): its samples are not this run's.
            return len(rows), {}
        per_run.append({k: c.samples for k, c in side.cells.items()})
    if len(per_run) < 2:
        return len(rows), {}
    return len(rows), {k: tuple(r[k] for r in per_run if k in r) for k in keys}


def load_side(argument: str, conf_loader: Callable[[], AsvConfig], machine: str | None, metrics: str) -> Side:
    """A results document when ``argument`` is a file, else a stack snapshot (tag or hash);
    ``SNAPSHOT@MACHINE`` is a snapshot's samples of one machine, ``@MACHINE`` that machine's
    latest snapshot (tags never hold an "@", so neither form is ambiguous)."""
    path = Path(argument)
    if path.is_file():
        return side_from_document(path, metrics)
    document, at, stack = argument.rpartition("@")
    if at and Path(document).is_file():
        return side_from_document(Path(document), metrics, stack)  # RUN.json@STACK: one stack of a run
    if path.suffix == ".json" or "/" in argument or (at and document.endswith(".json")):
        raise UsageError(f"{argument}: no such results document")
    conf = conf_loader()
    name = argument
    if at:
        name, machine = document, checked_name(stack)
        if machine not in asvfiles.machines(conf):
            known = ", ".join(asvfiles.machines(conf)) or "none yet"
            raise UsageError(f"{argument}: machine {machine} has nothing recorded in {conf.results_dir} "
                             f"(machines: {known})")
        name = name or latest_snapshot(conf, machine)
    side = side_from_snapshot(conf, name, machine, metrics)
    if side is None:
        raise UsageError(f"{argument}: neither a results document nor a stack snapshot in {conf.stack_repo} "
                         "(python -m bench_runner publish lists them)")
    return side


def latest_snapshot(conf: AsvConfig, machine: str) -> str:
    """The newest stack snapshot holding samples of a machine (its commit)."""
    for item in reversed(StackRepo(conf.stack_repo, conf.branch).snapshots()):
        if asvfiles.result_path(conf, machine, item.commit).is_file():
            return item.commit
    raise UsageError(f"machine {machine}: no stack snapshot holds its samples")
