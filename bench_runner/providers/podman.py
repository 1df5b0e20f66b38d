"""The ``podman`` provider: a real ``podman run`` with the method's ``--network`` option, a
published port and the local image, as the benchmark user inside the server host."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from ..lab import hosts as lab, runstate, untrusted
from .. import procs
from ..errors import BenchError, CommandFailed, MeasurementError, last_line
from ..methods import METHODS, NetworkMethod
from ..parsers import releasenotes
from ..paths import IMAGE
from ..stacks.detect import version_tuple
from ..lab.user import BenchUser
from . import activation
from .base import (BIND_DEVICE, Availability, Provider, RunningServer, ServerExit, ServerSpec, Session,
                   wait_host_port, wait_server_listening)

PODMAN_TIMEOUT = 60.0
#: The server host's own programs, read-only: containers run exactly its iperf3 and Python
#: (this machine's, or a booted stack's).
MOUNTS = ("/usr:/usr:ro", "/etc/ld.so.cache:/etc/ld.so.cache:ro")
HOST_MOUNTS = tuple(arg for mount in MOUNTS for arg in ("-v", mount))
#: Where the worker programs appear inside containers.
CONTAINER_WORKERS = "/opt/netbench-workers"
#: The release notes Podman's Debian package ships: what a release removed is read from them.
RELEASE_NOTES = ("usr/share/doc/podman/RELEASE_NOTES.md.gz", "usr/share/doc/podman/RELEASE_NOTES.md")
RELEASE_NOTES_LIMIT = 8 << 20


#: How to run ``podman ARGS`` as the benchmark user where the containers are.
PodmanArgv = Callable[[list[str]], list[str]]


def podman_argv(user: BenchUser, args: list[str], netns_path: str | None = None) -> list[str]:
    return user.argv(["podman", *args], netns_path=netns_path)


def session_podman(session: Session) -> PodmanArgv:
    """Podman in the session's server host: this machine's, or the booted stack's."""
    return lambda args: session.as_user(["podman", *args])


def run_argv(name: str, network: str, spec: ServerSpec, worker_dir: str, *, publish: bool = True) -> list[str]:
    """The ``podman run`` arguments for one server (without the user wrapper); ``publish``
    is False where the method publishes nothing (the host's own network, none)."""
    ports: list[str] = []
    if publish and spec.publish:
        for protocol in spec.protocols:
            if protocol == "tcp" and spec.option(BIND_DEVICE) is not None:
                continue  # a method that binds to a device publishes that port through its own option
            ports += ["-p", f"{spec.published_port}:{spec.port}/{protocol}"]
    return ["run", "-d", "--pull=never", "--name", name, f"--network={network}", *ports, *HOST_MOUNTS,
            "-v", f"{worker_dir}:{CONTAINER_WORKERS}:ro", IMAGE, *spec.command(CONTAINER_WORKERS)]


