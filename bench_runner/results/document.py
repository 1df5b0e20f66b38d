"""The results document: one versioned JSON file per run, written after every trial.

Everything later stages need is in it (stack, provider, every sample, every observation),
so a stored run can be ranked, reported and recorded into history without measuring again.
Writes are atomic (temporary file, fsync, rename): a crash loses at most the trial in
progress. Loading validates against the JSON Schema beside this module.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from .. import __version__
from . import atomic
from ..errors import UsageError
from .cells import HOST_STACK, Cell
from .metrics import Metric
from .observed import Observed

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("schema") / f"results-v{SCHEMA_VERSION}.schema.json"

#: Run status: still going, finished, or stopped early (interrupted, crashed).
RUN_STATUSES = ("running", "complete", "incomplete")
CELL_STATUSES = ("pending", "measured", "failed", "not_applicable")


def now_iso() -> str:
    """A moment as the document records it: UTC, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Trial:
    index: int  # position in the run's interleaved order
    round: int
    warmup: bool
    started_at: str
    seconds: float
    status: str  # "ok" or "failed"
    error: str | None = None
    samples: dict[str, float] = field(default_factory=dict)
    #: As stored; read them through ``observed``.
    observations: dict[str, Any] = field(default_factory=dict)

    @property
    def observed(self) -> Observed:
        """The observations readers use, typed (carrier, the address the far end saw, links)."""
        return Observed.from_json(self.observations)


@dataclass
class MetricInfo:
    id: str
    unit: str
    higher_is_better: bool

    @classmethod
    def of(cls, metric: Metric) -> "MetricInfo":
        return cls(metric.id, metric.unit, metric.higher_is_better)


@dataclass
class CellResult:
    workload: str
    placement: str
    method: str
    metric: str
    unit: str
    higher_is_better: bool
    extra_metrics: list[MetricInfo] = field(default_factory=list)
    status: str = "pending"
    reason: str | None = None
    trials: list[Trial] = field(default_factory=list)
    #: Whose software ran the server side (see matrix.Cell.stack).
    stack: str = HOST_STACK

    @property
    def cell(self) -> Cell:
        return Cell(self.workload, self.placement, self.method, self.stack)

    @property
    def label(self) -> str:
        """The method as the tables name it: "pasta", or "pasta@trixie" under a booted stack."""
        return self.cell.label.rsplit("/", 1)[1]

    def samples(self, metric: str | None = None, *, include_warmup: bool = False) -> list[float]:
        """The values of one metric over the successful trials (warm-up excluded)."""
        metric = metric or self.metric
        return [t.samples[metric] for t in self.trials
                if t.status == "ok" and (include_warmup or not t.warmup) and metric in t.samples]

    def samples_by_round(self, metric: str | None = None) -> dict[int, float]:
        """The same values by the round they were measured in, so two cells of one run can be
        compared round by round (the run interleaves every cell in every round)."""
        metric = metric or self.metric
        return {t.round: t.samples[metric] for t in self.trials
                if t.status == "ok" and not t.warmup and metric in t.samples}

    def metric_info(self, metric: str) -> MetricInfo:
        if metric == self.metric:
            return MetricInfo(self.metric, self.unit, self.higher_is_better)
        for info in self.extra_metrics:
            if info.id == metric:
                return info
        raise KeyError(metric)


