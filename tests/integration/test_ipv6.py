"""IPv6 in the real lab: its IPv6 addresses work at once and route nowhere else, from the
hosts and from inside a container; ``run --family 4,6`` measures every method that can
carry IPv6 with an IPv6 client, and says why where a method cannot; the outbound workloads
connect out over IPv6."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench_runner.lab import hosts as lab_mod
from bench_runner import procs
from bench_runner.errors import MeasurementError
from bench_runner.run.labsession import open_session
from bench_runner.run.matrix import METHODS, Cell
from bench_runner.methods import slirp4netns_slirp4netns
from bench_runner.providers import BareProvider
from bench_runner.workloads.serverspec import IP_FAMILY, WORKERS, ServerSpec
from bench_runner.workloads import DRIVERS, TrialSettings
from tests.integration.conftest import cli, trial_runner

QUICK6 = TrialSettings(duration_s=1, omit_s=0, sweep=(("family", 6),))
PROBE = r"""
import errno, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6); s.settimeout(5)
t = time.monotonic()
try:
    s.connect((host, port)); print("connected", time.monotonic() - t)
except OSError as exc:
    print("failed", errno.errorcode.get(exc.errno, exc.errno), round(time.monotonic() - t, 3))
"""
SERVE = r"""
import socket, sys
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1]))); s.listen(); print("ready", flush=True)
c, peer = s.accept(); print(peer[0], flush=True)
"""
#: Outside the lab's 2001:db8:5100::/48: another documentation address, a public resolver,
#: unique-local (slirp4netns's own fd00::/64 is one), NAT64, IPv4-mapped.
OUTSIDE = ["2001:db8::1", "2001:db8:5101::1", "2001:4860:4860::8888", "fd00::2", "64:ff9b::808:808",
           "::ffff:8.8.8.8"]
FAILED_AT_ONCE = ("ENETUNREACH", "EACCES", "EHOSTUNREACH", "EPERM")


@pytest.fixture
def lab():  # type: ignore[no-untyped-def]
    built = lab_mod.create(mtu=1500)
    try:
        yield built
    finally:
        assert lab_mod.destroy(built) == []


def probe(argv_prefix: list[str], host: str, port: int) -> list[str]:
    return subprocess.run([*argv_prefix, sys.executable, "-c", PROBE, host, str(port)], capture_output=True,
                          text=True, timeout=30, check=True).stdout.split()


def test_ipv6_works_at_once_and_the_server_sees_the_client_hosts_address(lab) -> None:  # type: ignore[no-untyped-def]
    # No wait after the lab is built: its addresses skip duplicate address detection.
    server = procs.Spawned(lab.in_server([sys.executable, "-c", SERVE, "7006"]))
    try:
        procs.wait_until(lambda: "ready" in server.output()[0], timeout=10, what="the test server")
        assert probe(lab.in_client([]), lab.server_addr6, 7006)[0] == "connected"
        server.wait(10)
        assert server.output()[0].split()[1] == lab.client_addr6
    finally:
        server.stop()
        server.close()


@pytest.mark.parametrize("target", OUTSIDE)
def test_no_ipv6_address_outside_the_lab_is_reachable_and_the_attempt_fails_at_once(lab, target: str) -> None:  # type: ignore[no-untyped-def]
    for prefix in (lab.in_server([]), lab.in_client([])):
        outcome = probe(prefix, target, 80)
        assert outcome[0] == "failed", (target, outcome)
        assert outcome[1] in FAILED_AT_ONCE, (target, outcome)
        assert float(outcome[2]) < 0.5, (target, outcome)


def test_every_ipv6_route_stays_in_the_lab(lab) -> None:  # type: ignore[no-untyped-def]
    """Nothing but the lab's own subnets and link-local addresses is routed; the server host's
    default route (pasta's and slirp4netns's template) leads to the client host and is
    shadowed by prohibit routes for both halves of the address space."""
    inside = ipaddress.ip_network(lab_mod.SUBNET6)
    link_local = ipaddress.ip_network("fe80::/10")
    for ns, prefix in ((lab.server_ns, lab.in_server), (lab.client_ns, lab.in_client)):
        routes = json.loads(subprocess.run(prefix(["ip", "-j", "-6", "route", "show"]), capture_output=True,
                                           text=True, timeout=10, check=True).stdout)
        prohibited = {r["dst"] for r in routes if r.get("type") == "prohibit"}
        for route in routes:
            if route.get("type") == "prohibit":
                continue
            if route["dst"] == "default":
                assert ns == lab.server_ns and route["gateway"] == lab.client_addr6, route
                assert {"::/1", "8000::/1"} <= prohibited, routes
                continue
            network = ipaddress.ip_network(route["dst"])
            assert network.subnet_of(inside) or network.subnet_of(link_local), (ns, route)
            assert "gateway" not in route, (ns, route)
        assert prohibited, (ns, "no prohibit route: a connection out would wait instead of failing")


@pytest.mark.parametrize("method", ["pasta", "slirp4netns-slirp4netns", "slirp4netns-rootlesskit"])
def test_a_container_reaches_no_ipv6_address_outside_the_lab(method: str) -> None:
    """The helpers connect out from the server host, so its prohibit routes hold for the
    container too: the container's connection fails, and not one packet for the address is
    seen on any interface of the server host. (pasta does not tell the container that its
    connect was refused: the client waits for its timeout; slirp4netns refuses at once.)"""
    provider = BareProvider()
    with open_session() as session:
        for target in ("2001:db8::1", "2001:4860:4860::8888"):
            capture = procs.Spawned(session.lab.in_server(["tcpdump", "-i", "any", "-nn", "-l", "-U",
                                                           f"ip6 and dst host {target}"]))
            try:
                procs.wait_until(lambda: "listening on" in capture.output()[1], timeout=10, what="tcpdump")
                argv = ("python3", "-I", f"{WORKERS}/probe.py", "connect", "--host", target, "--port", "80",
                        "--timeout", "3")
                spec = ServerSpec(argv, 0, (), publish=False, wait_listening=False, options=(f"{IP_FAMILY}:6",))
                server = provider.start(session, method, spec)
                try:
                    exit_ = server.collect(timeout=30)
                finally:
                    server.stop()
                report = json.loads(exit_.stdout.strip().splitlines()[-1])
                assert report["connected"] is False, (method, target, report)
            finally:
                capture.stop(grace=1.0)
                seen = capture.output()[0]
                capture.close()
            assert seen.strip() == "", (method, target, f"left the server host: {seen}")


def test_slirp4netns_port_forwarding_refuses_ipv6_as_its_method_says() -> None:
    """Keeps slirp4netns-slirp4netns's ``no_ipv6`` reason true for the installed slirp4netns."""
    provider = BareProvider()
    spec = DRIVERS["tcp-stream"].server(20996)
    spec = ServerSpec(spec.argv, spec.port, spec.protocols, options=(f"{IP_FAMILY}:6",))
    with open_session() as session:
        with pytest.raises(MeasurementError, match="bad arguments.proto") as refused:
            provider.start(session, "slirp4netns-slirp4netns", spec)
    assert "bad arguments.proto" in slirp4netns_slirp4netns.NO_IPV6_FORWARDING
    assert "refused add_hostfwd" in str(refused.value)


