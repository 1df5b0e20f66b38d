"""Commands run as the benchmark user: unprivileged, clean environment, same pid."""

from __future__ import annotations

import os

from bench_runner import procs
from bench_runner.lab.user import BenchUser


def test_runs_unprivileged_with_a_clean_environment() -> None:
    user = BenchUser.lookup()
    env = {**os.environ, "SECRET_OF_ROOT": "x"}
    result = procs.run(user.argv(["sh", "-c", "id -u; echo ${SECRET_OF_ROOT:-unset}; echo $XDG_RUNTIME_DIR"]),
                       timeout=10, env=env)
    uid, secret, runtime = result.stdout.split()
    assert int(uid) == user.uid != 0
    assert secret == "unset"
    assert runtime == str(user.runtime_dir)


def test_socket_activation_variables_pass_and_the_pid_stays() -> None:
    user = BenchUser.lookup()
    env = {**os.environ, "LISTEN_FDS": "1", "LISTEN_PID": "1234", "SECRET_OF_ROOT": "x"}
    spawned = procs.Spawned(user.argv(["sh", "-c", "echo $$ $LISTEN_FDS $LISTEN_PID ${SECRET_OF_ROOT:-unset}"],
                                      pass_env=("LISTEN_FDS", "LISTEN_PID")), env=env)
    spawned.wait(10)
    out, _ = spawned.output()
    spawned.close()
    pid, fds, listen_pid, secret = out.split()
    assert int(pid) == spawned.pid, "every wrapper must exec, or LISTEN_PID would not match"
    assert (fds, listen_pid, secret) == ("1", "1234", "unset")
