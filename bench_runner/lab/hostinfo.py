"""The host facts a Podman or passt maintainer asks for in every rootless-networking
performance report, observed rather than assumed: Podman's own account of its set-up
(``podman info``), the containers.conf keys it merged, the CPU frequency governors and SMT
state, and how loaded the machine was (load average, CPU steal) around the trials.

Each collector records why it could not observe something instead of failing the run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from .. import procs
from ..errors import BenchError
from ..parsers import ParseError, procstat
from ..parsers import containers_conf as conf_parser
from ..parsers import podman_info as podman_info_parser
from ..paths import VENV_PYTHON
from .user import BenchUser

PODMAN_INFO_TIMEOUT = 60.0
READER_TIMEOUT = 20.0
#: A containers.conf larger than this, or more files than this, is not read further.
CONF_LIMIT = 256 * 1024
CONF_FILES_LIMIT = 100
CPU_DIR = "/sys/devices/system/cpu"

#: Run as the benchmark user: reads each candidate file (or each ``*.conf`` in a candidate
#: directory, in name order, as Podman does), so root never opens a file the user controls.
_READER = r"""
import json, os, sys
limit, count, out = int(sys.argv[1]), int(sys.argv[2]), []
for item in sys.argv[3:]:
    kind, path = item.split(":", 1)
    if kind == "d":
        try:
            names = sorted(n for n in os.listdir(path) if n.endswith(".conf"))
        except FileNotFoundError:
            continue
        except OSError as exc:
            out.append({"path": path, "error": exc.strerror or str(exc)})
            continue
        paths = [os.path.join(path, n) for n in names if not os.path.isdir(os.path.join(path, n))]
    else:
        paths = [path]
    for p in paths:
        if len(out) >= count:
            out.append({"path": p, "error": "too many files; not read"})
            break
        try:
            with open(p, "rb") as fh:
                data = fh.read(limit + 1)
        except FileNotFoundError:
            continue
        except OSError as exc:
            out.append({"path": p, "error": exc.strerror or str(exc)})
            continue
        if len(data) > limit:
            out.append({"path": p, "error": "larger than %d bytes; not read" % limit})
        else:
            out.append({"path": p, "text": data.decode("utf-8", "replace")})
print(json.dumps(out))
"""


def _user() -> BenchUser | None:
    try:
        return BenchUser.lookup()
    except BenchError:
        return None


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def podman_info(user: BenchUser | None = None) -> dict[str, Any]:
    """``podman info --format json`` run as the benchmark user, summarised as for the
    booted stacks; ``{"error": why}`` when it cannot be had. Needs the user's runtime
    directory: made for the call and removed again when missing (see podman_runtime), so
    inside a run, whose session made it, call it with the run lock held."""
    from . import runstate

    if shutil.which("podman") is None:
        return {"error": "podman is not installed"}
    user = user or _user()
    if user is None:
        return {"error": "the benchmark user does not exist (run scripts/setup.sh)"}
    if os.geteuid() != 0:
        return {"error": f"not asked: needs root to run podman as {user.name}"}
    with runstate.podman_runtime(user) as problems:
        try:
            result = procs.run(user.argv(["podman", "info", "--format", "json"]), timeout=PODMAN_INFO_TIMEOUT)
        except BenchError as exc:
            return {"error": f"podman info failed: {exc}"}
    try:
        summary = podman_info_parser.summary(json.loads(result.stdout))
    except (ValueError, AttributeError):
        return {"error": "podman info gave no JSON object"}
    if problems:
        summary["problems"] = list(problems)
    return summary


def containers_conf(user: BenchUser | None = None) -> dict[str, Any]:
    """The containers.conf files rootless Podman reads for the benchmark user, read as that
    user, and the network keys they set (see parsers.containers_conf)."""
    user = user or _user()
    if user is None:
        return {"error": "the benchmark user does not exist (run scripts/setup.sh)"}
    if os.geteuid() != 0:
        return {"error": f"not read: needs root to read them as {user.name}"}
    candidates = conf_parser.search_paths(user.uid, user.home)
    python = str(VENV_PYTHON) if VENV_PYTHON.exists() else "python3"
    argv = [python, "-I", "-c", _READER, str(CONF_LIMIT), str(CONF_FILES_LIMIT),
            *(f"{'d' if c.directory else 'f'}:{c.path}" for c in candidates)]
    try:
        result = procs.run(user.argv(argv), timeout=READER_TIMEOUT)
        entries = json.loads(result.stdout)
        files = [conf_parser.ConfFile(str(e["path"]), e.get("text"), e.get("error")) for e in entries]
    except BenchError as exc:
        return {"error": f"reading containers.conf as {user.name} failed: {exc}"}
    except (ValueError, TypeError, KeyError):
        return {"error": f"reading containers.conf as {user.name} gave no list of files"}
    return conf_parser.merge(files)


def _cpu_number(path: Path) -> int:
    return int(path.name[3:])


def cpu_state(root: str = CPU_DIR) -> dict[str, Any]:
    """Per CPU its frequency governor ("none" without cpufreq, as in most VMs), and the SMT
    state ("absent" where the kernel has no SMT control)."""
    base = Path(root)
    cpus = sorted((p for p in base.glob("cpu*") if re.fullmatch(r"cpu\d+", p.name)), key=_cpu_number)
    governors = {p.name: _read(str(p / "cpufreq" / "scaling_governor")).strip() or "none" for p in cpus}
    smt = {name: _read(str(base / "smt" / name)).strip() or "absent" for name in ("active", "control")}
    return {"governors": governors, "smt": smt}


def load_sample(proc: str = "/proc") -> dict[str, Any]:
    """The load averages and the CPU time counters now; ``{"error": why}`` when unreadable."""
    try:
        load = procstat.parse_loadavg(_read(f"{proc}/loadavg"))
        times = procstat.parse_cpu_times(_read(f"{proc}/stat"))
    except ParseError as exc:
        return {"at": _now(), "error": str(exc)}
    return {"at": _now(), "loadavg": [load.one, load.five, load.fifteen], "tasks": load.tasks,
            "cpu_jiffies": {"total": times.total, "steal": times.steal}}


def load_record(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Before and after, with the CPU steal between them as a percent of all CPU time."""
    steal = None
    if "cpu_jiffies" in before and "cpu_jiffies" in after:
        steal = procstat.steal_percent(procstat.CpuTimes(**before["cpu_jiffies"]),
                                       procstat.CpuTimes(**after["cpu_jiffies"]))
    return {"before": before, "after": after, "steal_percent": None if steal is None else round(steal, 3)}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
