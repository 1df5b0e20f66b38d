"""Statistics over whole-trial samples: medians, bootstrap intervals, ratios, rankings.

The unit of replication is a trial (a fresh server and client), never an iperf3 interval.
Bootstraps are scipy's, seeded, so the same document always gives the same intervals.
Direction comes from each metric's ``higher_is_better``.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats as sps

CONFIDENCE = 0.95
N_RESAMPLES = 9999
SEED = 20231109
#: Below this many samples an interval is not computed.
MIN_SAMPLES_FOR_CI = 3
#: Coefficient of variation above which a cell is called unstable (pyperf uses 10%).
UNSTABLE_CV = 0.10


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    ci_low: float | None
    ci_high: float | None
    mean: float
    cv: float | None  # coefficient of variation (sample std / mean)
    minimum: float
    maximum: float
    outliers: int  # outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR]

    @property
    def half_width(self) -> float | None:
        """Relative half-width of the interval around the median."""
        if self.ci_low is None or self.ci_high is None or self.median == 0:
            return None
        return (self.ci_high - self.ci_low) / 2 / abs(self.median)


def _bootstrap(data: tuple[np.ndarray, ...], statistic, seed: int,  # type: ignore[no-untyped-def]
               paired: bool = False) -> tuple[float, float] | None:
    if any(len(d) < MIN_SAMPLES_FOR_CI for d in data):
        return None
    if all(np.ptp(d) == 0 for d in data):
        value = float(statistic(*data, axis=-1))
        return value, value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate resamples on tiny n are expected
        result = sps.bootstrap(data, statistic, confidence_level=CONFIDENCE, n_resamples=N_RESAMPLES,
                               method="percentile", vectorized=True, paired=paired,
                               random_state=np.random.default_rng(seed))
    low, high = result.confidence_interval
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return float(low), float(high)


def summarize(values: Sequence[float], *, seed: int = SEED) -> Summary:
    """Median, its bootstrap interval and the spread. A pure function of the samples, so
    the tables, claims, warnings and report that all ask for one cell share one bootstrap."""
    return _summarize(tuple(float(v) for v in values), seed)


@functools.lru_cache(maxsize=4096)
def _summarize(values: tuple[float, ...], seed: int) -> Summary:
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no samples")
    ci = _bootstrap((data,), np.median, seed)
    q1, q3 = np.percentile(data, [25, 75])
    iqr = q3 - q1
    outliers = int(np.sum((data < q1 - 1.5 * iqr) | (data > q3 + 1.5 * iqr)))
    mean = float(np.mean(data))
    cv = float(np.std(data, ddof=1) / abs(mean)) if data.size > 1 and mean != 0 else None
    return Summary(
        n=int(data.size), median=float(np.median(data)),
        ci_low=ci[0] if ci else None, ci_high=ci[1] if ci else None,
        mean=mean, cv=cv, minimum=float(np.min(data)), maximum=float(np.max(data)), outliers=outliers,
    )


@dataclass(frozen=True)
class Ratio:
    """median(a) / median(b), with a bootstrap interval from resampling each independently."""

    value: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None  # two-sided Mann-Whitney U, shown alongside for familiarity

    def excludes_one(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None and (self.ci_low > 1 or self.ci_high < 1)


def ratio(a: Sequence[float], b: Sequence[float], *, seed: int = SEED) -> Ratio:
    """median(a) / median(b) with its interval; shared like summarize()."""
    return _ratio(tuple(float(v) for v in a), tuple(float(v) for v in b), seed)


@functools.lru_cache(maxsize=4096)
def _ratio(a: tuple[float, ...], b: tuple[float, ...], seed: int) -> Ratio:
    xa = np.asarray(a, dtype=float)
    xb = np.asarray(b, dtype=float)
    if xa.size == 0 or xb.size == 0:
        raise ValueError("no samples")
    denominator = float(np.median(xb))
    value = float(np.median(xa)) / denominator if denominator else math.inf

    def statistic(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        bottom = np.median(y, axis=axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.median(x, axis=axis) / bottom

    ci = _bootstrap((xa, xb), statistic, seed) if denominator else None
    p_value = None
    if xa.size >= 2 and xb.size >= 2 and not (np.ptp(xa) == 0 and np.ptp(xb) == 0 and xa[0] == xb[0]):
        p_value = float(sps.mannwhitneyu(xa, xb, alternative="two-sided").pvalue)
    return Ratio(value, ci[0] if ci else None, ci[1] if ci else None, p_value)


def paired_ratio(a: Sequence[float], b: Sequence[float], *, seed: int = SEED) -> Ratio:
    """median(a) / median(b) where a[i] and b[i] come from the same round of one run: the
    bootstrap resamples rounds, keeping each round's two trials together, so drift that hit
    both in a round does not widen (or bias) the interval."""
    return _paired_ratio(tuple(float(v) for v in a), tuple(float(v) for v in b), seed)


@functools.lru_cache(maxsize=1024)
def _paired_ratio(a: tuple[float, ...], b: tuple[float, ...], seed: int) -> Ratio:
    if len(a) != len(b) or not a:
        raise ValueError("paired samples need one value of each side per round")
    xa = np.asarray(a, dtype=float)
    xb = np.asarray(b, dtype=float)
    denominator = float(np.median(xb))
    value = float(np.median(xa)) / denominator if denominator else math.inf

    def statistic(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.median(x, axis=axis) / np.median(y, axis=axis)

    ci = _bootstrap((xa, xb), statistic, seed, paired=True) if denominator else None
    p_value = None
    if xa.size >= 2 and np.any(xa != xb):
        p_value = float(sps.wilcoxon(xa, xb).pvalue)
    return Ratio(value, ci[0] if ci else None, ci[1] if ci else None, p_value)


def better(ratio_: Ratio, higher_is_better: bool) -> str:
    """"better", "worse" or "same" for a = ratio * b, by the interval and the direction."""
    if not ratio_.excludes_one():
        return "same"
    above = ratio_.ci_low is not None and ratio_.ci_low > 1
    return "better" if above == higher_is_better else "worse"


@dataclass(frozen=True)
class Ranked:
    key: str
    rank: str  # "1", "2", "2=" ...
    summary: Summary


def rank(groups: dict[str, Sequence[float]], *, higher_is_better: bool, seed: int = SEED) -> list[Ranked]:
    """Order by median (best first). A method shares the rank of the one above it when the
    interval of their ratio includes 1: the data do not separate them."""
    summaries = {key: summarize(values, seed=seed) for key, values in groups.items() if len(values)}
    order = sorted(summaries, key=lambda k: summaries[k].median, reverse=higher_is_better)
    ranked: list[Ranked] = []
    current_rank = 0
    for position, key in enumerate(order):
        if position == 0:
            current_rank = 1
        else:
            between = ratio(groups[key], groups[order[position - 1]], seed=seed)
            if between.excludes_one():
                current_rank = position + 1
        ranked.append(Ranked(key, str(current_rank), summaries[key]))
    # Mark every member of a tied group with "=".
    counts: dict[str, int] = {}
    for item in ranked:
        counts[item.rank] = counts.get(item.rank, 0) + 1
    return [Ranked(r.key, r.rank + ("=" if counts[r.rank] > 1 else ""), r.summary) for r in ranked]
