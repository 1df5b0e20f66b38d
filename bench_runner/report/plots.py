"""PNG plots of a stored run, for readers who would rather look than read.

Per workload: every trial of every method with its median and 95% interval, against the
``host`` baseline. Per workload whose metrics include percentiles (p50, p90, p99...):
their distribution. Figures take their numbers from the ranked tables (``analysis``) and
the samples from the document, so they show exactly what the tables say. Matplotlib's
object API with the Agg renderer only: no pyplot state, no display needed.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from typing import Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from ..analysis.ranking import BASELINE, MethodRow, RankTable  # noqa: E402
from ..run.matrix import HOST_STACK, METHODS  # noqa: E402
from ..results.document import CellResult  # noqa: E402
from ..analysis.stats import Summary  # noqa: E402
from ..analysis.tables import fmt, fmt_interval  # noqa: E402

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies); the
#: baseline is black. A method keeps its colour in every plot of every report.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#999999", "#F0E442")
DPI = 110
WIDTH_IN = 10.0
_PERCENTILE = re.compile(r"^p(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class Plot:
    name: str  # file-name part, e.g. "tcp-stream" or "tcp-rr-percentiles"
    title: str  # alt text and caption
    workload: str
    kind: str  # "samples" or "percentiles"
    png: bytes


def colour(method: str) -> str:
    if method == BASELINE:
        return "#000000"
    known = [m for m in METHODS if m != BASELINE]
    index = known.index(method) if method in known else len(known) + sum(map(ord, method))
    return PALETTE[index % len(PALETTE)]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # Fixed metadata so the same document gives the same bytes.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _direction(higher_is_better: bool) -> str:
    return "higher is better" if higher_is_better else "lower is better"


def _spread(count: int, width: float = 0.5) -> list[float]:
    """Vertical offsets that spread a method's trials so none hides another."""
    if count <= 1:
        return [0.0] * count
    return [-width / 2 + width * i / (count - 1) for i in range(count)]


def _samples_axes(ax: Axes, table: RankTable, cells: dict[str, CellResult]) -> None:
    rows: Sequence[MethodRow] = table.rows
    labels = [f"#{row.rank} {row.label}" for row in rows] + [f"{m} (not ranked)" for m, _ in table.unranked]
    positions = list(range(len(labels)))[::-1]  # best at the top
    # The dashed line is this machine's host baseline (or the first stack's, without it).
    base = next((r for r in rows if r.is_baseline and r.stack == HOST_STACK), next((r for r in rows if r.is_baseline), None))
    if base is not None:
        if base.summary.ci_low is not None and base.summary.ci_high is not None:
            ax.axvspan(base.summary.ci_low, base.summary.ci_high, color="#000000", alpha=0.07, lw=0)
        ax.axvline(base.summary.median, color="#000000", ls="--", lw=1)
    for y, row in zip(positions, rows):
        values = cells[row.label].samples()
        c = colour(row.method)
        ax.scatter(values, [y + d for d in _spread(len(values))], s=22, color=c, alpha=0.75,
                   edgecolors="white", linewidths=0.4, zorder=3)
        s = row.summary
        if s.ci_low is not None and s.ci_high is not None:
            ax.plot([s.ci_low, s.ci_high], [y, y], color=c, lw=9, alpha=0.3, solid_capstyle="butt", zorder=2)
        ax.plot([s.median], [y], marker="|", ms=22, mew=2.5, color="#000000" if row.is_baseline else c,
                zorder=4)
        if row.is_baseline:
            note = f"baseline, median {fmt(s.median)}"
        elif row.vs_baseline is not None:
            vs = row.vs_baseline
            interval = f" {fmt_interval(vs.ci_low, vs.ci_high)}" if vs.ci_low is not None else ""
            note = f"{fmt(vs.value)}\u00d7 host{interval}"
        else:
            note = f"median {fmt(s.median)}"
        ax.annotate(note, xy=(1.01, y), xycoords=("axes fraction", "data"), va="center", fontsize=9)
    for y, (method, why) in zip(positions[len(rows):], table.unranked):
        ax.annotate(why if len(why) < 70 else why[:67] + "...", xy=(0.01, y), xycoords=("axes fraction", "data"),
                    va="center", fontsize=8, color="#666666", style="italic")
    ax.set_yticks(positions, labels, fontsize=9)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.set_xlim(left=0)
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_title(f"{table.workload} / {table.placement}", fontsize=10, loc="left")
    ax.set_xlabel(f"{table.metric} ({table.unit}), {_direction(table.higher_is_better)}", fontsize=9)


