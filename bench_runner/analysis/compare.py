"""Compare two stacks cell by cell, knowing which way is better for each metric.

A side is a results document or a stack snapshot in the asv history (all samples recorded
for it on one machine). Per workload, metric, placement and method: both medians, the
ratio B/A with its interval (``stats.ratio``: paired by round for two stacks of one run, else
Hodges-Lehmann with the Mann-Whitney interval), and a verdict for B against
A from the metric's own direction (``stats.better``): a throughput drop is "worse", a
latency rise is "worse". asv's compare assumes lower is better for everything, so its
+/- cannot be used for throughput. No finite interval of the ratio (fewer than three
samples on a side, or medians of 0 in A): "inconclusive", never "same".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..results import document as results
from . import stats
from ..errors import UsageError
from ..history import asvfiles
from ..history.config import AsvConfig
from ..history.machine import checked_name
from ..history.snapshots import StackRepo
from ..run.matrix import HOST_STACK
from .tables import fmt, fmt_interval


@dataclass(frozen=True, order=True)
class CellKey:
    workload: str
    metric: str
    placement: str
    method: str

    @property
    def label(self) -> str:
        return f"{self.workload}/{self.placement}/{self.method} {self.metric}"


@dataclass(frozen=True)
class CellSamples:
    unit: str
    higher_is_better: bool
    samples: tuple[float, ...]
    #: The round of each sample, where the side is one run's document.
    rounds: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Side:
    label: str
    kind: str  # "document" or "snapshot"
    source: str  # a path, or a commit of the stack history
    versions: tuple[tuple[str, str], ...]
    cells: dict[CellKey, CellSamples] = field(hash=False)
    #: The run a document side came from (its id and start), to pair two stacks of one run.
    run: tuple[str, str] | None = None
    #: A snapshot side's samples run by run, where it pools several runs and their documents
    #: are still where they were recorded from (for an interval that covers run-to-run variance).
    runs: dict[CellKey, tuple[tuple[float, ...], ...]] = field(default_factory=dict, hash=False)
    #: Runs pooled in a snapshot side (1 for a document).
    run_count: int = 1


@dataclass(frozen=True)
class Row:
    key: CellKey
    unit: str
    higher_is_better: bool
    a: stats.Summary
    b: stats.Summary
    ratio: stats.Ratio  # median(B) / median(A)
    verdict: str  # better / worse / same / inconclusive: B against A
    worse_by_pct: float  # how much worse B is than A, in the metric's direction (negative: better)
    #: Rounds paired: A and B are two stacks of one run, their trials of a round resampled together.
    paired: bool = False
    #: Runs behind each side where a side pools several (the interval then resamples runs).
    runs: tuple[int, int] | None = None


@dataclass(frozen=True)
class Comparison:
    a: Side
    b: Side
    rows: tuple[Row, ...]
    only_a: tuple[CellKey, ...]
    only_b: tuple[CellKey, ...]
    not_compared: tuple[tuple[CellKey, str], ...]
    threshold_pct: float | None

    def regressions(self) -> list[Row]:
        """Cells whose whole interval of the change lies beyond the threshold, the worse way
        (none without a threshold): "worse by more than PCT" is then what the data show, not
        only what the point estimate says."""
        if self.threshold_pct is None:
            return []
        return [r for r in self.rows if r.verdict == "worse" and interval_beyond(r, self.threshold_pct)]


def worse_by_pct(ratio_value: float, higher_is_better: bool) -> float:
    """Percent by which B is worse than A given median(B)/median(A): a drop to 0.8 of a
    throughput is 20, a rise to 1.2 of a latency is 20; improvements are negative."""
    if not math.isfinite(ratio_value):
        return math.inf if higher_is_better is False else -math.inf
    return (1.0 - ratio_value) * 100.0 if higher_is_better else (ratio_value - 1.0) * 100.0


def interval_beyond(row: "Row", threshold_pct: float) -> bool:
    """The whole interval of B/A is worse than A by more than ``threshold_pct`` percent."""
    low, high = row.ratio.ci_low, row.ratio.ci_high
    if low is None or high is None:
        return False
    if row.higher_is_better:
        return high < 1 - threshold_pct / 100
    return low > 1 + threshold_pct / 100


def verdict(ratio_: stats.Ratio, higher_is_better: bool) -> str:
    """B against A; "same" where every round gave exactly the same value on both sides."""
    if ratio_.ci_low is None or ratio_.ci_high is None:
        return "same" if ratio_.paired and ratio_.value == 1 and ratio_.n >= stats.MIN_SAMPLES_FOR_CI \
            else "inconclusive"
    if not ratio_.nominal:
        return "inconclusive"
    return stats.better(ratio_, higher_is_better)


def side_from_document(path: Path, metrics: str, stack: str = HOST_STACK) -> Side:
    """One stack's cells of a results document (this machine's own unless ``stack`` names a
    booted one)."""
    from ..history.record import snapshot_of

    document = results.load(path)
    if stack not in document.stack_names():
        raise UsageError(f"{path}: no stack {stack!r} in this run (it has: {', '.join(document.stack_names())})")
    cells: dict[CellKey, CellSamples] = {}
    for cell in document.cells:
        if cell.status != "measured" or cell.stack != stack:
            continue
        infos = [cell.metric_info(cell.metric)] + (list(cell.extra_metrics) if metrics == "all" else [])
        for info in infos:
            kept = [t for t in cell.trials if t.status == "ok" and not t.warmup and info.id in t.samples
                    and math.isfinite(t.samples[info.id])]
            if kept:
                cells[CellKey(cell.workload, info.id, cell.placement, cell.method)] = CellSamples(
                    info.unit, info.higher_is_better, tuple(t.samples[info.id] for t in kept),
                    tuple(t.round for t in kept))
    label = f"{path.name} (run {document.run.get('id', '?')}" + ("" if stack == HOST_STACK else f", stack {stack}") + ")"
    return Side(label, "document", f"{path}" + ("" if stack == HOST_STACK else f"@{stack}"),
                snapshot_of(document, stack).items, cells,
                run=(str(document.run.get("id")), str(document.run.get("started_at"))))


def side_from_snapshot(conf: AsvConfig, name: str, machine: str | None, metrics: str) -> Side | None:
    repo = StackRepo(conf.stack_repo, conf.branch)
    point = repo.resolve(name)
    if point is None:
        return None
    holders = [m for m in asvfiles.machines(conf) if asvfiles.result_path(conf, m, point.commit).is_file()]
    if machine is None:
        if not holders:
            raise UsageError(f"{name}: no samples recorded for this stack snapshot")
        if len(holders) > 1:
            raise UsageError(f"{name}: recorded on several machines ({', '.join(holders)}); choose one with --machine")
        machine = holders[0]
    elif machine not in holders:
        raise UsageError(f"{name}: no samples recorded for this stack snapshot on machine {machine}")
    cells: dict[CellKey, CellSamples] = {}
    for stored in asvfiles.read_samples(conf, machine, point.commit):
        if metrics == "primary" and not stored.primary:
            continue
        cells[CellKey(stored.workload, stored.metric, stored.placement, stored.method)] = CellSamples(
            stored.unit, stored.higher_is_better, tuple(stored.samples))
    label = f"{point.tag or point.commit[:8]} on {machine}"
    run_count, runs = _runs_of(conf, machine, point.commit, metrics, set(cells))
    return Side(label, "snapshot", point.commit, point.snapshot.items, cells, runs=runs, run_count=run_count)


def _runs_of(conf: AsvConfig, machine: str, commit: str, metrics: str,
             keys: set[CellKey]) -> tuple[int, dict[CellKey, tuple[tuple[float, ...], ...]]]:
    """How many runs a snapshot pools on a machine, and, when every one of their documents
    can still be read, each cell's samples run by run (the ledger names the documents)."""
    from ..history.record import ledger_rows

    rows = [r for r in ledger_rows(conf) if r["machine"] == machine and r["commit"] == commit]
    per_run: list[dict[CellKey, tuple[float, ...]]] = []
    for row in rows:
        run_id, at, stack = row["run_id"].partition("@")
        try:
            side = side_from_document(Path(row["source"]), metrics, stack if at else HOST_STACK)
        except UsageError:
            return len(rows), {}  # a document is gone: the pooled samples are all there is
        if side.run is None or side.run[0] != run_id:
            # Another document at that path (a row a shared history brought from another
            # machine names that machine's path): its samples are not this run's.
            return len(rows), {}
        per_run.append({k: c.samples for k, c in side.cells.items()})
    if len(per_run) < 2:
        return len(rows), {}
    return len(rows), {k: tuple(r[k] for r in per_run if k in r) for k in keys}


