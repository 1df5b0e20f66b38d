"""The statistical rules on simulated default runs of known truth (seeded, small): a run whose
methods do not differ seldom reports a false verdict, however many rounds its decisions add;
intervals cover as often as they say; and the simulation does see a rule that looks too often
without paying for it, so these tests can fail. ``python -m bench_runner.analysis.simulation``
prints the full table."""

from __future__ import annotations

import pytest

from bench_runner.analysis import simulation

SEED = 20261130
REPS = 60
#: How far simulated coverage may fall below the level the intervals state, at this size.
BOUND = 0.03


@pytest.mark.parametrize("cv", [0.03, 0.20])
def test_equal_methods_seldom_give_a_false_verdict_or_rank(cv: float) -> None:
    found = simulation.simulate(simulation.default_run("equal"), simulation.Noise(cv), simulation.NEW, REPS, SEED)
    row = found.row()
    assert row["fwer_verdicts"] <= 0.05 + 0.03, row
    assert row["false_rank_tables"] <= 0.05 + 0.03, row
    assert row["ratio_cover"] >= 0.95 - BOUND, row


def test_real_differences_are_decided_and_stop_early_when_quiet() -> None:
    found = simulation.simulate(simulation.default_run("realistic"), simulation.Noise(0.03), simulation.NEW, REPS,
                                SEED)
    row = found.row()
    assert row["fwer_verdicts"] <= 0.05 + 0.03, row
    assert row["power"] >= 0.6, row  # most of the 12 ordering pairs differ by 20% or more
    assert row["rounds"] < simulation.NEW.last, row  # some tables stop before the cap
    assert row["ratio_cover"] >= row["ratio_stated"] - BOUND, row


def test_a_rule_that_looks_after_every_round_without_paying_is_caught() -> None:
    """What the simulation is for: every look spending the whole 5% (no share) decides
    falsely far more often once extra rounds follow undecided pairs."""
    greedy = simulation.Rule("greedy", 3, 15, True, first_share=1.0)  # every later look: share 0 -> invalid
    with pytest.raises(ValueError):
        simulation.simulate(simulation.default_run("equal"), simulation.Noise(0.1), greedy, 2, SEED)
    naive = simulation.simulate(simulation.default_run("equal"), simulation.Noise(0.1),
                                simulation.Rule("naive", 3, 15, True, naive=True), REPS, SEED).row()
    assert naive["false_rank_tables"] > 0.12, naive


def test_the_report_prints_the_rules_side_by_side() -> None:
    text = simulation.report(20, SEED, cvs=(0.10,))
    assert " old " in text and " pairs " in text and " new " in text and "FWER" in text


def test_stopping_for_futility_saves_rounds_without_false_decisions() -> None:
    """Equal methods at 10% CV: the pairs rule runs every table to the cap, hoping to show them
    within 5%; stopping once that is out of reach saves rounds and decides nothing falsely."""
    tables, noise = simulation.default_run("equal"), simulation.Noise(0.10)
    hoping = simulation.simulate(tables, noise, simulation.PAIRS, REPS, SEED).row()
    stopping = simulation.simulate(tables, noise, simulation.NEW, REPS, SEED).row()
    assert hoping["rounds"] == simulation.PAIRS.last
    assert stopping["rounds"] < hoping["rounds"] - 2, stopping
    assert stopping["fwer_verdicts"] <= 0.05 + 0.03, stopping
    assert stopping["false_rank_tables"] <= 0.05 + 0.03, stopping
