"""``stack``: build, list and remove booted release stacks (a Debian release's Podman 5,
pasta, rootlessport, Quadlet and systemd, measured without changing this machine)."""

from __future__ import annotations

import argparse
import json
import sys

from ..stacks.spec import BASE_PACKAGES, SUITES
from ..argtypes import add_output_format

HELP = "build, list or remove release stacks (another Debian release's Podman, booted for a run)"
DESCRIPTION = (
    "A stack is a Debian release's root filesystem built from the distribution's package registry "
    "(mmdebstrap), booted with systemd as PID 1 inside the lab's server host for a run "
    "('run --stacks host,trixie'), so its Podman, pasta, slirp4netns, rootlesskit, Quadlet and "
    "systemd socket units are measured beside this machine's own ('host'). Stacks are kept under "
    "the suite's state directory; building an unchanged stack again only checks it."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="stack_command", metavar="ACTION", parser_class=type(parser),
                                help="build, list or remove (each has its own --help)")
    sub.required = True
    build = sub.add_parser("build", help="build a stack (or check it when it is built and unchanged)",
                           description=f"Build a stack from Debian's package registry with mmdebstrap: the packages "
                                       f"{', '.join(BASE_PACKAGES)} plus --include. Needs root and the registry; "
                                       f"takes a minute or two and about 450 MB.",
                           formatter_class=parser.formatter_class, epilog=parser.epilog)
    build.add_argument("name", help=f"the stack's name; also its suite unless --suite is given ({', '.join(SUITES)})")
    build.add_argument("--suite", choices=SUITES, help="the Debian suite to build from (default: the name)")
    build.add_argument("--include", action="append", metavar="PKGS",
                       help="extra packages, comma-separated (repeatable); PKG/experimental takes that package "
                            "from Debian's experimental instead (on --suite sid; e.g. Podman 6 while sid has "
                            "5.8: --include podman/experimental,netavark/experimental), the rest from the suite")
    build.add_argument("--mirror", help="the Debian mirror (default: http://deb.debian.org/debian)")
    build.add_argument("--snapshot", metavar="YYYYMMDDTHHMMSSZ",
                       help="build from Debian's snapshot archive as it was at that moment (UTC), instead of "
                            "--mirror: http://snapshot.debian.org/archive/debian/YYYYMMDDTHHMMSSZ (and "
                            "debian-security of the same moment for a stable suite), to get the exact Podman or "
                            "passt of a given day. Needs snapshot.debian.org to be reachable. Its Release files "
                            "are past their Valid-Until date by design, so apt's check of that date is off for "
                            "it, as with --allow-expired, and the stack records both")
    build.add_argument("--allow-expired", action="store_true",
                       help="accept the archive's Release file when it is past its Valid-Until date (apt "
                            "refuses it by default, as a stale or replayed archive would look the same; a "
                            "mirror's sid or forky can lag so). Only then is apt's check of that date turned "
                            "off (Acquire::Check-Valid-Until \"false\"); the stack's manifest, 'stack list' and "
                            "the report of every run with it say so, with the Release file's dates")
    build.add_argument("--rebuild", action="store_true",
                       help="build again even when unchanged (to take the archive's newer packages)")
    listing = sub.add_parser("list", help="list built stacks with their versions",
                             description="List built stacks with the versions of podman, passt, slirp4netns, "
                                         "rootlesskit, systemd and iperf3 read from each stack's package database, "
                                         "and the state of the archive each was built from (its Release file's "
                                         "date; whether an expired one was accepted, --allow-expired; the "
                                         "--snapshot moment).",
                             formatter_class=parser.formatter_class, epilog=parser.epilog)
    add_output_format(listing, "each stack with its versions as JSON")
    remove = sub.add_parser("remove", help="delete a built stack",
                            description="Delete a built stack (refused while a run uses it).",
                            formatter_class=parser.formatter_class, epilog=parser.epilog)
    remove.add_argument("name", help="the stack to delete")


def main(args: argparse.Namespace) -> int:
    return {"build": _build, "list": _list, "remove": _remove}[args.stack_command](args)


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _build(args: argparse.Namespace) -> int:
    from ..stacks import build
    from ..stacks.spec import make_spec

    spec = make_spec(args.name, args.suite, args.include, args.mirror, snapshot=args.snapshot,
                     allow_expired=args.allow_expired)
    result = build.build(spec, rebuild=args.rebuild, log=_log)
    print(f"stack {result.stack.name}: {'built' if result.built else 'checked'} in {result.seconds:.0f} s "
          f"({result.stack.path})")
    return 0


def _list(args: argparse.Namespace) -> int:
    from ..stacks import store

    stacks = store.all_stacks()
    if args.format == "json":
        print(json.dumps([s.describe() for s in stacks], indent=1))
        return 0
    if not stacks:
        print("no stacks built (build one with: python -m bench_runner stack build trixie)")
        return 0
    from tabulate import tabulate

    keys = list(store.KEY_PACKAGES)
    rows = [[s.name, s.manifest.get("suite"), *(s.key_versions().get(k) or "-" for k in keys),
             s.manifest.get("built_at", "?"), s.archive_note()] for s in stacks]
    print(tabulate(rows, headers=["stack", "suite", *keys, "built", "archive"], disable_numparse=True))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from ..stacks import store
    from ..stacks.spec import check_name

    check_name(args.name)
    lock = store.StackLock(args.name)
    lock.acquire(exclusive=True)
    try:
        path = store.remove(args.name)
    finally:
        lock.release()
    print(f"stack {args.name}: removed {path}")
    return 0
