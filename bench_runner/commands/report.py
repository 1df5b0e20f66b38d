"""``report``: a stored run as Markdown (with PNG plots), one-file HTML, or JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..argtypes import percentage

HELP = "render a stored run as a report to attach to a bug (Markdown with plots, HTML, JSON, or for GitHub/GitLab)"
DESCRIPTION = (
    "Render a results document written by 'run' without measuring again: the stack and host, the command "
    "that reproduces the run, per workload and placement the ranked table (medians, 95% intervals, ratios "
    "to host, ranks) with plots, the ordering verdicts, the podman-networking-docs claims beside what was "
    "observed, and the stability warnings with what to do about them. Markdown links PNG plots written beside "
    "it; HTML embeds them, so it is one file to attach. --for github writes Markdown that fits a GitHub comment "
    "(65,536 characters: every trial's figures are summarised per cell, and more is left out in a fixed order "
    "if needed) plus one .zip with the full report, the plots, the results document and its capture files; "
    "--for gitlab writes the full Markdown and the same .zip."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("document", metavar="RESULTS.json", help="a results document written by run")
    from ..report.formats import REPORT_FORMATS, TARGETS

    parser.add_argument("--format", choices=tuple(REPORT_FORMATS),
                        help="; ".join(f"{f.name}{' (default)' if i == 0 else ''}: {f.help}"
                                       for i, f in enumerate(REPORT_FORMATS.values())))
    parser.add_argument("--for", dest="target", choices=TARGETS,
                        help="a report to paste into an issue there: Markdown (shortened to fit a GitHub comment) "
                             "plus RESULTS-report.zip with the full report, the plots, the results document and "
                             "its capture files")
    parser.add_argument("--output", "-o", metavar="PATH",
                        help="report file, or a directory for the default name "
                             "(default: beside the document, RESULTS-report.md/.html/.json; PNGs and the .zip beside "
                             "the report)")
    parser.add_argument("--no-plots", action="store_true", help="leave the plots out (Markdown and HTML)")
    parser.add_argument("--expect", action="append", metavar="ORDER",
                        help="an ordering to judge, best first, e.g. 'pasta>slirp4netns-rootlesskit' (repeatable; "
                             "default: the orderings the run itself judged)")
    parser.add_argument("--tolerance", type=percentage, metavar="PCT",
                        help="how close to host counts as native performance, in percent (default: the run's own, "
                             "else 10)")
    parser.add_argument("--json", action="store_true",
                        help="print the files written as JSON on stdout instead of one per line")


def main(args: argparse.Namespace) -> int:
    from ..report.render import write

    written = write(Path(args.document), args.format or "md", args.output, with_plots=not args.no_plots,
                    expectations=args.expect, tolerance=None if args.tolerance is None else args.tolerance / 100,
                    target=args.target)
    if args.json:
        print(json.dumps({"report": str(written.report), "plots": [str(p) for p in written.plots],
                          **({"archive": str(written.archive)} if written.archive else {})}))
    else:
        print(f"report: {written.report}")
        for plot in written.plots:
            print(f"plot:   {plot}")
        if written.archive:
            print(f"archive: {written.archive}")
    return 0
