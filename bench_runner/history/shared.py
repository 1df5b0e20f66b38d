"""One history for many machines: ``history pull`` and ``history push`` against a shared git repository.

``pull`` fetches the shared history and merges it into ``results/``: its stack snapshots
first, this history's own after them (``stackmerge``), then the files, one by one, three-way
against what both sides last shared (``resultmerge``: no sample lost, none counted twice),
applied whole (``mergeplan``). ``push`` pulls, then offers the merged history as a
fast-forward of both shared branches at once; when another machine pushed in between, the
push is refused, and it pulls and tries again, a bounded number of times.

The local stack-history repository keeps what the shared history held when this history
last merged with it (``refs/netbench/synced/KEY``, per shared history): the base of the next
merge, so that samples both sides already shared are not counted twice. A push notes its
commit first (``refs/netbench/pushing/KEY``): a push that landed just before a crash is still
known to be shared. It also remembers the shared history last used (``git config
netbench.shared``).
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MeasurementError, UsageError
from . import asvfiles, mergeplan, record, resultmerge, sharedgit, sharedtree, stackmerge
from .config import AsvConfig
from .machine import this_host
from .sharedgit import RESULTS_HEAD, STACKS_HEAD
from .snapshots import StackRepo

ENV = "NETBENCH_SHARED_HISTORY"
REMEMBERED = "netbench.shared"
SYNCED = "refs/netbench/synced/"
PUSHING = "refs/netbench/pushing/"
PUSH_ATTEMPTS = 5


@dataclass
class Synced:
    where: str
    shared_results: str | None = None  # the shared history's results commit merged here
    arrived: int = 0  # shared stack snapshots new here
    moved: int = 0  # this history's snapshots moved after the shared ones
    files_new: int = 0  # result files taken from the shared history
    files_merged: int = 0  # result files both sides changed, merged sample by sample
    samples_added: int = 0  # samples that came from the shared history
    machines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pushed: str | None = None  # the results commit pushed
    up_to_date: bool = False  # push: the shared history already held all of this one
    attempts: int = 0
    seen: dict[str, str] = field(default_factory=dict, repr=False)  # the shared heads merged


def remembered(conf: AsvConfig) -> str | None:
    repo = StackRepo(conf.stack_repo, conf.branch)
    if not repo.exists():
        return None
    done = repo.git("config", "--get", REMEMBERED, check=False)
    return done.stdout.strip() or None


def resolve(conf: AsvConfig, given: str | None) -> str:
    """The shared history to use: the one given, else NETBENCH_SHARED_HISTORY, else the last one used."""
    text = given or os.environ.get(ENV) or remembered(conf)
    if not text:
        raise UsageError(f"no shared history named: give --shared PATH_OR_URL (or set {ENV})")
    return sharedgit.location(text)


def pull(conf: AsvConfig, where: str) -> Synced:
    repo = StackRepo(conf.stack_repo, conf.branch)
    with asvfiles.locked(conf.results_dir), asvfiles.atomic_json_writes():
        notes = _recover(conf, repo)
        out = _pull(conf, repo, where)
    repo.git("config", REMEMBERED, where)
    out.notes[:0] = notes
    return out


def push(conf: AsvConfig, where: str, attempts: int = PUSH_ATTEMPTS) -> Synced:
    repo = StackRepo(conf.stack_repo, conf.branch)
    reason = ""
    for attempt in range(1, attempts + 1):
        with asvfiles.locked(conf.results_dir), asvfiles.atomic_json_writes():
            notes = _recover(conf, repo)
            out = _pull(conf, repo, where)
            out.notes[:0] = notes
            out.attempts = attempt
            reason = _push_once(conf, repo, out)
        if not reason:
            repo.git("config", REMEMBERED, where)
            return out
        if sharedgit.heads(repo.path, where) == out.seen:
            raise UsageError(f"{where}: the shared history refused the push ({reason})")
        time.sleep(random.uniform(0.05, 0.3) * attempt)  # another machine pushed first: merge theirs, retry
    raise MeasurementError(f"{where}: other machines pushed first {attempts} times in a row ({reason}); "
                           "push again")


def _recover(conf: AsvConfig, repo: StackRepo) -> list[str]:
    return [n for n in (mergeplan.recover(conf.results_dir, repo), record.recover(conf)) if n]


def _pull(conf: AsvConfig, repo: StackRepo, where: str) -> Synced:
    repo.ensure()
    out = Synced(where)
    out.seen = sharedgit.heads(repo.path, where)
    if out.seen:
        sharedgit.fetch(repo.path, where, out.seen)
    shared_stacks = repo.snapshots(out.seen[STACKS_HEAD]) if out.seen else []
    out.shared_results = out.seen.get(RESULTS_HEAD)
    synced_ref = SYNCED + sharedgit.key(where)
    base_commit = synced = repo.ref(synced_ref)
    pushing = repo.ref(PUSHING + sharedgit.key(where))
    if pushing and out.shared_results and _is_ancestor(repo, pushing, out.shared_results):
        base_commit = pushing  # a push that landed, though this history did not get to note it
    elif pushing:
        repo.git("update-ref", "-d", PUSHING + sharedgit.key(where))
    if base_commit and not (out.shared_results and _is_ancestor(repo, base_commit, out.shared_results)):
        raise UsageError(f"{where}: the shared history no longer holds what this history last merged from it "
                         "(it was rewritten or replaced); merging without that would count samples twice")
    stacks = stackmerge.merge(repo, repo.snapshots(), shared_stacks)
    out.arrived, out.moved = len(stacks.arrived), stacks.moved
    with tempfile.TemporaryDirectory(prefix="netbench-merge-") as tmp:
        work = Path(tmp)
        theirs = (sharedtree.extract(conf, repo, out.shared_results, work / "theirs") if out.shared_results
                  else sharedtree.Extracted())
        base = sharedtree.extract(conf, repo, base_commit, work / "base") if base_commit else sharedtree.Extracted()
        if theirs.ignored:
            out.notes.append(f"{len(theirs.ignored)} file(s) of the shared history are not part of a history and "
                             f"were left out ({theirs.ignored[0]}, ...)")
        plan = mergeplan.Plan()
        ours = _follow_snapshots(conf, stacks, plan, work / "ours")
        _merge_files(ours, theirs.files, base.files, plan, work / "merged", out)
        _merge_ledger(conf, stacks, theirs.files, base.files, plan, work / "merged")
        plan.refs += _ref_updates(repo, stacks)
        if out.shared_results and out.shared_results != synced:
            plan.refs.append((synced_ref, out.shared_results, synced))
        if plan.writes or plan.deletes or plan.refs:
            mergeplan.commit(conf.results_dir, repo, plan)
    out.machines = asvfiles.machines(conf)
    return out


def _is_ancestor(repo: StackRepo, older: str, newer: str) -> bool:
    return repo.git("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0


def _is_result(rel: str) -> bool:
    return "/" in rel and not rel.endswith("/" + sharedtree.MACHINE_JSON)


def _follow_snapshots(conf: AsvConfig, stacks: stackmerge.MergedStacks, plan: mergeplan.Plan,
                      work: Path) -> dict[str, Path]:
    """This history's files, with each result file of a snapshot that moved renamed (and
    rewritten) for the commit it became; the old names go into the plan's deletions."""
    from asv import util as asv_util

    renamed = stacks.renamed
    ours: dict[str, Path] = {}
    for rel, path in sharedtree.local_files(conf).items():
        if not _is_result(rel):
            ours[rel] = path
            continue
        try:
            commit = asv_util.load_json(str(path), api_version=2)["commit_hash"]
        except (asv_util.UserError, KeyError, TypeError) as exc:
            raise UsageError(f"{path}: not an asv result file ({exc})") from None
        target = renamed.get(commit)
        if target is None:
            ours.setdefault(rel, path)
            continue
        moved = resultmerge.remap(path, work, target.commit, int(target.date.timestamp() * 1000))
        new_rel = moved.relative_to(work).as_posix()
        plan.deletes.append(rel)
        if new_rel in ours:  # already a file of that commit here: both are this history's samples
            merged = resultmerge.merge_result_file(ours[new_rel], moved, None, rel.split("/")[0], work / "both")
            ours[new_rel] = merged.path
        else:
            ours[new_rel] = moved
    return ours


