"""Socket activation inside a booted stack with real systemd units: install the units
rendered by ``units``, start the socket, and on the way out stop and remove everything.

The user variant's files live where the guide puts them (~/.config/containers/systemd and
~/.config/systemd/user, which every Quadlet release reads), written as the user; the system
variant's in /run/systemd/system. A run that boots a stack removes any the suite left there
when a run was killed (``stale_user_units``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from ..errors import BenchError, MeasurementError
from ..paths import IMAGE
from ..stacks.shell import StackShell
from . import activation, units
from .base import BIND_DEVICE, RunningServer, ServerExit, ServerSpec, Session, wait_host_port

#: Where the system variant's server output goes (root's directory in the stack's /run).
SYSTEM_OUTPUT_DIR = "/run/podman-netbench-units"
#: The user's own unit directories, under its home.
QUADLET_DIR = ".config/containers/systemd"
USER_UNIT_DIR = ".config/systemd/user"
OUTPUT_LIMIT = 1 << 20
STOP_TIMEOUT = 60.0


@dataclass(frozen=True)
class InstalledUnits:
    """One trial's units in a stack: which manager runs them, and every file they are made of."""

    shell: StackShell
    name: str
    system: bool
    files: tuple[str, ...]
    stdout_path: str
    stderr_path: str

    def systemctl(self, *args: str) -> list[str]:
        return ["systemctl", *(() if self.system else ("--user",)), *args]

    def run(self, argv: list[str], **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.shell.run(argv, user=not self.system, **kwargs)

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.shell.to_json(), "name": self.name, "system": self.system, "files": list(self.files),
                "stdout": self.stdout_path, "stderr": self.stderr_path}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "InstalledUnits":
        return cls(StackShell.from_json(data["stack"]), str(data["name"]), bool(data["system"]),
                   tuple(data["files"]), str(data["stdout"]), str(data["stderr"]))


def plan(shell: StackShell, name: str, spec: ServerSpec, port: int, worker_dir: str, container_workers: str,
         mounts: tuple[str, ...], *, system: bool) -> tuple[InstalledUnits, dict[str, str]]:
    """The unit files (path -> text) for one socket-activated server."""
    if system:
        out_dir, unit_dir, quadlet_dir = SYSTEM_OUTPUT_DIR, "/run/systemd/system", ""
    else:
        out_dir = f"{shell.runtime_dir}/netbench"
        unit_dir, quadlet_dir = f"{shell.home}/{USER_UNIT_DIR}", f"{shell.home}/{QUADLET_DIR}"
    request = units.SocketRequest(
        name=name, port=port, protocols=spec.protocols, command=tuple(spec.command(container_workers)), image=IMAGE,
        volumes=(*mounts, f"{worker_dir}:{container_workers}:ro"),
        stdout_path=f"{out_dir}/{name}.out", stderr_path=f"{out_dir}/{name}.err", device=spec.option(BIND_DEVICE),
        any_address=spec.any_address)
    kind = "system" if system else "user"
    files = {f"{unit_dir}/{name}.socket": units.socket_unit(request, f"podman-netbench socket ({kind} unit)")}
    if system:
        files[f"{unit_dir}/{name}.service"] = units.system_service(request, user=shell.user.name, uid=shell.user.uid)
    else:
        files[f"{quadlet_dir}/{name}.container"] = units.quadlet_container(request)
    installed = InstalledUnits(shell, name, system, tuple(files), request.stdout_path, request.stderr_path)
    return installed, files


def install(installed: InstalledUnits, files: dict[str, str]) -> None:
    """Write the files (as the user for the user variant), load them, start the socket."""
    out_dir = installed.stdout_path.rsplit("/", 1)[0]
    installed.run(["mkdir", "-p", "-m", "0700", out_dir], timeout=30)
    for path, text in files.items():
        installed.run(["sh", "-c", 'umask 022 && mkdir -p "${1%/*}" && cat > "$1"', "sh", path],
                      input_text=text, timeout=30)
    installed.run(installed.systemctl("daemon-reload"), timeout=STOP_TIMEOUT)
    started = installed.run(installed.systemctl("start", f"{installed.name}.socket"), timeout=STOP_TIMEOUT,
                            check=False)
    if started.returncode != 0:
        raise MeasurementError(f"{installed.name}.socket did not start: {socket_failure(installed)}")


def socket_failure(installed: InstalledUnits) -> str:
    """Why systemd could not listen, in its own words (systemctl only says "Job failed")."""
    journal = installed.run(["journalctl", *(() if installed.system else ("--user",)), "--no-pager", "-o", "cat",
                             "-n", "20", "-u", f"{installed.name}.socket"], timeout=30, check=False)
    return reason_from_journal(journal.stdout)


