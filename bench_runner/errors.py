"""The suite's error types, each carrying the exit code the CLI should return.

The CLI prints ``str(error)`` as one line and exits with ``exit_code``; nothing else
should ever reach the user as a traceback.
"""

from __future__ import annotations


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


class CommandFailed(MeasurementError):
    """A subprocess exited non-zero; the message carries its stderr's last line."""

    def __init__(self, argv: list[str], returncode: int, stderr: str) -> None:
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr
        last = next((line for line in reversed(stderr.strip().splitlines()) if line.strip()), "")
        super().__init__(f"{argv[0]} exited with {returncode}: {last or '(no error output)'}")


class CommandTimeout(MeasurementError):
    """A subprocess did not finish within its timeout (it was killed)."""

    def __init__(self, argv: list[str], timeout: float) -> None:
        self.argv = argv
        self.timeout = timeout
        super().__init__(f"{argv[0]} did not finish within {timeout:g} s and was killed")
