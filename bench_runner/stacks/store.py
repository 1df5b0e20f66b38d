"""Where built stacks live, what their manifests record, and who may use them.

A stack is a directory ``STATE_DIR/stacks/NAME`` holding ``root/`` (the root filesystem) and
``stack.json`` (the manifest: what was asked for, when it was built, the versions found in
its package database). A run holds a shared lock on each stack it boots; building and
removing take it exclusively, so a booted stack is never rebuilt or removed under a run.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SetupError, UsageError
from ..lab.locks import FileLock
from ..parsers import versions
from ..results.stackrecord import archive_note
from ..paths import STATE_DIR
from .spec import HOST

#: Where stacks are kept; NETBENCH_STATE_DIR moves it with the rest of the suite's state.
STACKS_DIR = STATE_DIR / "stacks"
MANIFEST = "stack.json"
#: Packages whose versions a stack's record carries (the network path and what runs it).
RECORDED_PACKAGES = ("podman", "passt", "slirp4netns", "libslirp0", "rootlesskit", "netavark", "aardvark-dns",
                     "runc", "crun", "conmon", "catatonit", "systemd", "iperf3", "libiperf0", "python3",
                     "nftables", "golang-github-containers-common")
#: The same components the host stack records as its key versions, by package.
KEY_PACKAGES = {"podman": "podman", "passt": "passt", "slirp4netns": "slirp4netns",
                "rootlesskit": "rootlesskit", "iperf3": "iperf3", "systemd": "systemd"}
#: A manifest larger than this is not one of ours.
MANIFEST_LIMIT = 1 << 20


@dataclass(frozen=True)
class BuiltStack:
    name: str
    path: Path
    manifest: dict[str, Any]

    @property
    def root(self) -> Path:
        return self.path / "root"

    @property
    def packages(self) -> dict[str, str]:
        return dict(self.manifest.get("versions", {}))

    def key_versions(self) -> dict[str, str | None]:
        """Podman, passt and the rest as upstream versions, like the host stack's."""
        found: dict[str, str | None] = {}
        for key, package in KEY_PACKAGES.items():
            raw = self.packages.get(package)
            if key == "passt" and raw:
                found[key] = versions.passt_version_from_package(raw) or raw
            else:
                found[key] = upstream_version(raw)
        return found

    def describe(self) -> dict[str, Any]:
        """What a results document records about the stack."""
        return {"name": self.name, "suite": self.manifest.get("suite"), "key": self.manifest.get("key"),
                "built_at": self.manifest.get("built_at"), "sources": self.manifest.get("sources"),
                "archive": self.manifest.get("archive"), "snapshot": self.manifest.get("snapshot"),
                "release_check": self.manifest.get("release_check"), "releases": self.manifest.get("releases"),
                "packages": self.packages, "versions": self.key_versions(),
                "content": self.manifest.get("content")}

    def archive_note(self) -> str:
        return archive_note(self.manifest)



def upstream_version(package_version: str | None) -> str | None:
    """Debian's "5.4.2+ds1-2+b2" -> "5.4.2", "1:2.0.2-2" -> "2.0.2", "257.13-1~deb13u1" -> "257.13"."""
    if not package_version:
        return None
    text = package_version.split(":", 1)[-1]
    text = text.rsplit("-", 1)[0] if "-" in text else text
    for cut in ("+", "~"):
        text = text.split(cut, 1)[0]
    return text or None


def stack_dir(name: str) -> Path:
    return STACKS_DIR / name


def read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        with open(path / MANIFEST, "rb") as fh:
            raw = fh.read(MANIFEST_LIMIT + 1)
    except OSError:
        return None
    if len(raw) > MANIFEST_LIMIT:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("complete") else None


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    tmp = path / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path / MANIFEST)


def find(name: str) -> BuiltStack:
    """A built stack by name, or a one-line error that says how to build it."""
    if name == HOST:
        raise UsageError(f"'{HOST}' is this machine's own software, not a built stack")
    path = stack_dir(name)
    manifest = read_manifest(path)
    if manifest is None or not (path / "root").is_dir():
        raise SetupError(f"stack '{name}' is not built: run 'python -m bench_runner stack build {name}' "
                         f"(see 'stack list')")
    return BuiltStack(name, path, manifest)


def all_stacks() -> list[BuiltStack]:
    if not STACKS_DIR.is_dir():
        return []
    found = []
    for path in sorted(STACKS_DIR.iterdir()):
        if path.name.startswith(".") or not path.is_dir():
            continue
        manifest = read_manifest(path)
        if manifest is not None:
            found.append(BuiltStack(path.name, path, manifest))
    return found


def installed_versions(root: Path) -> dict[str, str]:
    """Every installed package of a stack, read from its dpkg database (no program runs)."""
    status = root / "var" / "lib" / "dpkg" / "status"
    try:
        text = status.read_text(errors="replace")
    except OSError as exc:
        raise SetupError(f"{status}: cannot read the stack's package database: {exc.strerror}") from None
    return versions.parse_dpkg_status(text)


class StackLock:
    """Shared while a run boots the stack, exclusive while it is built or removed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = FileLock(STACKS_DIR / f".{name}.lock")

    def acquire(self, *, exclusive: bool) -> None:
        if not self._lock.acquire(exclusive=exclusive):
            doing = "a run is using it" if exclusive else "it is being built or removed"
            raise SetupError(f"stack '{self.name}' is busy: {doing}; try again when that has finished")

    def release(self) -> None:
        self._lock.release()


def remove(name: str) -> Path:
    """Delete a built stack (never while a run uses it: the caller holds the exclusive lock)."""
    path = stack_dir(name)
    if not path.exists():
        raise UsageError(f"stack '{name}' does not exist (see 'stack list')")
    remove_tree(path)
    return path


def mounts_under(path: Path, mountinfo: str | None = None) -> list[str]:
    """Mount points at or below ``path`` in this mount namespace."""
    text = mountinfo if mountinfo is not None else Path("/proc/self/mountinfo").read_text()
    prefix = str(path).rstrip("/")
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 4:
            point = fields[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return found


def remove_tree(path: Path) -> None:
    """Delete a stack's directory, but never through a mount (a host /dev or /sys bound into
    it would be deleted with it): refuse with what is mounted there instead."""
    mounted = mounts_under(path)
    if mounted:
        raise SetupError(f"{path} has mounts under it ({mounted[0]}); unmount them before removing the stack")
    shutil.rmtree(path)
