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
from typing import Callable, Mapping

from dataclasses import replace

from .. import procs
from ..lab import untrusted
from ..errors import MeasurementError, last_line
from ..methods import METHODS, NetworkMethod
from ..methods import slirp4netns_common
from ..methods.base import Attach, BareArgs
from ..lab.user import BenchUser
from . import activation
from .base import (Availability, Provider, RunningServer, ServerExit, ServerSpec, Session, wait_host_port,
                   wait_server_listening)

HELPER_START_TIMEOUT = 20.0
#: Bring the namespace's loopback up, as Podman's network setup does, then exec the server.
LO_UP_EXEC = 'ip link set lo up && exec "$@"'
#: For a client (outbound), also wait until the helper has configured the namespace (its
#: default route appears), as Podman starts the container only once the network is up.
LO_UP_WAIT_ROUTE_EXEC = ('ip link set lo up && i=0 && until {ready}; do '
                         'i=$((i+1)); [ $i -gt 1000 ] && exit 97; sleep 0.01; done && exec "$@"')
ROUTE_READY = "ip -{family} route show default | grep -q ."
#: For IPv6, in the family's own route (slirp4netns's comes later, from its router
#: advertisement), and no address still in duplicate address detection: pasta
#: 0.0~git20230309 answered a connection the container opened then with bare resets its
#: SYN-SENT socket ignores (seen in 2 of 8 fresh labs; none in 12 after the wait).
IPV6_READY = ROUTE_READY.format(family=6) + " && ! ip -6 addr show tentative | grep -q ."


