"""Findings for throughput trials that moved less than a tenth of ``host``'s: from the
evidence taken around the client run (``run/diagnosis.py``), where along the path the data
stopped. The data cross, in order: the sending socket, the helper (pasta, slirp4netns,
rootlesskit: a socket on the server host's side and the container's tap on the other), the
receiving socket. Each hop's numbers are read off the trial (the tap's drops, each socket's
retransmits, congestion window, round trip and limits), and the first hop that lost or held
back data is named, with those numbers, so a maintainer can act on it.

Pure: reads the results document only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..methods import BASELINE
from ..results.document import CellResult, RunDocument, Trial
from ..workloads import WORKLOADS, sweeps
from . import stats

#: A trial moving less than this share of host's median gets a finding.
SLOW = 0.10
#: A helper busy this share of one core over the client run was the limit itself.
CPU_BOUND = 0.9


@dataclass(frozen=True)
class Finding:
    cell: str  # "tcp-stream-reverse/remote/pasta"
    trial: int
    moved: float  # the trial's throughput
    host_median: float
    unit: str
    #: Where the data stopped, in a few words ("at the container's tap"), or "" if unclear.
    where: str
    #: The numbers behind it, one short line per hop.
    evidence: tuple[str, ...]
    #: The kind of finding, to count alike trials together: "tap drops", "sender retransmits",
    #: "retransmits past the helper", "retransmits without a drop", "receiver window", "send buffer",
    #: "helper CPU", "idle",
    #: "not sampled", "".
    kind: str = ""
    #: The helper's CPU over the client run, as a share of one core (None: not read).
    helper_cpu_share: float | None = None

    def text(self) -> str:
        head = (f"{self.cell} trial {self.trial}: {self.moved:.3g} {self.unit} against host's {self.host_median:.3g}"
                + (f": {self.where}" if self.where else ": no hop shows loss or a limit"))
        return head + "".join(f"\n    {line}" for line in self.evidence)


def _data_socket(sockets: Any, *, local_port: int | None = None, peer_port: int | None = None) -> dict | None:
    """The data connection among a namespace's sockets (iperf3 also holds a control
    connection on the same port): the one that moved the most bytes."""
    if not isinstance(sockets, list):
        return None
    chosen = [s for s in sockets if (local_port is None or s.get("port") == local_port)
              and (peer_port is None or s.get("peer_port") == peer_port)]
    moved = lambda s: (s.get("bytes_acked") or 0) + (s.get("bytes_received") or 0)  # noqa: E731
    return max(chosen, key=moved) if chosen else None


def _socket_line(name: str, sock: dict | None) -> str:
    if sock is None:
        return f"{name}: not seen"
    parts = [f"retransmitted {sock.get('retrans_total', 0)}"]
    for key, label in (("cwnd", "cwnd"), ("rtt_ms", "rtt ms"), ("unacked", "unacked"), ("lost", "lost")):
        if sock.get(key) is not None:
            parts.append(f"{label} {sock[key]:g}" if isinstance(sock[key], float) else f"{label} {sock[key]}")
    parts += [f"send-q {sock.get('send_q', 0)}", f"recv-q {sock.get('recv_q', 0)}"]
    for key, label in (("rwnd_limited_ms", "receiver-window-limited"), ("sndbuf_limited_ms", "send-buffer-limited")):
        if sock.get(key):
            parts.append(f"{label} {sock[key]} ms")
    if sock.get("delivery_rate_bps") is not None:
        parts.append(f"delivery {sock['delivery_rate_bps'] / 1e9:.3g} Gbit/s")
    owners = ",".join(sock.get("owners") or [])
    return f"{name}{f' ({owners})' if owners else ''}: " + ", ".join(parts)


def _tap_line(counters: dict[str, Any] | None, sends: str) -> tuple[str, int]:
    """The container's interfaces over the run, from the container's side: what it sent (TX)
    and received (RX), and what it dropped; with the drops in the data's direction."""
    if not counters:
        return "container interface: not read", 0
    lines, dropped = [], 0
    for name, c in counters.items():
        lines.append(f"{name} sent {c['tx_packets']} frames (dropped {c['tx_dropped']}, errors {c['tx_errors']}), "
                     f"received {c['rx_packets']} (dropped {c['rx_dropped']}, errors {c['rx_errors']})")
        dropped += c["tx_dropped"] + c["tx_errors"] if sends == "container" else c["rx_dropped"] + c["rx_errors"]
    return "container interface: " + "; ".join(lines), dropped