def load_side(argument: str, conf_loader: Callable[[], AsvConfig], machine: str | None, metrics: str) -> Side:
    """A results document when ``argument`` is a file, else a stack snapshot (tag or hash);
    ``SNAPSHOT@MACHINE`` is a snapshot's samples of one machine, ``@MACHINE`` that machine's
    latest snapshot (tags never hold an "@", so neither form is ambiguous)."""
    path = Path(argument)
    if path.is_file():
        return side_from_document(path, metrics)
    document, at, stack = argument.rpartition("@")
    if at and Path(document).is_file():
        return side_from_document(Path(document), metrics, stack)  # RUN.json@STACK: one stack of a run
    if path.suffix == ".json" or "/" in argument or (at and document.endswith(".json")):
        raise UsageError(f"{argument}: no such results document")
    conf = conf_loader()
    name = argument
    if at:
        name, machine = document, checked_name(stack)
        if machine not in asvfiles.machines(conf):
            known = ", ".join(asvfiles.machines(conf)) or "none yet"
            raise UsageError(f"{argument}: machine {machine} has nothing recorded in {conf.results_dir} "
                             f"(machines: {known})")
        name = name or latest_snapshot(conf, machine)
    side = side_from_snapshot(conf, name, machine, metrics)
    if side is None:
        raise UsageError(f"{argument}: neither a results document nor a stack snapshot in {conf.stack_repo} "
                         "(python -m bench_runner publish lists them)")
    return side


