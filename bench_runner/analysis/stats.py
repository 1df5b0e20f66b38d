"""Statistics over whole-trial samples, with intervals whose stated level is true at their n.

The unit of replication is a trial (a fresh server and client), never an iperf3 interval.

- A cell's median gets a distribution-free interval from order statistics: [x(j), x(n+1-j)]
  covers the true median with probability 1 - 2 P(Bin(n, 1/2) < j), whatever the distribution.
  The widest j that reaches the nominal 95% is taken (n = 10: [x(2), x(9)], 97.9%); below six
  trials no interval reaches 95%, and [min, max] is given with its true level (n = 5: 93.8%).
- Two cells measured in the same rounds of one run are compared round by round: the paired t
  test on the logarithms of the per-round ratios (drift that hits a whole round hits both and
  cancels), with the geometric mean of those ratios and the t interval around it. A run looks
  at its pairs more than once (after its fixed rounds, and as a pair adds rounds), so each
  look may spend only its ``share`` of the 5% (``looks.Looks``): the interval is then the
  1 - 5% x share one, and the p-value is divided by the share, which keeps both valid at
  whatever look the pair stopped (repeated confidence intervals and p-values). The t test has
  no floor on its p-value at small n, where the exact sign test needs 8 agreeing rounds before
  Holm over 8 pairs can pass; the simulation (``simulation``) checks it on heavy-tailed,
  drifting data. Cells without common rounds (two runs): the Hodges-Lehmann ratio with the
  interval that inverts the exact Mann-Whitney test (exact where the two differ by a factor).
- Decisions are taken only on intervals that reach the nominal level; identical readings give
  no interval at all (no spread was observed, so none can be claimed).
- Ranks come from all pairwise decisions, as ranges (``stats.rank``), and families of
  verdicts are controlled with Holm's procedure (``holm``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
from scipy import special
from scipy import stats as sps

CONFIDENCE = 0.95
#: Below this many samples no interval is given at all.
MIN_SAMPLES_FOR_CI = 3
#: Coefficient of variation above which a cell is called unstable (pyperf uses 10%).
UNSTABLE_CV = 0.10
#: Paired comparison needs at least this many rounds in common.
MIN_PAIRED_ROUNDS = MIN_SAMPLES_FOR_CI

#: Samples of one cell: a sequence, or values by round (which makes paired comparison possible).
Samples = Sequence[float] | Mapping[int, float]


def coverage(n: int, j: int) -> float:
    """P(x(j) <= median <= x(n+1-j)) for n independent draws of a continuous distribution."""
    return 1.0 - 2.0 * float(sps.binom.cdf(j - 1, n, 0.5))


@functools.lru_cache(maxsize=256)
def order_index(n: int, confidence: float = CONFIDENCE) -> tuple[int, float]:
    """The widest symmetric pair of order statistics (1-based lower index j) whose coverage
    reaches ``confidence``, with that coverage; (1, coverage of [min, max]) when none does."""
    best = 1
    for j in range(1, n // 2 + 1):
        if coverage(n, j) >= confidence:
            best = j
        else:
            break
    return best, coverage(n, best)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    level: float  # the true coverage at this n

    @property
    def nominal(self) -> bool:
        """Reaches the nominal level: decisions may rest on it."""
        return self.level >= CONFIDENCE - 1e-12


def _identical(data: np.ndarray) -> bool:
    """Every reading the same, up to floating-point rounding (a ratio of proportional values)."""
    return data.size > 1 and float(np.ptp(data)) <= 1e-9 * float(np.max(np.abs(data)))


def median_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval | None:
    """Order-statistic interval of the median; None below MIN_SAMPLES_FOR_CI or when every
    reading is the same (no spread observed: no interval can be claimed)."""
    data = np.sort(np.asarray(values, dtype=float))
    n = int(data.size)
    if n < MIN_SAMPLES_FOR_CI or _identical(data):
        return None
    j, level = order_index(n, confidence)
    return Interval(float(data[j - 1]), float(data[n - j]), level)


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    ci_low: float | None
    ci_high: float | None
    #: The interval's true coverage at this n (0.979 at n = 10; 0.9375 at n = 5), or None.
    ci_level: float | None
    mean: float
    cv: float | None  # coefficient of variation (sample std / mean)
    minimum: float
    maximum: float
    outliers: int  # outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR]
    #: Every reading the same: no spread was observed, so there is no interval.
    identical: bool = False

    @property
    def half_width(self) -> float | None:
        """Relative half-width of the interval around the median."""
        if self.ci_low is None or self.ci_high is None or self.median == 0:
            return None
        return (self.ci_high - self.ci_low) / 2 / abs(self.median)

    @property
    def nominal(self) -> bool:
        return self.ci_level is not None and self.ci_level >= CONFIDENCE - 1e-12


def summarize(values: Sequence[float]) -> Summary:
    """Median, its interval and the spread. A pure function of the samples, so the tables,
    claims, warnings and report that all ask for one cell share one computation."""
    return _summarize(tuple(float(v) for v in values))


@functools.lru_cache(maxsize=4096)
def _summarize(values: tuple[float, ...]) -> Summary:
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("no samples")
    interval = median_interval(values)
    q1, q3 = np.percentile(data, [25, 75])
    iqr = q3 - q1
    outliers = int(np.sum((data < q1 - 1.5 * iqr) | (data > q3 + 1.5 * iqr)))
    mean = float(np.mean(data))
    cv = float(np.std(data, ddof=1) / abs(mean)) if data.size > 1 and mean != 0 else None
    return Summary(
        n=int(data.size), median=float(np.median(data)),
        ci_low=interval.low if interval else None, ci_high=interval.high if interval else None,
        ci_level=interval.level if interval else None,
        mean=mean, cv=cv, minimum=float(np.min(data)), maximum=float(np.max(data)), outliers=outliers,
        identical=_identical(data),
    )


@dataclass(frozen=True)
class Ratio:
    """a against b: within a run, the geometric mean of per-round ratios (paired t on their
    logarithms); across runs, the Hodges-Lehmann ratio."""

    value: float
    ci_low: float | None
    ci_high: float | None
    #: Two-sided: the paired t test's p-value divided by its look's share (so valid at any
    #: look the pair stopped at), or Mann-Whitney U (independent).
    p_value: float | None
    level: float | None = None  # the interval's coverage (paired: at this look, 1 - 5% x share)
    paired: bool = False
    n: int = 0  # rounds compared (paired) or the smaller side (independent)
    why: str = ""  # why there is no interval, if there is none
    #: Paired: the share of the 5% this look spends (1: a single look), and the t test's
    #: figures on the log scale, for the equivalence test (``within``).
    share: float | None = None
    log_mean: float | None = None
    log_se: float | None = None

    @property
    def nominal(self) -> bool:
        return self.level is not None and self.level >= CONFIDENCE - 1e-12

    def excludes_one(self) -> bool:
        """The data separate a from b at the nominal level."""
        return (self.nominal and self.ci_low is not None and self.ci_high is not None
                and (self.ci_low > 1 or self.ci_high < 1))

    def within(self, margin: float) -> bool:
        """Shown equivalent: both one-sided t tests (TOST) reject a ratio beyond
        [1 / (1 + margin), 1 + margin] at 5% x this look's share, i.e. the 1 - 2 x 5% x share
        interval lies inside the margin. Paired comparisons only."""
        if self.log_mean is None or self.log_se is None or self.share is None or self.n < MIN_PAIRED_ROUNDS:
            return False
        bound = math.log1p(margin)
        reach = float(special.stdtrit(self.n - 1, 1 - ALPHA * self.share)) * self.log_se
        return abs(self.log_mean) + reach < bound


#: The error rate every decision keeps.
ALPHA = 1 - CONFIDENCE


def _rounds(samples: Samples) -> Mapping[int, float] | None:
    return samples if isinstance(samples, Mapping) else None


def _values(samples: Samples) -> tuple[float, ...]:
    values = samples.values() if isinstance(samples, Mapping) else samples
    return tuple(float(v) for v in values)


def ratio(a: Samples, b: Samples, *, share: float = 1.0) -> Ratio:
    """a against b: paired by round where both give values by round and share at least
    MIN_PAIRED_ROUNDS rounds (only the common rounds count), else independent. ``share``:
    the part of the 5% the look this comparison is made at may spend (``sequential``)."""
    ra, rb = _rounds(a), _rounds(b)
    if ra is not None and rb is not None:
        common = sorted(set(ra) & set(rb))
        if len(common) >= MIN_PAIRED_ROUNDS:
            return _paired(tuple(float(ra[r]) for r in common), tuple(float(rb[r]) for r in common), share)
    return _independent(_values(a), _values(b))


def per_round_ratios(a: Samples, b: Samples) -> list[float] | None:
    """a / b in each round both measured, when they share enough rounds to be paired."""
    ra, rb = _rounds(a), _rounds(b)
    if ra is None or rb is None:
        return None
    common = sorted(set(ra) & set(rb))
    if len(common) < MIN_PAIRED_ROUNDS or any(rb[r] == 0 for r in common):
        return None
    return [ra[r] / rb[r] for r in common]


def paired_ratio(a: Sequence[float], b: Sequence[float], *, share: float = 1.0) -> Ratio:
    """a[i] against b[i], each pair from the same round of one run."""
    if len(a) != len(b) or not a:
        raise ValueError("paired samples need one value of each side per round")
    return _paired(tuple(float(v) for v in a), tuple(float(v) for v in b), share)


def sign_test(values: Sequence[float], threshold: float, alternative: str = "two-sided") -> float | None:
    """Exact sign test of the median of ``values`` against ``threshold`` (ties dropped):
    "less" tests median < threshold, "greater" median > threshold."""
    above = sum(1 for v in values if v > threshold)
    below = sum(1 for v in values if v < threshold)
    n = above + below
    if n == 0:
        return None
    if alternative == "less":
        return float(sps.binom.cdf(above, n, 0.5))
    if alternative == "greater":
        return float(sps.binom.cdf(below, n, 0.5))
    return min(1.0, 2.0 * float(sps.binom.cdf(min(above, below), n, 0.5)))


@functools.lru_cache(maxsize=8192)
def _paired(a: tuple[float, ...], b: tuple[float, ...], share: float = 1.0) -> Ratio:
    """The paired t test on log(a / b) at a look that may spend ``share`` of the 5%."""
    if not 0 < share <= 1:
        raise ValueError(f"a look's share of the error rate must be in (0, 1], not {share}")
    n = len(a)
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if np.any(xa <= 0) or np.any(xb <= 0) or not (np.all(np.isfinite(xa)) and np.all(np.isfinite(xb))):
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(np.median(xa / xb))
        return Ratio(value if math.isfinite(value) else math.inf, None, None, None, paired=True, n=n,
                     why="a reading of zero or below in a round", share=share)
    logs = np.log(xa) - np.log(xb)
    mean = float(np.mean(logs))
    value = math.exp(mean)
    if n < MIN_PAIRED_ROUNDS:
        return Ratio(value, None, None, None, paired=True, n=n, why=f"fewer than {MIN_PAIRED_ROUNDS} rounds",
                     share=share)
    if _identical(logs) or float(np.ptp(logs)) <= 1e-12:
        return Ratio(value, None, None, None, paired=True, n=n,
                     why="every round gave the same ratio: no spread observed", share=share)
    se = float(np.std(logs, ddof=1)) / math.sqrt(n)
    t = mean / se
    p_raw = 2.0 * float(special.stdtr(n - 1, -abs(t)))
    reach = float(special.stdtrit(n - 1, 1 - ALPHA * share / 2)) * se
    return Ratio(value, math.exp(mean - reach), math.exp(mean + reach), min(1.0, p_raw / share),
                 1 - ALPHA * share, True, n, share=share, log_mean=mean, log_se=se)


def paired_median_ratio(a: Sequence[float], b: Sequence[float]) -> Ratio:
    """The suite's paired rule before issue 22, kept for the simulation to compare with: the
    median of per-round ratios, its order-statistic interval and the exact sign test."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_round = np.asarray(a, dtype=float) / np.asarray(b, dtype=float)
    if not np.all(np.isfinite(per_round)):
        return Ratio(math.inf, None, None, None, paired=True, n=len(a), why="a zero reading in a round")
    value = float(np.median(per_round))
    interval = median_interval(per_round)
    p_value = sign_test(per_round, 1.0)
    if interval is None:
        return Ratio(value, None, None, p_value, None, True, len(a), "no interval")
    return Ratio(value, interval.low, interval.high, p_value, interval.level, True, len(a))


