"""Repeated, interleaved trials: each a fresh server and a fresh client.

Rounds go A B C, A B C, ... (the order within a round shuffled with a recorded seed), so
drift hits every method alike; the first rounds are warm-up and are kept in the document
but not in the statistics. The results document is saved after every trial.
"""

from __future__ import annotations

import ipaddress
import os
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping

from . import lab as lab_mod
from . import defaults, linkinfo, observe, procs, stats, sweeps
from .capture import TrialCapture
from .errors import BenchError, MeasurementError
from .matrix import METHODS, Cell, Matrix
from .methods.base import INHERITED, SERVER
from .parsers import ParseError
from .providers import Provider, ServerExit, Session
from .results import CellResult, RunDocument, Trial, save
from .serverspec import CONTAINER_MTU, IP_FAMILY, ServerSpec
from .workloads import DRIVERS, ClientContext, TrialSettings
from .workloads.base import OutboundDriver, WorkloadDriver

#: Ports the servers use inside the server host, rotated per trial so that nothing of one
#: trial (a socket in TIME_WAIT, a slow helper) can touch the next.
PORT_BASE = 20000
PORT_SPAN = 1000
#: A cell whose first trials all fail this many times is not tried again in this run.
MAX_CONSECUTIVE_FAILURES = 2
#: How long a server's IPv6 addresses may stay tentative (duplicate address detection takes
#: a second or two) before an IPv6 trial gives up.
IPV6_SETTLE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Plan:
    matrix: Matrix
    settings: TrialSettings
    warmup_rounds: int
    #: Measured rounds every cell gets.
    rounds: int
    seed: int
    #: More rounds, up to this many, for cells whose 95% interval of the median is wider
    #: than ``precision`` (relative half-width) after ``rounds``.
    max_rounds: int = 0
    precision: float = defaults.PRECISION

    @property
    def total_trials(self) -> int:
        """The minimum; adaptive rounds may add to it."""
        return len(self.matrix.cells) * (self.warmup_rounds + self.rounds)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    cell: Cell
    trial: Trial
    elapsed_s: float


@dataclass(frozen=True)
class Starting:
    """A trial about to start, so a display can say what runs before it ends."""

    number: int  # 1-based position among the run's trials
    total: int
    cell: Cell
    warmup: bool
    elapsed_s: float


def family(cell: Cell) -> tuple[str, str]:
    """Cells compared with one another (ranked, judged, divided by host): one workload and
    placement, every method and stack."""
    return cell.workload, cell.placement


def extra_round(cells: tuple[Cell, ...], imprecise: Callable[[Cell], bool],
                given_up: Callable[[Cell], bool]) -> tuple[Cell, ...]:
    """The cells of another round: every cell of each family that still has an imprecise
    cell, so the family stays interleaved round by round to the end (its ratios stay
    paired, and drift hits all its methods alike); cells given up on are left out."""
    wanted = {family(c) for c in cells if imprecise(c)}
    return tuple(c for c in cells if family(c) in wanted and not given_up(c))


