"""``compare``: two stacks, cell by cell, with verdicts that know each metric's direction."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from ..errors import VIOLATION_EXIT, UsageError

HELP = "compare two results documents or two stack snapshots (better / worse / same)"
DESCRIPTION = (
    "Compare B against A, where each is a results document, one stack of a results document "
    "(RUN.json@trixie; two stacks of one run are paired round by round), or a stack snapshot of "
    "the asv history (a tag, as 'python -m bench_runner publish' lists them, or a commit hash), "
    "optionally of one machine (TAG@MACHINE), or a machine's latest snapshot (@MACHINE), so two "
    "machines of a shared history compare side by side ('compare TAG@alpha TAG@beta'). Per "
    "workload, metric, placement and method: both medians, the ratio B/A with its 95%% "
    "interval, and whether B is better, worse or the same, by the metric's direction "
    "(throughput: higher is better; latency: lower is better). Output is Markdown for a bug "
    "tracker, or JSON."
)


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a non-negative percentage")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", help="the baseline: a results document (RUN.json, or RUN.json@STACK for "
                                               "one of its booted stacks), a stack snapshot (tag or hash, "
                                               "TAG@MACHINE for one machine's samples), or @MACHINE (its latest "
                                               "snapshot)")
    parser.add_argument("b", metavar="B", nargs="?", help="compared against A: a results document (or "
                                                          "RUN.json@STACK), a stack snapshot (or TAG@MACHINE), or "
                                                          "@MACHINE; not with --walk")
    parser.add_argument("--walk", metavar="BUILDS", default=None,
                        help="a release walk in the one results document A: its methods (builds of one helper, "
                             "e.g. pasta-20230309,pasta-20250503,pasta-20260728), oldest first; each step from one "
                             "build to the next is judged round by round (Holm over all steps) and the first build "
                             "where each workload's figure changed is named ('passt build' makes such builds)")
    parser.add_argument("--format", choices=("md", "json"), default="md", help="Markdown or JSON on stdout")
    parser.add_argument("--fail-on-regression", type=_percent, default=None, metavar="PCT",
                        help="exit 3 when any cell of B is significantly worse than A by more than PCT percent "
                             "(median change, in the metric's direction); default: never")
    parser.add_argument("--metrics", choices=("primary", "all"), default="primary",
                        help="each workload's primary metric, or every metric it records")
    parser.add_argument("--machine", metavar="NAME", default=None,
                        help="for stack snapshots recorded on several machines: which machine's samples (a side "
                             "given as TAG@MACHINE or @MACHINE names its own)")
    parser.add_argument("--config", metavar="PATH", type=Path, default=None,
                        help="asv configuration for stack snapshots (default: NETBENCH_ASV_CONFIG, else the suite's)")


def _walk(args: argparse.Namespace) -> int:
    from ..analysis import walk
    from ..methods.userfile import load_document
    from ..report import walk as output

    if args.b is not None:
        raise UsageError("--walk reads the one results document A; B is not used")
    document = load_document(args.a)
    builds = [b.strip() for b in args.walk.split(",") if b.strip()]
    found = walk.walks(document, builds)
    if not found:
        raise UsageError(f"--walk: no workload of {args.a} measured two of the builds")
    if args.format == "json":
        print(json.dumps(output.to_json(found), indent=1))
    else:
        print(output.render_markdown(found, builds), end="")
    return 0


def main(args: argparse.Namespace) -> int:
    from ..analysis import compare
    from ..history import config, sides
    from ..report import compare as output

    def conf_loader():  # type: ignore[no-untyped-def]
        return config.load(args.config)

    if args.walk is not None:
        return _walk(args)
    if args.b is None:
        raise UsageError("compare needs A and B (or one results document A with --walk)")

    a = sides.load_side(args.a, conf_loader, args.machine, args.metrics)
    b = sides.load_side(args.b, conf_loader, args.machine, args.metrics)
    result = compare.compare(a, b, threshold_pct=args.fail_on_regression)
    if args.format == "json":
        print(json.dumps(output.to_json(result), indent=1))
    else:
        print(output.render_markdown(result), end="")
    found = result.regressions()
    if found:
        print(f"bench_runner: {len(found)} cell(s) significantly worse than A by more than "
              f"{args.fail_on_regression:g}%", file=sys.stderr)
        return VIOLATION_EXIT
    return 0
