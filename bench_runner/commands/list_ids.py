"""``list``: the ids a run accepts, one line each."""

from __future__ import annotations

import argparse
import json

from ..run.matrix import METHODS, PLACEMENTS, WORKLOADS, Workload, applies
from ..results.metrics import METRICS
from ..providers import CHOICES
from ..argtypes import add_output_format

HELP = "list the method, workload and placement ids (and, with --metrics, what each metric means)"
DESCRIPTION = ("List the ids that --methods, --workloads, --placements and --provider accept, with one line each; "
               "with --metrics, every metric a run records instead: its unit, which direction is better, and what "
               "the number means.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_output_format(parser, "every id with its description, and which workloads each method runs, as JSON")
    parser.add_argument("--method-file", metavar="FILE", help="also list the methods a TOML method file defines")
    parser.add_argument("--presets", action="store_true",
                        help="list run's --preset names instead: what each runs, and about how long it takes on this "
                             "machine with the default rounds and every method it applies to")
    parser.add_argument("--metrics", action="store_true",
                        help="list the metrics instead: id, unit, direction and meaning, and the workloads that "
                             "record each")


def word_variants() -> list[Workload]:
    """The variants at a sweep's word (``udp-stream+ratemax``), which may record metrics of their own."""
    from ..run import matrix
    from ..workloads import sweeps

    return [matrix.workload(sweeps.variant_id(w.id, {name: value}))
            for name, sweep in sweeps.SWEEPS.items() for _, value in sweep.words
            for w in WORKLOADS.values() if any(sweep.why_not(w, p) is None for p in w.placements)]


def _metrics(as_json: bool) -> None:
    recorded_by = {m: [w.id for w in WORKLOADS.values() if m in (x.id for x in w.metrics())] for m in METRICS}
    for variant in word_variants():  # udp-stream+ratemax records the rate its search found
        for metric in variant.metrics():
            if variant.id.split("+", 1)[0] not in recorded_by[metric.id]:
                recorded_by[metric.id].append(variant.id)
    if as_json:
        print(json.dumps({"metrics": {m.id: {"unit": m.unit, "higher_is_better": m.higher_is_better,
                                             "meaning": m.summary, "workloads": recorded_by[m.id]}
                                      for m in METRICS.values()}}, indent=1))
        return
    width = max(len(m) for m in METRICS)
    unit_width = max(len(f"[{m.unit}, {m.direction}]") for m in METRICS.values())
    print("metrics:")
    for metric in METRICS.values():
        print(f"  {metric.id:<{width}}  {f'[{metric.unit}, {metric.direction}]':<{unit_width}}  {metric.summary}")
        print(f"  {'':<{width}}  {'':<{unit_width}}  recorded by: {', '.join(recorded_by[metric.id])}")


def preset_estimates() -> list[dict[str, object]]:
    """Each preset, what it runs, and its time estimate (the run's own estimate, before it starts)."""
    from ..run import eta, presets
    from ..run.progress import clock_text
    from . import run

    found = []
    for preset in presets.PRESETS.values():
        args = run.build_defaults()
        args.preset = preset.name
        request = run.request_from_args(args)
        plan = run.plan_of(request)
        work = run.planned_work(plan, request)
        found.append({"name": preset.name, "summary": preset.summary, "flags": preset.flags(),
                      "cells": len(plan.matrix.cells), "trials": plan.total_trials,
                      "estimate_s": [round(s) for s in work.seconds()],
                      "estimate": eta.describe(work.seconds(), clock_text, work.upper_why())})
    return found


def main(args: argparse.Namespace) -> int:
    if args.presets:
        found = preset_estimates()
        if args.format == "json":
            print(json.dumps({"presets": found}, indent=1))
            return 0
        print("presets (run --preset NAME; options given on the command line win):")
        for item in found:
            print(f"  {item['name']}: {item['summary']}")
            print(f"    runs: {item['flags']}")
            print(f"    {item['cells']} cells, {item['trials']} trials with the default rounds: {item['estimate']}")
        return 0
    if args.method_file:
        from .. import methods
        from ..methods import userfile

        methods.define(userfile.load(args.method_file))
    if args.metrics:
        _metrics(args.format == "json")
        return 0
    if args.format == "json":
        print(json.dumps({
            "methods": {m.id: m.summary for m in METHODS.values()},
            "workloads": {w.id: {"summary": w.summary, "metric": w.metric.id, "unit": w.metric.unit,
                                 "higher_is_better": w.metric.higher_is_better, "methods": [m for m in METHODS if applies(m, w)],
                                 "placements": list(w.placements)} for w in WORKLOADS.values()},
            "placements": {p.id: p.summary for p in PLACEMENTS.values()},
            "providers": list(CHOICES),
        }, indent=1))
        return 0
    width = max(len(k) for k in [*METHODS, *WORKLOADS, *PLACEMENTS])
    print("methods:")
    for method in METHODS.values():
        print(f"  {method.id:<{width}}  {method.summary}")
    print("workloads:")
    for workload in WORKLOADS.values():
        direction = "higher is better" if workload.metric.higher_is_better else "lower is better"
        print(f"  {workload.id:<{width}}  {workload.summary} [{workload.metric.unit}, {direction}]")
    print("placements:")
    for placement in PLACEMENTS.values():
        print(f"  {placement.id:<{width}}  {placement.summary}")
    print("providers:")
    print(f"  {'auto':<{width}}  podman when it can run every requested method, else bare")
    print(f"  {'podman':<{width}}  real podman run with the method's --network option")
    print(f"  {'bare':<{width}}  the same helpers (pasta, slirp4netns, rootlesskit) without Podman")
    return 0
