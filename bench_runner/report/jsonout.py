"""The JSON shapes of a summary, for scripts: one object per kind (a summary of samples, a
ranked table, a verdict, a claim cell, a warning), emitted alike by ``run --format json``,
``report --format json`` and ``compare --format json``; and the report as JSON, the same
rankings, verdicts, claims and warnings the Markdown shows, with numbers unformatted."""

from __future__ import annotations

from typing import Any, Iterable

from ..analysis.directions import DirectionTable
from ..analysis.ranking import RankTable
from ..analysis.claims import MatrixCell
from ..analysis.stability import Warning_
from ..analysis.stats import Summary
from ..analysis.verdicts import OrderingVerdict
from .content import ReportContent

FORMAT_VERSION = 1


def summary_json(summary: Summary) -> dict[str, Any]:
    """A median with its interval and spread, wherever one is shown."""
    return {"n": summary.n, "median": summary.median, "ci": [summary.ci_low, summary.ci_high],
            "ci_level": summary.ci_level, "cv": summary.cv, "min": summary.minimum, "max": summary.maximum,
            "outliers": summary.outliers}


def verdict_json(verdict: OrderingVerdict) -> dict[str, Any]:
    """One ordering verdict with both decisions of each pair: by its own interval (raw) and
    within the run's family (Holm), which is the one the tables show and CI exits on."""
    return {
        "workload": verdict.workload, "placement": verdict.placement, "stack": verdict.stack,
        "metric": verdict.metric, "higher_is_better": verdict.higher_is_better,
        "pairs": [{"better": p.better, "worse": p.worse, "ratio": p.ratio, "ci": [p.ci_low, p.ci_high],
                   "ci_level": p.level, "p_value": p.p_value, "p_holm": p.p_adjusted, "raw_verdict": p.raw_verdict,
                   "verdict": p.verdict, "why": p.why, "within": p.within} for p in verdict.pairs],
    }


def table_json(table: RankTable) -> dict[str, Any]:
    return {
        "workload": table.workload, "placement": table.placement, "metric": table.metric, "unit": table.unit,
        "higher_is_better": table.higher_is_better,
        "rows": [{
            "rank": row.rank, "method": row.method, "stack": row.stack, **summary_json(row.summary),
            "ratio_to_host": row.vs_baseline.value if row.vs_baseline else (1.0 if row.is_baseline else None),
            "ratio_ci": [row.vs_baseline.ci_low, row.vs_baseline.ci_high] if row.vs_baseline else None,
            "ratio_ci_level": row.vs_baseline.level if row.vs_baseline else None,
            "carried_by": list(row.listeners), "server_saw": list(row.peers), "failed_trials": row.failed_trials,
            "provider": row.provider,
            "extra": {metric: summary_json(s) for metric, s in row.extra.items()},
        } for row in table.rows],
        "unranked": [{"method": m, "why": why} for m, why in table.unranked],
        "other_providers": [{"method": m, "provider": p, "why": why} for m, p, why in table.other_providers],
    }


def direction_json(table: DirectionTable) -> dict[str, Any]:
    """Both directions of a throughput workload, method by method (the ratio: reverse against
    forward, the median of per-round ratios)."""
    return {
        "placement": table.placement, "forward": table.forward.workload, "reverse": table.reverse.workload,
        "unit": table.forward.unit,
        "rows": [{
            "method": row.method, "stack": row.stack,
            "forward": summary_json(row.forward.summary) if row.forward else None,
            "forward_rank": row.forward.rank if row.forward else None,
            "reverse": summary_json(row.reverse.summary) if row.reverse else None,
            "reverse_rank": row.reverse.rank if row.reverse else None,
            "reverse_vs_forward": row.reverse_vs_forward.value if row.reverse_vs_forward else None,
            "ci": [row.reverse_vs_forward.ci_low, row.reverse_vs_forward.ci_high] if row.reverse_vs_forward else None,
        } for row in table.rows],
    }


def claims_json(cells: Iterable[MatrixCell], tolerance: float) -> dict[str, Any]:
    """The claims matrix: each cell (claim, method, stack, IP family, what the guide
    documents, what was observed, whether they agree, the evidence, or why not applicable)."""
    return {"tolerance": tolerance, "cells": [c.to_json() for c in cells]}


def warning_json(warning: Warning_) -> dict[str, Any]:
    return {"cell": warning.cell, "kinds": list(warning.kinds), "text": warning.text(),
            "remedy": warning.remedy}


def render(content: ReportContent, plot_files: list[str]) -> dict[str, Any]:
    document = content.document
    return {
        "report_version": FORMAT_VERSION,
        "about": f"{content.about()}: reproduce with {content.reproduction.shell}",
        "source": str(content.source),
        "run": {k: document.run.get(k) for k in ("id", "started_at", "finished_at", "status", "seed", "command",
                                                  "options")},
        "provider": document.provider,
        "stack": document.stack,
        "lab": document.lab,
        "reproduce": {"argv": list(content.reproduction.argv), "shell": content.reproduction.shell,
                      "not_carried": list(content.reproduction.not_carried)},
        "tables": [table_json(g.table) for g in content.groups],
        "directions": [direction_json(d) for d in content.directions],
        "slow_trials": [{"cell": f.cell, "trial": f.trial, "moved": f.moved, "host_median": f.host_median,
                         "unit": f.unit, "kind": f.kind, "where": f.where, "evidence": list(f.evidence)}
                        for f in content.findings],
        "verdicts": {expectation: [verdict_json(v) for v in verdicts]
                     for expectation, verdicts in content.verdicts.items()},
        "claims": claims_json(content.claims, content.tolerance),
        "warnings": [warning_json(w) for w in content.warnings],
        "run_warnings": list(document.warnings),
        "plots": plot_files,
    }
