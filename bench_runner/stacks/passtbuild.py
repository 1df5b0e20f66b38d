"""passt builds for a release walk: the upstream release Debian ships in a suite, built here
from its source tarball, so several pasta releases run on this machine's libc side by side
and are ranked in one interleaved run (``--method-file``, one method per build).

Built from Debian's registry because it is the one this machine reaches, and verified the way
apt verifies: the suite's InRelease by ``gpgv`` against Debian's archive keyring, the Sources
index by the checksum InRelease gives, the tarball by the checksum Sources gives. The build is
the upstream tarball as released (Debian's own patches are not applied: the walk is of passt
releases), compiled as root in a directory only root writes, and kept under the suite's state
directory; the benchmark user only runs it.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import platform
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .. import procs
from ..errors import SetupError, UsageError
from ..parsers import ParseError
from ..parsers.debarchive import Release, SourcePackage, parse_release, parse_sources
from ..paths import STATE_DIR
from .spec import DEFAULT_MIRROR

#: Where builds live, one directory per upstream version.
BUILDS_DIR = STATE_DIR / "passt"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
#: The suites a walk takes by default: each ships another passt release.
DEFAULT_SUITES = ("bookworm", "trixie", "trixie-backports")
DOWNLOAD_TIMEOUT = 120.0
BUILD_TIMEOUT = 900.0
#: The pasta binaries a build installs; passt.avx2 is what pasta re-executes as on AVX2 CPUs.
TARGETS_X86 = ("passt", "passt.avx2")
MANIFEST = "build.json"


@dataclass(frozen=True)
class PasstBuild:
    version: str  # upstream, e.g. 0.0~git20250503.587980c
    suite: str
    debian_version: str
    release_date: str  # the suite's InRelease Date the source was verified against
    source_sha256: str
    built_at: str
    compiler: str
    directory: str

    @property
    def pasta(self) -> str:
        return str(Path(self.directory) / "pasta")

    @property
    def method_id(self) -> str:
        return method_id_for(self.version)

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def method_id_for(version: str) -> str:
    """``0.0~git20250503.587980c`` -> ``pasta-20250503``: a build's method id, dated as
    passt's releases are named."""
    dated = re.search(r"(\d{8})", version)
    if dated:
        return f"pasta-{dated.group(1)}"
    return "pasta-" + re.sub(r"[^a-z0-9]+", "-", version.lower()).strip("-")[:30]


