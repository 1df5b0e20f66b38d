"""Which cells the shaped path itself limits: a throughput within 10% of the delay box's
measured ceiling in its direction (packet by packet where loss is asked) or of a rate limit;
latency cells and cells of a run that shaped nothing are never "limited by the path"."""

from __future__ import annotations

import re

from bench_runner.analysis import pathlimit
from bench_runner.results.document import CellResult, RunDocument, Trial

BOX_PATH = {"via": "delay box", "base_rtt_us": {"p50": 230.0},
            "ceiling": {"gso": {"to_server": {"gbit_per_s": 6.5}, "to_client": {"gbit_per_s": 7.0}},
                        "per_packet": {"to_server": {"gbit_per_s": 0.9}, "to_client": {"gbit_per_s": 0.95}}}}


def _document(path: dict | None) -> RunDocument:
    return RunDocument(run={"options": {}}, stack={}, lab={"path": path} if path else {}, provider={"id": "bare"},
                       cells=[])


def _cell(workload: str, unit: str = "Gbit/s") -> CellResult:
    return CellResult(workload, "remote", "host", "throughput", unit, unit == "Gbit/s")


def test_which_way_the_bulk_data_crosses() -> None:
    assert pathlimit.direction("tcp-stream+rtt20ms") == "to_server"
    assert pathlimit.direction("tcp-stream-reverse+rtt20ms") == "to_client"
    assert pathlimit.direction("tcp-stream-outbound-reverse+rtt0ms") == "to_server"
    assert pathlimit.direction("tcp-rr+rtt20ms") is None
    assert pathlimit.direction("no-such-workload") is None


def test_within_ten_percent_of_the_boxs_ceiling_in_its_direction() -> None:
    document = _document(BOX_PATH)
    assert pathlimit.limited(document, _cell("tcp-stream+rtt0ms"), 5.9) == (
        "limited by the path (the delay box's ceiling, 6.5 Gbit/s)")
    assert pathlimit.limited(document, _cell("tcp-stream+rtt0ms"), 5.8) is None
    # the other way has its own ceiling
    assert pathlimit.limited(document, _cell("tcp-stream-reverse+rtt0ms"), 6.2) is None
    # where loss is asked, the ceiling packet by packet
    assert pathlimit.limited(document, _cell("tcp-stream+rtt0ms+loss1pct"), 0.85) == (
        "limited by the path (the delay box's ceiling packet by packet, 0.9 Gbit/s)")


def test_a_rate_limit_limits_on_any_path_and_the_lower_limit_counts() -> None:
    assert pathlimit.limited(_document({"via": "kernel netem"}), _cell("tcp-stream+rtt0ms+bw200M"), 0.19) == (
        "limited by the path (the 200 Mbit/s rate limit, 0.2 Gbit/s)")
    assert pathlimit.limited(_document(BOX_PATH), _cell("tcp-stream+rtt0ms+bw1000M"), 0.93) == (
        "limited by the path (the 1000 Mbit/s rate limit, 1 Gbit/s)")
    assert pathlimit.limited(_document({"via": "kernel netem"}), _cell("tcp-stream+rtt0ms"), 12.0) is None
    assert pathlimit.limited(_document(None), _cell("tcp-stream"), 12.0) is None
    assert pathlimit.limited(_document(BOX_PATH), _cell("tcp-rr+rtt0ms", "us"), 50.0) is None


def test_cell_paths_gather_what_each_cells_trials_saw() -> None:
    document = _document(BOX_PATH)
    cell = _cell("tcp-stream+rtt20ms+loss1pct")
    for rtt, dropped in ((20_400.0, 10), (20_600.0, 30)):
        cell.trials.append(Trial(len(cell.trials), len(cell.trials), False, "", 1.0, "ok", observations={"path": {
            "asked": {"rtt_added_ms": 20.0, "loss_percent_each_way": 1.0}, "rtt_us": {"p50": rtt},
            "netem": {"to_server": {"packets": 990, "dropped": dropped}, "to_client": {"packets": 1000, "dropped": 0}}}}))
    document.cells.append(cell)
    (found,) = pathlimit.cell_paths(document)
    assert (found.asked_rtt_ms, found.rtt_ms, found.trials) == (20.0, (20.4, 20.6), 2)
    assert found.loss_seen_pct == round(100 * 40 / 4020, 3) and pathlimit.median_rtt(found) == 20.5


def test_the_reports_path_section_says_how_the_path_was_made_and_what_each_cell_saw() -> None:
    from bench_runner.report import markdown, pathsection

    document = _document(BOX_PATH | {"kernel": "User-Mode Linux 6.1.176", "base_rtt_us": {"p50": 230.0, "count": 4000}})
    cell = _cell("tcp-rr+rtt20ms", "us")
    cell.trials.append(Trial(0, 0, False, "", 1.0, "ok", observations={"path": {
        "asked": {"rtt_added_ms": 20.0, "loss_percent_each_way": 0.0}, "rtt_us": {"p50": 20_512.0}}}))
    document.cells.append(cell)
    text = re.sub(" +", " ", markdown.render(pathsection.blocks(document), {}))
    assert "## Path" in text and "delay box, User-Mode Linux 6.1.176" in text
    assert "0.230 ms (p50 of 4000 echo round trips" in text and "to the server 6.50 Gbit/s, to the client 7.00 Gbit/s" in text
    assert "| tcp-rr+rtt20ms | host | 20 | 20.512 | 1 | 0 | - |" in text
    assert pathsection.blocks(_document(None)) == []
