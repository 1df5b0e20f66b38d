"""--capture for real: pasta writes its own pcap (under the bare helpers here, and under
Podman 5 in the trixie stack), tcpdump captures the other methods in the server host, perf
profiles the process owning the published port; every file opens, shows the lab's addresses,
is listed in the document and the report, and no capturing process is left behind."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench_runner.results import document as results
from bench_runner.parsers import pcap
from tests.integration.conftest import cli, leftovers

LAB_CLIENT = "198.51.100.2"


def _readable(path: Path) -> str:
    """What tcpdump reads from a kept capture (it must read it without an error)."""
    result = subprocess.run(["tcpdump", "-n", "-r", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _writers_of(directory: Path) -> list[str]:
    """Processes (tcpdump, perf) still naming a file in ``directory`` on their command line."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                argv = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(directory) in argv:
                found.append(f"{proc.name}: {argv.replace(chr(0), ' ')}")
    return found


def _captures(output: Path) -> dict[tuple[str, str, str], dict]:
    """By kind, method and stack; pasta's pcap keyed by its own, the lab link's beside it as
    ("pcap-link", method, stack)."""
    document = results.load(output)
    found = {}
    for c in document.captures:
        kind = "pcap-link" if c["kind"] == "pcap" and c.get("path", "").endswith("-link.pcap") else c["kind"]
        found[(kind, c["method"], c["stack"])] = c
    return found


