"""asv's own files, read and written through asv's own classes (pinned asv 0.6.6).

``benchmarks.json`` comes from asv's benchmark discovery of ``benchmarks/``, exactly as
``asv run`` writes it, so the two never disagree on a name, a version or the parameters.
Result files are ``asv.results.Results``: samples are appended per (method, placement), the
statistics asv shows (median, 99% interval, quartiles) are recomputed by asv, and cells a
document did not measure keep their earlier samples.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping

from .. import procs
from ..results.atomic import replacing
from ..errors import UsageError
from . import specs
from .config import AsvConfig
from .machine import ENV_NAME, PYTHON

DISCOVERY_TIMEOUT = 120


@contextmanager
def atomic_json_writes() -> Iterator[None]:
    """asv writes its JSON files (a point's results file holds every sample of that point,
    benchmarks.json, machine.json, ~/.asv-machine.json) by truncating them in place: a crash
    mid-write would lose them. While this is active, asv's own writer writes a temporary file
    beside the target, which is synced and then renamed over it."""
    from asv import util as asv_util

    original = asv_util.write_json

    def atomic(path: str, data: Any, api_version: int | None = None, compact: bool = False) -> None:
        with replacing(Path(os.path.abspath(path))) as tmp:
            original(str(tmp), data, api_version, compact)

    asv_util.write_json = atomic
    try:
        yield
    finally:
        asv_util.write_json = original


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """One writer at a time on a results directory (a flock on the directory itself)."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def discover(conf: AsvConfig) -> dict[str, dict[str, Any]]:
    """asv's discovery of ``benchmarks/``, run the way ``asv run`` runs it."""
    from asv import runner

    with tempfile.TemporaryDirectory(prefix="netbench-discover-") as tmp:
        out = Path(tmp) / "benchmarks.json"
        procs.run([sys.executable, runner.BENCHMARK_RUN_SCRIPT, "discover", str(conf.benchmark_dir), str(out)],
                  timeout=DISCOVERY_TIMEOUT, cwd=tmp)
        found = json.loads(out.read_text())
    return {entry["name"]: entry for entry in found}


def write_benchmarks_json(conf: AsvConfig, discovered: Mapping[str, dict[str, Any]]) -> None:
    from asv import util as asv_util
    from asv.benchmarks import Benchmarks

    asv_util.write_json(str(conf.results_dir / "benchmarks.json"), dict(discovered), Benchmarks.api_version)


def checked_entry(discovered: Mapping[str, dict[str, Any]], spec: specs.BenchmarkSpec) -> dict[str, Any]:
    """The discovered benchmark for a spec; benchmarks/ and the specs must agree."""
    entry = discovered.get(spec.name)
    if entry is None or entry.get("params") != spec.asv_params() or entry.get("version") != specs.VERSION:
        raise UsageError(f"benchmarks/ does not define {spec.name} as the suite expects "
                         f"(parameters {spec.asv_params()}, version {specs.VERSION})")
    return entry


def result_path(conf: AsvConfig, machine: str, commit: str) -> Path:
    from asv.results import get_filename

    return conf.results_dir / get_filename(machine, commit, ENV_NAME)


def write_machine_json(conf: AsvConfig, info: Mapping[str, str]) -> bool:
    """``results/<machine>/machine.json``, written once: a machine's description is fixed."""
    from asv import util as asv_util
    from asv.machine import Machine

    path = conf.results_dir / info["machine"] / "machine.json"
    if path.is_file():
        return False
    asv_util.write_json(str(path), dict(info), Machine.api_version)
    return True


@dataclass(frozen=True)
class NewSamples:
    """The samples one document adds to one benchmark, per (method, placement)."""

    spec: specs.BenchmarkSpec
    samples: dict[tuple[str, str], list[float]]
    started_at: datetime
    duration_s: float


