"""The process that carried a trial and the address the server saw are named alike in the
ranked tables, the report's raw figures and the progress lines."""

from __future__ import annotations

from bench_runner.analysis import ranking as analysis
from bench_runner.results import document as results
from bench_runner.report.layout import _raw_rows
from tests.conftest import DATA

INHERITED = {"kind": "server:python3", "carrier": "inherited", "comm": "python3"}


def _document_with(method: str, observations: dict) -> results.RunDocument:
    document = results.load(DATA / "results-bare-tcp-rr.json")
    for cell in document.cells:
        if cell.method == method:
            for trial in cell.trials:
                trial.observations = {**observations}
    return document


def test_an_inherited_socket_is_named_by_its_server_everywhere() -> None:
    document = _document_with("pasta", {"listener": INHERITED, "peer_address": "198.51.100.2"})
    cell = next(c for c in document.cells if c.method == "pasta" and c.trials)
    assert {analysis.trial_carrier(t) for t in cell.trials} == {"python3 (inherited socket)"}
    headers, rows = _raw_rows((cell,))
    carried = {row[headers.index("carried by")] for row in rows}
    assert carried == {"python3 (inherited socket)"}
    table_rows = [r for t in analysis.rank_tables(document) for r in t.rows
                  if r.method == "pasta" and t.placement == cell.placement and t.workload == cell.workload]
    assert table_rows and table_rows[0].listeners == ("python3 (inherited socket)",)


def test_an_outbound_trial_names_its_helper_and_what_the_remote_saw() -> None:
    document = _document_with("pasta", {"outbound_carrier": {"kind": "pasta"}, "remote_saw": "198.51.100.1"})
    cell = next(c for c in document.cells if c.method == "pasta" and c.trials)
    trial = cell.trials[0]
    assert analysis.trial_carrier(trial) == "pasta" and analysis.trial_peer(trial) == "198.51.100.1"
    headers, rows = _raw_rows((cell,))
    assert rows[0][headers.index("carried by")] == "pasta"
    assert rows[0][headers.index("server saw")] == "198.51.100.1"


def test_nothing_observed_is_none_not_a_guess() -> None:
    document = _document_with("pasta", {})
    cell = next(c for c in document.cells if c.method == "pasta" and c.trials)
    assert analysis.trial_carrier(cell.trials[0]) is None and analysis.trial_peer(cell.trials[0]) is None


def test_the_watcher_sees_a_container_init_become_the_server() -> None:
    """A container's init already runs the server's exe while its name is still runc's; the
    same pid and exe seen again under the server's name is the carrier the trial waits for
    (missed once, the socket-activation-system trial failed on a fast machine)."""
    from bench_runner.lab.observe import ProcessInfo, Watcher

    states = iter([
        [ProcessInfo(7, "runc:[2:INIT]", "/usr/bin/python3.13", ("runc", "init"), 1001, "runc", 5)],
        [ProcessInfo(7, "python3", "/usr/bin/python3.13", ("python3", "-I"), 1001, "server:python3", 5)],
    ])
    last: list[ProcessInfo] = []

    def look() -> list[ProcessInfo]:
        last[:] = next(states, last)
        return list(last)

    watcher = Watcher(look, lambda seen: any(i.comm == "python3" for i in seen), interval=0.01, deadline=5)
    watcher.start()
    watcher.join(timeout=3)
    assert not watcher.is_alive(), "the watcher never saw the server"
    assert [i.comm for i in watcher.finish()] == ["runc:[2:INIT]", "python3"]