def find(trial: Trial, cell: CellResult, host_median: float) -> Finding | None:
    """A trial's finding, if it moved less than SLOW of host's median and its evidence was taken."""
    moved = trial.samples.get(cell.metric)
    evidence = trial.observations.get("diagnosis")
    if moved is None or not isinstance(evidence, dict) or host_median <= 0 or moved >= SLOW * host_median:
        return None
    sends = WORKLOADS[sweeps.base_of(cell.workload)].sends
    port = trial.observations.get("port")
    sockets = evidence.get("sockets") or {}
    client_ns = sockets.get("client") if cell.placement == "remote" else sockets.get("server host")
    client = _data_socket(client_ns, peer_port=port)
    helper = _data_socket(sockets.get("server host"), local_port=port)
    container = _data_socket(sockets.get("container"))
    tap, tap_drops = _tap_line(evidence.get("container_link"), sends)
    if evidence.get("container_link_span") and evidence.get("container_link"):
        tap += f" (over {evidence['container_link_span']})"
    if sends == "container":
        chain = [("the container's sending socket", container), ("the helper's socket to the client", helper),
                 ("the client's receiving socket", client)]
    else:
        chain = [("the client's sending socket", client), ("the helper's socket from the client", helper),
                 ("the container's receiving socket", container)]
    lines = [_socket_line(chain[0][0], chain[0][1]), tap, *(_socket_line(n, s) for n, s in chain[1:])]
    share = _cpu_share(trial, evidence)
    if share is not None:
        lines.append(f"helper CPU: {trial.observations['helper_cpu_s']:.3g} s over the {evidence['client_run_s']:g} s "
                     f"client run ({share:.0%} of one core)")
    lab_line, lab_drops = _lab_line(evidence.get("lab_links"))
    if lab_line:
        lines.append(lab_line)
    kind, where = _where(sends, chain, tap_drops, evidence, lab_drops)
    if not kind and share is not None and share >= CPU_BOUND:
        kind, where = "helper CPU", f"the helper was busy {share:.0%} of one core: it could not go faster"
    elif not kind and share is not None and "sockets" in evidence:
        kind, where = "idle", (f"no hop lost data or hit a limit and the helper used {share:.0%} of one core: "
                               "the sender stopped sending")
    return Finding(f"{cell.workload}/{cell.placement}/{cell.label}", trial.index, moved, host_median, cell.unit,
                   where, tuple(lines), kind, share)


def _cpu_share(trial: Trial, evidence: dict[str, Any]) -> float | None:
    cpu, run_s = trial.observations.get("helper_cpu_s"), evidence.get("client_run_s")
    if not isinstance(cpu, (int, float)) or not isinstance(run_s, (int, float)) or run_s <= 0:
        return None
    return cpu / run_s


def _lab_line(links: Any) -> tuple[str, int]:
    """The lab hosts' interfaces over the run: what each dropped or failed, both ways."""
    if not isinstance(links, dict) or not links:
        return "", 0
    parts, dropped = [], 0
    for host, devices in links.items():
        for name, c in (devices or {}).items():
            lost = c["rx_dropped"] + c["rx_errors"] + c["tx_dropped"] + c["tx_errors"]
            dropped += lost
            parts.append(f"{host} {name} dropped {c['rx_dropped']} received / {c['tx_dropped']} sent, "
                         f"errors {c['rx_errors']} / {c['tx_errors']}")
    return "lab links: " + "; ".join(parts), dropped


