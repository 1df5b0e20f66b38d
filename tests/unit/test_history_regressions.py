"""The published regressions follow each metric's direction: on a synthetic history where pasta's
throughput drops 30%, host's rises 30% and every latency rises 30% at one stack snapshot, the
drop and the latency rises are regressions and the rise is not (real git, real asv, no lab)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from bench_runner.results import document as results
from bench_runner.history import config, regressions
from tests.unit.history_env import REPO, load_doc, use_history, variant, write

SNAPSHOTS = 4
CHANGED_FROM = 2  # the snapshot (asv revision) where the changes appear
ATOM = {"a": "http://www.w3.org/2005/Atom"}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench_runner", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def _changed(metric: str, method: str, value: float) -> float:
    if metric == "throughput":
        return value * {"pasta": 0.7, "host": 1.3}.get(method, 1.0)
    return value * 1.3 if metric == "p50" else value


def _record_history(tmp_path: Path) -> list[Path]:
    """SNAPSHOTS stack snapshots (passt builds), each with a tcp-stream and a tcp-rr run."""
    full, rr = load_doc("results-bare-full.json"), load_doc("results-bare-tcp-rr.json")
    files = []
    for i in range(SNAPSHOTS):
        scale = _changed if i >= CHANGED_FROM else None
        stated = {"passt": f"build-{i}"}
        files.append(write(tmp_path / f"stream{i}.json", variant(
            full, run_id=f"stream{i}", started_at=f"2026-12-0{i + 1}T10:00:00Z", stated=stated, scale=scale)))
        files.append(write(tmp_path / f"rr{i}.json", variant(
            rr, run_id=f"rr{i}", started_at=f"2026-12-0{i + 1}T11:00:00Z", stated=stated, scale=scale)))
    done = cli("record", *map(str, files))
    assert done.returncode == 0, done.stderr
    return files


def _median(path: Path, workload: str, placement: str, method: str) -> float:
    """The median of the cell's samples (warm-up trials are not samples): asv's value of it."""
    return statistics.median(results.load(path).cell(workload, placement, method).samples())


def _listed(html: Path) -> dict[str, list[Any]]:
    return {entry[0]: entry for entry in json.loads((html / "regressions.json").read_text())["regressions"]}


def test_a_throughput_drop_and_a_latency_rise_are_regressions_a_throughput_rise_is_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = config.load(use_history(tmp_path, monkeypatch))
    _record_history(tmp_path)
    published = cli("publish")
    assert published.returncode == 0, published.stderr
    listed = _listed(conf.html_dir)
    stream, rr = "netbench.track_tcp_stream_throughput", "netbench.track_tcp_rr_p50"
    assert {name for name in listed if name.startswith(stream)} == {
        f"{stream}('pasta', 'remote')", f"{stream}('pasta', 'loopback')"}
    assert {name for name in listed if name.startswith(rr)} == {
        f"{rr}('{m}', 'remote')" for m in ("host", "pasta", "slirp4netns-rootlesskit")}
    # In the benchmark's own unit: from the old median to 0.7 of it, at the changed snapshot.
    before = _median(tmp_path / "stream0.json", "tcp-stream", "remote", "pasta")
    _, _, _, _, latest, best, jumps = listed[f"{stream}('pasta', 'remote')"]
    assert (latest, best) == (pytest.approx(0.7 * before), pytest.approx(before))
    assert jumps == [[None, CHANGED_FROM, pytest.approx(before), pytest.approx(0.7 * before)]]
    rr_before = _median(tmp_path / "rr0.json", "tcp-rr", "remote", "host")
    assert listed[f"{rr}('host', 'remote')"][6] == [[None, CHANGED_FROM, pytest.approx(rr_before),
                                                       pytest.approx(1.3 * rr_before)]]
    # The feed says the same; a drop reads as a negative change.
    titles = [e.findtext("a:title", namespaces=ATOM)
              for e in ET.parse(conf.html_dir / "regressions.xml").getroot().findall("a:entry", ATOM)]
    assert f"-30.00% {stream}('pasta', 'remote')" in titles and f"30.00% {rr}('host', 'remote')" in titles
    assert not [t for t in titles if "'host'" in t and stream in t]

    # asv's own publish gets the throughput backwards and the latency right: ours keeps its latency.
    plain = subprocess.run([sys.executable, "-m", "asv", "--config", str(conf.path), "publish", "--no-pull"],
                           cwd=conf.top, capture_output=True, text=True, timeout=300)
    assert plain.returncode == 0, plain.stderr
    asv_own = _listed(conf.html_dir)
    assert {n for n in asv_own if n.startswith(stream)} == {f"{stream}('host', 'remote')", f"{stream}('host', 'loopback')"}
    assert {n: e for n, e in asv_own.items() if not n.startswith(stream)} == \
        {n: e for n, e in listed.items() if not n.startswith(stream)}


def test_the_list_view_colours_a_change_by_its_direction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = config.load(use_history(tmp_path, monkeypatch))
    _record_history(tmp_path)
    assert cli("publish").returncode == 0
    listing = (conf.html_dir / "summarylist.js").read_text()
    assert "if (netbench_worse(row.name, change) > 5) {" in listing
    assert "if (change > 5)" not in listing and "if (change < -5)" not in listing
    assert 'src="vendor/netbench-pages.js"' in (conf.html_dir / "index.html").read_text()
    assert "higher_is_better ? -change : change" in (conf.html_dir / "vendor" / "netbench-pages.js").read_text()
    index = json.loads((conf.html_dir / "index.json").read_text())
    assert index["benchmarks"]["netbench.track_tcp_stream_throughput"]["higher_is_better"] is True
    assert index["benchmarks"]["netbench.track_tcp_rr_p50"]["higher_is_better"] is False


def _found(values: list[float], threshold: float = 0.05) -> tuple[Any, Any, Any]:
    """What the direction-aware detection reports for a higher-is-better line."""
    from asv.step_detect import detect_regressions

    steps = regressions.reciprocal_steps([(i, v, None) for i, v in enumerate(values)])
    return regressions.back_to_values(detect_regressions(steps, threshold))


def test_drops_are_found_rises_are_not_and_the_threshold_still_applies() -> None:
    from asv.step_detect import detect_regressions, detect_steps

    latest, best, jumps = _found([10, 10, 7, 7])
    assert (latest, best) == (pytest.approx(7), pytest.approx(10))
    assert jumps == [(1, 2, pytest.approx(10), pytest.approx(7))]
    assert _found([10, 10, 13, 13]) == (None, None, None)
    assert _found([10, 10, 9.8, 9.8]) == (None, None, None)  # 2%: below asv's 5% threshold
    assert _found([10, 10, 9.8, 9.8], threshold=0.01)[0] == pytest.approx(9.8)
    # Why not negated values: asv's threshold (a fraction of the value) vanishes below zero.
    assert detect_regressions(detect_steps([-10, -10, -9.8, -9.8]), 0.05)[0] is not None


def test_reciprocal_weights_scale_with_the_square_and_bad_values_are_missing() -> None:
    series = regressions.reciprocal_series([(0, 4.0, 2.0), (1, 2.0, None), (2, 0.0, 1.0), (3, None, 1.0),
                                            (4, float("nan"), 1.0)])
    assert series == [(0, 0.25, 32.0), (1, 0.5, None), (2, None, None), (3, None, None), (4, None, None)]
