"""Statistics against known distributions and the examples a reviewer raised: intervals say
their true level, identical readings prove nothing, ranks are transitive, Holm is Holm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench_runner.analysis import stats


def _normal(mean: float, sd: float, n: int, seed: int) -> list[float]:
    return list(np.random.default_rng(seed).normal(mean, sd, n))


def _by_round(values: list[float]) -> dict[int, float]:
    return dict(enumerate(values))


@pytest.mark.parametrize("n, j, level", [
    (3, 1, 0.75), (4, 1, 0.875), (5, 1, 0.9375), (6, 1, 0.96875), (9, 2, 0.9609375), (10, 2, 0.978515625),
    (20, 6, 0.9586105346679688),
])
def test_the_order_statistics_and_their_true_level(n: int, j: int, level: float) -> None:
    assert stats.order_index(n) == (j, pytest.approx(level))
    values = [float(v) for v in range(1, n + 1)]
    interval = stats.median_interval(values)
    assert interval is not None and (interval.low, interval.high) == (values[j - 1], values[n - j])
    assert interval.level == pytest.approx(level)
    assert interval.nominal == (level >= 0.95)


def test_a_small_sample_never_claims_95_percent() -> None:
    summary = stats.summarize([10.0, 12.0, 11.0])
    assert (summary.ci_low, summary.ci_high) == (10.0, 12.0)
    assert summary.ci_level == pytest.approx(0.75) and not summary.nominal
    assert stats.summarize([1.0, 2.0]).ci_low is None


def test_identical_readings_give_no_interval_and_prove_nothing() -> None:
    summary = stats.summarize([5.0] * 6)
    assert summary.identical and summary.ci_low is None and summary.half_width is None
    # Six equal readings on each side, different between the sides: no spread was observed,
    # so no difference can be claimed (the old bootstrap called it significant).
    same_shift = stats.ratio(_by_round([6.0] * 6), _by_round([5.0] * 6))
    assert same_shift.value == pytest.approx(1.2) and not same_shift.excludes_one()
    assert "no spread" in same_shift.why
    assert stats.better(same_shift, higher_is_better=True) == "same"


def test_the_median_interval_covers_as_often_as_it_says() -> None:
    rng = np.random.default_rng(20261130)
    trials = 4000
    for n in (6, 10):
        covered = 0
        for _ in range(trials):
            sample = rng.lognormal(0.0, 0.1, n)  # true median 1.0
            interval = stats.median_interval(sample)
            covered += interval.low <= 1.0 <= interval.high
        expected = stats.order_index(n)[1]
        assert abs(covered / trials - expected) < 0.012, (n, covered / trials, expected)


def test_paired_ratios_cancel_drift_that_hits_a_whole_round() -> None:
    drift = np.random.default_rng(3).normal(1.0, 0.2, 10)
    own = np.random.default_rng(5).normal(1.0, 0.005, (2, 10))
    fast = _by_round(list(110 * drift * own[0]))
    slow = _by_round(list(100 * drift * own[1]))
    result = stats.ratio(fast, slow)
    assert result.paired and result.value == pytest.approx(1.1, rel=0.01)
    assert result.p_value < 1e-9 and result.excludes_one()
    independent = stats.ratio(list(fast.values()), list(slow.values()))
    assert not independent.paired and not independent.excludes_one()  # the drift swamps 10%


def test_the_paired_test_is_the_t_test_on_log_ratios() -> None:
    """Against scipy's own paired t test on the logarithms, and its interval."""
    from scipy import stats as sps

    a = [101.0, 97.0, 104.0, 99.0, 103.0, 98.0]
    b = [95.0, 96.0, 97.0, 92.0, 99.0, 93.0]
    result = stats.paired_ratio(a, b)
    logs = np.log(a) - np.log(b)
    reference = sps.ttest_1samp(logs, 0.0)
    assert result.value == pytest.approx(math.exp(logs.mean()))
    assert result.p_value == pytest.approx(reference.pvalue)
    low, high = sps.t.interval(0.95, len(logs) - 1, loc=logs.mean(), scale=sps.sem(logs))
    assert (result.ci_low, result.ci_high) == (pytest.approx(math.exp(low)), pytest.approx(math.exp(high)))
    assert result.level == pytest.approx(0.95) and result.nominal


def test_a_look_with_a_smaller_share_widens_the_interval_and_raises_p() -> None:
    a = [101.0, 97.0, 104.0, 99.0, 103.0, 98.0]
    b = [99.0, 97.0, 101.0, 96.0, 100.0, 97.0]
    whole, tenth = stats.paired_ratio(a, b), stats.paired_ratio(a, b, share=0.1)
    assert tenth.p_value == pytest.approx(min(1.0, whole.p_value * 10))
    assert tenth.ci_low < whole.ci_low and tenth.ci_high > whole.ci_high
    assert tenth.level == pytest.approx(0.995)
    assert whole.excludes_one() and not tenth.excludes_one()  # p 0.011: decided at one look, not at a tenth
    with pytest.raises(ValueError):
        stats.paired_ratio(a, b, share=0.0)


