"""The declarative matrix: methods x workloads x placements, with their ids validated up front.

This module holds only data. What a method is lives in ``methods`` (one module each), what
a workload is and how it is driven in ``workloads`` (one module each, in its registry).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable, Mapping, TypeVar

from ..errors import UsageError
from ..methods import METHODS
from ..results.cells import HOST_STACK, Cell, stack_label
from ..results.metrics import Metric
from ..workloads import WORKLOADS
from ..workloads.definition import Workload

__all__ = ["Cell", "HOST_STACK", "METHODS", "Matrix", "Metric", "PLACEMENTS", "Placement", "WORKLOADS", "Workload",
           "stack_label"]


@dataclass(frozen=True)
class Placement:
    id: str
    summary: str


T = TypeVar("T")


def _registry(items: Iterable[T]) -> dict[str, T]:
    return {item.id: item for item in items}  # type: ignore[attr-defined]


PLACEMENTS: dict[str, Placement] = _registry([
    Placement("remote", "client on the client host, across the veth link (198.51.100.2 -> 198.51.100.1)"),
    Placement("loopback", "client on the server host itself, to 127.0.0.1"),
])

@dataclass(frozen=True)
class Matrix:
    cells: tuple[Cell, ...]
    not_applicable: tuple[tuple[Cell, str], ...]

    def methods(self) -> list[str]:
        return sorted({c.method for c in self.cells}, key=list(METHODS).index)

    def stacks(self) -> list[str]:
        """In the order they were asked for."""
        return list(dict.fromkeys(c.stack for c in (*self.cells, *(c for c, _ in self.not_applicable))))

    def methods_in(self, stack: str) -> list[str]:
        """The methods measured under one stack."""
        return sorted({c.method for c in self.cells if c.stack == stack}, key=list(METHODS).index)

    def without(self, stack: str, reasons: Mapping[str, str]) -> "Matrix":
        """The same matrix with a stack's cells of ``reasons``' methods not applicable, with
        why (a release whose Podman cannot run a method: pasta before 4.4)."""
        moved = tuple((c, reasons[c.method]) for c in self.cells if c.stack == stack and c.method in reasons)
        kept = tuple(c for c in self.cells if not (c.stack == stack and c.method in reasons))
        return Matrix(kept, self.not_applicable + moved)


    def set_aside(self, reason_of: Callable[[Cell], str | None]) -> "Matrix":
        """The same matrix with every cell ``reason_of`` gives a reason for not applicable,
        with that reason (the outbound workloads of a two-computer run)."""
        moved = tuple((c, why) for c in self.cells if (why := reason_of(c)) is not None)
        aside = {c for c, _ in moved}
        return Matrix(tuple(c for c in self.cells if c not in aside), self.not_applicable + moved)


def parse_ids(values: Iterable[str] | str | None, registry: Mapping[str, object], kind: str) -> tuple[str, ...]:
    """Comma-separated or repeated ids, in registry order; "all" means every id.
    An unknown id is a UsageError that names the valid choices."""
    if values is None:
        return tuple(registry)
    if isinstance(values, str):
        values = [values]
    chosen: list[str] = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            if item == "all":
                chosen.extend(registry)
            elif item not in registry:
                raise UsageError(f"unknown {kind} '{item}'; valid: {', '.join(registry)}")
            else:
                chosen.append(item)
    if not chosen:
        raise UsageError(f"no {kind} given; valid: {', '.join(registry)}")
    order = list(registry)
    return tuple(sorted(set(chosen), key=order.index))


def workload(workload_id: str) -> Workload:
    """A workload by id: one of WORKLOADS, or a swept variant of one (``tcp-stream+mtu1500``)."""
    from ..workloads import sweeps

    if workload_id in WORKLOADS:
        return WORKLOADS[workload_id]
    base, values = sweeps.split(workload_id)
    found = WORKLOADS[base]
    at = ", ".join(f"{sweeps.SWEEPS[name].flag.lstrip('-')} {sweeps.SWEEPS[name].text(value)}"
                   for name, value in values.items())
    added = tuple(m for name, value in values.items() for m in sweeps.SWEEPS[name].metrics_at(value)
                  if m not in found.metrics())
    return replace(found, id=workload_id, summary=f"{found.summary}; {at}",
                   extra_metrics=(*found.extra_metrics, *added))


def applies(method: str, workload: Workload) -> bool:
    """Does the workload run under the method in at least one of its placements?"""
    return any(METHODS[method].why_not(workload, p) is None for p in workload.placements)


def build(methods: Iterable[str], workloads: Iterable[str], placements: Iterable[str],
          stacks: Iterable[str] = (HOST_STACK,), swept: Mapping[str, tuple[int, ...]] | None = None) -> Matrix:
    """Every cell to measure, and every requested cell that does not apply (with why); with
    ``swept`` values (sweeps.SWEEPS), every workload once per combination of the sweeps that
    apply to it (``--streams`` multiplies the iperf3 and echo round-trip workloads, not echo-stream)."""
    from ..workloads import sweeps

    cells: list[Cell] = []
    skipped: list[tuple[Cell, str]] = []
    methods, placements = tuple(methods), tuple(placements)
    for stack in stacks:
        for base_id in workloads:
            base = WORKLOADS[base_id]
            for values in sweeps.combinations(sweeps.applicable(swept or {}, base)):
                workload_id = sweeps.variant_id(base_id, values)
                for placement in placements:
                    for method in methods:
                        cell = Cell(workload_id, placement, method, stack)
                        reason = (METHODS[method].why_not(base, placement)
                                  or sweeps.why_not(values, base, placement, METHODS[method]))
                        if reason is None:
                            cells.append(cell)
                        else:
                            skipped.append((cell, reason))
    return Matrix(tuple(cells), tuple(skipped))
