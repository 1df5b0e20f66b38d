"""Which machine a result belongs to, described so that a kernel upgrade does not split it.

asv keys every graph line on all machine parameters; its default ``os`` is
``"Linux <kernel release>"``, so an upgrade would start a new line instead of adding a point.
Here ``os`` is just the system name, and the rest (CPU model, CPU count) comes from the
results document, so every document measured on one machine gives the same parameters.
``python`` is fixed too: the suite's interpreter carries no traffic, and a distribution
upgrade that changes it must not split the history either.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path
from typing import Any, Mapping

from ..errors import UsageError

#: asv's ``python`` parameter and environment name for results the suite writes.
PYTHON = "any"
ENV_NAME = "netbench"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def this_host() -> str:
    """asv's default machine name (the host name), unless NETBENCH_MACHINE names another."""
    return os.environ.get("NETBENCH_MACHINE") or platform.node() or "localhost"


def checked_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(f"machine name {name!r}: use letters, digits, '.', '_' or '-' (it names a directory)")
    return name


def params(name: str, stack: Mapping[str, Any]) -> dict[str, str]:
    """The machine parameters stored with every result of this machine (asv's graph key)."""
    return {
        "machine": checked_name(name),
        "os": platform.system() or "Linux",
        "cpu": str(stack.get("cpu_model") or "unknown"),
        "num_cpu": str(stack.get("cpu_count") or "unknown"),
        "python": PYTHON,
    }


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return str(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return ""


def machine_info(name: str, stack: Mapping[str, Any]) -> dict[str, str]:
    """``results/<machine>/machine.json`` (shown by asv's pages); arch and RAM only known here."""
    info = {k: v for k, v in params(name, stack).items() if k != "python"}
    local = name == this_host()
    info["arch"] = platform.machine() if local else "unknown"
    info["ram"] = _ram() if local else ""
    return info


def ensure_asv_machine_entry(info: Mapping[str, str]) -> Path | None:
    """Give ``~/.asv-machine.json`` an entry for this host when it has none, so a plain
    ``asv run`` neither prompts nor records the kernel as the OS. Returns the file when
    it was changed. An existing entry is the user's and is left alone."""
    from asv.machine import MachineCollection

    path = Path(MachineCollection.get_machine_file_path())
    if info.get("machine") != this_host():
        return None
    if path.is_file():
        from asv import util as asv_util

        try:
            known = asv_util.load_json(str(path), MachineCollection.api_version)
        except asv_util.UserError:
            return None  # asv will say what is wrong with it
        if info["machine"] in known:
            return None
    MachineCollection.save(info["machine"], dict(info), _path=str(path))
    return path