@functools.lru_cache(maxsize=64)
def _u_counts(n: int, m: int) -> tuple[float, ...]:
    """How many of the C(n+m, n) orderings of two samples give each Mann-Whitney U."""
    if n == 0 or m == 0:
        return (1.0,)
    with_n = _u_counts(n - 1, m)  # the largest value is from the first sample: U grows by m
    with_m = _u_counts(n, m - 1)
    counts = [0.0] * (n * m + 1)
    for u, c in enumerate(with_n):
        counts[u + m] += c
    for u, c in enumerate(with_m):
        counts[u] += c
    return tuple(counts)


def _u_tail(k: int, n: int, m: int) -> float:
    """P(U <= k) when both samples come from one distribution (exact below 40 a side)."""
    if n <= 40 and m <= 40:
        counts = _u_counts(n, m)
        return sum(counts[: k + 1]) / sum(counts)
    mean, sd = n * m / 2, math.sqrt(n * m * (n + m + 1) / 12)
    return float(sps.norm.cdf((k + 0.5 - mean) / sd))


@functools.lru_cache(maxsize=4096)
def _independent(a: tuple[float, ...], b: tuple[float, ...]) -> Ratio:
    """a against b from different runs: the Hodges-Lehmann ratio (the median of every a/b)
    with the interval from inverting the Mann-Whitney test, exact at its n where a and b
    differ by a factor (the same spread on a log scale)."""
    if not a or not b:
        raise ValueError("no samples")
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n = min(len(a), len(b))
    p_value = None
    if xa.size >= 2 and xb.size >= 2 and not (np.ptp(xa) == 0 and np.ptp(xb) == 0 and xa[0] == xb[0]):
        p_value = float(sps.mannwhitneyu(xa, xb, alternative="two-sided").pvalue)
    if np.any(xa <= 0) or np.any(xb <= 0):
        value = float(np.median(xa)) / float(np.median(xb)) if np.median(xb) else math.inf
        return Ratio(value, None, None, p_value, None, False, n, "a reading of zero or below: no ratio interval")
    differences = np.sort(np.subtract.outer(np.log(xa), np.log(xb)).ravel())
    value = float(np.exp(np.median(differences)))
    if len(a) < 2 or len(b) < 2 or np.ptp(differences) == 0:
        return Ratio(value, None, None, p_value, None, False, n, "fewer samples or spread than an interval needs")
    k = 1
    while k < differences.size // 2 and 1 - 2 * _u_tail(k, len(a), len(b)) >= CONFIDENCE:
        k += 1
    level = 1 - 2 * _u_tail(k - 1, len(a), len(b))
    return Ratio(value, float(np.exp(differences[k - 1])), float(np.exp(differences[-k])), p_value, level, False, n)


