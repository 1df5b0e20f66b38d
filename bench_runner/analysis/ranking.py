"""From a results document to rankings: per workload and placement, every method's
summary, its ratio to the ``host`` baseline, its rank, and what was observed.

Reads only the document, so a stored run can be analysed again without measuring.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable
from dataclasses import dataclass, field

from . import pathlimit, stats
from ..results.cells import HOST_STACK, stack_label
from ..methods import BASELINE
from ..results.document import CellResult, RunDocument, Trial



@dataclass(frozen=True)
class MethodRow:
    method: str
    rank: str
    summary: stats.Summary
    #: Ratio to the ``host`` method of the same stack.
    vs_baseline: stats.Ratio | None
    listeners: tuple[str, ...]  # helper kinds observed owning the published port
    peers: tuple[str, ...]  # addresses the server saw the client connect from
    failed_trials: int
    extra: dict[str, stats.Summary] = field(default_factory=dict)
    stack: str = HOST_STACK
    #: The data do not separate it from the next row (best first).
    ties_next: bool = False
    #: The provider that ran it ("podman", "bare"), and whether that is not its stack's main
    #: one (a run that mixed providers: the tables mark it, with why).
    provider: str | None = None
    provider_differs: bool = False
    #: Within 10% of the shaped path's own limit, and which (analysis/pathlimit.py).
    path_limited: str | None = None

    @property
    def label(self) -> str:
        """"pasta", or "pasta@trixie" for a booted stack's cell."""
        return stack_label(self.method, self.stack)

    @property
    def is_baseline(self) -> bool:
        return self.method == BASELINE


@dataclass(frozen=True)
class RankTable:
    workload: str
    placement: str
    metric: str
    unit: str
    higher_is_better: bool
    rows: tuple[MethodRow, ...]
    #: Methods without a ranking here, with why (not applicable, failed, no samples).
    unranked: tuple[tuple[str, str], ...]
    #: Rows run through another provider than their stack's main one: label, provider, why.
    other_providers: tuple[tuple[str, str, str], ...] = ()


def trial_carrier(trial: Trial) -> str | None:
    """What carried a trial: the listener of an inbound trial, the helper that carried an
    outbound one. The tables, the raw figures and the progress lines all name it so."""
    carrier = trial.observed.carrier
    return carrier.label if carrier is not None else None


def trial_peer(trial: Trial) -> str | None:
    """The address the server saw: the lab server's for inbound, the remote's for outbound."""
    return trial.observed.peer


def _observed(cell: CellResult, describe: Callable[[Trial], str | None]) -> tuple[str, ...]:
    values = Counter(v for t in cell.trials if t.status == "ok" and (v := describe(t)) is not None)
    return tuple(v for v, _ in values.most_common())


def groups(document: RunDocument) -> dict[tuple[str, str], list[CellResult]]:
    """Cells by (workload, placement), in the document's order."""
    grouped: dict[tuple[str, str], list[CellResult]] = {}
    for cell in document.cells:
        grouped.setdefault((cell.workload, cell.placement), []).append(cell)
    return grouped


def rank_tables(document: RunDocument, *, baseline: str = BASELINE) -> list[RankTable]:
    """One table per workload and placement; with several stacks, every stack's methods are
    ranked together in it, each compared with the ``host`` method of its own stack. Each
    comparison spends the share of the 5% of the look its pair stopped at."""
    from .looks import pair_looks

    tables = []
    for (workload, placement), cells in groups(document).items():
        first = cells[0]
        samples = {c.label: c.samples_by_round() for c in cells if c.status == "measured" and c.samples()}
        unranked = []
        for c in cells:
            if c.label in samples:
                continue
            if c.status == "not_applicable":
                unranked.append((c.label, f"not applicable: {c.reason}"))
            elif c.status == "failed":
                unranked.append((c.label, f"failed: {c.reason}"))
            else:
                unranked.append((c.label, "no samples"))
        shares = pair_looks(document, cells)
        ranked = stats.rank(samples, higher_is_better=first.higher_is_better, share=shares.share) if samples else []
        ties_next = {item.key: item.ties_next for item in ranked}
        by_label = {c.label: c for c in cells}
        rows = []
        others: list[tuple[str, str, str]] = []
        for item in ranked:
            cell = by_label[item.key]
            base_label = stack_label(baseline, cell.stack)
            base = samples.get(base_label)
            vs = (stats.ratio(samples[item.key], base, share=shares.share(item.key, base_label))
                  if base and cell.method != baseline else None)
            extra = {}
            for info in cell.extra_metrics:
                values = cell.samples(info.id)
                if values:
                    extra[info.id] = stats.summarize(values)
            provider, why = document.method_provider(cell.method, cell.stack)
            differs = provider is not None and provider != document.provider_of(cell.stack).get("id")
            if differs:
                others.append((item.key, str(provider), why))
            rows.append(MethodRow(
                method=cell.method, rank=item.rank, summary=item.summary, vs_baseline=vs,
                listeners=_observed(cell, trial_carrier), peers=_observed(cell, trial_peer),
                failed_trials=sum(1 for t in cell.trials if t.status != "ok"), extra=extra, stack=cell.stack,
                ties_next=ties_next[item.key], provider=provider, provider_differs=differs,
                path_limited=pathlimit.limited(document, cell, item.summary.median),
            ))
        tables.append(RankTable(workload, placement, first.metric, first.unit, first.higher_is_better,
                                tuple(rows), tuple(unranked), tuple(others)))
    return tables
