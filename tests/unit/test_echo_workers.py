"""The echo service and client as programs, over the loopback of this machine: every mode
works end to end, the server's count matches the client's, inherited sockets are used when
(and only when) LISTEN_FDS/LISTEN_PID say so, and the server always ends with its summary."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from bench_runner.parsers import echo
from bench_runner.workers import WORKER_DIR

SERVER = str(WORKER_DIR / "echo_server.py")
CLIENT = str(WORKER_DIR / "echo_client.py")
TIMEOUT = 30
#: What systemd does before it execs a socket-activated service (exec keeps the pid).
ACTIVATE = """
import fcntl, os, sys
split = sys.argv.index("--")
fds = [int(a) for a in sys.argv[1:split]]
moved = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
for fd in fds:
    os.close(fd)
for target, fd in enumerate(moved, start=3):
    os.dup2(fd, target)
    os.close(fd)
os.environ["LISTEN_FDS"] = str(len(fds))
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[split + 1], sys.argv[split + 1:])
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """An echo server child; always killed by its own pid at the end."""

    def __init__(self, args: list[str], *, env: dict[str, str] | None = None, pass_fds: tuple[int, ...] = ()) -> None:
        argv = [sys.executable, "-I", SERVER, *args]
        if pass_fds:  # systemd's part: the sockets at 3, 4, ... and LISTEN_PID the server's pid
            argv = [sys.executable, "-I", "-c", ACTIVATE, *map(str, pass_fds), "--", *argv]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env, pass_fds=pass_fds)

    def finish(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=TIMEOUT)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.kill()


def wait_listening(port: int, kind: int = socket.SOCK_STREAM, server: ServerProcess | None = None) -> None:
    """Wait until something is bound: a bind attempt fails once the server has the port.
    A server that exited instead is an error with what it said."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        if server is not None and server.proc.poll() is not None:
            raise ServerExited(server.finish()[1])
        time.sleep(0.02)
    raise AssertionError(f"nothing bound port {port}")


class ServerExited(Exception):
    """The server ended before it listened (its output is the message)."""


def start(servers: list[ServerProcess], protocols: str = "tcp") -> int:
    """A server on a free port; tried again on another if the port was taken meanwhile (the
    machine's other loopback connections draw their ports from the same range)."""
    for _ in range(3):
        port = free_port()
        server = ServerProcess(["--address", "127.0.0.1", "--port", str(port), "--protocols", protocols])
        servers.append(server)
        try:
            wait_listening(port, socket.SOCK_STREAM if protocols.startswith("tcp") else socket.SOCK_DGRAM, server)
            return port
        except ServerExited as exc:
            if "cannot bind" not in str(exc):
                raise
    raise AssertionError("no free port could be bound three times running")


def client(mode: str, port: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", CLIENT, "--mode", mode, "--host", "127.0.0.1", "--port", str(port),
                           "--duration", "0.3", "--omit", "0.1", *extra],
                          capture_output=True, text=True, timeout=TIMEOUT)


@pytest.mark.parametrize("mode", ["tcp-rr", "tcp-crr", "udp-rr"])
def test_round_trip_modes_measure_and_agree_with_the_server(servers: list[ServerProcess], mode: str) -> None:
    port = start(servers, "udp" if mode == "udp-rr" else "tcp")
    result = client(mode, port)
    assert result.returncode == 0, result.stdout + result.stderr
    parsed = echo.parse_client(result.stdout)
    code, out, _ = servers[0].finish()
    assert code == 0
    summary = echo.parse_server(out)
    assert summary.exit == "quit"
    assert summary.listen_source == "bound"
    assert parsed.count and parsed.count > 10
    assert parsed.warmup_count and parsed.warmup_count > 0
    assert parsed.latency is not None and 0 < parsed.latency.p50 < 100_000
    if mode == "tcp-rr":
        assert summary.echo_messages == parsed.transactions_total
        assert summary.tcp_connections == {"echo": 1, "quit": 1}
        assert summary.peer("tcp") == "127.0.0.1"
    elif mode == "tcp-crr":
        assert summary.crr_transactions == parsed.transactions_total
        assert summary.tcp_connections["crr"] == parsed.transactions_total
        assert parsed.transaction_us is not None and parsed.transaction_us > 0
    else:
        assert parsed.udp["received"] <= summary.udp_datagrams <= parsed.udp["sent"]
        assert summary.peer("udp") == "127.0.0.1"
        assert summary.tcp_connections == {}


