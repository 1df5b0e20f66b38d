"""Which path a run that shapes the lab link gets (``run --delay``, ``--loss``, ``--rate``):
kernel netem on the veth link where this kernel has ``sch_netem``, else the delay box
(lab/delaybox.py), else none, and why. A rate alone needs only tbf, which every kernel the
suite runs on has: the veth link's own qdiscs.

Whether the kernel has netem is asked of the kernel itself, by adding a netem qdisc to the
loopback of a network namespace made only for the probe (``unshare --net``: it goes away
with the probe's process, so nothing is left to remove), not read from a kernel config that
may not be there or may not match a loadable module. A run asks before anything is built:
without a path every shaped trial would fail, each with the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .. import procs
from ..errors import SetupError, last_line
from . import delaybox
from .linkpath import BOX, KERNEL

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


@dataclass(frozen=True)
class PathChoice:
    """How a run's path is shaped, for the whole run."""

    kind: str
    #: Some trial asks for loss: the path's ceiling packet by packet is measured too.
    per_packet: bool
    why: str

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "why": self.why}


def needs_netem(swept: Mapping[str, tuple[int, ...]]) -> bool:
    return any(v > 0 for v in swept.get("delay", ())) or any(v > 0 for v in swept.get("loss", ()))


def choose(swept: Mapping[str, tuple[int, ...]]) -> PathChoice | None:
    """The path for a run's sweeps: None where it shapes nothing (no --delay, --loss or
    --rate); a SetupError in one line where it needs netem and neither way has it."""
    if not any(name in swept for name in ("delay", "loss", "rate")):
        return None
    per_packet = any(v > 0 for v in swept.get("loss", ()))
    if not needs_netem(swept):
        return PathChoice(KERNEL, per_packet, "no delay or loss above 0 is asked: the veth link's own qdiscs (tbf for a rate)")
    kernel = unavailable()
    if kernel is None:
        return PathChoice(KERNEL, per_packet, "this kernel has sch_netem")
    box = delaybox.why_unavailable()
    if box is None:
        return PathChoice(BOX, per_packet, f"{kernel}: netem runs in a User-Mode Linux guest between the lab hosts")
    raise SetupError(f"--delay and --loss need netem, but {kernel}, and the delay box cannot run: {box}; run "
                     "scripts/setup.sh as root (it installs the box where the kernel lacks netem)")


def which_path() -> dict[str, object]:
    """What ``doctor`` says: the path a delayed run gets here, and why."""
    kernel = unavailable()
    box = delaybox.why_unavailable()
    if kernel is None:
        return {"path": KERNEL, "reason": "this kernel has sch_netem", "kernel_netem": None, "delay_box": box}
    if box is None:
        return {"path": BOX, "reason": f"{kernel}; User-Mode Linux {delaybox.kernel_version()} runs netem between "
                "the lab hosts", "kernel_netem": kernel, "delay_box": None}
    return {"path": None, "reason": f"{kernel}, and the delay box cannot run: {box}", "kernel_netem": kernel,
            "delay_box": box}
