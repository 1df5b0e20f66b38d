"""History across stack snapshots, checked through asv itself: what asv loads, plots and
compares after recording recorded results documents (real git, real asv, no lab)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bench_runner.results import document as results
from bench_runner.errors import UsageError
from bench_runner.history import asvfiles, config, specs
from bench_runner.history.record import record_document
from bench_runner.history.snapshots import Snapshot, StackRepo, tag_name
from tests.unit.history_env import MACHINE, REPO, load_doc, use_history, variant, write

FULL = "results-bare-full.json"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench_runner", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def asv(conf_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "asv", "--config", str(conf_path), *args], cwd=conf_path.parent,
                          capture_output=True, text=True, timeout=300)


def _doc(data: dict) -> results.RunDocument:
    results.validate(data)
    return results.RunDocument.from_json(data)


# ---------------------------------------------------------------- snapshot identity

def test_snapshot_is_the_key_versions_plus_stated_facts_and_provider() -> None:
    data = load_doc(FULL)
    base = Snapshot.of(data["stack"], "bare")
    assert base.as_dict() == {"kernel": "6.18.44-fc-v857", "podman": "4.3.1", "passt": "2023_03_09.7c7625d",
                              "slirp4netns": "1.2.0", "rootlesskit": "1.1.0", "iperf3": "3.12", "provider": "bare"}
    # Anything outside the key versions (sysctls, CPU, sockperf) is not part of the point.
    other = dict(data["stack"], sockperf="9.9", sysctls={})
    assert Snapshot.of(other, "bare").key == base.key
    stated = dict(data["stack"], stated={"passt": "custom-build"})
    assert Snapshot.of(stated, "bare").as_dict()["passt"] == "custom-build"
    assert Snapshot.of(stated, "bare").key != base.key
    assert Snapshot.of(data["stack"], "podman").key != base.key
    upgraded = dict(data["stack"], kernel="6.19.0")
    assert Snapshot.of(upgraded, "bare").key != base.key


def test_tag_names_are_valid_git_refs() -> None:
    assert tag_name("kernel-6.1.0_passt-0.0~git2023 x:y") == "kernel-6.1.0_passt-0.0_git2023_x_y"
    assert tag_name("a..b.lock") == "a.b.lock_"
    assert tag_name("...") == "stack"


def test_stack_repo_appends_dated_tagged_commits(tmp_path: Path) -> None:
    repo = StackRepo(tmp_path / "history.git", "main")
    first = Snapshot((("kernel", "6.1"), ("provider", "bare")))
    second = Snapshot((("kernel", "6.8"), ("provider", "bare")))
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    a, new_a = repo.find_or_add(first, when)
    b, new_b = repo.find_or_add(second, datetime(2026, 2, 1, tzinfo=timezone.utc))
    again, new_again = repo.find_or_add(first, datetime(2026, 3, 1, tzinfo=timezone.utc))
    assert (new_a, new_b, new_again) == (True, True, False)
    assert again.commit == a.commit and again.date == when
    listed = repo.snapshots()
    assert [s.commit for s in listed] == [a.commit, b.commit]
    assert [s.snapshot for s in listed] == [first, second]
    assert a.tag == "kernel-6.1_bare" and b.tag == "kernel-6.8_bare"
    assert repo.resolve(a.tag).commit == a.commit
    assert repo.resolve(b.commit[:10]).commit == b.commit
    assert repo.resolve("nosuch") is None and repo.resolve("--help") is None
    log = subprocess.run(["git", "--git-dir", str(repo.path), "log", "--format=%P|%aI|%s", "main"],
                         capture_output=True, text=True, timeout=30, check=True).stdout.splitlines()
    assert log[0].split("|")[0] == a.commit  # linear: the second commit's parent is the first
    assert log[1].split("|")[1] == "2026-01-02T03:04:05+00:00"


# ---------------------------------------------------------------- recording

def _samples_in_asv(conf: config.AsvConfig, commit: str, name: str) -> dict[tuple[str, str], list[float]]:
    """What asv itself loads from the result file: samples per (method, placement)."""
    from asv.results import Results

    stored = Results.load(str(asvfiles.result_path(conf, MACHINE, commit)), machine_name=MACHINE)
    spec = next(s for s in specs.all_specs() if s.name == name)
    per = stored.get_result_samples(name, spec.asv_params())
    return {combo: list(s) for combo, s in zip(itertools.product(spec.methods, spec.placements), per) if s}


def test_recording_puts_every_sample_under_the_stack_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf_path = use_history(tmp_path, monkeypatch)
    conf = config.load(conf_path)
    data = load_doc(FULL)
    document = _doc(data)
    outcome = record_document(document, "full", conf)
    assert outcome.new_point and not outcome.already
    point = outcome.snapshot
    assert point.date == datetime(2026, 11, 28, 1, 53, 5, tzinfo=timezone.utc)  # when the run started
    stored = _samples_in_asv(conf, point.commit, "netbench.track_tcp_stream_throughput")
    for cell in document.cells:
        assert stored[(cell.method, cell.placement)] == cell.samples()
    # the lower-is-better extra metric too, and nothing invented where the host has no helper
    cpu = _samples_in_asv(conf, point.commit, "netbench.track_tcp_stream_helper_cpu_s_per_gb")
    assert cpu[("pasta", "remote")] == document.cell("tcp-stream", "remote", "pasta").samples("helper_cpu_s_per_gb")
    assert ("host", "remote") not in cpu
    # machine info carries no kernel release, so an upgrade keeps one line per graph
    machine_json = json.loads((conf.results_dir / MACHINE / "machine.json").read_text())
    assert machine_json["os"] == "Linux" and "6.18" not in json.dumps(machine_json)
    asv_machine = json.loads((tmp_path / "home" / ".asv-machine.json").read_text())
    assert asv_machine[MACHINE]["os"] == "Linux"


def test_same_stack_adds_samples_changed_stack_adds_a_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = config.load(use_history(tmp_path, monkeypatch))
    data = load_doc(FULL)
    first = record_document(_doc(data), "a", conf)
    custom = variant(data, run_id="custom1", started_at="2026-11-29T10:00:00Z", stated={"passt": "custom-build"})
    second = record_document(_doc(custom), "b", conf)
    third_data = variant(custom, run_id="custom2", started_at="2026-11-30T10:00:00Z")
    third = record_document(_doc(third_data), "c", conf)
    again = record_document(_doc(third_data), "c", conf)
    assert first.new_point and second.new_point and not third.new_point
    assert second.snapshot.commit != first.snapshot.commit
    assert third.snapshot.commit == second.snapshot.commit
    assert third.snapshot.date == datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)  # first measured
    assert again.already and again.total_samples == third.total_samples
    assert third.total_samples == 2 * second.total_samples
    name = "netbench.track_tcp_stream_throughput"
    pasta = _samples_in_asv(conf, second.snapshot.commit, name)[("pasta", "remote")]
    expected = _doc(custom).cell("tcp-stream", "remote", "pasta").samples()
    assert pasta == expected + expected
    assert len(StackRepo(conf.stack_repo, conf.branch).snapshots()) == 2


def test_a_run_of_fewer_methods_keeps_the_other_methods_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = config.load(use_history(tmp_path, monkeypatch))
    data = load_doc(FULL)
    first = record_document(_doc(data), "a", conf)
    only_host = variant(data, run_id="hostonly", started_at="2026-11-28T05:00:00Z")
    only_host["cells"] = [c for c in only_host["cells"] if c["method"] == "host"]
    record_document(_doc(only_host), "b", conf)
    stored = _samples_in_asv(conf, first.snapshot.commit, "netbench.track_tcp_stream_throughput")
    host = _doc(data).cell("tcp-stream", "remote", "host").samples()
    assert stored[("host", "remote")] == host + host
    assert stored[("pasta", "remote")] == _doc(data).cell("tcp-stream", "remote", "pasta").samples()


def test_unknown_workloads_are_noted_not_recorded_and_running_documents_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = config.load(use_history(tmp_path, monkeypatch))
    data = load_doc(FULL)
    foreign = variant(data, run_id="foreign", started_at="2026-11-28T06:00:00Z")
    foreign["cells"] = [dict(c, workload="quic-stream") for c in foreign["cells"]]
    outcome = record_document(_doc(foreign), "f", conf)
    assert outcome.snapshot is None and outcome.samples == 0
    assert any("quic-stream is not in this suite's benchmarks" in n for n in outcome.notes)
    running = variant(data, run_id="running", started_at="2026-11-28T07:00:00Z")
    running["run"]["status"] = "running"
    with pytest.raises(UsageError, match="still going"):
        record_document(_doc(running), "r", conf)


def test_swept_variants_are_left_out_with_one_note_and_never_join_their_workload(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = config.load(use_history(tmp_path, monkeypatch))
    data = load_doc(FULL)
    swept = variant(data, run_id="swept", started_at="2026-11-28T06:00:00Z",
                    scale=lambda metric, method, value: value * 10)
    swept["cells"] = [dict(c, workload=f"{c['workload']}+mtu{mtu}") for c in swept["cells"] for mtu in (1500, 9000)]
    swept["run"]["options"]["sweeps"] = {"mtu": [1500, 9000]}
    outcome = record_document(_doc(swept), "s", conf)
    assert outcome.snapshot is None and outcome.samples == 0
    cells = len(swept["cells"])
    assert outcome.notes == [
        f"{cells} cell(s) of swept workload variants (tcp-stream+mtu1500, tcp-stream+mtu9000) are not recorded: "
        "history's benchmarks are the workloads run without --container-mtu, --streams or --delay (and the path "
        "variants of the lan and wan presets); compare sweep runs with 'python -m bench_runner compare'",
        "no measured samples in this document; nothing recorded"]
    # beside the workload's own cells, only those are recorded, under the workload's benchmark
    mixed = variant(data, run_id="mixed", started_at="2026-11-28T07:00:00Z")
    mixed["cells"] += [dict(c, workload="tcp-stream+P8") for c in swept["cells"][:2]]
    recorded = record_document(_doc(mixed), "m", conf)
    stored = _samples_in_asv(conf, recorded.snapshot.commit, "netbench.track_tcp_stream_throughput")
    assert stored[("pasta", "remote")] == _doc(data).cell("tcp-stream", "remote", "pasta").samples()
    assert any("tcp-stream+P8" in n for n in recorded.notes)
    assert not any("is not in this suite's benchmarks" in n for n in recorded.notes)


def test_the_path_presets_variants_have_benchmarks_of_their_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A LAN's and the internet's paths are fixed values (the lan and wan presets): their cells
    are recorded under benchmarks of their own, remote only, never under the plain workload's."""
    names = {s.name: s for s in specs.all_specs()}
    lan = names["netbench.track_tcp_stream_rtt0_2ms_bw1000M_throughput"]
    assert (lan.workload, lan.placements) == ("tcp-stream+rtt0.2ms+bw1000M", ("remote",))
    assert "netbench.track_tcp_rr_rtt80ms_loss0_1pct_p50" in names
    assert "netbench.track_tcp_stream_reverse_rtt20ms_loss0_1pct_throughput" in names
    conf = config.load(use_history(tmp_path, monkeypatch))
    data = load_doc(FULL)
    shaped = variant(data, run_id="lan", started_at="2026-11-28T06:00:00Z")
    shaped["cells"] = [dict(c, workload="tcp-stream+rtt0.2ms+bw1000M") for c in shaped["cells"]
                       if c["workload"] == "tcp-stream" and c["placement"] == "remote"]
    recorded = record_document(_doc(shaped), "l", conf)
    stored = _samples_in_asv(conf, recorded.snapshot.commit, lan.name)
    assert stored[("pasta", "remote")] == _doc(data).cell("tcp-stream", "remote", "pasta").samples()
    with pytest.raises(KeyError):  # the plain workload's benchmark got nothing from this run
        _samples_in_asv(conf, recorded.snapshot.commit, "netbench.track_tcp_stream_throughput")


