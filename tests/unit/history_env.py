"""A throw-away asv history for tests: the suite's asv.conf.json, with results, stack history
and site under a temporary directory and HOME there too (asv keeps ~/.asv-machine.json)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
MACHINE = "testhost"


def make_config(directory: Path) -> Path:
    text = (REPO / "asv.conf.json").read_text()
    assert '"benchmark_dir": "benchmarks"' in text
    text = text.replace('"benchmark_dir": "benchmarks"', f'"benchmark_dir": "{REPO / "benchmarks"}"')
    path = directory / "asv.conf.json"
    path.write_text(text)
    return path


def use_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the suite and asv at a fresh history in tmp_path; returns the asv.conf.json."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NETBENCH_MACHINE", MACHINE)
    config = make_config(tmp_path)
    monkeypatch.setenv("NETBENCH_ASV_CONFIG", str(config))
    return config


def load_doc(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def variant(data: dict[str, Any], *, run_id: str, started_at: str, stated: dict[str, str] | None = None,
            scale: Callable[[str, str, float], float] | None = None) -> dict[str, Any]:
    """A copy of a recorded document as another run: new id and start time, optionally other
    stated stack facts and samples transformed by ``scale(metric, method, value)``."""
    out = copy.deepcopy(data)
    out["run"]["id"] = run_id
    out["run"]["started_at"] = started_at
    if stated is not None:
        out["stack"]["stated"] = dict(stated)
    if scale is not None:
        for cell in out["cells"]:
            for trial in cell["trials"]:
                trial["samples"] = {k: scale(k, cell["method"], v) for k, v in trial["samples"].items()}
    return out


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data))
    return path
