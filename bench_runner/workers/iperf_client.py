"""Run one iperf3 client test with the iperf3 Python binding and print its JSON result.

One process per test: the binding is not re-entrant (a second Client.run() in one process
fails with EBADF). The binding's own ``error`` is checked; the JSON goes to stdout, and the
exit code is 0 only when iperf3 produced a result without an error.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--duration", type=int, default=3)
    parser.add_argument("--omit", type=int, default=0)
    parser.add_argument("--streams", type=int, default=1)
    parser.add_argument("--reverse", action="store_true")
    parser.add_argument("--udp", action="store_true")
    parser.add_argument("--bandwidth", type=int, default=0, help="bits/s (UDP)")
    parser.add_argument("--blksize", type=int, default=0)
    args = parser.parse_args()

    try:
        import iperf3
    except ImportError as exc:  # the binding or libiperf is missing
        print(json.dumps({"error": f"iperf3 binding unavailable: {exc}"}))
        return 3

    client = iperf3.Client()
    # The binding redirects stdout into a pipe that nobody reads while the test runs; with
    # many intervals libiperf would block writing its JSON there. Never block on it.
    flags = fcntl.fcntl(client._pipe_in, fcntl.F_GETFL)
    fcntl.fcntl(client._pipe_in, fcntl.F_SETFL, flags | os.O_NONBLOCK)
    client.server_hostname = args.host
    client.port = args.port
    client.duration = args.duration
    client.omit = args.omit
    client.num_streams = args.streams
    client.reverse = args.reverse
    if args.udp:
        client.protocol = "udp"
        client.bandwidth = args.bandwidth
    if args.blksize:
        client.blksize = args.blksize
    result = client.run()
    text = getattr(result, "text", None) or "{}"
    error = getattr(result, "error", None)
    try:
        data = json.loads(text)
    except ValueError:
        data = {"error": f"iperf3 binding returned no JSON: {text[:200]!r}"}
    if error and not data.get("error"):
        data["error"] = str(error)
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()
    return 1 if data.get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
