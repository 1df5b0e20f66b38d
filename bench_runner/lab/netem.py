"""Can this kernel add delay with netem (``run --delay``)? Asked of the kernel itself, by
adding a netem qdisc to the loopback of a network namespace made only for the probe
(``unshare --net``: it goes away with the probe's process, so nothing is left to remove),
not read from a kernel config that may not be there or may not match a loadable module.

A run with a delay above 0 asks before anything is built: without netem every delayed trial
would fail, each with the same reason.
"""

from __future__ import annotations

from typing import Iterable

from .. import procs
from ..errors import SetupError, last_line

PROBE = ("unshare", "--net", "--", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms")
PROBE_TIMEOUT = 15.0
#: What tc says when the kernel has no such qdisc: iproute2 with extended acks, and older
#: iproute2 or kernels that only give the errno (ENOENT).
UNKNOWN_KIND = ("qdisc kind is unknown", "no such file or directory")
MISSING = "this kernel has no netem (sch_netem)"


def why_not(returncode: int, stderr: str) -> str | None:
    """Pure: the probe's exit code and stderr -> None where netem works, else one line why not."""
    if returncode == 0:
        return None
    said = last_line(stderr)
    if any(text in said.lower() for text in UNKNOWN_KIND):
        return MISSING
    return f"adding a netem qdisc failed (exit {returncode}: {said or 'no error output'})"


def unavailable() -> str | None:
    """Ask the kernel (needs root, for the namespace). None where netem works."""
    result = procs.run(PROBE, timeout=PROBE_TIMEOUT, check=False)
    return why_not(result.returncode, result.stderr)


def require_for(delays: Iterable[int]) -> None:
    """Refuse a delay above 0 up front where netem is missing; ``--delay 0`` adds no qdisc."""
    delayed = [delay for delay in delays if delay > 0]
    if not delayed:
        return
    reason = unavailable()
    if reason is not None:
        raise SetupError(f"--delay {','.join(map(str, delayed))} needs netem, but {reason}: leave out the "
                         "delays above 0, or run on a kernel with sch_netem")
