"""The suite's error types, each carrying the exit code the CLI should return.

The CLI prints ``str(error)`` as one line and exits with ``exit_code``; nothing else
should ever reach the user as a traceback.
"""

from __future__ import annotations

#: Exit code of a run or comparison that worked but whose data broke what was asked of it
#: (``--fail-on-violation``, ``--fail-on-regression``): a CI job tells it from a failure (1).
VIOLATION_EXIT = 3


class BenchError(Exception):
    """Base class: something the user should read as one line."""

    exit_code = 1


class UsageError(BenchError):
    """Bad input: unknown ids, malformed options, unreadable or invalid files."""

    exit_code = 2


class SetupError(BenchError):
    """The host lacks something the set-up must provide; the message says what."""

    exit_code = 2


class MeasurementError(BenchError):
    """A measurement step failed (a helper did not start, a client errored, a timeout)."""

    exit_code = 1


def last_line(text: str) -> str:
    """The last non-blank line of a program's output: the reason it gives, usually. Debian
    12's pasta also logs "Failed to send ... to syslog" lines, which are never the reason."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and "to syslog" not in line]
    return lines[-1] if lines else ""


#: Programs that only run another one (in a namespace, as a user, with an environment).
_WRAPPERS = ("nsenter", "setpriv", "env", "sh")


def program_of(argv: list[str]) -> str:
    """The program a command line is about, past the wrappers that enter a namespace or
    change the user ("nsenter ... -- setpriv ... -- env -i A=B podman run" is podman)."""
    rest = list(argv)
    while rest and rest[0].rsplit("/", 1)[-1] in _WRAPPERS[:3]:
        if "--" in rest and rest[0].rsplit("/", 1)[-1] != "env":
            rest = rest[rest.index("--") + 1:]
            continue
        rest = rest[1:]
        while rest and (rest[0].startswith("-") or "=" in rest[0]):
            rest = rest[1:]
    return rest[0] if rest else (argv[0] if argv else "?")


class CommandFailed(MeasurementError):
    """A subprocess exited non-zero; the message carries its stderr's last line."""

    def __init__(self, argv: list[str], returncode: int, stderr: str) -> None:
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"{program_of(argv)} exited with {returncode}: {last_line(stderr) or '(no error output)'}")


class CommandTimeout(MeasurementError):
    """A subprocess did not finish within its timeout (it was killed)."""

    def __init__(self, argv: list[str], timeout: float) -> None:
        self.argv = argv
        self.timeout = timeout
        super().__init__(f"{program_of(argv)} did not finish within {timeout:g} s and was killed")
