"""Stopping for futility: a pair the last look could seldom decide stops asking for rounds,
one it could reach keeps asking, and stopping never turns a pair into a decision."""

from __future__ import annotations

import math

import numpy as np

from bench_runner.analysis import sequential, stats
from bench_runner.analysis.looks import Looks

LOOKS = Looks(6, 10)
CAP = sequential.futility_cap(LOOKS, 7)


def _rounds(log_ratios: list[float]) -> dict[str, dict[int, float]]:
    """Two cells whose per-round ratios are exp(log_ratios), b flat at 1."""
    return {"a": {r: math.exp(v) for r, v in enumerate(log_ratios)}, "b": dict.fromkeys(range(len(log_ratios)), 1.0)}


def _centred(mean: float, spread: float, n: int = 7) -> list[float]:
    """n log ratios of exactly this mean and sample standard deviation."""
    raw = np.random.default_rng(7).normal(size=n)
    raw = (raw - raw.mean()) / raw.std(ddof=1)
    return list(mean + spread * raw)


def test_futility_is_judged_from_the_second_look_to_the_one_before_the_cap() -> None:
    assert CAP == (10, LOOKS.share(10)) == (10, 0.125)
    assert sequential.futility_cap(LOOKS, 6) is None  # the first look spends half the 5%: no stopping there
    assert sequential.futility_cap(LOOKS, 10) is None


def test_a_pair_far_from_both_decisions_is_out_of_reach() -> None:
    """8% apart with 15% spread per round at round 7: neither separated nor within 5% by round 10."""
    (pair,) = sequential.pair_states(_rounds(_centred(math.log(1.08), 0.15)), share=0.125, margin=0.05, cap=CAP)
    assert pair.state == "out of reach"
    assert sequential.chance_to_decide(pair.ratio, rounds=10, share=0.125, margin=0.05) < sequential.FUTILITY


def test_a_pair_close_to_separating_keeps_asking() -> None:
    """14% apart with 10% spread: not separated at 7, reachable at 10."""
    (pair,) = sequential.pair_states(_rounds(_centred(0.13, 0.10)), share=0.125, margin=0.05, cap=CAP)
    assert not pair.ratio.excludes_one()
    assert pair.state == "undecided"
    assert sequential.chance_to_decide(pair.ratio, rounds=10, share=0.125, margin=0.05) > 0.3


def test_a_pair_close_to_equivalence_keeps_asking() -> None:
    """Equal on average with 4% spread: not yet within 5% at 7 rounds, reachable at 10."""
    samples = _rounds(_centred(0.0, 0.04))
    ratio = stats.ratio(samples["a"], samples["b"], share=0.125)
    assert not ratio.within(0.05) and not ratio.excludes_one()
    assert sequential.chance_to_decide(ratio, rounds=10, share=0.125, margin=0.05) > 0.3
    assert sequential.pair_states(samples, share=0.125, margin=0.05, cap=CAP)[0].state == "undecided"


def test_without_a_look_to_come_nothing_is_out_of_reach() -> None:
    (pair,) = sequential.pair_states(_rounds(_centred(math.log(1.08), 0.15)), share=0.125, margin=0.05, cap=None)
    assert pair.state == "undecided"
    ratio = pair.ratio
    assert sequential.chance_to_decide(ratio, rounds=7, share=0.125, margin=0.05) == 0.0


def test_out_of_reach_is_reported_as_undecided_not_as_decided() -> None:
    pairs = sequential.pair_states(_rounds(_centred(math.log(1.08), 0.15)), share=0.125, margin=0.05, cap=CAP)
    family = sequential.FamilyState("tcp-stream", "remote", 7, 0.125, pairs)
    assert family.undecided == ()  # asks for no round
    assert [p.a for p in family.unresolved] == ["a"]
    assert not family.decided
    record = family.to_json()
    assert record["undecided"] == [["a", "b"]] and record["out_of_reach"] == [["a", "b"]]
    assert record["pairs"]["out of reach"] == 1
