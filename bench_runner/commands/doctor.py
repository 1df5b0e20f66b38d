"""``doctor``: what this host can measure, and what the set-up still has to fix."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from .. import procs
from ..stacks import detect as stack
from ..errors import BenchError, CommandFailed
from ..run.matrix import METHODS
from ..paths import BENCH_USER, IMAGE, VENV_PYTHON
from ..providers import PROVIDER_IDS, choose, make
from ..lab.user import BenchUser, subordinate_range
from ..argtypes import add_output_format

HELP = "show each method's availability per provider, the stack, and what set-up must fix"
DESCRIPTION = (
    "Check this host: the stack's versions, whether each method can run under each provider "
    "(and why not), and what scripts/setup.sh still has to fix. --cleanup also removes "
    "whatever a killed run left behind (its namespaces, processes and containers only). Exit 2: "
    "set-up still needed; exit 1: --cleanup could not remove everything (each problem is printed)."
)
SETUP_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "setup.sh"
#: How long --cleanup waits for a run in progress before it gives up.
CLEANUP_WAIT_S = 900


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_output_format(parser, "the same report as JSON")
    parser.add_argument("--cleanup", action="store_true",
                        help="remove what killed runs left behind (needs root; waits up to 15 minutes for a run in "
                             "progress to finish)")


def host_problems() -> list[str]:
    """What the set-up has not done yet, in the set-up's own words where possible."""
    problems: list[str] = []
    if SETUP_SCRIPT.exists():
        result = procs.run(["bash", str(SETUP_SCRIPT), "--check", "--quiet"], timeout=120, check=False)
        listed = [line.split("- ", 1)[1] for line in result.stderr.splitlines() if line.startswith("setup:   - ")]
        if result.returncode != 0 and not listed:  # the check itself failed: say how, never "ready"
            said = [line for line in result.stderr.splitlines() if line.strip()]
            listed = [f"scripts/setup.sh --check failed (exit {result.returncode})"
                      + (f": {said[-1].strip()}" if said else "")]
        problems += listed
    if os.geteuid() != 0:
        problems.append("not root: measuring needs root to build the lab")
    if not VENV_PYTHON.exists() and not any("virtual environment" in p for p in problems):
        problems.append(f"{VENV_PYTHON} is missing")
    try:
        user = BenchUser.lookup(BENCH_USER)
    except BenchError as exc:
        problems.append(str(exc))
        return sorted(set(problems))
    for path in ("/etc/subuid", "/etc/subgid"):
        if subordinate_range(user.name, path) is None:
            problems.append(f"{path} has no range for {user.name}")
    if os.path.exists("/dev/net/tun") and not tun_usable_by(user):
        problems.append(f"/dev/net/tun is not usable by {user.name}")
    return sorted(set(problems))


#: Where rootless Podman lists a user's images, by storage driver.
IMAGE_LISTS = ("overlay-images/images.json", "vfs-images/images.json")


def tun_usable_by(user: BenchUser, path: str = "/dev/net/tun") -> bool:
    """Open to everyone, or to a group the user is in (the set-up's own way)."""
    info = os.stat(path)
    if info.st_mode & 0o006 == 0o006:
        return True
    return info.st_mode & 0o060 == 0o060 and info.st_gid in os.getgrouplist(user.name, user.gid)


def image_present() -> bool | None:
    """Whether the user's image store lists the suite's image, read as the user: no Podman
    call, so no runtime directory or pause process is made (doctor changes nothing). None
    where it cannot be asked (not root, no Podman)."""
    if os.geteuid() != 0 or shutil.which("podman") is None:
        return None
    try:
        user = BenchUser.lookup(BENCH_USER)
    except BenchError:
        return False
    store = f"{user.home}/.local/share/containers/storage"
    lists = [f"{store}/{name}" for name in IMAGE_LISTS]
    result = procs.run(user.argv(["sh", "-c", 'for f in "$@"; do [ -f "$f" ] && head -c 4000000 "$f"; done; true',
                                  "sh", *lists]), timeout=30, check=False)
    if result.returncode != 0:
        raise CommandFailed(["sh", "(read the image lists)"], result.returncode, result.stderr)
    return f'"{IMAGE}"' in result.stdout


