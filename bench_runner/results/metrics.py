"""Every metric the suite records, with its unit, its direction and one line saying what the
number means: the one place ``list --metrics``, the report's legend and the results schema's
descriptions take their words from, so no number is shown without them.

A metric id means the same thing in every workload that records it (p50 is a median latency
whether the trial timed round trips or whole transactions).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    id: str
    unit: str
    higher_is_better: bool
    #: What the number means, in one line.
    summary: str

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"


THROUGHPUT = Metric("throughput", "Gbit/s", True,
                    "goodput: application payload moved per second, warm-up excluded (iperf3 counts it at the "
                    "receiver)")
RETRANSMITS = Metric("retransmits", "count", False,
                     "TCP segments the sender retransmitted during the trial (iperf3's count, all streams)")
HELPER_CPU = Metric("helper_cpu_s_per_gb", "CPU s/GB", False,
                    "CPU seconds the forwarding helper (pasta, slirp4netns, rootlesskit) spent per GB (10^9 bytes) moved; "
                    "recorded only where a helper carries the traffic")
P50 = Metric("p50", "us", False,
             "median latency of the trial's round trips (tcp-rr, udp-rr) or whole transactions (tcp-crr), "
             "over every one of its concurrent clients (--streams)")
P90 = Metric("p90", "us", False,
             "90th percentile latency of the trial's round trips (tcp-rr, udp-rr) or transactions (tcp-crr), "
             "over every one of its concurrent clients (--streams)")
P99 = Metric("p99", "us", False,
             "99th percentile latency of the trial's round trips (tcp-rr, udp-rr) or transactions (tcp-crr), "
             "over every one of its concurrent clients (--streams)")
TRANSACTION = Metric("transaction_us", "us", False,
                     "mean time per connect-request-response-close transaction as one client sees it "
                     "(the clients' measured time / their transactions)")
TRANSACTIONS = Metric("transactions_per_s", "transactions/s", True,
                      "round trips (tcp-rr, udp-rr) or connect-request-response-close transactions (tcp-crr) "
                      "completed per second, all the trial's concurrent clients (--streams; one without) together, "
                      "warm-up excluded")
LOST = Metric("lost_percent", "%", False, "share of the UDP datagrams sent that the receiver never got (iperf3)")
JITTER = Metric("jitter_ms", "ms", False,
                "variation of the UDP datagrams' transit time at the receiver (iperf3, RFC 1889 interarrival jitter)")
UDP_MAX_OFFERED = Metric("udp_max_offered", "Gbit/s", True,
                         "--udp-rate max: the highest offered UDP rate (iperf3 -b) at which at most 1% of the datagrams "
                         "were lost, found by a bounded search of short probes in each trial (throughput is the "
                         "goodput received at it)")

#: Every metric by id, in the order they are listed.
METRICS: dict[str, Metric] = {m.id: m for m in (
    THROUGHPUT, RETRANSMITS, HELPER_CPU, TRANSACTION, P50, P90, P99, TRANSACTIONS, LOST, JITTER, UDP_MAX_OFFERED)}

#: Said of a metric a document records that this version of the suite does not know.
UNKNOWN = "not described by this version of the suite"


def meaning(metric_id: str) -> str:
    known = METRICS.get(metric_id)
    return known.summary if known else UNKNOWN


def schema_properties() -> dict[str, dict[str, str]]:
    """A trial's ``samples`` properties as the results schema states them."""
    return {m.id: {"type": "number", "description": f"{m.summary}. Unit: {m.unit}; {m.direction}."}
            for m in METRICS.values()}
