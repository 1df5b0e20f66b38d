"""The suite's echo client: round trips, connect-request-response-close and bulk streams
against the echo service, with one JSON result on stdout.

Standard library only; the benchmark user runs it with the suite's interpreter in the
placement's namespace. Warm-up (``--omit``) is run and discarded; what follows is measured
for ``--duration`` seconds. Round trips are timed one by one and reported as percentiles in
microseconds; streams as Gbit/s. The timed loops use blocking sockets, preallocated buffers
and ``os.write``/``os.readv`` on the descriptor (cheaper per call than the socket methods),
and record one integer per round trip, nothing else. At the end the client
asks the server to quit, so that each trial's server exits on its own and prints what it saw.
Exit code 0 with a result, 1 with ``{"error": ...}``.

``--clients N`` runs the round-trip modes as N concurrent clients, each a forked process
with a connection (UDP: a socket) of its own: processes, not threads, so that no client waits
for another's interpreter lock, and each a blocking loop like the single client, so that one
client measures as it always has. Each connects first (under socket activation the first
starts the service); when all are ready they start their warm-up together, so their measured
windows coincide. The result merges them: percentiles over every round trip of every client,
transactions per second summed, how many clients measured, for how long all of them measured
at once, and the CPU the clients spent measuring (on a machine with few cores N clients, the
server and the forwarder share them, and this shows how much went to the clients).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import struct
import sys
import time
from array import array
from dataclasses import dataclass, field
from typing import Any, Callable

MAGIC = b"NBE1"
HEADER = struct.Struct("!4s1s3xII")  # must match echo_server.HEADER
ACK = b"K"
SEQ = struct.Struct("!Q")
BLOCK = 128 * 1024  # as iperf3's default TCP block
MAX_MESSAGE = 65536
MODES = ("tcp-rr", "udp-rr", "tcp-crr", "stream", "stream-reverse")
ROUND_TRIP_MODES = ("tcp-rr", "udp-rr", "tcp-crr")
#: As iperf3's -P, which --streams also sets.
MAX_CLIENTS = 128
UDP_TALLY = ("sent", "received", "lost", "stale")
RESULT_VERSION = 1


class ClientError(Exception):
    """Something went wrong that the result should say in one line."""


class Watchdog(Exception):
    """The whole run took longer than it possibly should."""


def header(mode: bytes, size: int = 0, param: int = 0) -> bytes:
    return HEADER.pack(MAGIC, mode, size, param)


def percentiles(values: list[int], points: tuple[float, ...] = (50, 90, 99)) -> dict[str, float]:
    """Linear interpolation between closest ranks (numpy's default), in microseconds from
    nanoseconds; plus mean, min and max."""
    data = sorted(values)
    n = len(data)
    out: dict[str, float] = {}
    for p in points:
        rank = (n - 1) * p / 100.0
        low = int(rank)
        high = min(low + 1, n - 1)
        value = data[low] + (data[high] - data[low]) * (rank - low)
        out[f"p{p:g}"] = value / 1000.0
    out["mean"] = sum(data) / n / 1000.0
    out["min"] = data[0] / 1000.0
    out["max"] = data[-1] / 1000.0
    return out


def _timeouts(sock: socket.socket, seconds: float) -> None:
    """Kernel-side send/receive timeouts (SO_RCVTIMEO/SO_SNDTIMEO): the socket stays
    blocking for Python, so the hot path has no extra poll() per call."""
    whole = int(seconds)
    value = struct.pack("ll", whole, int((seconds - whole) * 1e6))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"{host}:{port}"


def failure(exc: BaseException, io_timeout: float) -> str | None:
    """The one line an error becomes in the result, or None for a bug (let it raise)."""
    if isinstance(exc, Watchdog):
        return "the client ran out of time (watchdog)"
    if isinstance(exc, ClientError):
        return str(exc)
    if isinstance(exc, BlockingIOError):
        return f"no progress for {io_timeout:g} s (send or receive timed out)"
    if isinstance(exc, OSError):
        return f"{exc.__class__.__name__}: {exc.strerror or exc}"
    return None


@dataclass
class Part:
    """One client's share of a round-trip run (what a forked client sends its parent)."""

    local: str
    warm: int
    count: int
    #: Exchanges the server served for this client (probe and warm-up included).
    total: int
    #: The measured window (CLOCK_MONOTONIC, the same clock in every process) and the CPU
    #: time this client's process spent in it.
    started_ns: int
    ended_ns: int
    cpu_ns: int
    udp: dict[str, int] = field(default_factory=dict)
    samples: list[int] = field(default_factory=list)

    def encode(self) -> bytes:
        """A JSON line, then the round-trip times as native 64-bit integers."""
        fields = {key: value for key, value in vars(self).items() if key != "samples"}
        return json.dumps(fields).encode() + b"\n" + array("q", self.samples).tobytes()

    @classmethod
    def decode(cls, data: bytes) -> "Part":
        line, _, raw = data.partition(b"\n")
        fields = json.loads(line)
        if "error" in fields:
            raise ClientError(fields["error"])
        samples = array("q")
        samples.frombytes(raw)
        return cls(**fields, samples=samples.tolist())


def _measured(loop: Callable[[Callable[[int], None]], int]) -> tuple[int, list[int], int, int, int]:
    """Run a measured loop: (round trips, their times in ns, window start, window end, CPU ns)."""
    samples: list[int] = []
    cpu = time.process_time_ns()
    started = time.monotonic_ns()
    count = loop(samples.append)
    ended = time.monotonic_ns()
    return count, samples, started, ended, time.process_time_ns() - cpu


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def run_concurrently(count: int, prepare: Callable[[], Callable[[], "Part"]], budget_s: int,
                     io_timeout: float) -> list[Part]:
    """``count`` clients, each a forked process: each prepares (connects), says so on a
    shared pipe and waits; once all are ready, one byte each starts them together ("g"), or
    ends them unmeasured ("q") if one could not connect. Each sends its part on a pipe of its
    own. A child still running when this ends (the watchdog) is killed, by its pid."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    children: dict[int, int] = {}  # pid -> read end of its result pipe
    sys.stdout.flush()
    try:
        for _ in range(count):
            result_r, result_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                code = 70
                try:
                    for fd in (ready_r, go_w, result_r, *children.values()):
                        os.close(fd)
                    code = _child(prepare, budget_s, io_timeout, ready_w, go_r, result_w)
                finally:
                    os._exit(code)
            os.close(result_w)
            children[pid] = result_r
        os.close(ready_w)
        ready_w = -1
        states = _read_all(ready_r)  # one byte from each child, then end of file
        go = b"g" if states == b"r" * count else b"q"
        _write_all(go_w, go * count)
        parts: list[Part] = []
        errors: list[str] = []
        for number, (pid, result_r) in enumerate(list(children.items()), start=1):
            data = _read_all(result_r)
            _, status = os.waitpid(pid, 0)
            del children[pid]
            os.close(result_r)
            try:
                if not data:
                    if go == b"g":
                        raise ClientError(f"exited with status {os.waitstatus_to_exitcode(status)} without a result")
                    continue
                parts.append(Part.decode(data))
            except ClientError as exc:
                errors.append(f"client {number} of {count}: {exc}")
        if errors:
            raise ClientError(errors[0] + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
        return parts
    finally:
        for fd in (ready_r, ready_w, go_r, go_w):
            if fd >= 0:
                os.close(fd)
        for pid, result_r in children.items():
            os.close(result_r)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)


def _child(prepare: Callable[[], Callable[[], "Part"]], budget_s: int, io_timeout: float,
           ready_w: int, go_r: int, result_w: int) -> int:
    """A forked client: connect, report ready, wait for the start, measure, send the part."""
    signal.alarm(budget_s)  # a child's own watchdog (alarms are not inherited)
    try:
        measure = prepare()
    except Exception as exc:  # noqa: BLE001 - every failure becomes the parent's error line
        os.write(ready_w, b"x")
        _write_all(result_w, json.dumps({"error": failure(exc, io_timeout) or repr(exc)}).encode())
        return 1
    os.write(ready_w, b"r")
    os.close(ready_w)
    if os.read(go_r, 1) != b"g":
        return 0
    try:
        data = measure().encode()
    except Exception as exc:  # noqa: BLE001
        data = json.dumps({"error": failure(exc, io_timeout) or repr(exc)}).encode()
    _write_all(result_w, data)
    return 0


def _recv_exact(sock: socket.socket, view: memoryview) -> None:
    got = 0
    while got < len(view):
        more = sock.recv_into(view[got:], len(view) - got, socket.MSG_WAITALL)
        if more == 0:
            raise ClientError(f"the server closed the connection after {got} of {len(view)} bytes")
        got += more


class Client:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.target = (args.host, args.port)
        self.result: dict[str, Any] = {
            "client": "netbench-echo", "version": RESULT_VERSION, "mode": args.mode,
            "target": f"{args.host}:{args.port}", "size": args.size, "duration_s": args.duration,
            "omit_s": args.omit,
        }

    def connect(self, mode: bytes, size: int = 0, param: int = 0) -> socket.socket:
        """A connection past its header: the server acknowledges once it serves the mode
        (under socket activation, once the container has started)."""
        try:
            sock = socket.create_connection(self.target, timeout=self.args.connect_timeout)
        except OSError as exc:
            raise ClientError(f"cannot connect to {self.target[0]}:{self.target[1]}: {exc.strerror or exc}") from None
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _timeouts(sock, self.args.connect_timeout)
        sock.sendall(header(mode, size, param))
        ack = bytearray(1)
        if sock.recv_into(ack, 1) != 1 or ack != ACK:
            raise ClientError(f"the server did not acknowledge mode {mode.decode()}")
        _timeouts(sock, self.args.io_timeout)
        self.result.setdefault("local", _address(sock))
        return sock

    # ------------------------------------------------------------------ TCP RR
    def tcp_rr(self) -> Callable[[], Part]:
        """Connect; the returned measurement runs warm-up and round trips on that connection."""
        size = self.args.size
        sock = self.connect(b"E", size)
        local = _address(sock)

        def measure() -> Part:
            view = memoryview(bytearray(size))
            try:
                warm = self._rr_loop(sock, view, size, self.args.omit, None)
                count, samples, started, ended, cpu = _measured(
                    lambda record: self._rr_loop(sock, view, size, self.args.duration, record))
            finally:
                sock.close()
            return Part(local, warm, count, warm + count, started, ended, cpu, samples=samples)

        return measure

    @staticmethod
    def _rr_loop(sock: socket.socket, view: memoryview, size: int, seconds: float,
                 record: Callable[[int], None] | None) -> int:
        """Timed round trips. os.write/os.readv on the descriptor cost measurably less per
        call than the socket methods (fast-call argument parsing): two calls per round trip."""
        fd = sock.fileno()
        buffers = [view]
        write = os.write
        readv = os.readv
        clock = time.perf_counter_ns
        deadline = clock() + int(seconds * 1e9)
        count = 0
        if seconds <= 0:
            return 0
        while True:
            start = clock()
            if write(fd, view) != size:
                raise ClientError("short send of a request")
            got = readv(fd, buffers)
            end = clock()
            if got != size:
                if got == 0:
                    raise ClientError("the server closed the connection during round trips")
                _recv_exact(sock, view[got:])
                end = clock()
            count += 1
            if record is not None:
                record(end - start)
            if end >= deadline:
                return count

    # ------------------------------------------------------------------ UDP RR
    def _udp_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET6 if ":" in self.args.host else socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(self.target)
        return sock

    def udp_rr(self) -> Callable[[], Part]:
        """A socket of its own (a source port of its own) and its first echo; the returned
        measurement runs warm-up and round trips."""
        size = max(self.args.size, SEQ.size)
        sock = self._udp_socket()
        try:
            local = _address(sock)
            probes = self._udp_first_reply(sock, size)
        except BaseException:
            sock.close()
            raise

        def measure() -> Part:
            try:
                _timeouts(sock, self.args.loss_timeout)
                # The first exchange: every probe may have been answered (under socket activation
                # they queue up while the service starts), but only one echo was taken.
                state = {"lost": 0, "stale": 0, "sent": probes, "received": 1}
                warm = self._udp_loop(sock, size, self.args.omit, None, state)
                count, samples, started, ended, cpu = _measured(
                    lambda record: self._udp_loop(sock, size, self.args.duration, record, state))
            finally:
                sock.close()
            return Part(local, warm, count, warm + count, started, ended, cpu, udp=state, samples=samples)

        return measure

    def _udp_first_reply(self, sock: socket.socket, size: int) -> int:
        """Resend until the first echo arrives: under socket activation the service starts
        with the first datagram, and a forwarder may still be settling. Returns how many
        probes were sent."""
        _timeouts(sock, 0.2)
        probe = bytearray(size)
        deadline = time.monotonic() + self.args.connect_timeout
        reply = bytearray(MAX_MESSAGE)
        sent = 0
        while time.monotonic() < deadline:
            try:
                sock.send(probe)
                sent += 1
                got = sock.recv_into(reply)
            except (BlockingIOError, ConnectionRefusedError):
                continue
            if got == size and reply[:SEQ.size] == probe[:SEQ.size]:
                return sent
        raise ClientError(f"no UDP echo from {self.target[0]}:{self.target[1]} within {self.args.connect_timeout:g} s")

    @staticmethod
    def _udp_loop(sock: socket.socket, size: int, seconds: float, record: Callable[[int], None] | None,
                  state: dict[str, int]) -> int:
        if seconds <= 0:
            return 0
        out = bytearray(size)
        out_view = memoryview(out)
        reply = bytearray(MAX_MESSAGE)
        fd = sock.fileno()
        buffers = [reply]
        write = os.write
        readv = os.readv
        pack_into = SEQ.pack_into
        unpack_from = SEQ.unpack_from
        clock = time.perf_counter_ns
        deadline = clock() + int(seconds * 1e9)
        seq = state["sent"]
        count = lost = stale = 0
        while True:
            seq += 1
            pack_into(out, 0, seq)
            start = clock()
            write(fd, out_view)
            while True:
                try:
                    got = readv(fd, buffers)
                except BlockingIOError:  # SO_RCVTIMEO: the datagram or its echo was lost
                    got = -1
                    break
                if got == size and unpack_from(reply)[0] == seq:
                    break
                stale += 1  # a late echo of a datagram already counted as lost
            end = clock()
            if got < 0:
                lost += 1
            else:
                count += 1
                if record is not None:
                    record(end - start)
            if end >= deadline:
                break
        state["sent"] = seq
        state["received"] += count
        state["lost"] += lost
        state["stale"] += stale
        return count

    def _udp_quit(self, sock: socket.socket) -> None:
        """The quit header as a datagram (from a socket of its own, after every client has
        finished), resent until echoed or refused (the server gone)."""
        _timeouts(sock, 0.2)
        request = header(b"Q")
        reply = bytearray(MAX_MESSAGE)
        for _ in range(25):
            try:
                sock.send(request)
                got = sock.recv_into(reply)
            except BlockingIOError:
                continue
            except ConnectionRefusedError:
                self.result["quit"] = "server gone"
                return
            if reply[:got] == request:
                self.result["quit"] = "acknowledged"
                return
        raise ClientError("the server did not acknowledge the UDP quit request")

    # ------------------------------------------------------------------ TCP CRR
    def tcp_crr(self) -> Callable[[], Part]:
        """One transaction before the clock starts (the service is up: socket activation);
        the returned measurement runs warm-up and timed transactions."""
        size = self.args.size
        request = header(b"C", size) + bytes(size)
        view = memoryview(bytearray(size + 1))
        family = socket.AF_INET6 if ":" in self.args.host else socket.AF_INET
        try:
            probe = socket.create_connection(self.target, timeout=self.args.connect_timeout)
        except OSError as exc:
            raise ClientError(f"cannot connect to {self.target[0]}:{self.target[1]}: {exc.strerror or exc}") from None
        try:
            local = _address(probe)
            probe.sendall(request)
            _recv_exact(probe, view[:size])
            probe.recv_into(view, 1)  # the server's end of stream
        finally:
            probe.close()

        def measure() -> Part:
            warm = self._crr_loop(family, request, view, size, self.args.omit, None)
            count, samples, started, ended, cpu = _measured(
                lambda record: self._crr_loop(family, request, view, size, self.args.duration, record))
            return Part(local, warm, count, 1 + warm + count, started, ended, cpu, samples=samples)

        return measure

    def _crr_loop(self, family: int, request: bytes, view: memoryview, size: int, seconds: float,
                  record: Callable[[int], None] | None) -> int:
        if seconds <= 0:
            return 0
        target = self.target
        new_socket = socket.socket
        stream = socket.SOCK_STREAM
        waitall = socket.MSG_WAITALL
        clock = time.perf_counter_ns
        deadline = clock() + int(seconds * 1e9)
        count = 0
        while True:
            start = clock()
            sock = new_socket(family, stream)
            try:
                sock.connect(target)
                sock.send(request)
                got = sock.recv_into(view, size, waitall)
                if got != size:
                    raise ClientError(f"crr: {got} of {size} bytes of the response")
                # The server closes first: wait for its end of stream, then close.
                if sock.recv_into(view, 1):
                    raise ClientError("crr: the server sent more than the response")
            finally:
                sock.close()
            end = clock()
            count += 1
            if record is not None:
                record(end - start)
            if end >= deadline:
                return count

    # ------------------------------------------------------------------ streams
    def stream(self) -> None:
        """Bulk TCP into the server's sink; the server's byte count closes the measurement,
        so what is timed is what arrived (goodput at the receiver, as iperf3 reports)."""
        sock = self.connect(b"S")
        buffer = memoryview(bytearray(self.args.block))
        fd = sock.fileno()
        write = os.write
        clock = time.perf_counter
        try:
            sent = 0
            warm_end = clock() + self.args.omit
            while clock() < warm_end:
                sent += write(fd, buffer)
            started = clock()
            base = sent
            deadline = started + self.args.duration
            while clock() < deadline:
                sent += write(fd, buffer)
            sock.shutdown(socket.SHUT_WR)
            count = bytearray(8)
            _recv_exact(sock, memoryview(count))
            ended = clock()
        finally:
            sock.close()
        (received,) = struct.unpack("!Q", count)
        if received != sent:
            raise ClientError(f"the server received {received} bytes of {sent} sent")
        self._throughput(sent - base, sent, ended - started)

    def stream_reverse(self) -> None:
        """Bulk TCP from the server's source, for omit + duration seconds."""
        total_ms = int((self.args.omit + self.args.duration) * 1000)
        sock = self.connect(b"R", 0, total_ms)
        view = memoryview(bytearray(BLOCK * 2))
        recv_into = sock.recv_into
        clock = time.perf_counter
        try:
            received = 0
            warm_end = clock() + self.args.omit
            while clock() < warm_end:
                got = recv_into(view)
                if not got:
                    raise ClientError("the source ended during warm-up")
                received += got
            started = clock()
            base = received
            while got := recv_into(view):
                received += got
            ended = clock()
        finally:
            sock.close()
        self._throughput(received - base, received, ended - started)

    # ------------------------------------------------------------------ several clients
    def round_trips(self, prepare: Callable[[], Callable[[], Part]]) -> None:
        """One client in this process, or ``--clients`` N forked, then their parts merged."""
        clients = self.args.clients
        if clients == 1:
            parts = [prepare()()]
        else:
            parts = run_concurrently(clients, prepare, self.budget_s(), self.args.io_timeout)
        self._merge(parts)

    def _merge(self, parts: list[Part]) -> None:
        """Percentiles over every round trip of every client; counts summed; the clients that
        measured, and how long they measured at the same time."""
        samples = [value for part in parts for value in part.samples]
        measured = [part for part in parts if part.count]
        udp = {key: sum(part.udp.get(key, 0) for part in parts) for key in UDP_TALLY} if parts[0].udp else {}
        if not samples:
            raise ClientError(f"no UDP round trip completed ({udp['lost']} lost)" if udp else "no round trip was measured")
        count = sum(part.count for part in parts)
        self.result.update(udp)
        self.result.update({
            "clients": len(measured),
            "local": parts[0].local,
            "locals": [part.local for part in parts],
            "count": count,
            "warmup_count": sum(part.warm for part in parts),
            "transactions_total": sum(part.total for part in parts),
            "latency_us": percentiles(samples),
            "transactions_per_s": sum(part.count / ((part.ended_ns - part.started_ns) / 1e9) for part in measured),
            "concurrent_s": (min(p.ended_ns for p in measured) - max(p.started_ns for p in measured)) / 1e9,
            "cpu_s": sum(part.cpu_ns for part in parts) / 1e9,
        })
        if self.args.mode == "tcp-crr":
            # Per client: each client's measured time over its transactions, all clients together.
            self.result["transaction_us"] = sum(p.ended_ns - p.started_ns for p in measured) / count / 1000.0

    def budget_s(self) -> int:
        """Seconds the whole run may take before the watchdog ends it."""
        return int(self.args.connect_timeout + self.args.omit + self.args.duration + 10)

    # ------------------------------------------------------------------ results
    def _throughput(self, measured: int, total: int, seconds: float) -> None:
        if seconds <= 0 or measured <= 0:
            raise ClientError("nothing was measured")
        self.result.update({"bytes": measured, "bytes_total": total, "seconds": seconds,
                            "gbits": measured * 8 / seconds / 1e9})

    def quit_tcp(self) -> None:
        sock = self.connect(b"Q")
        sock.close()
        self.result["quit"] = "acknowledged"

    def quit_udp(self) -> None:
        sock = self._udp_socket()
        try:
            self._udp_quit(sock)
        finally:
            sock.close()

    def run(self) -> dict[str, Any]:
        mode = self.args.mode
        if mode == "tcp-rr":
            self.round_trips(self.tcp_rr)
        elif mode == "udp-rr":
            self.round_trips(self.udp_rr)
        elif mode == "tcp-crr":
            self.round_trips(self.tcp_crr)
        elif mode == "stream":
            self.stream()
        else:
            self.stream_reverse()
        if self.args.quit:
            self.quit_udp() if mode == "udp-rr" else self.quit_tcp()
        return self.result

def _on_alarm(signum: int, frame: object) -> None:
    raise Watchdog()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds measured")
    parser.add_argument("--omit", type=float, default=1.0, help="seconds of warm-up, discarded")
    parser.add_argument("--size", type=int, default=64, help="message size for round trips (bytes)")
    parser.add_argument("--block", type=int, default=BLOCK, help="send size for streams (bytes)")
    parser.add_argument("--no-quit", dest="quit", action="store_false", help="leave the server running")
    parser.add_argument("--connect-timeout", type=float, default=15.0,
                        help="seconds for the service to answer at first (socket activation starts it)")
    parser.add_argument("--io-timeout", type=float, default=10.0, help="seconds a send or receive may block")
    parser.add_argument("--loss-timeout", type=float, default=0.5, help="seconds before a UDP echo counts as lost")
    parser.add_argument("--clients", type=int, default=1,
                        help=f"concurrent clients for the round-trip modes, each a process and a connection of its "
                             f"own (1-{MAX_CLIENTS})")
    args = parser.parse_args(argv)
    client = Client(args)
    if not 1 <= args.size <= MAX_MESSAGE or args.duration <= 0 or args.omit < 0 or args.block < 1:
        return _fail(client, "bad arguments: need 1 <= size <= 65536, duration > 0, omit >= 0, block >= 1")
    if not 1 <= args.clients <= MAX_CLIENTS or (args.clients > 1 and args.mode not in ROUND_TRIP_MODES):
        return _fail(client, f"bad arguments: --clients is 1-{MAX_CLIENTS}, and above 1 only for "
                             f"{', '.join(ROUND_TRIP_MODES)}")
    # Everything ends with a result: a hang becomes an error line, not a kill from outside.
    # Several clients: their own watchdogs (the same budget) go off first and say which.
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(client.budget_s() + (5 if args.clients > 1 else 0))
    try:
        result = client.run()
    except (Watchdog, OSError, ClientError) as exc:
        message = failure(exc, args.io_timeout)
        assert message is not None
        return _fail(client, message)
    finally:
        signal.alarm(0)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


def _fail(client: Client, message: str) -> int:
    sys.stdout.write(json.dumps({**client.result, "error": message}) + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
