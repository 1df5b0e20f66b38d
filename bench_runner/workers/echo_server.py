"""The suite's echo service: TCP and UDP on one port, run identically under every method.

It runs inside containers as ``/usr/bin/python3 -I`` (standard library only, Python 3.11+)
as the unprivileged user. It takes inherited listening sockets when LISTEN_FDS/LISTEN_PID say
so (systemd's protocol), so it serves under socket activation too, and binds its own port
otherwise; its summary says which, so the suite can verify it rather than trust a flag.

Every TCP connection opens with a 16-byte header naming its mode: ``E`` echo (round trips),
``C`` one request and one response after which the server closes, ``S`` sink and ``R``
source (bulk), ``Q`` quit (end the server). UDP datagrams are echoed verbatim; a 16-byte
quit header as a datagram ends the server too. At exit (quit, SIGTERM) it prints one JSON
line: where its sockets came from, the peers it saw, what it served, the most connections it
served at once and the CPU it used. The hot paths use blocking sockets, preallocated buffers
and ``os.readv``/``os.write`` on the descriptor (cheaper per call than the socket methods),
and never log.

Concurrent clients: the main process accepts and reads each connection's header; a
connection that lasts (echo, sink, source) is served to its end by a forked process of its
own, which reports what it served on a pipe when it ends, so N clients get N processes and
no interpreter lock is shared among them (threads sharing one serialised N echo connections
measurably on two cores). A crr connection (one request and response) is served by the main
process itself, one after another: a fork per transaction would cost more than the
transaction. UDP is one loop for every peer (a datagram needs no connection).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
from typing import Any, NoReturn

MAGIC = b"NBE1"
#: magic, mode, 3 pad bytes, message size, parameter (source: milliseconds to send).
HEADER = struct.Struct("!4s1s3xII")
MODE_NAMES = {b"E": "echo", b"C": "crr", b"S": "sink", b"R": "source", b"Q": "quit"}
ACK = b"K"
MAX_MESSAGE = 65536
#: Bulk reads and writes, as iperf3's default TCP block: the same I/O pattern, so that a
#: comparison with iperf3 measures the language's overhead, not a different pattern.
BULK = 128 * 1024
#: A connection silent for this long is dropped, so one stuck client cannot hold the
#: main process (or a connection's process) forever (SO_RCVTIMEO: no cost on the hot path).
IDLE_TIMEOUT_S = 120
#: On a quit request, how long the connections' processes may take to end (an echo client's
#: close reaches its process a moment after the client has gone) before they are killed.
QUIT_GRACE_S = 5.0
#: A connection's report is one write of at most this many bytes (PIPE_BUF: atomic).
REPORT_MAX = 4096
SD_LISTEN_FDS_START = 3
MAX_ERRORS = 20
SUMMARY_VERSION = 1


class Stop(Exception):
    """End the server and print the summary (quit request or signal)."""


class Stats:
    """What the server served and whom it saw; printed once at exit."""

    def __init__(self) -> None:
        self.tcp_connections: dict[str, int] = {}
        self.tcp_peers: dict[str, int] = {}
        self.echo_messages = 0
        self.crr_transactions = 0
        self.sink_bytes = 0
        self.source_bytes = 0
        #: datagrams echoed, bytes echoed (a list: UDP may be served by another thread)
        self.udp = [0, 0]
        self.udp_peers: set[tuple[str, int]] = set()
        #: (start, end) of each connection served by a process of its own (monotonic ns).
        self.intervals: list[tuple[int, int]] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.finished = False

    def error(self, text: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(text)

    def concurrent_peak(self) -> int:
        """The most connections that processes of their own served at the same time."""
        events = sorted([(start, 1) for start, _ in self.intervals] + [(end, -1) for _, end in self.intervals])
        peak = now = 0
        for _, step in events:  # at the same instant an end sorts before a start
            now += step
            peak = max(peak, now)
        return peak

    def to_json(self) -> dict[str, Any]:
        udp_peers: dict[str, int] = {}
        for host, _port in list(self.udp_peers):
            udp_peers[host] = udp_peers.get(host, 0) + 1
        return {
            "tcp": {"connections": dict(self.tcp_connections), "peers": dict(self.tcp_peers),
                    "concurrent_peak": self.concurrent_peak(),
                    "echo_messages": self.echo_messages, "crr_transactions": self.crr_transactions,
                    "sink_bytes": self.sink_bytes, "source_bytes": self.source_bytes},
            "udp": {"datagrams": self.udp[0], "bytes": self.udp[1], "peers": udp_peers},
            "errors": list(self.errors),
        }


def _family(family: int) -> str:
    return {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6", socket.AF_UNIX: "unix"}.get(family, str(family))


def describe(sock: socket.socket, inherited: bool) -> dict[str, Any]:
    protocol = "tcp" if sock.type == socket.SOCK_STREAM else "udp" if sock.type == socket.SOCK_DGRAM else str(sock.type)
    local = sock.getsockname()
    address, port = (local[0], local[1]) if isinstance(local, tuple) else (str(local), 0)
    return {"fd": sock.fileno(), "protocol": protocol, "family": _family(sock.family), "address": address,
            "port": port, "inherited": inherited}


def inherited_sockets(environ: dict[str, str], pid: int) -> tuple[list[socket.socket], dict[str, Any]]:
    """systemd's sd_listen_fds(): descriptors from 3 on, only when LISTEN_PID names this
    process; the variables are removed so that nothing started later inherits them."""
    env = {key: environ.get(key) for key in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")}
    for key in env:
        environ.pop(key, None)
    info: dict[str, Any] = {"env": env, "accepted": False, "reason": ""}
    count_text, pid_text = env["LISTEN_FDS"], env["LISTEN_PID"]
    if count_text is None:
        info["reason"] = "LISTEN_FDS is not set"
        return [], info
    if pid_text != str(pid):
        info["reason"] = f"LISTEN_PID {pid_text!r} is not this process ({pid})"
        return [], info
    if not count_text.isdigit() or int(count_text) < 1:
        info["reason"] = f"LISTEN_FDS {count_text!r} is not a positive number"
        return [], info
    sockets = []
    for fd in range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + int(count_text)):
        try:
            # Family, type and protocol are read from the descriptor (SO_DOMAIN, SO_TYPE, ...).
            sock = socket.socket(fileno=fd)
        except OSError as exc:
            raise SystemExit(_fatal(f"inherited descriptor {fd} is not a socket: {exc.strerror}"))
        sock.set_inheritable(False)
        if sock.type == socket.SOCK_STREAM and not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            raise SystemExit(_fatal(f"inherited descriptor {fd} is a stream socket that is not listening"))
        if sock.type not in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            raise SystemExit(_fatal(f"inherited descriptor {fd} has unsupported socket type {sock.type}"))
        sockets.append(sock)
    info["accepted"] = True
    return sockets, info


def bind_own(address: str, port: int, protocols: list[str]) -> list[socket.socket]:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sockets = []
    for protocol in protocols:
        kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(family, kind)
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError as exc:
            raise SystemExit(_fatal(f"cannot bind {protocol} {address}:{port}: {exc.strerror}"))
        if kind == socket.SOCK_STREAM:
            sock.listen(128)
        sockets.append(sock)
    return sockets


def _fatal(message: str) -> int:
    print(json.dumps({"service": "netbench-echo", "version": SUMMARY_VERSION, "fatal": message}), flush=True)
    print(f"echo_server: {message}", file=sys.stderr, flush=True)
    return 2


def _uid_map() -> str:
    try:
        with open("/proc/self/uid_map") as fh:
            return " ".join(fh.read().split())
    except OSError:
        return ""


class Server:
    def __init__(self, sockets: list[socket.socket], listen: dict[str, Any]) -> None:
        self.sockets = sockets
        self.listen = listen
        self.stats = Stats()
        self.buffer = bytearray(max(BULK, HEADER.size + MAX_MESSAGE))
        self.view = memoryview(self.buffer)
        self.started = time.monotonic()
        #: The processes serving a connection each (pid -> mode), and the pipe they report on.
        self.children: dict[int, str] = {}
        self.reports_r, self.reports_w = os.pipe()
        os.set_blocking(self.reports_r, False)
        self.pending = b""

    # ------------------------------------------------------------------ exit
    def finish(self, reason: str, code: int = 0) -> NoReturn:
        """Print the summary once and exit at once, from whichever thread ends the server. On
        a quit request the connections' processes may finish first (their counts belong in
        the summary); on a signal they are ended at once."""
        with self.stats.lock:
            if not self.stats.finished:
                self.stats.finished = True
                self.collect(QUIT_GRACE_S if reason == "quit" else 0.0)
                times = os.times()
                summary = {"service": "netbench-echo", "version": SUMMARY_VERSION, "pid": os.getpid(),
                           "uid": os.getuid(), "gid": os.getgid(), "uid_map": _uid_map(), "exit": reason,
                           "seconds": round(time.monotonic() - self.started, 3),
                           # this process and the connections' processes it collected
                           "cpu_s": round(times.user + times.system + times.children_user + times.children_system, 3),
                           "listen": self.listen, **self.stats.to_json()}
                sys.stdout.write(json.dumps(summary) + "\n")
                sys.stdout.flush()
        os._exit(code)

    # ------------------------------------------------------------------ TCP
    def serve_tcp(self, listeners: list[socket.socket]) -> None:
        timeout = struct.pack("ll", IDLE_TIMEOUT_S, 0)
        for listener in listeners:
            # Accepted connections inherit both: no per-connection system call.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeout)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeout)
            if listener.family in (socket.AF_INET, socket.AF_INET6):
                listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if len(listeners) == 1:
            accept = listeners[0].accept
            while True:
                try:
                    conn, peer = accept()
                except (BlockingIOError, ConnectionAbortedError):
                    continue  # idle timeout of accept, or a client gone before accept
                self.connection(conn, peer)
        while True:
            ready, _, _ = select.select(listeners, [], [])
            for listener in ready:
                try:
                    conn, peer = listener.accept()
                except (BlockingIOError, ConnectionAbortedError):
                    continue
                self.connection(conn, peer)

    def connection(self, conn: socket.socket, peer: Any) -> None:
        """Serve one connection, or hand it to a process of its own; its errors are recorded,
        never fatal."""
        stats = self.stats
        host = peer[0] if isinstance(peer, tuple) else "unix"
        stats.tcp_peers[host] = stats.tcp_peers.get(host, 0) + 1
        mode = b""
        try:
            mode, have, size, param = self.header(conn)
            if mode == b"C":
                self.crr(conn, have, size)
            elif mode == b"Q":
                conn.sendall(ACK)
                raise Stop("quit")
            else:
                conn.sendall(ACK)
                self.fork(conn, host, mode, have, size, param)
        except OSError as exc:
            stats.error(f"tcp {host}: {exc.__class__.__name__}: {exc.strerror or exc}")
        except ValueError as exc:
            stats.error(f"tcp {host}: {exc}")
        finally:
            name = MODE_NAMES.get(mode, "invalid")
            stats.tcp_connections[name] = stats.tcp_connections.get(name, 0) + 1
            conn.close()

    def header(self, conn: socket.socket) -> tuple[bytes, int, int, int]:
        """Read the header (and for crr the request that comes with it): mode, bytes of the
        message already read, message size, parameter."""
        view = self.view
        limit = HEADER.size + MAX_MESSAGE
        got = conn.recv_into(view, limit)
        while got < HEADER.size:
            more = conn.recv_into(view[got:], limit - got)
            if more == 0:
                raise ValueError(f"connection closed after {got} bytes of the header")
            got += more
        magic, mode, size, param = HEADER.unpack_from(self.buffer)
        if magic != MAGIC or mode not in MODE_NAMES:
            raise ValueError(f"not an echo header: {bytes(view[:HEADER.size])!r}")
        if size > MAX_MESSAGE:
            raise ValueError(f"message size {size} above {MAX_MESSAGE}")
        return mode, got - HEADER.size, size, param

    # ------------------------------------------------------------------ a process per connection
    def fork(self, conn: socket.socket, host: str, mode: bytes, have: int, size: int, param: int) -> None:
        """Serve a lasting connection in a process of its own; the main process goes back to
        accepting (and closes its copy of the connection)."""
        self.reap()
        # Held over the fork: a stop now would miss a child not yet in self.children (the
        # summary would wait for its output), or end the child as if it were the server.
        signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        pid = os.fork()
        if pid:
            self.children[pid] = MODE_NAMES[mode]
            signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
            return
        try:
            self.child(conn, host, mode, have, size, param)
        finally:
            os._exit(0)

    def child(self, conn: socket.socket, host: str, mode: bytes, have: int, size: int, param: int) -> None:
        """A connection's process: serve it, then report what it served in one line."""
        for held in HELD_SIGNALS:
            signal.signal(held, signal.SIG_DFL)  # a stop ends it (the server's summary is not its to print)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
        for sock in self.sockets:
            sock.close()  # the listening sockets stay the main process's alone
        os.close(self.reports_r)
        report: dict[str, Any] = {"mode": MODE_NAMES[mode], "peer": host, "count": 0, "started": time.monotonic_ns()}
        try:
            if mode == b"E":
                self.echo(conn, size, report)
            elif mode == b"S":
                self.sink(conn, have, report)
            else:
                self.source(conn, param / 1000.0, report)
        except OSError as exc:
            report["error"] = f"{exc.__class__.__name__}: {exc.strerror or exc}"[:200]
        except ValueError as exc:
            report["error"] = str(exc)[:200]
        report["ended"] = time.monotonic_ns()
        line = (json.dumps(report) + "\n").encode()
        os.write(self.reports_w, line[:REPORT_MAX])

    def reap(self) -> None:
        """Collect the connections' processes that have ended, and what they reported."""
        self.read_reports()
        while self.children:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            self.children.pop(pid, None)

    def read_reports(self) -> None:
        while True:
            try:
                chunk = os.read(self.reports_r, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        stats = self.stats
        for line in lines:
            try:
                report = json.loads(line)
                count = int(report["count"])
                stats.intervals.append((int(report["started"]), int(report["ended"])))
            except (ValueError, KeyError, TypeError):
                stats.error(f"a connection's process reported {line[:80]!r}")
                continue
            mode = report.get("mode")
            if mode == "echo":
                stats.echo_messages += count
            elif mode == "sink":
                stats.sink_bytes += count
            elif mode == "source":
                stats.source_bytes += count
            if report.get("error"):
                stats.error(f"tcp {report.get('peer')}: {report['error']}")

    def collect(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for the connections' processes to end, reading their
        reports (so that none blocks on a full pipe); end the rest, with an error saying so."""
        deadline = time.monotonic() + grace
        while True:
            self.reap()
            if not self.children or time.monotonic() >= deadline:
                break
            time.sleep(0.005)
        if self.children:
            self.stats.error(f"{len(self.children)} connection(s) still open after {grace:g} s were ended "
                             "(what they served is not counted)")
            for pid in list(self.children):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                os.waitpid(pid, 0)
            self.children.clear()
        self.read_reports()

    # ------------------------------------------------------------------ served in the main process
    def crr(self, conn: socket.socket, have: int, size: int) -> None:
        """One request, one response, then the server closes (as an HTTP/1.0 server does), so
        the client's side of the connection leaves no TIME_WAIT behind to run out of ports."""
        view = self.view[HEADER.size:HEADER.size + size]
        while have < size:
            more = conn.recv_into(view[have:], size - have, socket.MSG_WAITALL)
            if more == 0:
                raise ValueError("connection closed inside the request")
            have += more
        conn.sendall(view)
        self.stats.crr_transactions += 1

    # ------------------------------------------------------------------ served in a process of their own
    def echo(self, conn: socket.socket, size: int, report: dict[str, Any]) -> None:
        """Echo messages of ``size`` bytes until the client closes. os.readv/os.write on the
        descriptor cost measurably less per call than the socket methods (fast-call argument
        parsing), and a round trip is two calls per side."""
        fd = conn.fileno()
        view = self.view[:size]
        buffers = [view]
        readv = os.readv
        write = os.write
        messages = 0
        try:
            while True:
                got = readv(fd, buffers)
                if got != size:
                    if got == 0:
                        return
                    while got < size:  # the message came in pieces
                        more = conn.recv_into(view[got:], size - got)
                        if more == 0:
                            return
                        got += more
                if write(fd, view) != size:
                    raise ValueError("short send of an echo reply")
                messages += 1
        finally:
            report["count"] = messages

    def sink(self, conn: socket.socket, have: int, report: dict[str, Any]) -> None:
        """Read to end of stream, then tell the client how many bytes arrived."""
        fd = conn.fileno()
        buffers = [self.view[:BULK]]
        readv = os.readv
        total = have
        try:
            while True:
                got = readv(fd, buffers)
                if not got:
                    break
                total += got
            conn.sendall(struct.pack("!Q", total))
        finally:
            report["count"] = total

    def source(self, conn: socket.socket, seconds: float, report: dict[str, Any]) -> None:
        """Send for the given time, then end the stream and wait for the client to close."""
        send = conn.send
        view = self.view[:BULK]
        clock = time.monotonic
        deadline = clock() + seconds
        total = 0
        try:
            while clock() < deadline:
                total += send(view)
            conn.shutdown(socket.SHUT_WR)
            while conn.recv_into(view):
                pass
        finally:
            report["count"] = total

    # ------------------------------------------------------------------ UDP
    def serve_udp(self, sock: socket.socket) -> None:
        buffer = bytearray(MAX_MESSAGE)
        view = memoryview(buffer)
        recvfrom_into = sock.recvfrom_into
        sendto = sock.sendto
        counts = self.stats.udp
        peers = self.stats.udp_peers
        header_size = HEADER.size
        last = None
        while True:
            try:
                got, peer = recvfrom_into(buffer)
                if peer != last:
                    peers.add(peer)
                    last = peer
                if got == header_size and buffer[:4] == MAGIC and buffer[4:5] == b"Q":
                    sendto(view[:got], peer)
                    self.finish("quit")
                sendto(view[:got], peer)
                counts[0] += 1
                counts[1] += got
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as exc:
                if exc.errno == 9:  # EBADF: the socket is gone
                    raise
                self.stats.error(f"udp: {exc.__class__.__name__}: {exc.strerror or exc}")

    # ------------------------------------------------------------------ run
    def run(self) -> NoReturn:
        tcp = [s for s in self.sockets if s.type == socket.SOCK_STREAM]
        udp = [s for s in self.sockets if s.type == socket.SOCK_DGRAM]
        try:
            main_udp = udp[0] if not tcp and udp else None
            for sock in udp:
                if sock is not main_udp:
                    threading.Thread(target=self._thread, args=(sock,), daemon=True).start()
            # Set up: a signal that arrived meanwhile (it was held) now ends the server cleanly.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
            if tcp:
                self.serve_tcp(tcp)
            elif main_udp is not None:
                self.serve_udp(main_udp)
        except Stop as stop:
            self.finish(str(stop) or "quit")
        except KeyboardInterrupt:
            self.finish("sigint")
        self.finish("no sockets", 2)

    def _thread(self, sock: socket.socket) -> None:
        try:
            self.serve_udp(sock)
        except Exception as exc:  # noqa: BLE001 - report, then end the whole server
            self.stats.error(f"udp thread: {exc}")
            self.finish("error", 1)


HELD_SIGNALS = {signal.SIGTERM, signal.SIGHUP}


def _on_signal(signum: int, frame: object) -> None:
    raise Stop(signal.Signals(signum).name.lower())


def main(argv: list[str] | None = None) -> NoReturn:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port to bind when no socket is inherited")
    parser.add_argument("--address", default="0.0.0.0", help="address to bind when no socket is inherited")
    parser.add_argument("--protocols", default="tcp,udp", help="what to bind when no socket is inherited")
    parser.add_argument("--listen", choices=("auto", "inherited", "bind"), default="auto",
                        help="auto: inherited sockets when LISTEN_FDS names this process, else bind")
    args = parser.parse_args(argv)
    protocols = [p for p in args.protocols.split(",") if p]
    if not protocols or any(p not in ("tcp", "udp") for p in protocols):
        raise SystemExit(_fatal(f"--protocols {args.protocols!r}: expected tcp, udp or tcp,udp"))
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    # Held until the sockets are ready, so a stop during set-up still prints the summary.
    signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    inherited: list[socket.socket] = []
    info: dict[str, Any] = {"env": {}, "accepted": False, "reason": "--listen bind"}
    if args.listen != "bind":
        inherited, info = inherited_sockets(os.environ, os.getpid())  # type: ignore[arg-type]
    if inherited:
        sockets, source = inherited, "inherited"
    elif args.listen == "inherited":
        raise SystemExit(_fatal(f"--listen inherited, but no socket was inherited: {info['reason']}"))
    else:
        sockets, source = bind_own(args.address, args.port, protocols), "bound"
    listen = {"source": source, **info, "sockets": [describe(s, source == "inherited") for s in sockets]}
    Server(sockets, listen).run()


if __name__ == "__main__":
    main()
