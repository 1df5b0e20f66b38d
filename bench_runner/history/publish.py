"""The static HTML site: ``asv publish`` over the recorded history, plus a summary of it.

asv is run as a program (its own logging, its own exit code), from the directory of the
configuration, as a user would run it, with one change: its regressions know which way is
better for each benchmark (``regressions``). A result whose snapshot is missing from the stack
history would be dropped by asv with only a warning; that is an error here. The site is then
made self-contained (``site``), so its graphs draw without internet access, and its pages get
the suite's corrections (``pagefixes``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import procs
from ..errors import MeasurementError, SetupError, UsageError
from . import asvfiles, mergeplan, pagefixes, site
from .config import AsvConfig
from .snapshots import StackRepo

PUBLISH_TIMEOUT = 900


@dataclass(frozen=True)
class Point:
    machine: str
    commit: str
    tag: str | None
    first_measured: datetime
    samples: int


@dataclass(frozen=True)
class Published:
    index: str
    points: list[Point]
    asv_output: str


def points(conf: AsvConfig) -> list[Point]:
    """Per machine, every snapshot with samples, oldest first."""
    repo = StackRepo(conf.stack_repo, conf.branch)
    found = []
    snapshots = repo.snapshots()
    for machine in asvfiles.machines(conf):
        for item in snapshots:
            count = asvfiles.count_samples(conf, machine, item.commit)
            if count:
                found.append(Point(machine, item.commit, item.tag, item.date, count))
    return found


def check_html_dir(conf: AsvConfig) -> None:
    """asv publish deletes its html_dir before writing it: never let that be the history
    itself, the stack history, or a directory holding either."""
    html = conf.html_dir.resolve()
    for keep, what in ((conf.results_dir.resolve(), "the results (history)"),
                       (conf.stack_repo.resolve(), "the stack history"), (conf.top.resolve(), "the project")):
        if html == keep or keep.is_relative_to(html):
            raise UsageError(f"html_dir {conf.html_dir} would hold {what}, which asv publish deletes first: "
                             "point html_dir at a directory of its own")


def publish(conf: AsvConfig) -> Published:
    check_html_dir(conf)
    with asvfiles.locked(conf.results_dir):
        return _publish(conf)


def _publish(conf: AsvConfig) -> Published:
    repo = StackRepo(conf.stack_repo, conf.branch)
    mergeplan.recover(conf.results_dir, repo)  # a merge with a shared history cut short
    missing = site.missing_assets()
    if missing:
        raise SetupError(f"the published pages need {', '.join(missing)} (run scripts/setup.sh as root)")
    recorded = points(conf)
    if not recorded:
        raise UsageError(f"nothing recorded in {conf.results_dir} yet: add runs with "
                         "'python -m bench_runner record RESULTS.json' (or a plain 'asv run' as root)")
    if not repo.exists():
        raise UsageError(f"{conf.stack_repo}: the stack history is missing, but the results refer to it")
    # asv with direction-aware regressions; the suite is imported from its own top.
    suite = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (suite, os.environ.get("PYTHONPATH")) if p)}
    done = procs.run([sys.executable, "-m", "bench_runner.history.regressions", "--config", str(conf.path),
                      "publish", "--no-pull"], timeout=PUBLISH_TIMEOUT, check=False, cwd=str(conf.top), env=env)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        last = next((line for line in reversed(output.strip().splitlines()) if line.strip()), "")
        raise MeasurementError(f"asv publish exited with {done.returncode}: {last}")
    dropped = [line.strip(" ·") for line in output.splitlines() if "Couldn't find" in line]
    if dropped:
        raise UsageError(f"asv publish dropped results whose snapshot is not in the stack history: {dropped[0]}")
    index = conf.html_dir / "index.html"
    if not index.is_file():
        raise MeasurementError(f"asv publish wrote no {index}")
    site.make_self_contained(conf.html_dir)
    pagefixes.apply(conf.html_dir)
    return Published(str(index), recorded, output)
