"""Simulations of the suite's statistical rules on data of known truth: how often an interval
covers the true value at the n the suite uses (with its adaptive rounds), and how often a run
whose methods do not differ at all still reports a violated ordering.

Trials are drawn as the lab makes them: a method's true median, times a drift shared by every
cell of a round (the machine's speed at that moment), times the trial's own lognormal noise
of a given coefficient of variation. The current rules are those of ``stats`` and
``verdicts``; the old rules (before issue 11) are reproduced here only to be compared with:
percentile bootstrap intervals, independent resampling of ratios, per-cell adaptive rounds
and verdicts without family-wise control.

``python -m bench_runner.analysis.simulation`` prints the comparison (seeded, about a minute).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import defaults
from . import stats

#: The old rule's defaults (5 rounds, up to 10, cell by cell) and the current ones.
OLD_ROUNDS, OLD_MAX = 5, 10
NEW_ROUNDS, NEW_MAX = defaults.ROUNDS, defaults.MAX_ROUNDS
PRECISION = defaults.PRECISION
#: The default run's verdict family: 2 workloads x 2 placements x 2 adjacent pairs.
DEFAULT_FAMILY_TABLES = 4
BOOTSTRAP_RESAMPLES = 1000


def _noise(rng: np.random.Generator, cv: float, size: int | tuple[int, ...]) -> np.ndarray:
    sigma = math.sqrt(math.log(1 + cv * cv))
    return np.exp(rng.normal(0.0, sigma, size))


# ---------------------------------------------------------------- the old rules
def _bootstrap_median_ci(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float] | None:
    if values.size < 3:
        return None
    if np.ptp(values) == 0:
        return float(values[0]), float(values[0])
    idx = rng.integers(0, values.size, (BOOTSTRAP_RESAMPLES, values.size))
    medians = np.median(values[idx], axis=1)
    low, high = np.percentile(medians, [2.5, 97.5])
    return float(low), float(high)


def _bootstrap_ratio_ci(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> tuple[float, float] | None:
    if a.size < 3 or b.size < 3:
        return None
    ia = rng.integers(0, a.size, (BOOTSTRAP_RESAMPLES, a.size))
    ib = rng.integers(0, b.size, (BOOTSTRAP_RESAMPLES, b.size))
    ratios = np.median(a[ia], axis=1) / np.median(b[ib], axis=1)
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(low), float(high)


def _old_half_width(values: np.ndarray, rng: np.random.Generator) -> float:
    ci = _bootstrap_median_ci(values, rng)
    return math.inf if ci is None else (ci[1] - ci[0]) / 2 / abs(float(np.median(values)))


# ---------------------------------------------------------------- one simulated cell family
@dataclass(frozen=True)
class Family:
    """True medians of the methods of one workload and placement, measured together."""

    medians: tuple[float, ...]
    cv: float
    drift_cv: float = 0.0


def _measure(family: Family, rng: np.random.Generator, rounds: int, max_rounds: int, *,
             whole_family: bool, half_width: Callable[[np.ndarray], float]) -> list[np.ndarray]:
    """Each method's samples after the adaptive rounds: another round for the whole family
    while any cell is imprecise (the current rule), or only for the imprecise cells (old)."""
    k = len(family.medians)
    medians = np.asarray(family.medians)
    drift = _noise(rng, family.drift_cv, max_rounds) if family.drift_cv else np.ones(max_rounds)
    draws = medians[None, :] * drift[:, None] * _noise(rng, family.cv, (max_rounds, k))
    taken = [rounds] * k
    while True:
        imprecise = [taken[i] < max_rounds and half_width(draws[: taken[i], i]) > PRECISION for i in range(k)]
        if not any(imprecise):
            break
        for i in range(k):
            if (whole_family or imprecise[i]) and taken[i] < max_rounds:
                taken[i] += 1
    return [draws[: taken[i], i] for i in range(k)]


def _new_half_width(values: np.ndarray) -> float:
    summary = stats.summarize(values)
    return math.inf if summary.half_width is None else summary.half_width


@dataclass(frozen=True)
class Coverage:
    rule: str
    cv: float
    median: float  # share of runs whose median interval covered the true median
    ratio: float  # share whose ratio interval covered the true ratio
    mean_n: float
    #: The level the intervals stated, on average over the runs (the old rule: 95% always).
    median_stated: float = stats.CONFIDENCE
    ratio_stated: float = stats.CONFIDENCE


def coverage(cv: float, reps: int, seed: int, *, old: bool = False, drift_cv: float = 0.02) -> Coverage:
    """Coverage of a cell's median interval and of the ratio to a second cell (the "vs host"
    ratio), after the rule's adaptive rounds, for one CV."""
    rng = np.random.default_rng(seed)
    family = Family((100.0, 80.0), cv, drift_cv)
    covered_median = covered_ratio = 0
    total_n = 0
    stated_median = stated_ratio = 0.0
    for _ in range(reps):
        if old:
            a, b = _measure(family, rng, OLD_ROUNDS, OLD_MAX, whole_family=False,
                            half_width=lambda v: _old_half_width(v, rng))
            ci = _bootstrap_median_ci(a, rng)
            ratio_ci = _bootstrap_ratio_ci(b, a, rng)
        else:
            a, b = _measure(family, rng, NEW_ROUNDS, NEW_MAX, whole_family=True, half_width=_new_half_width)
            interval = stats.median_interval(a)
            ci = (interval.low, interval.high) if interval else None
            r = stats.ratio(dict(enumerate(b)), dict(enumerate(a)))
            ratio_ci = (r.ci_low, r.ci_high) if r.ci_low is not None else None
            stated_median += interval.level if interval else 0.0
            stated_ratio += r.level or 0.0
        covered_median += ci is not None and ci[0] <= 100.0 <= ci[1]
        covered_ratio += ratio_ci is not None and ratio_ci[0] <= 0.8 <= ratio_ci[1]
        total_n += a.size
    if old:
        return Coverage("old", cv, covered_median / reps, covered_ratio / reps, total_n / reps)
    return Coverage("new", cv, covered_median / reps, covered_ratio / reps, total_n / reps,
                    stated_median / reps, stated_ratio / reps)


