"""Ordering verdicts: does the data say "a > b > c" (a better than b better than c)?

For each adjacent pair, per workload and placement, the interval of the ratio of medians
decides: ``holds`` when it lies wholly on a's better side, ``violated`` when wholly on the
worse side, ``inconclusive`` otherwise. "Better" follows each metric's direction, so the same
expectation reads correctly for throughput (higher) and latency (lower).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import stats
from .analysis import groups
from .errors import UsageError
from .matrix import HOST_STACK, METHODS
from .results import RunDocument

#: The ordering the podman-networking-docs guide states, fastest first.
DOCUMENTED = "pasta>slirp4netns-rootlesskit>slirp4netns-slirp4netns"
_ORDER_RE = re.compile(r"^\s*[\w.-]+(\s*>\s*[\w.-]+)+\s*$")


@dataclass(frozen=True)
class PairVerdict:
    better: str  # expected to be better
    worse: str
    ratio: float | None  # median(better) / median(worse)
    ci_low: float | None
    ci_high: float | None
    verdict: str  # "holds", "violated", "inconclusive", "not measured"
    why: str = ""


@dataclass(frozen=True)
class OrderingVerdict:
    expectation: str
    workload: str
    placement: str
    metric: str
    higher_is_better: bool
    pairs: tuple[PairVerdict, ...]
    #: The stack whose methods were compared (orderings are judged within one stack).
    stack: str = HOST_STACK

    @property
    def where(self) -> str:
        """ "tcp-stream / remote", with "@trixie" for a booted stack's cells."""
        return f"{self.workload} / {self.placement}" + ("" if self.stack == HOST_STACK else f" @{self.stack}")

    @property
    def violated(self) -> bool:
        return any(p.verdict == "violated" for p in self.pairs)


def parse_expectation(text: str) -> tuple[str, ...]:
    """ "a>b>c" -> ("a", "b", "c"); every id must be a known method, none repeated."""
    if not _ORDER_RE.match(text or ""):
        raise UsageError(f"--expect {text!r}: write an ordering like 'pasta>slirp4netns-rootlesskit' "
                         f"(method ids joined by '>', best first)")
    methods = tuple(part.strip() for part in text.split(">"))
    for method in methods:
        if method not in METHODS:
            raise UsageError(f"--expect {text!r}: unknown method '{method}'; valid: {', '.join(METHODS)}")
    if len(set(methods)) != len(methods):
        raise UsageError(f"--expect {text!r}: a method appears twice")
    return methods


def judge(a: list[float], b: list[float], *, higher_is_better: bool) -> tuple[str, stats.Ratio]:
    ratio = stats.ratio(a, b)
    outcome = stats.better(ratio, higher_is_better)
    verdict = {"better": "holds", "worse": "violated", "same": "inconclusive"}[outcome]
    return verdict, ratio


def ordering_verdicts(document: RunDocument, expectation: str = DOCUMENTED) -> list[OrderingVerdict]:
    """One verdict per workload, placement and stack where at least one pair was measured."""
    methods = parse_expectation(expectation)
    found = []
    for (workload, placement), group in groups(document).items():
        for stack in dict.fromkeys(c.stack for c in group):
            found += _judge_group(expectation, methods, workload, placement, stack,
                                  [c for c in group if c.stack == stack])
    return found


def _judge_group(expectation: str, methods: tuple[str, ...], workload: str, placement: str, stack: str,
                 cells: list) -> list[OrderingVerdict]:  # cells: list[CellResult]
    """The verdict of one workload, placement and stack, if any pair of it was measured."""
    by_method = {c.method: c for c in cells}
    if not any(m in by_method for m in methods):
        return []
    first = cells[0]
    pairs = []
    for better, worse in zip(methods, methods[1:]):
        a = by_method[better].samples() if better in by_method else []
        b = by_method[worse].samples() if worse in by_method else []
        if not a or not b:
            missing = [m for m, s in ((better, a), (worse, b)) if not s]
            pairs.append(PairVerdict(better, worse, None, None, None, "not measured",
                                     f"no samples for {', '.join(missing)}"))
            continue
        verdict, ratio = judge(a, b, higher_is_better=first.higher_is_better)
        why = "" if ratio.ci_low is not None else "too few trials for an interval"
        pairs.append(PairVerdict(better, worse, ratio.value, ratio.ci_low, ratio.ci_high, verdict, why))
    if not any(p.verdict != "not measured" for p in pairs):
        return []
    return [OrderingVerdict(expectation, workload, placement, first.metric, first.higher_is_better, tuple(pairs),
                            stack)]
