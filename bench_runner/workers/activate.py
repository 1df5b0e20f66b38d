"""A socket unit with ``BindToDevice=``, for the device-binding check under socket activation.

systemd-socket-activate (which the suite otherwise uses as the socket unit) has no option to
bind its socket to a device; systemd's socket units do (BindToDevice=, SO_BINDTODEVICE). This
makes the socket the same way, waits for the first connection as systemd does, and execs the
service with systemd's protocol (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES; fds from 3).

Standard library only.
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import sys

SD_LISTEN_FDS_START = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", required=True, metavar="ADDR:PORT")
    parser.add_argument("--device", default="", help="SO_BINDTODEVICE, as BindToDevice=")
    parser.add_argument("--datagram", action="store_true")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to activate")
    host, _, port = args.listen.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host  # [::]:PORT for IPv6
    kind = socket.SOCK_DGRAM if args.datagram else socket.SOCK_STREAM
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if args.device:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args.device.encode())
        sock.bind((host or "0.0.0.0", int(port)))
        if kind == socket.SOCK_STREAM:
            sock.listen(4096)
    except OSError as exc:
        print(f"activate.py: cannot listen on {args.listen}: {exc.strerror}", file=sys.stderr, flush=True)
        return 3
    print(f"Listening on {args.listen} as {SD_LISTEN_FDS_START}.", file=sys.stderr, flush=True)
    select.select([sock], [], [])  # like systemd: start the service on the first connection
    if sock.fileno() != SD_LISTEN_FDS_START:
        os.dup2(sock.fileno(), SD_LISTEN_FDS_START)
    os.set_inheritable(SD_LISTEN_FDS_START, True)
    env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="activated")
    os.execvpe(command[0], command, env)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())
