"""``--udp-rate max``: the bounded search, driven by a fake prober that answers with iperf3
output recorded in the lab (edited to the rate asked and the loss a link of a given capacity
would cause); the word ``max`` on the command line, in workload ids, in the document's
options, the reproduce command and the plots; the trial runner's probes, recorded one by one;
the time estimate of a search."""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench_runner import cli
from bench_runner.run import eta, matrix, runoptions, udpmax
from bench_runner.report import plots
from bench_runner.workloads import sweeps
from bench_runner.commands import run as run_command
from bench_runner.errors import MeasurementError, UsageError
from bench_runner.results.metrics import UDP_MAX_OFFERED
from bench_runner.providers.base import ServerExit
from bench_runner.report.reproduce import command
from bench_runner.run.request import from_options
from bench_runner.results.document import RunDocument, Trial
from bench_runner.run.executor import TrialExecutor
from bench_runner.run.trials import new_cell_results
from bench_runner.workloads import DRIVERS, Measurement, TrialSettings
from bench_runner.workloads.iperf import udp_flags
from tests.conftest import read_data
from tests.unit import latency_document

RATE = sweeps.SWEEPS["udp_rate"]


def recorded_run(offered_mbps: int, capacity_mbps: float) -> Measurement:
    """The recorded iperf3 UDP test, measured as if run at ``offered_mbps`` through a link
    that carries ``capacity_mbps`` and drops the rest."""
    data = json.loads(read_data("iperf3-client-udp.json"))
    carried = min(offered_mbps, capacity_mbps)
    data["start"]["test_start"]["target_bitrate"] = offered_mbps * 1_000_000
    for key in ("sum", "sum_received"):
        data["end"][key]["lost_percent"] = 100 * (offered_mbps - carried) / offered_mbps
    data["end"]["sum_received"]["bits_per_second"] = carried * 1e6
    data["end"]["sum_sent"]["bits_per_second"] = offered_mbps * 1e6
    measured = DRIVERS["udp-stream"].measure(json.dumps(data), ServerExit(0, read_data("iperf3-server-udp.json"), ""))
    assert measured.observations["offered_rate_mbps"] == offered_mbps
    return measured


def link(capacity_mbps: float, asked: list[int] | None = None):  # type: ignore[no-untyped-def]
    """A fake prober: each probe the recorded test at the rate asked, through the link."""
    def probe(rate: int) -> udpmax.Probe:
        if asked is not None:
            asked.append(rate)
        measured = recorded_run(rate, capacity_mbps)
        return udpmax.Probe.of_run(rate, measured.samples, measured.observations)
    return probe


# ---------------------------------------------------------------- the search

def test_a_link_above_the_start_is_bracketed_by_doubling_then_bisected() -> None:
    asked: list[int] = []
    found = udpmax.search(link(3000, asked))
    assert asked == [1000, 2000, 4000, 3000, 3500, 3250, 3125]
    assert [p.carried for p in found.probes] == [True, True, False, True, False, False, False]
    assert found.best is not None and found.best.offered_mbps == 3000
    assert found.best.received_mbps == pytest.approx(3000) and found.best.lost_percent == 0
    assert found.ended == "bisected 4 times between 3000 and 3125 Mbit/s"


def test_a_link_below_the_start_is_bracketed_by_halving() -> None:
    asked: list[int] = []
    found = udpmax.search(link(300, asked))
    assert asked == [1000, 500, 250, 375, 312, 281, 296]
    assert found.best is not None and found.best.offered_mbps == 296


def test_loss_up_to_the_limit_counts_as_carried_and_above_it_does_not() -> None:
    assert udpmax.Probe(1000, 990, udpmax.LOSS_LIMIT_PERCENT).carried
    assert not udpmax.Probe(1000, 989.9, udpmax.LOSS_LIMIT_PERCENT + 0.01).carried
    # 1% lost at 2000 (carried), more at 4000: the search goes on from 2000
    found = udpmax.search(link(1980, None))
    assert found.probes[1].offered_mbps == 2000 and found.probes[1].lost_percent == pytest.approx(1.0)
    assert found.best is not None and found.best.offered_mbps >= 2000


