"""The files a shared history carries, as a git tree and as files on disk.

Only a history's own files travel: ``benchmarks.json``, the ledger, and for each machine its
``machine.json`` and asv result files. Nothing else of ``results/`` does (the site, the stack
history, which travels as commits, a pending journal), and nothing else of a fetched tree is
taken: an entry that is not a regular file at one of those paths (a symlink, a submodule, a
file elsewhere) is left out with a note, so a shared tree cannot make this machine read or
write outside its history.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .config import AsvConfig
from .record import LEDGER
from .snapshots import StackRepo

BENCHMARKS = "benchmarks.json"
MACHINE_JSON = "machine.json"
_MACHINE_DIR = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_PATH = re.compile(rf"^(?:{re.escape(BENCHMARKS)}|{re.escape(LEDGER)}|{_MACHINE_DIR}/[A-Za-z0-9][A-Za-z0-9._+-]*\.json)$")


def carried(conf: AsvConfig, path: str) -> bool:
    """A path (relative to results/) that a shared history carries."""
    if not _PATH.match(path):
        return False
    top = path.split("/", 1)[0]
    # Never the site's or the stack history's directory, whatever they are called.
    return all(top != _relative_top(conf, d) for d in (conf.html_dir, conf.stack_repo))


def _relative_top(conf: AsvConfig, directory: Path) -> str | None:
    try:
        return directory.resolve().relative_to(conf.results_dir.resolve()).parts[0]
    except (ValueError, IndexError):
        return None


def local_files(conf: AsvConfig) -> dict[str, Path]:
    """This history's carried files (relative path -> file), machines with a machine.json only."""
    found: dict[str, Path] = {}
    root = conf.results_dir
    for name in (BENCHMARKS, LEDGER):
        if (root / name).is_file():
            found[name] = root / name
    for machine_json in sorted(root.glob(f"*/{MACHINE_JSON}")):
        for path in sorted(machine_json.parent.glob("*.json")):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and not path.is_symlink() and carried(conf, rel):
                found[rel] = path
    return found


@dataclass
class Extracted:
    files: dict[str, Path] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def extract(conf: AsvConfig, repo: StackRepo, commit: str, dest: Path) -> Extracted:
    """The carried files of a commit's tree, written under ``dest`` (a temporary directory)."""
    out = Extracted()
    listing = repo.git("ls-tree", "-r", "-z", "--full-tree", commit).stdout
    wanted: list[str] = []
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        mode, kind, _ = meta.split(" ")
        if kind == "blob" and mode in ("100644", "100755") and carried(conf, path):
            wanted.append(path)
        else:
            out.ignored.append(path)
    if wanted:
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="netbench-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), "GIT_WORK_TREE": str(dest)}
            repo.git("read-tree", commit, env=env)
            repo.git("checkout-index", "-z", "--stdin", input_text="\0".join(wanted) + "\0", env=env)
    out.files = {path: dest / path for path in wanted}
    missing = [p for p, f in out.files.items() if not f.is_file() or f.is_symlink()]
    if missing:
        raise OSError(f"git did not write {missing[0]} of {commit[:12]}")
    return out


def write_tree(repo: StackRepo, files: dict[str, Path]) -> str:
    """A tree of the given files (relative path -> file on disk) in the repository; its hash."""
    ordered = sorted(files)
    hashes = repo.git("hash-object", "-w", "--no-filters", "--stdin-paths",
                       input_text="".join(f"{os.fspath(files[p])}\n" for p in ordered)).stdout.split()
    if len(hashes) != len(ordered):
        raise OSError("git hash-object did not hash every file")
    with tempfile.TemporaryDirectory(prefix="netbench-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        repo.git("update-index", "--add", "-z", "--index-info", env=env,
                  input_text="".join(f"100644 {h}\t{p}\0" for h, p in zip(hashes, ordered)))
        return repo.git("write-tree", env=env).stdout.strip()


def commit_tree(repo: StackRepo, tree: str, parent: str | None, message: str) -> str:
    who = {"GIT_AUTHOR_NAME": "podman-netbench", "GIT_AUTHOR_EMAIL": "netbench@localhost",
           "GIT_COMMITTER_NAME": "podman-netbench", "GIT_COMMITTER_EMAIL": "netbench@localhost"}
    args = ["commit-tree", tree, "-F", "-"] + (["-p", parent] if parent else [])
    return repo.git(*args, input_text=message, env=who).stdout.strip()
