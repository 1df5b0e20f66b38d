"""``record``: add stored results documents to the asv history without measuring again."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..argtypes import add_output_format

HELP = "record results documents into the asv history (one point per stack)"
DESCRIPTION = (
    "Add the samples of stored results documents to the asv history in results/: a document "
    "measured on a stack already in history adds samples to that point; a new stack (kernel, "
    "podman, passt, slirp4netns, rootlesskit, iperf3, facts given with run --stack, provider) "
    "adds a point, dated by when the run started and tagged with the versions. A run with "
    "booted release stacks (run --stacks) gives each stack its own point. Documents are "
    "recorded oldest first; recording the same run twice adds nothing. Then see it with "
    "'python -m bench_runner publish', 'asv show' or 'asv compare TAG1 TAG2'."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("documents", nargs="+", metavar="RESULTS.json", help="results documents written by run")
    parser.add_argument("--machine", metavar="NAME", default=None,
                        help="asv machine the runs were measured on (default: NETBENCH_MACHINE, else this "
                             "host's name); give it for archives from another machine")
    parser.add_argument("--config", metavar="PATH", type=Path, default=None,
                        help="asv configuration (default: NETBENCH_ASV_CONFIG, else asv.conf.json of the suite)")
    parser.add_argument("--shared", metavar="PATH_OR_URL", default=None,
                        help="then push the history to this shared history (a git repository's path or URL), as "
                             "'history push' does")
    add_output_format(parser, "what was recorded as JSON")


def main(args: argparse.Namespace) -> int:
    from ..methods import userfile
    from ..errors import BenchError
    from ..history import config, shared
    from ..history.record import ordered, record_stacks
    from ..history.snapshots import StackRepo
    from . import history

    conf = config.load(args.config)
    shared_at = shared.resolve(conf, args.shared) if args.shared else None
    loaded = [(str(Path(p).resolve()), userfile.load_document(p)) for p in args.documents]
    outcomes = [o for source, doc in ordered(loaded) for o in record_stacks(doc, source, conf, machine_name=args.machine)]
    pushed, failed = None, None
    if shared_at:
        try:
            pushed = shared.push(conf, shared_at)
        except BenchError as exc:  # what was recorded is said first; then why it was not pushed
            failed = exc
    if pushed is not None and pushed.moved:  # snapshots new here moved after the shared ones: new commits
        repo = StackRepo(conf.stack_repo, conf.branch)
        for o in outcomes:
            if o.snapshot is not None and o.snapshot.tag:
                o.snapshot = repo.resolve(o.snapshot.tag) or o.snapshot
    if args.format == "json":
        recorded = [{
            "document": o.source, "stack": o.stack, "machine": o.machine,
            "snapshot": {"commit": o.snapshot.commit, "tag": o.snapshot.tag,
                         "first_measured": o.snapshot.date.isoformat(),
                         "versions": o.snapshot.snapshot.as_dict()} if o.snapshot else None,
            "new_point": o.new_point, "already_recorded": o.already, "cells": o.cells, "samples": o.samples,
            "samples_in_point": o.total_samples, "notes": o.notes,
        } for o in outcomes]
        print(json.dumps(recorded if pushed is None else {"recorded": recorded, "shared": history.to_json(pushed)},
                         indent=1))
    else:
        _print_recorded(outcomes, conf.results_dir)
        if pushed is not None:
            history.print_synced(pushed, "text", "push")
    if failed is not None:
        failed.args = (f"recorded here, but not pushed: {failed} (push later with: python -m bench_runner "
                       "history push)",)
        raise failed
    return 0


def _print_recorded(outcomes, results_dir: Path) -> None:  # type: ignore[no-untyped-def]
    for o in outcomes:
        point = o.snapshot
        where = f"{point.tag} ({point.commit[:8]})" if point else "-"
        source = o.source if o.stack == "host" else f"{o.source} (stack {o.stack})"
        if o.already:
            print(f"{source}: already recorded under {where} on machine {o.machine}; nothing added")
        elif point is None:
            print(f"{source}: nothing recorded")
        else:
            kind = "new point" if o.new_point else "added to the existing point"
            print(f"{source}: {o.samples} metric samples of {o.cells} cells -> {kind} {where} on machine {o.machine} "
                  f"({o.total_samples} metric samples there now)")
        for note in o.notes:
            print(f"  note: {note}")
    print(f"history: {results_dir} (publish with: python -m bench_runner publish)")