def reason_from_journal(text: str) -> str:
    """The line that says why a socket unit failed ("Failed to create listening socket
    (0.0.0.0:80): Permission denied"), else the last one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "Failed to create listening socket" in line or "refusing" in line or "Permission denied" in line:
            return line
    return lines[-1] if lines else "no reason in the journal"


def remove(installed: InstalledUnits) -> list[str]:
    """Stop the socket and the service, remove the container and every file. Returns problems."""
    if not installed.shell.pid1.alive():
        return []  # the stack is gone, and everything of the trial with it
    problems = []
    try:
        installed.run(installed.systemctl("stop", f"{installed.name}.socket", f"{installed.name}.service"),
                      timeout=STOP_TIMEOUT, check=False)
        installed.shell.run(["podman", "rm", "-f", "-t", "0", "--ignore", installed.name], timeout=STOP_TIMEOUT)
        installed.run(["rm", "-f", *installed.files, installed.stdout_path, installed.stderr_path], timeout=30)
        installed.run(installed.systemctl("daemon-reload"), timeout=STOP_TIMEOUT)
        state = service_state(installed)
        if state.get("ActiveState") not in ("inactive", "failed", ""):
            problems.append(f"{installed.name}.service is still {state.get('ActiveState')}")
    except BenchError as exc:
        problems.append(f"units {installed.name}: {exc}")
    return problems


def remove_entry(entry: dict[str, Any]) -> list[str]:
    """Teardown of a run state entry, also after a crash."""
    return remove(InstalledUnits.from_json(entry["units"]))


def service_state(installed: InstalledUnits) -> dict[str, str]:
    shown = installed.run(installed.systemctl("show", "--property=ActiveState,SubState,Result,ExecMainStatus",
                                              f"{installed.name}.service"), timeout=30, check=False)
    return units.parse_show(shown.stdout)


def read_output(installed: InstalledUnits, path: str) -> str:
    """What the server wrote, read as whoever owns the file, and at most OUTPUT_LIMIT bytes."""
    result = installed.run(["head", "-c", str(OUTPUT_LIMIT), path], timeout=30, check=False)
    return result.stdout


def stale_user_units(shell: StackShell) -> list[str]:
    """The suite's unit files a killed run left in the user's directories (named for a run
    by ``lab.resource_name``), removed as the user."""
    from ..lab.hosts import NAME_PREFIX

    listed = shell.run(["find", f"{shell.home}/{QUADLET_DIR}", f"{shell.home}/{USER_UNIT_DIR}", "-maxdepth", "1",
                        "-name", f"{NAME_PREFIX}*"], timeout=30, check=False)
    stale = [line for line in listed.stdout.splitlines() if line.strip()]
    if stale:
        shell.run(["rm", "-f", *stale], timeout=30)
        shell.run(["systemctl", "--user", "daemon-reload"], timeout=STOP_TIMEOUT, check=False)
    return stale


def diagnosis(installed: InstalledUnits) -> str:
    """Why a socket-activated service did not serve, if systemd says it failed."""
    state = service_state(installed)
    if state.get("Result") in (None, "", "success"):
        return ""
    journal = installed.run(["journalctl", *(() if installed.system else ("--user",)), "--no-pager", "-o", "cat",
                             "-n", "40"], timeout=30, check=False)
    lines = [line.strip() for line in journal.stdout.splitlines() if line.strip()]
    hint = next((line for line in reversed(lines) if "notification" in line or "Failed with result" not in line
                 and installed.name not in line and ("error" in line.lower() or "failed" in line.lower())), "")
    return (f"{installed.name}.service failed with result '{state.get('Result')}'"
            + (f" ({hint})" if hint else ""))


class UnitActivatedServer(RunningServer):
    """A server behind a systemd socket in a stack; it starts on the first connection."""

    def __init__(self, session: Session, installed: InstalledUnits, entry: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.installed = installed
        self.entry = entry

    def collect(self, timeout: float) -> ServerExit:
        """Wait for the service to end (the server exits after its clients), then take its output."""
        deadline = time.monotonic() + timeout
        state = service_state(self.installed)
        while state.get("ActiveState") not in ("inactive", "failed"):
            if time.monotonic() > deadline:
                raise MeasurementError(f"{self.installed.name}.service did not finish within {timeout:g} s "
                                       f"(state {state.get('ActiveState')}/{state.get('SubState')})")
            time.sleep(0.1)
            state = service_state(self.installed)
        status = state.get("ExecMainStatus", "")
        code = int(status) if status.lstrip("-").isdigit() else None
        return ServerExit(code, read_output(self.installed, self.installed.stdout_path),
                          read_output(self.installed, self.installed.stderr_path))

    def stop(self) -> list[str]:
        return self.session.state.forget_if_gone([self.entry], remove(self.installed))

    def diagnose(self) -> str:
        return diagnosis(self.installed)


def start(session: Session, spec: ServerSpec, *, method_id: str, system: bool, container_workers: str,
          mounts: tuple[str, ...]) -> UnitActivatedServer:
    """Install and start the units for ``spec`` in the session's stack; return once the
    socket listens in the server host."""
    assert session.stack is not None
    method = method_id
    port = activation.listen_port(spec, session.port_floor, system)
    activated = replace(spec, host_port=port)
    name = session.next_name("u")
    installed, files = plan(session.stack.shell, name, spec, port, str(session.worker_dir), container_workers,
                            mounts, system=system)
    entry = session.state.add("units", units=installed.to_json())
    server = UnitActivatedServer(session, installed, entry, method=method, provider="podman", host_port=port,
                                 netns_pid=session.stack.pid1.pid,
                                 helper_argv=[installed.systemctl("start", f"{name}.socket")])
    server.evidence = {"units": files}
    try:
        install(installed, files)
        wait_host_port(session.lab, activated, f"the {'system' if system else 'user'} socket unit {name}.socket")
    except BaseException:
        server.stop()
        raise
    return server
