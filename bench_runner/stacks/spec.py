"""What a stack is made of: a Debian suite, the packages installed into it and the package
sources, and the key that says whether a built stack still matches its request."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from ..errors import UsageError

#: The stack every run has without booting anything: this machine's own software.
HOST = "host"
#: Suites a stack can be built from; the stable releases also get their -updates and
#: -security sources, as an installed machine of that release has.
STABLE_SUITES = ("bookworm", "trixie")
SUITES = (*STABLE_SUITES, "forky", "sid")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
#: Debian's snapshot archive: every state of the archive since March 2005, by the moment.
SNAPSHOT_ARCHIVE = "http://snapshot.debian.org/archive"
SNAPSHOT_FIRST = "20050312T000000Z"
_SNAPSHOT_RE = re.compile(r"^\d{8}T\d{6}Z$")
#: apt's retries, and the option that accepts a Release file past its Valid-Until date.
RETRIES_OPTION = 'Acquire::Retries "3"'
ACCEPT_EXPIRED_OPTION = 'Acquire::Check-Valid-Until "false"'
#: What the suite runs inside a stack: rootless Podman with every network helper, the
#: systemd that boots it (with the user manager), and the workloads' servers.
BASE_PACKAGES = (
    "podman", "passt", "slirp4netns", "rootlesskit", "uidmap", "runc", "conmon", "catatonit",
    "systemd", "systemd-sysv", "dbus-user-session", "iperf3", "python3", "iproute2", "procps",
    "nftables",  # netavark calls nft for Podman's rootless bridge networks
    "mount",  # the boot script's umount runs the stack's own; systemd 258+ only recommends mount
)
#: Bump when the way stacks are built changes, so older builds are rebuilt.
BUILD_FORMAT = 1
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
_PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+(/experimental)?$")
#: Debian's experimental holds releases not yet in sid (Podman 6 while sid has 5.8): a package
#: named ``PKG/experimental`` comes from there, everything else from the suite. apt never
#: takes a package from experimental unless named so (its Release file says NotAutomatic).
EXPERIMENTAL = "experimental"
EXPERIMENTAL_BASES = ("sid",)


@dataclass(frozen=True)
class StackSpec:
    name: str
    suite: str
    extra_packages: tuple[str, ...] = ()
    mirror: str = DEFAULT_MIRROR
    #: Debian's snapshot archive at this moment (YYYYMMDDTHHMMSSZ) instead of ``mirror``.
    snapshot: str | None = None
    #: Accept a Release file past its Valid-Until date (``--allow-expired``).
    allow_expired: bool = False

    @property
    def packages(self) -> tuple[str, ...]:
        """What apt installs; ``PKG/experimental`` replaces the base package of that name."""
        named = {p.split("/", 1)[0] for p in self.extra_packages if "/" in p}
        return tuple(sorted((set(BASE_PACKAGES) - named) | set(self.extra_packages)))

    @property
    def from_experimental(self) -> tuple[str, ...]:
        return tuple(p.split("/", 1)[0] for p in self.extra_packages if p.endswith(f"/{EXPERIMENTAL}"))

    @property
    def archive(self) -> str:
        """The archive the packages come from: the mirror, or the snapshot archive's moment."""
        return snapshot_url("debian", self.snapshot) if self.snapshot else self.mirror

    @property
    def accepts_expired(self) -> bool:
        """A snapshot's Release files expired long ago by design: the snapshot is the point."""
        return self.allow_expired or self.snapshot is not None

    def sources(self) -> list[str]:
        """One-line apt sources, as mmdebstrap takes them."""
        lines = [f"deb {self.archive} {self.suite} main"]
        if self.from_experimental:
            lines.append(f"deb {self.archive} {EXPERIMENTAL} main")
        if self.suite in STABLE_SUITES:
            security = snapshot_url("debian-security", self.snapshot) if self.snapshot else SECURITY_MIRROR
            lines += [f"deb {self.archive} {self.suite}-updates main",
                      f"deb {security} {self.suite}-security main"]
        return lines

    def apt_options(self) -> list[str]:
        """apt options for the build; the Valid-Until check is off only when asked."""
        return [RETRIES_OPTION, *([ACCEPT_EXPIRED_OPTION] if self.accepts_expired else [])]

    def release_check(self) -> dict[str, object]:
        """What the manifest records about apt's check of the archive's Release files."""
        if self.snapshot:
            why = f"--snapshot {self.snapshot}: Debian's snapshot archive of that moment"
        elif self.allow_expired:
            why = "--allow-expired"
        else:
            return {"valid_until_checked": True}
        return {"valid_until_checked": False, "why": why, "apt_option": ACCEPT_EXPIRED_OPTION}

    def key(self, architecture: str) -> str:
        """Changes whenever what the build asks for changes (not when the archive moves on:
        ``stack build --rebuild`` takes the archive's newer packages)."""
        wanted = {"format": BUILD_FORMAT, "suite": self.suite, "packages": list(self.packages),
                  "sources": self.sources(), "architecture": architecture}
        return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()[:16]


