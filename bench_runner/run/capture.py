"""Opt-in evidence a maintainer asks for: a packet capture (``--capture pcap``) and a CPU
profile of the carrying helper (``--capture perf``), each from one extra short trial per cell
after the measured ones, so they never slow a trial that counts.

pcap: where the method's helper captures itself (pasta ``--pcap``), it does, as the benchmark
user, in the helper's own world (a booted stack's file system); root then takes the file
through the user's own ``head``, never opening the user's path. ``tcpdump`` runs as root in the
server host's namespace, for every method: beside pasta's own file it is the other side of the
same seconds (what the lab link carried), so a frame lost between them shows. Either way the file is cut at a record boundary to
``SIZE_LIMIT``. perf: ``perf record -g`` of the process that owns the published port, with
``perf report`` text kept for the report.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import procs
from ..errors import BenchError, MeasurementError, UsageError
from .matrix import METHODS, Cell
from ..parsers import ParseError, pcap
from ..providers import Session
from ..workloads.serverspec import PCAP, ServerSpec
from ..workloads.sweeps import base_of
from ..workloads import DRIVERS, TrialSettings

KINDS = ("pcap", "perf")
#: A capture trial: long enough to see the steady state, short enough to keep files small.
SETTINGS = TrialSettings(duration_s=1, omit_s=0)
#: Every packet is kept to its first SNAPLEN bytes (the headers: pasta writes whole frames
#: of up to 64 KiB, cut afterwards as tcpdump -s cuts them), and a file to SIZE_LIMIT bytes
#: at a packet boundary, so a run's captures fit an issue tracker's attachment. Of pasta's
#: own file, at most RAW_LIMIT bytes are taken from the user's side.
SNAPLEN = 192
SIZE_LIMIT = 4 * 1024 * 1024
RAW_LIMIT = 64 * 1024 * 1024
TCPDUMP_PACKETS = 50_000
PERF_FREQUENCY = 997
PERF_REPORT_LINES = 30
CALL_TIMEOUT = 120.0


def parse_kinds(values: list[str] | None) -> tuple[str, ...]:
    """``--capture pcap,perf`` (repeatable) -> ("pcap", "perf"); unknown kinds are a usage error."""
    kinds: list[str] = []
    for value in values or []:
        for kind in (v.strip() for v in value.split(",")):
            if kind not in KINDS:
                raise UsageError(f"--capture {kind!r}: unknown kind; valid: {', '.join(KINDS)}")
            if kind not in kinds:
                kinds.append(kind)
    return tuple(kinds)


@dataclass
class Capture:
    """One capture file, as the results document lists it (``path`` relative to the document)."""

    kind: str
    tool: str
    workload: str
    placement: str
    method: str
    stack: str
    path: str | None = None
    bytes: int = 0
    #: pcap: whole packets kept, the file's size before the cut, link type, time covered.
    packets: int | None = None
    original_bytes: int | None = None
    truncated: bool = False
    link_type: str | None = None
    span_s: float | None = None
    #: perf: the top of ``perf report``, and the process profiled.
    report_text: str | None = None
    profiled: dict[str, Any] | None = None
    #: The capture trial itself (not in the statistics): ok or why not, and its figures.
    trial: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def file_name(cell: Cell, kind: str, side: str = "") -> str:
    """``side``: ``-link`` for the lab link's capture beside a helper's own."""
    stack = "" if cell.stack == "host" else f"@{cell.stack}"
    suffix = {"pcap": "pcap", "perf": "perf.data"}[kind]
    return f"{cell.workload}-{cell.placement}-{cell.method}{stack}{side}.{suffix}"


class TrialCapture:
    """What the trial runner asks of a capture: the server spec to use, and a context around
    the client's measurement (given the process that owns the published port). The base
    captures nothing: an ordinary trial runs through it unchanged."""

    def __init__(self, session: Session | None = None, record: Capture | None = None,
                 destination: Path | None = None) -> None:
        self.session = session
        self.record = record
        self.destination = destination

    def adjust(self, spec: ServerSpec) -> ServerSpec:
        return spec

    @contextlib.contextmanager
    def during(self, carrier_pid: int | None) -> Iterator[None]:
        yield

    def finish(self) -> None:
        """Fill in the record from what was captured (after the trial, also a failed one)."""


class HelperPcap(TrialCapture):
    """The method's helper writes the pcap itself (pasta ``--pcap``), as the benchmark user."""

    def __init__(self, session: Session, record: Capture, destination: Path, number: int) -> None:
        super().__init__(session, record, destination)
        if session.stack is not None:
            self.path = f"{session.stack.shell.runtime_dir}/netbench-capture-{number}.pcap"
        else:
            self.path = str(session.private_dir(f"capture{number}") / "frames.pcap")

    def _as_user(self, argv: list[str]) -> list[str]:
        if self.session.stack is not None:
            return self.session.stack.shell.user_argv(argv)
        return self.session.user.argv(argv)

    def adjust(self, spec: ServerSpec) -> ServerSpec:
        return replace(spec, options=(*spec.options, f"{PCAP}:{self.path}"))

    def finish(self) -> None:
        size = procs.run(self._as_user(["stat", "--format=%s", "--", self.path]), timeout=CALL_TIMEOUT, check=False)
        if size.returncode != 0:
            raise MeasurementError(f"the helper wrote no capture to {self.path}: {size.stderr.strip()[-200:]}")
        try:
            procs.run_to_file(self._as_user(["head", "-c", str(RAW_LIMIT), "--", self.path]), self.destination,
                              timeout=CALL_TIMEOUT)
        finally:
            procs.run(self._as_user(["rm", "-f", "--", self.path]), timeout=CALL_TIMEOUT, check=False)
        settle_pcap(self.record, self.destination, int(size.stdout.strip() or 0))