# ---------------------------------------------------------------- asv reads it: publish, compare, show

def _graph_points(conf: config.AsvConfig, name: str) -> list:
    (path,) = [p for p in (conf.html_dir / "graphs").rglob(f"{name}.json")
               if f"machine-{MACHINE}" in str(p) and "summary" not in p.parts]
    return json.loads(path.read_text())


def test_two_stacks_are_two_points_and_a_third_run_adds_samples_not_a_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf_path = use_history(tmp_path, monkeypatch)
    conf = config.load(conf_path)
    data = load_doc(FULL)
    a = write(tmp_path / "a.json", data)
    b = write(tmp_path / "b.json", variant(data, run_id="b", started_at="2026-11-29T10:00:00Z",
                                           stated={"passt": "custom-build"}, scale=lambda k, m, v: v * 0.8))
    c = write(tmp_path / "c.json", variant(data, run_id="c", started_at="2026-11-30T10:00:00Z",
                                           stated={"passt": "custom-build"}, scale=lambda k, m, v: v * 0.8))
    recorded = cli("record", str(a), str(b), "--format", "json")
    assert recorded.returncode == 0, recorded.stderr
    published = cli("publish", "--format", "json")
    assert published.returncode == 0, published.stderr
    points = json.loads(published.stdout)["points"]
    assert len(points) == 2
    graph = _graph_points(conf, "netbench.track_tcp_stream_throughput")
    assert [revision for revision, _ in graph] == [0, 1]
    # One value per (method, placement) per point: host/remote first, as asv orders them.
    host_remote = [values[0] for _, values in graph]
    assert host_remote[1] == pytest.approx(host_remote[0] * 0.8)
    assert cli("record", str(c)).returncode == 0
    published = cli("publish", "--format", "json")
    points_after = json.loads(published.stdout)["points"]
    assert [p["commit"] for p in points_after] == [p["commit"] for p in points]
    assert points_after[1]["samples"] == 2 * points[1]["samples"]
    assert [revision for revision, _ in _graph_points(conf, "netbench.track_tcp_stream_throughput")] == [0, 1]
    index = (conf.html_dir / "index.html").read_text()
    assert "https://cdn" not in index and "code.jquery.com" not in index
    assert (conf.html_dir / "vendor" / "jquery-flot-jquery.flot.min.js").is_file()
    # asv's own compare and show work between the two tags (asv prints raw values).
    tags = [p["tag"] for p in points]
    compared = asv(conf_path, "compare", tags[0], tags[1], "--machine", MACHINE)
    assert compared.returncode == 0, compared.stderr
    assert "netbench.track_tcp_stream_throughput('pasta', 'remote')" in compared.stdout
    shown = asv(conf_path, "show", tags[1], "--machine", MACHINE)
    assert shown.returncode == 0 and "netbench.track_tcp_stream_throughput" in shown.stdout
    # and the suite's compare, between the same snapshots, knows a throughput drop is worse
    ours = cli("compare", tags[0], tags[1], "--format", "json")
    assert ours.returncode == 0, ours.stderr
    rows = {(r["placement"], r["method"]): r for r in json.loads(ours.stdout)["rows"]}
    assert rows[("remote", "pasta")]["verdict"] == "worse"
    assert rows[("remote", "pasta")]["b"]["n"] == 2 * rows[("remote", "pasta")]["a"]["n"]


