"""What apt says about a package archive: the Release files it refused as expired (and since
when), the index files it could not fetch (and why), as mmdebstrap passes them on; and the
head of a Release file (its date and how long it is valid), as a built stack keeps it.

apt refuses a Release file past its Valid-Until date because an archive that stopped being
signed afresh may be a stale or replayed copy; the suite only turns that check off when told
(``stack build --allow-expired``, ``--snapshot``), so it must first tell the refusal apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import deb822

#: apt's own words (apt-pkg/acquire-item.cc): "Release file for URL is expired (invalid since 29d 23h 41min 58s)".
_EXPIRED = re.compile(r"Release file for (\S+) is expired \(invalid since ([^)]+)\)")
#: "E: Failed to fetch URL  Could not resolve 'snapshot.debian.org'" (W: where apt goes on).
_FAILED_FETCH = re.compile(r"^[EW]: Failed to fetch (\S+)\s+(.+?)\s*$")
#: apt's durations (TimeToStr): "29d 23h 41min 58s", "3h 2min 1s", "12min 4s", "58s".
_DURATION_PART = re.compile(r"(\d+)(d|h|min|s)\b")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "min": 60, "s": 1}


@dataclass(frozen=True)
class ExpiredRelease:
    url: str
    #: How long ago its Valid-Until passed, when apt looked.
    invalid_since: timedelta
    #: apt's words for it, as printed ("29d 23h 41min 58s").
    said: str

    def valid_until(self, seen_at: datetime) -> datetime:
        """The Valid-Until date: when apt looked (``seen_at``), less how long it has been invalid."""
        return seen_at - self.invalid_since


@dataclass(frozen=True)
class FetchFailure:
    url: str
    reason: str

    @property
    def host(self) -> str:
        match = re.match(r"^[a-z]+://([^/:]+)", self.url)
        return match.group(1) if match else self.url


@dataclass(frozen=True)
class ReleaseHead:
    """The fields of a Release file that say which state of the archive it is."""

    origin: str | None
    suite: str | None
    codename: str | None
    date: datetime | None
    valid_until: datetime | None


def parse_duration(text: str) -> timedelta:
    """apt's "29d 23h 41min 58s" -> timedelta; ValueError when it is not one."""
    parts = _DURATION_PART.findall(text)
    if not parts or _DURATION_PART.sub("", text).strip():
        raise ValueError(f"not an apt duration: {text!r}")
    return timedelta(seconds=sum(int(n) * _UNIT_SECONDS[unit] for n, unit in parts))


def expired_releases(output: str) -> list[ExpiredRelease]:
    """Each Release file apt refused as expired, once, in the order apt named them."""
    found: dict[str, ExpiredRelease] = {}
    for match in _EXPIRED.finditer(output):
        url, said = match.group(1), match.group(2).strip()
        try:
            found.setdefault(url, ExpiredRelease(url, parse_duration(said), said))
        except ValueError:
            continue
    return list(found.values())


def fetch_failures(output: str) -> list[FetchFailure]:
    """Each index file apt could not fetch, with apt's reason, once per URL."""
    found: dict[str, FetchFailure] = {}
    for line in output.splitlines():
        match = _FAILED_FETCH.match(line.strip())
        if match:
            found.setdefault(match.group(1), FetchFailure(match.group(1), match.group(2)))
    return list(found.values())


def release_head(text: str) -> ReleaseHead:
    """The first paragraph of a Release or (clear-signed) InRelease file, which may be cut
    short (a build keeps only the head): what it has, nothing invented."""
    found = deb822.paragraphs(deb822.signed_body(text, strict=False), strict=False)
    fields = found[0] if found else {}
    return ReleaseHead(fields.get("Origin"), fields.get("Suite"), fields.get("Codename"),
                       deb822.date(fields["Date"]) if "Date" in fields else None,
                       deb822.date(fields["Valid-Until"]) if "Valid-Until" in fields else None)
