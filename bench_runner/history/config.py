"""Where asv keeps things, read from the repository's ``asv.conf.json`` (the one source).

asv resolves its relative paths against the directory it is started in; the suite starts
it in the directory of the configuration file, so paths here resolve against that.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

#: The repository's configuration (asv.conf.json at the top of the repository).
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "asv.conf.json"


@dataclass(frozen=True)
class AsvConfig:
    path: Path  # the asv.conf.json
    results_dir: Path
    html_dir: Path
    stack_repo: Path  # asv's "repo": the stack-history repository
    branch: str  # the one branch asv plots
    benchmark_dir: Path

    @property
    def top(self) -> Path:
        return self.path.parent


def config_path() -> Path:
    """``NETBENCH_ASV_CONFIG`` (an asv.conf.json elsewhere, e.g. in tests) or the repository's."""
    return Path(os.environ.get("NETBENCH_ASV_CONFIG") or DEFAULT_CONFIG).resolve()


def load(path: Path | None = None) -> AsvConfig:
    from asv import config as asv_config
    from asv import util as asv_util

    path = (path or config_path()).resolve()
    if not path.is_file():
        raise UsageError(f"{path}: no asv configuration (asv.conf.json) there")
    try:
        conf = asv_config.Config.load(str(path))
    except asv_util.UserError as exc:
        raise UsageError(f"{path}: {exc}") from None
    branches = list(getattr(conf, "branches", None) or ["main"])
    if len(branches) != 1:
        # asv runs and plots once per branch; one linear stack history has one.
        raise UsageError(f"{path}: 'branches' must name exactly one branch, not {branches}")

    def resolve(value: str) -> Path:
        return (path.parent / value).resolve()

    return AsvConfig(
        path=path,
        results_dir=resolve(getattr(conf, "results_dir", "results")),
        html_dir=resolve(getattr(conf, "html_dir", "html")),
        stack_repo=resolve(conf.repo),
        branch=branches[0],
        benchmark_dir=resolve(getattr(conf, "benchmark_dir", "benchmarks")),
    )
