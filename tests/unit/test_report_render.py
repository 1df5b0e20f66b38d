"""A report rendered from recorded results documents: its sections, its plots (real PNGs
that show every method), one-file HTML, JSON for scripts, and the command that reproduces
the run, checked by parsing it with the CLI's own parser."""

from __future__ import annotations

import base64
import copy
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from bench_runner.analysis import ranking as analysis, stability
from bench_runner import cli
from bench_runner.report import plots
from bench_runner.results import document as results
from bench_runner.commands import run as run_command
from bench_runner.errors import UsageError
from bench_runner.report.render import write
from bench_runner.report.content import gather
from bench_runner.report.reproduce import command
from tests.unit import latency_document

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
SECTIONS = ("## Stack and host", "### Reproduce", "## Results", "## Ordering verdicts",
            "## Claims of podman-networking-docs", "## Warnings")


@pytest.fixture
def full(tmp_path: Path) -> Path:
    path = tmp_path / "full.json"
    shutil.copy(DATA / "results-bare-full.json", path)
    return path


@pytest.fixture
def latency(tmp_path: Path) -> Path:
    path = tmp_path / "latency.json"
    results.save(latency_document.document(), path)
    return path


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _colours(png: Path | bytes) -> set[tuple[int, int, int]]:
    import io

    image = Image.open(io.BytesIO(png) if isinstance(png, bytes) else png).convert("RGB")
    return {rgb for _, rgb in image.getcolors(maxcolors=1 << 20)}


def test_markdown_report_from_a_recorded_run_has_every_section(full: Path) -> None:
    written = write(full)
    assert written.report == full.with_name("full-report.md")
    text = written.report.read_text()
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions), "sections out of order"
    document = results.load(full)
    # the stack and host, straight from the document
    for fact in (document.stack["kernel"], document.stack["passt"], document.stack["cpu_model"],
                 document.stack["virtualization"], "net.ipv4.tcp_congestion_control", "lab link MTU",
                 document.provider["reason"]):
        assert fact in text, fact
    assert f"--seed {document.run['seed']}" in text
    # one ranked table per workload and placement, each figure as the analysis computed it
    for table in analysis.rank_tables(document):
        assert f"#### {table.workload} / {table.placement}: {table.metric} in {table.unit}" in text
        for row in table.rows:
            assert re.search(rf"\| {re.escape(row.rank)} +\| {re.escape(row.method)} +\|", text), row.method
    assert "violated" in text and "holds" in text and "inconclusive" in text
    assert "source address preserved" in text and "no / no" in text
    assert "Raise --max-rounds" in text  # warnings come with what to do
    assert text.count("<details>") == text.count("</details>") >= 4
    assert "</summary>\n\n" in text  # GitHub renders Markdown inside details only after a blank line


def test_markdown_links_plots_that_exist_and_show_every_method(full: Path) -> None:
    written = write(full)
    text = written.report.read_text()
    links = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", text)
    assert links == [p.name for p in written.plots] == ["full-report-tcp-stream.png"]
    png = written.plots[0]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = Image.open(png).size
    assert width >= 1000 and height >= 500
    seen = _colours(png)
    for method in ("pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns"):
        assert _rgb(plots.colour(method)) in seen, f"{method} is not drawn"


def test_latency_report_has_a_percentile_plot_and_names_what_was_not_ranked(latency: Path) -> None:
    written = write(latency)
    names = [p.name for p in written.plots]
    assert names == ["latency-report-tcp-rr.png", "latency-report-tcp-rr-percentiles.png"]
    text = written.report.read_text()
    assert "p50 in us (lower is better)" in text
    assert "p90 (us)" in text and "p99 (us)" in text  # the other metrics, with units
    assert "`socket-activation-user`: failed: echo client exited with 1: connection refused" in text
    assert "not applicable: iperf3 cannot take an inherited listening socket" in text
    percentiles = _colours(written.plots[1])
    for method in latency_document.PROFILE:
        if method != "host":
            assert _rgb(plots.colour(method)) in percentiles, method
    assert "--stack passt=custom-build" in text