def hierarchical_ratio(a_runs: Sequence[Sequence[float]], b_runs: Sequence[Sequence[float]], *,
                       seed: int = 20231109, resamples: int = 4000) -> Ratio:
    """a against b where a side pools several runs: the ratio of the pooled medians, with a
    two-stage bootstrap (runs drawn with replacement, then each drawn run's trials), so the
    run-to-run variance, usually the largest, is in the interval. Percentile interval at 95%
    (approximate: with few runs a bootstrap undercovers, which the caller says)."""
    rng = np.random.default_rng(seed)
    pooled_a = np.concatenate([np.asarray(r, dtype=float) for r in a_runs])
    pooled_b = np.concatenate([np.asarray(r, dtype=float) for r in b_runs])
    denominator = float(np.median(pooled_b))
    value = float(np.median(pooled_a)) / denominator if denominator else math.inf
    n = min(len(a_runs), len(b_runs))
    if not denominator or min(len(pooled_a), len(pooled_b)) < MIN_SAMPLES_FOR_CI:
        return Ratio(value, None, None, None, None, False, n, "too few samples for an interval")

    def draw(runs: Sequence[Sequence[float]]) -> float:
        chosen = [np.asarray(runs[i], dtype=float) for i in rng.integers(0, len(runs), len(runs))]
        return float(np.median(np.concatenate([r[rng.integers(0, r.size, r.size)] for r in chosen])))

    ratios = np.array([draw(a_runs) / draw(b_runs) for _ in range(resamples)])
    low, high = np.percentile(ratios, [100 * (1 - CONFIDENCE) / 2, 100 * (1 + CONFIDENCE) / 2])
    p_value = min(1.0, 2 * min(float(np.mean(ratios <= 1)), float(np.mean(ratios >= 1))))
    return Ratio(value, float(low), float(high), p_value, CONFIDENCE, False, n)