def test_publish_with_nothing_recorded_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_history(tmp_path, monkeypatch)
    result = cli("publish")
    assert result.returncode == 2
    assert "nothing recorded" in result.stderr and "record RESULTS.json" in result.stderr
    assert "Traceback" not in result.stderr


def test_record_of_a_missing_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_history(tmp_path, monkeypatch)
    result = cli("record", str(tmp_path / "nope.json"))
    assert result.returncode == 2 and "no such results document" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_asv_run_without_root_says_what_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench_runner.history import asvbench

    monkeypatch.setattr(asvbench.os, "geteuid", lambda: 1000)
    with pytest.raises(RuntimeError, match="run it as root after ./scripts/setup.sh"):
        asvbench.measure_and_record()


def test_asv_benchmarks_report_samples_and_skip_what_was_not_measured() -> None:
    from bench_runner.history import asvbench

    document = _doc(load_doc(FULL))
    failed = load_doc(FULL)
    failed["cells"][1]["status"], failed["cells"][1]["reason"] = "failed", "pasta did not start"
    cache = asvbench.cache_of(_doc(failed))
    spec = next(s for s in specs.all_specs() if s.name == "netbench.track_tcp_stream_throughput")
    track = asvbench.make_track(spec)
    assert track(asvbench.cache_of(document), "host", "remote") == {
        "samples": document.cell("tcp-stream", "remote", "host").samples(), "number": 1}
    with pytest.raises(RuntimeError, match="pasta did not start"):
        track(cache, "pasta", "remote")
    cpu = next(s for s in specs.all_specs() if s.name == "netbench.track_tcp_stream_helper_cpu_s_per_gb")
    with pytest.raises(NotImplementedError):  # asv shows it as skipped: the host has no helper
        asvbench.make_track(cpu).setup(cache, "host", "remote")
    assert track.unit == "Gbit/s" and track.higher_is_better is True and track.version == specs.VERSION