def test_a_probe_whose_client_could_not_send_the_rate_did_not_test_it() -> None:
    assert not udpmax.Probe(187, 61.8, 0.0, sent_mbps=62.9).carried  # seen on a busy machine
    assert udpmax.Probe(187, 186.8, 0.0, sent_mbps=186.8).carried
    assert udpmax.Probe(187, 186.8, 0.0).carried  # sent not known: loss alone
    assert udpmax.Probe(187, 61.8, 0.0, sent_mbps=62.9).to_json()["sent_short"] is True
    assert "sent_short" not in udpmax.Probe(187, 186.8, 0.0, sent_mbps=186.8).to_json()

    def slow_sender(rate: int) -> udpmax.Probe:  # a link of 3000 whose client sends at most 2500
        return udpmax.Probe(rate, min(rate, 2500), 0.0, sent_mbps=min(rate, 2500))

    found = udpmax.search(slow_sender)
    assert found.best is not None and 2500 * 15 / 16 <= found.best.offered_mbps <= 2500 / udpmax.SENT_SHARE_MIN


def test_a_link_that_keeps_up_at_the_ceiling_is_reported_there() -> None:
    asked: list[int] = []
    found = udpmax.search(link(1e9, asked))
    assert asked == [1000, 2000, 4000, 8000, 16000, 32000, 64000, 100000]
    assert found.best is not None and found.best.offered_mbps == udpmax.CEILING_MBPS
    assert found.ended == "carried the ceiling of 100000 Mbit/s"


def test_a_link_that_loses_even_at_the_floor_has_no_best() -> None:
    asked: list[int] = []
    found = udpmax.search(link(0.5, asked))
    assert asked == [1000, 500, 250, 125, 62, 31, 15, 7, 3, 1]
    assert found.best is None and all(not p.carried for p in found.probes)
    assert found.ended == "lost more than 1% even at the floor of 1 Mbit/s"


def test_the_cap_ends_a_search_with_the_best_so_far() -> None:
    found = udpmax.search(link(3000, None), max_probes=3)
    assert [p.offered_mbps for p in found.probes] == [1000, 2000, 4000]
    assert found.best is not None and found.best.offered_mbps == 2000
    assert found.ended == "stopped at the cap of 3 probes while bisecting"
    early = udpmax.search(link(1e9, None), max_probes=2)
    assert len(early.probes) == 2 and early.ended == "stopped at the cap of 2 probes while bracketing"


@pytest.mark.parametrize("capacity", [1, 2, 7, 99, 640, 999, 1000, 1001, 1999, 5000, 12345, 64001, 99999])
def test_every_search_is_bounded_and_within_a_sixteenth_below_the_capacity(capacity: int) -> None:
    found = udpmax.search(link(capacity, None))
    assert len(found.probes) <= udpmax.MAX_PROBES
    assert found.best is not None and found.best.carried  # nothing that lost more than 1% is reported
    assert found.best.offered_mbps <= min(capacity / 0.99, udpmax.CEILING_MBPS)
    assert found.best.offered_mbps >= min(capacity, udpmax.CEILING_MBPS) * 15 / 16 - 1


def test_a_probe_that_fails_ends_the_search() -> None:
    def probe(rate: int) -> udpmax.Probe:
        if rate > 1000:
            raise MeasurementError("iperf3 client failed: refused")
        return udpmax.Probe(rate, rate, 0.0)

    with pytest.raises(MeasurementError, match="refused"):
        udpmax.search(probe)


@pytest.mark.parametrize("duration, seconds", [(1, 1), (3, 1), (5, 1), (6, 2), (10, 3)])
def test_a_probe_measures_a_third_of_the_trial(duration: int, seconds: int) -> None:
    assert udpmax.probe_seconds(duration) == seconds


def test_the_metric_says_the_loss_limit() -> None:
    assert f"at most {udpmax.LOSS_LIMIT_PERCENT:g}%" in UDP_MAX_OFFERED.summary


# ---------------------------------------------------------------- the word on the command line and in ids

@pytest.mark.parametrize("text, expected", [
    ("max", (sweeps.UDP_MAX,)), ("MAX", (sweeps.UDP_MAX,)), ("1000,max", (1000, sweeps.UDP_MAX)),
    ("max, 1000, max", (sweeps.UDP_MAX, 1000)),
])
def test_max_parses_alone_or_with_rates(text: str, expected: tuple[int, ...]) -> None:
    assert RATE.parse(text) == expected


