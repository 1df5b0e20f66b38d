"""Sweeps (--container-mtu, --streams, --delay, --loss, --rate): values parsed and bounded, each a workload
variant with an id of its own; the matrix says where a sweep does not apply; each method
sets the container's MTU its own way; iperf3 gets -P; a trial counts only where the swept
value was observed; the request, its document and the reproduce command carry the sweeps."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench_runner import cli
from bench_runner.run import matrix, runoptions
from bench_runner.workloads import sweeps
from bench_runner.commands import run as run_command
from bench_runner.errors import MeasurementError, UsageError
from bench_runner.methods import bridge, host, pasta, slirp4netns_rootlesskit, slirp4netns_slirp4netns
from bench_runner.methods.base import BareArgs
from bench_runner.report.reproduce import command
from bench_runner.run.request import from_options
from bench_runner.results.document import Trial
from bench_runner.workloads.serverspec import CONTAINER_MTU, HOST_LOOPBACK, ServerSpec
from bench_runner.run.observers import Observers
from bench_runner.run.trials import new_cell_results, with_sweep
from bench_runner.workloads import DRIVERS, TrialSettings
from bench_runner.workloads.definition import ONE_ECHO_CONNECTION
from tests.unit import latency_document

SPEC = ServerSpec(("iperf3", "-s", "-p", "5201"), 5201, host_port=15201)
MTU_SPEC = ServerSpec(SPEC.argv, 5201, host_port=15201, options=(f"{CONTAINER_MTU}:1500",))


def parse_args(*argv: str) -> Any:
    return cli.build_parser().parse_args(["run", *argv])


# ---------------------------------------------------------------- parsing the lists

@pytest.mark.parametrize("name, text, expected", [
    ("mtu", "1500,65520", (1500, 65520)),
    ("mtu", " 9000 , 1500 ", (9000, 1500)),  # the order given is kept: it is the plot's order
    ("mtu", "1500,1500,9000,1500", (1500, 9000)),  # duplicates once
    ("mtu", "1280,65520", (1280, 65520)),  # both bounds are allowed
    ("streams", "1,8,", (1, 8)),  # an empty item is skipped, as in --methods
    ("delay", "0", (0,)),
    ("delay", "0.1,10,40", (100, 10_000, 40_000)),  # microseconds: 0.1 ms is 100
    ("delay", "2.5,2.50,02.5", (2500,)),  # one value however it is written
    ("loss", "0,0.1,99.999", (0, 100, 99_999)),  # thousandths of a percent
    ("rate", "0,1000", (0, 1000)),
])
def test_good_lists_parse_in_order_without_duplicates(name: str, text: str, expected: tuple[int, ...]) -> None:
    assert sweeps.SWEEPS[name].parse(text) == expected


def test_no_option_is_no_sweep() -> None:
    assert sweeps.SWEEPS["mtu"].parse(None) == ()


@pytest.mark.parametrize("name, text, message", [
    ("mtu", "70", "--container-mtu 70: must be between 1280 and 65520 bytes"),
    ("mtu", "1500,65521", "--container-mtu 65521: must be between 1280 and 65520 bytes"),
    ("streams", "0", "--streams 0: must be between 1 and 128 streams (iperf3 takes at most 128)"),
    ("streams", "129", "--streams 129: must be between 1 and 128"),
    ("delay", "-1", "--delay -1: must be between 0 and 10000 ms"),
    ("mtu", "abc", "--container-mtu 'abc': not a whole number"),
    ("delay", "0.0001", "--delay '0.0001': not a number in steps of 0.001 ms"),
    ("delay", "ten", "--delay 'ten': not a number in steps of 0.001 ms"),
    ("delay", "nan", "--delay 'nan': not a number"),
    ("delay", "10001", "--delay 10001: must be between 0 and 10000 ms"),
    ("loss", "100", "--loss 100: must be between 0 and 99.999 % (netem's loss in each direction, in steps of "
                    "0.001%; a loss of 100% carries nothing)"),
    ("loss", "-0.1", "--loss -0.1: must be between 0 and 99.999 %"),
    ("loss", "x", "--loss 'x': not a number in steps of 0.001 %"),
    ("rate", "-1", "--rate -1: must be between 0 and 100000 Mbit/s"),
    ("rate", "1.5", "--rate '1.5': not a whole number"),
    ("streams", "1,x", "--streams 'x': not a whole number"),
    ("delay", " , ", "--delay: no value given"),
])
def test_bad_values_are_one_line_usage_errors(name: str, text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        sweeps.SWEEPS[name].parse(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_swept_values_reads_each_option_of_the_command_line() -> None:
    args = parse_args("--container-mtu", "1500,9000", "--delay=-0", "--streams", "4")
    assert run_command.swept_values(args) == {"mtu": (1500, 9000), "streams": (4,), "delay": (0,)}
    assert run_command.swept_values(parse_args()) == {}


@pytest.mark.parametrize("argv", [["--delay", "-1"], ["--delay=-1"]])
def test_a_negative_delay_reaches_the_bound_check_not_argparse(argv: list[str]) -> None:
    with pytest.raises(UsageError, match="--delay -1: must be between 0 and 10000 ms"):
        run_command.swept_values(parse_args(*argv))


# ---------------------------------------------------------------- variant ids

@pytest.mark.parametrize("base, values, expected", [
    ("tcp-stream", {}, "tcp-stream"),
    ("tcp-stream", {"mtu": 1500}, "tcp-stream+mtu1500"),
    ("tcp-stream", {"delay": 10_000, "streams": 8, "mtu": 1500}, "tcp-stream+mtu1500+P8+rtt20ms"),  # SWEEPS order
    ("udp-stream", {"delay": 0}, "udp-stream+rtt0ms"),
    # the delay's suffix is the round trip it adds: twice the delay, added in each direction
    ("tcp-rr", {"delay": 100, "rate": 1000}, "tcp-rr+rtt0.2ms+bw1000M"),
    ("tcp-stream", {"delay": 40_000, "loss": 100}, "tcp-stream+rtt80ms+loss0.1pct"),
    ("tcp-stream", {"delay": 1}, "tcp-stream+rtt0.002ms"),
])
def test_variant_ids_and_split_round_trip(base: str, values: dict[str, int], expected: str) -> None:
    assert sweeps.variant_id(base, values) == expected
    assert sweeps.split(expected) == (base, values)
    assert sweeps.base_of(expected) == base


def test_a_neutral_loss_or_rate_adds_no_suffix() -> None:
    assert sweeps.variant_id("tcp-stream", {"delay": 10_000, "loss": 0, "rate": 0}) == "tcp-stream+rtt20ms"


@pytest.mark.parametrize("workload_id", ["tcp-stream+jumbo", "tcp-stream+mtu", "tcp-stream+P8x", "tcp-stream+",
                                         "tcp-stream+rtt0.001ms",  # half a microsecond each way: no value
                                         "tcp-stream+rtt20.0ms", "tcp-stream+mtu01500", "tcp-stream+delay20ms"])
def test_split_of_an_unknown_suffix_is_a_key_error(workload_id: str) -> None:
    with pytest.raises(KeyError):
        sweeps.split(workload_id)


def test_combinations_cross_every_sweep() -> None:
    assert sweeps.combinations({}) == [{}]
    assert sweeps.combinations({"mtu": (1500,)}) == [{"mtu": 1500}]
    found = sweeps.combinations({"mtu": (1500, 9000), "streams": (1, 8), "delay": (0, 20, 50)})
    assert len(found) == 12
    assert len({tuple(sorted(c.items())) for c in found}) == 12
    assert found[0] == {"mtu": 1500, "streams": 1, "delay": 0}


# ---------------------------------------------------------------- the matrix

def test_every_workload_is_measured_once_per_combination() -> None:
    built = matrix.build(("host", "pasta"), ("tcp-stream",), ("remote",), swept={"mtu": (1500, 65520),
                                                                                  "streams": (1, 8)})
    assert sorted({c.workload for c in built.cells}) == ["tcp-stream+mtu1500+P1", "tcp-stream+mtu1500+P8",
                                                         "tcp-stream+mtu65520+P1", "tcp-stream+mtu65520+P8"]
    assert len(built.cells) == 8 and built.not_applicable == ()
    assert matrix.build(("host",), ("tcp-stream",), ("remote",), swept={}).cells == (
        matrix.Cell("tcp-stream", "remote", "host"),)


def test_where_a_sweep_does_not_apply_the_cell_says_why() -> None:
    built = matrix.build(("host", "pasta"), ("tcp-stream", "tcp-rr", "tcp-stream-parallel", "echo-stream"),
                         ("remote", "loopback"), swept={"streams": (8,), "delay": (10_000,)})
    reasons = {(c.workload, c.placement, c.method): why for c, why in built.not_applicable}
    measured = {(c.workload, c.placement, c.method) for c in built.cells}
    # --streams multiplies the workloads iperf3 drives with -P and the echo round trips (concurrent
    # clients), not the one-connection echo-stream; --delay all, on the remote placement
    assert measured == {(w, "remote", m) for w in ("tcp-stream+P8+rtt20ms", "tcp-rr+P8+rtt20ms",
                                                   "tcp-stream-parallel+rtt20ms", "echo-stream+rtt20ms")
                        for m in ("host", "pasta")}
    assert reasons[("tcp-stream+P8+rtt20ms", "loopback", "host")] == (
        "--delay 10: it is a condition of the path between the lab hosts; a loopback client does not cross it")
    assert sweeps.why_not({"streams": 8}, matrix.WORKLOADS["tcp-rr"], "remote") is None
    assert sweeps.why_not({"streams": 8}, matrix.WORKLOADS["echo-stream"], "remote") == (
        f"--streams 8: {ONE_ECHO_CONNECTION}")
    assert sweeps.why_not({"streams": 8}, matrix.WORKLOADS["tcp-stream-parallel"], "remote").startswith(
        "--streams 8: tcp-stream-parallel runs its own 4 streams")


def test_a_methods_own_reason_comes_before_the_sweeps() -> None:
    built = matrix.build(("socket-activation-user",), ("tcp-stream",), ("loopback",), swept={"delay": (10_000,)})
    (cell, why), = built.not_applicable
    assert cell.workload == "tcp-stream+rtt20ms" and "iperf3 cannot take an inherited" in why


@pytest.mark.parametrize("workload_id", [w.id for w in matrix.WORKLOADS.values() if w.parallel_streams])
def test_every_workload_that_takes_streams_passes_them_to_its_client(workload_id: str) -> None:
    """A workload that says --streams applies must give iperf3 -P, or the echo client as many
    concurrent clients, and report what ran."""
    driver = DRIVERS[workload_id]
    settings = TrialSettings(1, 0, sweep=(("streams", 8),))
    if driver.direction == "outbound":
        argv = list(driver.container_client("198.51.100.2", 20123, settings).argv)  # type: ignore[attr-defined]
        assert argv[argv.index("-P") + 1] == "8"
    elif workload_id in ("tcp-rr", "udp-rr", "tcp-crr"):
        assert _client_args(workload_id, settings, "echo_client.py")[-2:] == ["--clients", "8"]
    else:
        assert _client_args(workload_id, settings)[-2:] == ["--streams", "8"]


def test_only_a_swept_streams_value_makes_several_echo_clients() -> None:
    assert "--clients" not in _client_args("tcp-rr", TrialSettings(1, 0), "echo_client.py")
    assert _client_args("tcp-rr", TrialSettings(1, 0, sweep=(("streams", 1),)), "echo_client.py")[-2:] == [
        "--clients", "1"]


def test_streams_apply_to_the_outbound_workloads() -> None:
    built = matrix.build(("host",), ("tcp-stream-outbound", "tcp-stream-outbound-reverse"), ("remote",),
                         swept={"streams": (8,)})
    assert {c.workload for c in built.cells} == {"tcp-stream-outbound+P8", "tcp-stream-outbound-reverse+P8"}


def test_a_variant_is_its_base_workload_with_the_values_in_its_summary() -> None:
    base = matrix.WORKLOADS["tcp-stream"]
    found = matrix.workload("tcp-stream+mtu1500+P8")
    assert found.id == "tcp-stream+mtu1500+P8"
    assert found.summary == f"{base.summary}; container-mtu 1500, streams 8"
    assert (found.metric, found.extra_metrics, found.placements) == (base.metric, base.extra_metrics, base.placements)
    assert matrix.workload("tcp-rr") is matrix.WORKLOADS["tcp-rr"]
    for unknown in ("quic-stream+mtu1500", "tcp-stream+jumbo"):
        with pytest.raises(KeyError):
            matrix.workload(unknown)


def test_cell_results_of_variants_carry_the_base_metrics() -> None:
    built = matrix.build(("host",), ("tcp-rr", "tcp-stream"), ("remote",), swept={"streams": (4,)})
    results = {c.workload: c for c in new_cell_results(built)}
    assert results["tcp-stream+P4"].metric == "throughput" and results["tcp-stream+P4"].status != "not_applicable"
    assert results["tcp-rr+P4"].metric == "p50" and results["tcp-rr+P4"].status != "not_applicable"
    assert [m.id for m in results["tcp-rr+P4"].extra_metrics] == ["p90", "p99", "transactions_per_s"]


# ---------------------------------------------------------------- each method's MTU

def test_each_method_sets_the_containers_mtu_in_its_podman_network() -> None:
    assert pasta.METHOD.podman_network(MTU_SPEC) == "pasta:--mtu,1500"
    assert (slirp4netns_rootlesskit.METHOD.podman_network(MTU_SPEC)
            == "slirp4netns:port_handler=rootlesskit,mtu=1500")
    looped = ServerSpec(SPEC.argv, 5201, options=(HOST_LOOPBACK, f"{CONTAINER_MTU}:9000"))
    assert (slirp4netns_slirp4netns.METHOD.podman_network(looped)
            == "slirp4netns:port_handler=slirp4netns,allow_host_loopback=true,mtu=9000")
    # a bridge network takes it when it is created, not in --network
    assert bridge.METHOD.podman_network(MTU_SPEC, "netbench-c1-net") == "netbench-c1-net"
    assert bridge.METHOD.podman is not None and bridge.METHOD.podman.create_options is not None
    assert bridge.METHOD.podman.create_options(MTU_SPEC) == ["--opt", "mtu=1500"]
    # host has no container network to set
    assert host.METHOD.podman_network(MTU_SPEC) == "host"


def test_without_the_option_podman_keeps_its_defaults() -> None:
    assert pasta.METHOD.podman_network(SPEC) == "pasta"
    assert slirp4netns_rootlesskit.METHOD.podman_network(SPEC) == "slirp4netns:port_handler=rootlesskit"
    assert bridge.METHOD.podman.create_options(SPEC) == []  # type: ignore[union-attr,misc]


def _bare(method: Any, spec: ServerSpec) -> list[str]:
    return method.bare_argv(BareArgs(spec, "bin", netns_pid=42, pid_file="/p", api_socket="/s", ready_fd=7,
                                     state_dir="/st", command=("sh", "x")))


def test_each_bare_helper_gets_the_mtu_on_its_command_line() -> None:
    argv = _bare(pasta.METHOD, MTU_SPEC)
    assert argv[argv.index("--mtu") + 1] == "1500"
    assert argv.index("--mtu") < argv.index("--netns")
    for method in (slirp4netns_slirp4netns.METHOD, slirp4netns_rootlesskit.METHOD):
        argv = _bare(method, MTU_SPEC)
        assert [a for a in argv if a.startswith("--mtu")] == ["--mtu=1500"], method.id


def test_bare_helpers_keep_their_default_mtu_without_the_option() -> None:
    assert "--mtu" not in _bare(pasta.METHOD, SPEC)
    for method in (slirp4netns_slirp4netns.METHOD, slirp4netns_rootlesskit.METHOD):
        assert [a for a in _bare(method, SPEC) if a.startswith("--mtu")] == ["--mtu=65520"], method.id


def test_with_sweep_adds_the_mtu_option_only_when_the_mtu_is_swept() -> None:
    swept = with_sweep(SPEC, TrialSettings(sweep=(("mtu", 9000), ("streams", 4))))
    assert swept.option(CONTAINER_MTU) == "9000"
    assert swept.argv == SPEC.argv and swept.host_port == SPEC.host_port
    assert with_sweep(SPEC, TrialSettings(sweep=(("streams", 4),))) is SPEC


def test_trial_settings_know_their_swept_values() -> None:
    settings = TrialSettings(3, 1, sweep=(("mtu", 1500), ("delay", 0)))
    assert settings.swept("mtu") == 1500 and settings.swept("delay") == 0
    assert settings.swept("streams") is None and TrialSettings().swept("mtu") is None


# ---------------------------------------------------------------- iperf3 -P

class _Ctx:
    """What a driver's run_client uses of a ClientContext, recording the worker's arguments."""

    def __init__(self, settings: TrialSettings, worker: str) -> None:
        self.settings, self.target, self.host_port = settings, "198.51.100.1", 15201
        self.worker = worker
        self.args: list[str] = []

    def run_worker(self, worker: str, args: list[str], parse: Any, what: str) -> str:
        assert worker == self.worker
        self.args = args
        return "{}"


def _client_args(workload_id: str, settings: TrialSettings, worker: str = "iperf_client.py") -> list[str]:
    ctx = _Ctx(settings, worker)
    DRIVERS[workload_id].run_client(ctx)  # type: ignore[arg-type]
    return ctx.args


def test_the_iperf3_client_runs_the_swept_streams() -> None:
    args = _client_args("tcp-stream", TrialSettings(1, 0, sweep=(("streams", 8),)))
    assert args[args.index("--streams") + 1] == "8"
    assert "--streams" not in _client_args("tcp-stream", TrialSettings(1, 0))
    reverse = _client_args("tcp-stream-reverse", TrialSettings(1, 0, sweep=(("streams", 2),)))
    assert "--reverse" in reverse and reverse[reverse.index("--streams") + 1] == "2"


def test_the_outbound_client_runs_the_swept_streams() -> None:
    settings = TrialSettings(1, 0, sweep=(("streams", 8),))
    argv = list(DRIVERS["tcp-stream-outbound"].container_client("198.51.100.2", 20123, settings).argv)  # type: ignore[attr-defined]
    assert argv[argv.index("-P") + 1] == "8"
    plain = DRIVERS["tcp-stream-outbound"].container_client("198.51.100.2", 20123, TrialSettings(1, 0))  # type: ignore[attr-defined]
    assert "-P" not in plain.argv


# ---------------------------------------------------------------- a swept value counts only as observed

def _runner(tmp_path: Path) -> Observers:
    return Observers()


def _trial(interfaces: list[dict[str, Any]] | None = None, streams: int | None = 8, **more: Any) -> Trial:
    observations: dict[str, Any] = {"streams": streams, **more}
    if interfaces is not None:
        observations["container_links"] = {"interfaces": interfaces, "namespace": "own"}
    return Trial(index=0, round=0, warmup=False, started_at="t", seconds=0.0, status="failed",
                 observations=observations)


CELL = matrix.Cell("tcp-stream+mtu1500+P8", "remote", "pasta")
SETTINGS = TrialSettings(1, 0, sweep=(("mtu", 1500), ("streams", 8)))
LINKS = [{"ifname": "lo", "mtu": 65536}, {"ifname": "eth0", "mtu": 1500}]


def test_an_observed_mtu_and_streams_count(tmp_path: Path) -> None:
    trial = _trial(LINKS)
    _runner(tmp_path).check_swept(CELL, SETTINGS, trial)
    assert trial.observations["container_mtu"] == {"asked": 1500, "seen": [65536, 1500]}


def test_a_container_with_another_mtu_fails_the_trial(tmp_path: Path) -> None:
    trial = _trial([{"ifname": "lo", "mtu": 65536}, {"ifname": "eth0", "mtu": 65520}])
    with pytest.raises(MeasurementError, match="--container-mtu 1500 asked, but the container's interfaces have "
                                               "MTU 65536, 65520"):
        _runner(tmp_path).check_swept(CELL, SETTINGS, trial)
    assert trial.observations["container_mtu"]["seen"] == [65536, 65520]


def test_an_mtu_that_could_not_be_observed_fails_the_trial(tmp_path: Path) -> None:
    trial = _trial(container_links={"error": "no process of the container was left to look into"})
    with pytest.raises(MeasurementError, match="could not be observed: no process of the container"):
        _runner(tmp_path).check_swept(CELL, SETTINGS, trial)


@pytest.mark.parametrize("method", ["host", "socket-activation-user"])
def test_the_server_hosts_own_network_does_not_take_the_mtu(tmp_path: Path, method: str) -> None:
    trial = _trial([{"ifname": "nb0s", "mtu": 1500}])
    _runner(tmp_path).check_swept(matrix.Cell(CELL.workload, "remote", method), SETTINGS, trial)
    found = trial.observations["container_mtu"]
    assert found["asked"] == 1500 and found["applies"] is False and "server host's own interfaces" in found["why"]


@pytest.mark.parametrize("ran", [1, 4, None])
def test_iperf3_running_other_streams_fails_the_trial(tmp_path: Path, ran: int | None) -> None:
    trial = _trial(LINKS, streams=ran)
    with pytest.raises(MeasurementError, match=f"--streams 8 asked, but iperf3 ran {ran}"):
        _runner(tmp_path).check_swept(CELL, SETTINGS, trial)


def test_echo_clients_count_as_the_streams_that_measured(tmp_path: Path) -> None:
    cell = matrix.Cell("tcp-rr+P8", "remote", "pasta")
    settings = TrialSettings(1, 0, sweep=(("streams", 8),))
    ran = Trial(index=0, round=0, warmup=False, started_at="t", seconds=0.0, status="failed",
                observations={"clients": 8})
    _runner(tmp_path).check_swept(cell, settings, ran)
    fewer = Trial(index=0, round=0, warmup=False, started_at="t", seconds=0.0, status="failed",
                  observations={"clients": 7})
    with pytest.raises(MeasurementError, match="--streams 8 asked, but the echo clients that measured were 7"):
        _runner(tmp_path).check_swept(cell, settings, fewer)


def test_nothing_swept_checks_nothing(tmp_path: Path) -> None:
    trial = _trial(None, streams=None)
    _runner(tmp_path).check_swept(matrix.Cell("tcp-stream", "remote", "pasta"), TrialSettings(1, 0), trial)
    assert "container_mtu" not in trial.observations


@pytest.mark.parametrize("workload_id, client", [
    ("tcp-stream", "iperf3-client-tcp.json"), ("udp-stream", "iperf3-client-udp.json"),
    ("tcp-stream-reverse", "iperf3-client-tcp-reverse.json"),
    ("tcp-stream-outbound-reverse", "iperf3-client-tcp-outbound-reverse.json"),
])
def test_every_streams_workload_reports_the_streams_iperf3_ran(workload_id: str, client: str) -> None:
    """What check_swept compares with: without it every --streams trial would fail."""
    from bench_runner.providers.base import ServerExit
    from tests.conftest import read_data

    server = client.replace("client", "server")
    measured = DRIVERS[workload_id].measure(read_data(client), ServerExit(0, read_data(server), ""))
    assert measured.observations["streams"] == json.loads(read_data(client))["start"]["test_start"]["num_streams"]


# ---------------------------------------------------------------- the request, the document, reproducing

SWEEP_ARGS = ("--methods", "pasta", "--workloads", "tcp-stream,tcp-rr", "--container-mtu", "1500,9000",
              "--streams", "1,4", "--delay", "0,0.1", "--seed", "5")


def test_the_requests_options_rebuild_the_same_matrix() -> None:
    request = run_command.request_from_args(parse_args(*SWEEP_ARGS))
    options = json.loads(json.dumps(runoptions.record(request)))  # as the document stores them
    assert options["sweeps"] == {"mtu": [1500, 9000], "streams": [1, 4], "delay": [0, 100]}
    assert options["workloads"] == ["tcp-rr", "tcp-stream"]  # base ids: the variants come from the sweeps
    again = from_options(options, request.seed, {})
    # The cells to measure; "placements" records where something was measured, so the
    # loopback cells --delay rules out are not rebuilt (the document already holds them).
    assert again.matrix.cells == request.matrix.cells
    assert set(again.matrix.not_applicable) == {n for n in request.matrix.not_applicable if n[0].placement == "remote"}
    assert again.swept == request.swept == {"mtu": (1500, 9000), "streams": (1, 4), "delay": (0, 100)}
    # tcp-stream and tcp-rr: methods x mtu x streams x delay
    assert len(request.matrix.cells) == 2 * (2 * 2 * 2 * 2)
    assert "sweeps" not in runoptions.record(run_command.request_from_args(parse_args("--methods", "pasta")))


def test_a_stored_sweep_that_is_not_a_list_of_numbers_is_refused() -> None:
    options = runoptions.record(run_command.request_from_args(parse_args(*SWEEP_ARGS)))
    options["sweeps"] = {"mtu": ["big"]}
    with pytest.raises(UsageError, match="cannot be resumed"):
        from_options(options, 1, {})


def test_the_reproduce_command_carries_the_sweeps() -> None:
    document = copy.deepcopy(latency_document.document())
    document.run["options"]["sweeps"] = {"mtu": [1500, 9000], "streams": [4], "delay": [0, 100, 20_000],
                                         "loss": [0, 1500], "rate": [1000]}
    reproduction = command(document)
    argv = list(reproduction.argv)
    assert argv[argv.index("--container-mtu") + 1] == "1500,9000"
    assert argv[argv.index("--streams") + 1] == "4" and argv[argv.index("--delay") + 1] == "0,0.1,20"
    assert argv[argv.index("--loss") + 1] == "0,1.5" and argv[argv.index("--rate") + 1] == "1000"
    assert reproduction.not_carried == ()
    args = parse_args(*argv[1:])
    assert run_command.swept_values(args) == {"mtu": (1500, 9000), "streams": (4,), "delay": (0, 100, 20_000),
                                              "loss": (0, 1500), "rate": (1000,)}


@pytest.mark.parametrize("argv, expected", [
    (["--loss", "0.1"], {"delay": (0,), "loss": (100,)}),
    (["--rate", "1000"], {"delay": (0,), "rate": (1000,)}),
    (["--rate", "1000", "--delay", "5"], {"delay": (5000,), "rate": (1000,)}),
    (["--streams", "2"], {"streams": (2,)}),
])
def test_a_loss_or_a_rate_without_a_delay_is_delay_zero(argv: list[str], expected: dict[str, Any]) -> None:
    """Every cell of a run that shapes the path names its round trip (+rtt0ms), so none takes
    the id of a cell of the plain link while it crossed a delay box."""
    assert run_command.swept_values(parse_args(*argv)) == expected


def test_a_run_with_a_sweep_records_its_values_on_the_variant_cells() -> None:
    """The document's cells are the variants, so report, compare and history see their ids."""
    request = run_command.request_from_args(parse_args("--methods", "pasta", "--workloads", "tcp-stream",
                                                       "--placements", "remote", "--container-mtu", "1500"))
    cells = new_cell_results(request.matrix)
    assert {(c.workload, c.method) for c in cells} == {("tcp-stream+mtu1500", "host"), ("tcp-stream+mtu1500", "pasta")}

