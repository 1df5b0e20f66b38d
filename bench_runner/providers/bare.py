"""The ``bare`` provider: the same helpers as Podman uses, without Podman.

Each server gets a user+network namespace of its own (an ``unshare`` holder that execs the
server), and the method's helper is attached the way Podman attaches it, with the same
flags: pasta with ``--config-net``, slirp4netns with ``--configure --mtu=65520
--disable-host-loopback --enable-sandbox --enable-seccomp`` and its API socket, or
rootlesskit with the builtin port driver. It lets a machine whose Podman has no pasta
measure pasta, and a passt developer measure a pasta binary of their own (``--pasta``).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
from pathlib import Path
from typing import Callable

from dataclasses import replace

from .. import lab as lab_mod
from .. import procs, untrusted
from ..errors import MeasurementError, last_line
from ..matrix import METHODS
from ..user import BenchUser
from . import activation
from .base import (BIND_DEVICE, HOST_LOOPBACK, TCP_NS, Availability, Provider, RunningServer, ServerExit,
                   ServerSpec, Session, UnsupportedOption, wait_host_port, wait_server_listening)

HELPER_START_TIMEOUT = 20.0
SLIRP_GUEST_ADDR = "10.0.2.100"
#: Podman's slirp4netns flags (libpod/networking_slirp4netns.go), minus its fd plumbing.
SLIRP_FLAGS = ("--configure", "--mtu=65520", "--enable-sandbox", "--enable-seccomp")
NO_HOST_LOOPBACK = "--disable-host-loopback"
#: Bring the namespace's loopback up, as Podman's network setup does, then exec the server.
LO_UP_EXEC = 'ip link set lo up && exec "$@"'
#: For a client (outbound), also wait until the helper has configured the namespace (its
#: default route appears), as Podman starts the container only once the network is up.
LO_UP_WAIT_ROUTE_EXEC = ('ip link set lo up && i=0 && until ip -4 route show default | grep -q .; do '
                         'i=$((i+1)); [ $i -gt 1000 ] && exit 97; sleep 0.01; done && exec "$@"')


def _required(method: str) -> tuple[str, ...]:
    return {
        activation.USER: (activation.ACTIVATOR, "unshare"),
        activation.SYSTEM: (activation.ACTIVATOR, "unshare"),
        "host": (),
        "pasta": ("pasta", "unshare"),
        "slirp4netns-slirp4netns": ("slirp4netns", "unshare", "nsenter"),
        "slirp4netns-rootlesskit": ("rootlesskit", "rootlessctl", "slirp4netns"),
    }.get(method, ("?",))


class BareServer(RunningServer):
    """The server process (or the rootlesskit parent that waits for it) plus helpers."""

    def __init__(self, session: Session, server: procs.Spawned, helpers: list[procs.Spawned],
                 helper_refs: list[procs.ProcRef], entries: list[dict[str, object]], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.session = session
        self.server = server
        self.helpers = helpers
        self.helper_refs = helper_refs
        self.entries = entries

    def collect(self, timeout: float) -> ServerExit:
        return ServerExit.of(self.server, timeout)

    def stop(self) -> list[str]:
        problems = []
        for ref in self.helper_refs:
            if not procs.stop(ref, grace=1.0):
                problems.append(f"helper {ref.pid} did not stop")
        for spawned in [*self.helpers, self.server]:
            spawned.stop(grace=2.0)
            if spawned.ref.alive():
                problems.append(f"{spawned.argv[0]} ({spawned.pid}) did not stop")
            spawned.close()
        return self.session.state.forget_if_gone(self.entries, problems)


class BareProvider(Provider):
    id = "bare"

    def __init__(self, pasta_binary: str = "pasta") -> None:
        self.pasta_binary = pasta_binary

    def check(self, method: str) -> Availability:
        if method not in ("host", "pasta", "slirp4netns-slirp4netns", "slirp4netns-rootlesskit", *activation.METHODS):
            return Availability(False, f"the bare provider does not implement {method}")
        for tool in _required(method):
            binary = self.pasta_binary if tool == "pasta" else tool
            if shutil.which(binary) is None:
                return Availability(False, f"{binary} is not installed")
        return Availability(True)

    # ------------------------------------------------------------------ start
    @staticmethod
    def _refuse(spec: ServerSpec, method: str, *names: str) -> None:
        for name in names:
            if spec.option(name) is not None:
                what = {TCP_NS: "forward the container's loopback to the host's",
                        BIND_DEVICE: "bind the published port to a device"}[name]
                if method == "host":
                    raise UnsupportedOption(f"with host networking the server itself must {what}")
                raise UnsupportedOption(f"{method} has no option to {what}")

    def start(self, session: Session, method: str, spec: ServerSpec) -> BareServer:
        starters: dict[str, Callable[[Session, ServerSpec, list], BareServer]] = {
            "host": self._start_host,
            "pasta": self._start_pasta,
            "slirp4netns-slirp4netns": self._start_slirp4netns,
            "slirp4netns-rootlesskit": self._start_rootlesskit,
            activation.USER: lambda s, sp, c: self._start_activated(s, sp, c, system=False),
            activation.SYSTEM: lambda s, sp, c: self._start_activated(s, sp, c, system=True),
        }
        if method not in starters:
            raise MeasurementError(f"the bare provider does not implement {method}")
        cleanup: list = []  # Spawned or ProcRef, stopped if start fails
        try:
            server = starters[method](session, spec, cleanup)
        except BaseException:
            for item in reversed(cleanup):
                if isinstance(item, procs.Spawned):
                    item.stop(grace=1.0)
                    item.close()
                else:
                    procs.stop(item, grace=1.0)
            raise
        if METHODS[method].publishes_port and spec.publish and method not in activation.METHODS:
            try:
                wait_host_port(session.lab, spec, f"the {method} port forwarder", server.server.ref.alive)
            except BaseException:
                server.stop()  # a forwarder that never listened must not outlive its trial
                raise
        return server

    def _spawn(self, session: Session, argv: list[str], label: str, cleanup: list,
               entries: list, pass_fds: tuple[int, ...] = ()) -> procs.Spawned:
        spawned = procs.Spawned(session.user.argv(argv, netns_path=session.lab.server_ns_path), pass_fds=pass_fds)
        cleanup.append(spawned)
        entries.append(session.state.add_process(spawned.ref, label))
        return spawned

    def _holder(self, session: Session, spec: ServerSpec, cleanup: list, entries: list) -> procs.Spawned:
        """The server (or client) in a fresh user+network namespace of its own."""
        gate = LO_UP_EXEC if spec.wait_listening else LO_UP_WAIT_ROUTE_EXEC
        argv = ["unshare", "--user", "--map-root-user", "--net", "--", "sh", "-c", gate, "sh",
                *spec.command(str(session.worker_dir))]
        holder = self._spawn(session, argv, "server", cleanup, entries)
        if spec.wait_listening:
            # Listening inside its namespace also proves that unshare has happened.
            wait_server_listening(holder.pid, spec, "the server", holder.ref.alive, holder.last_words)
        else:
            outer = lab_mod.netns_inode(session.lab.server_ns)

            def unshared() -> bool:
                """The namespaces exist and the user namespace has its uid map: unshare
                --map-root-user writes that just after the namespaces appear, and a helper
                joining the namespace before it would fail (nsenter: Invalid argument)."""
                if not holder.ref.alive():
                    raise MeasurementError("the container command exited before its namespace was set up")
                try:
                    if os.stat(f"/proc/{holder.pid}/ns/net").st_ino == outer:
                        return False
                    with open(f"/proc/{holder.pid}/uid_map") as fh:
                        return bool(fh.read(256).strip())
                except OSError:
                    return False

            procs.wait_until(unshared, timeout=HELPER_START_TIMEOUT, what="the namespace to be created")
        return holder

    def _start_activated(self, session: Session, spec: ServerSpec, cleanup: list, *, system: bool) -> BareServer:
        """The socket made outside, the server in a namespace with no network of its own
        (Podman's --network=none) that inherits it on the first connection."""
        method = activation.SYSTEM if system else activation.USER
        port = activation.listen_port(spec, session.port_floor, system)
        activated = replace(spec, host_port=port)
        inner = ["unshare", "--user", "--map-root-user", "--net", "--", "sh", "-c", LO_UP_EXEC, "sh",
                 *spec.command(str(session.worker_dir))]
        activator = activation.activator_argv(activated, port, str(session.worker_dir))
        entries: list = []
        if system:
            # Root makes the socket (as a system socket unit would), then the service runs as
            # the unprivileged user (as User= would).
            argv = session.lab.in_server([*activator, *session.user.argv(inner, pass_env=activation.LISTEN_ENV)])
            server = procs.Spawned(argv)
            cleanup.append(server)
            entries.append(session.state.add_process(server.ref, "socket activation"))
        else:
            server = self._spawn(session, [*activator, *inner], "socket activation", cleanup, entries)
        wait_host_port(session.lab, activated, f"the socket unit ({activator[0]})", server.ref.alive,
                       server.last_words)
        return BareServer(session, server, [], [], entries, method=method, provider=self.id,
                          host_port=port, netns_pid=server.pid, helper_argv=[activator])

    def _start_host(self, session: Session, spec: ServerSpec, cleanup: list) -> BareServer:
        self._refuse(spec, "host", BIND_DEVICE)
        entries: list = []
        server = self._spawn(session, spec.command(str(session.worker_dir)), "server", cleanup, entries)
        if spec.wait_listening:
            wait_server_listening(server.pid, spec, "the server", server.ref.alive, server.last_words)
        return BareServer(session, server, [], [], entries, method="host", provider=self.id,
                          host_port=spec.published_port, netns_pid=server.pid, helper_argv=[])

    def _start_pasta(self, session: Session, spec: ServerSpec, cleanup: list) -> BareServer:
        entries: list = []
        holder = self._holder(session, spec, cleanup, entries)
        private = session.private_dir(f"pasta{holder.pid}")
        pid_file = private / "pasta.pid"
        forward = f"{spec.published_port}:{spec.port}"
        device = spec.option(BIND_DEVICE)
        tcp = (f"0.0.0.0%{device}/{forward}" if device else forward) if spec.publish and "tcp" in spec.protocols else "none"
        udp = forward if spec.publish and "udp" in spec.protocols else "none"
        tcp_ns = spec.option(TCP_NS) or "none"
        # Podman passes --no-map-gw unless asked for --map-gw; this pasta maps by default.
        gateway = [] if spec.option(HOST_LOOPBACK) is not None else ["--no-map-gw"]
        argv = [self.pasta_binary, "--config-net", "--quiet", *gateway,
                "-t", tcp, "-u", udp, "-T", tcp_ns, "-U", "none",
                "--netns", f"/proc/{holder.pid}/ns/net", "--userns", f"/proc/{holder.pid}/ns/user",
                "--pid", str(pid_file)]
        # pasta daemonises once the namespace is configured, as it does under Podman.
        launcher = self._spawn(session, argv, "pasta launcher", cleanup, entries)
        code = launcher.wait(HELPER_START_TIMEOUT)
        _, err = launcher.output()
        launcher.close()
        if code != 0:
            raise MeasurementError(f"pasta exited with {code}: {last_line(err) or '(no error output)'}")
        ref = _ref_from_pid_file(pid_file, "pasta", session.user)
        cleanup.append(ref)
        entries.append(session.state.add_process(ref, "pasta"))
        return BareServer(session, holder, [], [ref], entries, method="pasta", provider=self.id,
                          host_port=spec.published_port, netns_pid=holder.pid, helper_argv=[argv])

    def _start_slirp4netns(self, session: Session, spec: ServerSpec, cleanup: list) -> BareServer:
        self._refuse(spec, "slirp4netns-slirp4netns", TCP_NS, BIND_DEVICE)
        loopback = [] if spec.option(HOST_LOOPBACK) is not None else [NO_HOST_LOOPBACK]
        entries: list = []
        holder = self._holder(session, spec, cleanup, entries)
        private = session.private_dir(f"slirp{holder.pid}")
        api_socket = private / "slirp4netns.sock"
        ready_r, ready_w = os.pipe()
        try:
            # slirp4netns must sit in the server host's network namespace but inside the
            # namespace owner's user namespace, as Podman runs it.
            argv = ["nsenter", f"--user=/proc/{holder.pid}/ns/user", "--preserve-credentials", "--",
                    "slirp4netns", *SLIRP_FLAGS, *loopback, "--api-socket", str(api_socket), "--ready-fd", str(ready_w),
                    "--netns-type=path", f"/proc/{holder.pid}/ns/net", "tap0"]
            slirp = self._spawn(session, argv, "slirp4netns", cleanup, entries, pass_fds=(ready_w,))
            os.close(ready_w)
            ready_w = -1
            _wait_ready_fd(ready_r, slirp, "slirp4netns")
        finally:
            os.close(ready_r)
            if ready_w >= 0:
                os.close(ready_w)
        for protocol in spec.protocols if spec.publish else ():
            _slirp_add_hostfwd(api_socket, protocol, spec.published_port, spec.port)
        return BareServer(session, holder, [slirp], [], entries, method="slirp4netns-slirp4netns",
                          provider=self.id, host_port=spec.published_port, netns_pid=holder.pid,
                          helper_argv=[argv[argv.index("slirp4netns"):]])

    def _start_rootlesskit(self, session: Session, spec: ServerSpec, cleanup: list) -> BareServer:
        self._refuse(spec, "slirp4netns-rootlesskit", TCP_NS, BIND_DEVICE)
        loopback = [] if spec.option(HOST_LOOPBACK) is not None else [NO_HOST_LOOPBACK]
        entries: list = []
        private = session.private_dir(session.next_name("rootlesskit"))
        state_dir = private / "state"
        gate = LO_UP_EXEC if spec.wait_listening else LO_UP_WAIT_ROUTE_EXEC
        argv = ["rootlesskit", "--net=slirp4netns", "--mtu=65520", *loopback,
                "--slirp4netns-sandbox=auto", "--slirp4netns-seccomp=auto", "--port-driver=builtin",
                "--state-dir", str(state_dir), "--", "sh", "-c", gate, "sh",
                *spec.command(str(session.worker_dir))]
        kit = self._spawn(session, argv, "rootlesskit", cleanup, entries)
        child_pid_file = state_dir / "child_pid"
        api_socket = state_dir / "api.sock"

        def started() -> bool:
            if not kit.ref.alive():
                if not spec.wait_listening:
                    return True  # a client that already finished: collect() has its output
                _, err = kit.output()
                raise MeasurementError(f"rootlesskit exited: {last_line(err) or '(no error output)'}")
            try:
                return api_socket.exists() and untrusted.read_pid(child_pid_file) > 1
            except MeasurementError:
                return False

        procs.wait_until(started, timeout=HELPER_START_TIMEOUT, what="rootlesskit to start")
        if not kit.ref.alive():
            return BareServer(session, kit, [], [], entries, method="slirp4netns-rootlesskit", provider=self.id,
                              host_port=spec.published_port, netns_pid=0, helper_argv=[argv])
        child = untrusted.read_pid(child_pid_file)
        untrusted.check_owned(child, session.user, f"rootlesskit's {child_pid_file}")
        if spec.wait_listening:
            wait_server_listening(child, spec, "the server under rootlesskit", kit.ref.alive)
        for protocol in spec.protocols if spec.publish else ():
            procs.run(session.user.argv(["rootlessctl", "--socket", str(api_socket), "add-ports",
                                         f"0.0.0.0:{spec.published_port}:{spec.port}/{protocol}"]),
                      timeout=HELPER_START_TIMEOUT)
        return BareServer(session, kit, [], [], entries, method="slirp4netns-rootlesskit", provider=self.id,
                          host_port=spec.published_port, netns_pid=child, helper_argv=[argv])


def _ref_from_pid_file(path: Path, what: str, user: BenchUser) -> procs.ProcRef:
    """The helper's pid from the pid file it wrote in the user's directory: read without
    trusting the file, and accepted only for a process of the benchmark user."""
    try:
        pid = untrusted.read_pid(path)
    except MeasurementError as exc:
        raise MeasurementError(f"{what} wrote no usable pid file ({exc})") from None
    untrusted.check_owned(pid, user, f"{what}'s pid file {path}")
    ref = procs.ProcRef.of(pid)
    if ref is None:
        raise MeasurementError(f"{what} (pid {pid}) is not running")
    return ref


def _wait_ready_fd(fd: int, process: procs.Spawned, what: str) -> None:
    readable, _, _ = select.select([fd], [], [], HELPER_START_TIMEOUT)
    if not readable:
        raise MeasurementError(f"{what} did not report ready within {HELPER_START_TIMEOUT:g} s")
    data = os.read(fd, 16)
    if not data.startswith(b"1"):
        _, err = process.output()
        raise MeasurementError(f"{what} failed to start: {last_line(err) or '(no error output)'}")


def _slirp_add_hostfwd(api_socket: Path, protocol: str, host_port: int, guest_port: int) -> None:
    """Ask slirp4netns to forward a host port, as Podman's slirp4netns port handler does."""
    request = {"execute": "add_hostfwd", "arguments": {
        "proto": protocol, "host_addr": "0.0.0.0", "host_port": host_port,
        "guest_addr": SLIRP_GUEST_ADDR, "guest_port": guest_port}}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(HELPER_START_TIMEOUT)
            sock.connect(str(api_socket))
            sock.sendall(json.dumps(request).encode())
            sock.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
    except OSError as exc:
        raise MeasurementError(f"slirp4netns API {api_socket}: {exc}") from None
    try:
        answer = json.loads(reply or b"{}")
    except ValueError:
        raise MeasurementError(f"slirp4netns API answered {reply[:200]!r}") from None
    if "return" not in answer:
        raise MeasurementError(f"slirp4netns refused add_hostfwd {protocol}/{host_port}: {answer.get('error', answer)}")

