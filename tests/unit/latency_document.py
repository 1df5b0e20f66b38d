"""A results document with a latency workload (p50 main metric, p90 and p99 extras, in us,
lower is better) and a failed cell, built from known distributions for report tests."""

from __future__ import annotations

import numpy as np

from bench_runner.results.document import CellResult, MetricInfo, RunDocument, Trial

#: method -> (p50 mean in us, spread); p90 and p99 follow at fixed multiples.
PROFILE = {"host": (40.0, 1.0), "pasta": (95.0, 4.0), "slirp4netns-rootlesskit": (120.0, 5.0),
           "slirp4netns-slirp4netns": (150.0, 12.0)}
CLIENT = "198.51.100.2"
#: What the suite observes on this machine: the helper owning the port, the address the server saw.
CARRIER = {"host": ("server:echo", CLIENT), "pasta": ("pasta", CLIENT),
           "slirp4netns-rootlesskit": ("rootlesskit", "127.0.0.1"),
           "slirp4netns-slirp4netns": ("slirp4netns", CLIENT)}


def document(trials: int = 6, seed: int = 7) -> RunDocument:
    rng = np.random.default_rng(seed)
    cells = []
    index = 0
    for placement in ("remote", "loopback"):
        for method, (p50, spread) in PROFILE.items():
            runs = []
            for number in range(trials + 1):
                median = float(rng.normal(p50, spread))
                samples = {"p50": median, "p90": median * 1.4 + float(rng.normal(0, spread)),
                           "p99": median * 2.5 + float(rng.normal(0, 3 * spread))}
                runs.append(Trial(index=index, round=number, warmup=number == 0, started_at="2026-11-28T00:00:00Z",
                                  seconds=2.0, status="ok", samples=samples,
                                  observations={"peer_address": CARRIER[method][1],
                                                "listener": {"kind": CARRIER[method][0]}}))
                index += 1
            cells.append(CellResult("tcp-rr", placement, method, "p50", "us", False,
                                    [MetricInfo("p90", "us", False), MetricInfo("p99", "us", False)],
                                    status="measured", trials=runs))
    failed = Trial(index=index, round=0, warmup=False, started_at="2026-11-28T00:00:00Z", seconds=1.0,
                   status="failed", error="echo client exited with 1: connection refused")
    cells.append(CellResult("tcp-rr", "remote", "socket-activation-user", "p50", "us", False,
                            [MetricInfo("p90", "us", False), MetricInfo("p99", "us", False)],
                            status="failed", reason=failed.error, trials=[failed]))
    cells.append(CellResult("tcp-stream", "remote", "socket-activation-user", "throughput", "Gbit/s", True, [],
                            status="not_applicable", reason="iperf3 cannot take an inherited listening socket"))
    return RunDocument(
        run={"id": "latency1", "started_at": "2026-11-28T00:00:00Z", "finished_at": "2026-11-28T00:10:00Z",
             "status": "complete", "command": ["python", "-m", "bench_runner", "run", "--workloads", "tcp-rr"],
             "options": {"methods": list(PROFILE), "workloads": ["tcp-rr"], "placements": ["loopback", "remote"],
                         "provider": "auto", "duration_s": 3, "omit_s": 1, "rounds": trials, "warmup_rounds": 1,
                         "max_rounds": trials, "precision": 0.05, "quick": False, "mtu": 1500, "pasta": "pasta",
                         "expect": ["pasta>slirp4netns-rootlesskit>slirp4netns-slirp4netns"], "tolerance": 0.1,
                         "claims_probed": False},
             "seed": 42},
        stack={"kernel": "6.1.0-test", "podman": "4.3.1", "passt": "2023_03_09.7c7625d", "slirp4netns": "1.2.0",
               "rootlesskit": "1.1.0", "iperf3": "3.12", "distribution": "Debian GNU/Linux 12 (bookworm)",
               "cpu_model": "Test CPU", "cpu_count": 2, "virtualization": "none",
               "sysctls": {"net.ipv4.tcp_congestion_control": "cubic"}, "stated": {"passt": "custom-build"}},
        lab={"client_addr": CLIENT, "server_addr": "198.51.100.1", "mtu": 1500, "subnet": "198.51.100.0/24",
             "server_ip_unprivileged_port_start": 1024},
        provider={"id": "bare", "reason": "test"},
        cells=cells,
    )
