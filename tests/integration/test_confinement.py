"""Confinement and privilege: no workload process runs as root, containers get no more than
the method asks for, and the set-up's host changes are listed and reversible."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

from bench_runner import procs
from bench_runner.stacks import detect as stack
from bench_runner.run.labsession import open_session
from bench_runner.paths import STATE_DIR, VENV_PYTHON
from bench_runner.providers import PodmanProvider
from bench_runner.workloads import DRIVERS
from tests.integration.conftest import REPO

#: Programs that carry or serve the workloads; each must run unprivileged.
WORKLOAD_PROGRAMS = {"iperf3", "passt", "passt.avx2", "pasta", "pasta.avx2", "slirp4netns", "rootlesskit",
                     "rootlessport", "conmon", "podman", "catatonit", "sockperf"}
WORKER_PATHS = ("/run/podman-netbench/", "/opt/netbench-workers/")


def workload_processes() -> list[tuple[int, int, str]]:
    """(pid, uid, command) of every live process that is part of a workload."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            uid = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            continue
        if procs.is_zombie(pid):
            continue
        if comm in WORKLOAD_PROGRAMS or any(path in argv for path in WORKER_PATHS):
            found.append((pid, uid, argv.strip()))
    return found


def test_no_workload_process_runs_as_root_during_a_run(tmp_path: Path) -> None:
    seen: dict[int, tuple[int, str]] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid, uid, argv in workload_processes():
                seen[pid] = (uid, argv)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = subprocess.run([str(VENV_PYTHON), "-m", "bench_runner", "run", "--quick", "--workloads",
                                 "tcp-stream,tcp-rr", "--placements", "remote", "--skip-claims",
                                 "--output", str(tmp_path / "run.json")],
                                cwd=REPO, capture_output=True, text=True, timeout=900)
    finally:
        done.set()
        sampler.join(10)
    assert result.returncode == 0, result.stderr
    assert len(seen) >= 6, f"the sampler saw too little to judge: {seen}"
    as_root = {pid: argv for pid, (uid, argv) in seen.items() if uid == 0}
    assert as_root == {}, f"workload processes ran as root: {as_root}"
    programs = {argv.split()[0].rsplit("/", 1)[-1] for _, argv in seen.values() if argv.split()}
    assert "iperf3" in programs


def test_a_container_gets_only_what_the_method_asks_for() -> None:
    provider = PodmanProvider(stack.detect().podman)
    spec = DRIVERS["tcp-stream"].server(20999)
    with open_session() as session:
        server = provider.start(session, "slirp4netns-slirp4netns", spec)
        try:
            data = json.loads(procs.run(session.user.argv(["podman", "inspect", server.name]), timeout=60).stdout)[0]  # type: ignore[attr-defined]
        finally:
            server.stop()
    host_config = data["HostConfig"]
    assert host_config["Privileged"] is False
    assert not host_config.get("CapAdd")
    assert host_config["NetworkMode"].startswith("slirp4netns")
    assert host_config.get("PidMode", "") in ("", "private")
    mounts = {m["Destination"]: m for m in data["Mounts"]}
    # The server host's programs and the suite's workers, read-only; nothing else of the host.
    assert set(mounts) == {"/usr", "/etc/ld.so.cache", "/opt/netbench-workers"}
    for destination, mount in mounts.items():
        assert mount["RW"] is False, destination
    assert {p for p in host_config["PortBindings"]} == {f"{spec.port}/tcp"}


def test_set_up_changes_are_listed_and_reversible() -> None:
    log = STATE_DIR / "host-changes.log"
    assert log.exists(), "the set-up records what it changed"
    changes = log.read_text()
    result = subprocess.run([str(REPO / "scripts" / "undo-setup.sh"), "--dry-run"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    assert f"rm -rf {STATE_DIR}" in plan
    if "user-created" in changes:
        assert "userdel" in plan and "/etc/subuid" in plan
    if "tun-mode-was" in changes:
        assert "chmod" in plan and "/dev/net/tun" in plan
    # nothing was changed by a dry run
    assert log.exists() and (STATE_DIR / "venv").exists()
    usage = (REPO / "scripts" / "undo-setup.sh").read_text()
    assert "--packages" in usage and "host-changes.log" in usage
