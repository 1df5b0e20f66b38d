"""``--udp-rate max``: the highest offered UDP rate a method carries with at most 1% loss,
searched for in every trial with short probes, each an iperf3 UDP test at one offered rate
(through a fresh server, like a trial of its own).

The search is bounded, so a trial is bounded in time:

1. Bracket: the first probe offers ``START_MBPS`` (udp-stream's own 1 Gbit/s). While a probe
   loses at most ``LOSS_LIMIT_PERCENT``, the next offers twice as much, up to ``CEILING_MBPS``
   (a method that keeps up there is reported at the ceiling); while one loses more, the next
   offers half as much, down to ``FLOOR_MBPS``.
2. Bisect: between the highest rate that kept its loss within the limit and the lowest that
   did not, ``BISECT_STEPS`` halvings of the gap (the result is within a sixteenth of the last
   doubling), stopping early at a 1 Mbit/s gap.
3. No trial runs more than ``MAX_PROBES`` probes; a search the cap cuts short keeps the best
   rate found so far, and says so.

The trial's samples are those of the probe at the highest rate that kept its loss within the
limit (its goodput, loss, jitter), with that rate as ``udp_max_offered``. A probe whose client
sent less than ``SENT_SHARE_MIN`` of the offered rate counts as not carried: it did not test it. Where even the floor
loses more, there is no such rate: the trial fails, saying so, rather than report a rate that
was never carried (every probe is in its observations either way).

The search is a pure function of what the probes report, tested with a fake prober.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

#: A probe counts as carried when at most this share of its datagrams was lost...
LOSS_LIMIT_PERCENT = 1.0
#: ... and its client sent at least this share of the offered rate: one that could not keep
#: up (seen: 63 of 187 Mbit/s offered, on a busy machine) did not test that rate.
SENT_SHARE_MIN = 0.9
START_MBPS = 1000
FLOOR_MBPS = 1
CEILING_MBPS = 100_000  # --udp-rate's own highest value
BISECT_STEPS = 4
MAX_PROBES = 12
#: About how many probes a search takes, for the time estimate: a maximum within a factor 16
#: of the start, either way, takes 2 to 5 to bracket it and 4 to bisect (8 and 9 in a quick
#: run on the reference machine, host and pasta, at maxima of 0.16 and 0.11 Gbit/s).
EXPECTED_PROBES = 8


def probe_seconds(duration_s: int) -> int:
    """A probe measures a third of the trial's duration, at least 1 s, with no omitted
    warm-up (UDP has no slow start to leave out): a search of eight probes of a 3 s trial
    measures 8 s."""
    return max(1, duration_s // 3)


@dataclass(frozen=True)
class Probe:
    """One iperf3 UDP test: what was offered, what arrived, what was lost."""

    offered_mbps: int
    received_mbps: float
    lost_percent: float
    #: What the client managed to send: below the offered rate where the sender cannot keep up.
    sent_mbps: float | None = None

    @classmethod
    def of_run(cls, offered_mbps: int, samples: dict[str, float], observations: dict[str, Any]) -> "Probe":
        """A probe from the samples and observations of a udp-stream run at that rate."""
        sent = observations.get("sent_gbits")
        return cls(offered_mbps, samples["throughput"] * 1000, samples["lost_percent"],
                   sent * 1000 if isinstance(sent, (int, float)) else None)

    @property
    def short(self) -> bool:
        """The client sent less than SENT_SHARE_MIN of the offered rate."""
        return self.sent_mbps is not None and self.sent_mbps < SENT_SHARE_MIN * self.offered_mbps

    @property
    def carried(self) -> bool:
        return self.lost_percent <= LOSS_LIMIT_PERCENT and not self.short

    def to_json(self) -> dict[str, Any]:
        return {"offered_mbps": self.offered_mbps,
                **({"sent_mbps": round(self.sent_mbps, 3)} if self.sent_mbps is not None else {}),
                "received_mbps": round(self.received_mbps, 3), "lost_percent": round(self.lost_percent, 4),
                "carried": self.carried, **({"sent_short": True} if self.short else {})}


@dataclass(frozen=True)
class Search:
    probes: tuple[Probe, ...]
    #: The probe at the highest offered rate that kept its loss within the limit, if any.
    best: Probe | None
    #: How the search ended, in words, for the record.
    ended: str

    def to_json(self) -> dict[str, Any]:
        return {"loss_limit_percent": LOSS_LIMIT_PERCENT,
                "max_offered_mbps": self.best.offered_mbps if self.best else None, "ended": self.ended, "probes": [p.to_json() for p in self.probes]}


def search(probe: Callable[[int], Probe], *, start: int = START_MBPS, floor: int = FLOOR_MBPS,
           ceiling: int = CEILING_MBPS, bisect_steps: int = BISECT_STEPS, max_probes: int = MAX_PROBES) -> Search:
    """Run the bounded search with ``probe(offered_mbps)``; an error a probe raises ends it
    (the caller records the probes it saw)."""
    probes: list[Probe] = []

    def run(rate: int) -> Probe:
        found = probe(rate)
        probes.append(found)
        return found

    def done(ended: str) -> Search:
        carried = [p for p in probes if p.carried]
        best = max(carried, key=lambda p: p.offered_mbps) if carried else None
        return Search(tuple(probes), best, ended)

    rate = min(max(start, floor), ceiling)
    good: int | None = None  # the highest rate carried
    bad: int | None = None  # the lowest rate not carried above it
    while True:
        if len(probes) >= max_probes:
            return done(f"stopped at the cap of {max_probes} probes while bracketing")
        if run(rate).carried:
            good = rate
            if bad is not None:
                break
            if rate >= ceiling:
                return done(f"carried the ceiling of {ceiling} Mbit/s")
            rate = min(rate * 2, ceiling)
        else:
            bad = rate
            if good is not None:
                break
            if rate <= floor:
                return done(f"lost more than {LOSS_LIMIT_PERCENT:g}% even at the floor of {floor} Mbit/s")
            rate = max(rate // 2, floor)
    assert good is not None and bad is not None  # the loop ends with both only
    for _ in range(bisect_steps):
        middle = (good + bad) // 2
        if middle <= good:
            return done("bisected to a 1 Mbit/s gap")
        if len(probes) >= max_probes:
            return done(f"stopped at the cap of {max_probes} probes while bisecting")
        if run(middle).carried:
            good = middle
        else:
            bad = middle
    return done(f"bisected {bisect_steps} times between {good} and {bad} Mbit/s")
