"""``publish``: the static HTML site of the history (asv publish) under results/."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .argtypes import add_output_format

HELP = "publish the recorded history as a static HTML site (asv publish)"
DESCRIPTION = (
    "Run asv publish over the recorded history: one graph per workload metric, one point per "
    "stack snapshot (tagged with its versions), a line per method and placement, per machine. "
    "The site goes to the html_dir of asv.conf.json (results/html); asv's pages load JSON, so "
    "serve it over HTTP (e.g. 'asv preview', or python -m http.server --bind 127.0.0.1 in it) "
    "rather than opening the file."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", type=Path, default=None,
                        help="asv configuration (default: NETBENCH_ASV_CONFIG, else asv.conf.json of the suite)")
    add_output_format(parser, "the published points as JSON")


def main(args: argparse.Namespace) -> int:
    from ..history import config
    from ..history.publish import publish

    conf = config.load(args.config)
    done = publish(conf)
    if args.format == "json":
        print(json.dumps({"index": done.index, "points": [
            {"machine": p.machine, "commit": p.commit, "tag": p.tag, "first_measured": p.first_measured.isoformat(),
             "samples": p.samples} for p in done.points]}, indent=1))
        return 0
    by_machine: dict[str, list[str]] = {}
    for p in done.points:
        by_machine.setdefault(p.machine, []).append(
            f"  {p.first_measured:%Y-%m-%d %H:%M} {p.commit[:8]} {p.tag or '-'}  ({p.samples} metric samples)")
    for name, lines in by_machine.items():
        print(f"machine {name}: {len(lines)} stack snapshot(s)")
        print("\n".join(lines))
    print(f"site: {done.index}")
    return 0