def latest_snapshot(conf: AsvConfig, machine: str) -> str:
    """The newest stack snapshot holding samples of a machine (its commit)."""
    for item in reversed(StackRepo(conf.stack_repo, conf.branch).snapshots()):
        if asvfiles.result_path(conf, machine, item.commit).is_file():
            return item.commit
    raise UsageError(f"machine {machine}: no stack snapshot holds its samples")


def compare(a: Side, b: Side, *, threshold_pct: float | None = None) -> Comparison:
    rows: list[Row] = []
    not_compared: list[tuple[CellKey, str]] = []
    for key in sorted(set(a.cells) & set(b.cells)):
        left, right = a.cells[key], b.cells[key]
        if left.unit != right.unit or left.higher_is_better != right.higher_is_better:
            not_compared.append((key, f"A is in {left.unit}, B in {right.unit} (or their directions differ)"))
            continue
        pairs = _round_pairs(a, b, left, right)
        runs = None
        if pairs is not None:
            ratio_ = stats.paired_ratio([y for _, y in pairs], [x for x, _ in pairs])
        elif len(a.runs.get(key, ())) > 1 or len(b.runs.get(key, ())) > 1:
            a_runs, b_runs = a.runs.get(key) or (left.samples,), b.runs.get(key) or (right.samples,)
            ratio_ = stats.hierarchical_ratio(b_runs, a_runs)
            runs = (len(a_runs), len(b_runs))
        else:
            ratio_ = stats.ratio(right.samples, left.samples)
        rows.append(Row(key, left.unit, left.higher_is_better, stats.summarize(left.samples),
                        stats.summarize(right.samples), ratio_, verdict(ratio_, left.higher_is_better),
                        worse_by_pct(ratio_.value, left.higher_is_better), paired=pairs is not None, runs=runs))
    if not rows:
        raise UsageError("A and B have no measured cell in common (same workload, metric, placement and method)")
    return Comparison(a, b, tuple(rows), tuple(sorted(set(a.cells) - set(b.cells))),
                      tuple(sorted(set(b.cells) - set(a.cells))), tuple(not_compared), threshold_pct)


def _round_pairs(a: Side, b: Side, left: CellSamples, right: CellSamples) -> list[tuple[float, float]] | None:
    """(A, B) samples of the same round, when A and B are two stacks of one run: the run
    interleaved them round by round. Rounds where one side has no sample (a failed trial) are
    left out, as the run's own ratios do (``stats.per_round_ratios``), while enough remain."""
    if a.run is None or a.run != b.run or left.rounds is None or right.rounds is None:
        return None
    by_round_a, by_round_b = dict(zip(left.rounds, left.samples)), dict(zip(right.rounds, right.samples))
    if len(by_round_a) != len(left.rounds) or len(by_round_b) != len(right.rounds):
        return None
    common = sorted(set(by_round_a) & set(by_round_b))
    if len(common) < stats.MIN_PAIRED_ROUNDS:
        return None
    return [(by_round_a[r], by_round_b[r]) for r in common]


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
    for title, keys in (("Only in A", comparison.only_a), ("Only in B", comparison.only_b)):
        if keys:
            out += ["", f"{title}: " + ", ".join(k.label for k in keys)]
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

    from ..report.jsonout import summary_json

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
        "regressions": len(regressions),
    }
