"""The client host as another computer, reached with OpenSSH (``run --client-host``).

One SSH call sets it up: it checks the tools the run needs there and, only when none is
missing, copies the suite's workers into a new directory and reports their checksums and
the machine's facts. Each client then runs in one SSH call, bounded twice: by coreutils
``timeout`` there, so nothing outlives its trial on the client host even when the
connection drops, and by the local call's own timeout. The directory is recorded in the run
state as soon as it exists and removed at the end (after a SIGKILL, by the next run).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .. import procs
from ..errors import CommandTimeout, MeasurementError, SetupError
from . import ClientHost
from .machine import MIN_PYTHON, SCRIPT
from .sshcmd import CONNECT_TIMEOUT, SshOptions, explain

#: Seconds the local side waits beyond the remote bound: the connection itself.
SSH_SLACK = 2 * CONNECT_TIMEOUT
#: The whole set-up call (connect, check, copy) and the clean-up call.
PREPARE_TIMEOUT = 60.0
CLEANUP_TIMEOUT = 30.0
#: Seconds coreutils ``timeout`` waits after its SIGTERM before SIGKILL, there.
KILL_AFTER = 5
#: Exit status of coreutils ``timeout`` when it stopped the command.
TIMED_OUT = 124
#: What the set-up there makes (tempfile.mkdtemp, prefix podman-netbench-): nothing else is
#: ever removed.
REMOTE_DIR = re.compile(r"/[A-Za-z0-9._/-]*/podman-netbench-[A-Za-z0-9_]+")
#: Tools every client host needs besides python3 (which runs the set-up itself).
ALWAYS_NEEDED = {"timeout": "to bound every client there (coreutils)"}
#: How a worker runs there, where it differs: the client host has no iperf3 Python binding,
#: so the iperf3 client runs the iperf3 program (the same libiperf, the same JSON).
WORKER_FLAGS: dict[str, tuple[str, ...]] = {"iperf_client.py": ("--program",)}


@dataclass(frozen=True)
class Prepared:
    """What the set-up call made and found there."""

    directory: str
    sha256: dict[str, str]
    facts: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, Any] = field(default_factory=dict)


def parse_report(text: str, url: str, needed: dict[str, str]) -> dict[str, Any]:
    """The script's report from there (pure), or a SetupError naming, in one line, every tool
    missing there and what it is for, or a Python too old for the workers."""
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        report = json.loads(lines[-1]) if lines else None
    except ValueError:
        report = None
    if not isinstance(report, dict) or not isinstance(report.get("facts"), dict):
        raise SetupError(f"{url}: the set-up there gave no report ({(lines[-1] if lines else 'no output')[:120]})")
    if report.get("too_old"):
        version = report["facts"].get("python", "?")
        raise SetupError(f"{url}: python3 there is {version}; the suite's workers need "
                         f"{'.'.join(map(str, MIN_PYTHON))} or later")
    missing = [str(t) for t in report.get("missing") or []]
    if missing:
        raise SetupError(f"{url} lacks " + ", ".join(f"{t} ({needed.get(t, 'needed')})" for t in missing)
                         + ": install it there, or leave out what needs it")
    return report


def parse_prepared(text: str, url: str, needed: dict[str, str]) -> Prepared:
    """What ``prepare`` made there (pure): the directory, the copies' checksums, the facts."""
    report = parse_report(text, url, needed)
    directory = report.get("directory")
    if not isinstance(directory, str) or not REMOTE_DIR.fullmatch(directory):
        raise SetupError(f"{url}: the set-up there made no directory the suite recognises ({directory!r})")
    digests = report.get("sha256") if isinstance(report.get("sha256"), dict) else {}
    return Prepared(directory, {str(k): str(v) for k, v in digests.items()}, report["facts"],
                    report.get("versions") or {})


def differing(prepared: Prepared, expected: dict[str, str]) -> list[str]:
    """Workers whose copy there is not byte for byte this suite's (pure)."""
    return sorted(name for name, digest in expected.items() if prepared.sha256.get(name) != digest)


