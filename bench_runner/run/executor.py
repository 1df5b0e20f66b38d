"""One trial, start to end: the server (in the container, or on the client host for an
outbound workload) under the cell's method, the client, the observers around it, and the
samples from the pair's output. Each trial is a fresh server and a fresh client, on a port
of its own.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import Mapping

from ..lab import hosts as lab_mod
from ..lab import linkinfo, observe
from ..lab.linkpath import Conditions
from .. import procs
from ..analysis import stats
from ..workloads import sweeps
from . import pathcheck, udpmax
from .capture import TrialCapture
from .diagnosis import ThroughputDiagnosis
from ..errors import BenchError, MeasurementError
from .matrix import METHODS, Cell
from ..methods.base import INHERITED, SERVER
from .observers import CpuFromSighting, Observers, record_helper_cpu
from ..parsers import ParseError
from ..providers import Provider, ServerExit, Session
from ..results.document import RunDocument, Trial, now_iso
from ..workloads.serverspec import CONTAINER_MTU, IP_FAMILY, ServerSpec
from ..workloads import DRIVERS, TrialSettings
from ..workloads.base import InboundDriver, OutboundDriver

#: Ports the servers use inside the server host, rotated per trial so that nothing of one
#: trial (a socket in TIME_WAIT, a slow helper) can touch the next.
PORT_BASE = 20000
PORT_SPAN = 1000
#: Ports of the probes of ``--udp-rate max`` searches, one each (udpmax.py), rotated likewise.
PROBE_PORT_BASE = 22000


class TrialExecutor:
    """Runs trials in the lab of each cell's stack with that stack's provider; numbers them
    from ``first_index`` (a resumed run goes on from its last trial). ``document``, where
    given, holds the run's trials so far (a capture of a ``--udp-rate max`` cell probes at
    the rate its searches found)."""

    def __init__(self, targets: Mapping[str, tuple[Session, Provider]], first_index: int = 0,
                 observers: Observers | None = None, document: RunDocument | None = None) -> None:
        self.targets = dict(targets)
        self.trial_index = first_index
        self.probe_index = 0
        self.observers = observers or Observers()
        self.document = document

    def session_of(self, cell: Cell) -> Session:
        if cell.stack not in self.targets:
            raise MeasurementError(f"no lab for stack {cell.stack!r} in this run")
        return self.targets[cell.stack][0]

    def run_trial(self, cell: Cell, round_index: int, warmup: bool, settings: TrialSettings,
                  capture: TrialCapture | None = None) -> Trial:
        """One trial; with ``capture`` (a capture trial, not in the statistics) the server spec
        and the client's measurement go through it."""
        base, swept = sweeps.split(cell.workload)
        driver = DRIVERS[base]
        searching = swept.get("udp_rate") == sweeps.UDP_MAX
        noted: dict[str, object] = {}
        if searching and capture is not None:
            # A capture is of one client run: one probe, at the rate the cell's searches found.
            swept = {**swept, "udp_rate": self.found_max(cell)}
            searching = False
            noted["udp_max"] = {"capture_at_mbps": swept["udp_rate"],
                                "why": "a capture is one client run, at the median rate the cell's searches found "
                                       "(the search's start if none did)"}
        settings = replace(settings, sweep=tuple(swept.items()))
        session = self.session_of(cell)
        provider = self.targets[cell.stack][1]
        capture = capture or TrialCapture()
        port = PORT_BASE + self.trial_index % PORT_SPAN
        index = self.trial_index
        self.trial_index += 1
        trial = Trial(index=index, round=round_index, warmup=warmup, started_at=now_iso(), seconds=0.0,
                      status="failed", observations={"port": port, **noted})
        clock = time.monotonic()
        try:
            path = None
            if session.path is not None:
                # The path first: its round trip checked, its counters read (pathcheck.py).
                path = pathcheck.open_trial(session, Conditions.of(swept), trial.observations)
            with lab_mod.link_mtu(session.lab, swept.get("link_mtu")) as link_mtu:
                if link_mtu:
                    trial.observations["lab_link_mtu"] = {"asked": swept["link_mtu"], **link_mtu}
                if isinstance(driver, OutboundDriver):
                    self._outbound(session, provider, cell, driver, port, settings, trial, capture)
                elif not isinstance(driver, InboundDriver):
                    raise MeasurementError(f"{base}: a driver neither inbound nor outbound")
                elif searching:
                    self._search_udp_max(session, provider, cell, driver, settings, trial)
                else:
                    self._inbound(session, provider, cell, driver, port, settings, trial, capture)
            if path is not None:
                pathcheck.close_trial(session, path)
            self.observers.check_swept(cell, settings, trial)
            trial.status = "ok"
        except (BenchError, ParseError) as exc:
            trial.error = str(exc)
        finally:
            procs.reap_orphans()
            trial.seconds = round(time.monotonic() - clock, 3)
        return trial

    def found_max(self, cell: Cell) -> int:
        """The median rate the cell's ``--udp-rate max`` searches found, in Mbit/s (the
        search's start where none did)."""
        if self.document is None:
            return udpmax.START_MBPS
        result = self.document.cell(cell.workload, cell.placement, cell.method, cell.stack)
        found = result.samples("udp_max_offered", include_warmup=True)
        return round(stats.summarize(found).median * 1000) if found else udpmax.START_MBPS

    def _search_udp_max(self, session: Session, provider: Provider, cell: Cell, driver: InboundDriver,
                        settings: TrialSettings, trial: Trial) -> None:
        """``--udp-rate max``: the bounded search of udpmax.py, each probe an inbound run of
        its own (a fresh server, the same checks as a trial) on a port of its own. The trial
        takes the samples and observations of the probe at the highest rate carried."""
        probe_s = udpmax.probe_seconds(settings.duration_s)
        probes: list[dict[str, object]] = []
        record: dict[str, object] = {"probe_s": probe_s, "probes": probes}
        trial.observations["udp_max"] = record
        runs: dict[int, Trial] = {}

        def probe(rate: int) -> udpmax.Probe:
            port = PROBE_PORT_BASE + self.probe_index % PORT_SPAN
            self.probe_index += 1
            at = replace(settings, duration_s=probe_s, omit_s=0,
                         sweep=tuple({**dict(settings.sweep), "udp_rate": rate}.items()))
            run = Trial(index=trial.index, round=trial.round, warmup=trial.warmup, started_at=now_iso(),
                        seconds=0.0, status="failed", observations={"port": port})
            self._inbound(session, provider, cell, driver, port, at, run, TrialCapture())
            self.observers.check_swept(cell, at, run)
            found = udpmax.Probe.of_run(rate, run.samples, run.observations)
            probes.append({**found.to_json(), "port": run.observations["port"]})
            runs[rate] = run
            return found

        try:
            result = udpmax.search(probe)
        except (BenchError, ParseError):
            record["ended"] = f"probe {len(probes) + 1} failed (the trial's error says why)"
            raise
        record.update({k: v for k, v in result.to_json().items() if k != "probes"})
        if result.best is None:
            low = min(result.probes, key=lambda p: p.offered_mbps)
            raise MeasurementError(f"--udp-rate max: no offered rate kept its loss within "
                                   f"{udpmax.LOSS_LIMIT_PERCENT:g}%: the lowest probed, {low.offered_mbps} Mbit/s, "
                                   f"lost {low.lost_percent:.3g}% ({result.ended}; {len(result.probes)} probes in "
                                   "the observations)")
        best = runs[result.best.offered_mbps]
        trial.observations.update({k: v for k, v in best.observations.items() if k != "udp_max"})
        trial.samples.update(best.samples)
        trial.samples["udp_max_offered"] = result.best.offered_mbps / 1000

    def _inbound(self, session: Session, provider: Provider, cell: Cell, driver: InboundDriver, port: int,
                 settings: TrialSettings, trial: Trial, capture: TrialCapture) -> None:
        """A server in the container, a client reaching it through the published port."""
        spec = capture.adjust(with_sweep(driver.server(port), settings))
        ns_path = session.lab.server_ns_path
        expected = METHODS[cell.method].carrier(provider.for_method(cell.method).id)
        trial.observations["listener_expected"] = expected
        observe.require_free_port(session.lab.server_ns_path, spec.published_port)
        server = provider.start(session, cell.method, spec)
        try:
            trial.observations["provider"] = server.provider
            trial.observations["helper_argv"] = server.helper_argv
            trial.observations.update(server.evidence)
            queue = settings.swept("txqueuelen")
            if queue is not None and not METHODS[cell.method].no_tap:
                # Before the client, from outside the container: its tap's queue, read back below.
                linkinfo.set_txqueuelen(server.netns_pid, queue)
            self.observers.observe_links(session, cell, server.netns_pid, trial)
            protocol = spec.protocols[0]
            port = server.host_port  # a provider may publish elsewhere (below the floor, for one)
            if port != spec.published_port:
                trial.observations["port"] = port
            family = spec.family
            owners = observe.listener_owners(ns_path, protocol, port, family)
            if not owners:
                raise MeasurementError(f"nothing listens on port {port} in the server host"
                                       + (" for IPv6 clients" if family == 6 else ""))
            if family == 6:
                self.observers.settle_ipv6(server.netns_pid, trial)
            watcher = None
            program = os.path.basename(spec.argv[0])[:15]  # comm is cut at 15 characters
            if expected == INHERITED:
                # The socket's first owner execs (through wrappers) into the server on the first
                # connection: watch until the server program itself holds it.
                watcher = observe.Watcher(lambda: observe.listener_owners(ns_path, protocol, port, family),
                                          lambda seen: any(self.observers.carrier(session, i) == INHERITED and i.comm.startswith(program)
                                                           for i in seen))
                watcher.start()
            cpu_watch = procs.CpuWatch(owners[0].pid)
            ctx = session.client_context(cell.placement, port, settings)
            diagnosis = diagnosis_for(session, cell, driver, expected, server.netns_pid, spec.port, port, settings)
            try:
                with capture.during(owners[0].pid):
                    if diagnosis is not None:
                        diagnosis.start()
                    client_output = driver.run_client(ctx)
            except MeasurementError as exc:
                why = server.diagnose()
                if why:
                    raise MeasurementError(f"{exc}; {why}") from None
                raise
            finally:
                cpu, cpu_read_at_end = cpu_watch.finish()
                if diagnosis is not None:
                    trial.observations["diagnosis"] = diagnosis.finish()
                if watcher is not None:
                    owners += [i for i in watcher.finish() if i.identity not in {o.identity for o in owners}]
            carriers = [self.observers.carrier(session, i) for i in owners]
            chosen, chosen_carrier = next(
                ((i, c) for i, c in zip(owners, carriers) if c == expected and i.comm.startswith(program)),
                next(((i, c) for i, c in zip(owners, carriers) if c == expected), (owners[0], carriers[0])))
            trial.observations["listener"] = {**chosen.to_json(), "carrier": chosen_carrier}
            if len(owners) > 1:
                trial.observations["listeners_seen"] = [{**i.to_json(), "carrier": c} for i, c in zip(owners, carriers)]
            if expected not in carriers:
                raise MeasurementError(
                    f"{cell.method} should be carried by {expected}, but port {port} is owned by "
                    + ", ".join(f"{i.kind} (pid {i.pid}, {i.exe})" for i in owners)
                    + (f" (watching failed: {watcher.error})" if watcher is not None and watcher.error else ""))
            exit_ = server.collect(timeout=settings.client_timeout)
            measurement = driver.measure(client_output, exit_)
            trial.samples.update(measurement.samples)
            trial.observations.update(measurement.observations)
            if expected not in (SERVER, INHERITED):
                record_helper_cpu(trial, cpu, cpu_read_at_end, measurement.bytes_moved)
        finally:
            problems = server.stop()
            if problems:
                trial.observations["teardown_problems"] = problems

    def _outbound(self, session: Session, provider: Provider, cell: Cell, driver: OutboundDriver, port: int,
                  settings: TrialSettings, trial: Trial, capture: TrialCapture) -> None:
        """A server on the client host (the lab's stand-in for the internet), the client in
        the container connecting out through the method."""
        lab = session.lab
        expected = METHODS[cell.method].outbound_carrier
        trial.observations["outbound_expected"] = expected
        remote_addr = lab.client_address(settings.family)
        remote = procs.Spawned(session.user.argv(driver.remote_server(port), netns_path=lab.client_ns_path))
        entry = session.state.add_process(remote.ref, "remote server")
        try:
            procs.wait_until(lambda: observe.is_listening(lab.client_ns_path, "tcp", port, settings.family)
                             or not remote.ref.alive(),
                             timeout=20, what=f"the remote server on port {port}")
            if not remote.ref.alive():
                raise MeasurementError(f"the remote server exited: {remote.output()[1].strip()[-200:]}")
            helper_cpu = CpuFromSighting(expected)
            watcher = observe.Watcher(lambda: observe.connection_owners(lab.server_ns_path, remote_addr, port),
                                      helper_cpu, deadline=settings.client_timeout)
            watcher.start()
            spec = capture.adjust(with_sweep(driver.container_client(remote_addr, port, settings), settings))
            # The client connects as soon as it starts: a capture starts before it.
            with capture.during(None):
                server = provider.start(session, cell.method, spec)
                try:
                    trial.observations["provider"] = server.provider
                    trial.observations["helper_argv"] = server.helper_argv
                    if cell not in self.observers.links_seen or settings.swept("mtu") is not None:
                        # The client measures already: look once per cell, to disturb it little.
                        self.observers.observe_links(session, cell, server.netns_pid, trial)
                    exit_ = server.collect(timeout=settings.client_timeout)
                finally:
                    seen = watcher.finish()
                    cpu, cpu_read_at_end = helper_cpu.finish()
                    problems = server.stop()
                    if problems:
                        trial.observations["teardown_problems"] = problems
            remote.wait(timeout=15)
            remote_out, remote_err = remote.output()
            if not seen:
                raise MeasurementError(f"no connection to {ss_endpoint(remote_addr, port)} was seen leaving the "
                                       "server host"
                                       + (f" ({watcher.error})" if watcher.error else ""))
            carriers = [self.observers.carrier(session, i) for i in seen]
            trial.observations["outbound_carrier"] = {**seen[0].to_json(), "carrier": carriers[0]}
            if expected not in carriers:
                raise MeasurementError(f"{cell.method} should connect out through {expected}, but the connection "
                                       f"belonged to {', '.join(f'{i.kind} (pid {i.pid})' for i in seen)}")
            measurement = driver.measure(exit_.stdout, ServerExit(remote.poll(), remote_out, remote_err))
            trial.samples.update(measurement.samples)
            trial.observations.update(measurement.observations)
            if cpu is not None:
                trial.observations["helper_cpu_from"] = CpuFromSighting.FROM
            record_helper_cpu(trial, cpu, cpu_read_at_end, measurement.bytes_moved)
        finally:
            remote.stop(grace=1.0)
            remote.close()
            session.state.discard(entry)


