"""``passt``: build passt releases from Debian's source packages for a release walk, list and
remove them; each build is a pasta variant a ``--method-file`` ranks beside the others."""

from __future__ import annotations

import argparse
import json
import sys

from ..argtypes import add_output_format

HELP = "build passt releases from Debian's sources for a release walk (one pasta variant each)"
DESCRIPTION = (
    "A release walk ranks several pasta releases in one interleaved run. 'passt build SUITE...' "
    "takes the passt release each Debian suite ships, verifies it as apt does (InRelease by gpgv "
    "against Debian's archive keyring, then the Sources index and the upstream tarball by their "
    "SHA-256), builds it here (make, about half a minute each) and writes a method file with one "
    "variant per build (pasta-YYYYMMDD, oldest first). Rank them with 'run --method-file FILE "
    "--methods host,pasta-...', and name the first release where a figure changed with "
    "'compare RUN.json --walk pasta-...,pasta-...'. Debian's own patches are not applied: the walk "
    "is of passt's releases."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..stacks.passtbuild import BUILDS_DIR, DEFAULT_SUITES

    sub = parser.add_subparsers(dest="passt_command", metavar="ACTION", parser_class=type(parser),
                                help="build, list or remove (each has its own --help)")
    sub.required = True
    build = sub.add_parser("build", help="build the passt release of each suite (a built one is only checked)",
                           description=f"Build the passt release each suite ships; the method file of every build "
                                       f"is written to {BUILDS_DIR}/walk.toml. Needs root and Debian's registry.",
                           formatter_class=parser.formatter_class, epilog=parser.epilog)
    build.add_argument("suites", nargs="*", metavar="SUITE", default=list(DEFAULT_SUITES),
                       help=f"Debian suites (default: {' '.join(DEFAULT_SUITES)}; also forky, sid, bookworm-backports)")
    build.add_argument("--mirror", help="the Debian mirror (default: http://deb.debian.org/debian)")
    build.add_argument("--allow-expired", action="store_true",
                       help="take a suite whose Release file is past its Valid-Until date (the signature is still "
                            "checked)")
    listing = sub.add_parser("list", help="list the builds and print their method file",
                             description="List the passt builds, oldest release first, and the method file that "
                                         "ranks them.",
                             formatter_class=parser.formatter_class, epilog=parser.epilog)
    add_output_format(listing, "each build as JSON")
    remove = sub.add_parser("remove", help="delete a build",
                            description="Delete one build (by its upstream version, as 'passt list' shows it).",
                            formatter_class=parser.formatter_class, epilog=parser.epilog)
    remove.add_argument("version", help="the upstream version, e.g. 0.0~git20250503.587980c")


def _write_method_file() -> str:
    from ..stacks import passtbuild

    path = passtbuild.BUILDS_DIR / "walk.toml"
    found = passtbuild.builds()
    if not found:
        path.unlink(missing_ok=True)
        return ""
    path.write_text(passtbuild.method_file(found))
    path.chmod(0o644)
    return str(path)


def main(args: argparse.Namespace) -> int:
    import os

    from ..errors import BenchError, UsageError
    from ..stacks import passtbuild
    from ..stacks.spec import DEFAULT_MIRROR

    if args.passt_command == "list":
        found = passtbuild.builds()
        if args.format == "json":
            print(json.dumps([b.to_json() | {"method": b.method_id} for b in found], indent=1))
            return 0
        if not found:
            print("no passt builds; 'python -m bench_runner passt build' makes them")
            return 0
        for b in found:
            print(f"{b.method_id:16} passt {b.version} (Debian {b.suite}, {b.debian_version}) built {b.built_at}")
        print(f"method file: {passtbuild.BUILDS_DIR / 'walk.toml'}")
        return 0
    if os.geteuid() != 0:
        raise UsageError("passt builds live in the suite's state directory: run as root")
    if args.passt_command == "remove":
        passtbuild.remove(args.version)
        _write_method_file()
        print(f"removed passt {args.version}")
        return 0
    mirror = (args.mirror or DEFAULT_MIRROR).rstrip("/")
    failed, refused = 0, 0
    for suite in args.suites:
        try:
            made = passtbuild.build(mirror, suite, allow_expired=args.allow_expired,
                                    log=lambda line: print(line, file=sys.stderr, flush=True))
            print(f"{made.method_id}: passt {made.version} from {suite} in {made.directory}")
        except UsageError as exc:
            refused += 1
            print(f"{suite}: not built: {exc}", file=sys.stderr)
        except BenchError as exc:
            failed += 1
            print(f"{suite}: not built: {exc}", file=sys.stderr)
    path = _write_method_file()
    if path:
        ids = ",".join(b.method_id for b in passtbuild.builds())
        print(f"method file: {path}\nrank them:   python -m bench_runner run --method-file {path} "
              f"--methods host,{ids} --workloads tcp-stream,tcp-stream-reverse --rounds 10")
    return 2 if refused else 1 if failed else 0
