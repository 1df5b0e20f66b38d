"""What ``benchmarks/netbench.py`` runs under ``asv run``.

``setup_cache`` measures once: it runs ``python -m bench_runner run`` (as root, after
scripts/setup.sh; options from ``NETBENCH_ASV_RUN_ARGS``), records the document into history
under its stack snapshot (asv itself saves nothing for an existing environment without
``--set-commit-hash``), and hands the samples to the track benchmarks, which return them to
asv as ``{"samples": [...], "number": 1}`` so asv shows a median and an interval.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any, Callable

from .. import procs
from ..methods import userfile
from ..results import document as results
from ..errors import VIOLATION_EXIT, BenchError
from . import config, specs
from ..run.matrix import HOST_STACK
from .record import record_document

#: Extra options for ``bench_runner run`` under asv, e.g. "--duration 10 --stack passt=custom-build".
ARGS_ENV = "NETBENCH_ASV_RUN_ARGS"
#: Seconds the whole measurement may take under asv (asv kills setup_cache after this).
TIMEOUT_ENV = "NETBENCH_ASV_TIMEOUT"
DEFAULT_TIMEOUT_S = 7200.0


def timeout_s() -> float:
    try:
        return max(60.0, float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_TIMEOUT_S


def _say(text: str) -> None:
    print(f"podman-netbench: {text}", file=sys.stderr, flush=True)


def measure_and_record() -> dict[str, Any]:
    """asv's setup_cache: one measured run, recorded; returns what the benchmarks report."""
    if os.geteuid() != 0:
        raise RuntimeError(
            "asv run measures rootless Podman networking in a lab of network namespaces: run it as root "
            "after ./scripts/setup.sh (it runs the servers as the unprivileged benchmark user). To add a "
            "stored run to history without measuring: python -m bench_runner record RESULTS.json")
    conf = config.load()
    try:
        extra = shlex.split(os.environ.get(ARGS_ENV, ""))
    except ValueError as exc:
        raise RuntimeError(f"{ARGS_ENV}: {exc}") from None
    argv = [sys.executable, "-m", "bench_runner", "run", "--format", "json", *extra]
    _say(f"measuring: {' '.join(argv[1:])}")
    # The document goes to runs/ beside asv.conf.json; the suite is imported from its own top.
    suite = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (suite, os.environ.get("PYTHONPATH")) if p)}
    try:
        # On timeout, SIGTERM first: the run then tears its lab down before it is killed.
        done = procs.run(argv, timeout=max(30.0, timeout_s() - 90), check=False, cwd=str(conf.top), env=env,
                         term_grace=60)
    except BenchError as exc:
        raise RuntimeError(f"bench_runner run: {exc}") from None
    path = _document_path(done)
    path = path if path.is_absolute() else conf.top / path
    document = userfile.load_document(path)
    outcome = record_document(document, str(path), conf)
    point = outcome.snapshot
    where = point.tag if point else "?"
    _say(f"recorded {outcome.samples} samples of {path} under stack snapshot {where}"
         f"{' (a new point)' if outcome.new_point else ''}")
    for note in outcome.notes:
        _say(note)
    return cache_of(document)


def _document_path(done: procs.ProcessResult) -> Path:
    """The run's results document; rc 1 (some trials failed) and rc 3 (an ordering violated,
    with --fail-on-violation in the run's options) still wrote one."""
    last = next((line for line in reversed(done.stderr.strip().splitlines()) if line.strip()), "")
    if done.returncode not in (0, 1, VIOLATION_EXIT):
        raise RuntimeError(f"bench_runner run exited with {done.returncode}: {last or '(no error output)'}")
    try:
        return Path(json.loads(done.stdout)["results"])
    except (ValueError, KeyError, TypeError):
        raise RuntimeError(f"bench_runner run printed no results path (exit {done.returncode}): {last}") from None


def cache_of(document: results.RunDocument) -> dict[str, Any]:
    """Per benchmark and "method|placement": samples, or why there are none."""
    cache: dict[str, Any] = {}
    for spec in specs.all_specs():
        entry: dict[str, Any] = {}
        for cell in document.cells:
            if cell.workload != spec.workload or cell.stack != HOST_STACK:
                continue  # asv's own run measures one point: this machine's stack
            key = f"{cell.method}|{cell.placement}"
            if cell.status == "measured":
                values = cell.samples(spec.metric)
                entry[key] = {"samples": values} if values else {"skip": f"no {spec.metric} samples"}
            elif cell.status == "failed":
                entry[key] = {"error": f"failed: {cell.reason}"}
            else:
                entry[key] = {"skip": f"{cell.status}: {cell.reason or ''}"}
        cache[spec.function] = entry
    return cache


def _cell(cache: dict[str, Any], spec: specs.BenchmarkSpec, method: str, placement: str) -> dict[str, Any]:
    return cache.get(spec.function, {}).get(f"{method}|{placement}", {"skip": "not measured in this run"})


def make_track(spec: specs.BenchmarkSpec) -> Callable[..., dict[str, Any]]:
    """A track benchmark for one workload metric, with asv's attributes."""

    def track(cache: dict[str, Any], method: str, placement: str) -> dict[str, Any]:
        cell = _cell(cache, spec, method, placement)
        if "error" in cell:
            raise RuntimeError(cell["error"])
        return {"samples": cell["samples"], "number": 1}

    def setup(cache: dict[str, Any], method: str, placement: str) -> None:
        """asv shows a combination the run did not measure as skipped (n/a)."""
        cell = _cell(cache, spec, method, placement)
        if "skip" in cell:
            raise NotImplementedError(cell["skip"])

    track.setup = setup  # type: ignore[attr-defined]
    track.__name__ = track.__qualname__ = spec.function
    track.__doc__ = f"{spec.workload}: {spec.summary} ({spec.unit})"
    attributes = {
        "params": [list(spec.methods), list(spec.placements)],
        "param_names": list(specs.PARAM_NAMES),
        "unit": spec.unit,
        "version": specs.VERSION,
        "rounds": 1,  # one measured run per asv run: a second round would only repeat it
        "timeout": 60,
        "pretty_name": spec.pretty_name,
        # Carried into benchmarks.json, so history knows each metric's direction.
        "workload": spec.workload,
        "metric": spec.metric,
        "higher_is_better": spec.higher_is_better,
        "primary_metric": spec.primary,
    }
    for key, value in attributes.items():
        setattr(track, key, value)
    return track
