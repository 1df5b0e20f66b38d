"""A tiny TCP probe for the claims checks: ``serve`` accepts connections and reports every
peer it saw; ``connect`` tries one connection and reports what happened. Both print one
JSON line and never raise: the outcome *is* the observation.

Standard library only: it runs inside containers with the host's /usr/bin/python3.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import socket
import sys
import time


def _error_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__) if isinstance(exc, OSError) else type(exc).__name__


def _family(address: str) -> int:
    """IPv6 for an IPv6 address ("::", "2001:db8:5100::2"), else IPv4."""
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def _inherited() -> socket.socket | None:
    """A listening socket handed over by socket activation (systemd's protocol), if any."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or os.environ.get("LISTEN_FDS", "0") == "0":
        return None
    return socket.socket(fileno=3)


def serve(args: argparse.Namespace) -> int:
    result: dict[str, object] = {"mode": "serve", "port": args.port, "device": args.device or None, "accepted": []}
    sock = _inherited()
    result["inherited"] = sock is not None
    try:
        if sock is None:
            sock = socket.socket(_family(args.bind), socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if args.device:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args.device.encode())
            sock.bind((args.bind, args.port))
            sock.listen(16)
    except OSError as exc:
        result["error"] = f"{_error_name(exc)}: {exc.strerror}"
        print(json.dumps(result), flush=True)
        return 3
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(SystemExit(0)))
    deadline = time.monotonic() + args.timeout
    accepted: list[str] = []
    try:
        while len(accepted) < args.count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                conn, peer = sock.accept()
            except socket.timeout:
                break
            with conn:
                accepted.append(peer[0])
                try:
                    if args.client_first:
                        conn.settimeout(5)
                        conn.recv(16)
                    conn.sendall(b"ok\n")
                    # Let the client close first: a forwarder still relaying "ok" must not
                    # see its namespace vanish because this server exited at once.
                    conn.settimeout(5)
                    conn.recv(1)
                except OSError:
                    pass
    finally:
        result["accepted"] = accepted
        print(json.dumps(result), flush=True)
    return 0


def connect(args: argparse.Namespace) -> int:
    result: dict[str, object] = {"mode": "connect", "host": args.host, "port": args.port, "connected": False}
    sock = socket.socket(_family(args.host), socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    started = time.monotonic()
    try:
        sock.connect((args.host, args.port))
        result["connected"] = True
        result["local"] = sock.getsockname()[0]
        if args.client_first:
            sock.sendall(b"hi\n")
        reply = sock.recv(16)
        result["reply"] = reply.decode(errors="replace").strip()
    except socket.timeout:
        result["error"] = "timeout"
    except OSError as exc:
        result["error"] = _error_name(exc)
    finally:
        result["seconds"] = round(time.monotonic() - started, 3)
        sock.close()
    print(json.dumps(result), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--device", default="", help="SO_BINDTODEVICE")
    s.add_argument("--count", type=int, default=1, help="exit after this many connections")
    s.add_argument("--timeout", type=float, default=20.0, help="exit after this many seconds")
    s.add_argument("--client-first", action="store_true", help="read the client's greeting before answering")
    c = sub.add_parser("connect")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--timeout", type=float, default=3.0)
    c.add_argument("--client-first", action="store_true", help="send a greeting before reading the answer")
    args = parser.parse_args()
    return serve(args) if args.mode == "serve" else connect(args)


if __name__ == "__main__":
    sys.exit(main())
