"""The two-host lab: it connects its hosts, reaches nothing else, and goes away entirely."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from bench_runner.lab import hosts as lab_mod
from bench_runner import procs

PROBE = r"""
import errno, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(); s.settimeout(5)
t = time.monotonic()
try:
    s.connect((host, port)); print("connected", time.monotonic() - t)
except OSError as exc:
    print("failed", errno.errorcode.get(exc.errno, exc.errno), round(time.monotonic() - t, 3))
"""

SERVE = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(); print("ready", flush=True)
c, peer = s.accept(); print(peer[0], flush=True)
"""


@pytest.fixture
def lab():  # type: ignore[no-untyped-def]
    built = lab_mod.create(mtu=1500)
    try:
        yield built
    finally:
        assert lab_mod.destroy(built) == []


def probe(argv_prefix: list[str], host: str, port: int) -> list[str]:
    out = subprocess.run([*argv_prefix, sys.executable, "-c", PROBE, host, str(port)], capture_output=True,
                         text=True, timeout=30, check=True).stdout.split()
    return out


def test_client_host_reaches_server_host_and_is_seen_with_its_address(lab) -> None:  # type: ignore[no-untyped-def]
    server = procs.Spawned(lab.in_server([sys.executable, "-c", SERVE, "7001"]))
    try:
        procs.wait_until(lambda: "ready" in server.output()[0], timeout=10, what="the test server")
        assert probe(lab.in_client([]), lab.server_addr, 7001)[0] == "connected"
        server.wait(10)
        assert server.output()[0].split()[1] == lab.client_addr
    finally:
        server.stop()
        server.close()


@pytest.mark.parametrize("target", ["192.0.2.1", "8.8.8.8", "203.0.113.5", "10.0.2.2"])
def test_nothing_outside_the_lab_is_reachable_and_the_attempt_fails_at_once(lab, target: str) -> None:  # type: ignore[no-untyped-def]
    for prefix in (lab.in_server([]), lab.in_client([])):
        outcome = probe(prefix, target, 80)
        assert outcome[0] == "failed", outcome
        assert outcome[1] in ("ENETUNREACH", "EACCES", "EHOSTUNREACH", "EPERM"), outcome
        assert float(outcome[2]) < 0.5, outcome


def test_lab_has_its_addresses_and_mtu(lab) -> None:  # type: ignore[no-untyped-def]
    text = subprocess.run(lab.in_server(["ip", "-o", "addr", "show", "dev", lab.server_if]), capture_output=True,
                          text=True, timeout=10, check=True).stdout
    assert f"{lab.server_addr}/24" in text
    mtu = subprocess.run(lab.in_client(["cat", f"/sys/class/net/{lab.client_if}/mtu"]), capture_output=True,
                         text=True, timeout=10).stdout.strip()
    assert mtu in ("1500", "")  # /sys shows the caller's namespace under nsenter; ip is authoritative
    link = subprocess.run(lab.in_client(["ip", "-o", "link", "show", "dev", lab.client_if]), capture_output=True,
                          text=True, timeout=10, check=True).stdout
    assert "mtu 1500" in link


def test_names_are_unique_per_lab() -> None:
    first, second = lab_mod.create(), lab_mod.create()
    try:
        assert first.server_ns != second.server_ns and first.server_if != second.server_if
        assert set(lab_mod.existing_lab_namespaces()) >= {first.server_ns, first.client_ns, second.server_ns}
    finally:
        lab_mod.destroy(first)
        lab_mod.destroy(second)
    assert first.server_ns not in lab_mod.existing_lab_namespaces()


def test_destroy_stops_what_still_runs_inside() -> None:
    built = lab_mod.create()
    sleeper = procs.Spawned(built.in_server(["sleep", "300"]))
    time.sleep(0.1)
    assert sleeper.pid in lab_mod.pids_in_netns(built.server_ns)
    assert lab_mod.destroy(built) == []
    assert not sleeper.ref.alive()
    sleeper.close()
    assert built.server_ns not in lab_mod.existing_lab_namespaces()
    assert not os.path.exists(built.server_ns_path)


def test_a_failed_build_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = lab_mod._ip
    calls = {"n": 0}

    def failing(*args: str) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("injected failure")
        real(*args)

    monkeypatch.setattr(lab_mod, "_ip", failing)
    with pytest.raises(RuntimeError):
        lab_mod.create(tag="deadbeef")
    assert [n for n in lab_mod.existing_lab_namespaces() if "deadbeef" in n] == []


