"""The statistical rules on simulated runs of known truth (seeded): intervals cover as often
as they say at the n the adaptive rounds leave, and a run whose methods do not differ seldom
reports a violated ordering. The same simulation shows the old rules failing both, so these
tests can fail. ``python -m bench_runner.analysis.simulation`` prints the full comparison."""

from __future__ import annotations

import pytest

from bench_runner.analysis import simulation

SEED = 20261130
REPS = 2000
#: How far simulated coverage may fall from the level the intervals state.
BOUND = 0.015


@pytest.mark.parametrize("cv", [0.03, 0.07, 0.10, 0.15])
def test_intervals_cover_as_often_as_they_state_after_adaptive_rounds(cv: float) -> None:
    found = simulation.coverage(cv, REPS, SEED)
    assert found.median >= found.median_stated - BOUND, found
    assert found.ratio >= found.ratio_stated - BOUND, found
    assert found.median_stated >= 0.95 and found.ratio_stated >= 0.95  # never below the nominal level
    assert abs(found.median - found.median_stated) <= BOUND + 0.01, found  # not wildly conservative either


def test_a_run_of_equal_methods_seldom_reports_a_violation() -> None:
    assert simulation.false_violations(REPS, SEED) <= 0.05 + 0.01


def test_the_old_rules_fail_both_checks() -> None:
    """What the simulation is for: it does see a miscalibrated rule."""
    assert simulation.coverage(0.07, 400, SEED, old=True).median < 0.93
    assert simulation.false_violations(300, SEED, old=True) > 0.12