def _same(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


def _merge_files(ours: dict[str, Path], theirs: dict[str, Path], base: dict[str, Path], plan: mergeplan.Plan,
                 work: Path, out: Synced) -> None:
    """Every file but the ledger: taken from the side that changed it, merged where both did."""
    for rel in sorted((set(ours) | set(theirs)) - {record.LEDGER}):
        mine, other, common = ours.get(rel), theirs.get(rel), base.get(rel)
        moved_here = mine is not None and work.parent in mine.parents  # renamed with its snapshot
        if other is None or (mine is not None and _same(mine, other)) or (
                mine is not None and common is not None and _same(common, other)):
            if moved_here:
                plan.writes[rel] = mine  # type: ignore[assignment]
            continue
        machine = rel.split("/")[0]
        if mine is None or (common is not None and _same(common, mine)):
            plan.writes[rel] = other
            if mine is None:
                out.files_new += int(_is_result(rel))
            if _is_result(rel):
                out.samples_added += resultmerge.count_samples(other, machine) - (
                    resultmerge.count_samples(mine, machine) if mine is not None else 0)
        elif _is_result(rel):
            merged = resultmerge.merge_result_file(mine, other, common, machine, work)
            plan.writes[rel] = merged.path
            out.files_merged += 1
            out.samples_added += merged.added
            out.notes += merged.notes
        elif rel == sharedtree.BENCHMARKS:
            plan.writes[rel] = _write_benchmarks(resultmerge.merge_benchmarks(mine, other), work)
        elif moved_here:  # machine.json: this side's
            plan.writes[rel] = mine


def _write_benchmarks(data: dict, work: Path) -> Path:  # type: ignore[type-arg]
    from asv import util as asv_util
    from asv.benchmarks import Benchmarks

    work.mkdir(parents=True, exist_ok=True)
    path = work / sharedtree.BENCHMARKS
    asv_util.write_json(str(path), data, Benchmarks.api_version)
    return path


def _merge_ledger(conf: AsvConfig, stacks: stackmerge.MergedStacks, theirs: dict[str, Path],
                  base: dict[str, Path], plan: mergeplan.Plan, work: Path) -> None:
    renamed = stacks.renamed
    here = record.ledger_rows(conf)
    ours = [dict(row, commit=renamed[row["commit"]].commit) if row.get("commit") in renamed else row for row in here]
    other = record.read_ledger(theirs[record.LEDGER]) if record.LEDGER in theirs else []
    common = record.read_ledger(base[record.LEDGER]) if record.LEDGER in base else []
    text = record.ledger_text(resultmerge.merge_ledger(ours, other, common))
    path = conf.results_dir / record.LEDGER
    if (path.read_text() if path.is_file() else record.ledger_text([])) != text:
        work.mkdir(parents=True, exist_ok=True)
        (work / record.LEDGER).write_text(text)
        plan.writes[record.LEDGER] = work / record.LEDGER


def _ref_updates(repo: StackRepo, stacks: stackmerge.MergedStacks) -> list[tuple[str, str, str | None]]:
    """The branch to the merged line; the tags of moved snapshots with them; a tag for each
    snapshot that arrived without one."""
    updates: list[tuple[str, str, str | None]] = []
    head = repo.head()
    if stacks.tip is not None and stacks.tip != head:
        updates.append((f"refs/heads/{repo.branch}", stacks.tip, head))
    taken = {line for line in repo.git("for-each-ref", "--format=%(refname)", "refs/tags").stdout.splitlines()}
    tagged = set()
    for old, new in stacks.renamed.items():
        for tag in repo.tags_of(old):
            updates.append((tag, new.commit, old))
            tagged.add(new.commit)
    for item in stacks.arrived:
        if item.commit in tagged or repo.tags_of(item.commit):
            continue
        name = f"refs/tags/{repo.free_tag(item.snapshot)}"
        if name in taken:
            name = f"{name}-{item.snapshot.key[:8]}"
        taken.add(name)
        updates.append((name, item.commit, None))
    return updates


def _push_once(conf: AsvConfig, repo: StackRepo, out: Synced) -> str:
    """Offer this history as the shared one's next state; '' when it took it (or already held it),
    else git's reason for refusing."""
    files = sharedtree.local_files(conf)
    tip = repo.head()
    if tip is None or not files:
        if out.seen:
            out.up_to_date = True
            return ""
        raise UsageError(f"nothing recorded in {conf.results_dir} yet: nothing to push "
                         "(record runs first: python -m bench_runner record RESULTS.json)")
    tree = sharedtree.write_tree(repo, files)
    if out.shared_results and tip == out.seen.get(STACKS_HEAD) and \
            repo.git("rev-parse", f"{out.shared_results}^{{tree}}").stdout.strip() == tree:
        out.up_to_date = True
        return ""
    machines = asvfiles.machines(conf)
    message = (f"history from {this_host()}: {len(machines)} machine(s) ({', '.join(machines)})\n\n"
               f"Pushed by podman-netbench 'history push'; merged with {out.shared_results or 'nothing'}.\n")
    commit = sharedtree.commit_tree(repo, tree, out.shared_results, message)
    # Noted before pushing: if this process dies after the push landed, the next pull still
    # knows the shared history holds this commit, which is this history as it is now.
    pushing = PUSHING + sharedgit.key(out.where)
    repo.git("update-ref", pushing, commit)
    pushed = sharedgit.push(repo.path, out.where, {STACKS_HEAD: tip, RESULTS_HEAD: commit})
    if not pushed.ok:
        repo.git("update-ref", "-d", pushing)
        return pushed.reason
    repo.git("update-ref", SYNCED + sharedgit.key(out.where), commit)
    repo.git("update-ref", "-d", pushing)
    out.pushed = commit
    return ""