def test_percentile_metrics_are_found_by_name_and_unit() -> None:
    document = latency_document.document()
    cells = [c for c in document.cells if c.workload == "tcp-rr" and c.status == "measured"]
    assert plots.percentile_metrics(cells) == [(50.0, "p50"), (90.0, "p90"), (99.0, "p99")]
    stream = results.load(DATA / "results-bare-full.json").cells
    assert plots.percentile_metrics(stream) == []


def test_html_report_is_one_file_with_the_plots_embedded(full: Path) -> None:
    written = write(full, "html")
    assert written.report.name == "full-report.html" and written.plots == ()
    assert sorted(p.name for p in full.parent.iterdir()) == ["full-report.html", "full.json"]
    text = written.report.read_text()

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.sources: list[str] = []
            self.open: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("details", "table", "ul", "figure"):
                self.open.append(tag)
            self.sources += [v or "" for k, v in attrs if k in ("src", "href")]

        def handle_endtag(self, tag: str) -> None:
            if tag in ("details", "table", "ul", "figure"):
                assert self.open.pop() == tag

    parser = Collect()
    parser.feed(text)
    assert parser.open == []
    assert parser.sources and all(s.startswith("data:image/png;base64,") for s in parser.sources)
    png = base64.b64decode(parser.sources[0].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and _rgb(plots.colour("pasta")) in _colours(png)
    for section in SECTIONS:
        assert f">{section.lstrip('#').strip()}</h" in text, section


def test_json_report_carries_the_analysis_figures(full: Path) -> None:
    written = write(full, "json")
    data = json.loads(written.report.read_text())
    document = results.load(full)
    expected = {(t.workload, t.placement, r.method): r.summary.median
                for t in analysis.rank_tables(document) for r in t.rows}
    got = {(t["workload"], t["placement"], r["method"]): r["median"] for t in data["tables"] for r in t["rows"]}
    assert got == expected
    assert data["reproduce"]["argv"][0] == "./scripts/run-benchmarks.sh"
    from bench_runner.analysis.verdicts import DOCUMENTED, judge_all

    judged = judge_all(document, [DOCUMENTED])[DOCUMENTED]
    pairs = [p for x in data["verdicts"][DOCUMENTED] for p in x["pairs"]]
    assert [(p["verdict"], p["raw_verdict"]) for p in pairs] == [(p.verdict, p.raw_verdict) for v in judged for p in v.pairs]
    assert all("p_holm" in p and "ci_level" in p for p in pairs)
    assert len(data["warnings"]) == len(stability.warnings_for(document)) > 0
    assert all(w["remedy"] for w in data["warnings"])


def test_rendering_twice_gives_the_same_files(full: Path, tmp_path: Path) -> None:
    first = write(full, output=str(tmp_path / "a.md"))
    second = write(full, output=str(tmp_path / "b.md"))
    a = first.report.read_text().replace("a-tcp-stream.png", "X")
    b = second.report.read_text().replace("b-tcp-stream.png", "X")
    assert a == b
    assert first.plots[0].read_bytes() == second.plots[0].read_bytes()


def test_an_incomplete_run_says_so(tmp_path: Path) -> None:
    document = results.load(DATA / "results-bare-quick.json")
    document.run["status"] = "incomplete"
    document.run["finished_at"] = None
    path = tmp_path / "cut.json"
    results.save(document, path)
    text = write(path, with_plots=False).report.read_text()
    assert "This run did not complete" in text and "finished never" in text


def test_disagreements_with_the_guide_are_spelled_out(tmp_path: Path) -> None:
    document = latency_document.document()
    document.checks["claims"] = [{"claim": "device_binding", "method": "pasta", "observed": False,
                                  "evidence": "pasta -t 198.51.100.1%eth0/PORT refused: no such device", "extra": {}}]
    path = tmp_path / "claims.json"
    results.save(document, path)
    text = write(path, with_plots=False).report.read_text()
    assert "yes / no (DISAGREES)" in text
    assert "- pasta, binding to a specific network device: pasta -t 198.51.100.1%eth0/PORT refused" in text


@pytest.mark.parametrize("name", ["results-bare-full.json", "results-bare-quick.json", "latency",
                                  "results-two-computers-quick.json"])
def test_the_reproduce_command_parses_back_to_the_run_options(name: str) -> None:
    document = latency_document.document() if name == "latency" else results.load(DATA / name)
    reproduction = command(document)
    assert reproduction.argv[0] == "./scripts/run-benchmarks.sh"
    args = cli.build_parser().parse_args(["run", *reproduction.argv[1:]])
    options = document.run["options"]
    built = run_command.selected_matrix(args)
    assert built.methods() == options["methods"]
    assert sorted({c.workload for c in built.cells}) == options["workloads"]
    assert sorted({c.placement for c in built.cells}) == options["placements"]
    assert args.provider == document.provider["id"]
    assert args.seed == document.run["seed"]
    assert args.mtu == options["mtu"] and args.quick == options["quick"]
    if not options["quick"]:
        assert (args.duration, args.omit, args.rounds, args.warmup_rounds) == \
            (options["duration_s"], options["omit_s"], options["rounds"], options["warmup_rounds"])
        if "max_rounds" in options:
            assert args.max_rounds == options["max_rounds"]
            assert args.precision / 100 == pytest.approx(options["precision"])
    assert run_command.parse_stack_facts(args.stack) == document.stack.get("stated", {})
    assert args.skip_claims == (options.get("claims_probed") is False)
    assert reproduction.not_carried == ()


def test_options_the_command_cannot_carry_are_named() -> None:
    document = copy.deepcopy(latency_document.document())
    document.run["options"]["sockperf_mps"] = 1000
    assert command(document).not_carried == ("sockperf_mps",)


def test_bad_expectation_is_a_usage_error(full: Path) -> None:
    with pytest.raises(UsageError, match="unknown method 'nosuch'"):
        gather(results.load(full), full, expectations=["pasta>nosuch"])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench_runner", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_report_command_writes_beside_the_document_and_says_where(full: Path) -> None:
    result = _cli("report", str(full))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"report: {full.with_name('full-report.md')}",
                                          f"plot:   {full.with_name('full-report-tcp-stream.png')}"]
    assert result.stderr == ""


