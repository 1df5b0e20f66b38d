"""One asv benchmark per workload metric, parametrised by method and placement.

Derived from the declarative matrix, so a new workload or metric becomes a benchmark with no
edit here. The asv name, the pinned ``version`` and the parameter lists are what asv keys
history on: a name or version change would orphan every stored result (asv drops results
whose version differs from ``benchmarks.json``), so names come from stable ids only.
Growing the method or placement lists is safe: asv maps stored results by parameter value.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ..run.matrix import PLACEMENTS, WORKLOADS, applies, workload
from ..workloads.definition import Workload
from ..methods import BUILTIN

#: The module under ``benchmarks/`` that defines the benchmarks (asv names start with it).
MODULE = "netbench"
#: Pinned benchmark version: asv would otherwise hash the source and lose history on any edit.
VERSION = "1"
PARAM_NAMES = ("method", "placement")


@dataclass(frozen=True)
class BenchmarkSpec:
    function: str  # e.g. track_tcp_stream_throughput
    workload: str
    metric: str
    unit: str
    higher_is_better: bool
    summary: str
    primary: bool  # the workload's primary metric (what rankings and compare look at first)
    methods: tuple[str, ...]
    placements: tuple[str, ...]

    @property
    def name(self) -> str:
        """The asv benchmark name, as ``asv compare`` and ``asv show`` print it."""
        return f"{MODULE}.{self.function}"

    @property
    def pretty_name(self) -> str:
        direction = "higher is better" if self.higher_is_better else "lower is better"
        return f"{self.workload}: {self.metric} in {self.unit} ({direction})"

    def combinations(self) -> list[tuple[str, str]]:
        """(method, placement) in asv's order: itertools.product of the parameter lists."""
        return list(itertools.product(self.methods, self.placements))

    def asv_params(self) -> list[list[str]]:
        """Parameter values as asv stores them (repr strings)."""
        return [[repr(m) for m in self.methods], [repr(p) for p in self.placements]]


def _identifier(text: str) -> str:
    # asv splits benchmark ids at "-" (parameter index), so ids become underscores.
    return re.sub(r"\W", "_", text)


#: Presets whose path variants (fixed values: a LAN's and the internet's round trips, loss and
#: rate) are benchmarks of their own, so their history is kept like a workload's.
PATH_PRESETS = ("lan", "wan")


def path_variants() -> list[Workload]:
    """The workload variants of the path presets (``tcp-stream+rtt20ms+loss0.1pct``)."""
    from ..run import presets
    from ..workloads import sweeps

    found: dict[str, Workload] = {}
    for name in PATH_PRESETS:
        options = dict(presets.PRESETS[name].options)
        chosen = {sweep: sweeps.SWEEPS[sweep].parse(options[sweep]) for sweep in sweeps.PATH_SWEEPS if sweep in options}
        for base in options["workloads"].split(","):
            for values in sweeps.combinations(chosen):
                variant = workload(sweeps.variant_id(base, values))
                found.setdefault(variant.id, variant)
    return list(found.values())


def all_specs() -> list[BenchmarkSpec]:
    specs = []
    for workload in [*WORKLOADS.values(), *path_variants()]:
        # Built-in methods only: asv's parameters are the history's columns, fixed across runs.
        methods = tuple(m.id for m in BUILTIN if applies(m.id, workload))
        placements = tuple(p for p in PLACEMENTS if p in workload.placements
                           and (workload.id in WORKLOADS or p == "remote"))  # a path: remote only
        for metric in workload.metrics():
            specs.append(BenchmarkSpec(
                function=f"track_{_identifier(workload.id)}_{_identifier(metric.id)}",
                workload=workload.id, metric=metric.id, unit=metric.unit,
                higher_is_better=metric.higher_is_better, summary=metric.summary,
                primary=metric.id == workload.metric.id,
                methods=methods, placements=placements,
            ))
    return specs