def round_order(cells: tuple[Cell, ...], round_index: int, seed: int) -> list[Cell]:
    """Every cell once per round, in an order shuffled with (seed, round)."""
    order = list(cells)
    random.Random(f"{seed}:{round_index}").shuffle(order)
    return order


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class TrialRunner:
    """Runs the plan's cells, each in the lab of its stack with that stack's provider.
    ``session`` and ``provider`` are the only target, unless ``stacks`` names one per stack."""

    def __init__(self, document: RunDocument, output: Path, session: Session, provider: Provider,
                 on_progress: Callable[[Progress], None] = lambda p: None,
                 on_start: Callable[[Starting], None] = lambda s: None, *,
                 stacks: Mapping[str, tuple[Session, Provider]] | None = None) -> None:
        self.document = document
        self.output = output
        self.session = session
        self.provider = provider
        self.targets = dict(stacks) if stacks else {session.stack_name: (session, provider)} if session else {}
        self.on_progress = on_progress
        self.on_start = on_start
        self.trial_index = sum(len(c.trials) for c in document.cells)
        self._netns: dict[str, int | None] = {}
        #: Cells whose server namespace's links were looked at in this run.
        self._links_seen: set[Cell] = set()

    def run(self, plan: Plan) -> None:
        started = time.monotonic()
        self._done = 0
        self._total = plan.total_trials
        self._failures: dict[Cell, int] = {}
        fixed_rounds = plan.warmup_rounds + plan.rounds
        for round_index in range(fixed_rounds):
            self._run_round(plan, round_index, plan.matrix.cells, started)
        round_index = fixed_rounds
        while round_index < plan.warmup_rounds + plan.max_rounds:
            pending = extra_round(plan.matrix.cells, lambda c: self._imprecise(c, plan.precision),
                                  lambda c: self._failures.get(c, 0) >= MAX_CONSECUTIVE_FAILURES)
            if not pending:
                break
            self._total = self._done + len(pending)
            self._run_round(plan, round_index, pending, started)
            round_index += 1

    def _imprecise(self, cell: Cell, precision: float) -> bool:
        """Still worth another round: measured, not given up, interval wider than wanted."""
        result = self.document.cell(cell.workload, cell.placement, cell.method, cell.stack)
        values = result.samples()
        if self._failures.get(cell, 0) >= MAX_CONSECUTIVE_FAILURES or not values:
            return False
        summary = stats.summarize(values)
        if summary.identical:
            return False  # every reading the same: more rounds will not show a spread
        return summary.half_width is None or summary.half_width > precision

    def _run_round(self, plan: Plan, round_index: int, cells: tuple[Cell, ...], started: float) -> None:
        warmup = round_index < plan.warmup_rounds
        for cell in round_order(cells, round_index, plan.seed):
            result = self.document.cell(cell.workload, cell.placement, cell.method, cell.stack)
            given_up = self._failures.get(cell, 0) >= MAX_CONSECUTIVE_FAILURES and not result.samples(include_warmup=True)
            # A resumed run keeps what it has: a round a cell already ran is not run again.
            already = any(t.round == round_index for t in result.trials)
            if given_up or already:
                self._done += 1
                continue
            self.on_start(Starting(self._done + 1, max(self._total, self._done + 1), cell, warmup,
                                   time.monotonic() - started))
            trial = self.run_trial(cell, round_index, warmup, plan.settings)
            result.trials.append(trial)
            self._failures[cell] = 0 if trial.status == "ok" else self._failures.get(cell, 0) + 1
            result.status = "measured" if result.samples(include_warmup=True) else "failed"
            result.reason = None if result.status == "measured" else trial.error
            save(self.document, self.output)
            self._done += 1
            self.on_progress(Progress(self._done, max(self._total, self._done), cell, trial,
                                      time.monotonic() - started))

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
        settings = replace(settings, sweep=tuple(swept.items()))
        session = self.session_of(cell)
        provider = self.targets[cell.stack][1]
        capture = capture or TrialCapture()
        port = PORT_BASE + self.trial_index % PORT_SPAN
        index = self.trial_index
        self.trial_index += 1
        trial = Trial(index=index, round=round_index, warmup=warmup, started_at=now_iso(), seconds=0.0,
                      status="failed", observations={"port": port})
        clock = time.monotonic()
        try:
            with lab_mod.delayed(session.lab, swept.get("delay", 0)) as qdisc:
                if "delay" in swept:
                    trial.observations["lab_link_qdisc"] = qdisc
                if driver.direction == "outbound":
                    self._outbound(session, provider, cell, driver, port, settings, trial, capture)  # type: ignore[arg-type]
                else:
                    self._inbound(session, provider, cell, driver, port, settings, trial, capture)
            self._check_swept(cell, settings, trial)
            trial.status = "ok"
        except (BenchError, ParseError) as exc:
            trial.error = str(exc)
        finally:
            procs.reap_orphans()
            trial.seconds = round(time.monotonic() - clock, 3)
        return trial

    def _server_host_netns(self, session: Session) -> int | None:
        """The server host's namespace inode: fixed for the session, so read once (the
        carrier check runs while clients measure)."""
        name = session.lab.server_ns_path
        if name not in self._netns:
            self._netns[name] = session.lab.server_netns_inode()
        return self._netns[name]

    def _check_swept(self, cell: Cell, settings: TrialSettings, trial: Trial) -> None:
        """A swept value counts only as observed: the container's MTU on its interface, the
        streams iperf3 ran."""
        mtu = settings.swept("mtu")
        if mtu is not None:
            method = METHODS[cell.method]
            links = trial.observations.get("container_links") or {}
            seen = [i.get("mtu") for i in links.get("interfaces") or []]
            if not method.own_network or method.shares_host_network:
                trial.observations["container_mtu"] = {
                    "asked": mtu, "applies": False,
                    "why": "the server uses the server host's own interfaces (lab link MTU --mtu)"}
            elif "interfaces" not in links:
                raise MeasurementError(f"the container's MTU could not be observed: {links.get('error', 'not read')}")
            else:
                trial.observations["container_mtu"] = {"asked": mtu, "seen": seen}
                if mtu not in seen:
                    raise MeasurementError(f"--container-mtu {mtu} asked, but the container's interfaces have MTU "
                                           f"{', '.join(map(str, seen)) or 'none'}")
        for name, key, what in (("streams", "streams", "iperf3 ran"), ("size", "message_size", "the client sent"),
                                ("udp_rate", "offered_rate_mbps", "iperf3 offered")):
            asked = settings.swept(name)
            if asked is not None and trial.observations.get(key) != asked:
                raise MeasurementError(f"{sweeps.SWEEPS[name].flag} {asked} asked, but {what} "
                                       f"{trial.observations.get(key)}")
        if settings.family == 6:
            check_ipv6(trial)

    def _settle_ipv6(self, pid: int, trial: Trial) -> None:
        """An IPv6 trial's client comes only once the server's namespace has no tentative IPv6
        address: pasta (before its later releases) forwards a client to the container's
        link-local address, and a connection arriving during its duplicate address detection,
        a second or two after the container starts, is reset (observed with pasta
        0.0~git20230309). The wait is recorded: a service would see those resets."""
        if pid <= 0:
            return
        clock = time.monotonic()
        first: list[str] = []

        def settled() -> bool:
            tentative = linkinfo.tentative_ipv6(pid)
            if tentative and not first:
                first.extend(tentative)
            return not tentative

        procs.wait_until(settled, timeout=IPV6_SETTLE_TIMEOUT, interval=0.1,
                         what="the server's IPv6 addresses to leave duplicate address detection")
        if first:
            trial.observations["ipv6_tentative"] = {"addresses": first,
                                                    "waited_s": round(time.monotonic() - clock, 3)}

    def _observe_links(self, session: Session, cell: Cell, pid: int, trial: Trial) -> None:
        """The MTU and transmit queue length of the interfaces in the network namespace the
        server (or the container's client) runs in: its own, or the server host's for host
        and socket activation."""
        if pid <= 0:
            seen: dict[str, object] = {"error": "no process of the container was left to look into"}
        else:
            netns = observe.netns_of(pid)
            seen = linkinfo.interfaces_of(pid)
            if netns is not None and "error" not in seen:
                seen["namespace"] = "server host" if netns == self._server_host_netns(session) else "own"
        trial.observations["container_links"] = seen
        self._links_seen.add(cell)

    def _carrier(self, session: Session, info: observe.ProcessInfo) -> str:
        """What carried the traffic, in the terms of ``NetworkMethod.carrier``."""
        if not info.kind.startswith("server:"):
            return info.kind
        return INHERITED if info.netns is not None and info.netns != self._server_host_netns(session) else SERVER

    def _inbound(self, session: Session, provider: Provider, cell: Cell, driver: WorkloadDriver, port: int,
                 settings: TrialSettings, trial: Trial, capture: TrialCapture) -> None:
        """A server in the container, a client reaching it through the published port."""
        spec = capture.adjust(with_sweep(driver.server(port), settings))
        ns_path = session.lab.server_ns_path
        expected = METHODS[cell.method].carrier(provider.id)
        trial.observations["listener_expected"] = expected
        observe.require_free_port(session.lab.server_ns_path, spec.published_port)
        server = provider.start(session, cell.method, spec)
        try:
            trial.observations["helper_argv"] = server.helper_argv
            trial.observations.update(server.evidence)
            self._observe_links(session, cell, server.netns_pid, trial)
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
                self._settle_ipv6(server.netns_pid, trial)
            watcher = None
            program = os.path.basename(spec.argv[0])[:15]  # comm is cut at 15 characters
            if expected == INHERITED:
                # The socket's first owner execs (through wrappers) into the server on the first
                # connection: watch until the server program itself holds it.
                watcher = observe.Watcher(lambda: observe.listener_owners(ns_path, protocol, port, family),
                                          lambda seen: any(self._carrier(session, i) == INHERITED and i.comm.startswith(program)
                                                           for i in seen))
                watcher.start()
            cpu_watch = procs.CpuWatch(owners[0].pid)
            ctx = ClientContext(session, cell.placement, port, settings)
            try:
                with capture.during(owners[0].pid):
                    client_output = driver.run_client(ctx)
            except MeasurementError as exc:
                why = server.diagnose()
                if why:
                    raise MeasurementError(f"{exc}; {why}") from None
                raise
            finally:
                cpu, cpu_read_at_end = cpu_watch.finish()
                if watcher is not None:
                    owners += [i for i in watcher.finish() if i.identity not in {o.identity for o in owners}]
            carriers = [self._carrier(session, i) for i in owners]
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
                    trial.observations["helper_argv"] = server.helper_argv
                    if cell not in self._links_seen or settings.swept("mtu") is not None:
                        # The client measures already: look once per cell, to disturb it little.
                        self._observe_links(session, cell, server.netns_pid, trial)
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
            carriers = [self._carrier(session, i) for i in seen]
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