@pytest.mark.parametrize("args, expected", [
    (["report", "/nonexistent/run.json"], "/nonexistent/run.json: no such results document"),
    (["report", "{bad}"], "not valid JSON"),
    (["report", "{full}", "--format", "pdf"], "argument --format: invalid choice: 'pdf'"),
    (["report", "{full}", "--output", "/nonexistent-dir/r.md"], "directory /nonexistent-dir does not exist"),
    (["report", "{full}", "--output", "{tmp}/missing/"], "directory does not exist"),
    (["report", "{full}", "--expect", "pasta>pasta"], "a method appears twice"),
    (["report", "{full}", "--tolerance", "150"], "150 is not between 0 and 100"),
    (["report"], "the following arguments are required: RESULTS.json"),
])
def test_report_bad_input_is_one_line_and_exit_2(args: list[str], expected: str, full: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1, ')
    argv = [a.format(full=full, bad=bad, tmp=tmp_path) for a in args]
    result = _cli(*argv)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*report*"))


def test_the_overview_says_how_long_the_run_took_against_its_estimate() -> None:
    from bench_runner.report.layout import _duration

    run = {"phases_s": {"setup": 12.0, "trials": 1200.4, "claims": 40.0}, "estimate_s": [1150, 1700]}
    assert _duration(run) == (" It took 20m52s (setup 12s, trials 20m00s, claims 40s; estimated 19m10s, "
                              "at most 28m20s).")
    assert _duration({}) == ""


def test_every_report_format_has_a_renderer_and_the_cli_offers_each(full: Path, tmp_path: Path) -> None:
    """A format is one entry in report/formats.py and a renderer in render.RENDERERS; --format
    takes exactly those, and each writes its report with its own suffix."""
    from bench_runner.report import render as report
    from bench_runner.report.formats import REPORT_FORMATS

    assert set(report.RENDERERS) == set(REPORT_FORMATS)
    for name, fmt in REPORT_FORMATS.items():
        written = write(full, fmt=name, output=str(tmp_path / f"r{fmt.suffix}"))
        assert written.report.suffix == fmt.suffix and written.report.stat().st_size > 0
        assert bool(written.plots) == (fmt.plots and name == "md")  # html embeds its plots
        args = cli.build_parser().parse_args(["report", str(full), "--format", name])
        assert args.format == name
