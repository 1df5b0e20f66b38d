"""The published history, opened the way a user opens it: served over HTTP on 127.0.0.1 by
this test and loaded in headless Chromium, which may resolve no name and reach no other
host. The graph of the throughput benchmark must draw, with a line for every method and
placement of the recorded runs and a tag per stack snapshot."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Iterator

import pytest

from bench_runner.matrix import PLACEMENTS

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


def _dump_dom(url: str) -> str:
    profile = tempfile.mkdtemp(prefix="netbench-chromium-")
    try:
        done = procs.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1400,900",
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