@dataclass
class RunDocument:
    run: dict[str, Any]
    stack: dict[str, Any]
    lab: dict[str, Any]
    provider: dict[str, Any]
    availability: dict[str, Any] = field(default_factory=dict)
    cells: list[CellResult] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    tool: dict[str, str] = field(default_factory=lambda: {"name": "podman-netbench", "version": __version__})
    #: Booted stacks measured beside this machine's own, by name: what each was built from,
    #: its versions, its provider, its lab, and how it booted. Empty for a host-only run.
    stacks: dict[str, Any] = field(default_factory=dict)
    #: Packet captures and CPU profiles (run --capture), files beside the document.
    captures: list[dict[str, Any]] = field(default_factory=list)

    def cell(self, workload: str, placement: str, method: str, stack: str = HOST_STACK) -> CellResult:
        for result in self.cells:
            if (result.workload, result.placement, result.method, result.stack) == (workload, placement, method, stack):
                return result
        raise KeyError(Cell(workload, placement, method, stack).label)

    def stack_names(self) -> list[str]:
        """The stacks of the run's cells, in the order they were asked for."""
        return list(dict.fromkeys(c.stack for c in self.cells))

    def stack_versions(self, stack: str) -> dict[str, Any]:
        """The key versions of the software a stack's cells ran on."""
        if stack == HOST_STACK:
            keys = ("kernel", "podman", "passt", "slirp4netns", "rootlesskit", "iperf3")
            return {**{k: self.stack.get(k) for k in keys}, **self.stack.get("stated", {})}
        booted = self.stacks.get(stack, {})
        return {"kernel": self.stack.get("kernel"), **booted.get("versions", {})}

    def provider_of(self, stack: str) -> dict[str, Any]:
        if stack == HOST_STACK:
            return self.provider
        return dict(self.stacks.get(stack, {}).get("provider", {}))

    def method_provider(self, method: str, stack: str = HOST_STACK) -> tuple[str | None, str]:
        """The provider that ran a method in a stack, with why: the stack's own, unless the run
        mixed providers (``provider.by_method``)."""
        record = self.provider_of(stack)
        own = (record.get("by_method") or {}).get(method)
        if isinstance(own, dict):
            return own.get("id"), str(own.get("reason") or "")
        return record.get("id"), str(record.get("reason") or "")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for cell in data["cells"]:
            if cell["stack"] == HOST_STACK:
                del cell["stack"]  # a host-only document reads as before stacks existed
        # Key order: what a reader wants first.
        order = ["schema_version", "tool", "run", "provider", "stack", "lab", "availability",
                 "cells", "checks", "warnings"]
        ordered = {key: data[key] for key in order}
        if self.stacks:
            ordered["stacks"] = data["stacks"]
        if self.captures:
            ordered["captures"] = data["captures"]
        return ordered

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RunDocument":
        cells = []
        for raw in data["cells"]:
            raw = dict(raw)
            raw["extra_metrics"] = [MetricInfo(**m) for m in raw.get("extra_metrics", [])]
            raw["trials"] = [Trial(**t) for t in raw.get("trials", [])]
            cells.append(CellResult(**raw))
        return cls(
            run=data["run"], stack=data["stack"], lab=data["lab"], provider=data["provider"],
            availability=data.get("availability", {}), cells=cells, checks=data.get("checks", {}),
            warnings=list(data.get("warnings", [])), schema_version=data["schema_version"],
            tool=data.get("tool", {}), stacks=dict(data.get("stacks", {})),
            captures=list(data.get("captures", [])),
        )


def provider_label(record: dict[str, Any]) -> str:
    """A provider record in a word: "podman", "bare", or for a run that mixed them the main
    one and the others with their methods, "podman+bare:pasta" (a history snapshot must not pool
    samples of different data paths)."""
    main = str(record.get("id", "unknown"))
    others: dict[str, list[str]] = {}
    for method, own in sorted((record.get("by_method") or {}).items()):
        if isinstance(own, dict) and own.get("id") not in (None, main):
            others.setdefault(str(own["id"]), []).append(method)
    return main + "".join(f"+{p}:{','.join(ms)}" for p, ms in sorted(others.items()))


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def validate(data: Any) -> None:
    """Raise UsageError with one line saying what is wrong with a results document."""
    if not isinstance(data, dict):
        raise UsageError("not a results document: the top level is not a JSON object")
    version = data.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise UsageError(f"results document has schema_version {version}, newer than this suite reads "
                         f"({SCHEMA_VERSION}): update podman-netbench to read it")
    if version != SCHEMA_VERSION:
        raise UsageError(f"results document has schema_version {version!r}; this suite reads {SCHEMA_VERSION}")
    validator = jsonschema.Draft202012Validator(_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise UsageError(f"invalid results document at {where}: {error.message}")


def load(path: str | os.PathLike[str]) -> RunDocument:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such results document") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (truncated?)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise UsageError(f"{path}: not valid JSON{hint}: {exc.msg} at line {exc.lineno}") from None
    try:
        validate(data)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None
    return RunDocument.from_json(data)


def save(document: RunDocument, path: str | os.PathLike[str]) -> None:
    """Atomically replace ``path`` with the document."""
    atomic.write_text(Path(path), json.dumps(document.to_json(), indent=1, sort_keys=False) + "\n")


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail before measuring, not after, when the output cannot be written."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"--output {target}: is a directory")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"--output {target}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--output {target}: directory {parent} is not writable")
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"--output {target}: file is not writable")
    return target
