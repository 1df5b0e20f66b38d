#!/usr/bin/env python3
"""Trial-length check (README, "Trial length"): is a shorter trial measuring the same thing?

Compares runs of other trial lengths against a reference run (3 s + 1 s) cell by cell, on each
cell's per-round ratio to host: taken round by round, the machine's load, which moves between
runs made minutes apart on a shared machine, cancels. Prints the change in the mean log ratio
with its 95% Welch interval; "same" where the interval holds 1. Reads results documents only.

Usage: trial-length-check.py REFERENCE.json RUN.json [RUN.json ...]
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
from scipy import stats


def per_round(path: str) -> dict[tuple[str, str], dict[int, float]]:
    """Each measured cell's primary metric by round (warm-up and failed trials left out)."""
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    found = {}
    for cell in document["cells"]:
        values = {t["round"]: t["samples"][cell["metric"]] for t in cell["trials"]
                  if not t["warmup"] and t["status"] == "ok" and cell["metric"] in (t.get("samples") or {})}
        if values:
            found[(cell["workload"], cell["method"])] = values
    return found


def log_ratios(run: dict[tuple[str, str], dict[int, float]], workload: str, method: str) -> np.ndarray:
    cell, host = run[(workload, method)], run[(workload, "host")]
    return np.array([math.log(cell[r] / host[r]) for r in sorted(set(cell) & set(host))
                     if cell[r] > 0 and host[r] > 0])


def compare(reference: dict, other: dict) -> list[str]:
    lines = []
    for workload, method in sorted(other):
        if method == "host" or (workload, method) not in reference or (workload, "host") not in other:
            continue
        x, y = log_ratios(reference, workload, method), log_ratios(other, workload, method)
        if len(x) < 2 or len(y) < 2:
            continue
        vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
        se = math.sqrt(vx + vy)
        df = se ** 4 / (vx ** 2 / (len(x) - 1) + vy ** 2 / (len(y) - 1)) if se > 0 else 1.0
        reach = float(stats.t.ppf(0.975, df)) * se
        change = y.mean() - x.mean()
        same = change - reach <= 0 <= change + reach
        lines.append(f"{workload:<20} {method:<26} {math.exp(x.mean()):>7.3f} {math.exp(y.mean()):>7.3f} "
                     f"{math.exp(change):>7.3f} [{math.exp(change - reach):.3f}, {math.exp(change + reach):.3f}] "
                     f"{'same' if same else 'DIFFERS'}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    reference = per_round(argv[0])
    for path in argv[1:]:
        print(f"{path} against {argv[0]} (ratio to host, geometric mean over rounds)")
        print(f"{'workload':<20} {'method':<26} {'ref':>7} {'this':>7} {'change':>7} 95% CI")
        print("\n".join(compare(reference, per_round(path))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
