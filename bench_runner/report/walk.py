"""``compare --walk``'s output: each workload's builds side by side, each step's ratio and
verdict, and the first build where the figure changed, as Markdown (for an issue) or JSON."""

from __future__ import annotations

from typing import Any

from ..analysis.tables import fmt, fmt_interval
from ..analysis.walk import ALPHA, SAME_MARGIN, Walk
from ..methods import METHODS


def render_markdown(found: list[Walk], builds: list[str]) -> str:
    from tabulate import tabulate

    out = ["## podman-netbench release walk", ""]
    for build in builds:
        method = METHODS.get(build)
        out.append(f"- `{build}`: {method.summary if method is not None else 'not known'}")
    out += ["", "### First change", ""]
    out += [f"- {w.sentence()}" for w in found]
    out += ["", "### Medians", ""]
    rows = [[f"{w.workload}/{w.placement}" + ("" if w.stack == "host" else f"@{w.stack}"), f"{w.metric} ({w.unit})",
             *(fmt(m) for _, m in w.medians)] for w in found]
    out.append(tabulate(rows, headers=["workload/placement", "metric", *builds], tablefmt="github"))
    out += ["", "### Steps", ""]
    steps = [[f"{w.workload}/{w.placement}", f"{s.before} -> {s.after}", fmt(s.ratio.value),
              fmt_interval(s.ratio.ci_low, s.ratio.ci_high, s.ratio.level), str(s.ratio.n),
              "-" if s.p_adjusted is None else f"{s.p_adjusted:.2g}", s.verdict]
             for w in found for s in w.steps]
    out.append(tabulate(steps, headers=["workload/placement", "step", "ratio (later/earlier)", "95% interval",
                                        "rounds", "Holm p", "verdict"], tablefmt="github"))
    out += ["", f"A step is better or worse when its Holm-adjusted p (over all {len(steps)} steps) is below "
                f"{ALPHA:g}, by the metric's direction; the same when both one-sided tests show it within "
                f"±{SAME_MARGIN:.0%}; otherwise undecided. Ratios are paired by round of the one interleaved run.", ""]
    return "\n".join(out)


def to_json(found: list[Walk]) -> list[dict[str, Any]]:
    return [{"workload": w.workload, "placement": w.placement, "stack": w.stack, "metric": w.metric, "unit": w.unit,
             "higher_is_better": w.higher_is_better, "medians": dict(w.medians),
             "first_change": None if w.first_change is None else w.first_change.after,
             "steps": [{"before": s.before, "after": s.after, "ratio": s.ratio.value, "ci_low": s.ratio.ci_low,
                        "ci_high": s.ratio.ci_high, "level": s.ratio.level, "rounds": s.ratio.n,
                        "p_value": s.ratio.p_value, "p_adjusted": s.p_adjusted, "verdict": s.verdict}
                       for s in w.steps]}
            for w in found]