def gate(spec: ServerSpec) -> str:
    """The shell line that starts the container's command once its namespace is ready."""
    if spec.wait_listening:
        return LO_UP_EXEC
    ready = IPV6_READY if spec.family == 6 else ROUTE_READY.format(family=spec.family)
    return LO_UP_WAIT_ROUTE_EXEC.format(ready=ready)


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

    def __init__(self, helpers: Mapping[str, str] | None = None) -> None:
        #: Helper program -> the binary to run for it (``--pasta`` names another pasta).
        self.helpers = dict(helpers or {})

    def _binary(self, method: NetworkMethod) -> str:
        way = method.bare
        assert way is not None and way.helper is not None
        return method.binary or self.helpers.get(way.helper, way.helper)

    def _helper_name(self, method: NetworkMethod) -> str:
        """The helper as messages name it: "pasta", or "pasta (/path/to/build)" for another binary."""
        way = method.bare
        assert way is not None and way.helper is not None
        binary = self._binary(method)
        return way.helper if binary == way.helper else f"{way.helper} ({binary})"

    def check(self, method_id: str) -> Availability:
        method = METHODS.get(method_id)
        if method is None:
            return Availability(False, f"unknown method {method_id}")
        way = method.bare
        if way is None:
            return Availability(False, method.no_bare or f"the bare provider does not implement {method_id}")
        needed = ([self._binary(method)] if way.helper else []) + list(way.tools)
        for binary in needed:
            if shutil.which(binary) is None:
                return Availability(False, f"{binary} is not installed")
        return Availability(True)

    # ------------------------------------------------------------------ start
    def start(self, session: Session, method_id: str, spec: ServerSpec) -> BareServer:
        method = METHODS[method_id]
        if method.bare is None:
            raise MeasurementError(method.no_bare or f"the bare provider does not implement {method_id}")
        method.refuse_unsupported(spec)
        starters: dict[Attach, Callable[[Session, NetworkMethod, ServerSpec, list], BareServer]] = {
            Attach.SERVER: self._start_host,
            Attach.PASTA: self._start_pasta,
            Attach.SLIRP4NETNS: self._start_slirp4netns,
            Attach.ROOTLESSKIT: self._start_rootlesskit,
            Attach.ACTIVATED: self._start_activated,
        }
        cleanup: list = []  # Spawned or ProcRef, stopped if start fails
        try:
            server = starters[method.bare.attach](session, method, spec, cleanup)
        except BaseException:
            for item in reversed(cleanup):
                if isinstance(item, procs.Spawned):
                    item.stop(grace=1.0)
                    item.close()
                else:
                    procs.stop(item, grace=1.0)
            raise
        if method.publishes_port and spec.publish and method.activation is None:
            try:
                wait_host_port(session.lab, spec, f"the {method_id} port forwarder", server.server.ref.alive)
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
        argv = ["unshare", "--user", "--map-root-user", "--net", "--", "sh", "-c", gate(spec), "sh",
                *spec.command(str(session.worker_dir))]
        holder = self._spawn(session, argv, "server", cleanup, entries)
        if spec.wait_listening:
            # Listening inside its namespace also proves that unshare has happened.
            wait_server_listening(holder.pid, spec, "the server", holder.ref.alive, holder.last_words)
        else:
            def unshared() -> bool:
                if not holder.ref.alive():
                    raise MeasurementError("the container command exited before its namespace was set up")
                return user_namespace_ready(holder.pid)

            procs.wait_until(unshared, timeout=HELPER_START_TIMEOUT, what="the namespace to be created")
        return holder

    def _start_activated(self, session: Session, method: NetworkMethod, spec: ServerSpec, cleanup: list) -> BareServer:
        """The socket made outside, the server in a namespace with no network of its own
        (Podman's --network=none) that inherits it on the first connection."""
        assert method.activation is not None
        system = method.activation.system
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
        return BareServer(session, server, [], [], entries, method=method.id, provider=self.id,
                          host_port=port, netns_pid=server.pid, helper_argv=[activator])

    def _start_host(self, session: Session, method: NetworkMethod, spec: ServerSpec, cleanup: list) -> BareServer:
        entries: list = []
        server = self._spawn(session, spec.command(str(session.worker_dir)), "server", cleanup, entries)
        if spec.wait_listening:
            wait_server_listening(server.pid, spec, "the server", server.ref.alive, server.last_words)
        return BareServer(session, server, [], [], entries, method=method.id, provider=self.id,
                          host_port=spec.published_port, netns_pid=server.pid, helper_argv=[])

    def _start_pasta(self, session: Session, method: NetworkMethod, spec: ServerSpec, cleanup: list) -> BareServer:
        entries: list = []
        helper = self._helper_name(method)
        holder = self._holder(session, spec, cleanup, entries)
        private = session.private_dir(f"helper{holder.pid}")
        pid_file = private / "helper.pid"
        argv = method.bare_argv(BareArgs(spec, self._binary(method), netns_pid=holder.pid, pid_file=str(pid_file)))
        # pasta daemonises once the namespace is configured, as it does under Podman.
        launcher = self._spawn(session, argv, f"{helper} launcher", cleanup, entries)
        code = launcher.wait(HELPER_START_TIMEOUT)
        _, err = launcher.output()
        launcher.close()
        if code != 0:
            raise MeasurementError(f"{helper} exited with {code}: {last_line(err) or '(no error output)'}")
        ref = _ref_from_pid_file(pid_file, helper, session.user)
        cleanup.append(ref)
        entries.append(session.state.add_process(ref, helper))
        return BareServer(session, holder, [], [ref], entries, method=method.id, provider=self.id,
                          host_port=spec.published_port, netns_pid=holder.pid, helper_argv=[argv])

    def _start_slirp4netns(self, session: Session, method: NetworkMethod, spec: ServerSpec,
                           cleanup: list) -> BareServer:
        entries: list = []
        holder = self._holder(session, spec, cleanup, entries)
        private = session.private_dir(f"slirp{holder.pid}")
        api_socket = private / "slirp4netns.sock"
        ready_r, ready_w = os.pipe()
        try:
            argv = method.bare_argv(BareArgs(spec, self._binary(method), netns_pid=holder.pid,
                                             api_socket=str(api_socket), ready_fd=ready_w))
            helper = self._binary(method)
            slirp = self._spawn(session, argv, os.path.basename(helper), cleanup, entries, pass_fds=(ready_w,))
            os.close(ready_w)
            ready_w = -1
            _wait_ready_fd(ready_r, slirp, os.path.basename(helper))
        finally:
            os.close(ready_r)
            if ready_w >= 0:
                os.close(ready_w)
        for protocol in spec.protocols if spec.publish else ():
            _slirp_add_hostfwd(api_socket, protocol, spec.published_port, spec.port, spec.family)
        return BareServer(session, holder, [slirp], [], entries, method=method.id,
                          provider=self.id, host_port=spec.published_port, netns_pid=holder.pid,
                          helper_argv=[argv[argv.index(helper):]])

    def _start_rootlesskit(self, session: Session, method: NetworkMethod, spec: ServerSpec,
                           cleanup: list) -> BareServer:
        entries: list = []
        helper = os.path.basename(self._binary(method))
        private = session.private_dir(session.next_name(helper))
        state_dir = private / "state"
        argv = method.bare_argv(BareArgs(spec, self._binary(method), state_dir=str(state_dir),
                                         command=("sh", "-c", gate(spec), "sh",
                                                  *spec.command(str(session.worker_dir)))))
        kit = self._spawn(session, argv, helper, cleanup, entries)
        child_pid_file = state_dir / "child_pid"
        api_socket = state_dir / "api.sock"

        def started() -> bool:
            if not kit.ref.alive():
                if not spec.wait_listening:
                    return True  # a client that already finished: collect() has its output
                _, err = kit.output()
                raise MeasurementError(f"{helper} exited: {last_line(err) or '(no error output)'}")
            try:
                return api_socket.exists() and untrusted.read_pid(child_pid_file) > 1
            except MeasurementError:
                return False

        procs.wait_until(started, timeout=HELPER_START_TIMEOUT, what=f"{helper} to start")
        if not kit.ref.alive():
            return BareServer(session, kit, [], [], entries, method=method.id, provider=self.id,
                              host_port=spec.published_port, netns_pid=0, helper_argv=[argv])
        child = untrusted.read_pid(child_pid_file)
        untrusted.check_owned(child, session.user, f"{helper}'s {child_pid_file}")
        if spec.wait_listening:
            wait_server_listening(child, spec, f"the server under {helper}", kit.ref.alive)
        for protocol in spec.protocols if spec.publish else ():
            procs.run(session.user.argv(["rootlessctl", "--socket", str(api_socket), "add-ports",
                                         f"{spec.any_host(spec.published_port)}:{spec.port}/{protocol}"]),
                      timeout=HELPER_START_TIMEOUT)
        return BareServer(session, kit, [], [], entries, method=method.id, provider=self.id,
                          host_port=spec.published_port, netns_pid=child, helper_argv=[argv])