class TcpdumpPcap(TrialCapture):
    """tcpdump as root in the server host's namespace, headers only (``-s``), at most
    ``TCPDUMP_PACKETS`` packets, into a file root made."""

    @contextlib.contextmanager
    def during(self, carrier_pid: int | None) -> Iterator[None]:
        argv = self.session.lab.in_server(["tcpdump", "-i", "any", "-n", "-U", "-s", str(SNAPLEN),
                                           "-c", str(TCPDUMP_PACKETS), "-Z", "root", "-w", str(self.destination)])
        dump = procs.Spawned(argv)
        entry = self.session.state.add_process(dump.ref, "tcpdump")
        try:
            procs.wait_until(lambda: "listening on" in dump.output()[1] or dump.poll() is not None, timeout=15,
                             what="tcpdump to start listening")
            if dump.poll() is not None:
                raise MeasurementError(f"tcpdump exited with {dump.poll()}: {dump.last_words()}")
            yield
        finally:
            dump.stop(grace=5.0)
            self.record.trial["tcpdump"] = dump.last_words()
            dump.close()
            self.session.state.discard(entry)

    def finish(self) -> None:
        if not self.destination.exists():
            raise MeasurementError("tcpdump wrote no file")
        settle_pcap(self.record, self.destination, self.destination.stat().st_size)


class Together(TrialCapture):
    """Several captures of the same client run: each adjusts the server in turn, and all are
    running before the client starts."""

    def __init__(self, parts: list[TrialCapture]) -> None:
        super().__init__()
        self.parts = parts

    def adjust(self, spec: ServerSpec) -> ServerSpec:
        for part in self.parts:
            spec = part.adjust(spec)
        return spec

    @contextlib.contextmanager
    def during(self, carrier_pid: int | None) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for part in self.parts:
                stack.enter_context(part.during(carrier_pid))
            yield


def settle_pcap(record: Capture, path: Path, original: int) -> None:
    """Keep each packet's headers (SNAPLEN) and the file to SIZE_LIMIT at a packet boundary,
    and note what it holds. ``original``: the capture's size as its writer left it."""
    data = path.read_bytes()
    try:
        snapped = pcap.snap(data, SNAPLEN)  # checks the header too
        kept = pcap.cut(snapped, SIZE_LIMIT)
        summary, whole = pcap.summarize(kept), pcap.summarize(snapped)
    except ParseError as exc:
        raise MeasurementError(f"the capture is not a pcap file: {exc}") from None
    if kept != data:
        path.write_bytes(kept)
    data = kept
    os.chmod(path, 0o644)
    record.bytes = len(data)
    record.packets = summary.packets
    record.original_bytes = original
    # Packets left out: by the size limit here, or beyond what was taken from the user's side.
    record.truncated = summary.packets < whole.packets or original > RAW_LIMIT
    record.link_type = summary.link_type
    record.span_s = round(summary.span_s, 6)


