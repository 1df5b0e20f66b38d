"""The line between root and the benchmark user, attacked as the user would: a symlink swapped
in mid-way, a forged pid file naming a root process, a FIFO or /dev/zero where a pid file
should be. Each test reproduces the attack against the code it guards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench_runner import procs
from bench_runner.lab import untrusted
from bench_runner.errors import MeasurementError
from bench_runner.providers.base import Session
from bench_runner.lab.user import BenchUser

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the attacks are on root: run as root")


def _user() -> BenchUser:
    try:
        return BenchUser.lookup()
    except Exception:  # noqa: BLE001
        pytest.skip("the benchmark user does not exist (run scripts/setup.sh)")


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "root-owned-victim"
    victim.write_text("root's\n")
    os.chmod(victim, 0o600)
    return victim


def test_a_directory_swapped_for_a_symlink_is_not_handed_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 2: mkdir, then chown by path, in a directory the user owns. The user wins
    the race: the new directory becomes a symlink to a root file before the chown."""
    user = _user()
    victim = _victim(tmp_path)
    user_dir = tmp_path / "user"
    user_dir.mkdir()
    os.chown(user_dir, user.uid, user.gid)
    real_mkdir = os.mkdir

    def racing_mkdir(path, mode=0o777, *, dir_fd=None):  # type: ignore[no-untyped-def]
        real_mkdir(path, mode, dir_fd=dir_fd) if dir_fd is not None else real_mkdir(path, mode)
        where = Path(path) if dir_fd is None else user_dir / path
        os.rmdir(where)
        os.symlink(victim, where)  # what the user does in its own directory

    monkeypatch.setattr(os, "mkdir", racing_mkdir)
    session = Session(lab=None, user=user, state=None, user_dir=user_dir, worker_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(MeasurementError):
        session.private_dir("pasta1234")
    monkeypatch.undo()
    assert os.stat(victim).st_uid == 0 and victim.read_text() == "root's\n"


def test_a_forged_pid_file_naming_a_root_process_is_not_acted_on(tmp_path: Path) -> None:
    """Finding 3: root stops the pid a user-written file names. Forge it: a root process
    named catatonit (what the old check looked at) in Podman's pause.pid."""
    from bench_runner.lab.runstate import stop_pause_process

    _user()
    fake = tmp_path / "catatonit"
    shutil.copy("/bin/sleep", fake)
    root_process = subprocess.Popen([str(fake), "60"])
    try:
        time.sleep(0.2)
        runtime = tmp_path / "runtime"
        (runtime / "libpod" / "tmp").mkdir(parents=True)
        (runtime / "libpod" / "tmp" / "pause.pid").write_text(f"{root_process.pid}\n")
        problems = stop_pause_process(runtime)
        assert root_process.poll() is None, "a root process was stopped on the word of a user's file"
        assert problems and "not a process of" in problems[0]
        with pytest.raises(MeasurementError, match="not a process of"):
            untrusted.check_owned(root_process.pid, BenchUser.lookup(), "pasta's pid file")
    finally:
        root_process.kill()
        root_process.wait()


def test_the_benchmark_users_own_process_is_accepted() -> None:
    user = _user()
    child = subprocess.Popen(user.argv(["sleep", "30"]))
    try:
        procs.wait_until(lambda: untrusted.process_uids(child.pid) == (user.uid,) * 4, timeout=10, what="setpriv")
        assert untrusted.owned_by(child.pid, user)
        assert not untrusted.owned_by(os.getpid(), user)
    finally:
        child.kill()
        child.wait()


def test_a_fifo_or_a_device_where_a_pid_file_should_be_does_not_hang_root(tmp_path: Path) -> None:
    """Finding 4: a FIFO would block root's read while signals are masked in teardown, and
    /dev/zero would never end. Both are refused at once; so are symlinks and big files."""
    fifo = tmp_path / "pause.pid"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(MeasurementError, match="not a regular file"):
        untrusted.read_small(fifo)
    assert time.monotonic() - started < 2
    link = tmp_path / "zero"
    link.symlink_to("/dev/zero")
    with pytest.raises(MeasurementError, match="cannot be read safely"):
        untrusted.read_small(link)
    big = tmp_path / "big"
    big.write_text("1" * 10000)
    with pytest.raises(MeasurementError, match="larger than"):
        untrusted.read_pid(big)
    (tmp_path / "ok").write_text("1234\n")
    assert untrusted.read_pid(tmp_path / "ok") == 1234


def test_teardown_is_not_held_up_by_a_fifo_pause_file(tmp_path: Path) -> None:

    _user()
    (tmp_path / "libpod" / "tmp").mkdir(parents=True)
    os.mkfifo(tmp_path / "libpod" / "tmp" / "pause.pid")
    done = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(Path.cwd())!r}); "
                           "from bench_runner.lab.runstate import stop_pause_process; from pathlib import Path; "
                           f"print(stop_pause_process(Path({str(tmp_path)!r})))"], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0 and "not a regular file" in done.stdout, done.stderr


def test_only_the_suites_own_namespace_names_are_claimed() -> None:
    """Finding 9: cleanup removed any netbench-*-srv|cli namespace; someone else's namespace
    that merely starts with the prefix is now left alone."""
    from bench_runner.lab.hosts import names_for, tag_of_namespace

    server, client, _, _ = names_for("0a1b2c3d")
    assert tag_of_namespace(server) == tag_of_namespace(client) == "0a1b2c3d"
    for foreign in ("netbench-mylab-srv", "netbench-0a1b2c3d-x-srv", "netbench--cli", "netbench-0A1B2C3D-srv",
                    "netbench-0a1b2c3d-web"):
        assert tag_of_namespace(foreign) is None, foreign


def test_a_reaped_leaders_group_is_signalled_only_while_it_can_still_be_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 9: stop() signalled the process group after its leader was reaped; the group
    id is then free for reuse once no member is left. A member still alive keeps the id
    ours (it is killed); a process now holding the leader's pid means it may not be."""
    spawned = procs.Spawned(["sh", "-c", "sleep 30 & echo started; exit 0"])
    try:
        procs.wait_until(lambda: spawned.poll() is not None, timeout=10, what="the leader to exit")
        orphan = [p for p in os.listdir("/proc") if p.isdigit() and _pgid(int(p)) == spawned.pid]
        assert orphan, "the group's sleep should still run"
        spawned.stop(grace=1.0)
        procs.wait_until(lambda: not any(_alive_in_group(int(p), spawned.pid) for p in orphan),
                         timeout=5, what="the orphan to be killed")
    finally:
        spawned.close()
    sent: list[int] = []
    monkeypatch.setattr(procs, "_kill_group", lambda pgid, sig: sent.append(sig))
    reused = procs.Spawned(["true"])
    reused.wait(timeout=10)
    monkeypatch.setattr(os.path, "exists", lambda path: True)  # the leader's pid has a new owner
    reused.stop(grace=0.1)
    monkeypatch.undo()
    reused.close()
    assert sent == []


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _pgid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    try:
        return int(fields[2]) if fields else None
    except (ValueError, IndexError):
        return None


def _alive_in_group(pid: int, pgid: int) -> bool:
    """A killed orphan may stay a zombie (with its group id) where PID 1 does not reap, as in
    CI containers; a zombie is dead for this purpose."""
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] not in ("Z", "X") and _pgid(pid) == pgid