@pytest.mark.parametrize("text, message", [
    ("maxx", "--udp-rate 'maxx': not a whole number or max"),
    ("0", "--udp-rate 0: must be between 1 and 100000 Mbit/s or max"),
    ("1000,max,-5", "--udp-rate -5: must be between 1 and 100000 Mbit/s or max"),
])
def test_bad_rates_are_one_line_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        RATE.parse(text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_help_says_what_max_is() -> None:
    action = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    text = " ".join(action.choices["run"].format_help().split())
    found = text[text.index("--udp-rate LIST sweep"):]
    assert found.startswith("--udp-rate LIST sweep: comma-separated values, 1-100000 Mbit/s or max,")
    assert "max: in each trial, the highest rate that loses at most 1%" in found
    assert "12 probes at most, every probe recorded" in found


def test_other_sweeps_take_no_word() -> None:
    with pytest.raises(UsageError, match="--streams 'max': not a whole number$"):
        sweeps.SWEEPS["streams"].parse("max")


@pytest.mark.parametrize("values, expected", [
    ({"udp_rate": sweeps.UDP_MAX}, "udp-stream+ratemax"),
    ({"udp_rate": 1000}, "udp-stream+rate1000M"),
    ({"size": 1472, "udp_rate": sweeps.UDP_MAX, "family": 6}, "udp-stream+size1472+ratemax+ipv6"),
])
def test_the_max_variant_id_round_trips(values: dict[str, int], expected: str) -> None:
    assert sweeps.variant_id("udp-stream", values) == expected
    assert sweeps.split(expected) == ("udp-stream", values)


@pytest.mark.parametrize("workload_id", ["udp-stream+ratemaxM", "udp-stream+rate", "udp-stream+ratemax2"])
def test_near_misses_of_the_max_suffix_are_unknown(workload_id: str) -> None:
    with pytest.raises(KeyError):
        sweeps.split(workload_id)


def test_the_max_variant_records_the_rate_found_and_says_max() -> None:
    found = matrix.workload("udp-stream+ratemax")
    assert found.summary.endswith("; udp-rate max")
    assert [m.id for m in found.extra_metrics] == [*(m.id for m in matrix.WORKLOADS["udp-stream"].extra_metrics),
                                                   "udp_max_offered"]
    assert "udp_max_offered" not in {m.id for m in matrix.workload("udp-stream+rate1000M").metrics()}
    built = matrix.build(("host", "pasta"), ("udp-stream", "tcp-rr"), ("remote",),
                         swept={"udp_rate": (1000, sweeps.UDP_MAX)})
    assert sorted({c.workload for c in built.cells}) == ["tcp-rr", "udp-stream+rate1000M", "udp-stream+ratemax"]
    cells = {(c.workload, c.method): c for c in new_cell_results(built)}
    assert "udp_max_offered" in {m.id for m in cells[("udp-stream+ratemax", "pasta")].extra_metrics}


def test_no_client_runs_at_max() -> None:
    assert udp_flags(TrialSettings(1, 0, sweep=(("udp_rate", 250),))) == ["--bandwidth", "250000000"]
    with pytest.raises(MeasurementError, match="searched for probe by probe"):
        udp_flags(TrialSettings(1, 0, sweep=(("udp_rate", sweeps.UDP_MAX),)))


def test_the_document_the_resume_and_the_reproduce_command_carry_max() -> None:
    args = cli.build_parser().parse_args(["run", "--methods", "pasta", "--workloads", "udp-stream",
                                          "--udp-rate", "1000,max"])
    request = run_command.request_from_args(args)
    options = json.loads(json.dumps(runoptions.record(request)))
    assert options["sweeps"] == {"udp_rate": [1000, sweeps.UDP_MAX]}
    assert from_options(options, request.seed, {}).matrix.cells == request.matrix.cells
    document = copy.deepcopy(latency_document.document())
    document.run["options"]["sweeps"] = options["sweeps"]
    argv = list(command(document).argv)
    assert argv[argv.index("--udp-rate") + 1] == "1000,max"


def test_max_is_not_a_point_on_the_rate_axis() -> None:
    def table(workload: str) -> Any:
        return type("T", (), {"workload": workload, "placement": "remote"})()

    found = plots.sweep_series([table(w) for w in ("udp-stream+rate500M", "udp-stream+rate1000M",
                                                   "udp-stream+ratemax")])
    assert [(s.sweep, [x for x, _ in s.points]) for s in found] == [("udp_rate", [500, 1000])]
    assert plots.sweep_series([table("udp-stream+rate1000M"), table("udp-stream+ratemax")]) == []


# ---------------------------------------------------------------- the trial runner

def runner(tmp_path: Path, capacity: float, calls: list[TrialSettings]) -> TrialExecutor:
    built = matrix.build(["host", "pasta"], ["udp-stream"], ["remote"], swept={"udp_rate": (sweeps.UDP_MAX,)})
    document = RunDocument(run={"options": {}}, stack={}, lab={}, provider={"id": "bare"},
                           cells=new_cell_results(built))
    found = TrialExecutor({"host": (SimpleNamespace(lab=None, path=None), None)}, document=document)  # type: ignore[dict-item]

    def inbound(session: Any, provider: Any, cell: Any, driver: Any, port: int, settings: TrialSettings,
                trial: Trial, capture: Any) -> None:
        """A client run through a fresh server, as _inbound records it."""
        calls.append(settings)
        rate = settings.swept("udp_rate")
        assert rate is not None
        measured = recorded_run(rate, capacity)
        trial.samples.update(measured.samples)
        trial.observations.update({**measured.observations, "listener": {"comm": "pasta", "port": port}})

    found._inbound = inbound  # type: ignore[method-assign]
    return found


CELL = matrix.Cell("udp-stream+ratemax", "remote", "pasta")


def test_a_max_trial_records_every_probe_and_the_best_ones_figures(tmp_path: Path) -> None:
    calls: list[TrialSettings] = []
    trial = runner(tmp_path, 3000, calls).run_trial(CELL, 0, False, TrialSettings(duration_s=3, omit_s=1))
    assert trial.status == "ok", trial.error
    record = trial.observations["udp_max"]
    assert [p["offered_mbps"] for p in record["probes"]] == [1000, 2000, 4000, 3000, 3500, 3250, 3125]
    assert [p["carried"] for p in record["probes"]] == [True, True, False, True, False, False, False]
    assert record["probes"][2] == {"offered_mbps": 4000, "sent_mbps": 4000, "received_mbps": 3000,
                                   "lost_percent": 25.0, "carried": False, "port": 22002}
    assert len({p["port"] for p in record["probes"]}) == 7  # a port of its own each
    assert record["max_offered_mbps"] == 3000 and record["probe_s"] == 1 and record["loss_limit_percent"] == 1.0
    assert record["ended"] == "bisected 4 times between 3000 and 3125 Mbit/s"
    # each probe is a short run at its own rate, without the trial's omitted warm-up
    assert [(s.duration_s, s.omit_s, s.swept("udp_rate")) for s in calls][:2] == [(1, 0, 1000), (1, 0, 2000)]
    assert trial.samples["udp_max_offered"] == 3.0
    assert trial.samples["throughput"] == pytest.approx(3.0) and trial.samples["lost_percent"] == 0
    assert trial.observations["offered_rate_mbps"] == 3000  # the best probe's own observations


def test_the_report_shows_each_searchs_probes(tmp_path: Path) -> None:
    from bench_runner.report.layout import _search_rows

    found = runner(tmp_path, 3000, [])
    result = found.document.cell(CELL.workload, CELL.placement, CELL.method, CELL.stack)
    result.trials.append(found.run_trial(CELL, 0, False, TrialSettings(duration_s=1, omit_s=0)))
    assert _search_rows((result,)) == [[
        "pasta", "0", "1000 ✓0%, 2000 ✓0%, 4000 ✗25%, 3000 ✓0%, 3500 ✗14.3%, 3250 ✗7.69%, 3125 ✗4%", "3000",
        "bisected 4 times between 3000 and 3125 Mbit/s"]]


def test_a_max_trial_that_loses_even_at_the_floor_fails_saying_so(tmp_path: Path) -> None:
    trial = runner(tmp_path, 0.5, []).run_trial(CELL, 0, False, TrialSettings(duration_s=1, omit_s=0))
    assert trial.status == "failed"
    assert trial.error == ("--udp-rate max: no offered rate kept its loss within 1%: the lowest probed, 1 Mbit/s, "
                           "lost 50% (lost more than 1% even at the floor of 1 Mbit/s; 10 probes in the observations)")
    assert len(trial.observations["udp_max"]["probes"]) == 10 and not trial.samples


def test_a_failing_probe_fails_the_trial_with_the_probes_before_it(tmp_path: Path) -> None:
    found = runner(tmp_path, 3000, [])
    recorded = found._inbound

    def inbound(*args: Any) -> None:
        if args[5].swept("udp_rate") > 2000:
            raise MeasurementError("iperf3 client failed: the server exited")
        recorded(*args)

    found._inbound = inbound  # type: ignore[method-assign]
    trial = found.run_trial(CELL, 0, False, TrialSettings(duration_s=1, omit_s=0))
    assert trial.status == "failed" and trial.error == "iperf3 client failed: the server exited"
    assert [p["offered_mbps"] for p in trial.observations["udp_max"]["probes"]] == [1000, 2000]
    assert trial.observations["udp_max"]["ended"].startswith("probe 3 failed")


def test_a_probe_that_ran_at_another_rate_fails_the_trial(tmp_path: Path) -> None:
    found = runner(tmp_path, 3000, [])
    recorded = found._inbound

    def inbound(*args: Any) -> None:
        recorded(*args)
        args[6].observations["offered_rate_mbps"] = 1.0  # iperf3 ran at another rate than asked

    found._inbound = inbound  # type: ignore[method-assign]
    trial = found.run_trial(CELL, 0, False, TrialSettings(duration_s=1, omit_s=0))
    assert trial.status == "failed" and trial.error == "--udp-rate 1000 asked, but iperf3 offered 1.0"


def test_a_capture_of_a_max_cell_is_one_run_at_the_rate_found(tmp_path: Path) -> None:
    from bench_runner.run.capture import TrialCapture

    calls: list[TrialSettings] = []
    found = runner(tmp_path, 3000, calls)
    trial = found.run_trial(CELL, 0, False, TrialSettings(duration_s=1, omit_s=0), capture=TrialCapture())
    assert [s.swept("udp_rate") for s in calls] == [udpmax.START_MBPS]  # nothing found yet: the start
    assert trial.status == "ok" and trial.observations["udp_max"]["capture_at_mbps"] == 1000
    found.document.cell(CELL.workload, CELL.placement, CELL.method, CELL.stack).trials.append(
        Trial(index=1, round=0, warmup=False, started_at="t", seconds=1.0, status="ok",
              samples={"udp_max_offered": 3.0}))
    calls.clear()
    found.run_trial(CELL, -1, False, TrialSettings(duration_s=1, omit_s=0), capture=TrialCapture())
    assert [s.swept("udp_rate") for s in calls] == [3000]


# ---------------------------------------------------------------- the time estimate

def test_a_max_trial_is_estimated_as_the_probes_it_takes() -> None:
    plain = eta.Work(trials=10, extra_trials=0, probes=0, capture_trials=0, stack_boots=0, trial_s=4.0)
    searching = eta.Work(trials=10, extra_trials=0, probes=0, capture_trials=0, stack_boots=0, trial_s=4.0,
                         search_trials=4, probe_s=1.0)
    per_probe = 1.0 + eta.TRIAL_OVERHEAD_S
    expected, most = searching.seconds()
    assert expected == pytest.approx(plain.seconds()[0] - 4 * plain.prior_trial_s()
                                     + 4 * udpmax.EXPECTED_PROBES * per_probe)
    assert most == pytest.approx(6 * plain.prior_trial_s() + 4 * udpmax.MAX_PROBES * per_probe)
    assert searching.upper_why() == "with the longest --udp-rate max searches"
    assert plain.upper_why() == "with extra rounds"


def test_the_runs_estimate_counts_the_max_cells_searches() -> None:
    from bench_runner.run.trials import Plan

    args = cli.build_parser().parse_args(["run", "--methods", "pasta", "--workloads", "udp-stream,tcp-rr",
                                          "--placements", "remote", "--udp-rate", "1000,max", "--quick"])
    request = run_command.request_from_args(args)
    plan = Plan(request.matrix, request.settings, request.warmup_rounds, request.rounds, request.seed,
                max_rounds=request.max_rounds, precision=request.precision)
    work = run_command.planned_work(plan, request)
    assert plan.total_trials == 6 and work.search_trials == 2  # host and pasta at max, one round
    assert work.probe_s == 1 and work.search_extra_trials == 0