def check_name(name: str) -> str:
    if name == HOST:
        raise UsageError(f"'{HOST}' is this machine's own stack and cannot be built or removed")
    if not _NAME_RE.match(name):
        raise UsageError(f"stack name {name!r}: use lower-case letters, digits and '-', starting with a letter "
                         "(at most 24 characters)")
    return name


def parse_packages(values: list[str] | None) -> tuple[str, ...]:
    """``--include a,b --include c`` -> ("a", "b", "c"), each a plausible Debian package name."""
    found: list[str] = []
    for value in values or []:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            if not _PACKAGE_RE.match(item):
                raise UsageError(f"--include {item!r} is not a Debian package name (or PKG/{EXPERIMENTAL})")
            found.append(item)
    return tuple(dict.fromkeys(found))


def snapshot_url(archive: str, moment: str | None) -> str:
    """``snapshot_url("debian", "20261002T000000Z")`` -> the snapshot archive's debian of that moment."""
    return f"{SNAPSHOT_ARCHIVE}/{archive}/{moment}"


def check_snapshot(text: str, now: datetime | None = None) -> str:
    """A snapshot moment as snapshot.debian.org names it: YYYYMMDDTHHMMSSZ (UTC), a real
    date, not before the archive began and not in the future."""
    if not _SNAPSHOT_RE.match(text):
        raise UsageError(f"--snapshot {text!r}: expected YYYYMMDDTHHMMSSZ in UTC, e.g. 20261002T000000Z")
    try:
        moment = datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise UsageError(f"--snapshot {text}: not a date and time") from None
    if text < SNAPSHOT_FIRST:
        raise UsageError(f"--snapshot {text}: Debian's snapshot archive begins at {SNAPSHOT_FIRST}")
    if moment > (now or datetime.now(timezone.utc)):
        raise UsageError(f"--snapshot {text} is in the future")
    return text


def make_spec(name: str, suite: str | None, include: list[str] | None, mirror: str | None, *,
              snapshot: str | None = None, allow_expired: bool = False) -> StackSpec:
    """The spec ``stack build`` asks for; the suite defaults to the name (``stack build trixie``)."""
    check_name(name)
    suite = suite or name
    if suite not in SUITES:
        raise UsageError(f"unknown suite {suite!r}; valid: {', '.join(SUITES)} (name the stack freely with "
                         f"--suite, e.g. 'stack build mytrixie --suite trixie')")
    packages = parse_packages(include)
    if any(p.endswith(f"/{EXPERIMENTAL}") for p in packages) and suite not in EXPERIMENTAL_BASES:
        raise UsageError(f"--include PKG/{EXPERIMENTAL}: Debian's experimental builds on "
                         f"{' or '.join(EXPERIMENTAL_BASES)}, not {suite} (use --suite sid)")
    if snapshot is not None and mirror is not None:
        raise UsageError("--snapshot and --mirror both name the archive: give one")
    mirror = mirror or DEFAULT_MIRROR
    if not re.match(r"^https?://[^\s]+$", mirror):
        raise UsageError(f"--mirror {mirror!r}: expected an http:// or https:// address")
    return StackSpec(name, suite, packages, mirror.rstrip("/"),
                     check_snapshot(snapshot) if snapshot is not None else None, allow_expired)


def parse_stack_names(values: list[str] | None) -> tuple[str, ...]:
    """``--stacks host,trixie`` -> ("host", "trixie"), in the order given, each once."""
    names: list[str] = []
    for value in values or [HOST]:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            if item != HOST:
                try:
                    check_name(item)
                except UsageError as exc:
                    raise UsageError(f"--stacks: {exc}") from None
            names.append(item)
    if not names:
        raise UsageError(f"--stacks: no stack given (e.g. --stacks {HOST},trixie)")
    return tuple(dict.fromkeys(names))