def test_within_the_margin_needs_both_one_sided_tests() -> None:
    rng = np.random.default_rng(8)
    tight = 100 * rng.lognormal(0, 0.01, 8)
    twin = tight * rng.lognormal(0, 0.01, 8)
    assert stats.paired_ratio(list(twin), list(tight)).within(0.05)
    loose = tight * rng.lognormal(0, 0.08, 8)  # the same on average, but too noisy to show it
    assert not stats.paired_ratio(list(loose), list(tight)).within(0.05)
    apart = tight * 1.05 * rng.lognormal(0, 0.01, 8)  # 5% apart: not inside 5% with confidence
    assert not stats.paired_ratio(list(apart), list(tight)).within(0.05)
    assert stats.paired_ratio(list(apart), list(tight)).within(0.10)
    assert not stats.ratio(list(twin), list(tight)).within(0.05)  # independent samples: no TOST here


def test_unpaired_ratios_are_hodges_lehmann_with_mann_whitney_intervals() -> None:
    a = _normal(110, 2, 12, 1)
    b = _normal(100, 2, 12, 2)
    result = stats.ratio(a, b)
    assert not result.paired and 1.05 < result.value < 1.15
    assert result.excludes_one() and result.nominal
    assert stats.better(result, higher_is_better=True) == "better"
    assert stats.better(result, higher_is_better=False) == "worse"
    rng = np.random.default_rng(9)
    covered = 0
    for _ in range(1500):
        x, y = rng.lognormal(0.1, 0.1, 6), rng.lognormal(0.0, 0.1, 7)
        r = stats.ratio(list(x), list(y))
        covered += r.ci_low <= math.exp(0.1) <= r.ci_high
    assert covered / 1500 >= 0.95 - 0.015


def test_sign_test_and_holm() -> None:
    assert stats.sign_test([1.1] * 10, 1.0) == pytest.approx(2 / 1024)
    assert stats.sign_test([1.1] * 9 + [0.9], 1.0) == pytest.approx(2 * 11 / 1024)
    assert stats.sign_test([0.8] * 6, 0.9, "less") == pytest.approx(1 / 64)
    assert stats.sign_test([1.0] * 4, 1.0) is None  # all ties: nothing to test
    adjusted = stats.holm([0.01, 0.04, None, 0.03, 0.005])
    assert adjusted == [pytest.approx(0.03), pytest.approx(0.06), None, pytest.approx(0.06), pytest.approx(0.02)]


def test_ranks_are_transitive_ranges() -> None:
    """The reviewer's example: medians 99.9, 101.4 and 106.3 (n = 10 each). The third is
    clearly above the first, the middle one separates from neither: never three times "1=".
    Per round the values are set so that exactly that is what the data show."""
    a = [99.9 + d for d in (0.5, -0.4, 0.3, -0.2, 0.1, 0.0, -0.3, 0.4, -0.1, 0.2)]
    b = [101.4 + d for d in (-2.6, 2.8, -2.4, 2.6, -2.2, 2.4, -2.5, 2.7, -2.3, 2.5)]
    c = [106.3 + d for d in (4.1, -4.3, 3.9, -4.1, 4.0, -4.2, 3.8, -4.0, 4.2, -4.4)]
    groups = {"a": _by_round(a), "b": _by_round(b), "c": _by_round(c)}
    assert stats.ratio(groups["c"], groups["a"]).excludes_one()
    assert not stats.ratio(groups["b"], groups["a"]).excludes_one()
    assert not stats.ratio(groups["c"], groups["b"]).excludes_one()
    ranked = {r.key: r for r in stats.rank(groups, higher_is_better=True)}
    assert (ranked["c"].rank, ranked["b"].rank, ranked["a"].rank) == ("1-2", "1-3", "2-3")
    assert ranked["a"].low == 2  # a is never first: c is shown above it
    assert [r.key for r in stats.rank(groups, higher_is_better=True)] == ["c", "b", "a"]


def test_ranking_separates_ten_percent_and_ties_identical_twins() -> None:
    drift = np.random.default_rng(4).normal(1.0, 0.01, 10)
    groups = {
        "fast": _by_round(list(110 * drift * np.random.default_rng(10).normal(1, 0.005, 10))),
        "slow": _by_round(list(100 * drift * np.random.default_rng(11).normal(1, 0.005, 10))),
        "slow-twin": _by_round(list(100 * drift * np.random.default_rng(12).normal(1, 0.005, 10))),
    }
    ranked = {r.key: r.rank for r in stats.rank(groups, higher_is_better=True)}
    assert ranked == {"fast": "1", "slow": "2-3", "slow-twin": "2-3"}


def test_ranking_follows_direction_and_single_samples_tie() -> None:
    groups = {"low": _normal(10, 0.2, 8, 1), "high": _normal(20, 0.2, 8, 2)}
    assert stats.rank(groups, higher_is_better=False)[0].key == "low"
    assert stats.rank(groups, higher_is_better=True)[0].key == "high"
    assert [r.rank for r in stats.rank({"a": [3.0], "b": [2.0]}, higher_is_better=True)] == ["1-2", "1-2"]


def test_the_same_samples_are_summarized_once_per_process() -> None:
    values = [10.0, 10.5, 9.8, 10.2, 10.1, 9.9]
    before = stats._summarize.cache_info().hits
    first = stats.summarize(values)
    assert stats.summarize(list(values)) is first
    assert stats._summarize.cache_info().hits > before
