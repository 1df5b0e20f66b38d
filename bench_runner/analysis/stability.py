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
    kind: str  # "failed", "few", "unstable", "outliers", "precision"
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
    "precision": "Raise --max-rounds, or accept the wider interval.",
}


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