def test_a_family_sweep_measures_both_families_and_the_ipv6_client_is_seen(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    result = cli("run", "--quick", "--methods", "host,pasta,slirp4netns-slirp4netns,slirp4netns-rootlesskit",
                 "--workloads", "tcp-stream,tcp-rr", "--family", "4,6", "--skip-claims", "-o", str(out))
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    cells = {(c["workload"], c["placement"], c["method"]): c for c in document["cells"]}
    assert {w for w, _, _ in cells} == {"tcp-stream", "tcp-stream+ipv6", "tcp-rr", "tcp-rr+ipv6"}
    for (workload, placement, method), cell in cells.items():
        if cell["status"] == "not_applicable":
            # only where it was tried and seen to fail, with what fails
            assert workload.endswith("+ipv6") and method == "slirp4netns-slirp4netns", (workload, method)
            assert "add_hostfwd" in cell["reason"] and "bad arguments" in cell["reason"], cell["reason"]
            continue
        assert [t["status"] for t in cell["trials"]] == ["ok"], (workload, placement, method, cell["trials"])
        seen = cell["trials"][0]["observations"]
        client, peer = ipaddress.ip_address(seen["client_address"]), ipaddress.ip_address(seen["peer_address"])
        if not workload.endswith("+ipv6"):
            assert client.version == 4 and "ip_family" not in seen, (workload, method, seen)
            continue
        assert client.version == 6 and client.ipv4_mapped is None, (workload, method, seen)
        assert seen["ip_family"]["asked"] == 6
        expected = document["lab"]["client_addr6"] if placement == "remote" else "::1"
        assert seen["client_address"] == expected, (workload, placement, method)
        if METHODS[method].documented.get("source_address_preserved") or method == "host":
            assert seen["peer_address"] == expected, (workload, placement, method, seen)  # the server saw IPv6
        else:
            # the helper's own end: rootlessport's in the container (Podman), rootlesskit's loopback (bare)
            if seen["listener"]["kind"] == "rootlessport":
                assert seen["peer_address"] == "10.0.2.100", (workload, placement, method, seen)
            else:
                assert peer.is_loopback, (workload, placement, method, seen)
        assert seen["listener"]["uid"] != 0


@pytest.mark.parametrize("method", ["host", "pasta", "slirp4netns-slirp4netns", "slirp4netns-rootlesskit"])
def test_the_container_connects_out_over_ipv6(method: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with trial_runner("bare", "host", tmp_path, request) as (runner, session):
        trial = runner.run_trial(Cell("tcp-stream-outbound+ipv6", "remote", method), 0, False, QUICK6)
        server_addr6 = session.lab.server_addr6
    assert trial.status == "ok", trial.error
    assert trial.observations["remote_saw"] == server_addr6  # it left through the server host, over IPv6
    assert trial.observations["outbound_carrier"]["carrier"] == METHODS[method].outbound_carrier
    assert ipaddress.ip_address(trial.observations["container_address"]).version == 6
    assert trial.samples["throughput"] > 0


@pytest.mark.parametrize("method", ["socket-activation-user", "socket-activation-system"])
def test_an_inherited_socket_serves_ipv6_clients(method: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with trial_runner("bare", "host", tmp_path, request) as (runner, session):
        trial = runner.run_trial(Cell("tcp-rr+ipv6", "remote", method), 0, False, QUICK6)
        client6 = session.lab.client_addr6
    assert trial.status == "ok", trial.error
    assert trial.observations["peer_address"] == client6
    assert trial.observations["listener"]["carrier"] == "inherited"