def better(ratio_: Ratio, higher_is_better: bool) -> str:
    """"better", "worse" or "same" for a against b, by the interval and the direction."""
    if not ratio_.excludes_one():
        return "same"
    above = ratio_.ci_low is not None and ratio_.ci_low > 1
    return "better" if above == higher_is_better else "worse"


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (None stays None and does not count in the family):
    rejecting where the adjusted value is below 5% keeps the chance of any false rejection in
    the family at 5%, whatever the dependence between the tests."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank_, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank_) * p))
        adjusted[i] = running
    return adjusted


@dataclass(frozen=True)
class Ranked:
    key: str
    rank: str  # "1", "2", or a range "2-3": the ranks the data allow
    summary: Summary
    low: int = 1
    high: int = 1
    #: Not separated from the next one in median order (for "≈" in headlines).
    ties_next: bool = False


#: The share of the 5% a comparison spends: one for every pair, or each pair's own (a, b) -> share.
Share = float | Callable[[str, str], float]


def spent(share: Share, a: str, b: str) -> float:
    """What the comparison of a and b spends of ``share``."""
    return share(a, b) if callable(share) else share


def rank(groups: Mapping[str, Samples], *, higher_is_better: bool,
         share: Share = 1.0) -> list[Ranked]:
    """Best median first. Every pair is compared (``ratio``, at the nominal level, spending
    ``share`` of it at this look, or ``share(a, b)`` at each pair's own look); a method's rank is the range from 1 + the number of methods
    shown better than it to n - the number shown worse. Ranges are consistent across all
    pairs: a method clearly above another never shares a rank with it, even through a chain
    of methods between them that separate from neither."""
    summaries = {key: summarize(_values(values)) for key, values in groups.items() if len(values)}
    order = sorted(summaries, key=lambda k: summaries[k].median, reverse=higher_is_better)
    n = len(order)
    outcome: dict[tuple[str, str], str] = {}
    for i, key in enumerate(order):
        for other in order[i + 1:]:
            decided = better(ratio(groups[key], groups[other], share=spent(share, key, other)), higher_is_better)
            outcome[(key, other)] = decided
            outcome[(other, key)] = {"better": "worse", "worse": "better"}.get(decided, "same")
    ranges = {}
    for key in order:
        above = sum(1 for other in order if other != key and outcome[(other, key)] == "better")
        below = sum(1 for other in order if other != key and outcome[(other, key)] == "worse")
        ranges[key] = (1 + above, n - below)
    # The test compares geometric means of per-round ratios, the order is by median: where the
    # two disagree on a separated pair, the ranks decide the order.
    order.sort(key=lambda k: ranges[k])
    found = []
    for i, key in enumerate(order):
        low, high = ranges[key]
        label = str(low) if low == high else f"{low}-{high}"
        ties_next = i + 1 < n and outcome[(key, order[i + 1])] == "same"
        found.append(Ranked(key, label, summaries[key], low, high, ties_next))
    return found