def _where(sends: str, chain: list[tuple[str, dict | None]], tap_drops: int,
           evidence: dict[str, Any], lab_drops: int = 0) -> tuple[str, str]:
    """(kind, words): the first hop, in the data's direction, that lost or held back data."""
    sender_name, sender = chain[0]
    if tap_drops > 0:
        side = "sent to" if sends == "container" else "received from"
        return "tap drops", f"frames were dropped at the container's tap ({tap_drops} frames the container {side} its helper)"
    sender_retrans = (sender or {}).get("retrans_total") or 0
    far_retrans = sum((s or {}).get("retrans_total") or 0 for _, s in chain[1:2])
    if sender_retrans and not far_retrans and "container_link" in evidence:
        return "sender retransmits", (f"{sender_name} retransmitted {sender_retrans} segments and the helper's "
                                      "connection none, while the container's interface counted no dropped frame: "
                                      "the helper did not take (or acknowledge) data the container had sent")
    if sender_retrans and not far_retrans:
        return "sender retransmits", (f"{sender_name} retransmitted {sender_retrans} segments and the helper's "
                                      "connection none: the data went missing between the sender and the helper")
    if far_retrans and lab_drops:
        return "retransmits past the helper", (f"{chain[1][0]} retransmitted {far_retrans} segments and the lab "
                                               f"links dropped {lab_drops} frames: the data went missing on the "
                                               "way to the receiver")
    if far_retrans and "lab_links" in evidence and "container_link" in evidence:
        return "retransmits without a drop", (
            f"{chain[1][0]} retransmitted {far_retrans} segments, yet no interface on the way (the container's, the "
            "lab link's ends) counted a dropped frame: the segments were lost above the links (a socket's queue) or "
            "not lost at all (a retransmit timer firing early, reordering)")
    if far_retrans:
        return "retransmits past the helper", (f"{chain[1][0]} retransmitted {far_retrans} segments: the data went "
                                               "missing on the way to the receiver")
    for name, sock in chain:
        if sock and sock.get("rwnd_limited_ms"):
            return "receiver window", f"{name} waited {sock['rwnd_limited_ms']} ms for the receiver's window"
        if sock and sock.get("sndbuf_limited_ms"):
            return "send buffer", f"{name} waited {sock['sndbuf_limited_ms']} ms for its own send buffer"
    if "sockets" not in evidence:
        return "not sampled", "the connections were not sampled"
    return "", ""


def findings(document: RunDocument) -> list[Finding]:
    """Every slow trial's finding, cell by cell, against the median of host's trials of the
    same workload, placement and stack."""
    found: list[Finding] = []
    host_cells = {(c.workload, c.placement, c.stack): c for c in document.cells if c.method == BASELINE}
    for cell in document.cells:
        workload = WORKLOADS.get(sweeps.base_of(cell.workload))
        host = host_cells.get((cell.workload, cell.placement, cell.stack))
        if cell.method == BASELINE or workload is None or not workload.sends or host is None or not host.samples():
            continue
        median = stats.summarize(host.samples()).median
        for trial in cell.trials:
            if trial.status == "ok" and not trial.warmup and (finding := find(trial, cell, median)) is not None:
                found.append(finding)
    return found


@dataclass(frozen=True)
class CellFindings:
    """A cell's slow trials: how many of its trials, and what they showed most often."""

    cell: str
    slow: int
    trials: int
    where: str  # the most common kind of conclusion, in the words of its first trial
    first: Finding

    def line(self) -> str:
        return (f"{self.cell}: {self.slow} of {self.trials} trials moved less than a tenth of host's: "
                + (self.where or "no hop shows loss or a limit") + f" (e.g. trial {self.first.trial})")


def by_cell(document: RunDocument, found: list[Finding] | None = None) -> list[CellFindings]:
    """The findings cell by cell, for a one-line summary each."""
    found = findings(document) if found is None else found
    grouped: dict[str, list[Finding]] = {}
    for finding in found:
        grouped.setdefault(finding.cell, []).append(finding)
    counts = {f"{c.workload}/{c.placement}/{c.label}": sum(1 for t in c.trials if t.status == "ok" and not t.warmup)
              for c in document.cells}
    summaries = []
    for cell, items in grouped.items():
        kinds = [f.kind for f in items]
        common = max(dict.fromkeys(kinds), key=kinds.count)
        first = next(f for f in items if f.kind == common)
        summaries.append(CellFindings(cell, len(items), counts.get(cell, len(items)), first.where, first))
    return summaries