def diagnosis_for(session: Session, cell: Cell, driver: InboundDriver, carrier: str | None, netns_pid: int,
                  container_port: int, host_port: int, settings: TrialSettings) -> ThroughputDiagnosis | None:
    """Evidence for a throughput trial that may move little (a workload with a direction,
    through a helper), read in the lab's namespaces: the client's end (remote placement, the
    lab's own client host), the server host's (the helper's end, and the loopback client's)
    and the container's."""
    if not driver.spec.sends or carrier in (SERVER, INHERITED, None) or netns_pid <= 0:
        return None
    lab = session.lab
    namespaces = {"server host": (lab.server_ns_path, host_port),
                  "container": (f"/proc/{netns_pid}/ns/net", container_port)}
    if cell.placement == "remote" and session.client_host is None:
        namespaces = {"client": (lab.client_ns_path, host_port), **namespaces}
    return ThroughputDiagnosis(f"/proc/{netns_pid}/ns/net", namespaces,
                               sample_at_s=settings.omit_s + settings.duration_s / 2,
                               client_run_s=settings.omit_s + settings.duration_s)


def with_sweep(spec: ServerSpec, settings: TrialSettings) -> ServerSpec:
    """The spec with the network options a sweep asks of the method (the container's MTU, the
    IP family its clients use)."""
    mtu = settings.swept("mtu")
    options = (*spec.options, *([f"{CONTAINER_MTU}:{mtu}"] if mtu is not None else []),
               *([f"{IP_FAMILY}:6"] if settings.family == 6 else []))
    return replace(spec, options=options) if options != spec.options else spec


def ss_endpoint(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
