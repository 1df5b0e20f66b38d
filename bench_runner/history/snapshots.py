"""Stack snapshots and the stack-history git repository asv reads as "the project".

A snapshot is what a point on the history axis stands for: the key component versions of
``Stack.key_versions()`` (kernel, podman, passt, slirp4netns, rootlesskit, iperf3, plus what
the user stated with ``run --stack``) and the provider that ran the methods (the bare
helpers and Podman are different data paths, so their samples must not be pooled).

Each distinct snapshot is one commit on one branch of a bare repository: a ``stack.json``,
a message listing the versions, a ``Stack-Key`` trailer to find it again, a tag named by the
versions, and author/committer dates set to when it was first measured. The history is
only ever appended to (asv's result files name commits by hash, so a rewrite would orphan
them); asv's revision axis therefore follows the order of recording, its date axis the
measurement dates. The one exception is a merge with a shared history (``stackmerge``), which
replays this history's own new snapshots after the shared ones and renames their result files
in the same step. Plumbing commands only: no working tree, no checkout.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from .. import procs
from ..errors import UsageError
from ..stacks.detect import Stack

GIT_TIMEOUT = 60
ZERO = "0" * 40
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]")


@dataclass(frozen=True)
class Snapshot:
    """Ordered (component, version) pairs; "none" where a component is absent."""

    items: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, stack: Mapping[str, Any], provider: str) -> "Snapshot":
        """From a results document's ``stack`` and ``provider["id"]``."""
        known = {f.name for f in fields(Stack)}
        detected = Stack(**{k: v for k, v in stack.items() if k in known})
        versions = detected.key_versions()
        items = [(key, "none" if value is None else str(value)) for key, value in versions.items()]
        items.append(("provider", provider))
        return cls(tuple(items))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Snapshot":
        return cls(tuple((str(k), str(v)) for k, v in data["versions"]))

    def to_json(self) -> dict[str, Any]:
        return {"versions": [list(item) for item in self.items], "key": self.key}

    def as_dict(self) -> dict[str, str]:
        return dict(self.items)

    @property
    def key(self) -> str:
        """Identity: the same components and versions in any order give the same key."""
        canonical = json.dumps(sorted(self.items), separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def label(self) -> str:
        """Human label, also the tag: kernel-6.1.0_podman-4.3.1_..._bare."""
        parts = [f"{k}-{v}" for k, v in self.items if k != "provider"]
        parts.append(self.as_dict().get("provider", "none"))
        return "_".join(parts)


@dataclass(frozen=True)
class SnapshotCommit:
    commit: str
    tag: str | None
    date: datetime
    snapshot: Snapshot


def tag_name(label: str) -> str:
    """A valid git ref name for a label (git-check-ref-format rules, conservatively)."""
    name = _TAG_UNSAFE.sub("_", label)
    name = re.sub(r"\.{2,}", ".", name).strip(".-")
    if name.endswith(".lock"):
        name += "_"
    return name or "stack"


def git_date(when: datetime) -> str:
    return f"@{int(when.timestamp())} +0000"


def parse_time(text: str) -> datetime:
    """An ISO 8601 UTC time as the results document writes it."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"not an ISO 8601 time: {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


class StackRepo:
    """The bare git repository of stack snapshots; one branch, appended to only."""

    def __init__(self, path: Path, branch: str) -> None:
        self.path = path
        self.branch = branch

    def git(self, *args: str, input_text: str | None = None, env: Mapping[str, str] | None = None,
            check: bool = True) -> procs.ProcessResult:
        """git on this repository, with no user or system configuration."""
        full_env = {**os.environ, "GIT_DIR": str(self.path), "LC_ALL": "C", **(env or {})}
        # No user or system configuration may change what is written (hooks, signing, ...).
        full_env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"})
        return procs.run(["git", *args], timeout=GIT_TIMEOUT, input_text=input_text, env=full_env,
                         check=check)

    def exists(self) -> bool:
        return (self.path / "objects").is_dir() and (self.path / "HEAD").is_file()

    def ensure(self) -> bool:
        """Create the repository when missing; True when it was created."""
        if self.exists():
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        procs.run(["git", "init", "--quiet", "--bare", f"--initial-branch={self.branch}", str(self.path)],
                  timeout=GIT_TIMEOUT, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1",
                                            "GIT_CONFIG_GLOBAL": "/dev/null"})
        (self.path / "description").write_text(
            "podman-netbench stack history: one commit per measured stack (asv's x-axis)\n")
        return True

    def head(self) -> str | None:
        return self.ref(f"refs/heads/{self.branch}")

    def ref(self, name: str) -> str | None:
        """The commit a ref points at, or None when it does not exist."""
        if not self.exists():
            return None
        result = self.git("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", check=False)
        return result.stdout.strip() or None

    def snapshots(self, ref: str | None = None) -> list[SnapshotCommit]:
        """Every snapshot on the branch (or on another ref, such as a fetched shared history's
        stacks), oldest first."""
        tip = self.ref(ref) if ref else self.head()
        if not self.exists() or tip is None:
            return []
        out = self.git("log", "--first-parent", "--reverse", "--format=%H %ct", tip).stdout
        rows = [line.split() for line in out.splitlines() if line.strip()]
        tags = self._tags()
        contents = self._read_many([commit for commit, _ in rows])
        return [SnapshotCommit(commit, tags.get(commit), datetime.fromtimestamp(int(stamp), tz=timezone.utc),
                               contents[commit]) for commit, stamp in rows]

    def _read_many(self, commits: list[str]) -> dict[str, Snapshot]:
        """Every commit's stack.json with one ``git cat-file --batch`` (JSON is ASCII-only)."""
        if not commits:
            return {}
        out = self.git("cat-file", "--batch", input_text="".join(f"{c}:stack.json\n" for c in commits)).stdout
        found: dict[str, Snapshot] = {}
        position = 0
        for commit in commits:
            end = out.index("\n", position)
            header = out[position:end].split()
            if len(header) != 3 or header[1] != "blob":
                raise UsageError(f"{self.path}: commit {commit[:12]} has no stack.json; not a stack history")
            size = int(header[2])
            found[commit] = Snapshot.from_json(json.loads(out[end + 1:end + 1 + size]))
            position = end + 1 + size + 1
        return found

    def _tags(self) -> dict[str, str]:
        out = self.git("for-each-ref", "--format=%(objectname) %(refname:short)", "refs/tags").stdout
        tags: dict[str, str] = {}
        for line in out.splitlines():
            commit, _, name = line.partition(" ")
            tags.setdefault(commit, name)
        return tags

    def find(self, snapshot: Snapshot) -> SnapshotCommit | None:
        for item in self.snapshots():
            if item.snapshot.key == snapshot.key:
                return item
        return None

    def resolve(self, name: str) -> SnapshotCommit | None:
        """A tag, a (prefix of a) commit hash, or the branch name -> its snapshot, else None."""
        if not self.exists() or not name or name.startswith("-"):
            return None
        result = self.git("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", check=False)
        commit = result.stdout.strip()
        if result.returncode != 0 or not commit:
            return None
        for item in self.snapshots():
            if item.commit == commit:
                return item
        return None

    def add(self, snapshot: Snapshot, first_measured: datetime) -> SnapshotCommit:
        """Append a commit for a snapshot not in the history yet, and tag it."""
        self.ensure()
        blob = self.git("hash-object", "-w", "--stdin",
                         input_text=json.dumps(snapshot.to_json(), indent=1) + "\n").stdout.strip()
        tree = self.git("mktree", input_text=f"100644 blob {blob}\tstack.json\n").stdout.strip()
        parent = self.head()
        message = (f"{snapshot.label}\n\nStack measured from {first_measured:%Y-%m-%d %H:%M:%S} UTC:\n"
                   + "".join(f"  {k}: {v}\n" for k, v in snapshot.items)
                   + f"\nStack-Key: {snapshot.key}\n")
        date = git_date(first_measured)
        who = {"GIT_AUTHOR_NAME": "podman-netbench", "GIT_AUTHOR_EMAIL": "netbench@localhost",
               "GIT_COMMITTER_NAME": "podman-netbench", "GIT_COMMITTER_EMAIL": "netbench@localhost",
               "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        args = ["commit-tree", tree, "-F", "-"] + (["-p", parent] if parent else [])
        commit = self.git(*args, input_text=message, env=who).stdout.strip()
        # Compare-and-swap: fails rather than lose a snapshot another writer appended.
        self.git("update-ref", f"refs/heads/{self.branch}", commit, parent or ZERO)
        tag = self.free_tag(snapshot)
        self.git("tag", tag, commit)
        return SnapshotCommit(commit, tag, first_measured.astimezone(timezone.utc), snapshot)

    def free_tag(self, snapshot: Snapshot) -> str:
        """The tag a snapshot's commit gets: its label, or with its key when that is taken."""
        tag = tag_name(snapshot.label)
        if self.git("rev-parse", "--verify", "--quiet", f"refs/tags/{tag}", check=False).returncode == 0:
            tag = f"{tag}-{snapshot.key[:8]}"
        return tag

    def tags_of(self, commit: str) -> list[str]:
        out = self.git("for-each-ref", f"--points-at={commit}", "--format=%(refname)", "refs/tags").stdout
        return [line for line in out.splitlines() if line]

    def replay(self, commit: str, parent: str | None) -> str:
        """The same snapshot (tree, message, dates) as a new commit on ``parent``: how a snapshot
        recorded here moves after the snapshots of a shared history. Returns the new commit."""
        fields_ = self.git("show", "-s", "--format=%T%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B",
                            commit).stdout.split("\0", 7)
        tree, an, ae, at, cn, ce, ct, message = fields_
        who = {"GIT_AUTHOR_NAME": an, "GIT_AUTHOR_EMAIL": ae, "GIT_AUTHOR_DATE": f"@{at} +0000",
               "GIT_COMMITTER_NAME": cn, "GIT_COMMITTER_EMAIL": ce, "GIT_COMMITTER_DATE": f"@{ct} +0000"}
        args = ["commit-tree", tree, "-F", "-"] + (["-p", parent] if parent else [])
        return self.git(*args, input_text=message.rstrip("\n") + "\n", env=who).stdout.strip()

    def find_or_add(self, snapshot: Snapshot, measured: datetime) -> tuple[SnapshotCommit, bool]:
        found = self.find(snapshot)
        if found is not None:
            return found, False
        return self.add(snapshot, measured), True
