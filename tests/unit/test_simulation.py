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
#: Tables of equal methods with any false separation: a rank is each pair's own decision at
#: its look's 5% share, not a table's (a table of 6 has 15 pairs); 400 simulated runs gave
#: 4-7.5%, and 60 runs may see a few points more.
RANK_BOUND = 0.10


@pytest.mark.parametrize("cv", [0.03, 0.20])
def test_equal_methods_seldom_give_a_false_verdict_or_rank(cv: float) -> None:
    found = simulation.simulate(simulation.default_run("equal"), simulation.Noise(cv), simulation.NEW, REPS, SEED)
    row = found.row()
    assert row["fwer_verdicts"] <= 0.05 + 0.03, row
    assert row["false_rank_tables"] <= RANK_BOUND, row
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
    assert " old " in text and " table " in text and " new " in text and "FWER" in text


def test_stopping_for_futility_saves_rounds_without_false_decisions() -> None:
    """Equal methods at 10% CV: without stopping for futility every pair runs to the cap,
    hoping to show it within 5%; stopping once that is out of reach saves rounds and decides
    nothing falsely."""
    tables, noise = simulation.default_run("equal"), simulation.Noise(0.10)
    hoping_rule = simulation.Rule("hoping", simulation.NEW.first, simulation.NEW.last, True,
                                  step=simulation.NEW.step, futility=False, by_pair=True)
    hoping = simulation.simulate(tables, noise, hoping_rule, REPS, SEED).row()
    stopping = simulation.simulate(tables, noise, simulation.NEW, REPS, SEED).row()
    assert hoping["rounds"] == simulation.NEW.last
    assert stopping["rounds"] < hoping["rounds"] - 2, stopping
    assert stopping["fwer_verdicts"] <= 0.05 + 0.03, stopping
    assert stopping["false_rank_tables"] <= RANK_BOUND, stopping


def test_rounds_for_the_undecided_pair_alone_decide_the_close_verdict_more_often() -> None:
    """At a 10% CV, the CV this machine's throughput trials showed: whole tables to 10 rounds
    decide the close verdict (1.22x) less often than the same trials spent on its pair alone,
    up to 16 rounds, and no verdict turns false."""
    tables, noise = simulation.default_run("realistic"), simulation.Noise(0.10)
    table = simulation.simulate(tables, noise, simulation.TABLE, REPS, SEED).row()
    new = simulation.simulate(tables, noise, simulation.NEW, REPS, SEED).row()
    assert new["close"] >= table["close"] + 0.15, (table, new)
    assert new["trials"] <= table["trials"] * 1.1, (table, new)
    assert new["fwer_verdicts"] <= 0.05 + 0.03, new
