"""run --client-host against a real OpenSSH server: the distribution's sshd in the client
host of a lab of the test's own (sshpeer), with throwaway keys, and the run started in that
lab's server host, as it would be on a real server. The SSH path, the workers' copy, what
both machines record, and the failures (a bad key, a host that is down, a missing iperf3, a
client that does not finish there) are exercised for real; nothing may be left on either
side."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bench_runner.results import document as results
from bench_runner.paths import VENV_PYTHON
from tests.integration.conftest import REPO
from tests.integration.sshpeer import SSHD, Peer, path_without, ssh_peer

pytestmark = pytest.mark.skipif(not Path(SSHD).exists(),
                                reason="openssh-server is not installed (scripts/setup.sh --test-tools installs it)")

QUICK = ("run", "--methods", "host,pasta", "--workloads", "tcp-stream,tcp-rr", "--quick")


def nothing_left_there(peer: Peer) -> None:
    assert list(peer.tmpdir.iterdir()) == [], "the run left files on the client host"
    assert peer.processes() == [], "the run left processes on the client host"


def test_a_quick_run_measures_with_its_clients_on_the_ssh_host(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    with ssh_peer(tmp_path / "peer") as peer:
        result = peer.cli(*QUICK, *peer.run_args(), "-o", str(output))
        assert result.returncode == 0, result.stderr
        sessions = peer.log.read_text().count("Accepted publickey for root")
        nothing_left_there(peer)
    document = results.load(output)
    lab = document.lab
    assert (lab["kind"], lab["server_addr"], lab["client_addr"]) == ("two computers", "198.51.100.1", "198.51.100.2")
    for workload in ("tcp-stream", "tcp-rr"):
        for method in ("host", "pasta"):
            remote = document.cell(workload, "remote", method)
            assert remote.status == "measured", remote.reason
            # the server sees the SSH host's own address, through pasta too
            assert remote.trials[0].observations["peer_address"] == "198.51.100.2"
            assert remote.trials[0].observations["client_address"] == "198.51.100.2"
            assert document.cell(workload, "loopback", method).status == "measured"
    # every remote client ran over SSH: one session each, besides the check, the set-up, the
    # base RTT and the clean-up
    assert sessions >= 4 + 4
    machines = lab["machines"]
    for end in ("server", "client"):
        interface = machines[end]["interface"]
        assert machines[end]["kernel"] and machines[end]["hostname"]
        assert (interface["driver"], interface["kind"], interface["speed_mbps"], interface["mtu"]) == \
            ("veth", "veth", 10000, 1500), interface
        assert lab["link"][end]["offloads"]["tso"] in ("on", "off")
    assert machines["server"]["interface"]["route"]["prefsrc"] == "198.51.100.1"
    assert machines["client"]["interface"]["route"]["prefsrc"] == "198.51.100.2"
    assert lab["path_mtu"]["mtu"] == 1500
    assert lab["base_rtt"]["p50"] > 0, lab["base_rtt"]
    record = lab["client_host_record"]
    assert record["url"] == peer.url and record["workers"]["directory"].startswith(str(peer.tmpdir))
    assert record["versions"]["iperf3"].startswith("iperf 3")
    assert document.run["options"]["client_host"]["server_address"] == "198.51.100.1"
    assert document.run["options"]["claims_probed"] is False


def test_a_bad_key_exits_2_in_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    with ssh_peer(tmp_path / "peer") as peer:
        result = peer.cli(*QUICK, *peer.run_args(key=tmp_path / "peer" / "other"), "-o", str(output))
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [
            f"bench_runner: error: ssh to {peer.url} failed: the key was refused (key authentication only; check "
            "--client-key and the remote user's authorized_keys) (root@198.51.100.2: Permission denied (publickey).)"]
        assert "Traceback" not in result.stderr and not output.exists()
        nothing_left_there(peer)


@pytest.mark.parametrize("case, said", [
    ("down", "ssh to ssh://root@198.51.100.3 failed: no route to it (host down or unreachable)"),
    ("host key", "its host key is not in the known hosts (or changed)"),
    ("no iperf3", "lacks iperf3 (for tcp-stream): install it there, or leave out what needs it"),
    ("not ours", "--server-address 198.51.100.99: not an address of this machine (its IPv4 addresses: 198.51.100.1, "
                 "198.51.100.129)"),
])
def test_a_client_host_that_cannot_serve_is_one_line_and_exit_2(tmp_path: Path, case: str, said: str) -> None:
    workdir = tmp_path / "peer"
    path = path_without(tmp_path, ["iperf3"]) if case == "no iperf3" else None
    with ssh_peer(workdir, path=path) as peer:
        args = peer.run_args()
        if case == "down":
            args[args.index(peer.url)] = "ssh://root@198.51.100.3"  # on the lab link, but nobody there
        if case == "host key":
            args[args.index(str(peer.known_hosts))] = "/dev/null"
        if case == "not ours":
            args[args.index("198.51.100.1")] = "198.51.100.99"
        result = peer.cli(*QUICK, *args, "-o", str(tmp_path / "run.json"))
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and said in lines[0], result.stderr
        nothing_left_there(peer)


#: Runs in the lab's server host: sets the client host up as a run does, runs a worker that
#: never ends (an echo server) as a client bounded to 2 s, and removes the directory again.
REMOTE_TIMEOUT = """
import json, sys
from bench_runner.clienthost import ssh
from bench_runner.clienthost.sshcmd import SshOptions, parse_url
from bench_runner.errors import MeasurementError
from bench_runner.workers import WORKER_DIR, WORKER_FILES
import hashlib
options = SshOptions(parse_url(sys.argv[1]), sys.argv[2], sys.argv[3])
files = {n: (WORKER_DIR / n).read_text() for n in WORKER_FILES}
prepared = ssh.prepare(options, "198.51.100.1", {}, files,
                       {n: hashlib.sha256(t.encode()).hexdigest() for n, t in files.items()})
