"""Evidence for a slow throughput trial, taken around every client run of a workload that has
a direction (``tcp-stream``, ``tcp-stream-reverse``) under a method with a helper: the
container's interface counters before and after (a tap's TX drops are frames the container
sent that its helper never took), and, halfway through the measured seconds, the kernel's TCP
info (``ss -tin``) of both ends of both connections: the client's and the helper's in the
server host, the helper's (or its tap's peer, the container's server) in the container. The
report (``analysis/diagnosis.py``) turns a trial that moved less than a tenth of ``host``'s
into a finding; the evidence is kept for every such trial, so a stored run can be read again.

Reading is cheap (a few ``ip`` and ``ss`` calls, one of them during the run) and never fails
a trial: what could not be read is recorded as such."""

from __future__ import annotations

import threading
from typing import Any

from .. import procs
from ..errors import BenchError
from ..lab.linkinfo import in_netns
from ..parsers import ParseError, iproute, tcpinfo

TIMEOUT = 10.0


def link_counters(netns_path: str) -> dict[str, iproute.LinkCounters]:
    """Every interface's counters but lo's, in a network namespace."""
    result = procs.run(in_netns(netns_path, ["ip", "-s", "-j", "link", "show"]), timeout=TIMEOUT)
    return {c.ifname: c for c in iproute.parse_link_counters(result.stdout) if c.ifname != "lo"}


def connections(netns_path: str, port: int) -> list[dict[str, Any]]:
    """The TCP connections with ``port`` at either end in a namespace, with their info."""
    result = procs.run(in_netns(netns_path, ["ss", "-Htinp"]), timeout=TIMEOUT)
    return [s.to_json() for s in tcpinfo.on_port(tcpinfo.parse_tcp_info(result.stdout), port)]


class ThroughputDiagnosis:
    """Around one client run: counters of the container's interfaces before and after, and
    the connections of each namespace (by name: ``client``, ``server host``, ``container``)
    sampled once, ``sample_at_s`` after the client started."""

    def __init__(self, container_netns: str, namespaces: dict[str, tuple[str, int]], sample_at_s: float,
                 client_run_s: float) -> None:
        self.container_netns = container_netns
        #: name -> (network namespace path, the port whose connections to read there)
        self.namespaces = namespaces
        self.sample_at_s = sample_at_s
        #: How long the client runs (omit + measured seconds): the helper's CPU seconds are over it.
        self.record: dict[str, Any] = {"sampled_at_s": sample_at_s, "client_run_s": client_run_s}
        self._before: dict[str, iproute.LinkCounters] = {}
        self._halfway: dict[str, iproute.LinkCounters] = {}
        #: The lab's namespaces (the client host, the server host): their links' counters too,
        #: so a retransmit past the helper can be told from a frame a link dropped.
        self._lab_before: dict[str, dict[str, iproute.LinkCounters]] = {}
        self._timer: threading.Timer | None = None

    def _lab_namespaces(self) -> dict[str, str]:
        return {name: path for name, (path, _) in self.namespaces.items() if path != self.container_netns}

    def start(self) -> None:
        try:
            self._before = link_counters(self.container_netns)
        except (BenchError, ParseError) as exc:
            self.record["container_link_error"] = str(exc)
        for name, path in self._lab_namespaces().items():
            try:
                self._lab_before[name] = link_counters(path)
            except (BenchError, ParseError) as exc:
                self.record.setdefault("lab_links_error", {})[name] = str(exc)
        self._timer = threading.Timer(self.sample_at_s, self._sample)
        self._timer.daemon = True
        self._timer.start()

    def _sample(self) -> None:
        sockets: dict[str, Any] = {}
        for name, (netns_path, port) in self.namespaces.items():
            try:
                sockets[name] = connections(netns_path, port)
            except (BenchError, ParseError) as exc:
                sockets[name] = {"error": str(exc)}
        self.record["sockets"] = sockets
        if self._before:
            # A one-off server ends with its client, and its namespace with it: this reading may be the last.
            try:
                self._halfway = link_counters(self.container_netns)
            except (BenchError, ParseError):
                pass

    def finish(self) -> dict[str, Any]:
        """The evidence, once the client has finished."""
        if self._timer is not None:
            self._timer.cancel()  # a client that ended early: no sample, and none later
            if self._timer.is_alive():
                self._timer.join(TIMEOUT * len(self.namespaces) + 1)
        if "sockets" not in self.record:
            self.record["sockets_missing"] = "the client ended before the sample was due"
        if self._before:
            try:
                after = link_counters(self.container_netns)
                self.record["container_link_span"] = "the whole client run"
            except (BenchError, ParseError) as exc:
                after = self._halfway
                if after:
                    self.record["container_link_span"] = (f"the first {self.sample_at_s:g} s (the container had ended "
                                                          "when the client finished)")
                else:
                    self.record["container_link_error"] = str(exc)
            if after:
                self.record["container_link"] = {name: counters.minus(self._before[name]).to_json()
                                                 for name, counters in after.items() if name in self._before}
        lab_links: dict[str, Any] = {}
        for name, path in self._lab_namespaces().items():
            before = self._lab_before.get(name)
            if not before:
                continue
            try:
                after_lab = link_counters(path)
            except (BenchError, ParseError) as exc:
                self.record.setdefault("lab_links_error", {})[name] = str(exc)
                continue
            lab_links[name] = {dev: c.minus(before[dev]).to_json() for dev, c in after_lab.items() if dev in before}
        if lab_links:
            self.record["lab_links"] = lab_links
        return self.record
