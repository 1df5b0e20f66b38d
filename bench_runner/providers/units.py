"""systemd units for socket activation inside a booted stack, the way the guide sets it up:

- user: a Quadlet ``.container`` (Podman generates the service from it) and a user ``.socket``
  of the same name, run by the benchmark user's systemd manager;
- system: a system ``.socket`` (root makes the socket, so below ip_unprivileged_port_start if
  asked) and a ``.service`` that runs rootless Podman as the benchmark user with ``User=``.

Pure text: the unit files from what the trial asks for; ``unitserver`` installs and runs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import MeasurementError

#: Tokens that need no quoting in a systemd command line.
_PLAIN = re.compile(r"^[A-Za-z0-9_./:=,@+-]+$")


def quote(token: str) -> str:
    """One argument of a systemd command line (ExecStart=, Quadlet's Exec=): specifiers
    (%) and variables ($) taken literally, quoted where it has other characters."""
    if any(c in token for c in "\n\r"):
        raise MeasurementError(f"a unit's command line cannot hold a line break: {token!r}")
    text = token.replace("%", "%%").replace("$", "$$")
    if _PLAIN.match(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command_line(argv: list[str] | tuple[str, ...]) -> str:
    return " ".join(quote(a) for a in argv)


def _value(text: str) -> str:
    """A plain setting value (a path, a device, an address): no newline may break the file."""
    if any(c in text for c in "\n\r"):
        raise MeasurementError(f"a unit setting cannot hold a line break: {text!r}")
    return text.replace("%", "%%")


@dataclass(frozen=True)
class SocketRequest:
    """What the socket unit listens on, and what the service runs."""

    name: str  # unit and container name
    port: int
    protocols: tuple[str, ...]
    command: tuple[str, ...]  # the server, as it runs inside the container
    image: str
    volumes: tuple[str, ...]  # SRC:DST:OPTIONS
    stdout_path: str
    stderr_path: str
    device: str | None = None
    #: Where it listens besides the port: every address of the trial's IP family.
    any_address: str = "0.0.0.0"


def socket_unit(request: SocketRequest, description: str) -> str:
    listens = []
    for protocol in request.protocols:
        key = {"tcp": "ListenStream", "udp": "ListenDatagram"}.get(protocol)
        if key is None:
            raise MeasurementError(f"a socket unit cannot listen on protocol {protocol!r}")
        host = f"[{request.any_address}]" if ":" in request.any_address else request.any_address
        listens.append(f"{key}={host}:{request.port}")
    device = [f"BindToDevice={_value(request.device)}"] if request.device else []
    return "\n".join(["[Unit]", f"Description={_value(description)}", "", "[Socket]", *listens, *device, ""])


def quadlet_container(request: SocketRequest) -> str:
    """The user variant's service, as a Quadlet ``.container`` (the guide's Example 1 form):
    no network of its own, the socket handed over by systemd, stdout into a file."""
    volumes = [f"Volume={_value(v)}" for v in request.volumes]
    return "\n".join([
        "[Unit]",
        "Description=podman-netbench server (socket-activated, systemd user service from Quadlet)",
        f"Requires={request.name}.socket",
        f"After={request.name}.socket",
        "",
        "[Container]",
        f"Image={_value(request.image)}",
        "Pull=never",
        f"ContainerName={_value(request.name)}",
        "Network=none",
        *volumes,
        f"Exec={command_line(request.command)}",
        "LogDriver=passthrough",
        "",
        "[Service]",
        f"StandardOutput=append:{_value(request.stdout_path)}",
        f"StandardError=append:{_value(request.stderr_path)}",
        "",
    ])


def system_service(request: SocketRequest, *, user: str, uid: int) -> str:
    """The system variant's service: rootless Podman run by the system manager with
    ``User=`` (as in podman-nginx-socket-activation's Example 3), the socket inherited."""
    runtime = f"/run/user/{uid}"
    cid = f"{runtime}/{request.name}.cid"
    volumes = [arg for v in request.volumes for arg in ("-v", v)]
    run = ["/usr/bin/podman", "run", f"--cidfile={cid}", "--cgroups=split", "--rm", "-d", "--replace", "--pull=never",
           "--name", request.name, "--sdnotify=conmon", "--network=none", "--log-driver=passthrough",
           *volumes, request.image, *request.command]
    stop = ["/usr/bin/podman", "rm", "-f", "-i", f"--cidfile={cid}"]
    return "\n".join([
        "[Unit]",
        "Description=podman-netbench server (socket-activated, systemd system service with User=)",
        f"Requires={request.name}.socket user@{uid}.service",
        f"After={request.name}.socket user@{uid}.service network-online.target",
        "Wants=network-online.target",
        f"RequiresMountsFor={runtime}/containers",
        "",
        "[Service]",
        f"User={_value(user)}",
        "Environment=PODMAN_SYSTEMD_UNIT=%n",
        "KillMode=mixed",
        "Delegate=yes",
        "Type=notify",
        "NotifyAccess=all",
        f"ExecStart={command_line(run)}",
        f"ExecStop={command_line(stop)}",
        f"ExecStopPost=-{command_line(stop)}",
        f"StandardOutput=append:{_value(request.stdout_path)}",
        f"StandardError=append:{_value(request.stderr_path)}",
        "",
    ])


def parse_show(text: str) -> dict[str, str]:
    """``systemctl show --property=...`` output: KEY=VALUE lines."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.strip()] = value.strip()
    return found