client = ssh.SshClient(options, prepared)
try:
    client.run_worker("echo_server.py", ["--address", "127.0.0.1", "--port", "23456", "--protocols", "tcp"], 2)
    said = "finished"
except MeasurementError as exc:
    said = str(exc)
print(json.dumps({"said": said, "removed": ssh.remove(options, prepared.directory)}))
"""


def test_a_client_that_does_not_finish_there_is_stopped_there(tmp_path: Path) -> None:
    with ssh_peer(tmp_path / "peer") as peer:
        argv = peer.lab.in_server([str(VENV_PYTHON), "-c", REMOTE_TIMEOUT, peer.url, str(peer.key),
                                   str(peer.known_hosts)])
        result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["said"] == (f"{peer.url}: the client (echo_server.py) did not finish within 2 s there and was "
                                  "stopped (remote timeout)")
        assert report["removed"] == []
        nothing_left_there(peer)


def test_what_a_killed_run_made_there_is_removed_by_the_next_clean_up(tmp_path: Path) -> None:
    import os
    import signal
    import time

    from bench_runner import procs

    with ssh_peer(tmp_path / "peer") as peer:
        argv = peer.lab.in_server([str(VENV_PYTHON), "-m", "bench_runner", *QUICK, *peer.run_args(),
                                   "-o", str(tmp_path / "run.json")])
        run = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            procs.wait_until(lambda: any(peer.tmpdir.iterdir()) or run.poll() is not None, timeout=120,
                             what="the run's directory on the client host")
            assert run.poll() is None, "the run ended before it could be killed"
            time.sleep(1.0)
            os.kill(run.pid, signal.SIGKILL)
        finally:
            run.wait(timeout=30)
        assert any(peer.tmpdir.iterdir())
        result = peer.cli("doctor", "--cleanup", timeout=300)
        assert result.returncode == 0, result.stderr
        assert list(peer.tmpdir.iterdir()) == []
        # a client still running there ends with its trial, bounded by its timeout there
        procs.wait_until(lambda: peer.processes() == [], timeout=60, what="the clients there to end")
