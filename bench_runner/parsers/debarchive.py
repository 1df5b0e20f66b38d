"""Debian archive indices: a suite's (clear-signed) ``InRelease`` and its ``Sources`` index,
as far as a source package's files and their checksums go. The signature is checked by
``gpgv`` before this reads anything; the checksums here are what ties every later download to
that signature (InRelease -> Sources -> the package's tarballs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import ParseError, deb822


@dataclass(frozen=True)
class ArchiveFile:
    name: str  # a path below the suite's directory (InRelease) or a file name (Sources)
    size: int
    sha256: str


@dataclass(frozen=True)
class Release:
    suite: str  # its codename (trixie-backports), else its suite name (stable-backports)
    date: datetime
    valid_until: datetime | None
    files: dict[str, ArchiveFile]

    def expired(self, now: datetime) -> bool:
        return self.valid_until is not None and now > self.valid_until


@dataclass(frozen=True)
class SourcePackage:
    package: str
    version: str
    directory: str  # below the mirror, e.g. pool/main/p/passt
    files: tuple[ArchiveFile, ...]

    @property
    def upstream_version(self) -> str:
        """The version without its Debian revision (``-1``, ``-2+deb13u1``)."""
        return self.version.rsplit("-", 1)[0] if "-" in self.version else self.version

    def file(self, suffix: str) -> ArchiveFile | None:
        """The one file whose name ends with ``suffix`` (``.orig.tar.xz``, ``.debian.tar.xz``)."""
        found = [f for f in self.files if f.name.endswith(suffix)]
        return found[0] if len(found) == 1 else None


def _checksums(block: str, what: str) -> list[ArchiveFile]:
    files = []
    for line in block.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3 or len(parts[0]) != 64 or not parts[1].isdigit():
            raise ParseError(f"{what}: not a checksum line: {line[:80]!r}")
        files.append(ArchiveFile(parts[2], int(parts[1]), parts[0].lower()))
    return files


def _date(text: str, field: str) -> datetime:
    value = deb822.date(text)
    if value is None:
        raise ParseError(f"InRelease: {field} {text!r} is not a date")
    return value


def parse_release(text: str) -> Release:
    """A suite's InRelease (clear-signed) or Release text."""
    stanzas = deb822.paragraphs(deb822.signed_body(text))
    if not stanzas:
        raise ParseError("InRelease: empty")
    fields = stanzas[0]
    if "SHA256" not in fields or "Date" not in fields:
        raise ParseError("InRelease: no SHA256 list or no Date")
    files = {f.name: f for f in _checksums(fields["SHA256"], "InRelease")}
    until = _date(fields["Valid-Until"], "Valid-Until") if "Valid-Until" in fields else None
    return Release(fields.get("Codename") or fields.get("Suite") or "?", _date(fields["Date"], "Date"), until, files)


def parse_sources(text: str, package: str) -> SourcePackage | None:
    """``package``'s stanza of a Sources index, or None; where a suite lists several versions
    (a transition), the first."""
    found = []
    for stanza in deb822.paragraphs(text):
        if stanza.get("Package") != package:
            continue
        if "Version" not in stanza or "Directory" not in stanza or "Checksums-Sha256" not in stanza:
            raise ParseError(f"Sources: {package} lacks Version, Directory or Checksums-Sha256")
        found.append(SourcePackage(package, stanza["Version"], stanza["Directory"],
                                   tuple(_checksums(stanza["Checksums-Sha256"], "Sources"))))
    return found[0] if found else None
