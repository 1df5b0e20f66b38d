"""Rounds driven by the decisions: within a family (one workload and placement, every method
and stack, the cells ranked together), a pair of cells gets another round only while it is
undecided, neither separated (its rank, and its ordering verdict where it has one) nor shown
within a stated margin of each other (both one-sided t tests, TOST). Another round runs the
cells of the undecided pairs, interleaved in a shuffled order, and no others: a family whose
methods are all told apart but one pair spends its extra rounds on that pair alone. A pair
stops when it is decided, or at --max-rounds, or, from its second look on, when it is out of
reach: at its current estimate and spread, the look at --max-rounds would decide it less than
10% of the time (stopping for futility). Stopping for futility never decides anything, so it
cannot add a false decision; it only saves the rounds that would not have changed the answer.

Adding rounds while undecided is looking at the data more than once: each look spends only its
share of the 5% (``looks``), counted in the pair's own rounds, so a decision stays valid at
whatever look the pair stopped, whichever pairs asked for the rounds; Holm's procedure over
such p-values controls a family of verdicts as it does at a fixed n. The simulation checks
the whole procedure (``simulation``).

The median's own interval is still computed and reported against --precision, but it no
longer adds rounds: machine-wide drift keeps it wide on a shared machine whatever the methods
do, while the per-round ratios that decide ranks and verdicts cancel that drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Collection, Mapping, Sequence

from scipy import special

from ..results.cells import stack_label
from ..results.document import RunDocument
from . import stats
from .looks import Looks, PairLooks, looks_of, margin_of, pair_looks, rounds_run

__all__ = ["FUTILITY", "FamilyState", "Looks", "PairLooks", "PairState", "RULE", "chance_to_decide", "expectations_of",
           "family_states", "futility_cap", "pair_states", "undecided_by_family"]

#: An undecided pair stops asking for rounds when the look at --max-rounds would decide it with
#: less than this chance, were the rounds to come like the rounds so far (conditional power).
FUTILITY = 0.10

#: How a run decides when to stop, as the results document records it.
RULE = ("another round, for the cells of every pair of a workload and placement still undecided: neither "
        "separated (paired t test on per-round log ratios, p divided by the share of 5% of the pair's own look, "
        "counted in the rounds both its cells ran; half at the first look, the rest evenly over the later ones, "
        "one every look_step rounds (run.options); ordering verdicts also after Holm over the run) nor within the margin (both "
        "one-sided t tests at 5% x share); a pair stops at --max-rounds, or once it is out of reach (less than a "
        "10% chance that the look at --max-rounds decides it, were the rounds to come like those so far), judged "
        "from its second look on")


@dataclass(frozen=True)
class PairState:
    a: str  # cell label ("pasta", "pasta@trixie")
    b: str
    ratio: stats.Ratio  # a against b
    #: "separated", "within" (the margin), "undecided", "out of reach" (undecided, and the look
    #: at --max-rounds would seldom decide it: ``chance_to_decide``), or "untestable" (no rounds
    #: in common, a zero reading, or no spread at all: more rounds of the same will not decide it).
    state: str
    #: The rounds both cells ran (0: not counted, every pair judged at one share).
    rounds: int = 0
    #: Those rounds are one of the pair's looks (else it is undecided until its next one).
    at_look: bool = True


@dataclass(frozen=True)
class FamilyState:
    workload: str
    placement: str
    rounds: int
    share: float
    pairs: tuple[PairState, ...]
    #: Every pair's rounds are one of its looks (else a pair goes on to its next look).
    at_look: bool = True

    @property
    def undecided(self) -> tuple[PairState, ...]:
        """The pairs that ask for another round."""
        return tuple(p for p in self.pairs if p.state == "undecided")

    @property
    def unresolved(self) -> tuple[PairState, ...]:
        """The pairs the family stops or stopped without deciding (undecided or out of reach)."""
        return tuple(p for p in self.pairs if p.state in ("undecided", "out of reach"))

    @property
    def decided(self) -> bool:
        return self.at_look and not self.unresolved

    def to_json(self) -> dict[str, Any]:
        counts = {state: sum(1 for p in self.pairs if p.state == state)
                  for state in ("separated", "within", "undecided", "out of reach", "untestable")}
        return {"workload": self.workload, "placement": self.placement, "rounds": self.rounds,
                "share": self.share, "decided": self.decided, "pairs": counts,
                "undecided": [[p.a, p.b] for p in self.unresolved],
                "out_of_reach": [[p.a, p.b] for p in self.pairs if p.state == "out of reach"]}


def chance_to_decide(ratio: stats.Ratio, *, rounds: int, share: float, margin: float) -> float:
    """The chance that the look after ``rounds`` rounds decides a pair (separates it, or shows it
    within the margin), were the rounds still to come like those so far: the final mean log
    ratio is the mean so far plus the rest's, normal around the same mean with the spread the
    rounds so far show (conditional power at the current estimate)."""
    n = ratio.n
    if ratio.log_mean is None or ratio.log_se is None or rounds <= n or n < stats.MIN_PAIRED_ROUNDS:
        return 0.0
    spread = ratio.log_se * math.sqrt(n)  # one round's standard deviation
    if spread <= 0:
        return 0.0
    mean = ratio.log_mean
    sway = spread * math.sqrt(rounds - n) / rounds  # how far the rest can move the final mean
    at_cap = spread / math.sqrt(rounds)
    separate = float(special.stdtrit(rounds - 1, 1 - stats.ALPHA * share / 2)) * at_cap
    equivalent = float(special.stdtrit(rounds - 1, 1 - stats.ALPHA * share)) * at_cap
    chance = float(special.ndtr((mean - separate) / sway) + special.ndtr((-mean - separate) / sway))
    room = math.log1p(margin) - equivalent
    if room > 0:
        chance += float(special.ndtr((room - mean) / sway) - special.ndtr((-room - mean) / sway))
    return min(1.0, chance)


def _state(ratio: stats.Ratio, verdict_pending: bool, margin: float, cap: tuple[int, float] | None) -> str:
    if not ratio.paired:
        return "undecided"  # fewer than 3 rounds in common so far
    if ratio.ci_low is None or ratio.ci_high is None:
        return "untestable"  # a zero reading, or no spread at all
    if ratio.excludes_one() and not verdict_pending:
        return "separated"
    if ratio.within(margin):
        return "within"
    if cap is not None and chance_to_decide(ratio, rounds=cap[0], share=cap[1], margin=margin) < FUTILITY:
        return "out of reach"
    return "undecided"


def pair_states(samples: Mapping[str, Mapping[int, float]], *, margin: float, share: float = 1.0,
                pending: Collection[tuple[str, str]] = (), cap: tuple[int, float] | None = None,
                looks: PairLooks | None = None, futility: bool = True) -> tuple[PairState, ...]:
    """Every pair of one family's cells (values by round), in the given order; a pair in
    ``pending`` (either way round) is an ordering verdict not yet decided over the run, so it
    cannot count as separated. With ``looks``, each pair is judged at its own look: its share,
    whether its rounds are a look at all, and (with ``futility``) the last look still to come.
    Without, every pair at a look that spends ``share``, with ``cap`` the rounds and share of
    the last look to come (None: none, or no stopping for futility)."""
    labels = list(samples)
    found = []
    for i, left in enumerate(labels):
        for right in labels[i + 1:]:
            rounds, spent, at_look, pair_cap = 0, share, True, cap
            if looks is not None:
                rounds = looks.rounds_of(left, right)
                spent, at_look = looks.share(left, right), looks.at_look(left, right)
                pair_cap = futility_cap(looks.looks, rounds) if futility else None
            ratio = stats.ratio(samples[left], samples[right], share=spent)
            waiting = (left, right) in pending or (right, left) in pending
            state = _state(ratio, waiting, margin, pair_cap) if at_look else "undecided"
            found.append(PairState(left, right, ratio, state, rounds, at_look))
    return tuple(found)


def futility_cap(looks: Looks, rounds: int) -> tuple[int, float] | None:
    """The last look still to come after ``rounds`` rounds, as (rounds, share), where a pair
    may stop for futility: from its second look on. The first look spends half the 5%; a pair
    stopped there undecided would be ranked at that wide share, where one that went on is at a
    later look's small one (the simulation saw tables of equal methods falsely separated twice
    as often); from the second look on, every look's share is as small as the cap's."""
    return (looks.last, looks.share(looks.last)) if looks.first < rounds < looks.last else None


def family_states(document: RunDocument, *, margin: float | None = None,
                  expectations: Sequence[str] = ()) -> list[FamilyState]:
    """Every family's pairs as decided now. A pair an expectation judges counts as separated
    only once its verdict (Holm over the run) holds or is violated."""
    from .ranking import groups
    from .verdicts import judge_all

    margin = margin_of(document) if margin is None else margin
    looks = looks_of(document)
    pending: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for verdicts in (judge_all(document, expectations).values() if expectations else ()):
        for verdict in verdicts:
            for pair in verdict.pairs:
                if pair.verdict == "inconclusive":
                    pending.setdefault((verdict.workload, verdict.placement), set()).add(
                        (stack_label(pair.better, verdict.stack), stack_label(pair.worse, verdict.stack)))
    found = []
    for (workload, placement), cells in groups(document).items():
        rounds = rounds_run(cells)
        samples = {c.label: c.samples_by_round() for c in cells if c.status == "measured" and c.samples()}
        pairs = pair_states(samples, margin=margin, pending=pending.get((workload, placement), ()),
                            looks=pair_looks(document, cells))
        found.append(FamilyState(workload, placement, rounds, looks.share(rounds), pairs,
                                 all(p.at_look for p in pairs) if pairs else looks.is_look(rounds)))
    return found


def expectations_of(document: RunDocument) -> tuple[str, ...]:
    """The orderings a run judged (its --expect, else the guide's)."""
    from .verdicts import DOCUMENTED

    options = document.run.get("options", {}) if isinstance(document.run, dict) else {}
    return tuple(options.get("expect") or [DOCUMENTED])


def undecided_by_family(document: RunDocument, *, margin: float | None = None,
                        expectations: Sequence[str] | None = None) -> dict[tuple[str, str], list[str]]:
    """Per family, the pairs the run stopped without deciding ("a vs b"), at the cap or out of
    reach of it."""
    expectations = expectations_of(document) if expectations is None else expectations
    states = family_states(document, margin=margin, expectations=expectations)
    return {(s.workload, s.placement): [f"{p.a} vs {p.b}" for p in s.unresolved] for s in states if s.unresolved}
