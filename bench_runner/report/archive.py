"""The archive a report for an issue travels with: one .zip (GitHub and GitLab both accept it)
holding the report, the full report, the plots, the results document and the capture files
the document lists, so a maintainer gets everything in one attachment.

The document names its captures by paths relative to its own directory. It is data, possibly
written by someone else, so a capture is taken only from inside that directory: no absolute
path, no '..', no symbolic link anywhere on the way (each step is opened without following
links), only a regular file. Anything else is left out with the reason, and the report says so.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

#: Zip entries need a timestamp; the run's own keeps the archive the same every time it is made.
EPOCH = (1980, 1, 1, 0, 0, 0)


class Refused(Exception):
    """A capture that is not taken into the archive; the message says why."""


@dataclass
class Captures:
    """The captures a document lists, each opened (so what the report says is included is
    what the archive gets), or left out with why."""

    found: list[tuple[str, BinaryIO]] = field(default_factory=list)  # archive name, open file
    missing: list[tuple[str, str]] = field(default_factory=list)  # path as listed, why not included

    def close(self) -> None:
        for _, handle in self.found:
            handle.close()
        self.found.clear()


def listed(data: dict[str, Any]) -> list[str]:
    """The capture paths of a (validated) results document; none when it lists none."""
    return [str(entry["path"]) for entry in data.get("captures") or [] if isinstance(entry, dict) and "path" in entry]


def open_beneath(directory: Path, relative: str) -> BinaryIO:
    """A regular file at ``relative`` inside ``directory``, reached without following a link."""
    path = PurePosixPath(relative)
    if path.is_absolute() or not path.parts or ".." in path.parts:
        raise Refused("not a path inside the results document's directory")
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in path.parts[:-1]:
                step = os.open(part, flags | os.O_DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = step
            handle = os.open(path.parts[-1], flags | os.O_NONBLOCK | os.O_NOCTTY, dir_fd=fd)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise Refused("missing") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Refused("a symbolic link or not a directory on the way; not followed") from None
        raise Refused(f"cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise Refused("not a regular file")
    return os.fdopen(handle, "rb")


#: Bytes of captures an archive takes, below each tracker's attachment limit (GitHub 25 MB,
#: GitLab.com 100 MB) with room for the report, plots and results; the rest are named.
CAPTURE_BUDGET = {"github": 20_000_000, "gitlab": 90_000_000}


def find_captures(data: dict[str, Any], directory: Path, taken: set[str], budget: int | None = None) -> Captures:
    """Open every capture the document lists, in its order, while their sizes stay within
    ``budget`` bytes; ``taken``: archive names already in use."""
    captures = Captures()
    included: set[str] = set()
    total = 0
    try:
        for relative in listed(data):
            name = "/".join(PurePosixPath(relative).parts)
            if name in included:
                continue  # listed twice
            if name in taken:
                captures.missing.append((relative, "its name is taken by a file of the report"))
                continue
            try:
                handle = open_beneath(directory, relative)
            except Refused as exc:
                captures.missing.append((relative, str(exc)))
                continue
            size = os.fstat(handle.fileno()).st_size
            if budget is not None and total + size > budget:
                handle.close()
                captures.missing.append((relative, f"left out: the archive's captures would pass {budget / 1e6:g} MB, "
                                                   "under the tracker's attachment limit; attach it yourself"))
                continue
            total += size
            captures.found.append((name, handle))
            included.add(name)
    except BaseException:
        captures.close()
        raise
    return captures


def timestamp(run: dict[str, Any]) -> tuple[int, int, int, int, int, int]:
    """The run's end (or start) as a zip timestamp; 1980-01-01 when it has neither."""
    for key in ("finished_at", "started_at"):
        try:
            when = datetime.fromisoformat(str(run.get(key)).replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.year >= 1980:
            return (when.year, when.month, when.day, when.hour, when.minute, when.second)
    return EPOCH


def write(out: BinaryIO, members: list[tuple[str, bytes]], captures: Captures,
          when: tuple[int, int, int, int, int, int] = EPOCH) -> None:
    """The archive into ``out``: ``members`` first, then each capture copied from its open file."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(_info(name, when), data)
        for name, handle in captures.found:
            size = os.fstat(handle.fileno()).st_size
            with archive.open(_info(name, when), "w", force_zip64=size > (1 << 31)) as entry:
                shutil.copyfileobj(handle, entry, 1 << 20)


def _info(name: str, when: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info