def _fetch(url: str, limit: int = 64 * 1024 * 1024) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:  # noqa: S310 (http(s) only)
            data = response.read(limit + 1)
    except urllib.error.HTTPError as exc:
        raise SetupError(f"{url}: the registry answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SetupError(f"{url}: cannot download: {getattr(exc, 'reason', exc)}") from None
    if len(data) > limit:
        raise SetupError(f"{url}: larger than {limit} bytes; refused")
    return data


def _checked(data: bytes, sha256: str, size: int, what: str) -> bytes:
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
        raise SetupError(f"{what}: its size or SHA-256 is not what the signed index says; refused")
    return data


def verified_release(mirror: str, suite: str, workdir: Path, *, allow_expired: bool = False,
                     now: datetime | None = None) -> Release:
    """The suite's InRelease, its signature checked by gpgv against Debian's keyring."""
    text = _fetch(f"{mirror}/dists/{suite}/InRelease", limit=16 * 1024 * 1024)
    path = workdir / f"{suite}-InRelease"
    path.write_bytes(text)
    check_signature(path, suite)
    try:
        release = parse_release(text.decode("utf-8"))
    except (ParseError, UnicodeDecodeError) as exc:
        raise SetupError(f"{suite}: InRelease: {exc}") from None
    if release.expired(now or datetime.now(timezone.utc)) and not allow_expired:
        raise UsageError(f"{suite}: the mirror's Release file expired on {release.valid_until:%Y-%m-%d %H:%M} UTC "
                         "(Valid-Until); use --allow-expired to take it anyway")
    return release


def check_signature(path: Path, suite: str) -> None:
    """gpgv against Debian's archive keyring; anything but a good signature is refused."""
    if not KEYRING.is_file():
        raise SetupError(f"{KEYRING} is missing: install debian-archive-keyring")
    result = procs.run(["gpgv", "--keyring", str(KEYRING), str(path)], timeout=60, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise SetupError(f"{suite}: InRelease has no valid signature by Debian's archive keyring ({last}); refused")


def source_package(mirror: str, suite: str, release: Release, package: str = "passt") -> SourcePackage:
    """The suite's source package, through the Sources index InRelease vouches for."""
    entry = release.files.get("main/source/Sources.xz")
    if entry is None:
        raise SetupError(f"{suite}: InRelease lists no main/source/Sources.xz")
    data = _checked(_fetch(f"{mirror}/dists/{suite}/main/source/Sources.xz"), entry.sha256, entry.size,
                    f"{suite} Sources.xz")
    try:
        found = parse_sources(lzma.decompress(data).decode("utf-8"), package)
    except (ParseError, lzma.LZMAError, UnicodeDecodeError) as exc:
        raise SetupError(f"{suite}: Sources: {exc}") from None
    if found is None:
        raise UsageError(f"{suite}: has no {package} source package")
    return found


def build(mirror: str, suite: str, *, allow_expired: bool = False,
          log: Callable[[str], None] = lambda s: None) -> PasstBuild:
    """Build the passt release ``suite`` ships (or return it, when it is built already)."""
    BUILDS_DIR.mkdir(parents=True, exist_ok=True, mode=0o755)
    with tempfile.TemporaryDirectory(prefix="build-", dir=BUILDS_DIR) as work_name:
        work = Path(work_name)
        release = verified_release(mirror, suite, work, allow_expired=allow_expired)
        source = source_package(mirror, suite, release)
        existing = load(BUILDS_DIR / source.upstream_version)
        if existing is not None:
            log(f"{suite}: passt {source.upstream_version} is built already ({existing.directory})")
            return existing
        orig = source.file(".orig.tar.xz") or source.file(".orig.tar.gz")
        if orig is None:
            raise SetupError(f"{suite}: passt {source.version} has no single upstream tarball in Sources")
        log(f"{suite}: downloading passt {source.upstream_version} ({orig.size // 1024} KiB)")
        tarball = work / orig.name
        tarball.write_bytes(_checked(_fetch(f"{mirror}/{source.directory}/{orig.name}"), orig.sha256, orig.size,
                                     orig.name))
        tree = work / "src"
        tree.mkdir()
        procs.run(["tar", "-xf", str(tarball), "-C", str(tree), "--strip-components=1", "--no-same-owner",
                   "--no-same-permissions"], timeout=120)
        log(f"{suite}: building passt {source.upstream_version} (make, about half a minute)")
        targets = TARGETS_X86 if platform.machine() == "x86_64" else ("passt",)
        procs.run(["make", "-j2", f"VERSION={source.upstream_version}", *targets], timeout=BUILD_TIMEOUT,
                  cwd=str(tree))
        return _install(tree, targets, source, suite, release)


def _install(tree: Path, targets: tuple[str, ...], source: SourcePackage, suite: str, release: Release) -> PasstBuild:
    final = BUILDS_DIR / source.upstream_version
    staging = Path(tempfile.mkdtemp(prefix="install-", dir=BUILDS_DIR))
    try:
        for name in targets:
            shutil.copyfile(tree / name, staging / name)
            os.chmod(staging / name, 0o755)
        os.symlink("passt", staging / "pasta")  # passt runs as pasta by the name it is called by
        if "passt.avx2" in targets:
            os.symlink("passt.avx2", staging / "pasta.avx2")
        compiler = procs.run(["cc", "--version"], timeout=30).stdout.splitlines()[0]
        made = PasstBuild(source.upstream_version, suite, source.version, release.date.isoformat(),
                          next(f.sha256 for f in source.files if ".orig." in f.name),
                          datetime.now(timezone.utc).isoformat(timespec="seconds"), compiler, str(final))
        reported = reported_version(str(staging / "pasta"))
        if reported != source.upstream_version:
            raise SetupError(f"the built pasta reports version {reported!r}, not {source.upstream_version}")
        (staging / MANIFEST).write_text(json.dumps(made.to_json(), indent=1) + "\n")
        os.chmod(staging, 0o755)
        os.rename(staging, final)
        return made
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def reported_version(pasta: str) -> str:
    """What ``pasta --version`` says its version is (its first line: ``pasta VERSION``). Unbuffered:
    some releases (2025_05) leave by _exit with the line still in stdio's buffer when stdout is
    a pipe, and print nothing."""
    result = procs.run(["stdbuf", "-o0", pasta, "--version"], timeout=30)
    for line in result.stdout.splitlines():
        if line.startswith("pasta "):
            return line.split(" ", 1)[1].strip()
    raise SetupError(f"{pasta} --version printed no version line")


def load(directory: Path) -> PasstBuild | None:
    try:
        data = json.loads((directory / MANIFEST).read_text())
        return PasstBuild(**{k: str(data[k]) for k in PasstBuild.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def builds() -> list[PasstBuild]:
    """Every complete build, oldest release first."""
    found = [b for d in sorted(BUILDS_DIR.iterdir()) if d.is_dir() and (b := load(d)) is not None] \
        if BUILDS_DIR.is_dir() else []
    return sorted(found, key=lambda b: (method_id_for(b.version), b.version))


def method_file(found: list[PasstBuild]) -> str:
    """A ``--method-file`` with one pasta variant per build, in release order."""
    lines = ["# passt builds for a release walk (python -m bench_runner passt build); oldest first",
             "# rank them: run --method-file THIS --methods host," + ",".join(b.method_id for b in found)]
    for b in found:
        lines.append(f'{b.method_id} = {{ base = "pasta", binary = "{b.pasta}", '
                     f'summary = "pasta {b.version} (upstream release, as Debian {b.suite} ships it), built here" }}')
    return "\n".join(lines) + "\n"


def remove(version: str) -> None:
    directory = BUILDS_DIR / version
    if load(directory) is None:
        raise UsageError(f"no passt build {version!r}; 'passt list' shows them")
    shutil.rmtree(directory)

