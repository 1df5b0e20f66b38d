"""The systemd units of socket activation in a stack, as text: what the guide's examples set
up, and nothing a trial's values could break out of."""

from __future__ import annotations

import pytest

from bench_runner.errors import MeasurementError
from bench_runner.providers import units

REQUEST = units.SocketRequest(
    name="netbench-0a1b2c3d-u1", port=20001, protocols=("tcp",),
    command=("/usr/bin/python3", "-I", "/opt/netbench-workers/echo_server.py", "--port", "20001"),
    image="localhost/netbench-base:1", volumes=("/usr:/usr:ro", "/run/pn/x/workers:/opt/netbench-workers:ro"),
    stdout_path="/run/user/1001/netbench/netbench-0a1b2c3d-u1.out",
    stderr_path="/run/user/1001/netbench/netbench-0a1b2c3d-u1.err")


def _settings(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found.setdefault(key, []).append(value)
    return found


def test_the_user_variant_is_a_quadlet_container_without_a_network_of_its_own() -> None:
    settings = _settings(units.quadlet_container(REQUEST))
    assert settings["Network"] == ["none"]
    assert settings["Pull"] == ["never"]  # nothing is fetched from a registry
    assert settings["Requires"] == [f"{REQUEST.name}.socket"]
    assert settings["Volume"] == list(REQUEST.volumes)
    assert settings["Exec"] == [" ".join(REQUEST.command)]
    assert settings["LogDriver"] == ["passthrough"]
    # append, not truncate: systemd opens the file again for ExecStop and ExecStopPost
    assert settings["StandardOutput"] == [f"append:{REQUEST.stdout_path}"]


def test_the_system_variant_runs_rootless_podman_with_user() -> None:
    text = units.system_service(REQUEST, user="netbench", uid=1001)
    settings = _settings(text)
    assert settings["User"] == ["netbench"]
    assert settings["Delegate"] == ["yes"] and settings["Type"] == ["notify"]
    assert "user@1001.service" in settings["Requires"][0]
    start = settings["ExecStart"][0]
    assert start.startswith("/usr/bin/podman run ") and "--network=none" in start and "--pull=never" in start
    assert "--cidfile=/run/user/1001/netbench-0a1b2c3d-u1.cid" in start
    assert start.endswith(" ".join(REQUEST.command))
    assert settings["ExecStopPost"][0].startswith("-/usr/bin/podman rm -f -i")


def test_socket_units_listen_and_bind_to_a_device_when_asked() -> None:
    tcp = _settings(units.socket_unit(REQUEST, "x"))
    assert tcp["ListenStream"] == ["0.0.0.0:20001"] and "BindToDevice" not in tcp
    udp = units.SocketRequest(**{**REQUEST.__dict__, "protocols": ("udp",), "device": "nbabc123s"})
    settings = _settings(units.socket_unit(udp, "x"))
    assert settings["ListenDatagram"] == ["0.0.0.0:20001"] and settings["BindToDevice"] == ["nbabc123s"]
    with pytest.raises(MeasurementError, match="sctp"):
        units.socket_unit(units.SocketRequest(**{**REQUEST.__dict__, "protocols": ("sctp",)}), "x")


@pytest.mark.parametrize("token, quoted", [
    ("--port", "--port"), ("/opt/w/echo_server.py", "/opt/w/echo_server.py"),
    ("100%", '"100%%"'), ("$HOME", '"$$HOME"'), ("a b", '"a b"'), ('say "hi"', '"say \\"hi\\""'),
])
def test_command_lines_take_every_argument_literally(token: str, quoted: str) -> None:
    assert units.quote(token) == quoted


def test_a_setting_cannot_smuggle_a_new_line_into_a_unit() -> None:
    bad = units.SocketRequest(**{**REQUEST.__dict__, "device": "eth0\nExecStartPre=/bin/evil"})
    with pytest.raises(MeasurementError, match="line break"):
        units.socket_unit(bad, "x")
    with pytest.raises(MeasurementError, match="line break"):
        units.quadlet_container(units.SocketRequest(**{**REQUEST.__dict__, "command": ("sh", "x\n[Service]")}))


def test_systemctl_show_output() -> None:
    shown = units.parse_show("ActiveState=inactive\nSubState=dead\nResult=success\nExecMainStatus=0\n")
    assert shown == {"ActiveState": "inactive", "SubState": "dead", "Result": "success", "ExecMainStatus": "0"}


def test_a_socket_units_failure_is_told_in_systemds_words() -> None:
    from bench_runner.providers.unitserver import reason_from_journal

    journal = ("netbench-x-u7.socket: Failed to create listening socket (0.0.0.0:80): Permission denied\n"
               "netbench-x-u7.socket: Failed to listen on sockets: Permission denied\n"
               "Failed to listen on netbench-x-u7.socket - podman-netbench socket (user unit).\n")
    assert reason_from_journal(journal).endswith("(0.0.0.0:80): Permission denied")
    assert reason_from_journal("something else\nlast words\n") == "last words"
    assert reason_from_journal("") == "no reason in the journal"
