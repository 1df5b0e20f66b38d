"""Integration tests run the real components in the real lab: they need root and the
set-up (scripts/run-tests.sh does both). After every test nothing of the suite may remain:
no namespace, no process of the benchmark user, no container, no run state."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from bench_runner.lab import hosts as lab
from bench_runner import procs
from bench_runner.paths import BENCH_USER, RUN_DIR, VENV_PYTHON
from bench_runner.providers.podman import container_names
from bench_runner.lab.runstate import podman_runtime
from bench_runner.lab.user import BenchUser

REPO = Path(__file__).resolve().parents[2]


def _setup_problem() -> str | None:
    if os.geteuid() != 0:
        return "integration tests need root (they build network namespaces)"
    if not VENV_PYTHON.exists():
        return "the set-up has not run (scripts/setup.sh)"
    try:
        BenchUser.lookup(BENCH_USER)
    except Exception as exc:  # noqa: BLE001
        return str(exc)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problem = _setup_problem()
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
            if problem:
                item.add_marker(pytest.mark.skip(reason=problem))


def user_processes(user: BenchUser) -> list[str]:
    """Live (non-zombie) processes of the benchmark user or its subordinate ids."""
    from bench_runner.lab.user import subordinate_range

    start, count = subordinate_range(user.name, "/etc/subuid") or (0, 0)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            owner = os.stat(f"/proc/{entry}").st_uid
        except OSError:
            continue
        if (owner == user.uid or start <= owner < start + count) and not procs.is_zombie(int(entry)):
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                cmd = "?"
            found.append(f"{entry} {cmd}")
    return found


def stack_cgroups() -> list[str]:
    """Cgroups of booted stacks (a stack that was not powered off keeps its own)."""
    from bench_runner.stacks.boot import CGROUP_PREFIX, cgroup2_root

    root = cgroup2_root()
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith(CGROUP_PREFIX))


def leftovers() -> list[str]:
    user = BenchUser.lookup(BENCH_USER)
    problems = [f"namespace {ns}" for ns in lab.existing_lab_namespaces()]
    problems += [f"stack cgroup {name}" for name in stack_cgroups()]
    problems += [f"process {p}" for p in user_processes(user)]
    runs = RUN_DIR / "runs"
    if runs.is_dir():
        problems += [f"run state {p.name}" for p in runs.glob("*.json")]
    with podman_runtime(user):
        problems += [f"container {name}" for name in container_names(user)]
    return problems


@pytest.fixture(scope="session", autouse=True)
def stale_state_removed_first() -> None:
    """A run killed before the tests started (SIGKILL, a machine snapshot taken mid-run) left
    state that the suite itself is designed to clean: do so once, as the next run would, and
    say what went, so every test starts from a clean machine."""
    if _setup_problem():
        return
    from bench_runner.lab.runstate import RunLock
    from bench_runner.run.cleanup import cleanup_stale

    removed: list[str] = []
    with RunLock():
        problems = cleanup_stale(log=removed.append)
    for line in removed + [f"problem: {p}" for p in problems]:
        print(f"before the tests: {line}")
    procs.reap_orphans()


@pytest.fixture(autouse=True)
def nothing_left_behind(stale_state_removed_first: None, request: pytest.FixtureRequest) -> Iterator[None]:
    if _setup_problem():
        yield
        return
    before = leftovers()
    assert before == [], f"the machine held suite state before the test: {before}"
    yield
    procs.reap_orphans()
    after = leftovers()
    assert after == [], f"left behind: {after}"


@pytest.fixture(scope="session")
def trixie() -> str:
    """The Debian 13 release stack (Podman 5, pasta 2025), built from the package registry the
    first time (about a minute) and only checked afterwards, exactly as a user builds it."""
    if _setup_problem():
        pytest.skip(_setup_problem())
    result = cli("stack", "build", "trixie", timeout=1800)
    assert result.returncode == 0, result.stderr
    return "trixie"


def cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_PYTHON), "-m", "bench_runner", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def podman_stack(method: str) -> str:
    """Where the podman provider's case for a method runs: this machine's Podman when it can
    run the method, else the trixie stack's Podman 5 (Podman 4.3.1 has no pasta), so no
    Podman case is skipped for want of a release."""
    from bench_runner.stacks import detect as stack
    from bench_runner.providers import make

    provider = make("podman", podman_version=stack.detect().podman)
    return "host" if provider.check(method).available else "trixie"


@contextlib.contextmanager
def trial_runner(provider_id: str, stack_name: str, tmp_path: Path, request: pytest.FixtureRequest,
                 **make_args: Any) -> Iterator[Any]:
    """A TrialRunner and its session for one provider in one stack (booted when not host)."""
    from bench_runner.stacks import detect as stack
    from bench_runner.run.labsession import open_sessions
    from bench_runner.providers import choose_in_stack, make
    from bench_runner.results.document import RunDocument
    from bench_runner.stacks import store
    from bench_runner.run.trials import TrialRunner

    if stack_name == "host":
        provider = make(provider_id, podman_version=stack.detect().podman, **make_args)
    else:
        request.getfixturevalue(stack_name)  # built (or checked) first
        built = store.find(stack_name)
        provider = choose_in_stack(stack_name, built.key_versions()["podman"], built.root).provider
    with open_sessions((stack_name,)) as sessions:
        session = sessions[stack_name]
        document = RunDocument(run={}, stack={}, lab={}, provider={"id": provider_id, "reason": "test"})
        yield TrialRunner(document, tmp_path / "unused.json", session, provider), session
