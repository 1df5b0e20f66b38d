"""Run options are declared once (bench_runner/run/runoptions.py): what the parser takes, the
document records, the report labels and the reproduce command gives back must agree, for
every option, without a second list to keep in step."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from bench_runner import cli
from bench_runner.results import document as results
from bench_runner.run import runoptions
from bench_runner.commands import run as run_command
from bench_runner.report.reproduce import command

DATA = Path(__file__).resolve().parents[1] / "data"

#: A command line that moves every run option off its default.
EVERY_OPTION = [
    "--methods", "pasta,slirp4netns-rootlesskit", "--workloads", "tcp-stream,udp-stream",
    "--placements", "remote", "--provider", "bare", "--duration", "4", "--omit", "2", "--rounds", "7",
    "--warmup-rounds", "2", "--max-rounds", "9", "--precision", "7.5", "--margin", "8", "--mtu", "9000",
    "--pasta", "/opt/pasta", "--expect", "pasta>host", "--tolerance", "15", "--skip-claims",
    "--container-mtu", "1500,65520", "--streams", "1,4", "--udp-rate", "1000,max", "--family", "4,6",
    "--capture", "pcap", "--time-budget", "4.5",
    "--seed", "11", "--stack", "passt=custom",
]


def _request(argv: list[str]):  # type: ignore[no-untyped-def]
    args = cli.build_parser().parse_args(["run", *argv])
    return run_command.request_from_args(args)


def _document_for(request) -> results.RunDocument:  # type: ignore[no-untyped-def]
    document = copy.deepcopy(results.load(DATA / "results-bare-full.json"))
    document.run["options"] = runoptions.record(request)
    document.run["seed"] = request.seed
    document.provider["id"] = request.provider
    document.stack["stated"] = dict(request.facts)
    return document


def test_every_option_moved_off_its_default_comes_back_through_the_reproduce_command() -> None:
    request = _request(EVERY_OPTION)
    recorded = runoptions.record(request)
    changed = {k for k, v in recorded.items()
               if v != runoptions.record(_request(["--methods", "pasta", "--workloads", "tcp-stream"])).get(k)}
    # The command line above changes every option the parser can set (the rest are derived),
    # except --quick (which drops the timing flags: the next test), --client-host (which
    # refuses IPv6 beside IPv4 addresses: below) and --stacks (a release stack must be built
    # to be named: tests/integration/test_stacks.py).
    settable = {o.key for o in runoptions.declared() if o.flags} - runoptions.NOT_CARRIED
    assert settable - {"quick", "stacks", "client_host"} <= changed
    reproduction = command(_document_for(request))
    again = _request(list(reproduction.argv[1:]))
    assert runoptions.record(again) == recorded
    assert (again.seed, again.facts) == (request.seed, request.facts)
    assert reproduction.not_carried == ()


def test_a_quick_run_reproduces_as_quick_without_its_timing_flags() -> None:
    request = _request(["--methods", "pasta", "--workloads", "tcp-rr", "--quick"])
    argv = command(_document_for(request)).argv
    assert "--quick" in argv and "--duration" not in argv and "--rounds" not in argv
    assert runoptions.record(_request(list(argv[1:]))) == runoptions.record(request)


def test_a_time_budget_in_minutes_is_kept_in_seconds_and_none_is_the_default() -> None:
    from bench_runner.run.request import from_options

    request = _request(["--methods", "pasta", "--workloads", "tcp-rr", "--time-budget", "9"])
    assert request.time_budget_s == 540.0
    argv = command(_document_for(request)).argv
    assert argv[argv.index("--time-budget") + 1] == "9"
    assert from_options(runoptions.record(request), 1, {}).time_budget_s == 540.0
    for default in (_request(["--methods", "pasta", "--workloads", "tcp-rr"]),
                    _request(["--methods", "pasta", "--workloads", "tcp-rr", "--time-budget", "0"])):
        assert default.time_budget_s is None and "--time-budget" not in command(_document_for(default)).argv
        older = {k: v for k, v in runoptions.record(default).items() if k != "time_budget_s"}
        assert from_options(older, 1, {}).time_budget_s is None  # recorded before the budget existed
    with pytest.raises(SystemExit):
        _request(["--methods", "pasta", "--time-budget", "-1"])


def test_one_warm_up_round_by_default_and_a_run_without_reproduces_without() -> None:
    assert _request(["--methods", "pasta", "--workloads", "tcp-rr"]).warmup_rounds == 1
    request = _request(["--methods", "pasta", "--workloads", "tcp-rr", "--warmup-rounds", "0"])
    argv = command(_document_for(request)).argv
    assert argv[argv.index("--warmup-rounds") + 1] == "0"
    assert _request(list(argv[1:])).warmup_rounds == 0


def test_every_recorded_option_has_a_label_and_an_unknown_one_is_shown_by_its_key() -> None:
    options = runoptions.record(_request(EVERY_OPTION))
    rows = dict((label, value) for label, value in runoptions.table_rows({**options, "from_the_future": [1, 2]}))
    labels = {o.key: o.label for o in runoptions.declared() if o.in_table}
    for key in options:
        if key in labels:
            assert labels[key] in rows, key
    assert rows["from_the_future"] == "1, 2"
    assert rows["target half-width of each interval"] == "7.5%"
    assert "methods" not in rows  # shown in sections of their own


def test_an_option_a_newer_suite_recorded_is_named_as_not_carried() -> None:
    request = _request(["--methods", "pasta", "--workloads", "tcp-rr", "--quick"])
    document = _document_for(request)
    document.run["options"]["from_the_future"] = True
    assert command(document).not_carried == ("from_the_future",)


@pytest.mark.parametrize("option", runoptions.declared(), ids=lambda o: o.key)
def test_each_flag_is_on_the_run_parser_once(option: runoptions.RunOption) -> None:
    parser = cli.build_parser()
    run_parser = next(a for a in parser._subparsers._group_actions[0].choices.values()  # type: ignore[union-attr]
                      if any("--resume" in x.option_strings for x in a._actions))
    for flag in option.flags:
        assert sum(flag.name in a.option_strings for a in run_parser._actions) == 1


def test_a_client_host_comes_back_through_the_reproduce_command() -> None:
    request = _request(["--methods", "pasta", "--workloads", "tcp-stream,tcp-rr", "--client-host",
                        "ssh://u@198.51.100.2:2222", "--server-address", "198.51.100.1",
                        "--client-key", "/etc/hostname", "--client-known-hosts", "/etc/passwd"])
    recorded = runoptions.record(request)
    assert recorded["client_host"]["server_address"] == "198.51.100.1"
    reproduction = command(_document_for(request))
    assert "--client-host" in reproduction.argv and "--client-known-hosts" in reproduction.argv
    assert runoptions.record(_request(list(reproduction.argv[1:]))) == recorded


def test_each_checked_workload_gets_its_own_trial_length_and_the_run_again_gets_the_same() -> None:
    from bench_runner import defaults
    from bench_runner.run.request import from_options

    request = _request(["--methods", "pasta", "--workloads", "tcp-stream,tcp-rr,udp-stream"])
    assert request.settings.for_workload("tcp-rr").duration_s == defaults.TRIAL_BY_WORKLOAD["tcp-rr"][0]
    assert request.settings.for_workload("tcp-rr").omit_s == defaults.TRIAL_BY_WORKLOAD["tcp-rr"][1]
    assert (request.settings.for_workload("udp-stream").duration_s,
            request.settings.for_workload("udp-stream").omit_s) == (defaults.DURATION_S, defaults.OMIT_S)
    # a swept variant keeps the long trial: the short one was checked on the plain workload
    assert request.settings.for_workload("tcp-rr+s1024").duration_s == defaults.DURATION_S
    recorded = runoptions.record(request)
    assert recorded["trial_by_workload"]["tcp-rr"] == list(defaults.TRIAL_BY_WORKLOAD["tcp-rr"])
    argv = command(_document_for(request)).argv
    assert "--duration" not in argv and "--omit" not in argv
    assert runoptions.record(_request(list(argv[1:]))) == recorded
    resumed = from_options(recorded, request.seed, {})
    assert resumed.settings == request.settings


def test_a_duration_given_holds_for_every_workload_and_is_carried() -> None:
    request = _request(["--methods", "pasta", "--workloads", "tcp-stream,tcp-rr", "--duration", "3"])
    assert {w: request.settings.for_workload(w).duration_s for w in ("tcp-stream", "tcp-rr")} == {
        "tcp-stream": 3, "tcp-rr": 3}
    assert "trial_by_workload" not in runoptions.record(request)
    argv = list(command(_document_for(request)).argv)
    assert argv[argv.index("--duration") + 1] == "3"