class PerfProfile(TrialCapture):
    """``perf record -g`` of the process owning the published port while the client runs."""

    @contextlib.contextmanager
    def during(self, carrier_pid: int | None) -> Iterator[None]:
        if carrier_pid is None:
            raise MeasurementError("no process owned the published port to profile")
        info = procs.ProcRef.of(carrier_pid)
        comm = Path(f"/proc/{carrier_pid}/comm").read_text().strip() if info is not None else "?"
        self.record.profiled = {"pid": carrier_pid, "comm": comm}
        # No build ids: perf would open the helper's binaries, which are the benchmark user's.
        argv = ["perf", "record", "--no-buildid", "--no-buildid-cache", "-g", "-F", str(PERF_FREQUENCY),
                "-p", str(carrier_pid), "-o", str(self.destination)]
        recorder = procs.Spawned(argv)
        entry = self.session.state.add_process(recorder.ref, "perf record")
        try:
            procs.wait_until(lambda: self.destination.exists() or recorder.poll() is not None, timeout=15,
                             what="perf record to start")
            if recorder.poll() is not None:
                raise MeasurementError(f"perf record exited with {recorder.poll()}: {recorder.last_words()}")
            yield
        finally:
            recorder.stop(grace=15.0)  # SIGTERM: perf writes its data and exits
            recorder.close()
            self.session.state.discard(entry)

    def finish(self) -> None:
        if not self.destination.exists():
            raise MeasurementError("perf record wrote no file")
        os.chmod(self.destination, 0o644)
        self.record.bytes = self.destination.stat().st_size
        parts = []
        for title, fields in (("By program and object", "overhead,comm,dso"),
                              ("Top symbols (the kernel's; a helper's own code shows as addresses)",
                               "overhead,comm,dso,sym")):
            parts.append(f"{title}:\n" + report_top(self._report(fields)))
        self.record.report_text = "\n\n".join(parts)

    def _report(self, fields: str) -> str:
        """``perf report`` as root, with an empty --symfs: the kernel's symbols come from
        /proc/kallsyms, and no file of the benchmark user's (a helper binary, its libraries in
        the user's mount namespace) is ever opened by root."""
        with tempfile.TemporaryDirectory(prefix="netbench-symfs-") as empty:
            result = procs.run(["perf", "report", "--stdio", "--no-children", "--percent-limit", "1", "--fields",
                                fields, "-g", "none", "--symfs", empty, "--kallsyms", "/proc/kallsyms", "-i",
                                str(self.destination)],
                               timeout=CALL_TIMEOUT, check=False)
        if result.returncode != 0:
            raise MeasurementError(f"perf report failed: {result.stderr.strip()[-200:]}")
        return result.stdout


def report_top(text: str, lines: int = PERF_REPORT_LINES) -> str:
    """``perf report --stdio`` cut to what a reader needs: the sample count and event, the
    column header, and the top entries."""
    kept = []
    for line in text.splitlines():
        stripped = line.rstrip()
        if stripped.startswith("# Samples:") or stripped.startswith("# Overhead"):
            kept.append(stripped.lstrip("# "))
        elif stripped and not stripped.startswith("#"):
            kept.append(stripped)
    return "\n".join(kept[:lines])


def capture_for(kind: str, session: Session, cell: Cell, directory: Path,
                number: int) -> list[tuple[Capture, TrialCapture, Path]]:
    """The records, captures and files a cell gets for one kind, all of one client run: a
    helper that captures itself (pasta) gets tcpdump on the lab link beside its own file."""
    def record(tool: str) -> Capture:
        return Capture(kind, tool, cell.workload, cell.placement, cell.method, cell.stack)

    destination = directory / file_name(cell, kind)
    if kind == "perf":
        perf = record("perf record -g")
        return [(perf, PerfProfile(session, perf, destination), destination)]
    link = record("tcpdump in the server host")
    if not METHODS[cell.method].writes_pcap:
        return [(link, TcpdumpPcap(session, link, destination), destination)]
    own = record("pasta --pcap")
    link_file = directory / file_name(cell, kind, "-link")
    return [(own, HelperPcap(session, own, destination, number), destination),
            (link, TcpdumpPcap(session, link, link_file), link_file)]


def capture_all(runner: Any, cells: tuple[Cell, ...], kinds: tuple[str, ...], directory: Path, relative_to: Path,
                log: Callable[[str], None] = lambda s: None) -> list[dict[str, Any]]:
    """One capture trial per cell and kind; a failure is recorded with why, never fatal."""
    directory.mkdir(mode=0o755, exist_ok=True)
    found: list[dict[str, Any]] = []
    jobs = [(cell, kind) for kind in kinds for cell in cells]
    for number, (cell, kind) in enumerate(jobs, 1):
        session = runner.session_of(cell)
        parts = capture_for(kind, session, cell, directory, number)
        if kind == "perf" and DRIVERS[base_of(cell.workload)].direction == "outbound":
            for record, _, _ in parts:
                record.error = "perf profiles the process that owns a published port; an outbound workload has none"
                found.append(record.to_json())
            continue
        tools = " and ".join(record.tool for record, _, _ in parts)
        log(f"capture {number}/{len(jobs)}: {kind} of {cell.label} ({tools})")
        together = parts[0][1] if len(parts) == 1 else Together([capture for _, capture, _ in parts])
        trial = runner.run_trial(cell, -1, False, SETTINGS, capture=together)
        for record, capture, destination in parts:
            record.trial = {**record.trial, "status": trial.status, "error": trial.error, "samples": trial.samples}
            try:
                capture.finish()
                if destination.exists():
                    record.path = os.path.relpath(destination, relative_to)
            except (BenchError, OSError) as exc:
                record.error = str(exc)
                log(f"capture {number}/{len(jobs)}: {record.error}")
            found.append(record.to_json())
    return found
