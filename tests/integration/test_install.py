"""A maintainer who receives a results document installs the suite with ``pip install .``
into a new venv, without the set-up, and renders and compares it as an ordinary user.

The dependency wheels are downloaded from PyPI once, into a cache under the suite's state
directory keyed by pyproject.toml and requirements.txt, so later runs install offline.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Iterator

import pytest

from bench_runner import __version__, procs
from bench_runner.paths import STATE_DIR

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "tests" / "data" / "results-bare-full.json"
BASELINE = REPO / "tests" / "data" / "results-bare-quick.json"
CACHE = STATE_DIR / "cache"


def _wheelhouse_key() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "requirements.txt"):
        digest.update((REPO / name).read_bytes())
    return digest.hexdigest()[:16]


def wheelhouse() -> Path:
    """Wheels of the build requirements and the runtime dependencies, at the versions
    requirements.txt pins; downloaded once, then reused (a set for an older pyproject.toml or
    requirements.txt is removed)."""
    target = CACHE / f"wheels-{_wheelhouse_key()}"
    if target.is_dir():
        return target
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    wanted = [*project["build-system"]["requires"], *project["project"]["dependencies"]]
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".wheels-", dir=CACHE))
    try:
        done = procs.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
                          "--only-binary", ":all:", "-c", str(REPO / "requirements.txt"), "-d", str(partial),
                          *wanted], timeout=400, check=False)
        assert done.returncode == 0, f"pip download (PyPI) failed: {done.stderr[-2000:]}"
        try:
            partial.rename(target)
        except OSError:  # another test run filled it meanwhile
            assert target.is_dir()
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    for stale in CACHE.glob("wheels-*"):
        if stale != target:
            shutil.rmtree(stale, ignore_errors=True)
    return target


@pytest.fixture
def public_tmp() -> Iterator[Path]:
    """A temporary directory an unprivileged user can read (pytest's own is root's only)."""
    path = Path(tempfile.mkdtemp(prefix="netbench-install-"))
    try:
        path.chmod(0o755)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _source_copy(into: Path) -> Path:
    """Only what the package is built from, so the build leaves nothing in the checkout and a
    file the package needs but does not declare is missed here as it would be in a wheel."""
    src = into / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "bench_runner", src / "bench_runner", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def test_installed_copy_reports_and_compares_without_the_setup(public_tmp: Path) -> None:
    wheels = wheelhouse()
    venv = public_tmp / "venv"
    made = procs.run([sys.executable, "-m", "venv", str(venv)], timeout=120, check=False)
    assert made.returncode == 0, made.stderr
    installed = procs.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                           "--quiet", "--no-index", "--find-links", str(wheels), str(_source_copy(public_tmp))],
                          timeout=400, check=False)
    assert installed.returncode == 0, installed.stderr[-2000:]

    work = public_tmp / "work"
    (work / "home").mkdir(parents=True)
    for document in (DOCUMENT, BASELINE):
        shutil.copy2(document, work / document.name)
    nobody = pwd.getpwnam("nobody")
    os.chown(work, nobody.pw_uid, nobody.pw_gid)
    os.chown(work / "home", nobody.pw_uid, nobody.pw_gid)
    # An ordinary user, with no set-up in sight: no state directory, no benchmark user.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work / "home"), "NETBENCH_STATE_DIR": str(public_tmp / "no-state"),
           "NETBENCH_RUN_DIR": str(public_tmp / "no-run"), "NETBENCH_USER": "no-such-user"}
    as_user = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups", "--"]
    script = str(venv / "bin" / "podman-netbench")

    def cli(*args: str) -> procs.ProcessResult:
        return procs.run([*as_user, script, *args], timeout=300, check=False, env=env, cwd=str(work))

    report = cli("report", DOCUMENT.name, "--output", "report.md")
    assert report.returncode == 0, report.stderr
    text = (work / "report.md").read_text()
    assert "| rank " in text and "| pasta " in text, text[:2000]
    assert list(work.glob("report-*.png")), "the report's plots were not written"

    compared = cli("compare", BASELINE.name, DOCUMENT.name)
    assert compared.returncode == 0, compared.stderr
    assert "B/A" in compared.stdout and "slirp4netns-rootlesskit" in compared.stdout


    version = cli("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"podman-netbench {__version__} (commit unknown)\n"  # no git checkout here
