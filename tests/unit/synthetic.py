"""Results documents made from known distributions, for statistics and rendering tests."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from bench_runner.results.document import CellResult, MetricInfo, RunDocument, Trial

CLIENT = "198.51.100.2"


def normal(mean: float, sd: float, n: int, seed: int) -> list[float]:
    return [float(v) for v in np.random.default_rng(seed).normal(mean, sd, n)]


def document(cells: dict[tuple[str, str, str], Iterable[float]], *, metric: str = "throughput",
             unit: str = "Gbit/s", higher_is_better: bool = True,
             peers: dict[str, str] | None = None, claims: list[dict] | None = None) -> RunDocument:
    """cells: (workload, placement, method) -> samples; peers: method -> address the server saw."""
    results = []
    index = 0
    for (workload, placement, method), samples in cells.items():
        trials = []
        for round_, value in enumerate(samples):
            # Every cell in every round, as a run interleaves them.
            observations = {"peer_address": (peers or {}).get(method, CLIENT), "listener": {"kind": method}}
            trials.append(Trial(index=index, round=round_, warmup=False, started_at="2026-11-28T00:00:00Z",
                                seconds=1.0, status="ok", samples={metric: value}, observations=observations))
            index += 1
        results.append(CellResult(workload, placement, method, metric, unit, higher_is_better,
                                  [MetricInfo("retransmits", "count", False)], status="measured", trials=trials))
    return RunDocument(
        run={"id": "synthetic", "started_at": "2026-11-28T00:00:00Z", "status": "complete", "command": [],
             "options": {"precision": 0.05, "max_rounds": 15}, "seed": 1},
        stack={"kernel": "6.1", "podman": "4.3.1", "passt": "x", "slirp4netns": "1.2.0", "rootlesskit": "1.1.0",
               "iperf3": "3.12", "distribution": "test", "cpu_model": "test", "cpu_count": 2, "virtualization": "none"},
        lab={"client_addr": CLIENT, "server_addr": "198.51.100.1"},
        provider={"id": "bare", "reason": "test"},
        cells=results,
        checks={"claims": claims or []},
    )