class SshClient(ClientHost):
    """Clients on another computer: as the SSH user, with its ``python3``, from the run's
    directory there."""

    def __init__(self, options: SshOptions, prepared: Prepared) -> None:
        self.options = options
        self.prepared = prepared

    @property
    def url(self) -> str:
        return self.options.target.url

    def worker_argv(self, worker: str, args: list[str], timeout: float) -> list[str]:
        remote = ["timeout", "-k", str(KILL_AFTER), str(math.ceil(timeout)), "python3", "-I",
                  f"{self.prepared.directory}/{worker}", *WORKER_FLAGS.get(worker, ()), *args]
        return self.options.argv(remote)

    def run_worker(self, worker: str, args: list[str], timeout: float) -> procs.ProcessResult:
        argv = self.worker_argv(worker, args, timeout)
        try:
            result = procs.run(argv, timeout=timeout + KILL_AFTER + SSH_SLACK, check=False)
        except CommandTimeout:
            raise MeasurementError(f"{self.url}: no answer from the client within {timeout + KILL_AFTER + SSH_SLACK:g} s "
                                   "(remote timeout; the connection was given up)") from None
        if result.returncode == TIMED_OUT:
            raise MeasurementError(f"{self.url}: the client ({worker}) did not finish within {math.ceil(timeout)} s "
                                   "there and was stopped (remote timeout)")
        if result.returncode in (255, 126, 127):
            raise MeasurementError(explain(self.url, result.returncode, result.stderr))
        return result

    def record(self) -> dict[str, Any]:
        versions = {}
        for tool, raw in self.prepared.versions.items():
            out = raw.get("out") if isinstance(raw, dict) else None
            versions[tool] = out.splitlines()[0].strip() if isinstance(out, str) and out.strip() else None
        return {"kind": "ssh", **self.options.to_json(), "workers": {
            "directory": self.prepared.directory, "copied": sorted(self.prepared.sha256),
            "checked": "sha256 of every copy there matches this suite's"},
            "python": self.prepared.facts.get("python"), "versions": versions,
            "iperf3_client": "the iperf3 program (-c --json): no Python binding there"}


def _script(options: SshOptions, mode: str, toward: str, tools: dict[str, str],
            files: dict[str, str] | None = None) -> str:
    """Run the facts script there; its output, or a SetupError in one line."""
    url = options.target.url
    argv = options.argv(["python3", "-I", "-c", SCRIPT, mode, toward, ",".join(sorted(tools))])
    try:
        result = procs.run(argv, timeout=PREPARE_TIMEOUT, check=False,
                           input_text=json.dumps(files) if files is not None else None)
    except CommandTimeout:
        raise SetupError(f"{url}: no answer within {PREPARE_TIMEOUT:g} s (remote timeout)") from None
    if result.returncode != 0:
        raise SetupError(explain(url, result.returncode, result.stderr))
    return result.stdout


def check(options: SshOptions, toward: str, needed: dict[str, str]) -> dict[str, Any]:
    """Before anything is built here: can ssh get in, and has the client host every tool the
    run needs? Makes nothing there; a SetupError in one line when not."""
    tools = {**ALWAYS_NEEDED, **needed}
    return parse_report(_script(options, "check", toward, tools), options.target.url, tools)


def prepare(options: SshOptions, toward: str, needed: dict[str, str], files: dict[str, str],
            expected: dict[str, str]) -> Prepared:
    """Check the tools there and copy the workers, in one call; a SetupError (one line) when
    ssh cannot get in or a tool is missing, and then nothing was made there."""
    tools = {**ALWAYS_NEEDED, **needed}
    prepared = parse_prepared(_script(options, "prepare", toward, tools, files), options.target.url, tools)
    wrong = differing(prepared, expected)
    if wrong:
        problems = remove(options, prepared.directory)
        raise SetupError(f"{options.target.url}: the workers copied there differ from this suite's ({', '.join(wrong)})"
                         + (f"; {'; '.join(problems)}" if problems else ""))
    return prepared


def remove(options: SshOptions, directory: str) -> list[str]:
    """Remove the run's directory there; returns what went wrong."""
    if not REMOTE_DIR.fullmatch(directory):
        return [f"{options.target.url}: not removing {directory!r}: not a directory the suite made"]
    try:
        result = procs.run(options.argv(["rm", "-rf", "--", directory]), timeout=CLEANUP_TIMEOUT, check=False)
    except CommandTimeout:
        return [f"{options.target.url}: removing {directory} there took longer than {CLEANUP_TIMEOUT:g} s"]
    if result.returncode != 0:
        return [f"removing {directory}: {explain(options.target.url, result.returncode, result.stderr)}"]
    return []


def state_entry(options: SshOptions, directory: str) -> dict[str, Any]:
    """What the run state records, so that the next run can remove it after a SIGKILL."""
    return {"url": options.target.url, "user": options.target.user, "host": options.target.host,
            "port": options.target.port, "identity": options.identity, "known_hosts": options.known_hosts,
            "directory": directory}


def remove_entry(entry: dict[str, Any]) -> list[str]:
    """Run-state teardown of a directory on a client host."""
    from .sshcmd import SshTarget

    target = SshTarget(str(entry["user"]), str(entry["host"]), int(entry["port"]))
    options = SshOptions(target, entry.get("identity"), entry.get("known_hosts"))
    return remove(options, str(entry["directory"]))