def with_sweep(spec: ServerSpec, settings: TrialSettings) -> ServerSpec:
    """The spec with the network options a sweep asks of the method (the container's MTU, the
    IP family its clients use)."""
    mtu = settings.swept("mtu")
    options = (*spec.options, *([f"{CONTAINER_MTU}:{mtu}"] if mtu is not None else []),
               *([f"{IP_FAMILY}:6"] if settings.family == 6 else []))
    return replace(spec, options=options) if options != spec.options else spec


def ss_endpoint(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def is_ipv6(address: object) -> bool:
    """An IPv6 address, not an IPv4-mapped one (``::ffff:198.51.100.2`` is an IPv4 client)."""
    if not isinstance(address, str):
        return False
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return parsed.version == 6 and parsed.ipv4_mapped is None


def check_ipv6(trial: Trial) -> None:
    """An IPv6 trial counts only if IPv6 is what went over the lab link, as the far end saw it:
    inbound, the client's own address (the server may see a forwarder's instead); outbound,
    the address the client host's server saw the container's connection come from."""
    seen = trial.observations
    outbound = "remote_saw" in seen
    key = "remote_saw" if outbound else "client_address"
    address = seen.get(key)
    seen["ip_family"] = {"asked": 6, key: address,
                         **({} if outbound else {"server_saw": seen.get("peer_address")})}
    if not is_ipv6(address):
        what = "the client host's server saw the container connect from" if outbound else "the client connected from"
        raise MeasurementError(f"--family 6 asked, but {what} {address or 'an unknown address'}")


class CpuFromSighting:
    """The ``enough`` of an outbound trial's connection watcher that also reads the helper's CPU.
    The client connects as soon as its container starts, so the helper is named only by its end
    of the connection: its CPU is read from that first sighting on (a helper only: no CPU is
    counted for the server itself, as inbound)."""

    FROM = "the first sighting of the helper's end of the connection"

    def __init__(self, carrier: str | None) -> None:
        self.carrier = carrier if carrier not in (None, SERVER, INHERITED) else None
        self.watch: procs.CpuWatch | None = None

    def __call__(self, seen: list[observe.ProcessInfo]) -> bool:
        helper = next((i for i in seen if i.kind == self.carrier), None)
        if helper is not None and self.watch is None:
            self.watch = procs.CpuWatch(helper.pid)
        return bool(seen)

    def finish(self) -> tuple[float | None, bool]:
        """(CPU seconds since the sighting, whether read at the end); (None, False) if no helper was seen."""
        return self.watch.finish() if self.watch is not None else (None, False)


def record_helper_cpu(trial: Trial, cpu: float | None, read_at_end: bool, bytes_moved: int | None) -> None:
    """The helper's CPU seconds over the client run, and per GB moved when the bytes are known."""
    if cpu is None:
        return
    trial.observations["helper_cpu_s"] = round(cpu, 4)
    if not read_at_end:
        # the helper ended with its container: its last reading, at most 0.1 s before
        trial.observations["helper_cpu_read"] = "last sample before the helper exited"
    if bytes_moved:
        trial.samples["helper_cpu_s_per_gb"] = cpu / (bytes_moved / 1e9)


def new_cell_results(matrix: Matrix) -> list[CellResult]:
    from .matrix import workload as workload_of
    from .results import MetricInfo

    cells = []
    for cell in matrix.cells:
        workload = workload_of(cell.workload)
        cells.append(CellResult(cell.workload, cell.placement, cell.method, workload.metric.id,
                                workload.metric.unit, workload.metric.higher_is_better,
                                [MetricInfo.of(m) for m in workload.extra_metrics], stack=cell.stack))
    for cell, reason in matrix.not_applicable:
        workload = workload_of(cell.workload)
        cells.append(CellResult(cell.workload, cell.placement, cell.method, workload.metric.id,
                                workload.metric.unit, workload.metric.higher_is_better,
                                [MetricInfo.of(m) for m in workload.extra_metrics],
                                status="not_applicable", reason=reason, stack=cell.stack))
    return cells
