"""Merging this machine's stack history with a shared one into one line of snapshots.

asv plots one branch, first parents only, so the merged history must be a single line. The
shared history's snapshots are never rewritten (other machines' result files name them): they
come first, as they are. This history's snapshots that the shared one lacks (by stack, not by
commit: two machines that measured the same stack made two commits of it) follow, in their
order, each replayed as a new commit of the same content and dates; a snapshot the shared
history already has maps to the shared commit. The returned mapping says which commit each
local one became, so the result files that name it can be renamed with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .snapshots import SnapshotCommit, StackRepo


@dataclass
class MergedStacks:
    tip: str | None  # the merged line's last commit
    #: every commit of this history -> the commit it is in the merged line (itself, unless moved)
    mapping: dict[str, SnapshotCommit] = field(default_factory=dict)
    arrived: list[SnapshotCommit] = field(default_factory=list)  # shared snapshots new here
    moved: int = 0  # this history's snapshots replayed after the shared ones

    @property
    def renamed(self) -> dict[str, SnapshotCommit]:
        return {old: new for old, new in self.mapping.items() if new.commit != old}


def merge(repo: StackRepo, local: list[SnapshotCommit], shared: list[SnapshotCommit]) -> MergedStacks:
    """The merged line of ``local`` (this history, oldest first) and ``shared``; new commits are
    written to the repository, but no ref is changed."""
    common = 0
    while common < min(len(local), len(shared)) and local[common].commit == shared[common].commit:
        common += 1
    out = MergedStacks(tip=None)
    for item in local[:common]:
        out.mapping[item.commit] = item
    if common == len(shared):  # the shared history is part of this one: nothing moves
        out.tip = local[-1].commit if local else None
        out.mapping.update({item.commit: item for item in local[common:]})
        return out
    by_key = {item.snapshot.key: item for item in shared}
    here = {item.commit for item in local}
    out.arrived = [item for item in shared[common:] if item.commit not in here]
    tip = shared[-1].commit
    for item in local[common:]:
        same = by_key.get(item.snapshot.key)
        if same is not None:
            out.mapping[item.commit] = same
            continue
        tip = repo.replay(item.commit, tip)
        out.mapping[item.commit] = SnapshotCommit(tip, item.tag, item.date, item.snapshot)
        out.moved += 1
    out.tip = tip
    return out
