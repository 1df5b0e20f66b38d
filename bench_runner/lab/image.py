"""The suite's container image, made without any registry: an empty root skeleton
(``bin -> usr/bin`` and the like, a passwd with root) into which the server host's ``/usr``
is bind-mounted read-only at run time, so containers run exactly that host's iperf3 and
Python. ``python -m bench_runner.lab.image PATH`` writes the archive ``podman import`` takes."""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

from ..paths import IMAGE

DIRECTORIES = {"usr": 0o755, "etc": 0o755, "tmp": 0o1777, "proc": 0o755, "sys": 0o755, "dev": 0o755,
               "run": 0o755, "var": 0o755, "var/tmp": 0o1777, "root": 0o700}
LINKS = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}
FILES = {"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "etc/group": "root:x:0:\n", "etc/ld.so.cache": ""}
#: What ``podman import --change`` is given.
CHANGES = ('CMD ["/bin/sh"]',)


def skeleton_tar() -> bytes:
    """The image's only layer, byte for byte the same every time (owner root, time 0)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, mode in DIRECTORIES.items():
            info = tarfile.TarInfo(f"./{name}")
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)
        for name, target in LINKS.items():
            info = tarfile.TarInfo(f"./{name}")
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
            tar.addfile(info)
        for name, text in FILES.items():
            data = text.encode()
            info = tarfile.TarInfo(f"./{name}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def import_argv(archive: str) -> list[str]:
    """The podman command (run as the benchmark user) that makes the image from the archive."""
    changes = [arg for change in CHANGES for arg in ("--change", change)]
    return ["podman", "import", "--quiet", *changes, archive, IMAGE]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench_runner.lab.image ARCHIVE  (writes the image's root skeleton as a tar)",
              file=sys.stderr)
        return 2
    Path(argv[0]).write_bytes(skeleton_tar())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
