"""Subprocesses: every call has a timeout, its return code and stderr are checked.

Two shapes: ``run`` for commands that finish (returns a ``ProcessResult``), and ``spawn``
for long-lived helpers and servers (returns a ``Spawned`` handle that can stop its whole
process group). Processes are always identified by pid *and* start time (``ProcRef``),
so a recycled pid is never signalled by mistake.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from .errors import CommandFailed, CommandTimeout, SetupError, last_line, program_of

#: Every command started here, and a failed one's output, at DEBUG: shown by run --verbose
#: (bench_runner.verbose), silent otherwise.
LOG = logging.getLogger("bench_runner.procs")
#: Lines of a failed command's output that --verbose shows.
LOG_TAIL = 20


#: Children this process still waits for through ``subprocess``; never reaped behind its back.
_WAITED: set[int] = set()


def become_subreaper() -> None:
    """Orphans of our helpers (conmon, a daemonised pasta, Podman's pause process) are
    re-parented to us instead of to PID 1, which on some machines never reaps them; we reap
    them in ``reap_orphans``, so not even a zombie is left behind."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def reap_orphans() -> int:
    """Reap exited children that no ``subprocess`` object waits for. Returns how many."""
    reaped = 0
    me = os.getpid()
    try:
        tasks = os.listdir(f"/proc/{me}/task")
    except OSError:
        return 0
    children: set[int] = set()
    for task in tasks:
        try:
            with open(f"/proc/{me}/task/{task}/children") as fh:
                children.update(int(p) for p in fh.read().split())
        except OSError:
            continue
    for pid in children - _WAITED:
        if not is_zombie(pid):
            continue
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        reaped += 1 if done else 0
    return reaped


def reap_for(seconds: float) -> None:
    """Orphans exit a moment after their parents were stopped: reap for a short while."""
    deadline = time.monotonic() + seconds
    while True:
        reap_orphans()
        if time.monotonic() >= deadline or not _zombie_children():
            return
        time.sleep(0.05)


def _zombie_children() -> bool:
    try:
        with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as fh:
            children = fh.read().split()
    except OSError:
        return False
    return any(is_zombie(int(pid)) for pid in children)


@dataclass(frozen=True)
class ProcessResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def _log_start(args: Sequence[str]) -> None:
    if LOG.isEnabledFor(logging.DEBUG):
        LOG.debug("+ %s", shlex.join(args))


def _log_failure(args: Sequence[str], code: int | None, output: str, timeout: float | None = None) -> None:
    """A command that failed, with the end of what it wrote: "! pasta exited with 1" and its lines."""
    if not LOG.isEnabledFor(logging.DEBUG):
        return
    if timeout is not None:
        what = f"did not finish within {timeout:g} s and was killed"
    elif code is not None and code < 0:
        what = f"was killed by {signal.Signals(-code).name}" if -code in signal.valid_signals() else f"died ({code})"
    else:
        what = f"exited with {code}"
    lines = [line for line in output.splitlines() if line.strip()][-LOG_TAIL:]
    LOG.debug("! %s %s%s", program_of(list(args)), what, "".join(f"\n    {line}" for line in lines))


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    cwd: str | None = "/",
    term_grace: float = 0.0,
) -> ProcessResult:
    """Run a command to completion; raise on timeout, on a missing binary, and (with
    ``check``) on a non-zero exit. On timeout the group gets SIGKILL, after SIGTERM and
    ``term_grace`` seconds when that is given."""
    args = [str(a) for a in argv]
    _log_start(args)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise SetupError(f"{args[0]}: command not found (run scripts/setup.sh as root)") from exc
    _WAITED.add(proc.pid)
    try:
        stdout, stderr = proc.communicate(input=input_text, timeout=timeout)
    except subprocess.TimeoutExpired:
        if term_grace:
            # Let it clean up first (a run tears its lab down on SIGTERM), then insist.
            _kill_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=term_grace)
            except subprocess.TimeoutExpired:
                pass
        _kill_group(proc.pid, signal.SIGKILL)
        try:  # a grandchild that left the group may still hold the pipes: do not wait on it
            proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass  # unkillable (stuck in the kernel): reported as the timeout it is
        _log_failure(args, None, "", timeout)
        raise CommandTimeout(args, timeout) from None
    except BaseException:
        _kill_group(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    finally:
        if proc.returncode is not None:
            _WAITED.discard(proc.pid)
    result = ProcessResult(args, proc.returncode, stdout, stderr, time.monotonic() - started)
    if proc.returncode != 0:
        _log_failure(args, proc.returncode, stderr if stderr.strip() else stdout)
    if check and proc.returncode != 0:
        raise CommandFailed(args, proc.returncode, stderr)
    return result


def run_reporting(argv: Sequence[str], *, timeout: float, on_line, tail: int = 20) -> ProcessResult:  # type: ignore[no-untyped-def]
    """Run a long command to completion, handing each line it prints (stdout and stderr
    together) to ``on_line`` as it comes, for progress; raise like :func:`run` with
    ``check``. The result's stderr holds the last ``tail`` lines."""
    import collections
    import threading

    args = [str(a) for a in argv]
    _log_start(args)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", cwd="/", start_new_session=True)
    except FileNotFoundError as exc:
        raise SetupError(f"{args[0]}: command not found (run scripts/setup.sh as root)") from exc
    _WAITED.add(proc.pid)
    last: collections.deque[str] = collections.deque(maxlen=tail)

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            last.append(line)
            on_line(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        _log_failure(args, None, "\n".join(last), timeout)
        raise CommandTimeout(args, timeout) from None
    except BaseException:
        # Interrupted: let the command clean up after itself first (mmdebstrap removes its
        # temporary files on SIGTERM), then make sure nothing of it is left.
        _kill_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        _kill_group(proc.pid, signal.SIGKILL)
        proc.wait()
        reap_for(2.0)
        raise
    finally:
        if proc.returncode is not None:
            _WAITED.discard(proc.pid)
        reader.join(timeout=5)
    text = "\n".join(last)
    if proc.returncode != 0:
        _log_failure(args, proc.returncode, text)
        raise CommandFailed(args, proc.returncode, text)
    return ProcessResult(args, proc.returncode, "", text, time.monotonic() - started)


@dataclass(frozen=True)
class ProcRef:
    """A process identity that survives pid reuse: pid plus kernel start time."""

    pid: int
    start_ticks: int

    @classmethod
    def of(cls, pid: int) -> "ProcRef | None":
        ticks = start_ticks(pid)
        return None if ticks is None else cls(pid, ticks)

    def alive(self) -> bool:
        """True while this very process exists and is not a zombie."""
        return start_ticks(self.pid) == self.start_ticks and not is_zombie(self.pid)

    def signal(self, sig: int) -> bool:
        if start_ticks(self.pid) != self.start_ticks:
            return False
        try:
            os.kill(self.pid, sig)
            return True
        except (ProcessLookupError, PermissionError):
            return False

    def to_json(self) -> dict[str, int]:
        return {"pid": self.pid, "start_ticks": self.start_ticks}

    @classmethod
    def from_json(cls, data: Mapping[str, int]) -> "ProcRef":
        return cls(int(data["pid"]), int(data["start_ticks"]))


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            raw = fh.read()
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    return raw[raw.rfind(")") + 2 :].split()


def start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def is_zombie(pid: int) -> bool:
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] in ("Z", "X")


@dataclass(frozen=True)
class CpuClock:
    """CPU time the kernel accounts to one process, read the same way at both ends of a
    trial. A single-threaded process (pasta, slirp4netns) is read from the scheduler's run
    time in nanoseconds: utime + stime in /proc/PID/stat move in 10 ms ticks, so a helper
    lightly loaded for a one-second trial would read as zero. A multi-threaded one
    (rootlesskit, rootlessport) is read from utime + stime, which keep the time of threads
    that ended; its threads end as it shuts down, so the two kinds of reading never mix."""

    pid: int
    exact: bool

    @classmethod
    def of(cls, pid: int) -> "CpuClock":
        return cls(pid, _single_thread_ns(pid) is not None)

    def seconds(self) -> float | None:
        """The total so far, or None when it cannot be read the way it was first read."""
        if self.exact:
            ns = _single_thread_ns(self.pid)
            return ns / 1e9 if ns is not None else None
        fields = _stat_fields(self.pid)
        if not fields:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuWatch:
    """A helper's CPU time over a trial. Read at the end where the helper outlives the trial;
    a helper that ends with its container (Podman 5's rootlessport exits as soon as the
    one-off server does) is sampled while the client runs, and its last reading counts."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        import threading

        self.clock = CpuClock.of(pid)
        self.start = self.clock.seconds()
        self.last = self.start
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        if self.start is not None:
            self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            value = self.clock.seconds()
            if value is None:
                return
            self.last = value

    def finish(self) -> tuple[float | None, bool]:
        """(CPU seconds used, whether read at the end) or (None, False) if never readable."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self.start is None:
            return None, False
        final = self.clock.seconds()
        if final is not None:
            return final - self.start, True
        return (self.last - self.start if self.last is not None else None), False


def _single_thread_ns(pid: int) -> int | None:
    """Time on the CPU (first field of schedstat, ns) when the process has one thread."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        if len(tasks) != 1:
            return None
        with open(f"/proc/{pid}/task/{tasks[0]}/schedstat", encoding="ascii") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def stop(ref: ProcRef, *, grace: float = 3.0) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` seconds. True when the process is gone."""
    if not ref.alive():
        return True
    ref.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not ref.alive():
            return True
        time.sleep(0.02)
    ref.signal(signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        if not ref.alive():
            return True
        time.sleep(0.02)
    return not ref.alive()


class Spawned:
    """A long-lived child in its own session, so that stopping it takes its whole tree
    (``pasta ... -- CMD`` once outlived pasta when only pasta was killed)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        pass_fds: Sequence[int] = (),
    ) -> None:
        self.argv = [str(a) for a in argv]
        self._stopping = False  # a non-zero exit after our own signal is not a failure
        self._logged = False
        _log_start(self.argv)
        # Files, not pipes: a daemonising helper that keeps its stdout open cannot block us.
        self._stdout = tempfile.TemporaryFile()  # noqa: SIM115
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._stdout,
                stderr=self._stderr,
                env=dict(env) if env is not None else None,
                cwd="/",
                pass_fds=tuple(pass_fds),
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            self._close_files()
            raise SetupError(f"{self.argv[0]}: command not found (run scripts/setup.sh as root)") from exc
        self.ref = ProcRef.of(self.popen.pid) or ProcRef(self.popen.pid, -1)
        _WAITED.add(self.popen.pid)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self._settled(self.popen.poll())

    def wait(self, timeout: float) -> int:
        try:
            return self._settled(self.popen.wait(timeout=timeout))  # type: ignore[return-value]
        except subprocess.TimeoutExpired:
            raise CommandTimeout(self.argv, timeout) from None

    def _settled(self, code: int | None) -> int | None:
        if code is not None:
            _WAITED.discard(self.popen.pid)
            if code != 0 and not self._stopping and not self._logged and LOG.isEnabledFor(logging.DEBUG):
                self._logged = True
                out, err = self.output()
                _log_failure(self.argv, code, err if err.strip() else out)
        return code

    def stop(self, grace: float = 3.0) -> int | None:
        """Stop the process group: SIGTERM, then SIGKILL. Returns the exit code."""
        ended = self._settled(self.popen.poll())  # one that failed by itself is shown as such
        self._stopping = True
        if ended is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # Anything left in the group (also after a clean exit of the leader) is killed.
        self._signal_group(signal.SIGKILL)
        try:
            self._settled(self.popen.wait(timeout=5))
        except subprocess.TimeoutExpired:
            pass
        return self.popen.returncode

    def _signal_group(self, sig: int) -> None:
        """Signal the group, unless its id may belong to someone else now: once the leader
        was reaped, its pid, and with it the group id, is free for reuse when no member is
        left, so a process that has that pid now means the group is no longer ours."""
        if self.popen.returncode is not None and os.path.exists(f"/proc/{self.popen.pid}"):
            return
        _kill_group(self.popen.pid, sig)

    def close(self) -> None:
        """Release the output files (after ``stop`` and ``output``)."""
        self._close_files()

    def last_words(self) -> str:
        """The last line the process wrote, stderr before stdout: why it failed, usually."""
        out, err = self.output()
        return last_line(err + "\n" + out)

    def output(self) -> tuple[str, str]:
        """What the process wrote so far to its stdout and stderr files."""
        return self._read(self._stdout), self._read(self._stderr)

    @staticmethod
    def _read(fh) -> str:  # type: ignore[no-untyped-def]
        if fh.closed:
            return ""
        fh.flush()
        fh.seek(0)
        return fh.read().decode("utf-8", errors="replace")

    def _close_files(self) -> None:
        for fh in (self._stdout, self._stderr):
            if not fh.closed:
                fh.close()


def wait_until(predicate, *, timeout: float, interval: float = 0.02, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it is true; raise a MeasurementError naming ``what``."""
    from .errors import MeasurementError

    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() >= deadline:
            raise MeasurementError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def run_to_file(argv: Sequence[str], destination: Path, *, timeout: float) -> ProcessResult:
    """Run a command with its stdout going to ``destination`` (bytes, not text): how root
    takes a file from the benchmark user's side without opening the user's path itself (the
    user's own ``cat`` reads it). Raises on timeout, a missing binary or a non-zero exit."""
    args = [str(a) for a in argv]
    started = time.monotonic()
    with open(destination, "wb") as out:
        try:
            completed = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE,
                                       timeout=timeout, cwd="/", start_new_session=True)
        except FileNotFoundError as exc:
            raise SetupError(f"{args[0]}: command not found (run scripts/setup.sh as root)") from exc
        except subprocess.TimeoutExpired:
            raise CommandTimeout(args, timeout) from None
    stderr = completed.stderr.decode(errors="replace")
    if completed.returncode != 0:
        raise CommandFailed(args, completed.returncode, stderr)
    return ProcessResult(args, completed.returncode, "", stderr, time.monotonic() - started)
