"""The unprivileged benchmark user and how to run a command as that user.

Rootless means rootless: Podman, the network helpers, the servers and the clients all run
as this user, entered into a lab namespace with ``nsenter --net`` (not ``ip netns exec``,
which remounts /sys and with it hides the cgroup mounts that runc needs).
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import SetupError
from ..paths import BENCH_USER


@dataclass(frozen=True)
class BenchUser:
    name: str
    uid: int
    gid: int
    home: str

    @property
    def runtime_dir(self) -> Path:
        """Podman records its run root in its database, so this must never change."""
        return Path(f"/run/user/{self.uid}")

    @classmethod
    def lookup(cls, name: str = BENCH_USER) -> "BenchUser":
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise SetupError(f"benchmark user '{name}' does not exist: run scripts/setup.sh as root") from None
        if entry.pw_uid == 0:
            raise SetupError(f"benchmark user '{name}' is root; it must be an unprivileged user")
        return cls(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir)

    def env(self) -> dict[str, str]:
        return {
            "HOME": self.home,
            "USER": self.name,
            "LOGNAME": self.name,
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "LANG": "C.UTF-8",
        }

    def argv(self, argv: Sequence[str], *, netns_path: str | None = None,
             pass_env: Sequence[str] = ()) -> list[str]:
        """``argv`` run as this user with a clean environment, optionally inside a network
        namespace; every wrapper execs, so the returned process id is the command's own.
        ``pass_env`` names variables kept from the caller (socket activation's LISTEN_*)."""
        prefix: list[str] = []
        if netns_path is not None:
            prefix = ["nsenter", f"--net={netns_path}", "--"]
        env = [f"{k}={v}" for k, v in self.env().items()]
        drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--", "env", "-i", *env]
        if not pass_env:
            return [*prefix, *drop, *[str(a) for a in argv]]
        # env -i would drop them: a shell reads them first, then execs (same pid).
        kept = " ".join(f'{name}="${{{name}}}"' for name in pass_env)
        script = f'exec {" ".join(shlex.quote(a) for a in drop)} {kept} "$@"'
        return [*prefix, "sh", "-c", script, "sh", *[str(a) for a in argv]]

    def ensure_runtime_dir(self) -> bool:
        """Create the runtime directory if missing; True when this call created it."""
        path = self.runtime_dir
        if path.is_dir():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700)
        os.chown(path, self.uid, self.gid)
        return True

    def remove_runtime_dir(self) -> None:
        shutil.rmtree(self.runtime_dir, ignore_errors=True)


def subordinate_range(name: str, path: str) -> tuple[int, int] | None:
    """The first ``start, count`` range for ``name`` in /etc/subuid or /etc/subgid."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    return parse_subid(text, name)


def parse_subid(text: str, name: str) -> tuple[int, int] | None:
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[0] == name and parts[1].isdigit() and parts[2].isdigit():
            return int(parts[1]), int(parts[2])
    return None
