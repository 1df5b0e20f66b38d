"""Ordering verdicts: does the data say "a > b > c" (a better than b better than c)?

For each adjacent pair, per workload, placement and stack, a against b round by round (the
paired t test on the logarithms of the per-round ratios, valid at whatever look the run
stopped: ``sequential``). The verdicts
of a run are one family: a pair is ``holds`` or ``violated`` only when its test stays below 5%
after Holm's adjustment over every judged pair of the run, so the chance of any false
"violated" in the whole table stays at 5% when no method differs; ``inconclusive``
otherwise. The unadjusted decision (by the pair's own 95% interval) is kept beside it.
"Better" follows each metric's direction, so the same expectation reads correctly for
throughput (higher) and latency (lower).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

from . import stats
from .ranking import groups
from ..errors import UsageError
from ..methods import METHODS
from ..results.cells import HOST_STACK
from ..results.document import RunDocument
from ..workloads import WORKLOADS
from ..workloads.definition import SENDER_WORDS
from ..workloads.sweeps import base_of

#: The ordering the podman-networking-docs guide states, fastest first.
DOCUMENTED = "pasta>slirp4netns-rootlesskit>slirp4netns-slirp4netns"
_ORDER_RE = re.compile(r"^\s*[\w.-]+(\s*>\s*[\w.-]+)+\s*$")


#: The family-wise error rate the verdicts keep.
ALPHA = 1 - stats.CONFIDENCE
#: How a run's verdicts are decided, as the results document records it.
FAMILY_RULE = ("per pair: paired t test on the logarithms of the per-round ratios (geometric mean, t interval), "
               "its p-value divided by the share of 5% its look spends (the pair's own look, counted in the rounds both "
               "its cells ran: half at the first look, the rest evenly over the looks up to --max-rounds); family: every judged pair of the run, Holm's step-down "
               "procedure at 5%")

@dataclass(frozen=True)
class PairVerdict:
    better: str  # expected to be better
    worse: str
    ratio: float | None  # better against worse: geometric mean of per-round ratios (or Hodges-Lehmann)
    ci_low: float | None
    ci_high: float | None
    verdict: str  # "holds", "violated", "inconclusive", "not measured": family-wise (Holm)
    why: str = ""
    #: The decision by this pair's own 95% interval, before the family is considered.
    raw_verdict: str = ""
    p_value: float | None = None
    p_adjusted: float | None = None
    level: float | None = None  # the interval's true coverage
    #: Shown within the run's margin of each other (both one-sided t tests): the margin, else None.
    within: float | None = None


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
        """ "tcp-stream / remote", with the direction where the workload has a twin ("tcp-stream
        (client sends) / remote") and "@trixie" for a booted stack's cells."""
        sends = WORKLOADS[base_of(self.workload)].sends if base_of(self.workload) in WORKLOADS else ""
        direction = f" ({SENDER_WORDS.get(sends, sends)})" if sends else ""
        return f"{self.workload}{direction} / {self.placement}" + ("" if self.stack == HOST_STACK else f" @{self.stack}")

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


def judge(a: stats.Samples, b: stats.Samples, *, higher_is_better: bool,
          share: float = 1.0) -> tuple[str, stats.Ratio]:
    """One pair on its own: holds, violated or inconclusive by its 95% interval (spending
    ``share`` of the 5% at the look the pair stopped at)."""
    ratio = stats.ratio(a, b, share=share)
    outcome = stats.better(ratio, higher_is_better)
    verdict = {"better": "holds", "worse": "violated", "same": "inconclusive"}[outcome]
    return verdict, ratio


def ordering_verdicts(document: RunDocument, expectation: str = DOCUMENTED) -> list[OrderingVerdict]:
    """One verdict per workload, placement and stack where at least one pair was measured;
    the family is this expectation's pairs (see ``judge_all`` for several expectations)."""
    return judge_all(document, [expectation])[expectation]


def judge_all(document: RunDocument, expectations: Sequence[str]) -> dict[str, list[OrderingVerdict]]:
    """Every expectation's verdicts, with Holm's adjustment over all their pairs together."""
    found = {e: _raw_verdicts(document, e) for e in expectations}
    pairs = [(e, i, j) for e in expectations for i, v in enumerate(found[e]) for j, _ in enumerate(v.pairs)]
    adjusted = stats.holm([found[e][i].pairs[j].p_value for e, i, j in pairs])
    for (e, i, j), p_adj in zip(pairs, adjusted):
        verdict = found[e][i]
        pair = verdict.pairs[j]
        decided = pair.verdict
        if pair.verdict in ("holds", "violated", "inconclusive"):
            significant = p_adj is not None and p_adj < ALPHA and pair.ratio is not None
            if not significant:
                decided = "inconclusive"
            else:
                above = pair.ratio > 1  # type: ignore[operator]
                decided = "holds" if above == verdict.higher_is_better else "violated"
        new_pairs = list(verdict.pairs)
        new_pairs[j] = replace(pair, verdict=decided, p_adjusted=p_adj)
        found[e][i] = replace(verdict, pairs=tuple(new_pairs))
    return found


def _raw_verdicts(document: RunDocument, expectation: str) -> list[OrderingVerdict]:
    methods = parse_expectation(expectation)
    from .looks import margin_of, pair_looks

    found = []
    margin = margin_of(document)
    for (workload, placement), group in groups(document).items():
        shares = pair_looks(document, group)
        for stack in dict.fromkeys(c.stack for c in group):
            found += _judge_group(expectation, methods, workload, placement, stack,
                                  [c for c in group if c.stack == stack], shares.share, margin)
    return found


def _judge_group(expectation: str, methods: tuple[str, ...], workload: str, placement: str, stack: str,
                 cells: list, share: stats.Share = 1.0,
                 margin: float | None = None) -> list[OrderingVerdict]:  # cells: list[CellResult]
    """The verdict of one workload, placement and stack, if any pair of it was measured;
    ``share(a, b)``: the share of the 5% the pair's own look spends (by cell label)."""
    by_method = {c.method: c for c in cells}
    if not any(m in by_method for m in methods):
        return []
    first = cells[0]
    pairs = []
    for better, worse in zip(methods, methods[1:]):
        a = by_method[better].samples_by_round() if better in by_method else {}
        b = by_method[worse].samples_by_round() if worse in by_method else {}
        if not a or not b:
            missing = [m for m, s in ((better, a), (worse, b)) if not s]
            pairs.append(PairVerdict(better, worse, None, None, None, "not measured",
                                     f"no samples for {', '.join(missing)}", raw_verdict="not measured"))
            continue
        verdict, ratio = judge(a, b, higher_is_better=first.higher_is_better,
                               share=stats.spent(share, by_method[better].label, by_method[worse].label))
        why = "" if ratio.nominal else (ratio.why or f"too few rounds ({ratio.n}) for a 95% interval")
        within = margin if margin is not None and ratio.within(margin) else None
        pairs.append(PairVerdict(better, worse, ratio.value, ratio.ci_low, ratio.ci_high, verdict, why,
                                 raw_verdict=verdict, p_value=ratio.p_value, level=ratio.level, within=within))
    if not any(p.verdict != "not measured" for p in pairs):
        return []
    return [OrderingVerdict(expectation, workload, placement, first.metric, first.higher_is_better, tuple(pairs),
                            stack)]