def test_pcap_and_perf_of_pasta_and_host_in_a_quick_run(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    result = cli("run", "--quick", "--methods", "pasta,host", "--workloads", "tcp-stream", "--placements", "remote",
                 "--skip-claims", "--capture", "pcap,perf", "--output", str(output))
    assert result.returncode == 0, result.stderr
    captures = _captures(output)
    assert set(captures) == {(k, m, "host") for k in ("pcap", "perf") for m in ("pasta", "host")} | {
        ("pcap-link", "pasta", "host")}
    for key, tool, link in ((("pcap", "pasta", "host"), "pasta --pcap", "Ethernet"),
                            (("pcap-link", "pasta", "host"), "tcpdump in the server host", "Linux cooked v2 (SLL2)"),
                            (("pcap", "host", "host"), "tcpdump in the server host", "Linux cooked v2 (SLL2)")):
        record = captures[key]
        assert (record["tool"], record["link_type"], record["trial"]["status"]) == (tool, link, "ok"), record
        path = tmp_path / record["path"]
        assert path.stat().st_size == record["bytes"] <= 4 * 1024 * 1024
        assert pcap.summarize(path.read_bytes()).snaplen == 192
        assert pcap.summarize(path.read_bytes()).packets == record["packets"] > 10
        # the capture holds the trial's own connection from the client host
        assert f"{LAB_CLIENT}." in _readable(path)
    # pasta's own frames and the lab link's are of the same client run, the same seconds
    own, link = (pcap.summarize((tmp_path / captures[k]["path"]).read_bytes()) for k in (
        ("pcap", "pasta", "host"), ("pcap-link", "pasta", "host")))
    assert abs(own.first_s - link.first_s) < 2.0, (own, link)
    profiled = captures[("perf", "pasta", "host")]
    assert profiled["profiled"]["comm"].startswith("pas"), profiled  # pasta, or passt.avx2 it re-executes as
    assert "Overhead" in profiled["report_text"] and "%" in profiled["report_text"]
    assert captures[("perf", "host", "host")]["profiled"]["comm"] == "iperf3"
    report = cli("report", str(output), "--no-plots")
    assert report.returncode == 0, report.stderr
    text = output.with_name("run-report.md").read_text()
    assert "## Captures" in text and "run-captures/tcp-stream-remote-pasta.pcap" in text
    assert "perf report of pasta" in text
    assert leftovers() == [] and _writers_of(tmp_path) == []


def test_pasta_under_podman_5_writes_the_pcap_in_the_stack(trixie: str, tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    result = cli("run", "--quick", "--stacks", trixie, "--methods", "pasta,bridge", "--workloads", "tcp-stream",
                 "--placements", "remote", "--skip-claims", "--capture", "pcap", "--output", str(output), timeout=1800)
    assert result.returncode == 0, result.stderr
    captures = _captures(output)
    record = captures[("pcap", "pasta", trixie)]
    assert record["tool"] == "pasta --pcap" and record["trial"]["status"] == "ok", record
    assert f"{LAB_CLIENT}." in _readable(tmp_path / record["path"])
    bridged = captures[("pcap", "bridge", trixie)]  # rootlessport carries it: tcpdump in the server host
    assert bridged["tool"] == "tcpdump in the server host" and f"{LAB_CLIENT}." in _readable(tmp_path / bridged["path"])
    assert leftovers() == [] and _writers_of(tmp_path) == []


class _State:
    """The run state's two calls a capture makes (the process is ended by the capture itself)."""

    def add_process(self, ref, label):  # type: ignore[no-untyped-def]
        return {"pid": ref.pid, "label": label}

    def discard(self, *entries):  # type: ignore[no-untyped-def]
        pass


def _opens_of(path: Path, action) -> int:  # type: ignore[no-untyped-def]
    """How many times ``path`` was opened or read while ``action`` ran (inotify)."""
    import ctypes
    import os

    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    assert fd >= 0
    try:
        assert libc.inotify_add_watch(fd, str(path).encode(), 0x20 | 0x01) >= 0  # IN_OPEN | IN_ACCESS
        action()
        events = 0
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return events
            events += len(data) // 16  # no names for a file watch: 16 bytes an event
    finally:
        os.close(fd)


def test_root_profiles_a_helper_without_opening_the_users_binary(tmp_path: Path) -> None:
    """Finding: perf record (build ids) and perf report (symbols) open the profiled process's
    binary, which is the benchmark user's; a crafted ELF would be parsed by root. The capture
    opens none: the user's copy of a program is watched while it is profiled, and, as the
    control that the watch sees such reads, plain perf record on it is caught opening it."""
    import shutil
    import time

    from bench_runner.run import capture
    from bench_runner import procs
    from bench_runner.lab.user import BENCH_USER, BenchUser

    import tempfile

    user = BenchUser.lookup(BENCH_USER)
    outer = Path(tempfile.mkdtemp(prefix="netbench-perf-test-"))  # root's tmp_path is closed to the user
    os.chmod(outer, 0o755)
    home = outer / "user"
    home.mkdir()
    os.chown(home, user.uid, user.gid)
    binary = home / "busy"
    shutil.copy("/usr/bin/yes", binary)
    os.chown(binary, user.uid, user.gid)
    busy = procs.Spawned(user.argv(["sh", "-c", f"exec {binary} > /dev/null"]))
    try:
        procs.wait_until(lambda: Path(f"/proc/{busy.pid}/exe").exists() and
                         os.readlink(f"/proc/{busy.pid}/exe") == str(binary), timeout=10, what="the user's program")
        time.sleep(0.2)
        session = type("S", (), {"state": _State()})()
        record = capture.Capture("perf", "perf record -g", "tcp-stream", "remote", "pasta", "host")
        profile = capture.PerfProfile(session, record, tmp_path / "p.perf.data")  # type: ignore[arg-type]

        def profiled() -> None:
            with profile.during(busy.pid):
                time.sleep(0.5)
            profile.finish()

        assert _opens_of(binary, profiled) == 0
        assert "busy" in record.report_text and "%" in record.report_text
        plain = tmp_path / "plain.perf.data"
        assert _opens_of(binary, lambda: procs.run(["perf", "record", "-p", str(busy.pid), "-o", str(plain), "--",
                                                    "sleep", "0.5"], timeout=60)) > 0
    finally:
        busy.stop(grace=1.0)
        busy.close()
        shutil.rmtree(outer)
