"""--capture for real: pasta writes its own pcap (under the bare helpers here, and under
Podman 5 in the trixie stack), tcpdump captures the other methods in the server host, perf
profiles the process owning the published port; every file opens, shows the lab's addresses,
is listed in the document and the report, and no capturing process is left behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench_runner import results
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
    document = results.load(output)
    return {(c["kind"], c["method"], c["stack"]): c for c in document.captures}


def test_pcap_and_perf_of_pasta_and_host_in_a_quick_run(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    result = cli("run", "--quick", "--methods", "pasta,host", "--workloads", "tcp-stream", "--placements", "remote",
                 "--skip-claims", "--capture", "pcap,perf", "--output", str(output))
    assert result.returncode == 0, result.stderr
    captures = _captures(output)
    assert set(captures) == {(k, m, "host") for k in ("pcap", "perf") for m in ("pasta", "host")}
    for method, tool, link in (("pasta", "pasta --pcap", "Ethernet"), ("host", "tcpdump in the server host",
                                                                        "Linux cooked v2 (SLL2)")):
        record = captures[("pcap", method, "host")]
        assert (record["tool"], record["link_type"], record["trial"]["status"]) == (tool, link, "ok"), record
        path = tmp_path / record["path"]
        assert path.stat().st_size == record["bytes"] <= 32 * 1024 * 1024
        assert pcap.summarize(path.read_bytes()).packets == record["packets"] > 10
        # the capture holds the trial's own connection from the client host
        assert f"{LAB_CLIENT}." in _readable(path)
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
