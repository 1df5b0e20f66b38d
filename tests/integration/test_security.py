"""The set-up and doctor against the benchmark user, for real: a symlink the user planted
where root used to write, a set-up started while a run holds the lab, and doctor's checks
changing nothing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from bench_runner.paths import VENV_PYTHON
from bench_runner.lab.runstate import RunLock
from bench_runner.lab.user import BenchUser
from tests.integration.conftest import REPO, cli

SETUP = REPO / "scripts" / "setup.sh"


def _as_user(user: BenchUser, script: str) -> None:
    subprocess.run(user.argv(["sh", "-c", script]), check=True, timeout=30)


def test_a_symlink_in_the_users_config_does_not_steer_root(tmp_path: Path) -> None:
    """Finding 1 (the issue's 'done when'): as the user, point containers.conf at a root-owned
    file; the set-up (which both README commands run) leaves that file exactly as it was."""
    user = BenchUser.lookup()
    victim_dir = Path(tempfile.mkdtemp(prefix="netbench-victim-", dir="/var/tmp"))
    victim = victim_dir / "shadow-like"
    victim.write_text("root:secret:1:0:99999:7:::\n")
    os.chmod(victim, 0o640)
    os.chmod(victim_dir, 0o755)
    before = (os.stat(victim).st_uid, os.stat(victim).st_gid, os.stat(victim).st_mode, victim.read_text())
    conf = f"{user.home}/.config/containers/containers.conf"
    try:
        _as_user(user, f'mkdir -p "$HOME/.config/containers" && rm -f "{conf}" && ln -s "{victim}" "{conf}"')
        result = subprocess.run([str(SETUP), "--quiet"], capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr
        after = (os.stat(victim).st_uid, os.stat(victim).st_gid, os.stat(victim).st_mode, victim.read_text())
        assert after == before
        # the user's own file was written instead, by the user, replacing the link
        assert not os.path.islink(conf) and os.stat(conf).st_uid == user.uid
        assert "[engine]" in Path(conf).read_text()
    finally:
        subprocess.run(["rm", "-rf", str(victim_dir)], check=True, timeout=30)


def test_the_set_up_waits_for_a_run_instead_of_pulling_the_lab_from_under_it() -> None:
    """Finding 6: a set-up started during a run used to stop the run's pause process and could
    rebuild the virtual environment under it. It now waits for the run lock, visibly."""
    with RunLock():
        result = subprocess.run(["timeout", "5", str(SETUP), "--quiet"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 124, result.stdout + result.stderr  # still waiting when stopped
    assert "a benchmark run is in progress" in result.stderr


def test_doctor_without_cleanup_changes_nothing() -> None:
    user = BenchUser.lookup()
    runtime = user.runtime_dir
    assert not runtime.exists()  # between tests nothing of a run is left
    result = cli("doctor", "--format", "json")
    assert result.returncode in (0, 2), result.stderr
    assert not runtime.exists(), "doctor made the user's runtime directory (and with it a pause process)"
    assert '"image": true' in result.stdout


def test_doctor_cleanup_waits_for_a_run_in_progress() -> None:
    with RunLock():
        result = subprocess.run(["timeout", "5", str(VENV_PYTHON), "-m", "bench_runner", "doctor", "--cleanup"],
                                cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 124, result.stdout + result.stderr  # still waiting when stopped
    assert "waiting up to 15 minutes" in result.stderr


def test_a_run_state_write_cut_short_is_swept(tmp_path: Path) -> None:
    """Finding 9: a crash between writing a run state's temporary file and renaming it left
    runs/TAG.tmp behind for good. The next clean-up removes it (and only those of dead runs)."""
    from bench_runner.paths import RUN_DIR

    left = RUN_DIR / "runs" / ".0badc0de.json.k3x9q2.tmp"
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_text("{")
    result = cli("doctor", "--cleanup")
    assert result.returncode in (0, 2), result.stderr
    assert not left.exists()


def test_the_image_archive_is_not_written_where_the_user_can_plant_a_file(tmp_path: Path) -> None:
    """Finding 5: the set-up wrote the image skeleton to "$(mktemp -d).tar", a name the user
    sees appear in /tmp and can claim first (the kernel's protected_symlinks stops a symlink
    there, but not a file of the user's own, which root then wrote into and chmodded). With
    the image gone, a user loop claims such names while the set-up rebuilds it: every file it
    planted stays empty, and the set-up still builds the image."""
    from bench_runner import procs
    from bench_runner.paths import IMAGE
    from bench_runner.lab.runstate import podman_runtime

    user = BenchUser.lookup()
    with podman_runtime(user):
        procs.run(user.argv(["podman", "rmi", "--ignore", IMAGE]), timeout=60)
    # Where the user records what it planted: its own directory, outside root's 0700 tmp_path.
    planted = Path(tempfile.mkdtemp(prefix="netbench-planted-"))
    os.chown(planted, user.uid, user.gid)
    attacker = subprocess.Popen(user.argv(["sh", "-c", f'end=$(( $(date +%s) + 60 )); while [ $(date +%s) -lt $end ]; do '
                                                        f'for d in /tmp/tmp.*; do [ -d "$d" ] && [ ! -e "$d.tar" ] && '
                                                        f': > "$d.tar" 2>/dev/null && echo "$d.tar" >> {planted}/list; '
                                                        f'done; sleep 0.005; done']), start_new_session=True)
    try:
        result = subprocess.run([str(SETUP), "--quiet"], capture_output=True, text=True, timeout=900)
    finally:
        os.killpg(attacker.pid, signal.SIGKILL)  # the loop and the sleep it may be in
        attacker.wait()
        procs.wait_until(lambda: not _group_alive(attacker.pid), timeout=10, what="the attacker's processes to end")
    names = (planted / "list").read_text().split() if (planted / "list").exists() else []
    try:
        assert result.returncode == 0, result.stderr
        assert "built container image" in result.stdout
        assert names, "the user never saw a temporary directory to claim (the test proves nothing)"
        assert all(os.path.getsize(n) == 0 for n in names), "root wrote into a file the user planted"
    finally:
        for name in names:
            Path(name).unlink(missing_ok=True)
        shutil.rmtree(planted, ignore_errors=True)


def _group_alive(pgid: int) -> bool:
    """A live (not zombie) process is still in the group."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
                return True
    return False
