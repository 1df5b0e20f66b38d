"""Ranked tables for the terminal (and, with ``tablefmt="github"``, for Markdown)."""

from __future__ import annotations

import math

from tabulate import tabulate

from .analysis import RankTable


def fmt(value: float | None, digits: int = 3) -> str:
    """Three significant digits, no scientific notation for ordinary magnitudes."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:.{decimals}f}"


def fmt_interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "-"
    return f"[{fmt(low)}, {fmt(high)}]"


def title(table: RankTable) -> str:
    direction = "higher is better" if table.higher_is_better else "lower is better"
    return f"{table.workload} / {table.placement}: {table.metric} in {table.unit} ({direction})"


def render(table: RankTable, *, tablefmt: str = "simple") -> str:
    headers = ["rank", "method", "median", "95% CI", "vs host", "95% CI", "n", "carried by", "server saw"]
    rows = []
    for row in table.rows:
        vs = row.vs_baseline
        rows.append([
            row.rank,
            row.method,
            fmt(row.summary.median),
            fmt_interval(row.summary.ci_low, row.summary.ci_high),
            "1 (baseline)" if row.method == "host" else (fmt(vs.value) if vs else "-"),
            fmt_interval(vs.ci_low, vs.ci_high) if vs else "",
            f"{row.summary.n}" + (f" ({row.failed_trials} failed)" if row.failed_trials else ""),
            ", ".join(row.listeners) or "-",
            ", ".join(row.peers) or "-",
        ])
    text = tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
    notes = [f"  {method}: {why}" for method, why in table.unranked]
    if notes:
        text += "\nnot ranked:\n" + "\n".join(notes)
    return text


def render_all(tables: list[RankTable], *, tablefmt: str = "simple") -> str:
    return "\n\n".join(f"{title(t)}\n{render(t, tablefmt=tablefmt)}" for t in tables)
