"""The published history, opened the way a user opens it: served over HTTP on 127.0.0.1 by
this test and loaded in headless Chromium, which may resolve no name and reach no other
host. The graph of the throughput benchmark must draw, with a line for every method and
placement of the recorded runs and a tag per stack snapshot; a history of one snapshot must
show its point in the summary grid and in the graph; opened as a file, the page says how to
serve it."""

from __future__ import annotations

import functools
import json
import http.server
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import pytest

from bench_runner.run.matrix import PLACEMENTS

from bench_runner import procs
from tests.unit.history_env import load_doc, use_history, variant, write
from tests.integration.conftest import cli

CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  # No DNS, and nothing but the test's own server: the site must be self-contained.
                  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


class _Log(http.server.SimpleHTTPRequestHandler):
    requests: list[tuple[str, int]] = []

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.requests.append((self.path, int(code) if str(code).isdigit() else 0))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """An HTTP server for the published site, on 127.0.0.1, stopped after the test."""
    html = tmp_path / "results" / "html"
    log: list[tuple[str, int]] = []
    handler = type("Handler", (_Log,), {"requests": log})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


#: Counts, per flot plot (by the id of its placeholder), the pixels of its base canvas drawn in
#: a colour (every colour of asv's series but one is far from grey; the frame, the grid and the
#: tick labels are grey or black), once the page had time to draw.
PROBE_JS = """
setTimeout(function () {
    var found = {};
    document.querySelectorAll("canvas.flot-base").forEach(function (canvas) {
        var data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        var count = 0;
        for (var i = 0; i < data.length; i += 4) {
            var r = data[i], g = data[i + 1], b = data[i + 2];
            if (data[i + 3] > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) count++;
        }
        found[canvas.parentElement.closest("[id]").id] = count;
    });
    var out = document.createElement("pre");
    out.id = "netbench-probe";
    out.textContent = JSON.stringify(found);
    document.body.appendChild(out);
}, 8000);
"""


def _with_probe(html: Path) -> str:
    """A copy of the site's index.html that reports what its plots drew (same directory, same
    scripts); returns its file name."""
    (html / "netbench-probe.js").write_text(PROBE_JS)
    page = (html / "index.html").read_text().replace("</body>", '<script src="netbench-probe.js"></script></body>', 1)
    (html / "probe.html").write_text(page)
    return "probe.html"


def _drawn(dom: str) -> dict[str, int]:
    found = re.search(r'<pre id="netbench-probe">([^<]*)</pre>', dom)
    assert found, "the page did not finish drawing"
    return json.loads(found.group(1))


def _dump_dom(url: str) -> str:
    """The page as Chromium drew it; the window is tall enough for every box of the summary grid,
    which draws a box only once it is in view."""
    profile = tempfile.mkdtemp(prefix="netbench-chromium-")
    try:
        done = procs.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1400,2400",
                          "--virtual-time-budget=20000", "--dump-dom", url], timeout=180, check=True)
        return done.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)
        assert not _processes_with(profile), "a Chromium process outlived the page load"


