"""Helper CPU of an outbound trial: read from the moment the helper's end of the connection is
first seen, only for a helper, and per GB of what the client moved."""

from __future__ import annotations

import subprocess
import sys

from bench_runner.methods.base import INHERITED, SERVER
from bench_runner.lab.observe import ProcessInfo
from bench_runner.results.document import Trial
from bench_runner.run.trials import CpuFromSighting, record_helper_cpu

#: Works 0.2 s of CPU and says it is ready, idles until told, then works 0.3 s and says so.
WORK_ON_INPUT = ("import sys, time\n"
                 "end = time.process_time() + 0.2\n"
                 "while time.process_time() < end: pass\n"
                 "print('ready', flush=True)\n"
                 "sys.stdin.readline()\n"
                 "end = time.process_time() + 0.3\n"
                 "while time.process_time() < end: pass\n"
                 "print('done', flush=True)\n"
                 "time.sleep(30)\n")


def _info(pid: int, kind: str) -> ProcessInfo:
    return ProcessInfo(pid, kind, f"/usr/bin/{kind}", (kind,), 1001, kind)


def _trial() -> Trial:
    return Trial(index=0, round=0, warmup=False, started_at="", seconds=0.0, status="ok")


def test_the_helper_is_watched_from_its_first_sighting() -> None:
    child = subprocess.Popen([sys.executable, "-c", WORK_ON_INPUT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline() == "ready\n"  # its first work is over: none of it may count
        enough = CpuFromSighting("pasta")
        assert enough([]) is False and enough.finish() == (None, False)
        assert enough([_info(child.pid, "pasta")]) is True
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline() == "done\n"
        used, at_end = enough.finish()
    finally:
        child.kill()
        child.wait(timeout=10)
    # the work after the sighting, not the 0.2 s before it
    assert at_end and used is not None and 0.29 <= used < 0.4


def test_only_the_expected_helper_is_watched_and_never_a_server() -> None:
    other = CpuFromSighting("slirp4netns")
    assert other([_info(1, "pasta")]) is True  # seen something: the trial checks who it was
    assert other.watch is None
    for carrier in (SERVER, INHERITED, None):
        enough = CpuFromSighting(carrier)
        enough([_info(1, "server:iperf3"), _info(1, str(carrier))])
        assert enough.watch is None and enough.finish() == (None, False)


def test_cpu_per_gb_is_of_the_bytes_moved() -> None:
    trial = _trial()
    record_helper_cpu(trial, 1.5, True, 3_000_000_000)
    assert trial.samples == {"helper_cpu_s_per_gb": 0.5}
    assert trial.observations == {"helper_cpu_s": 1.5}
    sampled = _trial()
    record_helper_cpu(sampled, 0.2, False, None)
    assert sampled.samples == {} and sampled.observations["helper_cpu_read"] == "last sample before the helper exited"
    nothing = _trial()
    record_helper_cpu(nothing, None, False, 10**9)
    assert nothing.samples == {} and nothing.observations == {}