def user_namespace_ready(pid: int) -> bool:
    """``unshare --user --map-root-user`` has made the process's user namespace and written its
    uid map. Until then the process (still nsenter, setpriv or env on its way to unshare) is in
    the initial user namespace (ours: the suite runs as root in it), whose uid_map is not empty
    either, and a helper joining "its" user namespace would join its own (nsenter: Invalid
    argument)."""
    try:
        if os.stat(f"/proc/{pid}/ns/user").st_ino == os.stat("/proc/self/ns/user").st_ino:
            return False
        with open(f"/proc/{pid}/uid_map") as fh:
            return bool(fh.read(256).strip())
    except OSError:
        return False


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


def _slirp_add_hostfwd(api_socket: Path, protocol: str, host_port: int, guest_port: int, family: int = 4) -> None:
    """Ask slirp4netns to forward a host port, as Podman's slirp4netns port handler does. For
    IPv6, the form slirp4netns's later API documents (proto tcp6, its own guest address)."""
    if family == 6:
        request: dict[str, object] = {"execute": "add_hostfwd", "arguments": {
            "proto": f"{protocol}6", "host_port": host_port, "guest_port": guest_port}}
    else:
        request = {"execute": "add_hostfwd", "arguments": {
            "proto": protocol, "host_addr": "0.0.0.0", "host_port": host_port,
            "guest_addr": slirp4netns_common.GUEST_ADDR, "guest_port": guest_port}}
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

