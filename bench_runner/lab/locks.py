"""Advisory file locks (flock) for what must not happen twice at once: runs on one host,
and a release stack being used while it is rebuilt or removed."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import IO


class FileLock:
    """An exclusive or shared lock on a file, taken at once or within a bound."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def acquire(self, *, exclusive: bool = True, wait: float = 0.0) -> bool:
        """True once held; False when another holder kept it for ``wait`` seconds."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
                self._fh = fh
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.close()
                    return False
                time.sleep(0.2)

    def holder(self) -> str:
        """What the holder wrote about itself (see ``mark``), if anything."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def mark(self) -> None:
        """Say who holds it: this process and when (for the message a second comer gets)."""
        if self._fh is None:
            return
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        self._fh.flush()

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
