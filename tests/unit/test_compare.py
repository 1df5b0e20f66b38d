"""compare: verdicts by each metric's direction, on copies of a recorded results document
with known changes injected, and the exit code of --fail-on-regression (3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench_runner.analysis import compare, stats
from bench_runner.history import sides
from bench_runner.report import compare as report_compare
from bench_runner.results import document as results
from tests.unit.history_env import REPO, load_doc, variant, write

FULL = "results-bare-full.json"
#: Cells whose own 95% interval of the median is narrower than this (relative half-width)
#: must see a 20% change; noisier cells may honestly stay "same", never the wrong way.
RESOLVABLE = 0.08


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench_runner", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def injected(tmp_path: Path) -> tuple[Path, Path]:
    """A recorded document and a copy whose throughput is 20% lower and whose lower-is-better
    metrics are 20% higher: both changes are for the worse."""
    data = load_doc(FULL)
    directions = {}
    for cell in data["cells"]:
        directions[cell["metric"]] = cell["higher_is_better"]
        for extra in cell["extra_metrics"]:
            directions[extra["id"]] = extra["higher_is_better"]

    def worse(metric: str, method: str, value: float) -> float:
        return value * (0.8 if directions[metric] else 1.2)

    a = write(tmp_path / "a.json", data)
    b = write(tmp_path / "b.json", variant(data, run_id="worse", started_at="2026-11-29T00:00:00Z", scale=worse))
    return a, b


def _resolvable(side: compare.Side) -> set[compare.CellKey]:
    return {k for k, c in side.cells.items() if (stats.summarize(c.samples).half_width or 1) < RESOLVABLE}


def test_a_throughput_drop_and_a_cost_rise_are_both_worse(injected: tuple[Path, Path]) -> None:
    a, b = injected
    side_a = sides.side_from_document(a, "all")
    result = compare.compare(side_a, sides.side_from_document(b, "all"), threshold_pct=10)
    by_key = {r.key: r for r in result.rows}
    clear = _resolvable(side_a)
    directions = {r.higher_is_better for r in result.rows if r.key in clear}
    assert directions == {True, False}  # the test covers both directions
    for row in result.rows:
        assert row.verdict != "better", row
        if row.key in clear:
            assert row.verdict == "worse", row
            assert row.worse_by_pct == pytest.approx(20.0, abs=1e-6)
    pasta = compare.CellKey("tcp-stream", "throughput", "remote", "pasta")
    cpu = compare.CellKey("tcp-stream", "helper_cpu_s_per_gb", "remote", "pasta")
    assert by_key[pasta].verdict == "worse" and by_key[pasta].ratio.value == pytest.approx(0.8)
    assert by_key[cpu].verdict == "worse" and by_key[cpu].ratio.value == pytest.approx(1.2)
    assert pasta in {r.key for r in result.regressions()} and cpu in {r.key for r in result.regressions()}


def test_fail_on_regression_exits_3_and_identical_inputs_are_same(injected: tuple[Path, Path]) -> None:
    a, b = injected
    failed = cli("compare", str(a), str(b), "--metrics", "all", "--fail-on-regression", "10")
    assert failed.returncode == 3, failed.stderr
    assert "significantly worse than A by more than 10%" in failed.stderr
    assert "throughput (Gbit/s, higher is better)" in failed.stdout
    assert "helper_cpu_s_per_gb (CPU s/GB, lower is better)" in failed.stdout
    assert "**worse**" in failed.stdout
    relaxed = cli("compare", str(a), str(b), "--fail-on-regression", "25")
    assert relaxed.returncode == 0, relaxed.stderr  # 20% is within 25%
    same = cli("compare", str(a), str(a), "--metrics", "all", "--fail-on-regression", "0", "--format", "json")
    assert same.returncode == 0, same.stderr
    report = json.loads(same.stdout)
    assert report["regressions"] == 0
    for row in report["rows"]:
        # A run against itself: every round the same on both sides, so "same"; counts with
        # zeros (retransmits) have no ratio at all: no verdict either way, never better or worse.
        assert row["verdict"] == ("same" if row["ratio"] == 1 else "inconclusive"), row
    measured = sum(1 for c in results.load(a).cells if c.samples())  # one primary-metric row each
    assert sum(r["verdict"] == "same" for r in report["rows"]) >= measured > 0
    primary = json.loads(cli("compare", str(a), str(a), "--format", "json").stdout)
    assert len(primary["rows"]) == measured and {r["verdict"] for r in primary["rows"]} == {"same"}


def test_improvements_are_better_in_both_directions() -> None:
    rng = np.random.default_rng(7)
    base = list(rng.normal(100, 1, 10))
    up = [v * 1.2 for v in base]
    down = [v * 0.8 for v in base]
    assert compare.verdict(stats.ratio(up, base), higher_is_better=True) == "better"
    assert compare.verdict(stats.ratio(down, base), higher_is_better=False) == "better"
    assert compare.verdict(stats.ratio(down, base), higher_is_better=True) == "worse"
    assert compare.worse_by_pct(0.8, True) == pytest.approx(20)
    assert compare.worse_by_pct(1.2, False) == pytest.approx(20)
    assert compare.worse_by_pct(1.2, True) == pytest.approx(-20)


def test_a_significant_change_below_the_threshold_is_not_a_regression(tmp_path: Path) -> None:
    data = load_doc(FULL)
    a = sides.side_from_document(write(tmp_path / "a.json", data), "primary")
    slightly = variant(data, run_id="b", started_at="2026-11-29T00:00:00Z", scale=lambda k, m, v: v * 0.95)
    b = sides.side_from_document(write(tmp_path / "b.json", slightly), "primary")
    result = compare.compare(a, b, threshold_pct=10)
    assert result.regressions() == []
    assert compare.compare(a, b, threshold_pct=None).regressions() == []


def test_a_throughput_rise_is_better_and_never_fails_the_regression_check(tmp_path: Path) -> None:
    """The direction asv's own compare gets wrong: 30% more throughput is an improvement."""
    data = load_doc(FULL)
    a = write(tmp_path / "a.json", data)
    b = write(tmp_path / "b.json", variant(data, run_id="faster", started_at="2026-11-29T00:00:00Z",
                                           scale=lambda metric, method, value: value * 1.3))
    done = cli("compare", str(a), str(b), "--fail-on-regression", "10", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["regressions"] == 0
    assert {r["higher_is_better"] for r in report["rows"]} == {True}
    clear = {(k.placement, k.method) for k in _resolvable(sides.side_from_document(a, "primary"))}
    assert clear  # the test sees the change somewhere
    for row in report["rows"]:
        assert row["verdict"] != "worse", row
        if (row["placement"], row["method"]) in clear:
            assert row["verdict"] == "better", row


def test_one_sample_per_side_is_inconclusive_not_same(tmp_path: Path) -> None:
    path = REPO / "tests" / "data" / "results-bare-quick.json"
    side = sides.side_from_document(path, "primary")
    result = compare.compare(side, side, threshold_pct=0)
    assert {r.verdict for r in result.rows} == {"inconclusive"}
    assert "inconclusive: no finite interval of the ratio (fewer than 3 samples" in report_compare.render_markdown(result)


def test_cells_in_only_one_side_are_listed_not_judged(tmp_path: Path) -> None:
    data = load_doc(FULL)
    fewer = variant(data, run_id="b", started_at="2026-11-29T00:00:00Z")
    fewer["cells"] = [c for c in fewer["cells"] if c["method"] != "pasta"]
    a = sides.side_from_document(write(tmp_path / "a.json", data), "primary")
    b = sides.side_from_document(write(tmp_path / "b.json", fewer), "primary")
    result = compare.compare(a, b)
    assert {k.method for k in result.only_a} == {"pasta"}
    assert "pasta" not in {r.key.method for r in result.rows}
    only = next(line for line in report_compare.render_markdown(result).splitlines() if line.startswith("Only in A:"))
    assert "tcp-stream/remote/pasta throughput" in only and "tcp-stream/loopback/pasta throughput" in only


@pytest.mark.parametrize("args, expected", [
    (["compare", "nosuch.json", "other.json"], "nosuch.json: no such results document"),
    (["compare", "tests/data/results-bare-quick.json", "no-such-snapshot"],
     "no-such-snapshot: neither a results document nor a stack snapshot"),
    (["compare", "a", "b", "--fail-on-regression", "-5"], "is not a non-negative percentage"),
    (["compare", "a", "b", "--format", "html"], "invalid choice: 'html'"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], expected: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.history_env import make_config

    monkeypatch.setenv("NETBENCH_ASV_CONFIG", str(make_config(tmp_path)))
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_a_recorded_latency_rise_is_worse(tmp_path: Path) -> None:
    """A real tcp-rr run (p50 round trip in us, lower is better; recorded with
    run --workloads tcp-rr --methods host,pasta,slirp4netns-rootlesskit --placements remote
    --rounds 5 --warmup-rounds 1 --max-rounds 5 --duration 1 --provider bare) and a copy with
    every latency 20% higher."""
    data = load_doc("results-bare-tcp-rr.json")
    a = write(tmp_path / "a.json", data)
    b = write(tmp_path / "b.json", variant(data, run_id="slower", started_at="2026-11-29T00:00:00Z",
                                           scale=lambda metric, method, value: value * 1.2))
    side_a = sides.side_from_document(a, "primary")
    result = compare.compare(side_a, sides.side_from_document(b, "primary"), threshold_pct=10)
    assert {(r.key.metric, r.unit, r.higher_is_better) for r in result.rows} == {("p50", "us", False)}
    clear = _resolvable(side_a)
    assert len(clear) >= 2  # host and pasta are steady enough to see 20%
    for row in result.rows:
        assert row.verdict != "better", row
        if row.key in clear:
            assert row.verdict == "worse" and row.worse_by_pct == pytest.approx(20.0, abs=1e-6), row
    failed = cli("compare", str(a), str(b), "--fail-on-regression", "10")
    assert failed.returncode == 3 and "p50 (us, lower is better)" in failed.stdout
    faster = write(tmp_path / "c.json", variant(data, run_id="faster", started_at="2026-11-29T00:00:00Z",
                                                scale=lambda metric, method, value: value * 0.8))
    improved = cli("compare", str(a), str(faster), "--fail-on-regression", "10", "--format", "json")
    assert improved.returncode == 0
    verdicts = {r["method"]: r["verdict"] for r in json.loads(improved.stdout)["rows"]}
    assert verdicts["host"] == verdicts["pasta"] == "better"


def test_two_stacks_of_one_run_are_paired_by_round(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Drift that hits a whole round (both stacks alike) cancels in the paired ratio: its
    interval is narrower than the unpaired one, and the verdict is read from it."""
    import numpy as np

    from bench_runner.analysis import compare as compare_mod
    from bench_runner.results.document import save
    from tests.unit.synthetic import document

    drift = np.random.default_rng(7).normal(1.0, 0.15, 10)  # the machine's speed, per round
    own = np.random.default_rng(8).normal(1.0, 0.01, (2, 10))  # each trial's own noise
    doc = document({("tcp-stream", "remote", "pasta"): list(10 * drift * own[0])})
    booted = document({("tcp-stream", "remote", "pasta"): list(11 * drift * own[1])})  # 10% faster
    for cells in (doc.cells, booted.cells):
        for i, trial in enumerate(cells[0].trials):
            trial.round = i
    booted.cells[0].stack = "trixie"
    doc.cells += booted.cells
    from tests.conftest import read_data

    doc.stack = json.loads(read_data("results-bare-quick.json"))["stack"]  # a whole machine record
    doc.stacks = {"trixie": {"name": "trixie", "versions": {"podman": "5.4.2"},
                             "provider": {"id": "podman", "reason": "test"}}}
    path = tmp_path / "run.json"
    save(doc, path)
    a = sides.load_side(str(path), lambda: None, None, "primary")  # type: ignore[arg-type, return-value]
    b = sides.load_side(f"{path}@trixie", lambda: None, None, "primary")  # type: ignore[arg-type, return-value]
    [row] = compare_mod.compare(a, b).rows
    assert row.paired and row.verdict == "better"
    assert abs(row.ratio.value - 1.1) < 0.02
    unpaired = compare_mod.stats.ratio(b.cells[row.key].samples, a.cells[row.key].samples)
    assert (row.ratio.ci_high - row.ratio.ci_low) < (unpaired.ci_high - unpaired.ci_low) / 3
    assert "median of the per-round ratios" in report_compare.render_markdown(compare_mod.compare(a, b))
    with pytest.raises(sides.UsageError, match="no stack 'sid'"):
        sides.load_side(f"{path}@sid", lambda: None, None, "primary")  # type: ignore[arg-type, return-value]
    # A failed trial in one round leaves that round out; the other nine stay paired.
    booted.cells[0].trials[3].status = "failed"
    save(doc, path)
    b = sides.load_side(f"{path}@trixie", lambda: None, None, "primary")  # type: ignore[arg-type, return-value]
    [row] = compare_mod.compare(sides.load_side(str(path), lambda: None, None, "primary"), b).rows  # type: ignore[arg-type]
    assert row.paired and row.ratio.n == 9 and row.verdict == "better"


def test_snapshots_pooling_runs_get_intervals_that_resample_runs(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs per stack, the second run of each 8% apart from the first (a run-to-run
    effect): pooled as independent trials the interval would be far too narrow; resampling
    runs first, it is wide, and the notes say which kind each row is."""
    from bench_runner.history import config
    from bench_runner.history.record import record_document
    from tests.unit.history_env import use_history

    conf = config.load(use_history(tmp_path, monkeypatch))
    data = load_doc(FULL)
    docs = [
        variant(data, run_id="a1", started_at="2026-11-29T01:00:00Z"),
        variant(data, run_id="a2", started_at="2026-11-29T02:00:00Z", scale=lambda k, m, v: v * 1.08),
        variant(data, run_id="b1", started_at="2026-11-29T03:00:00Z", stated={"passt": "custom"}),
        variant(data, run_id="b2", started_at="2026-11-29T04:00:00Z", stated={"passt": "custom"},
                scale=lambda k, m, v: v * 0.92),
    ]
    tags = [record_document(results.load(write(tmp_path / f"{d['run']['id']}.json", d)), str(tmp_path /
                                                                                         f"{d['run']['id']}.json"),
                            conf).snapshot.tag for d in docs]
    assert tags[0] == tags[1] and tags[2] == tags[3] and tags[0] != tags[2]
    a = sides.side_from_snapshot(conf, tags[0], None, "primary")
    b = sides.side_from_snapshot(conf, tags[2], None, "primary")
    assert a.run_count == b.run_count == 2 and a.runs and b.runs
    result = compare.compare(a, b)
    pooled = [r for r in result.rows if r.runs]
    assert pooled and all(r.runs == (2, 2) for r in pooled)
    text = report_compare.render_markdown(result)
    assert "two-stage bootstrap" in text and "runs 2+2" in text
    for row in pooled:
        key = row.key
        naive = stats.ratio(b.cells[key].samples, a.cells[key].samples)
        if naive.ci_low is not None and row.ratio.ci_low is not None:
            assert row.ratio.ci_high - row.ratio.ci_low >= naive.ci_high - naive.ci_low
    # Another run's document at a recorded path (a shared history's row names another
    # machine's path): its samples are not taken for the recorded run's.
    (tmp_path / "a2.json").write_text((tmp_path / "b1.json").read_text())
    other = sides.side_from_snapshot(conf, tags[0], None, "primary")
    assert other.run_count == 2 and other.runs == {}
    (tmp_path / "a2.json").unlink()  # a document is gone: the side can only be pooled
    again = sides.side_from_snapshot(conf, tags[0], None, "primary")
    assert again.run_count == 2 and again.runs == {}
    assert "no longer where they were recorded" in report_compare.render_markdown(compare.compare(again, b))


def test_a_method_one_stack_lacks_is_said_with_that_stacks_reason(tmp_path: Path) -> None:
    """Two stacks of one run, the second a Podman without slirp4netns: compare names the
    methods B lacks with the reason its run recorded, instead of listing its cells bare."""
    from bench_runner.results.document import CellResult, save
    from tests.unit.synthetic import document

    doc = document({("tcp-stream", "remote", "pasta"): [10.0, 11.0, 12.0],
                    ("tcp-stream", "remote", "slirp4netns-slirp4netns"): [5.0, 5.5, 6.0]})
    newer = document({("tcp-stream", "remote", "pasta"): [13.0, 14.0, 15.0]})
    for cell in newer.cells:
        cell.stack = "podman6"
    why = ('not available in this stack: Podman 6.1.1 has no slirp4netns: its release notes say, for 6.0.0, '
           '"Support for the slirp4netns rootless network stack has been removed. Please use Pasta instead."')
    gone = doc.cells[1]
    doc.cells += newer.cells + [CellResult("tcp-stream", "remote", "slirp4netns-slirp4netns", gone.metric, gone.unit,
                                           gone.higher_is_better, [], status="not_applicable", reason=why,
                                           stack="podman6")]
    doc.stack = json.loads((REPO / "tests" / "data" / "results-bare-quick.json").read_text())["stack"]
    doc.stacks = {"podman6": {"name": "podman6", "versions": {"podman": "6.1.1"},
                              "provider": {"id": "podman", "reason": "test"}}}
    path = tmp_path / "run.json"
    save(doc, path)
    a = sides.load_side(str(path), lambda: None, None, "primary")  # type: ignore[arg-type, return-value]
    b = sides.load_side(f"{path}@podman6", lambda: None, None, "primary")  # type: ignore[arg-type, return-value]
    result = compare.compare(a, b)
    assert result.b_lacks == (("slirp4netns-slirp4netns", f"not applicable: {why}"),) and result.a_lacks == ()
    text = report_compare.render_markdown(result)
    assert "B lacks 1 method(s) the other side measured:" in text
    assert "- `slirp4netns-slirp4netns`: not applicable: not available in this stack: Podman 6.1.1 has no" in text
    assert "Only in A" not in text  # its cells are said once, with why
    assert report_compare.to_json(compare.compare(b, a))["a_lacks"][0]["method"] == "slirp4netns-slirp4netns"
    # A method simply not measured on a side (not in its run) is said so, with no reason invented.
    assert compare.lacks(sides.side_from_document(path, "primary", "podman6"), a) == \
        (("slirp4netns-slirp4netns", f"not applicable: {why}"),)
    bare = compare.Side("x", "snapshot", "c", (), {k: v for k, v in b.cells.items()})
    assert compare.lacks(bare, a) == (("slirp4netns-slirp4netns", None),)
    assert "- `slirp4netns-slirp4netns`: not measured there (no cell of it)" in \
        report_compare.render_markdown(compare.compare(a, bare))
