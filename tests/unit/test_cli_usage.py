"""Bad input gets one clear line and exit code 2, never a traceback; help explains."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench_runner.run.matrix import METHODS

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench_runner", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("args, expected", [
    (["run", "--methods", "pasta,nosuch"], "unknown method 'nosuch'; valid: host, pasta"),
    (["run", "--workloads", "tcp-rr-x"], "unknown workload 'tcp-rr-x'; valid:"),
    (["run", "--placements", "moon"], "unknown placement 'moon'; valid: remote, loopback"),
    (["run", "--provider", "docker"], "unknown provider 'docker'; valid: auto, podman, bare"),
    (["run", "--stack", "passt"], "--stack 'passt': expected KEY=VALUE"),
    (["run", "--stack", "=x"], "expected KEY=VALUE"),
    (["run", "--duration", "0"], "argument --duration: 0 is not positive"),
    (["run", "--rounds", "many"], "argument --rounds: 'many' is not an integer"),
    (["run", "--output", "/nonexistent-dir/x.json"], "directory /nonexistent-dir does not exist"),
    (["run", "--output", "/"], "is a directory"),
    (["run", "--output", str(REPO / "README.md")], "a results document is already there"),  # never replaced
    (["run", "--resume", "x.json", "--rounds", "3"], "these were given too: --rounds"),
    (["run", "--stacks", "host,Bad!"], "--stacks: stack name"),
    (["run", "--capture", "pcap,video"], "--capture 'video': unknown kind; valid: pcap, perf"),
    (["run", "--container-mtu", "70"], "--container-mtu 70: must be between 1280 and 65520 bytes"),
    (["run", "--container-mtu", "abc"], "--container-mtu 'abc': not a whole number"),
    (["run", "--streams", "0"], "--streams 0: must be between 1 and 128 streams"),
    (["run", "--udp-rate", "maxx"], "--udp-rate 'maxx': not a whole number or max"),
    (["run", "--udp-rate", "0"], "--udp-rate 0: must be between 1 and 100000 Mbit/s or max"),
    # a value that looks like a negative number is the option's value, and its bound is what is said
    (["run", "--delay", "-1"], "--delay -1: must be between 0 and 10000 ms"),
    (["run", "--delay=-1"], "--delay -1: must be between 0 and 10000 ms"),
    (["run", "--delay", "20,-1"], "--delay -1: must be between 0 and 10000 ms"),
    (["run", "--methods", "host", "--workloads", "echo-stream", "--streams", "4"],
     "--streams applies to none of the selected workloads (echo-stream): echo-stream runs one connection"),
    (["run", "--workloads", "tcp-stream", "--placements", "loopback", "--delay", "5"],
     "(--delay 5: it is a condition of the path between the lab hosts; a loopback client does not cross it"),
    (["run", "--loss", "100"], "--loss 100: must be between 0 and 99.999 %"),
    (["run", "--loss", "-1"], "--loss -1: must be between 0 and 99.999 %"),
    (["run", "--loss", "lots"], "--loss 'lots': not a number in steps of 0.001 %"),
    (["run", "--rate", "fast"], "--rate 'fast': not a whole number"),
    (["run", "--rate=-1000"], "--rate -1000: must be between 0 and 100000 Mbit/s"),
    (["run", "--delay", "0.5ms"], "--delay '0.5ms': not a number in steps of 0.001 ms"),
    (["run", "--link-mtu", "1500", "--delay", "10"], "--link-mtu with --delay: the link's MTU is swept on the plain lab link"),
    (["stack", "build", "sid", "--snapshot", "2026-10-02"], "--snapshot '2026-10-02': expected YYYYMMDDTHHMMSSZ"),
    (["stack", "build", "sid", "--snapshot", "20261002T000000Z", "--mirror", "http://m.example/debian"],
     "--snapshot and --mirror both name the archive: give one"),
    (["run", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""


def test_unknown_method_lists_every_valid_one() -> None:
    result = cli("run", "--methods", "slirp")
    for method in METHODS:
        assert method in result.stderr


@pytest.mark.parametrize("command", ["run", "list", "doctor"])
def test_help_explains_every_command(command: str) -> None:
    result = cli(command, "--help")
    assert result.returncode == 0
    assert "usage:" in result.stdout and "--" in result.stdout


def test_top_level_help_documents_exit_codes() -> None:
    result = cli("--help")
    assert result.returncode == 0
    assert "Exit codes" in result.stdout and "2 bad usage" in result.stdout


def test_list_names_every_id() -> None:
    result = cli("list")
    assert result.returncode == 0
    for method in METHODS:
        assert method in result.stdout
    assert "tcp-stream" in result.stdout and "loopback" in result.stdout
