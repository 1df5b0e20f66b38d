"""Build a stack from the distribution's package registry with mmdebstrap, or, when an
unchanged stack is already built, only check it.

The build goes to a hidden directory beside the stacks and is moved into place only once it
is complete, so an interrupted build never leaves a half stack that looks usable.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .. import procs
from ..errors import CommandFailed, SetupError, UsageError
from ..parsers import apt
from . import store
from .spec import StackSpec

MMDEBSTRAP = "mmdebstrap"
BUILD_TIMEOUT = 1800.0
#: Units masked in every stack: they would touch this machine's kernel or devices (sysctls,
#: binfmt, the clock, modules, udev) or wait for a console the stack does not have.
MASKED_UNITS = (
    "getty.target", "console-getty.service", "systemd-sysctl.service", "systemd-binfmt.service",
    "proc-sys-fs-binfmt_misc.automount", "proc-sys-fs-binfmt_misc.mount", "systemd-timesyncd.service",
    "systemd-modules-load.service", "systemd-udevd.service", "systemd-udevd-control.socket",
    "systemd-udevd-kernel.socket", "systemd-hwdb-update.service", "systemd-firstboot.service",
)
#: Packages a usable stack must have; a check that finds one missing rebuilds nothing but says so.
REQUIRED = ("podman", "passt", "slirp4netns", "rootlesskit", "systemd", "iperf3", "python3", "mount")


@dataclass(frozen=True)
class BuildResult:
    stack: store.BuiltStack
    built: bool  # False: an unchanged stack was only checked
    seconds: float


def architecture() -> str:
    return procs.run(["dpkg", "--print-architecture"], timeout=10).stdout.strip()


def build(spec: StackSpec, *, rebuild: bool = False, log: Callable[[str], None] = lambda s: None) -> BuildResult:
    if os.geteuid() != 0:
        raise SetupError("building a stack needs root (mmdebstrap installs packages as root): run as root")
    if shutil.which(MMDEBSTRAP) is None:
        raise SetupError(f"{MMDEBSTRAP} is not installed: run scripts/setup.sh as root")
    started = time.monotonic()
    procs.become_subreaper()  # mmdebstrap's helpers, if interrupted, are reaped here, not left as zombies
    key = spec.key(architecture())
    lock = store.StackLock(spec.name)
    lock.acquire(exclusive=True)
    try:
        existing = store.read_manifest(store.stack_dir(spec.name))
        if existing is not None and existing.get("key") == key and not rebuild:
            stack = store.BuiltStack(spec.name, store.stack_dir(spec.name), existing)
            check(stack)
            log(f"stack {spec.name}: unchanged since {existing.get('built_at')} (key {key}); checked, not rebuilt")
            return BuildResult(stack, False, time.monotonic() - started)
        stack = _build(spec, key, log)
        return BuildResult(stack, True, time.monotonic() - started)
    finally:
        lock.release()


def check(stack: store.BuiltStack) -> None:
    """A built stack still has what the suite runs in it."""
    installed = store.installed_versions(stack.root)
    missing = [p for p in REQUIRED if p not in installed]
    if missing:
        raise SetupError(f"stack '{stack.name}' lacks {', '.join(missing)}: rebuild it with "
                         f"'stack build {stack.name} --rebuild'")


def _build(spec: StackSpec, key: str, log: Callable[[str], None]) -> store.BuiltStack:
    final = store.stack_dir(spec.name)
    partial = store.STACKS_DIR / f".{spec.name}.partial"
    if partial.exists():
        log(f"stack {spec.name}: removing an interrupted build")
        store.remove_tree(partial)
    partial.mkdir(parents=True, mode=0o755)
    root = partial / "root"
    # unshare mode as root: no user namespace, but mmdebstrap's own mounts (proc, sys, dev in
    # the new root) live in a mount namespace of its own, so even a killed build leaves none here.
    # apt's messages in English (the failure is read from them); the package lists are kept
    # past mmdebstrap's clean-up so the Release files' dates can be recorded, then removed.
    argv = ["env", "LC_ALL=C.UTF-8", MMDEBSTRAP, "--mode=unshare", "--variant=apt", "--format=directory",
            "--skip=cleanup/apt/lists", f"--include={','.join(spec.packages)}",
            *(f"--aptopt={option}" for option in spec.apt_options()), spec.suite, str(root), *spec.sources()]
    log(f"stack {spec.name}: building Debian {spec.suite} with {len(spec.packages)} packages from {spec.archive} "
        "(a minute or two)" + ("; Release files past their Valid-Until date are accepted" if spec.accepts_expired
                               else ""))
    began = time.monotonic()
    try:
        try:
            procs.run_reporting(argv, timeout=BUILD_TIMEOUT, tail=200,
                                on_line=lambda line: _progress(spec.name, line, log))
        except CommandFailed as exc:
            problem = archive_problem(spec, exc.stderr, datetime.now(timezone.utc))
            if problem is not None:
                raise problem from None
            for line in exc.stderr.splitlines():
                if line.startswith("E: "):
                    log(f"stack {spec.name}: {line}")
            raise _first_error(exc) from None
        prepare(root, spec.name)
        installed = store.installed_versions(root)
        releases = take_release_heads(root, datetime.now(timezone.utc))
        manifest = {
            "complete": True, "name": spec.name, "suite": spec.suite, "key": key,
            "packages_requested": list(spec.packages), "sources": spec.sources(), "archive": spec.archive,
            "snapshot": spec.snapshot, "release_check": spec.release_check(), "releases": releases,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.monotonic() - began, 1),
            "versions": {p: installed[p] for p in store.RECORDED_PACKAGES if p in installed},
            "content": _content_hash(installed),
        }
        store.write_manifest(partial, manifest)
    except BaseException:
        store.remove_tree(partial)
        raise
    old = store.STACKS_DIR / f".{spec.name}.old"
    if final.exists():
        if old.exists():
            store.remove_tree(old)
        os.replace(final, old)
    os.replace(partial, final)
    if old.exists():
        store.remove_tree(old)
    stack = store.BuiltStack(spec.name, final, manifest)
    check(stack)
    versions = stack.key_versions()
    log(f"stack {spec.name}: built in {manifest['build_seconds']:.0f} s: "
        + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return stack


def archive_problem(spec: StackSpec, output: str, seen_at: datetime) -> Exception | None:
    """mmdebstrap's failure in one line, where apt said why: an expired Release file (a usage
    error: accepting it is the user's decision, ``--allow-expired``) or an archive that could
    not be reached. None where apt said neither (the caller raises mmdebstrap's own error)."""
    expired = apt.expired_releases(output)
    if expired and not spec.accepts_expired:
        first = expired[0]
        until = first.valid_until(seen_at).strftime("%Y-%m-%d %H:%M UTC")
        more = f" (and {len(expired) - 1} more)" if len(expired) > 1 else ""
        return UsageError(f"stack {spec.name}: the archive's Release file {first.url}{more} expired on {until} "
                          f"(apt: invalid since {first.said}), so apt refuses it as possibly stale or replayed: "
                          f"build with --allow-expired to accept it (recorded in the stack), or use a current "
                          f"--mirror")
    failed = apt.fetch_failures(output)
    if failed:
        first = failed[0]
        needs = " (--snapshot needs snapshot.debian.org)" if spec.snapshot else ""
        return SetupError(f"stack {spec.name}: the package archive could not be reached{needs}: {first.url}: "
                          f"{first.reason}")
    return None


def _first_error(exc: CommandFailed) -> CommandFailed:
    """mmdebstrap's last line is only "E: mmdebstrap failed to run": its first error says why."""
    errors = [line for line in exc.stderr.splitlines() if line.startswith("E: ")]
    return CommandFailed(exc.argv, exc.returncode, errors[0]) if errors else exc


def take_release_heads(root: Path, now: datetime) -> list[dict[str, Any]]:
    """Each Release file the build used: which suite, dated when, valid until when and whether
    that had passed at build time; then the package lists go, as mmdebstrap's clean-up does."""
    lists = root / "var" / "lib" / "apt" / "lists"
    heads: list[dict[str, Any]] = []
    if not lists.is_dir():
        return heads
    for path in sorted(lists.iterdir()):
        if path.is_file() and not path.is_symlink() and path.name.endswith(("_InRelease", "_Release")):
            head = apt.release_head(path.read_text(errors="replace"))
            heads.append({"file": path.name, "origin": head.origin, "suite": head.suite, "codename": head.codename,
                          "date": _iso(head.date), "valid_until": _iso(head.valid_until),
                          "expired_at_build": head.valid_until is not None and head.valid_until < now})
    for path in lists.iterdir():
        if path.is_file() and not path.is_symlink() and path.name != "lock":
            path.unlink()
    return heads


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def _progress(name: str, line: str, log: Callable[[str], None]) -> None:
    """mmdebstrap's own progress ("I: downloading packages with apt...") and its warnings. Its
    errors are held back: the failure is then said once, in one line (``archive_problem``),
    or with all of them where apt's reason is not one the suite knows."""
    if line.startswith(("I: ", "W: ")):
        log(f"stack {name}: {line[3:]}" if line.startswith("I: ") else f"stack {name}: {line}")


def prepare(root: Path, name: str) -> None:
    """What a stack needs before its first boot: a name of its own, and no unit that would
    reach out of its namespaces into this machine (see MASKED_UNITS)."""
    (root / "etc" / "hostname").write_text(f"netbench-{name}\n")
    system = root / "etc" / "systemd" / "system"
    system.mkdir(parents=True, exist_ok=True)
    for unit in MASKED_UNITS:
        link = system / unit
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to("/dev/null")


def _content_hash(installed: dict[str, str]) -> str:
    """One value for the exact package set, so two stacks with the same name can be told apart."""
    import hashlib

    text = "\n".join(f"{k}={v}" for k, v in sorted(installed.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
