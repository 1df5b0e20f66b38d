"""Applying a merge to ``results/`` whole, even across a crash.

A merge changes many files and refs together (result files renamed with their snapshot, the
stack branch, tags). Everything it will write is first staged in ``results/netbench-merge.pending/``
(file names that are not ``.json``, so asv, which reads every ``.json`` under results/, never
takes them for results), then the plan is written there, atomically: from then on the merge
is decided. Applying it moves each staged file into place, sets each ref (from the value it
had when planned, so a ref someone else moved is an error, not overwritten) and removes the
files it replaces. Every step can be done again, so a merge cut short is completed by the next
command that takes the results lock (``recover``); one cut short before its plan was written
never happened, and its staging directory is removed.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..results import atomic
from ..errors import UsageError
from .snapshots import ZERO, StackRepo

PENDING = "netbench-merge.pending"
PLAN = "plan"


@dataclass
class Plan:
    writes: dict[str, Path] = field(default_factory=dict)  # path under results/ -> its new content
    deletes: list[str] = field(default_factory=list)  # paths under results/ the merge replaces
    refs: list[tuple[str, str, str | None]] = field(default_factory=list)  # (ref, new, old or None: absent)


def staging(results_dir: Path) -> Path:
    return results_dir / PENDING


def commit(results_dir: Path, repo: StackRepo, plan: Plan) -> None:
    """Stage the plan, decide it, apply it. Call with the results lock held."""
    stage = staging(results_dir)
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    writes = []
    for index, (rel, source) in enumerate(sorted(plan.writes.items())):
        staged = f"{index}.staged"
        with atomic.replacing(stage / staged) as tmp:
            shutil.copyfile(source, tmp)
        writes.append([rel, staged])
    atomic.write_text(stage / PLAN, json.dumps({"writes": writes, "deletes": sorted(plan.deletes),
                                                "refs": [list(r) for r in plan.refs]}, indent=1))
    _apply(results_dir, repo)


def recover(results_dir: Path, repo: StackRepo) -> str | None:
    """Complete a merge that was decided, or drop one that was not. Call with the lock held."""
    stage = staging(results_dir)
    if not stage.is_dir():
        return None
    if not (stage / PLAN).is_file():
        shutil.rmtree(stage)
        return "a merge with the shared history that was cut short before it was decided was dropped"
    _apply(results_dir, repo)
    return "completed a merge with the shared history that was cut short"


def _apply(results_dir: Path, repo: StackRepo) -> None:
    stage = staging(results_dir)
    plan = json.loads((stage / PLAN).read_text())
    root = results_dir.resolve()
    directories = set()
    for rel, staged in plan["writes"]:
        target = (root / rel).resolve()
        if not target.is_relative_to(root):
            raise UsageError(f"{stage / PLAN}: {rel} is outside the history")
        if (stage / staged).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / staged, target)
            directories.add(target.parent)
    for directory in directories:  # the renames last before the refs name what they hold
        _sync(directory)
    for ref, new, old in plan["refs"]:
        current = repo.ref(ref)
        if current == new:
            continue
        if current != old:
            raise UsageError(f"{repo.path}: {ref} moved while a merge was being applied "
                             f"(now {current}, expected {old}); nothing more was changed")
        repo.git("update-ref", ref, new, old or ZERO)
    written = {rel for rel, _ in plan["writes"]}
    for rel in plan["deletes"]:
        if rel not in written:
            (root / rel).unlink(missing_ok=True)
    shutil.rmtree(stage)


def _sync(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
