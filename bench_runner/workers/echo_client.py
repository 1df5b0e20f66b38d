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
from typing import Any, Callable

MAGIC = b"NBE1"
HEADER = struct.Struct("!4s1s3xII")  # must match echo_server.HEADER
ACK = b"K"
SEQ = struct.Struct("!Q")
BLOCK = 128 * 1024  # as iperf3's default TCP block
MAX_MESSAGE = 65536
MODES = ("tcp-rr", "udp-rr", "tcp-crr", "stream", "stream-reverse")
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
    def tcp_rr(self) -> None:
        size = self.args.size
        sock = self.connect(b"E", size)
        try:
            buffer = bytearray(size)
            view = memoryview(buffer)
            warm = self._rr_loop(sock, view, size, self.args.omit, None)
            samples: list[int] = []
            count = self._rr_loop(sock, view, size, self.args.duration, samples.append)
        finally:
            sock.close()
        self._latency(samples, warm, count)

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
    def udp_rr(self) -> None:
        size = max(self.args.size, SEQ.size)
        sock = socket.socket(socket.AF_INET6 if ":" in self.args.host else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.connect(self.target)
            self.result["local"] = _address(sock)
            probes = self._udp_first_reply(sock, size)
            _timeouts(sock, self.args.loss_timeout)
            # The first exchange: every probe may have been answered (under socket activation
            # they queue up while the service starts), but only one echo was taken.
            state = {"lost": 0, "stale": 0, "sent": probes, "received": 1}
            warm = self._udp_loop(sock, size, self.args.omit, None, state)
            samples: list[int] = []
            count = self._udp_loop(sock, size, self.args.duration, samples.append, state)
            self.result.update(state)
            if self.args.quit:
                self._udp_quit(sock)
        finally:
            sock.close()
        if not samples:
            raise ClientError(f"no UDP round trip completed ({state['lost']} lost)")
        self._latency(samples, warm, count)

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
        """The quit header as a datagram, resent until echoed or refused (the server gone)."""
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
    def tcp_crr(self) -> None:
        size = self.args.size
        request = header(b"C", size) + bytes(size)
        reply = bytearray(size + 1)
        view = memoryview(reply)
        family = socket.AF_INET6 if ":" in self.args.host else socket.AF_INET
        # One transaction before the clock starts: the service is up (socket activation).
        try:
            probe = socket.create_connection(self.target, timeout=self.args.connect_timeout)
        except OSError as exc:
            raise ClientError(f"cannot connect to {self.target[0]}:{self.target[1]}: {exc.strerror or exc}") from None
        try:
            self.result["local"] = _address(probe)
            probe.sendall(request)
            _recv_exact(probe, view[:size])
            probe.recv_into(view, 1)  # the server's end of stream
        finally:
            probe.close()
        warm = self._crr_loop(family, request, view, size, self.args.omit, None)
        samples: list[int] = []
        clock = time.perf_counter_ns
        started = clock()
        count = self._crr_loop(family, request, view, size, self.args.duration, samples.append)
        elapsed = clock() - started
        self.result["transactions_total"] = 1 + warm + count
        self.result["transaction_us"] = elapsed / count / 1000.0
        self._latency(samples, warm, count)

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

    # ------------------------------------------------------------------ results
    def _latency(self, samples: list[int], warm: int, count: int) -> None:
        if not samples:
            raise ClientError("no round trip was measured")
        self.result.update({"count": count, "warmup_count": warm, "latency_us": percentiles(samples)})
        self.result.setdefault("transactions_total", warm + count)

    def _throughput(self, measured: int, total: int, seconds: float) -> None:
        if seconds <= 0 or measured <= 0:
            raise ClientError("nothing was measured")
        self.result.update({"bytes": measured, "bytes_total": total, "seconds": seconds,
                            "gbits": measured * 8 / seconds / 1e9})

    def quit_tcp(self) -> None:
        sock = self.connect(b"Q")
        sock.close()
        self.result["quit"] = "acknowledged"

    def run(self) -> dict[str, Any]:
        mode = self.args.mode
        if mode == "tcp-rr":
            self.tcp_rr()
        elif mode == "udp-rr":
            self.udp_rr()
        elif mode == "tcp-crr":
            self.tcp_crr()
        elif mode == "stream":
            self.stream()
        else:
            self.stream_reverse()
        if self.args.quit and mode != "udp-rr":
            self.quit_tcp()
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
    args = parser.parse_args(argv)
    client = Client(args)
    if not 1 <= args.size <= MAX_MESSAGE or args.duration <= 0 or args.omit < 0 or args.block < 1:
        return _fail(client, "bad arguments: need 1 <= size <= 65536, duration > 0, omit >= 0, block >= 1")
    # Everything ends with a result: a hang becomes an error line, not a kill from outside.
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(int(args.connect_timeout + args.omit + args.duration + 10))
    try:
        result = client.run()
    except Watchdog:
        return _fail(client, "the client ran out of time (watchdog)")
    except ClientError as exc:
        return _fail(client, str(exc))
    except BlockingIOError:
        return _fail(client, f"no progress for {args.io_timeout:g} s (send or receive timed out)")
    except OSError as exc:
        return _fail(client, f"{exc.__class__.__name__}: {exc.strerror or exc}")
    finally:
        signal.alarm(0)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


def _fail(client: Client, message: str) -> int:
    sys.stdout.write(json.dumps({**client.result, "error": message}) + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
