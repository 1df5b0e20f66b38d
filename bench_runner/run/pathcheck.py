"""A shaped path, observed rather than trusted (run --delay, --loss, --rate).

Once per lab, before the trials: the path's own round trip with nothing added (the base the
asked delay adds to), and its ceiling: ``host``'s iperf3 throughput through it, both ways,
with nothing added (and, where loss is asked, packet by packet too, as loss needs it). A cell
within 10% of the ceiling is "limited by the path" in the tables and the report, so nobody
reads the delay box's limit as a method's.

Per trial, before its client starts: the conditions applied (only when they change), then
the round trip measured through the path with the echo workers between the lab hosts (no
container, the loss off while it is measured), which must be within ``rtt_window`` of what
was asked; the qdiscs' counters
before and after the trial give the loss netem applied (``linkpath.loss_problem`` says when
it cannot be what was asked) and what the rate limit passed. All of it goes in the trial's
observations (``path``); a trial outside the window fails with why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Callable

from .. import procs
from ..errors import BenchError, MeasurementError
from ..lab import linkpath, observe
from ..lab.linkpath import Conditions
from ..parsers import ParseError, iperf3
from ..providers import Session
from . import basertt

#: The round trip must be at least what was asked, less this (netem never delivers early;
#: timer slack is microseconds) ...
RTT_BELOW_US = 50
RTT_BELOW_SHARE = 0.02
#: ... and at most what was asked plus the path's own round trip plus this.
RTT_ABOVE_US = 500
RTT_ABOVE_SHARE = 0.05
#: The check: a handful of round trips at the longest, thousands at no delay.
CHECK_ROUND_TRIPS = 8
#: How a trial refused for its path's round trip begins its error.
MISSED = "the path's round trip was"
CHECK_MIN_S = 0.2
CHECK_MAX_S = 1.5
#: The ceiling: iperf3 from the client host to the server host, and back (-R).
CEILING_SECONDS = 3
CEILING_OMIT = 1
CEILING_PORT = 19991
CEILING_TIMEOUT = 60.0


def rtt_window(asked_us: int, base_us: float) -> tuple[float, float]:
    """The round trips (p50, microseconds) a trial that asked ``asked_us`` may see on a path
    whose own round trip is ``base_us``."""
    low = asked_us - max(RTT_BELOW_US, RTT_BELOW_SHARE * asked_us)
    high = asked_us + base_us + max(RTT_ABOVE_US, RTT_ABOVE_SHARE * asked_us)
    return max(0.0, low), high


def check_duration(asked_us: int) -> tuple[float, float]:
    """(seconds measured, seconds omitted first) for the round-trip check."""
    seconds = min(CHECK_MAX_S, max(CHECK_MIN_S, CHECK_ROUND_TRIPS * asked_us / 1e6))
    omit = min(0.5, max(0.05, 2 * asked_us / 1e6))
    return round(seconds, 3), round(omit, 3)


def round_trip(session: Session, conditions: Conditions) -> dict[str, Any]:
    """The echo round trip between the lab hosts, no container; raises if none was measured."""
    seconds, omit = check_duration(conditions.rtt_us)
    found = basertt.measure(session, session.lab.server_address(), seconds=seconds, omit=omit,
                            where="on the server host")
    if "error" in found:
        raise MeasurementError(f"the round trip through the path could not be measured: {found['error']}")
    return {k: found[k] for k in ("p50", "min", "max", "count")}


@dataclass
class OpenTrial:
    """A trial's path: what it asked, and the counters when its client started."""

    conditions: Conditions
    before: linkpath.Reading
    started: float
    record: dict[str, Any]


def open_trial(session: Session, conditions: Conditions, observations: dict[str, Any]) -> OpenTrial:
    """Apply the conditions, check the round trip, read the counters (the trial's client
    runs next). The record goes in the trial's observations (``path``), failed or not."""
    path = session.path
    assert path is not None
    record: dict[str, Any] = {"asked": conditions.to_json(), "via": path.via}
    observations["path"] = record
    # The round trip is checked with the loss off: a lost echo is a retransmission's wait
    # (200 ms and more), not the path's delay; the trial then gets the loss asked.
    path.apply(replace(conditions, loss_mpct=0, segmented=conditions.per_packet))
    seen = round_trip(session, conditions)
    path.apply(conditions)
    base = float(session.path_record.get("base_rtt_us", {}).get("p50", 0.0))
    low, high = rtt_window(conditions.rtt_us, base)
    record["rtt_us"] = seen
    record["rtt_window_us"] = [round(low, 1), round(high, 1)]
    opened = OpenTrial(conditions, path.read(), time.monotonic(), record)
    if not low <= seen["p50"] <= high:
        raise MeasurementError(f"{MISSED} {seen['p50'] / 1000:.3f} ms (p50 of {seen['count']}), "
                               f"outside {low / 1000:.3f}-{high / 1000:.3f} ms for {conditions.rtt_us / 1000:g} ms "
                               f"added to its own {base / 1000:.3f} ms")
    return opened


