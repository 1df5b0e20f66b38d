"""History from real runs: two stacks (one with --stack passt=custom-build) are two points, a
third run on the second stack adds samples to it, asv's and the suite's compare both work
between them, and a plain `asv run` measures and records under the current stack."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import cli
from tests.unit.history_env import MACHINE, use_history

#: tcp-stream and tcp-rr, not the default's tcp-stream-reverse: through the bare pasta of
#: 2023-03-09 that direction stalls, and once in a fresh-clone test run its one-off server never
#: finished (killed after 31 s, the trial failed, the run exited 1). The benchmark reports that;
#: history's tests need runs whose every trial completes.
SMALL = ["--workloads", "tcp-stream,tcp-rr", "--methods", "host,pasta", "--placements", "remote",
         "--duration", "1", "--omit", "0",
         "--rounds", "3", "--max-rounds", "3", "--warmup-rounds", "0"]


def _published_points() -> list[dict]:
    done = cli("publish", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["points"]


def test_two_stacks_two_points_third_run_adds_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = use_history(tmp_path, monkeypatch)
    runs = {}
    for name, extra in (("a", []), ("b", ["--stack", "passt=custom-build"]), ("c", ["--stack", "passt=custom-build"])):
        runs[name] = tmp_path / f"{name}.json"
        done = cli("run", *SMALL, *extra, "--output", str(runs[name]))
        assert done.returncode == 0, done.stderr
    assert cli("record", str(runs["a"]), str(runs["b"])).returncode == 0
    two = _published_points()
    assert len(two) == 2 and two[1]["tag"].count("passt-custom-build") == 1
    assert cli("record", str(runs["c"])).returncode == 0
    after = _published_points()
    assert [p["commit"] for p in after] == [p["commit"] for p in two]
    assert after[0]["samples"] == two[0]["samples"] and after[1]["samples"] > two[1]["samples"]

    asv_compare = subprocess.run([sys.executable, "-m", "asv", "--config", str(config), "compare",
                                  two[0]["tag"], two[1]["tag"], "--machine", MACHINE],
                                 cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert asv_compare.returncode == 0, asv_compare.stderr
    assert "netbench.track_tcp_stream_throughput('pasta', 'remote')" in asv_compare.stdout
    for a, b in ((str(runs["a"]), str(runs["b"])), (two[0]["tag"], two[1]["tag"])):
        ours = cli("compare", a, b, "--format", "json")
        assert ours.returncode == 0, ours.stderr
        rows = json.loads(ours.stdout)["rows"]
        assert {(r["method"], r["placement"]) for r in rows} == {("host", "remote"), ("pasta", "remote")}
        assert all(r["verdict"] in ("better", "worse", "same", "inconclusive") for r in rows)
        if a.endswith(".json"):
            # three trials a side give no 95% interval of a ratio between runs: never a verdict
            assert {r["verdict"] for r in rows} == {"inconclusive"}, rows


def test_plain_asv_run_measures_and_records_under_the_current_stack(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = use_history(tmp_path, monkeypatch)
    first = tmp_path / "first.json"
    assert cli("run", *SMALL, "--stack", "passt=custom-build", "--output", str(first)).returncode == 0
    assert cli("record", str(first)).returncode == 0  # also gives ~/.asv-machine.json its entry
    before = _published_points()
    monkeypatch.setenv("NETBENCH_ASV_RUN_ARGS", " ".join([*SMALL, "--stack", "passt=custom-build"]))
    done = subprocess.run([sys.executable, "-m", "asv", "--config", str(config), "run", "--show-stderr",
                           "--bench", "track_tcp_stream_throughput"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    # asv shows the run's median per method and placement
    assert re.search(r"pasta\s+remote\s+\d", done.stdout), done.stdout
    after = _published_points()
    assert [p["commit"] for p in after] == [p["commit"] for p in before]
    assert after[0]["samples"] > before[0]["samples"]
    documents = list((tmp_path / "runs").glob("*.json"))
    assert len(documents) == 1  # the measured run's results document is kept
