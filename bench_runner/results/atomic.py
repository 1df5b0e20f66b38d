"""Replace a file whole or not at all: a temporary file beside it, synced, then renamed over
it (and the directory synced), so a crash leaves the old content or the new, never a part."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def replacing(target: Path, mode: int = 0o644) -> Iterator[Path]:
    """A temporary path to write the new content to; it becomes ``target`` when the block
    ends without an error, and is removed when it does not."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def write_text(target: Path, text: str, mode: int = 0o644) -> None:
    with replacing(target, mode) as tmp:
        tmp.write_text(text)
