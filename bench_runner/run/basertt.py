"""The base round-trip time between the two computers of a ``--client-host`` run, measured
once before the trials: the client host's echo client (TCP, 64-byte messages, one
connection) against the echo server run directly on this machine, with no container and no
helper in between. What every method's ``tcp-rr`` adds is judged against this."""

from __future__ import annotations

from typing import Any

from ..lab import observe
from .. import procs
from ..errors import BenchError
from ..parsers import ParseError, echo
from ..paths import VENV_PYTHON
from ..providers import Session

#: The echo server's port for the measurement (the trials use 20000 and up).
PORT = 19990
SECONDS = 1
MESSAGE_SIZE = 64
TIMEOUT = 30.0


def measure(session: Session, address: str, *, seconds: float = SECONDS, omit: float = 0.2,
            where: str = "on this machine") -> dict[str, Any]:
    """Percentiles of the round trips in microseconds (and how many), or ``{"error": why}``:
    a base RTT that cannot be measured is recorded as such, it does not stop the run."""
    host = session.client_for("remote")
    netns = session.lab.server_ns_path
    how = (f"echo round trips ({MESSAGE_SIZE} bytes, TCP, one connection, {seconds:g} s after {omit:g} s) from "
           f"the client host to the echo server {where}, no container")
    try:
        observe.require_free_port(netns, PORT)
        argv = [str(VENV_PYTHON), "-I", str(session.worker_dir / "echo_server.py"), "--address", address,
                "--port", str(PORT), "--protocols", "tcp"]
        server = procs.Spawned(session.user.argv(argv, netns_path=netns))
    except BenchError as exc:
        return {"how": how, "error": str(exc)}
    entry = session.state.add_process(server.ref, "base RTT echo server")
    try:
        procs.wait_until(lambda: observe.is_listening(netns, "tcp", PORT) or not server.ref.alive(), timeout=10,
                         what=f"the echo server on port {PORT}")
        if not server.ref.alive():
            return {"how": how, "error": f"the echo server exited: {server.last_words()}"}
        result = host.run_worker("echo_client.py", ["--mode", "tcp-rr", "--host", address, "--port", str(PORT),
                                                    "--duration", str(seconds), "--omit", str(omit),
                                                    "--size", str(MESSAGE_SIZE)], TIMEOUT)
        parsed = echo.parse_client(result.stdout)
        latency = parsed.latency
        assert latency is not None  # parse_client guarantees it for tcp-rr
    except (BenchError, ParseError) as exc:
        return {"how": how, "error": str(exc)}
    finally:
        server.stop(grace=1.0)
        server.close()
        session.state.discard(entry)
    return {"how": how, "unit": "us", "p50": latency.p50, "p90": latency.p90, "p99": latency.p99,
            "min": latency.minimum, "max": latency.maximum, "count": parsed.count}