def false_violations(reps: int, seed: int, *, old: bool = False, tables: int = DEFAULT_FAMILY_TABLES,
                     cv: float = 0.07) -> float:
    """Share of runs where methods of equal medians still give at least one "violated"
    verdict, with the default run's family of ``tables`` x 2 adjacent pairs."""
    rng = np.random.default_rng(seed)
    family = Family((100.0, 100.0, 100.0), cv)
    any_violated = 0
    for _ in range(reps):
        p_values: list[float | None] = []
        violated_raw = False
        for _ in range(tables):
            if old:
                samples = _measure(family, rng, OLD_ROUNDS, OLD_MAX, whole_family=False,
                                   half_width=lambda v: _old_half_width(v, rng))
                for better, worse in ((0, 1), (1, 2)):
                    ci = _bootstrap_ratio_ci(samples[better], samples[worse], rng)
                    violated_raw |= ci is not None and ci[1] < 1  # higher is better: wholly below 1
            else:
                samples = _measure(family, rng, NEW_ROUNDS, NEW_MAX, whole_family=True, half_width=_new_half_width)
                for better, worse in ((0, 1), (1, 2)):
                    r = stats.ratio(dict(enumerate(samples[better])), dict(enumerate(samples[worse])))
                    # a violation is the "wrong" direction only: below 1 for higher-is-better
                    p_values.append(r.p_value if r.value < 1 else None)
        if old:
            any_violated += violated_raw
        else:
            any_violated += any(p is not None and p < 0.05 for p in stats.holm(p_values))
    return any_violated / reps


def report(reps: int, seed: int) -> str:
    lines = ["coverage (median of a cell; ratio to a second cell) after each rule's adaptive rounds, against the",
             "level the interval states (old: always '95%'; new: its true level at its n, on average)",
             f"{'CV':>5}  {'old median':>10}  {'old ratio':>9}  {'old n':>5}  {'new median (stated)':>20}  "
             f"{'new ratio (stated)':>19}  {'new n':>5}"]
    for cv in (0.03, 0.07, 0.10, 0.15):
        old = coverage(cv, max(reps // 4, 100), seed, old=True)
        new = coverage(cv, reps, seed)
        lines.append(f"{cv:>5.0%}  {old.median:>10.3f}  {old.ratio:>9.3f}  {old.mean_n:>5.1f}  "
                     f"{new.median:>11.3f} ({new.median_stated:.3f})  {new.ratio:>10.3f} ({new.ratio_stated:.3f})  "
                     f"{new.mean_n:>5.1f}")
    old_fv = false_violations(max(reps // 4, 100), seed, old=True)
    new_fv = false_violations(reps, seed)
    lines += ["", f"runs with at least one false 'violated' among the default run's {2 * DEFAULT_FAMILY_TABLES} "
                  f"ordering pairs when no method differs (CV 7%): old {old_fv:.3f}, new {new_fv:.3f}",
              f"({reps} simulated runs per new figure, {max(reps // 4, 100)} per old one; seed {seed})"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench_runner.analysis.simulation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=2000, help="simulated runs per figure (default: 2000)")
    parser.add_argument("--seed", type=int, default=20261130, help="seed (default: 20261130)")
    args = parser.parse_args(argv)
    if args.reps < 100:
        parser.error("--reps must be at least 100")
    print(report(args.reps, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