def samples_figure(tables: Sequence[RankTable], cells: dict[tuple[str, str], dict[str, CellResult]]) -> Figure:
    """One workload, one panel per placement: each trial a dot, the median a tick, the 95%
    interval a bar, the host median a dashed line (its interval shaded)."""
    heights = [max(1, len(t.rows) + len(t.unranked)) * 0.45 + 1.0 for t in tables]
    figure = Figure(figsize=(WIDTH_IN, sum(heights) + 0.9), layout="constrained")
    axes = figure.subplots(len(tables), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, table in zip(axes, tables):
        _samples_axes(ax, table, cells[(table.workload, table.placement)])
    first = tables[0]
    figure.suptitle(f"{first.workload}: {first.metric} per trial, by method "
                    f"(ratio to host at the right)", fontsize=11)
    figure.legend(handles=[
        Line2D([], [], marker="o", ls="", color="#555555", label="one trial"),
        Line2D([], [], marker="|", ms=12, mew=2, ls="", color="#555555", label="median"),
        Line2D([], [], lw=7, alpha=0.3, color="#555555", label="95% interval of the median"),
        Line2D([], [], ls="--", color="#000000", label="host median (its interval shaded)"),
    ], loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    return figure


def percentile_metrics(cells: Sequence[CellResult]) -> list[tuple[float, str]]:
    """(percentile, metric id) for the pNN metrics the cells record, in one unit, ascending."""
    if not cells:
        return []
    first = cells[0]
    found = {}
    for metric_id, unit in [(first.metric, first.unit), *((m.id, m.unit) for m in first.extra_metrics)]:
        match = _PERCENTILE.match(metric_id)
        if match:
            found.setdefault(unit, []).append((float(match.group(1)), metric_id))
    best = max(found.values(), key=len, default=[])
    return sorted(best) if len(best) >= 2 else []


def _summary(row: MethodRow, table: RankTable, metric: str) -> Summary | None:
    return row.summary if metric == table.metric else row.extra.get(metric)


def _percentile_axes(ax: Axes, table: RankTable, cells: dict[str, CellResult],
                     metrics: list[tuple[float, str]]) -> tuple[float, float]:
    xs = list(range(len(metrics)))
    count = max(1, len(table.rows))
    low, high = math.inf, 0.0
    for index, row in enumerate(table.rows):
        c = colour(row.method)
        shift = (index - (count - 1) / 2) * 0.06
        for trial in cells[row.label].trials:
            if trial.status != "ok" or trial.warmup:
                continue
            values = [trial.samples.get(m) for _, m in metrics]
            if all(v is not None for v in values):
                ax.plot([x + shift for x in xs], values, color=c, alpha=0.18, lw=0.8)
        medians, lower, upper = [], [], []
        for _, metric in metrics:
            s = _summary(row, table, metric)
            medians.append(s.median if s else math.nan)
            has_ci = s is not None and s.ci_low is not None and s.ci_high is not None
            lower.append(s.median - s.ci_low if has_ci else 0.0)  # type: ignore[operator, union-attr]
            upper.append(s.ci_high - s.median if has_ci else 0.0)  # type: ignore[operator, union-attr]
            if s is not None:
                low = min(low, s.minimum)
                high = max(high, s.maximum)
        ax.errorbar([x + shift for x in xs], medians, yerr=[lower, upper], color=c, marker="o", ms=5,
                    lw=2 if row.is_baseline else 1.5, ls="--" if row.is_baseline else "-",
                    capsize=3, label=f"#{row.rank} {row.label}")
    ax.set_xticks(xs, [m for _, m in metrics])
    ax.set_xlim(-0.4, len(xs) - 0.6)
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.set_title(f"{table.workload} / {table.placement}", fontsize=10, loc="left")
    ax.set_xlabel("percentile of each trial's times", fontsize=9)
    return low, high


def percentiles_figure(tables: Sequence[RankTable], cells: dict[tuple[str, str], dict[str, CellResult]],
                       metrics: list[tuple[float, str]], unit: str) -> Figure:
    """One workload, one panel per placement: per method the median over trials of each
    percentile with its 95% interval, and each trial's own percentiles as faint lines."""
    figure = Figure(figsize=(WIDTH_IN, 4.6), layout="constrained")
    axes = figure.subplots(1, len(tables), squeeze=False, sharey=True)[0]
    low, high = math.inf, 0.0
    for ax, table in zip(axes, tables):
        a, b = _percentile_axes(ax, table, cells[(table.workload, table.placement)], metrics)
        low, high = min(low, a), max(high, b)
    if low > 0 and math.isfinite(low) and high / low > 10:
        axes[0].set_yscale("log")
        axes[0].yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
        axes[0].yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axes[0].yaxis.set_minor_formatter(NullFormatter())
    else:
        axes[0].set_ylim(bottom=0)
    axes[0].set_ylabel(f"{unit}, {_direction(tables[0].higher_is_better)}", fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, [label.split(" ", 1)[1] for label in labels], loc="outside lower center",
                  ncols=min(4, len(labels)) or 1, fontsize=8, frameon=False)
    figure.suptitle(f"{tables[0].workload}: distribution of times (median over trials, 95% interval; "
                    f"faint lines: single trials)", fontsize=11)
    return figure


@dataclass(frozen=True)
class SweepSeries:
    """One sweep of one workload in one placement, the other swept values held: x values and,
    per method, the ranked row at each."""

    base: str
    placement: str
    sweep: str
    held: tuple[tuple[str, int], ...]
    points: tuple[tuple[int, RankTable], ...]


def sweep_series(tables: Sequence[RankTable]) -> list[SweepSeries]:
    """Every sweep with two values or more, grouped so that only its own value varies. A
    workload without a sweep's suffix is at its neutral value (``tcp-stream`` is IPv4), which
    is not named among the values held."""
    from ..workloads import sweeps

    groups: dict[tuple[str, str, str, tuple[tuple[str, int], ...]], list[tuple[int, RankTable]]] = {}
    for table in tables:
        try:
            base, values = sweeps.split(table.workload)
        except KeyError:
            continue
        values = {n: values.get(n, s.neutral) for n, s in sweeps.SWEEPS.items()
                  if n in values or s.neutral is not None}
        for name, value in values.items():
            if sweeps.SWEEPS[name].is_word(value):
                continue  # not a point on the axis (--udp-rate max)
            held = tuple((k, v) for k, v in values.items() if k != name and v != sweeps.SWEEPS[k].neutral)
            groups.setdefault((base, table.placement, name, held), []).append((value, table))
    return [SweepSeries(base, placement, name, held, tuple(sorted(points, key=lambda p: p[0])))
            for (base, placement, name, held), points in groups.items() if len(points) > 1]


def sweep_figure(series: SweepSeries) -> Figure:
    """The metric against the swept value, a line per method, its 95% interval a band."""
    from ..workloads import sweeps

    figure = Figure(figsize=(WIDTH_IN * 0.8, 4.6), layout="constrained")
    ax = figure.subplots()
    sweep = sweeps.SWEEPS[series.sweep]
    first = series.points[0][1]
    labels = list(dict.fromkeys(row.label for _, t in series.points for row in t.rows))
    for label in labels:
        xs, ys, lows, highs = [], [], [], []
        for x, table in series.points:
            row = next((r for r in table.rows if r.label == label), None)
            if row is None:
                continue
            xs.append(sweep.axis(x))
            ys.append(row.summary.median)
            lows.append(row.summary.ci_low if row.summary.ci_low is not None else row.summary.median)
            highs.append(row.summary.ci_high if row.summary.ci_high is not None else row.summary.median)
        method = label.split("@", 1)[0]
        ax.plot(xs, ys, marker="o", color=colour(method), label=label, ls="--" if method == BASELINE else "-")
        ax.fill_between(xs, lows, highs, color=colour(method), alpha=0.15, lw=0)
    values = [sweep.axis(x) for x, _ in series.points]
    if min(values) > 0 and max(values) / min(values) >= 8:
        ax.set_xscale("log", base=2)
    ax.set_xticks(values, [sweep.axis_text(x) for x, _ in series.points])
    ax.set_xlabel(sweep.label)
    ax.set_ylabel(f"{first.metric} ({first.unit}), {_direction(first.higher_is_better)}")
    ax.grid(True, alpha=0.3)
    held = ", ".join(f"{sweeps.SWEEPS[k].flag.lstrip('-')} {sweeps.SWEEPS[k].text(v)}" for k, v in series.held)
    figure.suptitle(f"{series.base} / {series.placement}: {first.metric} against {sweep.flag.lstrip('-')}"
                    + (f" ({held})" if held else "") + "; median, band = 95% interval", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return figure


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def plots_for(tables: Sequence[RankTable], cells: Sequence[CellResult]) -> list[Plot]:
    """Every plot of one run, in the order of its workloads."""
    from ..workloads import sweeps

    by_group: dict[tuple[str, str], dict[str, CellResult]] = {}
    for cell in cells:
        by_group.setdefault((cell.workload, cell.placement), {})[cell.label] = cell
    found: list[Plot] = []
    workloads = list(dict.fromkeys(t.workload for t in tables))
    for workload in workloads:
        mine = [t for t in tables if t.workload == workload and (t.rows or t.unranked)]
        if not any(t.rows for t in mine):
            continue
        figure = samples_figure(mine, by_group)
        found.append(Plot(_safe(workload), f"{workload}: each trial, median and 95% interval per method, "
                                           f"against the host baseline", workload, "samples", _png(figure)))
        ranked = [t for t in mine if t.rows]
        group_cells = [c for t in ranked for c in by_group[(t.workload, t.placement)].values()]
        metrics = percentile_metrics(group_cells)
        if metrics:
            unit = next(c.metric_info(metrics[0][1]).unit for c in group_cells)
            figure = percentiles_figure(ranked, by_group, metrics, unit)
            found.append(Plot(_safe(f"{workload}-percentiles"), f"{workload}: distribution of times "
                                                              f"({', '.join(m for _, m in metrics)}) per method",
                              workload, "percentiles", _png(figure)))
    for series in sweep_series([t for t in tables if t.rows]):
        held = "".join(f"-{k}{sweeps.SWEEPS[k].text(v)}" for k, v in series.held)
        name = _safe(f"{series.base}-{series.placement}-by-{series.sweep}{held}")
        found.append(Plot(name, f"{series.base} / {series.placement}: {series.points[0][1].metric} against "
                                f"{series.sweep}, one line per method", series.points[0][1].workload, "sweep",
                          _png(sweep_figure(series))))
    return found
