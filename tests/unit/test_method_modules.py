"""Each method is one module: providers, probes and claims ask it and hold no table keyed by
method id; its Podman arguments, bare command lines and carriers are checked here, without
root."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bench_runner.run import matrix
from bench_runner import methods
from bench_runner.methods import bridge, host, pasta, slirp4netns_rootlesskit, slirp4netns_slirp4netns
from bench_runner.methods.base import INHERITED, SERVER, BareArgs
from bench_runner.providers.podman import run_argv
from bench_runner.workloads.serverspec import BIND_DEVICE, HOST_LOOPBACK, TCP_NS, ServerSpec, UnsupportedOption

PACKAGE = Path(__file__).resolve().parents[2] / "bench_runner"
SPEC = ServerSpec(("iperf3", "-s", "-p", "5201"), 5201, host_port=15201)


def _string_constants(path: Path) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


@pytest.mark.parametrize("path", [*sorted((PACKAGE / "providers").glob("*.py")), *sorted(PACKAGE.glob("claims*.py"))],
                         ids=lambda p: p.name)
def test_providers_and_claims_name_no_method(path: Path) -> None:
    """The issue's "done when": no method id as a string literal where methods are used."""
    found = _string_constants(path) & set(m.id for m in methods.BUILTIN)
    assert not found, f"{path.name} names methods {sorted(found)}: ask the method instead"


def test_every_method_says_how_each_provider_runs_it_or_why_not() -> None:
    for method in methods.BUILTIN:
        assert method.podman is not None or method.no_podman, method.id
        assert method.bare is not None or method.no_bare, method.id
        for provider_id, way in (("podman", method.podman), ("bare", method.bare)):
            if way is not None:
                assert method.carrier(provider_id) == way.carrier
    assert [m.id for m in methods.BUILTIN if m.baseline] == [methods.BASELINE]


def test_podman_network_values() -> None:
    assert host.METHOD.podman_network(SPEC) == "host"
    assert pasta.METHOD.podman_network(SPEC) == "pasta"
    looped = ServerSpec(SPEC.argv, 5201, host_port=15201, options=(HOST_LOOPBACK, f"{TCP_NS}:8080"))
    assert pasta.METHOD.podman_network(looped) == "pasta:--map-gw,-T,8080"
    bound = ServerSpec(SPEC.argv, 5201, host_port=15201, options=(f"{BIND_DEVICE}:veth0",))
    assert pasta.METHOD.podman_network(bound) == "pasta:-t,0.0.0.0%veth0/15201:5201"
    assert (slirp4netns_rootlesskit.METHOD.podman_network(SPEC)
            == "slirp4netns:port_handler=rootlesskit")
    assert (slirp4netns_slirp4netns.METHOD.podman_network(ServerSpec(SPEC.argv, 5201, options=(HOST_LOOPBACK,)))
            == "slirp4netns:port_handler=slirp4netns,allow_host_loopback=true")
    assert bridge.METHOD.podman_network(SPEC, "netbench-c1-net") == "netbench-c1-net"


@pytest.mark.parametrize("method,option", [
    (host.METHOD, f"{BIND_DEVICE}:veth0"),
    (slirp4netns_rootlesskit.METHOD, f"{BIND_DEVICE}:veth0"),
    (slirp4netns_slirp4netns.METHOD, f"{TCP_NS}:8080"),
    (bridge.METHOD, HOST_LOOPBACK),
])
def test_an_option_a_method_lacks_is_refused_with_its_reason(method, option) -> None:  # type: ignore[no-untyped-def]
    spec = ServerSpec(SPEC.argv, 5201, options=(option,))
    with pytest.raises(UnsupportedOption, match=method.unsupported[option.partition(":")[0]]):
        method.podman_network(spec, "n")
    if method.bare is not None and method.bare.argv is not None:
        with pytest.raises(UnsupportedOption):
            method.bare_argv(BareArgs(spec, "x"))


def test_podman_run_publishes_only_where_the_method_publishes() -> None:
    published = run_argv("c1", "pasta", SPEC, "/w", publish=pasta.METHOD.publishes_port)
    assert published[published.index("-p") + 1] == "15201:5201/tcp"
    assert "15201:5201/tcp" not in run_argv("c1", "host", SPEC, "/w", publish=host.METHOD.publishes_port)


def test_bare_command_lines() -> None:
    argv = pasta.METHOD.bare_argv(BareArgs(SPEC, "/opt/pasta", netns_pid=42, pid_file="/run/p.pid"))
    assert argv[0] == "/opt/pasta" and "--no-map-gw" in argv
    assert argv[argv.index("-t") + 1] == "15201:5201" and argv[argv.index("-u") + 1] == "none"
    assert argv[argv.index("--netns") + 1] == "/proc/42/ns/net" and argv[-1] == "/run/p.pid"
    slirp = slirp4netns_slirp4netns.METHOD.bare_argv(
        BareArgs(SPEC, "slirp4netns", netns_pid=42, api_socket="/s.sock", ready_fd=7))
    assert slirp[:3] == ["nsenter", "--user=/proc/42/ns/user", "--preserve-credentials"]
    assert "--disable-host-loopback" in slirp and slirp[-2:] == ["/proc/42/ns/net", "tap0"]
    kit = slirp4netns_rootlesskit.METHOD.bare_argv(BareArgs(SPEC, "rootlesskit", state_dir="/st", command=("sh", "x")))
    assert "--port-driver=builtin" in kit and kit[-3:] == ["--", "sh", "x"]


def test_expected_carriers() -> None:
    expected = {"host": (SERVER, SERVER), "pasta": ("pasta", "pasta"),
                "slirp4netns-rootlesskit": ("rootlessport", "rootlesskit"),
                "slirp4netns-slirp4netns": ("slirp4netns", "slirp4netns"),
                "socket-activation-user": (INHERITED, INHERITED), "socket-activation-system": (INHERITED, INHERITED),
                "bridge": ("rootlessport", None)}
    assert {m.id: (m.carrier("podman"), m.carrier("bare")) for m in methods.BUILTIN} == expected


def test_applicability_comes_from_the_method() -> None:
    sa = methods.get("socket-activation-user")
    assert "iperf3 cannot take an inherited" in sa.why_not(matrix.WORKLOADS["tcp-stream"], "remote")
    assert sa.why_not(matrix.WORKLOADS["tcp-rr"], "remote") is None
    assert "cannot connect out" in sa.why_not(matrix.WORKLOADS["tcp-stream-outbound"], "remote")
    slirp = slirp4netns_slirp4netns.METHOD
    assert "UDP reply" in slirp.why_not(matrix.WORKLOADS["udp-rr"], "loopback")
    assert slirp.why_not(matrix.WORKLOADS["udp-rr"], "remote") is None
    assert bridge.METHOD.why_not(matrix.WORKLOADS["tcp-stream"], "remote") is None
