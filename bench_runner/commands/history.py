"""``history pull`` / ``history push``: one asv history for many machines, kept in a shared git repository."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..argtypes import add_output_format

HELP = "pull from or push to a history shared by several machines (a git repository)"
DESCRIPTION = (
    "Keep one history for a team in a git repository everyone can reach (a local path, or a URL "
    "git knows: ssh://, https://, file://, host:path; make one with 'git init --bare PATH'). "
    "pull merges the shared history into results/: its stack snapshots first, then this "
    "history's own, and each result file from the side that changed it, or, where both did, "
    "sample by sample, so no sample is lost and none counts twice. push pulls, then publishes "
    "the merged history to the shared one; when another machine pushed in between, it pulls "
    "and tries again. asv's results keep machines apart (results/MACHINE/), so the published "
    "site shows every machine side by side. git never prompts: a password it would ask for is "
    "an error."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..history.shared import ENV

    sub = parser.add_subparsers(dest="history_command", metavar="ACTION", parser_class=type(parser),
                                help="pull or push (each has its own --help)")
    sub.required = True
    pull = sub.add_parser("pull", help="merge the shared history into results/",
                          description="Fetch the shared history and merge it into results/ (no sample lost, none "
                                      "counted twice); then publish shows every machine in it.",
                          formatter_class=parser.formatter_class, epilog=parser.epilog)
    push = sub.add_parser("push", help="pull, then publish results/ to the shared history",
                          description="Merge the shared history into results/ (as pull does), then push the merged "
                                      "history to it; a push that another machine's overtook is merged and tried "
                                      "again (up to 5 times).",
                          formatter_class=parser.formatter_class, epilog=parser.epilog)
    for command in (pull, push):
        command.add_argument("--shared", metavar="PATH_OR_URL", default=None,
                             help=f"the shared history: a git repository's path or URL (default: {ENV}, else the "
                                  "one this history last used)")
        command.add_argument("--config", metavar="PATH", type=Path, default=None,
                             help="asv configuration (default: NETBENCH_ASV_CONFIG, else asv.conf.json of the suite)")
        add_output_format(command, "what was merged and pushed as JSON")


def main(args: argparse.Namespace) -> int:
    from ..history import config, shared

    conf = config.load(args.config)
    where = shared.resolve(conf, args.shared)
    done = shared.pull(conf, where) if args.history_command == "pull" else shared.push(conf, where)
    print_synced(done, args.format, args.history_command)
    return 0


def to_json(done) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return {"shared": done.where, "shared_results_commit": done.shared_results, "snapshots_arrived": done.arrived,
            "snapshots_moved": done.moved, "result_files_new": done.files_new,
            "result_files_merged": done.files_merged, "samples_added": done.samples_added,
            "machines": done.machines, "pushed": done.pushed, "up_to_date": done.up_to_date,
            "push_attempts": done.attempts, "notes": done.notes}


def print_synced(done, form: str, action: str) -> None:  # type: ignore[no-untyped-def]
    """What a pull or push did, as text or JSON."""
    if form == "json":
        print(json.dumps(to_json(done), indent=1))
        return
    if done.arrived or done.moved or done.files_new or done.files_merged or done.samples_added:
        print(f"pulled from {done.where}: {done.arrived} stack snapshot(s) new here, {done.moved} of this history's "
              f"moved after them; {done.files_new} result file(s) new here, {done.files_merged} merged sample by "
              f"sample; {done.samples_added} sample(s) added")
    else:
        print(f"pulled from {done.where}: nothing new")
    if action == "push":
        if done.up_to_date:
            print(f"pushed nothing: {done.where} already holds this history")
        else:
            retried = f" (after {done.attempts - 1} race(s) lost to other machines' pushes)" if done.attempts > 1 else ""
            print(f"pushed to {done.where}: results {done.pushed[:12]}{retried}")
    print(f"machines in this history: {', '.join(done.machines) or '(none)'}")
    for note in done.notes:
        print(f"  note: {note}")
