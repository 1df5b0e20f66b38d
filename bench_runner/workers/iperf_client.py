"""Run one iperf3 client test with the iperf3 Python binding and print its JSON result.

One process per test: the binding is not re-entrant (a second Client.run() in one process
fails with EBADF). The binding's own ``error`` is checked; the JSON goes to stdout, and the
exit code is 0 only when iperf3 produced a result without an error.

With ``--program`` it runs the iperf3 program instead (``iperf3 -c ... --json``: the same
libiperf and the same JSON), for a client host without the binding (``run --client-host``).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
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
    parser.add_argument("--program", action="store_true",
                        help="run the iperf3 program (-c --json), not the Python binding")
    args = parser.parse_args()
    if args.program:
        return run_program(args)

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


def run_program(args: argparse.Namespace) -> int:
    """The same test with the iperf3 program; its JSON is what the binding hands back."""
    argv = ["iperf3", "--client", args.host, "--port", str(args.port), "--time", str(args.duration),
            "--omit", str(args.omit), "--parallel", str(args.streams), "--json"]
    if args.reverse:
        argv.append("--reverse")
    if args.udp:
        argv += ["--udp", "-b", str(args.bandwidth)]
    if args.blksize:
        argv += ["-l", str(args.blksize)]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=args.duration + args.omit + 30, universal_newlines=True)
    except FileNotFoundError:
        data = {"error": "iperf3: command not found"}
    except subprocess.TimeoutExpired:
        data = {"error": f"iperf3 did not finish within {args.duration + args.omit + 30} s"}
    else:
        try:
            data = json.loads(done.stdout)
        except ValueError:
            said = (done.stderr.strip().splitlines() or ["no output"])[-1]
            data = {"error": f"iperf3 exited with {done.returncode} and gave no JSON: {said[:200]}"}
        if done.returncode != 0 and not data.get("error"):
            data["error"] = f"iperf3 exited with {done.returncode}"
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()
    return 1 if data.get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