def test_machines_keep_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = config.load(use_history(tmp_path, monkeypatch))
    data = load_doc(FULL)
    here = record_document(_doc(data), "here", conf)
    elsewhere = record_document(_doc(variant(data, run_id="x", started_at="2026-11-28T09:00:00Z")), "there", conf,
                                machine_name="otherhost")
    assert elsewhere.snapshot.commit == here.snapshot.commit  # same stack, same point ...
    assert elsewhere.total_samples == here.total_samples  # ... but its own samples
    assert asvfiles.machines(conf) == ["otherhost", MACHINE]
    other_machine = json.loads((conf.results_dir / "otherhost" / "machine.json").read_text())
    assert other_machine["arch"] == "unknown"  # not this host: only what the document says
    asv_machine = json.loads((tmp_path / "home" / ".asv-machine.json").read_text())
    assert "otherhost" not in asv_machine
    tag = here.snapshot.tag
    ambiguous = cli("compare", tag, tag)
    assert ambiguous.returncode == 2 and "several machines (otherhost, testhost)" in ambiguous.stderr
    assert cli("compare", tag, tag, "--machine", "otherhost").returncode == 0
    with pytest.raises(UsageError, match="machine name"):
        record_document(_doc(data), "bad", conf, machine_name="../etc")


def _with_stack(data: dict, stack: str, podman: str) -> dict:  # type: ignore[type-arg]
    """The document's cells again, as measured under a booted stack of another Podman."""
    out = variant(data, run_id=data["run"]["id"], started_at=data["run"]["started_at"])
    booted = [dict(cell, stack=stack) for cell in out["cells"]]
    out["cells"] += booted
    out["stacks"] = {stack: {"name": stack, "versions": {"podman": podman, "passt": "2025_05_03.587980c",
                                                          "slirp4netns": "1.2.1", "rootlesskit": "2.0.2",
                                                          "iperf3": "3.18"},
                             "provider": {"id": "podman", "reason": "test"}}}
    return out