class PodmanServer(RunningServer):
    def __init__(self, session: Session, name: str, entries: list[dict[str, Any]], refs: list[procs.ProcRef],
                 network: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.name = name
        self.entries = entries
        self.refs = refs
        #: The network made for this container (a bridge method), removed with it.
        self.network = network

    def _podman(self, args: list[str], timeout: float = PODMAN_TIMEOUT) -> procs.ProcessResult:
        return procs.run(session_podman(self.session)(args), timeout=timeout)

    def collect(self, timeout: float) -> ServerExit:
        waited = self._podman(["wait", self.name], timeout=timeout)
        code = waited.stdout.strip().splitlines()[-1] if waited.stdout.strip() else ""
        logs = self._podman(["logs", self.name])
        return ServerExit(int(code) if code.lstrip("-").isdigit() else None, logs.stdout, logs.stderr)

    def stop(self) -> list[str]:
        problems = remove_container(session_podman(self.session), self.name, self.refs, self.network)
        return self.session.state.forget_if_gone(self.entries, problems)


def read_release_notes(root: Path) -> str:
    """The release notes of the Podman installed under ``root`` (a stack's root filesystem is
    root's own: it is built by root, and the benchmark user owns only its home there)."""
    import gzip

    for name in RELEASE_NOTES:
        path = root / name
        if not path.is_file() or path.is_symlink():
            continue
        try:
            with (gzip.open(path, "rb") if name.endswith(".gz") else open(path, "rb")) as fh:
                return fh.read(RELEASE_NOTES_LIMIT).decode("utf-8", errors="replace")
        except (OSError, EOFError):
            return ""
    return ""


def remove_container(podman: PodmanArgv, name: str, refs: list[procs.ProcRef], network: str | None = None, *,
                     log: Any = lambda s: None) -> list[str]:
    """``podman rm -f``, then make sure conmon and the server really are gone: once a
    rootless ``runc kill`` failed and left both running. Then the container's own network."""
    problems = []
    try:
        cleanup_call(podman, ["rm", "-f", "-t", "0", "--ignore", name], log=log)
    except BenchError as exc:
        problems.append(f"podman rm {name}: {exc}")
    for ref in refs:
        if not procs.stop(ref, grace=1.0):
            problems.append(f"process {ref.pid} of container {name} did not stop")
    if network is not None:
        try:
            cleanup_call(podman, ["network", "rm", "-f", network], log=log)
        except BenchError as exc:
            problems.append(f"podman network rm {network}: {exc}")
    return problems


#: What Podman says when its state names processes that are all gone (a run killed with the
#: pause process, conmon and the container): no call of the user works until it is migrated.
STALE_STATE_ADVICE = "system migrate"


def cleanup_call(podman: PodmanArgv, args: list[str], *, log: Any = lambda s: None) -> procs.ProcessResult:
    """One Podman call that removes or lists what a run left. A state a killed run left stale
    is reset with ``podman system migrate``, as Podman advises, and the call made again:
    otherwise neither this cleanup nor any later Podman call of the user (the set-up's, the
    next run's) works."""
    try:
        return procs.run(podman(args), timeout=PODMAN_TIMEOUT)
    except CommandFailed as exc:
        if STALE_STATE_ADVICE not in exc.stderr:
            raise
    log("Podman's state names processes that are gone (a killed run): podman system migrate")
    # Its exit status is no verdict: it may stop the container and still exit 125 ("timed out
    # waiting for file .../exits/ID", as no conmon writes it). Whether Podman works again is.
    migrated = procs.run(podman(["system", "migrate"]), timeout=PODMAN_TIMEOUT, check=False)
    try:
        return procs.run(podman(args), timeout=PODMAN_TIMEOUT)
    except CommandFailed as exc:
        raise CommandFailed(exc.argv, exc.returncode, f"{exc.stderr.rstrip()} (after podman system migrate, which "
                            f"exited {migrated.returncode}: {last_line(migrated.stderr) or 'no error output'})") from exc


def remove_container_entry(entry: dict[str, Any], *, log: Any = lambda s: None) -> list[str]:
    """Remove a container a run state recorded (its run's teardown, or a stale state)."""
    refs = [procs.ProcRef.from_json(r) for r in entry.get("processes", [])]
    if entry.get("stack"):
        from ..stacks.shell import StackShell

        shell = StackShell.from_json(entry["stack"])
        if not shell.pid1.alive():
            return []  # powered off: its containers ended with it
        return remove_container(lambda args: shell.user_argv(["podman", *args]), entry["name"], refs,
                                entry.get("network"), log=log)
    user = BenchUser.lookup(entry["user"])
    return remove_container(lambda args: podman_argv(user, args), entry["name"], refs, entry.get("network"), log=log)




def remove_orphaned_containers(live_tags: set[str], *, log: Any = lambda s: None) -> list[str]:
    """Containers named for a run that no longer lives, whose run state is gone (SIGKILL
    between ``podman run`` and the state being saved, or a state removed by hand). Only the
    benchmark user's containers with the suite's name pattern are touched."""
    if shutil.which("podman") is None:
        return []
    try:
        user = BenchUser.lookup()
    except BenchError:
        return []
    with runstate.podman_runtime(user) as problems:
        try:
            names = container_names(user, log=log)
        except BenchError as exc:
            problems.append(str(exc))
            names = []
        for name in names:
            tag = lab.tag_of_resource(name)
            if tag is not None and tag not in live_tags:
                log(f"removing orphaned container {name}")
                problems += remove_container(lambda args: podman_argv(user, args), name, [], log=log)
    return problems


def container_names(user: BenchUser, *, log: Any = lambda s: None) -> list[str]:
    """Every container of the user (needs its runtime directory: see podman_runtime)."""
    return cleanup_call(lambda args: podman_argv(user, args), ["ps", "-a", "--format", "{{.Names}}"],
                        log=log).stdout.split()


class ActivatedPodmanServer(RunningServer):
    """``systemd-socket-activate -- podman run --network=none ...``: Podman in the
    foreground, as a service unit runs it; the container's output comes through it."""

    def __init__(self, session: Session, name: str, process: procs.Spawned, entries: list[dict[str, Any]],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.name = name
        self.process = process
        self.entries = entries

    def collect(self, timeout: float) -> ServerExit:
        return ServerExit.of(self.process, timeout)

    def stop(self) -> list[str]:
        self.process.stop(grace=3.0)
        problems = remove_container(session_podman(self.session), self.name, [])
        if self.process.ref.alive():
            problems.append(f"podman ({self.process.pid}) did not stop")
        self.process.close()
        return self.session.state.forget_if_gone(self.entries, problems)


class PodmanProvider(Provider):
    id = "podman"

    def __init__(self, podman_version: str | None, *, stack_root: Path | None = None) -> None:
        self.version = podman_version
        #: A booted stack's root filesystem: its programs are the ones that run, not this machine's.
        self.stack_root = stack_root
        self._notes: str | None = None

    def release_notes(self) -> str:
        """The installed Podman's own release notes ("" where its package ships none), read once."""
        if self._notes is None:
            self._notes = read_release_notes(self.stack_root or Path("/"))
        return self._notes

    def _installed(self, program: str) -> bool:
        if self.stack_root is None:
            return shutil.which(program) is not None
        return any((self.stack_root / d / program).exists() for d in ("usr/bin", "usr/sbin"))

    def check(self, method_id: str) -> Availability:
        if not self._installed("podman") or self.version is None:
            return Availability(False, "podman is not installed")
        method = METHODS.get(method_id)
        if method is None:
            return Availability(False, f"unknown method {method_id}")
        if method.activation is not None:
            if self.stack_root is None:
                return activation.availability()
            # The stack's own systemd runs the socket units; the user variant's service comes
            # from Quadlet, which Podman has had since 4.4.
            if not method.activation.system and not (self.stack_root / "usr/libexec/podman/quadlet").exists():
                return Availability(False, f"Podman {self.version} has no Quadlet (needs 4.4 or later)")
            return Availability(True)
        way = method.podman
        if way is None or way.network is None:
            return Availability(False, method.no_podman or f"{method_id} is not a Podman network mode")
        if version_tuple(self.version) < way.since:
            since = ".".join(map(str, way.since))
            return Availability(False, f"Podman {self.version} has no {way.feature} (needs {since} or later)")
        for program, _package in way.programs:
            removed = releasenotes.removal_of(self.release_notes(), program)
            if removed is not None and version_tuple(self.version) >= version_tuple(removed.version):
                return Availability(False, f"Podman {self.version} has no {program}: its release notes say, for "
                                           f"{removed.version}, \"{removed.words}\"")
        for program, package in way.programs:
            if not self._installed(program):
                return Availability(False, f"{program} (package {package}) is not installed")
        return Availability(True)

    def start(self, session: Session, method_id: str, spec: ServerSpec) -> RunningServer:
        method = METHODS[method_id]
        if method.activation is not None:
            if session.stack is not None:
                from . import unitserver

                return unitserver.start(session, spec, method_id=method.id, system=method.activation.system,
                                        container_workers=CONTAINER_WORKERS, mounts=MOUNTS)
            return self._start_activated(session, method, spec)
        way = method.podman
        assert way is not None
        name = session.next_name("c")
        podman = session_podman(session)
        network_name = f"{name}-net" if way.own_network else None
        # Refuses what the method cannot do before anything is recorded or started.
        network = method.podman_network(spec, network_name)
        entry = session.state.add("container", name=name, user=session.user.name, processes=[],
                                  **({"stack": session.stack.shell.to_json()} if session.stack is not None else {}),
                                  **({"network": network_name} if network_name else {}))
        args = run_argv(name, network, spec, str(session.worker_dir), publish=method.publishes_port)
        helper_argv = [["podman", *args]]
        try:
            if network_name is not None:
                create = ["network", "create", *(way.create_options(spec) if way.create_options else []),
                          network_name]
                procs.run(podman(create), timeout=PODMAN_TIMEOUT)
                helper_argv.insert(0, ["podman", *create])
            procs.run(podman(args), timeout=PODMAN_TIMEOUT)
            inspect = procs.run(podman(["inspect", "--format", "{{.State.Pid}} {{.State.ConmonPid}}", name]),
                                timeout=PODMAN_TIMEOUT)
            pids = [int(p) for p in inspect.stdout.split() if p.isdigit() and p != "0"]
            found = [session.stack.shell.host_pid(p) if session.stack is not None else procs.ProcRef.of(p)
                     for p in pids]
            # Podman reports them, so they are only taken for processes of the benchmark user.
            refs = [ref for ref in found if ref is not None and untrusted.owned_by(ref.pid, session.user)]
            entry["processes"] = [r.to_json() for r in refs]
            session.state.save()
            if not refs and spec.wait_listening:
                logs = procs.run(podman(["logs", name]), timeout=PODMAN_TIMEOUT, check=False)
                said = last_line(logs.stderr + "\n" + logs.stdout)
                raise MeasurementError(f"the server in container {name} exited before it was listening"
                                       + (f": {said}" if said else ""))
            server = PodmanServer(session, name, [entry], refs, network_name, method=method.id, provider=self.id,
                                  host_port=spec.published_port, netns_pid=refs[0].pid if refs else 0,
                                  helper_argv=helper_argv)
            if spec.wait_listening:
                wait_server_listening(refs[0].pid, spec, f"the server in container {name}", refs[0].alive)
            if method.publishes_port and spec.publish:
                wait_host_port(session.lab, spec, f"the {method.id} port forwarder", refs[0].alive)
        except BaseException:
            session.state.forget_if_gone(
                [entry], remove_container(podman, name, [procs.ProcRef.from_json(r) for r in entry["processes"]],
                                          network_name))
            raise
        return server

    def _start_activated(self, session: Session, method: NetworkMethod, spec: ServerSpec) -> ActivatedPodmanServer:
        assert method.activation is not None
        system = method.activation.system
        port = activation.listen_port(spec, session.port_floor, system)
        activated = replace(spec, host_port=port)
        activator = activation.activator_argv(activated, port, str(session.worker_dir))
        name = session.next_name("c")
        args = ["run", "--rm", "--pull=never", "--name", name, "--network=none", *HOST_MOUNTS,
                "-v", f"{session.worker_dir}:{CONTAINER_WORKERS}:ro", IMAGE, *spec.command(CONTAINER_WORKERS)]
        entries = [session.state.add("container", name=name, user=session.user.name, processes=[])]
        if system:
            # Root makes the socket below the floor, as a system socket unit; Podman runs as the
            # unprivileged user, as a service with User= does.
            argv = session.lab.in_server([*activator, *session.user.argv(["podman", *args],
                                                                         pass_env=activation.LISTEN_ENV)])
        else:
            argv = session.user.argv([*activator, "podman", *args], netns_path=session.lab.server_ns_path)
        process = procs.Spawned(argv)
        entries.append(session.state.add_process(process.ref, "socket activation"))
        server = ActivatedPodmanServer(session, name, process, entries, method=method.id, provider=self.id,
                                       host_port=port, netns_pid=process.pid,
                                       helper_argv=[[*activator, "podman", *args]])
        try:
            wait_host_port(session.lab, activated, f"the socket unit ({activator[0]})", process.ref.alive,
                           process.last_words)
        except BaseException:
            server.stop()
            raise
        return server