def netem_state() -> dict[str, object]:
    """Which path ``run --delay`` and ``--loss`` get here: kernel netem on the veth link, the
    delay box, or none (and why). Not a set-up problem: only those options need it."""
    from ..lab import netem

    if os.geteuid() != 0:
        return {"available": None, "path": None,
                "reason": "not checked: adding a qdisc in a namespace needs root"}
    try:
        found = netem.which_path()
    except BenchError as exc:
        return {"available": None, "path": None, "reason": f"could not be checked: {exc}"}
    return {"available": found["path"] is not None, **found}


def path_line(state: dict[str, object]) -> str:
    """doctor's line about the path (netem_state)."""
    if state.get("path"):
        return f"run --delay, --loss (the path): {state['path']} ({state['reason']})"
    if state.get("available") is None:
        return f"run --delay, --loss (the path): {state['reason']}"
    return f"run --delay, --loss (the path): not available: {state['reason']}"


def main(args: argparse.Namespace) -> int:
    cleaned: list[str] = []
    cleanup_problems: list[str] = []
    if args.cleanup:
        from ..lab.runstate import RunBusy, RunLock
        from ..run.cleanup import cleanup_stale

        lock = RunLock()
        try:
            lock.acquire()
        except RunBusy as exc:
            print(f"doctor: {exc}; waiting up to {CLEANUP_WAIT_S // 60} minutes", file=sys.stderr, flush=True)
            lock.acquire(wait=CLEANUP_WAIT_S)
        try:
            cleanup_problems = cleanup_stale(log=cleaned.append)
        finally:
            lock.release()
        cleaned += [f"problem: {p}" for p in cleanup_problems]
    detected = stack.detect()
    availability: dict[str, dict[str, dict[str, object]]] = {}
    for provider_id in PROVIDER_IDS:
        provider = make(provider_id, podman_version=detected.podman)
        availability[provider_id] = {m: provider.check(m).to_json() for m in METHODS}
    try:
        auto = choose("auto", list(METHODS), podman_version=detected.podman)
        auto_text = {"provider": auto.provider.id, "reason": auto.reason,
                     # where auto mixes providers, which one runs each method
                     "by_method": {m: getattr(auto.provider, "for_method", lambda _: auto.provider)(m).id
                                   for m in METHODS}}
    except BenchError as exc:
        auto_text = {"provider": None, "reason": str(exc)}
    problems = host_problems()
    try:
        image = image_present()
    except BenchError as exc:
        image = None
        problems.append(f"cannot tell whether container image {IMAGE} exists: {exc}")
    if image is False:
        problems.append(f"container image {IMAGE} is missing")
    from ..stacks import store

    built = store.all_stacks()
    report = {
        "stack": detected.to_json(),
        "release_stacks": [b.describe() for b in built],
        "availability": availability,
        "auto_provider": auto_text,
        "image": image,
        "netem": (delay := netem_state()),
        "setup_needed": problems,
        "cleanup": cleaned,
        "ready": not problems,
    }
    if args.format == "json":
        print(json.dumps(report, indent=1))
        return 2 if problems else 1 if cleanup_problems else 0
    keys = detected.key_versions()
    print("stack: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in keys.items()))
    print(f"       {detected.distribution}; {detected.cpu_count} x {detected.cpu_model}; "
          f"virtualisation: {detected.virtualization}")
    for provider_id, methods in availability.items():
        print(f"provider {provider_id}:")
        for method, state in methods.items():
            mark = "available" if state["available"] else f"not available: {state['reason']}"
            print(f"  {method:<26} {mark}")
    print(f"--provider auto would use: {auto_text['provider']} ({auto_text['reason']})")
    print(path_line(delay))
    if built:
        for b in built:
            versions = b.key_versions()
            print(f"release stack {b.name} (run --stacks host,{b.name}): Debian {b.manifest.get('suite')}, "
                  + ", ".join(f"{k} {v}" for k, v in versions.items()) + f"; built {b.manifest.get('built_at')}")
    else:
        print("release stacks: none built (python -m bench_runner stack build trixie gives Podman 5 beside this "
              "machine's own)")
    for line in cleaned:
        print(f"cleanup: {line}")
    if problems:
        print("set-up still needed (run scripts/setup.sh as root):")
        for problem in problems:
            print(f"  - {problem}")
        return 2
    if cleanup_problems:
        print("host ready, but the cleanup left the problems above", file=sys.stderr)
        return 1
    print("host ready")
    return 0
