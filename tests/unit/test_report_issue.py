"""Reports for an issue (``report --for github|gitlab``): Markdown that fits the tracker's
comment limit, one archive holding everything, a first line that says what the report is and
how to reproduce it, and words for every metric the run shows."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bench_runner.run import matrix
from bench_runner.results import metrics, document as results
from bench_runner.methods import METHODS
from bench_runner.report import archive, fit, markdown
from bench_runner.report.render import write
from bench_runner.report.content import gather
from bench_runner.report.layout import FULL, SHORTER, Attached, layout
from bench_runner.results.document import CellResult, MetricInfo, RunDocument, Trial
from tests.unit import latency_document

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
STACKS = ("host", "bookworm", "trixie")


def large_document(trials: int = 12, seed: int = 3) -> RunDocument:
    """Every workload x every method x every placement x three stacks, many trials each (some
    failed, with long reasons), long package lists: far more than a GitHub comment holds."""
    rng = np.random.default_rng(seed)
    built = matrix.build(list(METHODS), list(matrix.WORKLOADS), list(matrix.PLACEMENTS), STACKS)
    cells: list[CellResult] = []
    index = 0
    for cell in built.cells:
        workload = matrix.WORKLOADS[cell.workload]
        scale = 1 + list(METHODS).index(cell.method) / 3
        runs = []
        for number in range(trials + 1):
            failed = number == trials and index % 5 == 0
            samples = {} if failed else {m.id: float(rng.normal(10 * scale, 0.5)) for m in workload.metrics()}
            runs.append(Trial(index=index, round=number, warmup=number == 0, started_at="2026-11-28T00:00:00Z",
                              seconds=3.0, status="failed" if failed else "ok", samples=samples,
                              error=f"client exited with 1: connection reset by peer after {number} s " * 3
                              if failed else None,
                              observations={"peer_address": "198.51.100.2", "listener": {"kind": cell.method}}))
            index += 1
        cells.append(CellResult(cell.workload, cell.placement, cell.method, workload.metric.id, workload.metric.unit,
                                workload.metric.higher_is_better, [MetricInfo.of(m) for m in workload.extra_metrics],
                                status="measured", trials=runs, stack=cell.stack))
    for cell, why in built.not_applicable:
        workload = matrix.WORKLOADS[cell.workload]
        cells.append(CellResult(cell.workload, cell.placement, cell.method, workload.metric.id, workload.metric.unit,
                                workload.metric.higher_is_better, status="not_applicable", reason=why,
                                stack=cell.stack))
    packages = {f"package-{n:03d}": f"1.{n}.0-1+deb12u1" for n in range(400)}
    document = latency_document.document()
    document.cells = cells
    document.stack["packages"] = packages
    document.stacks = {name: {"name": name, "suite": name, "versions": {"podman": "5.4.2", "passt": "2025_05_03"},
                              "provider": {"id": "podman", "reason": "test"}, "packages": packages}
                       for name in STACKS[1:]}
    document.run["options"].update(methods=list(METHODS), workloads=list(matrix.WORKLOADS),
                                   placements=list(matrix.PLACEMENTS), stacks=list(STACKS))
    return document


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "large.json"
    results.save(large_document(), path)
    return path


@pytest.fixture
def full(tmp_path: Path) -> Path:
    path = tmp_path / "full.json"
    shutil.copy(DATA / "results-bare-full.json", path)
    return path


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zipped:
        assert zipped.testzip() is None
        return {name: zipped.read(name) for name in zipped.namelist()}


def test_a_github_report_of_a_huge_run_fits_a_comment_and_says_what_it_cut(large: Path) -> None:
    written = write(large, target="github", with_plots=False)
    text = written.report.read_text()
    assert len(text) <= fit.BUDGET < fit.GITHUB_LIMIT
    members = _members(written.archive)
    whole = members["large-report-full.md"].decode()
    assert len(whole) > 4 * fit.GITHUB_LIMIT  # the test is about a run that does not fit
    assert members["large-report.md"].decode() == text
    # every step of giving up detail was taken, then the end was cut, visibly
    assert "leaves out every trial's figures" in text and "the evidence behind each observed claim" in text
    cut = re.search(r"\*\*Cut here\*\* to fit GitHub's comment limit: ([\d,]+) more characters of this report "
                    r"\(([^)]*)\) are left out\. The whole report is `large-report-full\.md` in `large-report\.zip`",
                    text)
    assert cut, text[-600:]
    assert "## Warnings" not in text and "Warnings" in cut.group(2)
    assert text.endswith(cut.group(0) + ".\n")
    assert not re.search(r"^#+ .*\n\n\*\*Cut here", text, re.M)  # no heading left without what it heads
    # what is kept is the start of the shortened report, whole blocks only
    assert text.startswith("**Rootless Podman networking benchmark")
    assert text.count("<details>") == text.count("</details>")
    assert text.count("```") % 2 == 0


def test_each_step_gives_up_detail_in_the_stated_order(full: Path) -> None:
    content = gather(results.load(full), full)
    attached = Attached("full-report.zip", "full-report-full.md", "full.json", (), ())
    texts = [markdown.render(layout(content, [], replace(step, full_report="full-report-full.md"), attached), {},
                             compact=True) for step in SHORTER]
    everything = markdown.render(layout(content, [], FULL, attached), {}, compact=True)
    assert len(everything) > len(texts[0]) > len(texts[1]) > len(texts[2])
    assert "Raw figures of" in everything and "Raw figures of" not in texts[0] and "Trials of" in texts[0]
    assert "Other metrics of tcp-stream / remote (median" in texts[0]
    assert "Other metrics of tcp-stream / remote (retransmits (count), helper_cpu_s_per_gb (CPU s/GB)): in " \
           "`full-report-full.md`" in texts[1]
    assert "Evidence for every observation" in texts[1] and "<summary>Evidence for every observation" not in texts[2]
    for number, budget in enumerate(len(t) for t in texts):
        fitted = fit.fit(content, [], {}, attached, "full-report-full.md", budget)
        assert fitted.text == texts[number] and fitted.cut == 0
        assert fitted.detail == replace(SHORTER[number], full_report="full-report-full.md")
    cut = fit.fit(content, [], {}, attached, "full-report-full.md", len(texts[2]) - 1)
    assert 0 < len(cut.text) <= len(texts[2]) - 1 and cut.cut > 0 and "**Cut here**" in cut.text


def test_the_github_report_of_a_run_that_fits_keeps_its_summaries(full: Path) -> None:
    written = write(full, target="github")
    text = written.report.read_text()
    document = results.load(full)
    # per cell: its trials and failures instead of every trial's figures
    trials = re.search(r"<summary>Trials of tcp-stream / remote.*?</details>", text, re.S)
    assert trials and "Raw figures of" not in text
    cell = document.cell("tcp-stream", "remote", "pasta")
    assert f"| pasta | {len(cell.trials)} | {sum(t.warmup for t in cell.trials)} | 0 | - |" in trials.group(0)
    assert "Distribution packages: 10, listed in `full-report-full.md`." in text
    # plots named, in the archive, with how to show them
    assert "![" not in text
    assert "Plot `full-report-tcp-stream.png` (in the archive)" in text
    assert "drag them into the comment to show them inline" in text
    assert [p.name for p in written.plots] == ["full-report-tcp-stream.png"]


def _capture(path: str) -> dict:
    """A captures entry as run --capture writes it."""
    return {"kind": "pcap", "tool": "pasta --pcap", "workload": "tcp-stream", "placement": "remote",
            "method": "pasta", "stack": "host", "path": path}


def test_the_archive_holds_report_full_report_plots_document_and_captures(full: Path, tmp_path: Path) -> None:
    (tmp_path / "captures").mkdir()
    (tmp_path / "captures" / "pasta-1.pcap").write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(range(256)) * 40)
    (tmp_path / "secret").write_text("not for the archive")
    (tmp_path / "captures" / "link.pcap").symlink_to(tmp_path / "secret")
    (tmp_path / "captures" / "fifo").mkdir()
    data = json.loads(full.read_text())
    data["captures"] = [_capture(p) for p in ("captures/pasta-1.pcap", "captures/gone.pcap", "captures/link.pcap",
                                              "../outside.pcap", "/etc/hostname", "captures/fifo",
                                              "captures/pasta-1.pcap")]
    full.write_text(json.dumps(data))
    written = write(full, target="github")
    members = _members(written.archive)
    assert written.archive == tmp_path / "full-report.zip"
    assert sorted(members) == ["captures/pasta-1.pcap", "full-report-full.md", "full-report-tcp-stream.png",
                               "full-report.md", "full.json"]
    assert members["captures/pasta-1.pcap"] == (tmp_path / "captures" / "pasta-1.pcap").read_bytes()
    assert members["full.json"] == full.read_bytes()
    assert members["full-report.md"] == written.report.read_bytes()
    assert members["full-report-tcp-stream.png"] == written.plots[0].read_bytes()
    whole = members["full-report-full.md"].decode()
    assert "Raw figures of tcp-stream / remote" in whole and "<summary>Distribution packages</summary>" in whole
    assert "![tcp-stream" in whole and "(full-report-tcp-stream.png)" in whole  # beside it in the archive
    assert not any(b"not for the archive" in data for data in members.values())
    text = written.report.read_text()
    assert "1 capture file(s)" in text
    for line in ("- `captures/gone.pcap`: missing",
                 "- `captures/link.pcap`: a symbolic link or not a directory on the way; not followed",
                 "- `../outside.pcap`: not a path inside the results document's directory",
                 "- `/etc/hostname`: not a path inside the results document's directory",
                 "- `captures/fifo`: not a regular file"):
        assert line in text, line


def test_a_gitlab_report_is_the_full_one_with_the_same_archive(full: Path) -> None:
    plain = write(full, output=str(full.with_name("plain.md"))).report.read_text()
    written = write(full, target="gitlab")
    text = written.report.read_text()
    assert "Raw figures of tcp-stream / remote" in text and "![tcp-stream" in text
    assert "leaves out" not in text and "**Cut here**" not in text
    # today's report, with what the archive holds under the title
    assert text.replace("\n\nAttached as `full-report.zip`: the results document `full.json` and 1 plot(s) as PNG "
                        "files: drag them into the comment to show them inline.", "") \
        == plain.replace("plain-tcp-stream.png", "full-report-tcp-stream.png")
    assert sorted(_members(written.archive)) == ["full-report-tcp-stream.png", "full-report.md", "full.json"]


def test_an_archive_is_the_same_when_made_twice(full: Path, tmp_path: Path) -> None:
    first = write(full, target="github", output=str(tmp_path / "a.md")).archive.read_bytes()
    second = write(full, target="github", output=str(tmp_path / "a.md")).archive.read_bytes()
    assert first == second


def test_capture_paths_are_opened_beneath_the_directory_only(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")
    os.symlink(tmp_path / "d", tmp_path / "linked")
    with archive.open_beneath(tmp_path, "d/f") as handle:
        assert handle.read() == b"x"
    with pytest.raises(archive.Refused, match="symbolic link"):
        archive.open_beneath(tmp_path, "linked/f")
    with pytest.raises(archive.Refused, match="not a path inside"):
        archive.open_beneath(tmp_path, "d/../d/f")
    os.mkfifo(tmp_path / "d" / "pipe")
    with pytest.raises(archive.Refused, match="not a regular file"):
        archive.open_beneath(tmp_path, "d/pipe")  # and does not block on it


def test_a_document_without_captures_makes_an_archive_without_them(full: Path) -> None:
    assert "captures" not in json.loads(full.read_text())
    written = write(full, target="github", with_plots=False)
    assert sorted(_members(written.archive)) == ["full-report-full.md", "full-report.md", "full.json"]
    text = written.report.read_text()
    assert "capture" not in text and "not in the archive" not in text and "plot(s)" not in text


def test_every_report_starts_with_what_it_is_and_the_command_that_reproduces_it(full: Path, tmp_path: Path) -> None:
    document = results.load(full)
    shell = gather(document, full).reproduction.shell
    expected = f"Rootless Podman networking benchmark (podman-netbench {document.tool['version']})"
    md = write(full, with_plots=False).report.read_text()
    assert md.splitlines()[0] == f"**{expected}**: reproduce with `{shell}`"
    for target in ("github", "gitlab"):
        text = write(full, with_plots=False, target=target, output=str(tmp_path / f"{target}.md")).report.read_text()
        assert text.splitlines()[0] == md.splitlines()[0]
    html = write(full, "html", with_plots=False).report.read_text()
    body = html.split("<body>\n", 1)[1]
    assert body.startswith(f"<p><strong>{expected}</strong>: reproduce with <code>")
    assert json.loads(write(full, "json").report.read_text())["about"] == f"{expected}: reproduce with {shell}"


def test_the_report_says_what_each_metric_of_the_run_means(tmp_path: Path) -> None:
    path = tmp_path / "latency.json"
    results.save(latency_document.document(), path)
    text = write(path, with_plots=False).report.read_text()
    legend = re.search(r"Metrics of this run.*?\n\n(\|.*?)\n\n", text, re.S)
    assert legend
    rows = [re.split(r"\s*\|\s*", line.strip("| ")) for line in legend.group(1).splitlines()[2:]]
    # only the metrics the run records: tcp-rr's, and the throughput of its not-applicable tcp-stream cell
    assert [r[0] for r in rows] == ["throughput", "p50", "p90", "p99"]
    for metric, unit, better, meaning in rows:
        known = metrics.METRICS[metric]
        assert (unit, better, meaning) == (known.unit, "higher" if known.higher_is_better else "lower", known.summary)


def test_a_metric_the_suite_does_not_know_is_shown_as_such(tmp_path: Path) -> None:
    document = latency_document.document()
    for cell in document.cells:
        cell.extra_metrics.append(MetricInfo("frobs", "frob/s", True))
    path = tmp_path / "odd.json"
    results.save(document, path)
    text = write(path, with_plots=False).report.read_text()
    assert re.search(rf"\| frobs +\| frob/s +\| higher +\| {metrics.UNKNOWN} +\|", text)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench_runner", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_report_for_github_prints_every_file_it_wrote(full: Path) -> None:
    result = _cli("report", str(full), "--for", "github")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"report: {full.with_name('full-report.md')}",
                                          f"plot:   {full.with_name('full-report-tcp-stream.png')}",
                                          f"archive: {full.with_name('full-report.zip')}"]
    data = json.loads(_cli("report", str(full), "--for", "gitlab", "--no-plots", "--json").stdout)
    assert data == {"report": str(full.with_name("full-report.md")), "plots": [],
                    "archive": str(full.with_name("full-report.zip"))}


@pytest.mark.parametrize("args, expected", [
    (["--for", "github", "--format", "html"], "--for github writes Markdown and an archive; it cannot go with "
                                              "--format html"),
    (["--for", "bitbucket"], "argument --for: invalid choice: 'bitbucket'"),
])
def test_report_for_bad_input_is_one_line_and_exit_2(args: list[str], expected: str, full: Path) -> None:
    result = _cli("report", str(full), *args)
    assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list(full.parent.glob("*report*"))


def test_a_captures_entry_without_its_cell_is_refused_when_loading(full: Path) -> None:
    data = json.loads(full.read_text())
    data["captures"] = [{"path": "x.pcap"}]
    with pytest.raises(results.UsageError, match="captures/0.*'kind' is a required property"):
        results.validate(data)


def test_zip_members_come_first_then_captures_streamed(tmp_path: Path) -> None:
    (tmp_path / "c.bin").write_bytes(b"c" * 10)
    found = archive.find_captures({"captures": [{"path": "c.bin"}, {"path": "r.md"}]}, tmp_path, {"r.md"})
    assert found.missing == [("r.md", "its name is taken by a file of the report")]
    out = io.BytesIO()
    try:
        archive.write(out, [("r.md", b"report")], found, (2026, 11, 28, 1, 2, 3))
    finally:
        found.close()
    with zipfile.ZipFile(out) as zipped:
        assert [(i.filename, i.date_time) for i in zipped.infolist()] == [("r.md", (2026, 11, 28, 1, 2, 2)),
                                                                          ("c.bin", (2026, 11, 28, 1, 2, 2))]
        assert zipped.read("c.bin") == b"c" * 10


def test_captures_past_the_trackers_attachment_budget_are_named_not_packed(tmp_path: Path) -> None:
    for name, size in (("a.pcap", 600), ("b.pcap", 600), ("c.pcap", 300)):
        (tmp_path / name).write_bytes(b"x" * size)
    listed = {"captures": [{"path": p} for p in ("a.pcap", "b.pcap", "c.pcap")]}
    found = archive.find_captures(listed, tmp_path, set(), budget=1000)
    try:
        assert [name for name, _ in found.found] == ["a.pcap", "c.pcap"]
        assert [(p, why.split(":")[0]) for p, why in found.missing] == [("b.pcap", "left out")]
    finally:
        found.close()
    unlimited = archive.find_captures(listed, tmp_path, set())
    assert len(unlimited.found) == 3
    unlimited.close()


def test_many_files_left_out_for_one_reason_take_one_line() -> None:
    from bench_runner.report.layout import _missing_lines
    from bench_runner.report.markdown import inline

    missing = tuple((f"c/{n}.pcap", "left out: budget") for n in range(5)) + (("c/x.pcap", "missing"),)
    lines = [inline(line) for line in _missing_lines(missing)]
    assert lines == ["5 files, `c/0.pcap` to `c/4.pcap`: left out: budget", "`c/x.pcap`: missing"]


def test_a_shortened_report_counts_the_captures_instead_of_listing_them() -> None:
    from bench_runner.report import markdown
    from bench_runner.report.layout import _captures_counted

    captures = [{**_capture(f"c/{n}.pcap"), "bytes": 1 << 20} for n in range(40)]
    captures.append({**_capture("unused"), "path": None, "error": "tcpdump wrote no file"})
    del captures[-1]["path"]
    text = markdown.render(_captures_counted(captures), {})
    assert "- pcap: 40 of 41 kept, 40.0 MiB in all" in text
    assert "- not kept: pasta, tcp-stream / remote: tcpdump wrote no file" in text
    assert "c/7.pcap" not in text
