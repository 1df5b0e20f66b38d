"""run --client-host: the SSH target and command line, what an ssh failure means, the
client host's set-up report, both machines' facts, and the rules of a two-computer run; all
on recorded output, nothing connects anywhere."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bench_runner.lab import hosts as lab_mod
from bench_runner.run import matrix, runoptions
from bench_runner import procs
from bench_runner.clienthost import NamespaceClient, machine, ssh, two
from bench_runner.clienthost.sshcmd import SshOptions, SshTarget, explain, parse_url
from bench_runner.errors import MeasurementError, SetupError, UsageError
from bench_runner.parsers import ethtool, iproute
from bench_runner.providers.base import Session
from bench_runner.lab.user import BenchUser
from tests.conftest import DATA, read_data

REPO = Path(__file__).resolve().parents[2]
TARGET = SshTarget("bench", "198.51.100.2", 2222)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench_runner", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


# ------------------------------------------------------------------ the target
@pytest.mark.parametrize("url, expected", [
    ("ssh://bench@198.51.100.2", SshTarget("bench", "198.51.100.2", 22)),
    ("ssh://bench@198.51.100.2:2222", SshTarget("bench", "198.51.100.2", 2222)),
    ("ssh://root@[2001:db8:5100::2]:22", SshTarget("root", "2001:db8:5100::2", 22)),
    ("ssh://a.b-c_d@[2001:DB8:5100::2]", SshTarget("a.b-c_d", "2001:db8:5100::2", 22)),
])
def test_a_client_host_url_names_user_address_and_port(url: str, expected: SshTarget) -> None:
    assert parse_url(url) == expected
    assert parse_url(expected.url) == expected  # the url it records reads back the same


@pytest.mark.parametrize("url, said", [
    ("bench@198.51.100.2", "expected ssh://USER@HOST[:PORT]"),
    ("ssh://198.51.100.2", "with a plain user name"),
    ("ssh://-oProxyCommand=x@198.51.100.2", "with a plain user name"),
    ("ssh://bench@client.example", "not an IP address (host names are refused"),
    ("ssh://bench@198.51.100.2:0", "the port must be a number 1-65535"),
    ("ssh://bench@198.51.100.2:ssh", "the port must be a number 1-65535"),
    ("ssh://bench@198.51.100.2/path", "and nothing after it"),
    ("ssh://bench@2001:db8::2", "an IPv6 address goes in brackets"),
    ("ssh://bench@127.0.0.1", "must be another computer"),
    ("ssh://bench@[::1]:22", "must be another computer"),
])
def test_a_bad_client_host_url_is_refused_in_one_line(url: str, said: str) -> None:
    with pytest.raises(UsageError, match=None) as caught:
        parse_url(url)
    assert said in str(caught.value) and "\n" not in str(caught.value)


# ------------------------------------------------------------------ the ssh command line
def test_ssh_is_batch_key_only_and_reads_no_configuration() -> None:
    argv = SshOptions(TARGET, "/keys/id", "/keys/known").argv(["python3", "-I", "-c", "print('a b')"])
    options = {argv[i + 1].split("=", 1)[0]: argv[i + 1].split("=", 1)[1] for i, a in enumerate(argv) if a == "-o"}
    assert argv[:3] == ["ssh", "-F", "none"]
    assert options["BatchMode"] == "yes" and options["PasswordAuthentication"] == "no"
    assert options["StrictHostKeyChecking"] == "yes" and options["CheckHostIP"] == "no"
    assert options["ProxyCommand"] == "none" and options["VerifyHostKeyDNS"] == "no"
    assert int(options["ConnectTimeout"]) > 0
    assert options["IdentitiesOnly"] == "yes" and argv[argv.index("-i") + 1] == "/keys/id"
    assert options["UserKnownHostsFile"] == "/keys/known"
    # the destination is a literal address after "--"; the remote command is one quoted word
    assert argv[argv.index("--") + 1] == "198.51.100.2" and argv[argv.index("-l") + 1] == "bench"
    assert shlex.split(argv[-1]) == ["python3", "-I", "-c", "print('a b')"]


def test_without_a_key_ssh_uses_its_own_defaults() -> None:
    argv = SshOptions(TARGET).prefix()
    assert "-i" not in argv and not any(a.startswith("UserKnownHostsFile") for a in argv)


def test_openssh_takes_every_option(tmp_path: Path) -> None:
    """ssh -G prints the configuration it would use, connecting nowhere: an option it did not
    know would be an error."""
    prefix = SshOptions(TARGET, str(tmp_path / "id"), str(tmp_path / "known")).prefix()
    at = prefix.index("--")
    result = procs.run([*prefix[:at], "-G", *prefix[at:]], timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    shown = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert shown["hostname"] == "198.51.100.2" and shown["port"] == "2222" and shown["batchmode"] == "yes"
    assert shown["stricthostkeychecking"] == "true" and shown["userknownhostsfile"] == str(tmp_path / "known")


# What OpenSSH 9.2 said, recorded against the test's sshd.
@pytest.mark.parametrize("code, stderr, meaning", [
    (255, "root@198.51.100.2: Permission denied (publickey).\n", "the key was refused"),
    (255, "ssh: connect to host 198.51.100.3 port 22: No route to host\n", "host down or unreachable"),
    (255, "No ED25519 host key is known for [198.51.100.2]:2222 and you have requested strict checking.\n"
          "Host key verification failed.\n", "its host key is not in the known hosts"),
    (255, "ssh: connect to host 198.51.100.2 port 2223: Connection refused\n", "nothing accepts SSH connections"),
    (255, "ssh: connect to host 198.51.100.9 port 22: Connection timed out\n", "no answer (host down"),
    (255, "Warning: Identity file /nonexistent not accessible: No such file or directory.\n"
          "root@198.51.100.2: Permission denied (publickey).\n", "the key was refused"),
    (127, "bash: line 1: python3: command not found\n", "a command the suite needs is missing there"),
])
def test_an_ssh_failure_is_said_in_one_line(code: int, stderr: str, meaning: str) -> None:
    said = explain("ssh://root@198.51.100.2:2222", code, stderr)
    assert meaning in said and "\n" not in said
    assert stderr.strip().splitlines()[-1] in said  # what ssh said, too


# ------------------------------------------------------------------ the set-up there
def test_the_set_up_report_gives_the_directory_and_checksums() -> None:
    prepared = ssh.parse_prepared(read_data("client-host-prepare.json"), "u", {"iperf3": "for tcp-stream"})
    assert ssh.REMOTE_DIR.fullmatch(prepared.directory)
    assert prepared.sha256 == {"hello.py": "caf026f25d7140209f98072605307a438914b9ce6f3c14b23d15d9667241de52"}
    assert prepared.facts["kernel"] and prepared.facts["device"]
    assert ssh.differing(prepared, {"hello.py": prepared.sha256["hello.py"]}) == []
    assert ssh.differing(prepared, {"hello.py": "0" * 64, "other.py": "1" * 64}) == ["hello.py", "other.py"]


def test_a_missing_tool_is_named_with_what_it_is_for() -> None:
    with pytest.raises(SetupError) as caught:
        ssh.parse_prepared(read_data("client-host-prepare-missing.json"), "ssh://root@198.51.100.2:2222",
                           {"iperf3": "for tcp-stream", "timeout": "to bound every client there (coreutils)"})
    assert str(caught.value) == ("ssh://root@198.51.100.2:2222 lacks iperf3 (for tcp-stream): install it there, "
                                 "or leave out what needs it")


@pytest.mark.parametrize("report, said", [
    ("", "gave no report (no output)"),
    ("Welcome to the machine\n", "gave no report (Welcome to the machine)"),
    (json.dumps({"facts": {"python": "3.6.15"}, "too_old": True, "missing": []}), "python3 there is 3.6.15"),
    (json.dumps({"facts": {}, "missing": [], "directory": "/home/u"}), "made no directory the suite recognises"),
])
def test_a_report_that_is_not_right_is_refused(report: str, said: str) -> None:
    with pytest.raises(SetupError, match=None) as caught:
        ssh.parse_prepared(report, "u", {})
    assert said in str(caught.value)


def test_the_set_up_script_checks_tools_and_makes_nothing_when_one_is_missing(tmp_path: Path) -> None:
    """The script itself, run here with this Python (as it runs there with the remote's)."""
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    files = json.dumps({"a.py": "print(1)\n"})
    missing = subprocess.run([sys.executable, "-I", "-c", machine.SCRIPT, "prepare", "127.0.0.1", "no-such-tool-x"],
                             input=files, capture_output=True, text=True, timeout=60, env=env)
    assert json.loads(missing.stdout)["missing"] == ["no-such-tool-x"] and list(tmp_path.iterdir()) == []
    checked = subprocess.run([sys.executable, "-I", "-c", machine.SCRIPT, "check", "127.0.0.1", "sh"],
                             capture_output=True, text=True, timeout=60, env=env)
    assert json.loads(checked.stdout)["missing"] == [] and list(tmp_path.iterdir()) == []  # check makes nothing
    made = subprocess.run([sys.executable, "-I", "-c", machine.SCRIPT, "prepare", "127.0.0.1", "sh"],
                          input=files, capture_output=True, text=True, timeout=60, env=env)
    report = json.loads(made.stdout)
    directory = Path(report["directory"])
    assert directory.parent == tmp_path and ssh.REMOTE_DIR.fullmatch(str(directory))
    assert (directory / "a.py").read_text() == "print(1)\n" and set(report["sha256"]) == {"a.py"}


def test_a_worker_runs_there_bounded_by_timeout_with_the_iperf3_program() -> None:
    client = ssh.SshClient(SshOptions(TARGET), ssh.Prepared("/tmp/podman-netbench-ab12", {}))
    remote = shlex.split(client.worker_argv("iperf_client.py", ["--host", "198.51.100.1"], 31.5)[-1])
    assert remote == ["timeout", "-k", "5", "32", "python3", "-I", "/tmp/podman-netbench-ab12/iperf_client.py",
                      "--program", "--host", "198.51.100.1"]
    echo = shlex.split(client.worker_argv("echo_client.py", ["--mode", "tcp-rr"], 10)[-1])
    assert "--program" not in echo


@pytest.mark.parametrize("code, stderr, said", [
    (124, "", "did not finish within 10 s there and was stopped (remote timeout)"),
    (255, "ssh: connect to host 198.51.100.2 port 2222: Connection refused\n", "nothing accepts SSH connections"),
])
def test_a_failing_client_host_is_a_measurement_error(monkeypatch: pytest.MonkeyPatch, code: int, stderr: str,
                                                       said: str) -> None:
    monkeypatch.setattr(procs, "run", lambda argv, **kw: procs.ProcessResult(list(argv), code, "", stderr, 0.1))
    client = ssh.SshClient(SshOptions(TARGET), ssh.Prepared("/tmp/podman-netbench-ab12", {}))
    with pytest.raises(MeasurementError) as caught:
        client.run_worker("echo_client.py", [], 10)
    assert said in str(caught.value)


def test_a_worker_that_failed_there_hands_back_its_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(procs, "run", lambda argv, **kw: procs.ProcessResult(list(argv), 1, '{"error": "x"}', "", 0.1))
    client = ssh.SshClient(SshOptions(TARGET), ssh.Prepared("/tmp/podman-netbench-ab12", {}))
    assert client.run_worker("echo_client.py", [], 10).stdout == '{"error": "x"}'


def test_only_a_directory_the_suite_made_is_removed_there(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(procs, "run", lambda argv, **kw: ran.append(list(argv))
                        or procs.ProcessResult(list(argv), 0, "", "", 0.1))
    entry = ssh.state_entry(SshOptions(TARGET, "/k", "/kh"), "/tmp/podman-netbench-ab12")
    assert ssh.remove_entry(json.loads(json.dumps(entry))) == []  # as the run state stores it
    assert shlex.split(ran[0][-1]) == ["rm", "-rf", "--", "/tmp/podman-netbench-ab12"]
    assert ran[0][ran[0].index("-i") + 1] == "/k"
    for bad in ("/", "/home/bench", "/tmp/podman-netbench-x/../..", "/tmp/podman-netbench-$(x)"):
        problems = ssh.remove(SshOptions(TARGET), bad)
        assert problems and "not a directory the suite made" in problems[0]
    assert len(ran) == 1


# ------------------------------------------------------------------ both machines
def _facts(**outputs: str) -> dict:
    files = {"route": "ip-route-get-lab.json", "link": "ip-link-detail-veth.json", "driver": "ethtool-i-veth.txt",
             "settings": "ethtool-veth.txt", "features": "ethtool-k-veth.txt", "qdiscs": "tc-qdisc-noqueue.json"}
    facts: dict = {"hostname": "h", "kernel": "6.1", "python": "3.11.2", "device": "sshcA"}
    for key, name in files.items():
        facts[key] = {"rc": 0, "out": outputs.get(key, read_data(name)), "err": ""}
    return facts


def test_a_machine_record_names_its_interface_toward_the_other() -> None:
    interface = machine.interface_record(_facts())
    record = machine.machine_record(_facts(), interface)
    assert record["hostname"] == "h" and record["kernel"] == "6.1"
    seen = record["interface"]
    assert (seen["device"], seen["driver"], seen["kind"], seen["speed_mbps"], seen["mtu"]) == \
        ("sshcA", "veth", "veth", 10000, 1500)
    assert seen["route"]["prefsrc"] == "198.51.100.1" and seen["offloads"]["tso"] == "on"
    assert "features" not in seen and "errors" not in seen
    link = machine.link_evidence(interface)
    assert link["device"] == "sshcA" and link["features"] and link["qdiscs"][0]["kind"] == "noqueue"


def test_a_fact_that_could_not_be_read_is_said_so() -> None:
    facts = _facts()
    facts["driver"] = {"error": "ethtool: command not found"}
    facts["features"] = {"rc": 1, "out": "", "err": "Cannot get device feature names: Operation not supported\n"}
    interface = machine.interface_record(facts)
    assert interface["errors"]["driver"] == "ethtool -i: ethtool: command not found"
    assert "exited with 1: Cannot get device feature names" in interface["errors"]["features"]
    assert "driver" not in interface and interface["mtu"] == 1500
    assert machine.link_evidence(interface)["ethtool_error"] == interface["errors"]["features"]


def test_the_path_mtu_is_the_smallest_of_both_ends() -> None:
    server = {"interface": {"mtu": 9000, "route": {"mtu": None}}}
    client = {"interface": {"mtu": 1500, "route": {"mtu": 1400}}}
    assert machine.path_mtu(server, client)["mtu"] == 1400
    assert machine.path_mtu({"interface": {}}, {"interface": {}})["mtu"] is None


def test_ethtool_driver_and_settings() -> None:
    assert ethtool.parse_driver(read_data("ethtool-i-virtio.txt")) == {
        "driver": "virtio_net", "version": "1.0.0", "bus": "0000:00:03.0"}
    assert ethtool.parse_settings(read_data("ethtool-veth.txt")) == {
        "speed_mbps": 10000, "duplex": "Full", "link_detected": True}
    # virtio reports no speed
    assert ethtool.parse_settings(read_data("ethtool-virtio.txt")) == {
        "speed_mbps": None, "duplex": None, "link_detected": True}
    for parse in (ethtool.parse_driver, ethtool.parse_settings):
        with pytest.raises(Exception, match="expected"):
            parse("Cannot get driver information: No such device\n")


def test_ip_route_get_and_link_kind() -> None:
    route = iproute.parse_route_get(read_data("ip-route-get-lab.json"))
    assert (route.dst, route.dev, route.prefsrc, route.gateway, route.mtu) == \
        ("198.51.100.2", "sshcA", "198.51.100.1", None, None)
    assert iproute.parse_route_get(read_data("ip-route-get-mtu.json")).mtu == 1400
    assert iproute.link_kind(read_data("ip-link-detail-veth.json")) == "veth"
    assert iproute.link_kind(read_data("ip-link-veth-netns.json")) is None  # no -d: nothing said


# ------------------------------------------------------------------ the two computers
def test_the_lab_of_two_computers_is_this_namespace_and_another_machine() -> None:
    lab = lab_mod.two_computers("0123abcd", "198.51.100.1", "198.51.100.2", "ssh://u@198.51.100.2")
    assert lab.server_ns_path == f"/proc/{os.getpid()}/ns/net" and lab.namespaces() == []
    assert lab.server_netns_inode() == os.stat("/proc/self/ns/net").st_ino
    with pytest.raises(MeasurementError, match="another computer"):
        lab.client_ns_path
    record = lab.to_json()
    assert record["kind"] == "two computers" and record["client_addr"] == "198.51.100.2"
    assert record["client_addr6"] is None
    six = lab_mod.two_computers("0123abcd", "2001:db8::1", "2001:db8::2", "ssh://u@[2001:db8::2]")
    assert (six.server_address(6), six.client_address(6)) == ("2001:db8::1", "2001:db8::2")


def test_the_remote_placement_runs_on_the_client_host_and_loopback_here() -> None:
    lab = lab_mod.two_computers("0123abcd", "198.51.100.1", "198.51.100.2", "ssh://u@198.51.100.2")
    remote = ssh.SshClient(SshOptions(TARGET), ssh.Prepared("/tmp/podman-netbench-ab12", {}))
    session = Session(lab, BenchUser("netbench", 1001, 1001, "/home/netbench"), None, Path("/u"), Path("/w"),  # type: ignore[arg-type]
                      client_host=remote)
    assert session.client_for("remote") is remote
    local = session.client_for("loopback")
    assert isinstance(local, NamespaceClient) and local.netns_path == lab.server_ns_path
    assert session.lab_record()["client_host_record"]["workers"]["directory"] == "/tmp/podman-netbench-ab12"


def test_companion_options_need_a_client_host() -> None:
    assert two.from_args(None, None, None, None) is None
    with pytest.raises(UsageError, match="--server-address is for a run with --client-host"):
        two.from_args(None, "198.51.100.1", None, None)
    with pytest.raises(UsageError, match="needs --server-address"):
        two.from_args("ssh://u@198.51.100.2", None, None, None)
    with pytest.raises(UsageError, match="different IP families"):
        two.from_args("ssh://u@198.51.100.2", "2001:db8::1", None, None)
    with pytest.raises(UsageError, match="--client-key /nonexistent/k: no such file"):
        two.from_args("ssh://u@198.51.100.2", "198.51.100.1", "/nonexistent/k", None)


def test_the_key_files_are_named_absolutely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "k").write_text("key")
    (tmp_path / "kh").write_text("")
    monkeypatch.chdir(tmp_path)
    made = two.from_args("ssh://u@198.51.100.2", "198.51.100.1", "k", "kh")
    assert made is not None and made.server_address == "198.51.100.1"
    assert (made.options.identity, made.options.known_hosts) == (str(tmp_path / "k"), str(tmp_path / "kh"))


def test_iperf3_is_needed_there_only_for_workloads_it_drives() -> None:
    assert two.tools_needed(["tcp-rr", "echo-stream"], True) == {}
    assert two.tools_needed(["tcp-stream", "udp-stream+size1200", "tcp-rr"], True) == {
        "iperf3": "for tcp-stream, udp-stream+size1200"}
    assert two.tools_needed(["tcp-stream"], False) == {}  # loopback only: nothing runs there


def test_a_matrix_sets_cells_aside_with_why() -> None:
    built = matrix.build(["host", "pasta"], ["tcp-rr", "tcp-stream-outbound"], ["remote"])
    aside = built.set_aside(lambda c: "outbound" if "outbound" in c.workload else None)
    assert {c.workload for c in aside.cells} == {"tcp-rr"}
    assert ("tcp-stream-outbound", "outbound") in {(c.workload, why) for c, why in aside.not_applicable}


def test_a_two_computer_request_is_recorded_and_resumed() -> None:
    from bench_runner.commands.run import for_client_host
    from bench_runner.run.request import RunRequest, from_options
    from bench_runner.workloads import TrialSettings

    built = matrix.build(["host", "pasta"], ["tcp-stream", "tcp-stream-outbound"], ["remote", "loopback"])
    client = two.from_args("ssh://u@198.51.100.2:2222", "198.51.100.1", "/etc/hostname", "/etc/passwd")
    request = for_client_host(RunRequest(built, TrialSettings(1, 0), 0, 1, 1, 0.05, 7, "auto", 1500, "pasta",
                                         ("pasta>host",), 0.1, True, True, client=client))
    assert not request.probe_claims
    assert request.client.needed == {"iperf3": "for tcp-stream"}
    assert {c.workload for c in request.matrix.cells} == {"tcp-stream"}
    outbound = [why for c, why in request.matrix.not_applicable
                if c.workload == "tcp-stream-outbound" and c.placement == "remote"]
    assert len(outbound) == 2 and all("not measured with --client-host" in why for why in outbound)
    options = json.loads(json.dumps(runoptions.record(request)))
    assert options["client_host"] == {"url": "ssh://u@198.51.100.2:2222", "identity": "/etc/hostname",
                                      "known_hosts": "/etc/passwd", "server_address": "198.51.100.1"}
    again = for_client_host(from_options(options, 7, {}))
    assert again.client == request.client and again.matrix.cells == request.matrix.cells


@pytest.mark.parametrize("args, expected", [
    (["--client-host", "ssh://u@client.example", "--server-address", "198.51.100.1"],
     "not an IP address (host names are refused"),
    (["--server-address", "198.51.100.1"], "--server-address is for a run with --client-host"),
    (["--client-host", "ssh://u@198.51.100.2"], "--client-host needs --server-address ADDR"),
    (["--client-host", "ssh://u@198.51.100.2", "--server-address", "198.51.100.1", "--stacks", "host,trixie"],
     "--stacks trixie boots a stack in a lab of its own"),
    (["--client-host", "ssh://u@198.51.100.2", "--server-address", "198.51.100.1", "--delay", "5",
      "--placements", "remote"], "--delay: a --client-host run has no lab path to shape"),
    (["--client-host", "ssh://u@198.51.100.2", "--server-address", "198.51.100.1", "--family", "4,6"],
     "are IPv4: --family 6 needs IPv6 addresses"),
    (["--client-host", "ssh://u@[2001:db8::2]", "--server-address", "2001:db8::1"], "are IPv6: add --family 6"),
    (["--client-host", "ssh://u@198.51.100.2", "--server-address", "198.51.100.1", "--workloads",
      "tcp-stream-outbound"], "nothing to measure with --client-host"),
])
def test_a_two_computer_run_that_cannot_be_is_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = cli("run", *args)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_iperf3_program_runs_the_same_test(tmp_path: Path) -> None:
    """--program: the iperf3 program with the flags the binding sets, its JSON handed on."""
    fake = tmp_path / "iperf3"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path}/argv\ncat {DATA / 'iperf3-client-tcp.json'}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    worker = REPO / "bench_runner" / "workers" / "iperf_client.py"
    done = subprocess.run([sys.executable, "-I", str(worker), "--program", "--host", "198.51.100.1", "--port", "5201",
                           "--duration", "2", "--omit", "1", "--streams", "4", "--reverse"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "argv").read_text().split() == [
        "--client", "198.51.100.1", "--port", "5201", "--time", "2", "--omit", "1", "--parallel", "4", "--json",
        "--reverse"]
    assert json.loads(done.stdout) == json.loads(read_data("iperf3-client-tcp.json"))
    fake.write_text("#!/bin/sh\necho 'iperf3: error - unable to connect' >&2\nexit 1\n")
    failed = subprocess.run([sys.executable, "-I", str(worker), "--program", "--host", "x", "--port", "1"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert failed.returncode == 1
    assert "gave no JSON: iperf3: error - unable to connect" in json.loads(failed.stdout)["error"]


# ------------------------------------------------------------------ a recorded two-computer run
def test_a_two_computer_run_reports_both_machines_and_the_path(tmp_path: Path) -> None:
    from bench_runner.analysis import claims
    from bench_runner.results import document as results
    from bench_runner.report.render import write

    document = results.load(DATA / "results-two-computers-quick.json")
    assert document.lab["kind"] == "two computers"
    preserved = {o.method: o.observed for o in claims.source_address(document)}
    assert preserved == {"host": True, "pasta": True}  # the SSH host's own address, as the server saw it
    outbound = document.cell("tcp-stream-outbound", "remote", "pasta")
    assert outbound.status == "not_applicable" and "not measured with --client-host" in (outbound.reason or "")
    path = tmp_path / "run.json"
    results.save(document, path)
    text = write(path, with_plots=False).report.read_text()
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in text.splitlines()
            if line.startswith("| ") and line.count("|") == 3}
    assert rows["two computers (--client-host)"].startswith("the client host ssh://root@198.51.100.2:2222 connects")
    for label in ("server host (this machine)", "client host"):
        assert "veth, 10000 Mbit/s, MTU 1500" in rows[label]
    assert rows["path MTU"] == "1500" and rows["base RTT"].startswith("p50 ")
    assert "--client-host ssh://root@198.51.100.2:2222 --server-address 198.51.100.1" in text
