"""Statistics against known distributions: what should separate does, what should not doesn't."""

from __future__ import annotations

import numpy as np
import pytest

from bench_runner import stats


def _normal(mean: float, sd: float, n: int, seed: int) -> list[float]:
    return list(np.random.default_rng(seed).normal(mean, sd, n))


def test_summary_of_a_known_sample() -> None:
    values = [10.0, 11.0, 12.0, 13.0, 14.0, 100.0]
    summary = stats.summarize(values)
    assert summary.n == 6 and summary.median == 12.5
    assert summary.minimum == 10.0 and summary.maximum == 100.0
    assert summary.outliers == 1
    assert summary.ci_low is not None and summary.ci_low <= 12.5 <= summary.ci_high


def test_interval_covers_the_true_median_most_of_the_time() -> None:
    covered = 0
    for seed in range(60):
        summary = stats.summarize(_normal(50, 5, 15, seed), seed=seed)
        covered += summary.ci_low <= 50 <= summary.ci_high
    assert covered >= 50  # nominal 95%; percentile bootstrap of a median at n=15 is close


def test_too_few_samples_give_no_interval() -> None:
    summary = stats.summarize([1.0, 2.0])
    assert summary.ci_low is None and summary.half_width is None


def test_ratio_of_two_samples_ten_percent_apart() -> None:
    a = _normal(110, 2, 12, 1)
    b = _normal(100, 2, 12, 2)
    result = stats.ratio(a, b)
    assert 1.05 < result.value < 1.15
    assert result.excludes_one()
    assert result.p_value is not None and result.p_value < 0.01
    assert stats.better(result, higher_is_better=True) == "better"
    assert stats.better(result, higher_is_better=False) == "worse"


def test_identical_samples_are_the_same() -> None:
    a = _normal(100, 3, 12, 5)
    result = stats.ratio(a, list(a))
    assert result.value == pytest.approx(1.0)
    assert not result.excludes_one()
    assert stats.better(result, higher_is_better=True) == "same"


def test_ranking_separates_ten_percent_and_ties_identical() -> None:
    groups = {
        "fast": _normal(110, 2, 12, 10),
        "slow": _normal(100, 2, 12, 11),
        "slow-twin": _normal(100, 2, 12, 12),
    }
    ranked = {r.key: r.rank for r in stats.rank(groups, higher_is_better=True)}
    assert ranked["fast"] == "1"
    assert ranked["slow"] == ranked["slow-twin"] == "2="


def test_ranking_follows_direction() -> None:
    groups = {"low": _normal(10, 0.2, 8, 1), "high": _normal(20, 0.2, 8, 2)}
    assert stats.rank(groups, higher_is_better=False)[0].key == "low"
    assert stats.rank(groups, higher_is_better=True)[0].key == "high"


def test_single_samples_tie_rather_than_pretend() -> None:
    ranked = stats.rank({"a": [3.0], "b": [2.0]}, higher_is_better=True)
    assert [r.rank for r in ranked] == ["1=", "1="]


def test_constant_samples_give_a_point_interval() -> None:
    summary = stats.summarize([5.0] * 6)
    assert summary.ci_low == summary.ci_high == 5.0
    result = stats.ratio([5.0] * 6, [5.0] * 6)
    assert result.value == 1.0 and not result.excludes_one()


def test_the_same_samples_are_bootstrapped_once_per_process() -> None:
    values = [10.0, 10.5, 9.8, 10.2, 10.1, 9.9]
    before = stats._summarize.cache_info().hits
    first = stats.summarize(values)
    assert stats.summarize(list(values)) is first  # a second call shares the first's result
    assert stats._summarize.cache_info().hits > before
    assert stats.ratio(values, values) is stats.ratio(tuple(values), values)
