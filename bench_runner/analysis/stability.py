"""Plain-words warnings when results are unstable, each with what to do about it (as
pyperf's ``check`` does). Computed from the document, so a stored run gets them too."""

from __future__ import annotations

from dataclasses import dataclass

from .. import defaults
from . import stats
from ..results.document import CellResult, RunDocument

#: Fewer measured trials than this and no interval reaches 95%.
FEW_TRIALS = 6


@dataclass(frozen=True)
class Finding:
    kind: str  # "failed", "few", "unstable", "outliers", "precision", "undecided"
    message: str


@dataclass(frozen=True)
class Warning_:
    """Everything worrying about one cell, in one line, with what to do about it."""

    cell: str  # "workload/placement/method"
    findings: tuple[Finding, ...]
    remedy: str

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(f.kind for f in self.findings)

    def text(self) -> str:
        return f"{self.cell}: {'; '.join(f.message for f in self.findings)}. {self.remedy}"


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


REMEDIES = {
    "failed": "Read the failed trials' reasons in the results document.",
    "few": f"Use --rounds {FEW_TRIALS} or more before trusting a ranking.",
    "unstable": "Something competed for the CPU or the link: stop other work and re-run.",
    "outliers": "The median resists outliers, but check what else ran at the time.",
    "precision": ("The ranks and verdicts rest on the per-round ratios, not on this interval; for a narrower "
                  "median, raise --rounds."),
    "undecided": "Raise --max-rounds to decide them, or read them as undecided.",
}
#: The remedy for undecided pairs where the time budget, not --max-rounds, ended the rounds.
BUDGET_REMEDY = "The time budget ended the extra rounds: raise --time-budget to decide them, or read them as undecided."
#: The order a family's one line names its findings in: the most serious first.
SEVERITY = ("failed", "few", "undecided", "unstable", "outliers", "precision")


def cell_warnings(cell: CellResult, *, precision: float, max_rounds: int | None) -> Warning_ | None:
    label = cell.cell.label
    found: list[Finding] = []
    measured = [t for t in cell.trials if not t.warmup]
    failed = [t for t in cell.trials if t.status != "ok"]
    if failed:
        first = failed[0].error or "no reason recorded"
        found.append(Finding("failed", f"{len(failed)} of {len(cell.trials)} trials failed (first: {first})"))
    values = cell.samples()
    if values:
        summary = stats.summarize(values)
        if summary.n < FEW_TRIALS:
            found.append(Finding("few", f"only {summary.n} measured trial(s), so the interval is wide or missing"))
        if summary.cv is not None and summary.cv >= stats.UNSTABLE_CV:
            found.append(Finding("unstable", f"trials vary a lot (coefficient of variation {_percent(summary.cv)})"))
        if summary.outliers:
            found.append(Finding("outliers", f"{summary.outliers} of {summary.n} trials are outliers "
                                             f"({summary.minimum:.3g} to {summary.maximum:.3g} {cell.unit})"))
        width = summary.half_width
        if width is not None and width > precision and len(measured) > 1:
            cap = f" (cap {max_rounds})" if max_rounds else ""
            found.append(Finding("precision", f"95% interval +/-{_percent(width)} after {len(measured)} trials{cap}, "
                                              f"wider than the target +/-{_percent(precision)}"))
    if not found:
        return None
    remedy = " ".join(dict.fromkeys(REMEDIES[f.kind] for f in found))
    return Warning_(label, tuple(found), remedy)


@dataclass(frozen=True)
class FamilyLine:
    """Everything worrying about one workload and placement, in one line for the terminal:
    what is wrong (counted over its cells), and the one thing to do about the worst of it."""

    family: str  # "tcp-rr / remote"
    kinds: tuple[str, ...]
    what: str
    remedy: str

    def text(self) -> str:
        return f"{self.family}: {self.what}. {self.remedy}"


def _family_what(kind: str, findings: list[tuple[str, Finding]]) -> str:
    cells = sorted({label for label, _ in findings})
    named = ", ".join(cells[:3]) + (f" and {len(cells) - 3} more" if len(cells) > 3 else "")
    count = f"{len(cells)} cell{'s' if len(cells) != 1 else ''}"
    return {
        "failed": f"failed trials in {count} ({named})",
        "few": f"too few measured trials in {count} ({named})",
        "unstable": f"trials vary by 10% or more in {count} ({named})",
        "outliers": f"outliers in {count} ({named})",
        "precision": f"the median's interval is wider than the target in {count}",
    }[kind]


def family_lines(document: RunDocument, warnings: list[Warning_] | None = None,
                 undecided: dict[tuple[str, str], list[str]] | None = None) -> list[FamilyLine]:
    """At most one line per workload and placement: the cells' warnings counted by kind, the
    pairs it stopped without deciding (``undecided``: family -> "a vs b"), and the remedy
    for the most serious of them. The full list stays in the report."""
    warnings = warnings_for(document) if warnings is None else warnings
    by_label = {c.cell.label: c for c in document.cells}
    grouped: dict[tuple[str, str], dict[str, list[tuple[str, Finding]]]] = {}
    for warning in warnings:
        cell = by_label.get(warning.cell)
        if cell is None:
            continue
        for finding in warning.findings:
            grouped.setdefault((cell.workload, cell.placement), {}).setdefault(finding.kind, []).append(
                (cell.label, finding))
    for family, pairs in (undecided or {}).items():
        if pairs:
            grouped.setdefault(family, {})["undecided"] = []
    lines = []
    order = list(dict.fromkeys((c.workload, c.placement) for c in document.cells))
    for family in sorted(grouped, key=lambda f: order.index(f) if f in order else len(order)):
        kinds = [k for k in SEVERITY if k in grouped[family]]
        parts = []
        for kind in kinds:
            if kind == "undecided":
                pairs = (undecided or {})[family]
                parts.append(f"{len(pairs)} pair{'s' if len(pairs) != 1 else ''} undecided "
                             f"({', '.join(pairs[:2])}{', ...' if len(pairs) > 2 else ''})")
            else:
                parts.append(_family_what(kind, grouped[family][kind]))
        remedy = REMEDIES[kinds[0]]
        if kinds[0] == "undecided" and isinstance(document.run, dict) and document.run.get("time_budget_stop"):
            remedy = BUDGET_REMEDY
        lines.append(FamilyLine(f"{family[0]} / {family[1]}", tuple(kinds), "; ".join(parts), remedy))
    return lines


def warnings_for(document: RunDocument) -> list[Warning_]:
    options = document.run.get("options", {}) if isinstance(document.run, dict) else {}
    precision = float(options.get("precision", defaults.PRECISION))
    max_rounds = options.get("max_rounds")
    found = []
    for cell in document.cells:
        if cell.status in ("measured", "failed"):
            warning = cell_warnings(cell, precision=precision, max_rounds=max_rounds)
            if warning is not None:
                found.append(warning)
    return found
