"""``publish``: the static HTML site of the history (asv publish) under results/, and
``--serve`` to look at it (asv's pages load JSON, which needs a web server)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..argtypes import add_output_format, port

HELP = "publish the recorded history as a static HTML site (asv publish); --serve shows it"
DESCRIPTION = (
    "Run asv publish over the recorded history: one graph per workload metric, one point per "
    "stack snapshot (tagged with its versions), a line per method and placement, per machine. "
    "Regressions (asv's 'Show regressions' page and its feed) follow each metric's direction: a "
    "throughput drop is one, a rise is not. The site goes to the html_dir of asv.conf.json "
    "(results/html). asv's pages load JSON, so they need a web server rather than the file: "
    "--serve serves the site on 127.0.0.1 until Ctrl-C."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..history.serve import DEFAULT_PORT

    parser.add_argument("--config", metavar="PATH", type=Path, default=None,
                        help="asv configuration (default: NETBENCH_ASV_CONFIG, else asv.conf.json of the suite)")
    parser.add_argument("--serve", action="store_true",
                        help="after publishing, serve the site on 127.0.0.1 (loopback only) until Ctrl-C")
    parser.add_argument("--port", type=port, default=None, metavar="N",
                        help=f"port for --serve (default: {DEFAULT_PORT})")
    parser.add_argument("--shared", metavar="PATH_OR_URL", default=None,
                        help="first pull this shared history (a git repository's path or URL), as 'history pull' "
                             "does, so the site shows every machine in it")
    add_output_format(parser, "the published points as JSON")


def main(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..history import config, serve, shared
    from ..history.publish import publish
    from . import history

    if args.port is not None and not args.serve:
        raise UsageError("--port is the port of --serve: add --serve")
    listen = args.port or serve.DEFAULT_PORT
    conf = config.load(args.config)
    if args.serve:
        serve.bind(conf.html_dir, listen).server_close()  # a busy port fails before asv runs
    pulled = shared.pull(conf, shared.resolve(conf, args.shared)) if args.shared else None
    done = publish(conf)
    if args.format == "json":
        print(json.dumps({"index": done.index, "points": [
            {"machine": p.machine, "commit": p.commit, "tag": p.tag, "first_measured": p.first_measured.isoformat(),
             "samples": p.samples} for p in done.points],
            **({"shared": history.to_json(pulled)} if pulled else {})}, indent=1), flush=True)
    else:
        if pulled is not None:
            history.print_synced(pulled, "text", "pull")
        by_machine: dict[str, list[str]] = {}
        for p in done.points:
            by_machine.setdefault(p.machine, []).append(
                f"  {p.first_measured:%Y-%m-%d %H:%M} {p.commit[:8]} {p.tag or '-'}  ({p.samples} metric samples)")
        for name, lines in by_machine.items():
            print(f"machine {name}: {len(lines)} stack snapshot(s)")
            print("\n".join(lines))
        print(f"site: {done.index}")
        if not args.serve:
            print(f"view it with: {serve.VIEW_COMMAND} (then open {serve.url(serve.DEFAULT_PORT)})", flush=True)
    if args.serve:
        # With --format json, stdout holds the JSON alone.
        out = sys.stderr if args.format == "json" else sys.stdout
        serve.serve(conf.html_dir, listen, lambda line: print(line, file=out, flush=True))
    return 0