def add_samples(conf: AsvConfig, *, machine_params: Mapping[str, str], commit: str, date: datetime,
                entries: Mapping[str, dict[str, Any]], additions: list[NewSamples]) -> Path:
    """Append samples to the result file of (machine, commit); asv recomputes its statistics."""
    from asv import util as asv_util
    from asv.results import Results
    from asv.runner import BenchmarkResult

    path = result_path(conf, machine_params["machine"], commit)
    if path.is_file():
        try:
            stored = Results.load(str(path), machine_name=machine_params["machine"])
        except asv_util.UserError as exc:
            raise UsageError(f"{path}: {exc}") from None
    else:
        stored = Results(dict(machine_params), {}, commit, int(date.timestamp() * 1000), PYTHON, ENV_NAME, {})
    for addition in additions:
        combos = addition.spec.combinations()
        values: list[float | None] = []
        samples: list[list[float] | None] = []
        number: list[int | None] = []
        selected = set()
        for index, combo in enumerate(combos):
            got = addition.samples.get(combo)
            if got:
                selected.add(index)
                ordered = sorted(got)
                values.append(ordered[len(ordered) // 2])  # asv recomputes it from the samples
                samples.append(list(got))
                number.append(1)
            else:
                # NaN is asv's "skipped" (n/a); None would read as a failed benchmark. Stored
                # values of these combinations are kept (they are not in ``selected``).
                values.append(math.nan)
                samples.append(None)
                number.append(None)
        if not selected:
            continue
        stored.add_result(entries[addition.spec.name],
                          BenchmarkResult(result=values, samples=samples, number=number, errcode=0, stderr="",
                                          profile=None),
                          started_at=addition.started_at, duration=addition.duration_s,
                          record_samples=True, append_samples=True, selected_idx=selected)
    stored.save(str(conf.results_dir))
    return path


@dataclass(frozen=True)
class StoredCell:
    benchmark: str
    workload: str
    metric: str
    unit: str
    higher_is_better: bool
    primary: bool
    method: str
    placement: str
    samples: list[float]


def read_samples(conf: AsvConfig, machine: str, commit: str) -> list[StoredCell]:
    """Every (benchmark, method, placement) with samples stored for (machine, commit)."""
    from asv import util as asv_util
    from asv.results import Results

    path = result_path(conf, machine, commit)
    if not path.is_file():
        return []
    bench_file = conf.results_dir / "benchmarks.json"
    try:
        stored = Results.load(str(path), machine_name=machine)
        benchmarks = asv_util.load_json(str(bench_file), api_version=2)
    except asv_util.UserError as exc:
        raise UsageError(f"{conf.results_dir}: {exc}") from None
    cells = []
    for name in sorted(stored.get_all_result_keys()):
        entry = benchmarks.get(name)
        if entry is None or "higher_is_better" not in entry or entry.get("version") != stored.benchmark_version.get(name):
            continue  # not one of the suite's benchmarks, or an older version of it
        params = entry["params"]
        per_combo = stored.get_result_samples(name, params)
        for combo, samples in zip(_product(params), per_combo):
            finite = [float(s) for s in samples or [] if s is not None and math.isfinite(s)]
            if not finite:
                continue
            method, placement = (_unrepr(v) for v in combo)
            cells.append(StoredCell(name, entry["workload"], entry["metric"], entry["unit"],
                                    bool(entry["higher_is_better"]), bool(entry.get("primary_metric", True)),
                                    method, placement, finite))
    return cells


def count_samples(conf: AsvConfig, machine: str, commit: str) -> int:
    return sum(len(c.samples) for c in read_samples(conf, machine, commit))


def _product(params: list[list[str]]) -> list[tuple[str, ...]]:
    import itertools

    return list(itertools.product(*params))


def _unrepr(value: str) -> str:
    import ast

    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value
    return parsed if isinstance(parsed, str) else value


def machines(conf: AsvConfig) -> list[str]:
    if not conf.results_dir.is_dir():
        return []
    return sorted(p.parent.name for p in conf.results_dir.glob("*/machine.json"))