def _graph(dom: str) -> str:
    return dom[dom.index('id="main-graph"'):]


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh --test-tools)")
def test_published_graphs_draw_in_a_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            served: tuple[str, list[tuple[str, int]]]) -> None:
    use_history(tmp_path, monkeypatch)
    data = load_doc("results-bare-full.json")
    a = write(tmp_path / "a.json", data)
    b = write(tmp_path / "b.json", variant(data, run_id="b", started_at="2026-11-29T10:00:00Z",
                                           stated={"passt": "custom-build"}))
    assert cli("record", str(a), str(b)).returncode == 0
    published = cli("publish")
    assert published.returncode == 0, published.stderr
    tags = re.findall(r"\s(kernel-\S+)\s", published.stdout)
    assert len(tags) == 2, published.stdout
    base, requests = served
    dom = _dump_dom(f"{base}/#netbench.track_tcp_stream_throughput")
    assert "airspeed velocity error" not in dom and "failed to load" not in dom
    graph = dom[dom.index('id="main-graph"'):]
    assert re.search(r'<canvas class="flot-base" width="[1-9]\d+" height="[1-9]\d+"', graph), "no plot drawn"
    assert "Gbit/s" in graph  # the y-axis label: the benchmark's unit
    # With more lines than asv draws at once it shows the first placement; the other is one
    # click (a query parameter) away.
    drawn = {placement: graph if placement == "remote" else _graph(_dump_dom(
        f"{base}/#netbench.track_tcp_stream_throughput?p-placement=%27{placement}%27")) for placement in PLACEMENTS}
    for cell in data["cells"]:
        assert f"method-{cell['method']}; placement-{cell['placement']}" in drawn[cell["placement"]], cell
    for tag in tags:
        assert tag in dom  # each stack snapshot is labelled on the graph
    # The page fetched the graph's data over HTTP (XHR), and nothing it asked for was missing.
    assert any("netbench.track_tcp_stream_throughput.json" in path and "machine-testhost" in path
               for path, _ in requests), requests
    assert [r for r in requests if r[1] >= 400] == []


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh --test-tools)")
def test_one_snapshot_shows_its_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      served: tuple[str, list[tuple[str, int]]]) -> None:
    """flot draws no line through a single point: the grid's graphs and the benchmark's graph
    must still show it."""
    use_history(tmp_path, monkeypatch)
    assert cli("record", str(write(tmp_path / "a.json", load_doc("results-bare-full.json")))).returncode == 0
    published = cli("publish")
    assert published.returncode == 0, published.stderr
    html = tmp_path / "results" / "html"
    probe = _with_probe(html)
    graph = json.loads(next(p for p in (html / "graphs" / "summary").rglob("netbench.track_tcp_stream_throughput.json")).read_text())
    assert len(graph) == 1  # one point: nothing for a line
    base, requests = served
    grid = _drawn(_dump_dom(f"{base}/{probe}"))
    assert grid.get("summarygrid-netbench.track_tcp_stream_throughput", 0) > 0, grid
    assert grid.get("summarygrid-netbench.track_tcp_stream_helper_cpu_s_per_gb", 0) > 0, grid
    page = _drawn(_dump_dom(f"{base}/{probe}#netbench.track_tcp_stream_throughput"))
    assert page.get("main-graph", 0) > 0 and page.get("overview", 0) > 0, page
    # The grid asks for every benchmark's summary; those of workloads the run did not measure are
    # missing (asv's own behaviour); everything else was there.
    missing = [path for path, code in requests if code >= 400]
    assert missing and all(path.startswith("/graphs/summary/") for path in missing), missing
    assert not [path for path in missing if re.search(r"/netbench\.track_tcp_stream_(throughput|helper_cpu_s_per_gb)\.json",
                                                      path)], missing


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh --test-tools)")
def test_opened_as_a_file_the_page_says_how_to_serve_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_history(tmp_path, monkeypatch)
    assert cli("record", str(write(tmp_path / "a.json", load_doc("results-bare-full.json")))).returncode == 0
    assert cli("publish").returncode == 0
    dom = _dump_dom((tmp_path / "results" / "html" / "index.html").as_uri())
    message = re.search(r'id="error-message"[^>]*>([^<]*)<', dom)
    assert message and "python -m bench_runner publish --serve" in message.group(1), message


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup.sh --test-tools)")
def test_a_shared_history_shows_every_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              served: tuple[str, list[tuple[str, int]]]) -> None:
    """Two machines' records merged into one shared history publish as one site with both:
    each machine is a button of the page and a line of each graph."""
    from bench_runner.results import document as results
    from bench_runner.history import config, record, shared
    from tests.unit.history_env import make_config

    use_history(tmp_path, monkeypatch)
    bare = tmp_path / "shared.git"
    procs.run(["git", "init", "--quiet", "--bare", str(bare)], timeout=60)
    data = load_doc("results-bare-full.json")
    (tmp_path / "beta").mkdir()
    beta = config.load(make_config(tmp_path / "beta"))
    other = variant(data, run_id="beta1", started_at="2026-11-28T04:00:00Z", scale=lambda k, m, v: v * 0.9)
    results.validate(other)
    record.record_document(results.RunDocument.from_json(other), "beta1", beta, machine_name="beta")
    shared.push(beta, str(bare))
    a = write(tmp_path / "a.json", data)
    recorded = cli("record", str(a), "--machine", "alpha", "--shared", str(bare))
    assert recorded.returncode == 0, recorded.stderr
    published = cli("publish", "--shared", str(bare))
    assert published.returncode == 0, published.stderr
    assert "machine alpha:" in published.stdout and "machine beta:" in published.stdout
    base, requests = served
    dom = _dump_dom(f"{base}/#netbench.track_tcp_stream_throughput")
    assert re.search(r'<canvas class="flot-base" width="[1-9]\d+" height="[1-9]\d+"', _graph(dom)), "no plot drawn"
    for machine in ("alpha", "beta"):
        assert re.search(rf'role="button"[^>]*>{machine}<', dom), machine  # the page's machine choice
        assert f"machine-{machine}; method-pasta; placement-remote" in _graph(dom), machine  # a line of the graph
    assert [r for r in requests if r[1] >= 400] == []