def test_each_stack_of_a_run_gets_its_own_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench_runner.history.record import record_stacks

    conf = config.load(use_history(tmp_path, monkeypatch))
    data = _with_stack(load_doc(FULL), "trixie", "5.4.2")
    outcomes = record_stacks(_doc(data), "both", conf)
    assert [o.stack for o in outcomes] == ["host", "trixie"]
    host, trixie = outcomes
    assert host.new_point and trixie.new_point and host.snapshot.commit != trixie.snapshot.commit
    versions = trixie.snapshot.snapshot.as_dict()
    assert versions["podman"] == "5.4.2" and versions["stack"] == "trixie" and versions["provider"] == "podman"
    assert versions["kernel"] == data["stack"]["kernel"]  # the stack ran on this machine's kernel
    assert "stack" not in host.snapshot.snapshot.as_dict()  # this machine's point is as it always was
    assert host.samples == trixie.samples  # the same cells, each recorded once, under its own point
    again = record_stacks(_doc(data), "both", conf)
    assert all(o.already for o in again)
    newer = variant(_with_stack(load_doc(FULL), "trixie", "5.6.0"), run_id="later", started_at="2026-12-01T10:00:00Z")
    later = record_stacks(_doc(newer), "later", conf)
    assert not later[0].new_point and later[1].new_point  # a new Podman release: a new point on the axis
