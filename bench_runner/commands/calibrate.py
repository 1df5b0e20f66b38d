"""``calibrate``: the suite's own overhead, measured against references written in C."""

from __future__ import annotations

import argparse
import json
import random
import sys

from typing import TYPE_CHECKING, Callable

from ..errors import VIOLATION_EXIT, UsageError
from ..providers import CHOICES
from ..argtypes import add_output_format, non_negative_int, positive_int

if TYPE_CHECKING:
    from ..run.calibration import CalibrationPlan, CalibrationResult, Comparison

HELP = "measure the suite's overhead against sockperf and iperf3 on the same path (a benchmark, not a test)"
DESCRIPTION = (
    "In one lab and one run, on the host method and the remote placement: the suite's tcp-rr p50 "
    "divided by sockperf ping-pong's p50 round trip (goal: at most 1.25), and the suite's "
    "echo-stream divided by iperf3's tcp-stream (goal: at least 0.9). Both sides run as the "
    "benchmark user between the same two namespaces; the suite's side through the same drivers "
    "and trials as run. Repetitions are interleaved; medians with order-statistic intervals (95% or more)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:

    parser.add_argument("--repetitions", type=positive_int, default=5, help="measured rounds")
    parser.add_argument("--warmup-rounds", type=non_negative_int, default=1,
                        help="rounds run first and left out of the ratios")
    parser.add_argument("--duration", type=positive_int, default=3, help="seconds measured per step")
    parser.add_argument("--omit", type=non_negative_int, default=1, help="seconds of warm-up in each step")
    parser.add_argument("--quick", action="store_true", help="one round of 1 s steps, no warm-up (no intervals)")
    parser.add_argument("--provider", default="auto", help=f"one of {', '.join(CHOICES)}")
    parser.add_argument("--mtu", type=positive_int, default=1500, help="MTU of the lab's veth link")
    parser.add_argument("--seed", type=int, default=None, help="seed of the step order (default: random)")
    parser.add_argument("--output", "-o", metavar="PATH",
                        help="write a results document with every trial (sockperf's in checks.calibration)")
    add_output_format(parser, "the comparisons as JSON (no progress)")
    parser.add_argument("--fail-on-violation", action="store_true",
                        help="exit 3 when a goal is missed (1 when a step failed)")


def main(args: argparse.Namespace) -> int:
    if args.provider not in CHOICES:
        raise UsageError(f"unknown provider '{args.provider}'; valid: {', '.join(CHOICES)}")
    from ..run import calibration
    from ..results import document as results
    from ..stacks import detect as stack
    from ..run.labsession import open_sessions, preflight
    from ..run.lifecycle import measuring
    from ..run.matrix import HOST_STACK
    from ..providers import choose
    from ..workloads import TrialSettings

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    if args.quick:
        plan = calibration.CalibrationPlan(1, 0, TrialSettings(duration_s=1, omit_s=0), seed)
    else:
        plan = calibration.CalibrationPlan(args.repetitions, args.warmup_rounds,
                                           TrialSettings(args.duration, args.omit), seed)
    output = results.check_writable(args.output) if args.output else None
    preflight()
    detected = stack.detect()
    chosen = choose(args.provider, [calibration.METHOD], podman_version=detected.podman)
    log = (lambda s: None) if args.format == "json" else (lambda s: print(s, file=sys.stderr, flush=True))
    log(f"provider: {chosen.provider.id} ({chosen.reason})")
    document = calibration.new_document(chosen.provider, chosen.reason, detected.to_json(), plan,
                                        ["python", "-m", "bench_runner", *sys.argv[1:]])
    with measuring(document, open_sessions([HOST_STACK], mtu=args.mtu, log=log), log=log,
                   output=lambda tag: output) as current:
        current.phase_done("setup")
        outcome = calibration.Calibration(current.first, chosen.provider, document, log).run(plan)
        current.phase_done("trials")
        comparisons = [c.to_json() for c in outcome.comparisons]
        document.checks["calibration"] = {"comparisons": comparisons, "steps": outcome.steps}
        current.complete()
    if args.format == "json":
        print(json.dumps({"comparisons": comparisons, "results": str(output) if output else None}, indent=1))
    else:
        print(render(outcome.comparisons, plan, chosen.provider.id))
        if output is not None:
            print(f"\nresults document: {output}")
    return exit_code(outcome, args.fail_on_violation, log)


def exit_code(outcome: CalibrationResult, fail_on_violation: bool, log: Callable[[str], None]) -> int:
    """1 when a step failed (the ratios may rest on fewer rounds, or be missing); else 3 when a
    goal was missed and that was asked to fail; else 0."""
    missing = [c.id for c in outcome.comparisons if c.met is None]
    if missing or outcome.failed_steps:
        log(f"{outcome.failed_steps} step(s) failed; " + (f"no ratio for {', '.join(missing)}" if missing else
                                                         "the ratios use the steps that succeeded"))
        return 1
    if fail_on_violation and not all(c.met for c in outcome.comparisons):
        log(f"goal missed: {', '.join(c.id for c in outcome.comparisons if not c.met)}")
        return VIOLATION_EXIT
    return 0


def render(comparisons: list[Comparison], plan: CalibrationPlan, provider: str) -> str:
    """The two ratios with their inputs, one row each."""
    from tabulate import tabulate

    from ..analysis import stats
    from ..analysis.tables import fmt, fmt_interval

    def median(values: list[float], unit: str) -> str:
        if not values:
            return "-"
        s = stats.summarize(values)
        return f"{fmt(s.median)} {unit} {fmt_interval(s.ci_low, s.ci_high, s.ci_level)}".rstrip(" -")

    rows = []
    for c in comparisons:
        paired = c.paired
        rows.append([
            c.id,
            f"{c.suite_label}: {median(c.suite, c.unit)}",
            f"{c.reference_label}: {median(c.reference, c.unit)}",
            f"{fmt(paired.median)} {fmt_interval(paired.ci_low, paired.ci_high, paired.ci_level)}".rstrip(" -")
            if paired else "-",
            fmt(c.ratio_of_medians),
            c.goal_text,
            {True: "met", False: "NOT met", None: "not measured"}[c.met],
        ])
    settings = plan.settings
    head = (f"calibration: host method, remote placement, provider {provider}; {plan.repetitions} round(s) of "
            f"{settings.duration_s} s (+{settings.omit_s} s warm-up) after {plan.warmup_rounds} warm-up round(s); "
            f"medians with 95% intervals")
    foot = ("ratio = suite / reference. Judged on the median of the per-round ratios (suite and reference run back "
            "to back, so drift between rounds cancels); the ratio of the medians is shown beside it.")
    table = tabulate(rows, headers=["", "suite", "reference", "paired ratio", "ratio of medians", "goal", "verdict"],
                     tablefmt="simple", disable_numparse=True)
    return f"{head}\n{table}\n{foot}"