def close_trial(session: Session, opened: OpenTrial) -> None:
    """Read the counters again: the loss netem applied and what the rate limit passed;
    raises where the loss cannot be the one asked."""
    path = session.path
    assert path is not None
    after = path.read()
    seconds = time.monotonic() - opened.started
    lost = linkpath.loss_seen(opened.before, after)
    if lost:
        opened.record["netem"] = lost
    if opened.conditions.rate_mbit:
        opened.record["rate"] = linkpath.rate_seen(opened.before, after, seconds)
    problem = linkpath.loss_problem(opened.conditions.loss_mpct, lost)
    if problem:
        raise MeasurementError(problem)


def ceiling(session: Session, *, reverse: bool) -> dict[str, Any]:
    """``host``'s throughput through the path with nothing added, one way: iperf3 from the
    client host to the server host (``reverse``: back), as the benchmark user, no container."""
    lab = session.lab
    netns = lab.server_ns_path
    server = None
    entry = None
    try:
        observe.require_free_port(netns, CEILING_PORT)
        server = procs.Spawned(session.user.argv(["iperf3", "-s", "-1", "--json", "-p", str(CEILING_PORT)],
                                                 netns_path=netns))
        entry = session.state.add_process(server.ref, "path ceiling iperf3 server")
        procs.wait_until(lambda: observe.is_listening(netns, "tcp", CEILING_PORT) or not server.ref.alive(),
                         timeout=10, what=f"the iperf3 server on port {CEILING_PORT}")
        args = ["--host", lab.server_address(), "--port", str(CEILING_PORT), "--duration", str(CEILING_SECONDS),
                "--omit", str(CEILING_OMIT), *(["--reverse"] if reverse else [])]
        result = session.client_for("remote").run_worker("iperf_client.py", args, CEILING_TIMEOUT)
        parsed = iperf3.parse_client(result.stdout)
    except (BenchError, ParseError) as exc:
        return {"error": str(exc)}
    finally:
        if server is not None:
            server.stop(grace=1.0)
            server.close()
        if entry is not None:
            session.state.discard(entry)
    return {"gbit_per_s": round(parsed.received_bps / 1e9, 3), "retransmits": parsed.retransmits}


def prepare(session: Session, *, per_packet: bool, log: Callable[[str], None]) -> dict[str, Any]:
    """The path's own round trip (which must be measured: without it nothing crosses) and
    its ceilings; recorded with the lab."""
    path = session.path
    assert path is not None
    path.apply(Conditions())
    record: dict[str, Any] = path.describe()
    try:
        record["base_rtt_us"] = round_trip(session, Conditions(delay_us=0))
    except MeasurementError as exc:
        raise MeasurementError(f"{path.via}: nothing crosses it: {exc}") from None
    session.path_record = record
    modes = [("gso", Conditions())] + ([("per_packet", Conditions(segmented=True))] if per_packet else [])
    ceilings: dict[str, Any] = {}
    for mode, conditions in modes:
        path.apply(conditions)
        found = {"to_server": ceiling(session, reverse=False), "to_client": ceiling(session, reverse=True)}
        ceilings[mode] = found
        log(f"path ({path.via}): ceiling {mode.replace('_', ' ')}: "
            + ", ".join(f"{d.replace('_', ' ')} {v.get('gbit_per_s', v.get('error'))} Gbit/s" for d, v in found.items()))
    path.apply(Conditions())
    record["ceiling"] = {"how": f"iperf3 TCP, one stream, {CEILING_SECONDS} s after {CEILING_OMIT} s, client host "
                                "to server host (to_server) and back (-R, to_client), no container, nothing added; "
                                "per_packet: without segmentation offload, as loss is measured",
                         **ceilings}
    return record
