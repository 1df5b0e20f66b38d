"""Merging two copies of a history's files so that no sample is lost and none counts twice.

A file changed on one side only is taken from that side. A file changed on both (the same
machine's point recorded in two places, or two pushes that crossed) is merged by content:

- asv result file: per benchmark and (method, placement), three-way on the samples as a
  multiset, against the copy both sides last shared (the *base*): a value held ``o`` times
  here, ``t`` times in the shared history and ``b`` times in the base is held
  ``max(o, t, o + t - b)`` times. Samples either side added are all kept, samples both had
  are kept once, and a sample one side lost but the other still has comes back. asv
  recomputes its statistics from the merged samples.
- ledger: the union of its rows. A run recorded on both sides since the base (the same
  machine, run id and start, overlapping trials) is refused: its samples would count twice.
- ``benchmarks.json``: the union of benchmarks, this side's entry where both have one (it is
  asv's discovery of this suite's benchmarks/); ``machine.json``: this side's.

A benchmark stored under another version or other parameters on the other side (suites of
two versions) is refused rather than dropped: asv keeps one version per file.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from ..errors import UsageError
from .record import parse_trial_ranges

Samples = Sequence[float] | None


def extra_samples(ours: Samples, theirs: Samples, base: Samples) -> list[float]:
    """The samples of ``theirs`` to append to ``ours`` (in theirs' order)."""
    if not theirs:
        return []
    have, had = Counter(ours or ()), Counter(base or ())
    wanted = {value: count - min(have[value], had[value]) for value, count in Counter(theirs).items()}
    extra = []
    for value in theirs:
        if wanted[value] > 0:
            extra.append(value)
            wanted[value] -= 1
    return extra


def merged_counts(ours: Samples, theirs: Samples, base: Samples) -> Counter[float]:
    """What the merge holds, as counts (the rule the module states; used by the tests)."""
    return Counter(list(ours or ()) + extra_samples(ours, theirs, base))


@dataclass
class FileMerge:
    path: Path  # where the merged file was written
    added: int  # samples taken from the other side
    notes: list[str] = field(default_factory=list)


def remap(source: Path, dest_dir: Path, commit: str, date_ms: int) -> Path:
    """A copy of a result file under another commit of the same snapshot (its snapshot moved
    after the shared history's): asv names the file, and stores the commit and its date, by it."""
    from asv import util as asv_util
    from asv.results import Results, get_filename

    data = asv_util.load_json(str(source), api_version=Results.api_version)
    data["commit_hash"], data["date"] = commit, date_ms
    target = dest_dir / get_filename(data["params"]["machine"], commit, data["env_name"])
    target.parent.mkdir(parents=True, exist_ok=True)
    asv_util.write_json(str(target), data, Results.api_version, compact=True)
    return target


def _load(path: Path, machine: str):  # type: ignore[no-untyped-def]
    from asv import util as asv_util
    from asv.results import Results

    try:
        return Results.load(str(path), machine_name=machine)
    except (asv_util.UserError, OSError, ValueError, TypeError) as exc:
        raise UsageError(f"{path.name} of machine {machine}: not an asv result file ({exc})") from None


def _per_combo(results, name: str, params: list[list[str]]) -> list[Samples]:  # type: ignore[no-untyped-def]
    """Samples per parameter combination (asv's order), None where there are none."""
    if results is None or name not in results.get_all_result_keys():
        return [None] * len(list(itertools.product(*params)))
    return list(results.get_result_samples(name, params))


def _same_benchmark(a, b, name: str) -> bool:  # type: ignore[no-untyped-def]
    return (a.benchmark_version.get(name) == b.benchmark_version.get(name)
            and a.get_result_params(name) == b.get_result_params(name))


def merge_result_file(ours: Path, theirs: Path, base: Path | None, machine: str, dest_dir: Path) -> FileMerge:
    """Three-way merge of one asv result file (machine, commit); written under ``dest_dir``
    with asv's file name."""
    from asv.results import get_filename
    from asv.runner import BenchmarkResult

    mine, other = _load(ours, machine), _load(theirs, machine)
    common = _load(base, machine) if base is not None else None
    if mine.commit_hash != other.commit_hash:
        raise UsageError(f"{ours.name} of machine {machine}: the two copies name different commits")
    out = FileMerge(dest_dir / get_filename(machine, mine.commit_hash, mine.env_name), 0)
    if mine.params != other.params:
        out.notes.append(f"machine {machine} is described differently in the shared history "
                         f"({other.params.get('cpu')}, {other.params.get('num_cpu')} CPUs) than here "
                         f"({mine.params.get('cpu')}, {mine.params.get('num_cpu')} CPUs): are two hosts "
                         "recording under one name? This side's description is kept")
    for name in sorted(other.get_all_result_keys()):
        params = other.get_result_params(name)
        if name in mine.get_all_result_keys() and not _same_benchmark(mine, other, name):
            raise UsageError(f"{name} is recorded under version {other.benchmark_version.get(name)} in the shared "
                             f"history and {mine.benchmark_version.get(name)} here (or with other parameters): "
                             "every machine sharing a history must run the same version of the suite")
        base_ok = common is not None and name in common.get_all_result_keys() and _same_benchmark(common, other, name)
        extras = [extra_samples(o, t, b) for o, t, b in zip(
            _per_combo(mine, name, params), _per_combo(other, name, params),
            _per_combo(common if base_ok else None, name, params))]
        selected = {i for i, e in enumerate(extras) if e}
        if not selected:
            continue
        values = [sorted(e)[len(e) // 2] if e else math.nan for e in extras]
        started = max(mine.started_at.get(name) or 0, other.started_at.get(name) or 0)
        mine.add_result({"name": name, "version": other.benchmark_version.get(name), "params": params},
                        BenchmarkResult(result=values, samples=[e or None for e in extras],
                                        number=[1 if e else None for e in extras], errcode=0, stderr="",
                                        profile=None),
                        started_at=datetime.fromtimestamp(started / 1000, tz=timezone.utc),
                        duration=max(mine.duration.get(name) or 0.0, other.duration.get(name) or 0.0),
                        record_samples=True, append_samples=True, selected_idx=selected)
        out.added += sum(len(e) for e in extras)
    mine.save(str(dest_dir))
    return out


def count_samples(path: Path, machine: str) -> int:
    """Every sample a result file holds (for what a merge brought in)."""
    results = _load(path, machine)
    total = 0
    for name in results.get_all_result_keys():
        total += sum(len(s) for s in _per_combo(results, name, results.get_result_params(name)) if s)
    return total


Row = dict[str, str]


def _identity(row: Row) -> tuple[str, ...]:
    return tuple(row.get(k, "") for k in ("machine", "commit", "run_id", "run_started_at", "source", "trials",
                                          "recorded_at"))


def merge_ledger(ours: list[Row], theirs: list[Row], base: list[Row]) -> list[Row]:
    """The union of the rows, oldest recording first; a run both sides recorded since the base
    is refused (see the module)."""
    known = {_identity(r) for r in base}
    new_here = [r for r in ours if _identity(r) not in known]
    new_there = [r for r in theirs if _identity(r) not in known]
    for mine in new_here:
        for other in new_there:
            if (mine["machine"], mine["run_id"], mine["run_started_at"]) != (
                    other["machine"], other["run_id"], other["run_started_at"]):
                continue
            a, b = parse_trial_ranges(mine.get("trials")), parse_trial_ranges(other.get("trials"))
            if a is None or b is None or a & b:
                raise UsageError(f"run {mine['run_id']} of machine {mine['machine']} was recorded both here and "
                                 "in the shared history since they last met: merging would count its samples "
                                 "twice. Keep one copy (move this results/ aside, pull, and record the runs "
                                 "that are missing)")
    rows, seen = list(ours), {_identity(r) for r in ours}
    for row in theirs:
        if _identity(row) not in seen:
            rows.append(row)
            seen.add(_identity(row))
    return sorted(rows, key=lambda r: r.get("recorded_at", ""))


def merge_benchmarks(ours: Path, theirs: Path) -> dict[str, Any]:
    """benchmarks.json: the union, this side's entries first."""
    try:
        mine, other = json.loads(ours.read_text()), json.loads(theirs.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"benchmarks.json: unreadable ({exc})") from None
    if not isinstance(mine, dict) or not isinstance(other, dict):
        raise UsageError("benchmarks.json: not asv's benchmark description")
    merged = {k: v for k, v in other.items() if k != "version"}
    merged.update({k: v for k, v in mine.items() if k != "version"})
    return merged
