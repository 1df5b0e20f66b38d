"""The shared history's git transport: where it is, what it holds, fetching from and pushing to it.

A shared history is any git repository the team can reach (a local path, or a URL git knows:
``ssh://``, ``https://``, ``file://``, ``host:path``). It holds two branches, ``netbench-stacks``
(the stack snapshots, exactly the commits of ``results/stack-history.git``) and
``netbench-results`` (asv's result files, the ledger and ``benchmarks.json``, one commit per
push). Everything goes through the local stack-history repository, which keeps what was fetched.

git never prompts here: no terminal (a new session, stdin closed), ``GIT_TERMINAL_PROMPT=0``,
no askpass program, and ssh in batch mode unless the user set ``GIT_SSH_COMMAND``; a password
git would ask for is an error instead. The user's own git configuration is kept for these
commands (credential helpers, ``url.*.insteadOf``, ``safe.directory``), hooks are not.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .. import procs
from ..errors import CommandTimeout, UsageError

#: Fetching or pushing a history of a few thousand small files; a remote that does not answer
#: within this is unreachable.
NETWORK_TIMEOUT = 120
STACKS_HEAD = "refs/heads/netbench-stacks"
RESULTS_HEAD = "refs/heads/netbench-results"
#: Where fetched branches are kept in the local stack-history repository (asv reads only its
#: own branch and the tags, so these refs are invisible to it).
FETCHED = {STACKS_HEAD: "refs/netbench/shared/stacks", RESULTS_HEAD: "refs/netbench/shared/results"}
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP = re.compile(r"^[^/:]+:")  # user@host:path, git's scp-like syntax (a colon before any slash)


def location(text: str) -> str:
    """A URL as given; a local path made absolute (it is remembered, and must not depend on the
    directory a later command starts in), which must exist."""
    text = text.strip()
    if not text or text.startswith("-"):
        raise UsageError(f"{text!r} is not a shared history: give a path or URL of a git repository")
    if _URL.match(text) or _SCP.match(text):
        return text
    path = Path(text).expanduser().resolve()
    if not path.is_dir():
        raise UsageError(f"{path}: no such directory; a shared history is a git repository "
                         f"(make one with: git init --bare {path})")
    return str(path)


def key(where: str) -> str:
    """A short name for a shared history, for the local refs that remember it."""
    return hashlib.sha256(where.encode()).hexdigest()[:16]


def _env(git_dir: Path) -> dict[str, str]:
    env = {**os.environ, "GIT_DIR": str(git_dir), "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0",
           "GIT_ASKPASS": "", "SSH_ASKPASS": "", "SSH_ASKPASS_REQUIRE": "never"}
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
    return env


def _why(stderr: str) -> str:
    """git's reason: its first fatal/error line (what follows is advice), else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:", "remote: error:", "remote: fatal:")):
            return line
    return lines[-1] if lines else "(no error output)"


def _git(git_dir: Path, where: str, *args: str, input_text: str | None = None) -> procs.ProcessResult:
    argv = ["git", "-c", "core.hooksPath=/dev/null", *args]
    try:
        return procs.run(argv, timeout=NETWORK_TIMEOUT, env=_env(git_dir), check=False, input_text=input_text)
    except CommandTimeout:
        raise UsageError(f"{where}: the shared history did not answer within {NETWORK_TIMEOUT} s") from None


def heads(git_dir: Path, where: str) -> dict[str, str]:
    """The shared history's netbench branches (ref -> commit); an empty dict for a repository
    that has none yet. Anything that is not a git repository one can read is a UsageError."""
    done = _git(git_dir, where, "ls-remote", "--heads", where, STACKS_HEAD, RESULTS_HEAD)
    if done.returncode != 0:
        raise UsageError(f"{where}: not a git repository that can be read ({_why(done.stderr)})")
    found: dict[str, str] = {}
    for line in done.stdout.splitlines():
        commit, _, ref = line.partition("\t")
        if ref in (STACKS_HEAD, RESULTS_HEAD):
            found[ref] = commit.strip()
    if len(found) == 1:
        (only,) = found
        raise UsageError(f"{where}: has {only} without its other half: not a shared netbench history "
                         f"(it needs both {STACKS_HEAD} and {RESULTS_HEAD})")
    return found


def fetch(git_dir: Path, where: str, expected: Mapping[str, str]) -> None:
    """The shared branches into the local repository (under FETCHED), checked against what
    ``heads`` saw (a push in between is caught by the push that follows, not here)."""
    specs = [f"+{ref}:{FETCHED[ref]}" for ref in expected]
    done = _git(git_dir, where, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", where, *specs)
    if done.returncode != 0:
        raise UsageError(f"{where}: fetching the shared history failed ({_why(done.stderr)})")


@dataclass(frozen=True)
class Pushed:
    ok: bool
    reason: str  # git's reason when refused


def push(git_dir: Path, where: str, updates: Mapping[str, str]) -> Pushed:
    """Both branches at once or neither (``--atomic``); fast-forwards only, so a push that lost
    a race to another machine's is refused and nothing of it lands."""
    specs = [f"{commit}:{ref}" for ref, commit in updates.items()]
    done = _git(git_dir, where, "push", "--quiet", "--atomic", "--porcelain", where, *specs)
    if done.returncode == 0:
        return Pushed(True, "")
    rejected = [line for line in done.stdout.splitlines() if line.startswith("!")]
    return Pushed(False, rejected[0] if rejected else _why(done.stderr))