@pytest.mark.parametrize("mode", ["tcp-rr", "tcp-crr", "udp-rr"])
def test_several_clients_measure_at_once_and_the_server_serves_them_all(servers: list[ServerProcess],
                                                                        mode: str) -> None:
    port = start(servers, "udp" if mode == "udp-rr" else "tcp")
    result = client(mode, port, "--clients", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    parsed = echo.parse_client(result.stdout)
    code, out, _ = servers[0].finish()
    assert code == 0
    summary = echo.parse_server(out)
    assert summary.exit == "quit" and summary.errors == ()
    raw = json.loads(result.stdout)
    # four clients, each its own connection (or UDP socket), measuring in the same window
    assert parsed.clients == 4 and len(set(raw["locals"])) == 4
    assert parsed.concurrent_s is not None and parsed.concurrent_s > 0.15  # of the 0.3 s asked
    assert parsed.transactions_per_s is not None and parsed.transactions_per_s > 0
    assert parsed.cpu_s is not None and parsed.cpu_s > 0
    if mode == "tcp-rr":
        # every round trip of every client, and all four connections open at once
        assert summary.echo_messages == parsed.transactions_total
        assert summary.tcp_connections == {"echo": 4, "quit": 1}
        assert summary.concurrent_peak == 4
    elif mode == "tcp-crr":
        assert summary.crr_transactions == parsed.transactions_total
    else:
        assert parsed.udp["received"] <= summary.udp_datagrams <= parsed.udp["sent"]
        assert summary.udp_peers == {"127.0.0.1": 5}  # four clients' source ports and the quit's


def test_one_client_is_what_it_always_was(servers: list[ServerProcess]) -> None:
    """Without --clients: one client in the client's own process, one connection."""
    port = start(servers)
    parsed = echo.parse_client(client("tcp-rr", port).stdout)
    summary = echo.parse_server(servers[0].finish()[1])
    assert parsed.clients == 1 and summary.concurrent_peak == 1
    assert summary.tcp_connections == {"echo": 1, "quit": 1}


def test_a_client_that_cannot_connect_fails_the_run_and_says_which() -> None:
    result = client("tcp-rr", free_port(), "--clients", "3", "--connect-timeout", "2")
    assert result.returncode == 1
    with pytest.raises(echo.ParseError, match=r"client 1 of 3: cannot connect .* \(and 2 more\)"):
        echo.parse_client(result.stdout)


def test_several_clients_are_for_the_round_trips_only() -> None:
    result = client("stream", free_port(), "--clients", "2")
    assert result.returncode == 1
    assert "above 1 only for tcp-rr, udp-rr, tcp-crr" in json.loads(result.stdout)["error"]


def test_a_quit_waits_for_the_connections_still_open_and_counts_them(servers: list[ServerProcess]) -> None:
    port = start(servers)
    message = bytes(64)
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as echoing:
        echoing.sendall(struct.pack("!4s1s3xII", b"NBE1", b"E", 64, 0))
        assert echoing.recv(1) == b"K"
        for _ in range(3):
            echoing.sendall(message)
            assert echoing.recv(64, socket.MSG_WAITALL) == message
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as quitting:
            quitting.sendall(struct.pack("!4s1s3xII", b"NBE1", b"Q", 0, 0))
            assert quitting.recv(1) == b"K"
        time.sleep(0.2)  # the echo connection is still open while the server would end
    code, out, _ = servers[0].finish()
    summary = echo.parse_server(out)
    assert code == 0 and summary.exit == "quit"
    assert summary.echo_messages == 3 and summary.errors == ()


def test_sigterm_ends_the_connections_processes_too(servers: list[ServerProcess]) -> None:
    port = start(servers)
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as echoing:
        echoing.sendall(struct.pack("!4s1s3xII", b"NBE1", b"E", 64, 0))
        assert echoing.recv(1) == b"K"
        servers[0].proc.send_signal(signal.SIGTERM)
        code, out, _ = servers[0].finish()
        assert code == 0 and echo.parse_server(out).exit == "sigterm"
        # the process serving this connection is gone with the server: end of stream, or a reset
        try:
            assert echoing.recv(1) == b""
        except ConnectionResetError:
            pass


@pytest.mark.parametrize("mode, server_field", [("stream", "sink_bytes"), ("stream-reverse", "source_bytes")])
def test_streams_move_bytes_that_the_server_counts(servers: list[ServerProcess], mode: str, server_field: str) -> None:
    port = start(servers)
    result = client(mode, port, "--block", "65536")
    assert result.returncode == 0, result.stdout + result.stderr
    parsed = echo.parse_client(result.stdout)
    _, out, _ = servers[0].finish()
    summary = echo.parse_server(out)
    assert parsed.bytes_total == getattr(summary, server_field)
    assert parsed.bytes is not None and 0 < parsed.bytes <= parsed.bytes_total
    assert parsed.gbits is not None and parsed.gbits > 0
    assert parsed.seconds is not None and parsed.seconds > 0.2


def test_inherited_sockets_are_used_and_nothing_else_is_bound(servers: list[ServerProcess]) -> None:
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    # --port 1 would fail to bind: the server must not even try.
    servers.append(ServerProcess(["--port", "1", "--protocols", "tcp,udp"], pass_fds=(tcp.fileno(), udp.fileno())))
    tcp.close()
    udp.close()
    udp_result = client("udp-rr", port, "--no-quit")
    assert udp_result.returncode == 0, udp_result.stdout
    tcp_result = client("tcp-rr", port)
    assert tcp_result.returncode == 0, tcp_result.stdout
    code, out, err = servers[0].finish()
    assert code == 0, err
    summary = echo.parse_server(out)
    assert summary.listen_source == "inherited"
    assert [(s.fd, s.protocol, s.port, s.inherited) for s in summary.sockets] == [(3, "tcp", port, True),
                                                                                (4, "udp", port, True)]
    assert summary.udp_datagrams > 0 and summary.echo_messages > 0
    assert summary.listen_env["LISTEN_FDS"] == "2"


def test_listen_fds_for_another_process_is_ignored(servers: list[ServerProcess]) -> None:
    port = free_port()
    env = {**os.environ, "LISTEN_FDS": "1", "LISTEN_PID": "1"}
    servers.append(ServerProcess(["--address", "127.0.0.1", "--port", str(port), "--protocols", "tcp"], env=env))
    wait_listening(port)
    assert client("tcp-rr", port).returncode == 0
    _, out, _ = servers[0].finish()
    summary = echo.parse_server(out)
    assert summary.listen_source == "bound"
    assert "LISTEN_PID '1' is not this process" in summary.listen_reason


def test_required_inheritance_without_sockets_fails_with_a_summary(servers: list[ServerProcess]) -> None:
    servers.append(ServerProcess(["--listen", "inherited", "--port", str(free_port())]))
    code, out, err = servers[0].finish()
    assert code == 2
    assert "no socket was inherited" in err
    with pytest.raises(echo.ParseError, match="echo server failed: --listen inherited"):
        echo.parse_server(out)


def test_sigterm_ends_the_server_with_its_summary(servers: list[ServerProcess]) -> None:
    port = start(servers, "tcp,udp")
    servers[0].proc.send_signal(signal.SIGTERM)
    code, out, _ = servers[0].finish()
    assert code == 0
    summary = echo.parse_server(out)
    assert summary.exit == "sigterm"
    assert {s.protocol for s in summary.sockets} == {"tcp", "udp"}
    assert all(s.port == port for s in summary.sockets)


def test_a_stray_connection_is_recorded_and_the_server_goes_on(servers: list[ServerProcess]) -> None:
    port = start(servers)
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as stray:
        stray.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert stray.recv(16) == b""  # the server closes it
    assert client("tcp-crr", port).returncode == 0
    _, out, _ = servers[0].finish()
    summary = echo.parse_server(out)
    assert summary.tcp_connections["invalid"] == 1
    assert any("not an echo header" in e for e in summary.errors)
    assert summary.crr_transactions > 0


def test_client_without_a_server_reports_an_error_line() -> None:
    result = client("tcp-rr", free_port(), "--connect-timeout", "2")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert "cannot connect" in data["error"]
    with pytest.raises(echo.ParseError, match="cannot connect"):
        echo.parse_client(result.stdout)


def test_client_and_server_agree_on_the_header() -> None:
    """They share no module (each runs alone, ``python -I``), so the formats are compared."""
    import importlib.util

    def load(path: str):  # type: ignore[no-untyped-def]
        spec = importlib.util.spec_from_file_location(f"_loaded_{Path(path).stem}", path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[spec.name] = module  # type: ignore[union-attr]  # dataclasses look their module up
        try:
            spec.loader.exec_module(module)  # type: ignore[union-attr]
        finally:
            del sys.modules[spec.name]  # type: ignore[union-attr]
        return module

    server, client_module = load(SERVER), load(CLIENT)
    assert server.HEADER.format == client_module.HEADER.format
    assert server.MAGIC == client_module.MAGIC and server.ACK == client_module.ACK
