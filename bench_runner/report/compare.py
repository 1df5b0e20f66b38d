"""``compare``'s output: the comparison of two sides as Markdown (for an issue) or JSON."""

from __future__ import annotations

import math
from typing import Any

from ..analysis import stats
from ..analysis.compare import Comparison, Side
from ..analysis.tables import fmt, fmt_interval
from .jsonout import summary_json


def _versions_table(comparison: Comparison) -> list[list[str]]:
    left, right = dict(comparison.a.versions), dict(comparison.b.versions)
    keys = list(left) + [k for k in right if k not in left]
    table = []
    for key in keys:
        va, vb = left.get(key, "-"), right.get(key, "-")
        mark = "**" if va != vb else ""
        table.append([key, f"{mark}{va}{mark}", f"{mark}{vb}{mark}"])
    return table


def render_markdown(comparison: Comparison) -> str:
    from tabulate import tabulate

    a, b = comparison.a, comparison.b
    out = ["## podman-netbench compare: B against A", ""]
    head = [["source", f"`{a.label}`", f"`{b.label}`"], *_versions_table(comparison)]
    out.append(tabulate(head, headers=["", "A", "B"], tablefmt="github"))
    paired = any(r.paired for r in comparison.rows)
    if paired:
        out += ["", "A and B are two stacks of the same run, measured round by round. Where both cells ran in "
                    "the same rounds (\"paired\"), B/A is the median of the per-round ratios B/A with the "
                    "order-statistic interval of those ratios (at least 95%) and p is the exact sign test over the "
                    "rounds; elsewhere B/A is the Hodges-Lehmann ratio (the median of all B/A pairs) with the interval "
                    "from the exact Mann-Whitney test. The verdict is B's, by each metric's direction.", ""]
    else:
        out += ["", "B/A is the Hodges-Lehmann ratio (the median of all B/A pairs) with the 95% interval from the "
                    "exact Mann-Whitney test (exact where B and A differ by a factor); the verdict is B's, by each "
                    "metric's direction; p is a two-sided Mann-Whitney U.", ""]
    pooled = [r for r in comparison.rows if r.runs]
    if pooled:
        out += ["Rows marked 'runs' pool several runs on a side: B/A is the ratio of the pooled medians with a "
                "two-stage bootstrap interval (runs, then trials within runs), so run-to-run variance is in it "
                "(approximately 95%: with few runs a bootstrap covers less than it says).", ""]
    if a.run_count <= 1 and b.run_count <= 1 and not paired:
        out += ["Each side is one run: run-to-run variance (a reboot, another day) is not in these intervals; "
                "record more runs of each stack to see it.", ""]
    for side, name in ((a, "A"), (b, "B")):
        if side.run_count > 1 and not side.runs:
            out += [f"{name} pools {side.run_count} runs whose documents are no longer where they were recorded "
                    "from: its samples count as one run, so its run-to-run variance is not in the intervals.", ""]
    rows = []
    for r in comparison.rows:
        direction = "higher is better" if r.higher_is_better else "lower is better"
        rows.append([r.key.workload, f"{r.key.metric} ({r.unit}, {direction})", r.key.placement, r.key.method,
                     f"{fmt(r.a.median)} (n={r.a.n})", f"{fmt(r.b.median)} (n={r.b.n})", fmt(r.ratio.value),
                     fmt_interval(r.ratio.ci_low, r.ratio.ci_high),
                     "-" if r.ratio.p_value is None else f"{r.ratio.p_value:.2g}",
                     f"**{r.verdict}**" if r.verdict == "worse" else r.verdict,
                     *((("paired" if r.paired else f"runs {r.runs[0]}+{r.runs[1]}" if r.runs else "independent"),)
                       if paired or pooled else ())])
    headers = ["workload", "metric", "placement", "method", "A median", "B median", "B/A", "95% CI", "p", "verdict"]
    out.append(tabulate(rows, headers=headers + (["samples"] if paired or pooled else []), tablefmt="github",
                        disable_numparse=True))
    if any(r.verdict == "inconclusive" for r in comparison.rows):
        out += ["", f"inconclusive: no finite interval of the ratio (fewer than {stats.MIN_SAMPLES_FOR_CI} "
                    "samples on a side, or medians of 0 in A)."]
    # Cells of a method one side lacks altogether are said once, with why, below.
    lacked = {m for m, why in (*comparison.a_lacks, *comparison.b_lacks) if why is not None}
    for title, keys in (("Only in A", comparison.only_a), ("Only in B", comparison.only_b)):
        keys = tuple(k for k in keys if k.method not in lacked)
        if keys:
            out += ["", f"{title}: " + ", ".join(k.label for k in keys)]
    for name, lacking in (("A", comparison.a_lacks), ("B", comparison.b_lacks)):
        if lacking:
            out += ["", f"{name} lacks {len(lacking)} method(s) the other side measured:"]
            out += [f"- `{method}`: {why or 'not measured there (no cell of it)'}" for method, why in lacking]
    for key, why in comparison.not_compared:
        out += ["", f"Not compared: {key.label}: {why}"]
    if comparison.threshold_pct is not None:
        found = comparison.regressions()
        out += ["", f"**Regressions** (significantly worse by more than {comparison.threshold_pct:g}%): "
                    + (", ".join(f"{r.key.label} {r.worse_by_pct:.1f}% worse" for r in found) if found else "none")]
    return "\n".join(out) + "\n"


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def to_json(comparison: Comparison) -> dict[str, Any]:
    def side(s: Side) -> dict[str, Any]:
        return {"label": s.label, "kind": s.kind, "source": s.source, "versions": dict(s.versions)}

    regressions = {id(r) for r in comparison.regressions()}
    return {
        "a": side(comparison.a), "b": side(comparison.b),
        "ratio": "B against A: median of per-round ratios (paired) or Hodges-Lehmann ratio",
        "confidence": stats.CONFIDENCE,
        "threshold_pct": comparison.threshold_pct,
        "rows": [{
            "workload": r.key.workload, "metric": r.key.metric, "placement": r.key.placement,
            "method": r.key.method, "unit": r.unit, "higher_is_better": r.higher_is_better,
            "a": summary_json(r.a), "b": summary_json(r.b),
            "ratio": _finite(r.ratio.value), "ratio_ci": [r.ratio.ci_low, r.ratio.ci_high],
            "p_value": r.ratio.p_value, "verdict": r.verdict, "worse_by_pct": _finite(r.worse_by_pct),
            "paired_by_round": r.paired, "runs": list(r.runs) if r.runs else None,
            "regression": id(r) in regressions,
        } for r in comparison.rows],
        "only_in_a": [k.label for k in comparison.only_a],
        "only_in_b": [k.label for k in comparison.only_b],
        "not_compared": [{"cell": k.label, "why": why} for k, why in comparison.not_compared],
        "a_lacks": [{"method": m, "why": why} for m, why in comparison.a_lacks],
        "b_lacks": [{"method": m, "why": why} for m, why in comparison.b_lacks],
        "regressions": len(regressions),
    }
