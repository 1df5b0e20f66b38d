"""Probes that observe the guide's claims under each method, in the run's lab and with the
run's provider: device binding, the port floor, outbound to the host's localhost (by default
and with the option that allows it), and outbound to a remote host; over IPv4, and over IPv6
too when the run measures it.

Each probe tries the thing and records what happened, with the evidence; a probe that cannot
run records that instead of guessing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Callable

from ..lab import linkinfo, observe
from .. import procs
from ..analysis.claims import Observation
from ..errors import BenchError, MeasurementError
from ..methods import METHODS
from ..methods.base import DEVICE_BINDING, HOST_LOOPBACK_DEFAULT, MINIMUM_PORT, OUTBOUND_REMOTE
from ..providers import Provider, Session
from ..providers.base import BIND_DEVICE, HOST_LOOPBACK, TCP_NS, RunningServer, ServerSpec, UnsupportedOption
from ..workloads.serverspec import ANY_ADDRESS, IP_FAMILY

PROBE = ("python3", "-I", "{workers}/probe.py")
# Every probe connection has the client speak first: pasta 2023_03_09 (Debian 12) did not
# pass data a server sent first over its tap path until the client had sent something.
PORT_BASE = 21000
CONTAINER_PORT = 8080
#: Below the usual unprivileged floor (1024).
LOW_PORT = 80
PROBE_TIMEOUT = 30.0


#: The server host's loopback and its every-address, by IP family.
LOOPBACK = {4: "127.0.0.1", 6: "::1"}
ANY = {4: "0.0.0.0", 6: "::"}


def family_options(family: int) -> tuple[str, ...]:
    """The spec options that ask a method for an IP family (as the family sweep does)."""
    return (f"{IP_FAMILY}:6",) if family == 6 else ()


@dataclass(frozen=True)
class Probe:
    """One probe: the claim it observes, and whether the container connects out (so the
    method's outbound IPv6 reason applies) or clients come in through a published port."""

    claim: str
    run: Callable[[str, int], Observation]
    outbound: bool


class Prober:
    def __init__(self, session: Session, provider: Provider, log: Callable[[str], None] = lambda s: None) -> None:
        self.session = session
        self.provider = provider
        self.floor = session.port_floor
        self.log = log
        self.port = PORT_BASE
        self._entries: dict[int, dict] = {}

    def _next_port(self) -> int:
        self.port += 1
        return self.port

    # ------------------------------------------------------------------ plumbing
    def _host_server(self, netns_path: str, port: int, *, bind: str, count: int = 1) -> procs.Spawned:
        """A probe server as the benchmark user in one of the lab's hosts."""
        argv = [*PROBE, "serve", "--port", str(port), "--bind", bind, "--count", str(count), "--timeout", "25",
                "--client-first"]
        argv = [a.replace("{workers}", str(self.session.worker_dir)) for a in argv]
        server = procs.Spawned(self.session.user.argv(argv, netns_path=netns_path))
        self._entries[server.pid] = self.session.state.add_process(server.ref, "probe server")
        family = 6 if ":" in bind else 4
        procs.wait_until(lambda: observe.is_listening(netns_path, "tcp", port, family) or not server.ref.alive(),
                         timeout=10, what=f"the probe server on port {port}")
        return server

    def _finish(self, server: procs.Spawned) -> dict:
        server.stop(grace=1.0)
        out, _ = server.output()
        server.close()
        self.session.state.discard(self._entries.pop(server.pid))
        return _json_line(out)

    def _client(self, host: str, port: int, *, netns_path: str | None = None) -> dict:
        argv = [*PROBE, "connect", "--host", host, "--port", str(port), "--timeout", "3", "--client-first"]
        argv = [a.replace("{workers}", str(self.session.worker_dir)) for a in argv]
        result = procs.run(self.session.user.argv(argv, netns_path=netns_path or self.session.lab.client_ns_path),
                           timeout=PROBE_TIMEOUT)
        return _json_line(result.stdout)

    def _unprivileged_bind(self, port: int, family: int) -> dict:
        """The benchmark user binding ``port`` in the server host itself (with the stack's own
        Python where the server host is a stack), to see whether the floor is what refused."""
        argv = [a.replace("{workers}", str(self.session.worker_dir)) for a in PROBE]
        argv += ["serve", "--port", str(port), "--bind", ANY[family], "--count", "0", "--timeout", "0"]
        result = procs.run(self.session.as_user(argv), timeout=PROBE_TIMEOUT, check=False)
        return _json_line(result.stdout)

    def _start(self, method: str, spec: ServerSpec) -> RunningServer:
        """A probe server under the method; over IPv6, clients come only once its addresses
        have left duplicate address detection, as in an IPv6 trial (``linkinfo.settle_ipv6``)."""
        server = self.provider.start(self.session, method, spec)
        if spec.family == 6 and server.netns_pid > 0:
            try:
                linkinfo.settle_ipv6(server.netns_pid)
            except BaseException:
                server.stop()
                raise
        return server

    def _in_container(self, method: str, argv: list[str], options: tuple[str, ...] = ()) -> dict:
        """Run a probe client inside the method's container and return its report."""
        spec = ServerSpec(tuple(argv), 0, (), publish=False, wait_listening=False, options=options)
        server = self.provider.start(self.session, method, spec)
        try:
            exit_ = server.collect(timeout=PROBE_TIMEOUT)
        finally:
            server.stop()
        return _json_line(exit_.stdout) or {"error": f"no report (exit {exit_.returncode}): {exit_.stderr.strip()[-200:]}"}

    # ------------------------------------------------------------------ probes
    def device_binding(self, method: str, family: int = 4) -> Observation:
        lab = self.session.lab
        port = self._next_port()
        device = lab.server_if
        primary_addr, other_addr = lab.server_address(family), lab.second_server_address(family)
        # The same port inside and out, as in the guide's example (-t 0.0.0.0%eth0/8080).
        serve = [*PROBE, "serve", "--port", str(port), "--bind", ANY_ADDRESS, "--count", "2", "--client-first"]
        options = family_options(family)
        if METHODS[method].shares_host_network:  # the server binds the device itself
            spec = ServerSpec(tuple([*serve, "--device", device]), port, ready_timeout=10, options=options)
        else:
            spec = ServerSpec(tuple(serve), port, host_port=port, options=(f"{BIND_DEVICE}:{device}", *options),
                              ready_timeout=10)
        try:
            server = self._start(method, spec)
        except UnsupportedOption as exc:
            # The helper offers no way to bind: what decides is whether a client arriving on the
            # other interface gets in; the refusal is evidence, not the observation.
            plain = ServerSpec(tuple(serve), spec.port, host_port=spec.host_port, ready_timeout=10, options=options)
            server = self._start(method, plain)
            try:
                other = self._client(other_addr, port)
            finally:
                server.stop()
            observed = False if other.get("reply") == "ok" else None
            return Observation("device_binding", method, observed,
                               f"{exc}; published on every interface, a client arriving on {lab.second_server_if} "
                               f"({other_addr}) {_outcome(other)}",
                               {"other_interface": other, "helper_refused": str(exc)})
        try:
            primary = self._client(primary_addr, port)
            other = self._client(other_addr, port)
        finally:
            server.stop()
        observed = binding_outcome(primary, other)
        return Observation("device_binding", method, observed,
                           f"bound to {device}: a client on {device} ({primary_addr}) {_outcome(primary)}; "
                           f"on {lab.second_server_if} ({other_addr}) {_outcome(other)}",
                           {"bound_interface": primary, "other_interface": other})

    def minimum_port(self, method: str, family: int = 4) -> Observation:
        floor = self.floor
        if floor is None or floor <= LOW_PORT:
            return Observation("minimum_port", method, None,
                               f"the server host's ip_unprivileged_port_start is {floor}: port {LOW_PORT} is not below it",
                               {"floor": floor})
        options = family_options(family)
        if METHODS[method].shares_host_network:  # nothing is published: the server binds the port itself
            spec = ServerSpec(tuple([*PROBE, "serve", "--port", str(LOW_PORT), "--bind", ANY_ADDRESS,
                                     "--client-first"]), LOW_PORT, ready_timeout=8, options=options)
        else:
            spec = ServerSpec(tuple([*PROBE, "serve", "--port", str(CONTAINER_PORT), "--bind", ANY_ADDRESS,
                                     "--client-first"]), CONTAINER_PORT, host_port=LOW_PORT, ready_timeout=8,
                              options=options)
        try:
            server = self._start(method, spec)
        except BenchError as exc:
            # Refused only where the failure is the floor's: the helper says so, or, where its
            # words do not (slirp4netns: "add_hostfwd failed"), the benchmark user's own bind of
            # the port in the server host is refused with EACCES.
            if says_refused(str(exc)):
                return Observation("minimum_port", method, "below-floor refused",
                                   f"publishing port {LOW_PORT} (floor {floor}) was refused: {exc}", {"floor": floor})
            direct = self._unprivileged_bind(LOW_PORT, family)
            refused = "EACCES" in str(direct.get("error", ""))
            return Observation("minimum_port", method, "below-floor refused" if refused else None,
                               f"publishing port {LOW_PORT} (floor {floor}) failed: {exc}; the benchmark user's own "
                               f"bind of port {LOW_PORT} in the server host: {direct.get('error') or 'succeeded'}",
                               {"floor": floor, "direct_bind": direct})
        try:
            reply = self._client(self.session.lab.server_address(family), LOW_PORT)
        finally:
            server.stop()
        allowed = bool(reply.get("connected")) and reply.get("reply") == "ok"
        return Observation("minimum_port", method, "below-floor allowed" if allowed else "below-floor refused",
                           f"port {LOW_PORT} (floor {floor}) was published; a client {_outcome(reply)}",
                           {"floor": floor, "client": reply})

    def host_loopback(self, method: str, family: int = 4) -> Observation:
        """Can the container reach a service on the server host's loopback (127.0.0.1, or ::1)?"""
        lab = self.session.lab
        port = self._next_port()
        network = METHODS[method]
        if network.host_address is None:
            raise MeasurementError(f"{method} gives the container no network of its own")
        target = network.host_address(lab.client_address(family), family)
        loopback = LOOPBACK[family]
        attempts: dict[str, tuple[str, tuple[str, ...]]] = {"default": (target, ())}
        if not network.shares_host_network and HOST_LOOPBACK not in network.unsupported:
            attempts["with host-loopback option"] = (target, (HOST_LOOPBACK,))
        if not network.shares_host_network and TCP_NS not in network.unsupported:
            attempts["with -T (tcp-ns)"] = (loopback, (f"{TCP_NS}:{port}",))
        server = self._host_server(lab.server_ns_path, port, bind=loopback, count=len(attempts))
        results: dict[str, dict] = {}
        try:
            for name, (host, options) in attempts.items():
                argv = [*PROBE, "connect", "--host", host, "--port", str(port), "--client-first"]
                try:
                    results[name] = self._in_container(method, argv, (*options, *family_options(family)))
                except BenchError as exc:
                    results[name] = {"error": str(exc)}
        finally:
            served = self._finish(server)
        reached = {name: r.get("reply") == "ok" for name, r in results.items()}
        parts = [f"{name}: to {_endpoint(attempts[name][0], port)} {_outcome(r)}" for name, r in results.items()]
        return Observation("host_loopback_default", method, reached["default"],
                           f"a service on the server host's {_endpoint(loopback, port)}; " + "; ".join(parts)
                           + f"; it accepted {len(served.get('accepted', []))} connection(s)",
                           {"attempts": results, "reached": reached})

    def outbound_remote(self, method: str, family: int = 4) -> Observation:
        lab = self.session.lab
        port = self._next_port()
        remote = lab.client_address(family)
        server = self._host_server(lab.client_ns_path, port, bind=ANY[family])
        try:
            result = self._in_container(method, [*PROBE, "connect", "--host", remote, "--port", str(port),
                                                 "--client-first"], family_options(family))
        except BenchError as exc:
            result = {"error": str(exc)}
        finally:
            served = self._finish(server)
        peers = served.get("accepted", [])
        ok = result.get("reply") == "ok"
        return Observation("outbound_remote", method, ok,
                           f"to {_endpoint(remote, port)} on the client host: {_outcome(result)}"
                           + (f"; the remote host saw {', '.join(peers)}" if peers else ""),
                           {"client": result, "remote_saw": peers})

    def probes(self, method: str) -> list[Probe]:
        """The probes a method takes: a socket-activated container has no network of its own,
        so nothing goes out."""
        found = [Probe(DEVICE_BINDING, self.device_binding, False), Probe(MINIMUM_PORT, self.minimum_port, False)]
        if METHODS[method].own_network:
            found += [Probe(HOST_LOOPBACK_DEFAULT, self.host_loopback, True),
                      Probe(OUTBOUND_REMOTE, self.outbound_remote, True)]
        return found

    def all(self, methods: list[str], families: tuple[int, ...] = (4,)) -> list[Observation]:
        """Every probe under every method in every IP family, stamped with the session's stack
        and the family; where the method cannot carry the family, "not applicable" with its
        reason."""
        from .matrix import stack_label

        found = []
        stack = self.session.stack_name
        for family in families:
            for method in methods:
                for probe in self.probes(method):
                    found.append(replace(self._observe(method, probe, family, stack_label(method, stack)),
                                         stack=stack, family=family))
                    procs.reap_orphans()
        return found

    def _observe(self, method: str, probe: Probe, family: int, label: str) -> Observation:
        why = METHODS[method].why_not_family(family, outbound=probe.outbound)
        if why is not None:
            return Observation(probe.claim, method, None, f"not applicable over IPv{family}: {why}", {},
                               not_applicable=why)
        self.log(f"claims: {probe.run.__name__} under {label}" + (f" over IPv{family}" if family != 4 else ""))
        try:
            return probe.run(method, family)
        except BenchError as exc:
            return Observation(probe.claim, method, None, f"probe failed: {exc}", {})


#: What helpers say when the kernel refused a port below ip_unprivileged_port_start.
_REFUSED = ("permission denied", "eacces", "privileged port", "operation not permitted")


def says_refused(text: str) -> bool:
    """The helper's own words name a refused bind (pasta: "Failed to bind port 80 (Permission
    denied)"; rootlessport: "cannot expose privileged port 80"; systemd: "Permission denied")."""
    lowered = text.lower()
    return any(word in lowered for word in _REFUSED)


def binding_outcome(primary: dict, other: dict) -> bool | None:
    """Bound to one device: a client on it is served and one on the other interface does not
    get in. Not bound: the other one gets in. Neither shown (the first client failed too):
    not observed."""
    if other.get("reply") == "ok" or other.get("connected"):
        return False
    if primary.get("reply") == "ok":
        return True
    return None


def _json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return {}


def _endpoint(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _outcome(result: dict) -> str:
    if result.get("reply") == "ok":
        return "connected and was served"
    if result.get("connected"):
        return "connected but got no answer from the probe server"
    return f"could not connect ({result.get('error', 'unknown error')})"
