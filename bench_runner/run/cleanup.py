"""What runs leave behind, removed: every kind of resource a run records (run state,
lab/runstate.py) with the layer that knows how to remove it, and the clean-up of what runs
that no longer live left (after a SIGKILL), which the next run and ``doctor --cleanup`` do.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Callable

from ..clienthost import ssh
from ..errors import SetupError
from ..lab import hosts as lab_mod
from .. import procs
from ..lab import delaybox, runstate, untrusted
from ..lab.user import BenchUser
from ..providers import podman, unitserver
from ..stacks import boot

#: Every kind of resource a run records, and its remover.
REMOVERS: dict[str, runstate.Remover] = {
    **runstate.LAB_REMOVERS,
    "container": podman.remove_container_entry,
    "stack": boot.power_off,
    "units": unitserver.remove_entry,
    "ssh-dir": ssh.remove_entry,
    "delay-box": delaybox.remove_entry,
}


def teardown(state: runstate.RunState) -> list[str]:
    """Remove everything a run recorded, newest first; returns the problems."""
    return state.teardown(REMOVERS)


def cleanup_stale(*, log: Callable[[str], None] = lambda s: None) -> list[str]:
    """Tear down what runs that no longer live left behind (e.g. after SIGKILL), then any
    namespace with the suite's prefix that no live run claims. Call with the lock held."""
    problems: list[str] = []
    live_tags: set[str] = set()
    dead: list[runstate.RunState] = []
    runs = runstate.runs_dir()
    if os.geteuid() != 0:
        raise SetupError("cleaning up needs root (the lab's namespaces belong to root)")
    for path in sorted(runs.glob("*.json")) if runs.is_dir() else []:
        try:
            state = runstate.RunState.load(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"unreadable run state {path}: {exc}")
            path.unlink(missing_ok=True)
            continue
        if state.owner is not None and state.owner.alive() and state.owner.pid != os.getpid():
            # A run's stacks each have a lab of their own, with tags of their own.
            live_tags.add(state.tag)
            live_tags.update(str(r["tag"]) for r in state.resources if r.get("kind") == "lab" and r.get("tag"))
            continue
        dead.append(state)
    if dead and not live_tags:
        problems.extend(_stop_orphans(dead, log))
    for state in dead:
        log(f"removing what run {state.tag} left behind ({len(state.resources)} resources)")
        # the containers' remover says when it has to reset a state the kill left stale
        problems.extend(state.teardown({**REMOVERS, "container": partial(podman.remove_container_entry, log=log)}))
    for tmp in sorted(runs.glob(".*.tmp")) if runs.is_dir() else []:
        if tmp.name.split(".")[1] not in live_tags:  # a state write a crash cut short (.TAG.json.XXXX.tmp)
            tmp.unlink(missing_ok=True)
    for ns in lab_mod.existing_lab_namespaces():
        tag = lab_mod.tag_of_namespace(ns)
        if tag is not None and tag not in live_tags:
            log(f"removing orphaned namespace {ns}")
            if ns == lab_mod.box_namespace(tag):  # a delay box's, with the guest in it
                problems.extend(lab_mod.destroy_namespace(ns))
                continue
            server_ns, client_ns, server_if, client_if = lab_mod.names_for(tag)
            problems.extend(lab_mod.destroy(lab_mod.Lab(tag, server_ns, client_ns, server_if, client_if, 0)))
    problems.extend(podman.remove_orphaned_containers(live_tags, log=log))
    return problems


def _stop_orphans(dead: list[runstate.RunState], log: Callable[[str], None]) -> list[str]:
    """Stop what the dead runs' calls left running, before their resources go: a Podman call
    in flight when its run was killed outlives it, and once started a pause process after the
    next run had cleaned up. Only the benchmark user's processes that started after the
    earliest dead run did are touched (no live run holds the lock, so they are that run's)."""
    since = min((s.owner.start_ticks for s in dead if s.owner is not None), default=None)
    if since is None:
        return []
    try:
        user = BenchUser.lookup()
    except SetupError:
        return []
    problems: list[str] = []
    for ref in untrusted.processes_started_since(user, since):
        log(f"stopping process {ref.pid} a dead run left running")
        if not procs.stop(ref, grace=2.0):
            problems.append(f"process {ref.pid} of {user.name} did not stop")
    return problems
