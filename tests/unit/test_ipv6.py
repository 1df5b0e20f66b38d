"""IPv6 (``--family 4,6``): the sweep's ids, which cells apply, what each method and provider
is asked for IPv6, where the client connects, and the observation parsers on ``ss`` and
``ip -j addr`` output recorded in the lab with IPv6 traffic."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench_runner.lab import hosts as lab_mod
from bench_runner.run import matrix, observers, runoptions, trials
from bench_runner.workloads import sweeps
from bench_runner.analysis.ranking import RankTable
from bench_runner.commands import run as run_cmd
from bench_runner.errors import MeasurementError, UsageError
from bench_runner.methods import host, pasta, slirp4netns_rootlesskit, slirp4netns_slirp4netns
from bench_runner.methods.base import BareArgs
from bench_runner.parsers import iproute, ss
from bench_runner.report.plots import sweep_series
from bench_runner.providers import activation, bare, units
from bench_runner.providers.base import Session
from bench_runner.run.request import from_options
from bench_runner.results.document import Trial
from bench_runner.workloads.serverspec import IP_FAMILY, ServerSpec
from bench_runner.lab.user import BenchUser
from bench_runner.workloads import DRIVERS, ClientContext, TrialSettings
from tests.conftest import read_data

V6 = ServerSpec(("iperf3", "-s", "-p", "5201"), 5201, ("tcp",), options=(f"{IP_FAMILY}:6",))
V4 = ServerSpec(("iperf3", "-s", "-p", "5201"), 5201, ("tcp",))
FAMILY = sweeps.SWEEPS["family"]


# ------------------------------------------------------------------ the sweep and its ids
def test_family_takes_4_and_6_only() -> None:
    assert FAMILY.parse("4,6") == (4, 6)
    assert FAMILY.parse("6, 6") == (6,)
    with pytest.raises(UsageError, match=r"--family 5: must be 4 or 6"):
        FAMILY.parse("4,5")
    with pytest.raises(UsageError, match="not a whole number"):
        FAMILY.parse("v6")


def test_ipv4_keeps_todays_ids_and_ipv6_adds_a_suffix() -> None:
    built = matrix.build(["host", "pasta"], ["tcp-stream", "tcp-rr"], ["remote"], swept={"family": (4, 6)})
    assert sorted({c.workload for c in built.cells}) == ["tcp-rr", "tcp-rr+ipv6", "tcp-stream", "tcp-stream+ipv6"]
    plain = matrix.build(["host", "pasta"], ["tcp-stream", "tcp-rr"], ["remote"])
    assert {c.workload for c in plain.cells} == {"tcp-stream", "tcp-rr"}
    assert sweeps.variant_id("tcp-stream", {"mtu": 1500, "family": 6}) == "tcp-stream+mtu1500+ipv6"
    assert sweeps.variant_id("tcp-stream", {"mtu": 1500, "family": 4}) == "tcp-stream+mtu1500"
    assert sweeps.split("tcp-stream+mtu1500+ipv6") == ("tcp-stream", {"mtu": 1500, "family": 6})
    assert matrix.workload("tcp-stream+ipv6").summary.endswith("; family 6")
    with pytest.raises(KeyError):
        sweeps.split("tcp-stream+ipv4")  # one id per workload: IPv4 has none of its own


def test_a_method_that_cannot_carry_ipv6_is_not_applicable_with_its_reason() -> None:
    built = matrix.build(["host", "slirp4netns-slirp4netns"], ["tcp-stream", "tcp-stream-outbound"], ["remote"],
                         swept={"family": (4, 6)})
    skipped = {(c.workload, c.method): why for c, why in built.not_applicable}
    why = skipped[("tcp-stream+ipv6", "slirp4netns-slirp4netns")]
    assert why.startswith("--family 6: ") and "add_hostfwd" in why and "bad arguments.proto" in why
    measured = {(c.workload, c.method) for c in built.cells}
    # its IPv4 cell, and its IPv6 outbound cell (slirp4netns --enable-ipv6 connects out), apply
    assert {("tcp-stream", "slirp4netns-slirp4netns"), ("tcp-stream-outbound+ipv6", "slirp4netns-slirp4netns"),
            ("tcp-stream+ipv6", "host")} <= measured


def _run_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    run_cmd.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_the_run_option_and_a_resumed_run_give_the_same_cells() -> None:
    assert run_cmd.swept_values(_run_args("--family", "4,6")) == {"family": (4, 6)}
    assert run_cmd.swept_values(_run_args()) == {}
    built = run_cmd.selected_matrix(_run_args("--methods", "pasta", "--workloads", "tcp-stream", "--family", "6"))
    assert {c.workload for c in built.cells} == {"tcp-stream+ipv6"}
    options = {"methods": ["host", "pasta"], "workloads": ["tcp-stream"], "placements": ["remote", "loopback"],
               "duration_s": 1, "omit_s": 0, "rounds": 1, "warmup_rounds": 0, "provider": "bare",
               "sweeps": {"family": [4, 6]}}
    request = from_options(options, 1, {})
    assert request.matrix.cells == matrix.build(["host", "pasta"], ["tcp-stream"], ["remote", "loopback"],
                                                swept={"family": (4, 6)}).cells
    assert runoptions.record(request)["sweeps"] == {"family": [4, 6]}


def test_the_family_sweep_is_plotted_with_ipv4_as_the_unsuffixed_workload() -> None:
    def table(workload: str) -> RankTable:
        return RankTable(workload, "remote", "throughput", "Gbit/s", True, (), ())

    tables = [table("tcp-stream"), table("tcp-stream+ipv6"), table("tcp-stream+mtu1500"),
              table("tcp-stream+mtu1500+ipv6")]
    found = {(s.sweep, s.held): [x for x, _ in s.points] for s in sweep_series(tables)}
    assert found == {("family", ()): [4, 6], ("family", (("mtu", 1500),)): [4, 6]}
    # a run without --family has no family line
    assert [s.sweep for s in sweep_series([table("tcp-stream+mtu1500"), table("tcp-stream+mtu9000")])] == ["mtu"]


# ------------------------------------------------------------------ where the client connects
def _context(placement: str, family: int) -> ClientContext:
    lab = lab_mod.Lab("0123abcd", "s", "c", "si", "ci", 1500)
    session = Session(lab, BenchUser("netbench", 1001, 1001, "/home/netbench"), None, Path("/u"), Path("/w"))  # type: ignore[arg-type]
    sweep = (("family", family),) if family != 4 else ()
    return session.client_context(placement, 20001, TrialSettings(sweep=sweep))


@pytest.mark.parametrize("placement, family, target", [
    ("remote", 4, "198.51.100.1"), ("loopback", 4, "127.0.0.1"),
    ("remote", 6, "2001:db8:5100::1"), ("loopback", 6, "::1"),
])
def test_the_client_connects_in_the_trials_family(placement: str, family: int, target: str) -> None:
    assert _context(placement, family).target == target


def test_the_lab_has_documentation_prefix_ipv6_addresses() -> None:
    lab = lab_mod.Lab("0123abcd", "s", "c", "si", "ci", 1500)
    assert (lab.server_address(6), lab.client_address(6)) == ("2001:db8:5100::1", "2001:db8:5100::2")
    assert (lab.server_address(4), lab.client_address(4)) == ("198.51.100.1", "198.51.100.2")
    record = lab.to_json()
    assert record["subnet6"] == "2001:db8:5100::/48" and record["second_server_addr6"] == "2001:db8:5100:1::1"
    for address in (lab.server_addr6, lab.client_addr6, lab.second_server_addr6, lab.second_client_addr6):
        assert address.startswith("2001:db8:")  # RFC 3849: documentation only, routed nowhere


def test_a_trial_spec_carries_the_family_only_for_ipv6() -> None:
    settings6 = TrialSettings(sweep=(("family", 6),))
    assert trials.with_sweep(V4, settings6).family == 6
    assert trials.with_sweep(V4, TrialSettings()) == V4
    echo = trials.with_sweep(DRIVERS["tcp-rr"].server(20001), settings6)
    command = echo.command("/w")
    assert command[command.index("--address") + 1] == "::"
    plain = DRIVERS["tcp-rr"].server(20001).command("/w")
    assert plain[plain.index("--address") + 1] == "0.0.0.0"
    client = DRIVERS["tcp-stream-outbound"].container_client("2001:db8:5100::2", 20001, settings6)
    assert client.argv[client.argv.index("--client") + 1] == "2001:db8:5100::2"


# ------------------------------------------------------------------ what each method is asked
def test_pasta_forwards_both_families_without_an_address() -> None:
    for spec in (V4, V6):
        argv = pasta.METHOD.bare_argv(BareArgs(spec, "pasta", netns_pid=42, pid_file="/p"))
        assert argv[argv.index("-t") + 1] == "5201:5201"  # an address would confine it to one family
        assert pasta.METHOD.podman_network(spec) == "pasta"


def test_slirp4netns_is_asked_for_ipv6_only_in_ipv6_trials() -> None:
    args = dict(netns_pid=42, api_socket="/s.sock", ready_fd=7)
    assert "--enable-ipv6" in slirp4netns_slirp4netns.METHOD.bare_argv(BareArgs(V6, "slirp4netns", **args))
    assert "--enable-ipv6" not in slirp4netns_slirp4netns.METHOD.bare_argv(BareArgs(V4, "slirp4netns", **args))
    kit6 = slirp4netns_rootlesskit.METHOD.bare_argv(BareArgs(V6, "rootlesskit", state_dir="/st", command=("x",)))
    kit4 = slirp4netns_rootlesskit.METHOD.bare_argv(BareArgs(V4, "rootlesskit", state_dir="/st", command=("x",)))
    assert "--ipv6" in kit6[:kit6.index("--")] and "--ipv6" not in kit4
    assert (slirp4netns_rootlesskit.METHOD.podman_network(V6)
            == "slirp4netns:port_handler=rootlesskit,enable_ipv6=true")
    assert slirp4netns_slirp4netns.METHOD.podman_network(V4) == "slirp4netns:port_handler=slirp4netns"


def test_a_bridge_network_is_dual_stack_for_ipv6() -> None:
    from bench_runner.methods import bridge

    assert bridge.create_options(V6) == ["--ipv6"]  # without it the container cannot connect out over IPv6
    assert bridge.create_options(V4) == []


def test_only_observed_reasons_mark_a_method_without_ipv6() -> None:
    from bench_runner import methods

    without = {m.id for m in methods.BUILTIN if m.no_ipv6 or m.no_ipv6_outbound}
    assert without == {slirp4netns_slirp4netns.METHOD.id}
    assert not host.METHOD.no_ipv6 and not pasta.METHOD.no_ipv6


def test_forwarders_and_socket_units_listen_on_every_ipv6_address() -> None:
    assert V6.any_host(20001) == "[::]:20001" and V4.any_host(20001) == "0.0.0.0:20001"
    assert activation.activator_argv(V6, 20001, "/w")[:3] == ["systemd-socket-activate", "-l", "[::]:20001"]
    assert activation.activator_argv(V4, 20001, "/w")[:3] == ["systemd-socket-activate", "-l", "0.0.0.0:20001"]
    request = units.SocketRequest("n", 20001, ("tcp",), ("x",), "img", (), "/o", "/e", any_address=V6.any_address)
    assert "ListenStream=[::]:20001" in units.socket_unit(request, "d").splitlines()
    assert "ListenStream=0.0.0.0:20001" in units.socket_unit(
        units.SocketRequest("n", 20001, ("tcp",), ("x",), "img", (), "/o", "/e"), "d").splitlines()


def test_an_outbound_container_waits_for_the_route_of_its_family() -> None:
    client = ServerSpec(("iperf3", "-c", "x"), 0, (), publish=False, wait_listening=False,
                        options=(f"{IP_FAMILY}:6",))
    assert "ip -6 route show default" in bare.gate(client)
    assert "ip -6 addr show tentative" in bare.gate(client)  # pasta resets it during DAD
    assert "ip -4 route show default" in bare.gate(ServerSpec(("x",), 0, (), publish=False, wait_listening=False))
    assert bare.gate(V6) == bare.LO_UP_EXEC


# ------------------------------------------------------------------ observations, recorded
def _block(title: str) -> str:
    block = next(b for b in read_data("ss-ipv6.txt").split("# ") if b.startswith(title))
    return block.split("\n", 1)[1]


def test_ss_ipv6_forms_are_parsed() -> None:
    sockets = ss.parse_sockets(_block("server host, bare pasta"))
    assert {(s.protocol, s.address, s.port) for s in ss.parse_listeners(_block("server host, bare pasta"))} == {
        ("udp", "0.0.0.0", 5201), ("udp", "::", 5201), ("udp", "::1", 5304), ("tcp", "2001:db8:5100::1", 5303),
        ("tcp", "::", 5301), ("tcp", "*%nbzz6lab01s", 5302), ("tcp", "*", 5201)}
    established = [s for s in sockets if s.state == "ESTAB"]
    assert {(s.address, s.peer_address, s.peer_port) for s in established} == {
        ("2001:db8:5100::1", "2001:db8:5100::2", 55408), ("2001:db8:5100::1", "2001:db8:5100::2", 55402)}
    assert all(s.owners[0].comm == "passt.avx2" for s in established)
    inside = ss.parse_sockets(_block("inside the container"))
    assert {s.address for s in inside if s.state == "ESTAB"} == {"fe80::e8e6:1bff:fe37:995"}
    scoped = ss.parse_listeners(_block("server host, python3 listening on the lab device's link-local"))
    assert {(s.address, s.port) for s in scoped} == {("::ffff:198.51.100.1", 5306),
                                                      ("fe80::1477:deff:febf:a3f3%nbzz6lab01s", 5305)}


def test_listeners_are_found_for_the_family_their_socket_takes() -> None:
    listeners = ss.parse_listeners(_block("server host, bare pasta")) + ss.parse_listeners(
        _block("server host, python3 listening on the lab device's link-local"))
    for family in (4, 6):  # pasta's TCP socket takes both; its UDP sockets are one per family
        assert [o.comm for s in ss.find(listeners, "tcp", 5201, family) for o in s.owners] == ["passt.avx2"]
        assert len(ss.find(listeners, "udp", 5201, family)) == 1
    assert ss.find(listeners, "udp", 5201, 6)[0].address == "::"
    assert ss.find(listeners, "tcp", 5301, 4) == [] and ss.find(listeners, "tcp", 5301, 6)  # [::]: IPv6 only
    assert ss.find(listeners, "tcp", 5302, 4) and ss.find(listeners, "tcp", 5302, 6)  # *%dev: both
    assert ss.find(listeners, "tcp", 5303, 4) == [] and ss.find(listeners, "tcp", 5305, 6)
    assert ss.find(listeners, "udp", 5306, 6) == [] and ss.find(listeners, "udp", 5306, 4)  # IPv4-mapped
    assert len(ss.find(listeners, "udp", 5201)) == 2  # no family: every socket on the port


def test_an_outbound_ipv6_connection_is_found_with_a_bracketed_filter() -> None:
    sockets = ss.parse_sockets(_block("server host, an outbound IPv6 connection"))
    found = ss.connections_to(sockets, "2001:db8:5100::2", 20011)
    assert [(s.address, s.owners[0].comm) for s in found] == [("2001:db8:5100::1", "python3")]
    assert ss.address_filter("2001:db8:5100::2") == "[2001:db8:5100::2]"  # ss refuses it bare
    assert ss.address_filter("198.51.100.2") == "198.51.100.2"


def test_bad_bracketed_endpoints_are_refused() -> None:
    from bench_runner.parsers import ParseError

    with pytest.raises(ParseError):
        ss.parse_sockets('tcp LISTEN 0 1 [::1:80 *:* users:(("x",pid=1,fd=3))\n')
    with pytest.raises(ParseError):
        ss.parse_sockets('tcp LISTEN 0 1 [::1]x:80 *:* users:(("x",pid=1,fd=3))\n')


def test_tentative_addresses_are_read_from_ip_json() -> None:
    addresses = iproute.parse_addresses(read_data("ip-addr-ipv6-tentative.json"))
    assert [(a.ifname, a.address, a.scope, a.tentative) for a in addresses] == [
        ("lo", "::1", "host", False), ("nbzz6lab01s", "2001:db8:5100::1", "global", False),
        ("nbzz6lab01s", "fe80::e8e6:1bff:fe37:995", "link", True)]
    from bench_runner.parsers import ParseError

    with pytest.raises(ParseError):
        iproute.parse_addresses('[{"ifname": "eth0", "addr_info": [{"family": "inet6"}]}]')


# ------------------------------------------------------------------ what an IPv6 trial must show
def _trial(**observations: object) -> Trial:
    return Trial(0, 0, False, "t", 0.0, "ok", observations=dict(observations))


def test_an_ipv6_trial_counts_only_if_ipv6_crossed_the_link() -> None:
    inbound = _trial(client_address="2001:db8:5100::2", peer_address="127.0.0.1")
    trials.check_ipv6(inbound)  # a forwarder's own address is what the server may see
    assert inbound.observations["ip_family"] == {"asked": 6, "client_address": "2001:db8:5100::2",
                                                 "server_saw": "127.0.0.1"}
    trials.check_ipv6(_trial(remote_saw="2001:db8:5100::1"))
    for bad in (_trial(client_address="198.51.100.2"), _trial(client_address="::ffff:198.51.100.2"),
                _trial(remote_saw="198.51.100.1"), _trial()):
        with pytest.raises(MeasurementError, match="--family 6 asked"):
            trials.check_ipv6(bad)


def test_an_ipv6_client_waits_out_duplicate_address_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    readings = iter([["fe80::1%eth0"], ["fe80::1%eth0"], []])
    monkeypatch.setattr(observers.linkinfo, "tentative_ipv6", lambda pid: next(readings))
    runner = observers.Observers()
    trial = _trial()
    runner.settle_ipv6(42, trial)
    assert trial.observations["ipv6_tentative"]["addresses"] == ["fe80::1%eth0"]
    settled = _trial()
    monkeypatch.setattr(observers.linkinfo, "tentative_ipv6", lambda pid: [])
    runner.settle_ipv6(42, settled)
    assert "ipv6_tentative" not in settled.observations


# ------------------------------------------------------------------ a recorded --family 4,6 run
RECORDED = Path(__file__).resolve().parents[1] / "data" / "results-family-quick.json"


def test_a_recorded_family_run_keeps_source_address_per_family() -> None:
    from bench_runner.analysis import claims
    from bench_runner.results import document as results

    document = results.load(RECORDED)
    found = {(o.method, o.family): o for o in claims.source_address(document)}
    for family in (4, 6):
        assert found[("host", family)].observed is True and found[("pasta", family)].observed is True
        assert found[("slirp4netns-rootlesskit", family)].observed is False  # the forwarder's loopback end
    assert found[("pasta", 4)].evidence.startswith("client 198.51.100.2; server saw 198.51.100.2 (")
    assert found[("pasta", 6)].evidence.startswith("client 2001:db8:5100::2; server saw 2001:db8:5100::2 (")
    assert "tcp-rr+ipv6" in found[("pasta", 6)].evidence and "tcp-rr," not in found[("pasta", 6)].evidence
    # slirp4netns's port handler took no IPv6 client: nothing observed over IPv6, IPv4 as before
    assert ("slirp4netns-slirp4netns", 6) not in found and found[("slirp4netns-slirp4netns", 4)].observed is True
    v6 = [t for c in document.cells if c.workload.endswith("+ipv6") for t in c.trials]
    assert v6 and all(t.observations["ip_family"]["asked"] == 6 for t in v6)
    skipped = [c for c in document.cells if c.status == "not_applicable"]
    assert {(c.workload, c.method) for c in skipped} >= {("tcp-stream+ipv6", "slirp4netns-slirp4netns")}


def test_a_recorded_family_run_plots_each_workload_against_the_ip_version() -> None:
    from bench_runner.analysis import ranking as analysis
    from bench_runner.results import document as results
    from bench_runner.report.plots import plots_for

    document = results.load(RECORDED)
    tables = analysis.rank_tables(document)
    names = [p.name for p in plots_for(tables, document.cells) if p.kind == "sweep"]
    assert sorted(names) == ["tcp-rr-loopback-by-family", "tcp-rr-remote-by-family",
                             "tcp-stream-loopback-by-family", "tcp-stream-remote-by-family"]
