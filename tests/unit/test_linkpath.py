"""The shaped path's pure parts: the tc words for netem and a switch-port-sized tbf, what the
qdiscs' counters say was lost and passed, when a loss seen cannot be the one asked, and the
round-trip window a trial must fall in (lab/linkpath.py, run/pathcheck.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench_runner.lab import delaybox, linkpath
from bench_runner.lab.linkpath import Conditions, Reading
from bench_runner.parsers import ParseError, iproute
from bench_runner.run import pathcheck

DATA = Path(__file__).resolve().parents[1] / "data"


def test_conditions_of_a_variant_and_what_they_ask() -> None:
    found = Conditions.of({"delay": 10_000, "loss": 100, "rate": 1000, "streams": 4})
    assert found == Conditions(10_000, 100, 1000)
    assert found.rtt_us == 20_000 and found.needs_netem and found.per_packet
    assert found.to_json() == {"delay_ms_each_way": 10.0, "rtt_added_ms": 20.0, "loss_percent_each_way": 0.1,
                               "rate_mbit": 1000}
    plain = Conditions.of({"delay": 0})
    assert not plain.needs_netem and not plain.per_packet and plain.to_json()["rate_mbit"] is None
    assert Conditions(segmented=True).per_packet and not Conditions(segmented=True).needs_netem


@pytest.mark.parametrize("conditions, words", [
    (Conditions(), []),
    (Conditions(rate_mbit=1000), []),  # a rate is tbf's, not netem's
    (Conditions(delay_us=100), ["netem", "delay", "100us", "limit", "100000"]),
    (Conditions(delay_us=10_000, loss_mpct=100), ["netem", "delay", "10000us", "loss", "0.1%", "limit", "100000"]),
    (Conditions(loss_mpct=1500), ["netem", "loss", "1.5%", "limit", "100000"]),
])
def test_netem_words(conditions: Conditions, words: list[str]) -> None:
    assert linkpath.netem_words(conditions) == words


def test_a_gigabit_port_has_a_small_switchs_buffer_and_carries_what_ethernet_does() -> None:
    bucket = linkpath.token_bucket(1000, 1500)
    # 1514-byte frames of 1538 on the wire: tbf counts the frame, the wire also the 24 bytes around it
    assert bucket.rate_bps == 1000_000_000 * 1514 // 1538
    assert bucket.limit == 187_500  # 1.5 ms of a gigabit: 1.5 Mbit, a TL-SG108's whole buffer
    assert bucket.burst == linkpath.BURST_BYTES
    assert bucket.words() == ["tbf", "rate", f"{bucket.rate_bps}bit", "burst", "98304", "limit", "187500"]
    # at a slow rate the queue never drops below one whole GSO frame
    assert linkpath.token_bucket(10, 1500).limit == linkpath.BURST_BYTES
    # at a jumbo MTU the overhead counts for less
    assert linkpath.token_bucket(1000, 65520).rate_bps > bucket.rate_bps


def test_end_commands_put_tbf_under_netem_or_alone() -> None:
    both = Conditions(delay_us=5000, rate_mbit=100)
    tbf = linkpath.token_bucket(100, 1500).words()
    assert linkpath.end_commands("eth0", both, 1500, with_netem=True) == [
        ["qdisc", "add", "dev", "eth0", "root", "handle", "1:", *linkpath.netem_words(both)],
        ["qdisc", "add", "dev", "eth0", "parent", "1:1", "handle", "2:", *tbf]]
    # the delay box holds netem: the host end gets tbf only
    assert linkpath.end_commands("eth0", both, 1500, with_netem=False) == [
        ["qdisc", "add", "dev", "eth0", "root", "handle", "2:", *tbf]]
    assert linkpath.end_commands("eth0", Conditions(delay_us=5000), 1500, with_netem=False) == []
    assert linkpath.end_commands("eth0", Conditions(), 1500, with_netem=True) == []


def _counters(dev: str, kind: str, packets: int, drops: int, sent: int = 0) -> iproute.QdiscCounters:
    return iproute.QdiscCounters(dev, kind, "1:", "root", {}, packets, sent, drops, 0)


def test_loss_and_rate_seen_between_two_readings() -> None:
    before = Reading({"to_server": _counters("vec1", "netem", 1000, 10), "to_client": _counters("vec0", "netem", 50, 0)},
                     {"to_server": _counters("c", "tbf", 1000, 0, 1_000_000)})
    after = Reading({"to_server": _counters("vec1", "netem", 100_000, 1010), "to_client": _counters("vec0", "netem", 50, 0)},
                    {"to_server": _counters("c", "tbf", 90_000, 3, 126_000_000)})
    lost = linkpath.loss_seen(before, after)
    assert lost == {"to_server": {"packets": 99_000, "dropped": 1000, "percent": 1.0},
                    "to_client": {"packets": 0, "dropped": 0, "percent": None}}
    assert linkpath.rate_seen(before, after, 1.0) == {"to_server": {"bytes": 125_000_000, "dropped": 3,
                                                                     "mbit_per_s": 1000.0}}
    assert linkpath.loss_problem(1000, lost) is None  # 1% asked, 1% seen
    assert linkpath.loss_problem(10_000, lost) == (
        "--loss 10 asked, but netem dropped 1000 of 100000 packets to server (10000 expected)")
    assert linkpath.loss_problem(0, lost) == "no loss asked, but netem dropped 1000 of 100000 packets to server"
    # too few packets to tell: 0.1% of 1000 is one expected drop
    assert linkpath.loss_problem(100, {"to_server": {"packets": 1000, "dropped": 0}}) is None


def test_the_round_trip_window() -> None:
    # nothing added: up to the path's own round trip and half a millisecond more
    assert pathcheck.rtt_window(0, 230.0) == (0.0, 730.0)
    # 20 ms asked: never below 19.6 (netem does not deliver early), up to 20 + own + 1 ms
    assert pathcheck.rtt_window(20_000, 230.0) == (19_600.0, 21_230.0)
    assert pathcheck.rtt_window(200, 30.0) == (150.0, 730.0)
    # the check's length: a handful of round trips, bounded
    assert pathcheck.check_duration(0) == (0.2, 0.05)
    assert pathcheck.check_duration(160_000) == (1.28, 0.32)
    assert pathcheck.check_duration(2_000_000) == (1.5, 0.5)


def test_qdisc_counters_recorded_in_the_delay_box() -> None:
    """netem on both of the box's vecs, with what it dropped (a tc -batch's output, as the box's console gives it)."""
    found = iproute.parse_qdisc_counters((DATA / "tc-s-j-qdisc-box-netem.txt").read_text())
    netem = linkpath.by_direction(found, delaybox.DIRECTION_DEVICES, "netem")
    assert set(netem) == {"to_server", "to_client"}
    for counters in netem.values():
        assert counters.packets > 0 and counters.options.get("loss-random", {}).get("loss") == pytest.approx(0.01)
    assert sum(c.drops for c in netem.values()) > 0


def test_qdisc_counters_recorded_at_a_host_end() -> None:
    """tbf at a tap's host end: ``show dev X`` names no device, so the caller's is used."""
    text = (DATA / "tc-s-j-qdisc-host-tbf.json").read_text()
    (tbf,) = iproute.parse_qdisc_counters(text, "nbtestc")
    assert (tbf.dev, tbf.kind, tbf.where) == ("nbtestc", "tbf", "root")
    # the rate linkpath.token_bucket(1000, 1500) asks for, in bytes per second
    assert tbf.options["rate"] == linkpath.token_bucket(1000, 1500).rate_bps // 8
    assert tbf.bytes > 0 and tbf.drops > 0


@pytest.mark.parametrize("text", ['[{"kind":"netem","packets":1,"bytes":1,"drops":0,"overlimits":0}]', '[{"dev":"x","kind":"tbf"}]',
                                  '[{"dev":"x","kind":"tbf","packets":-1,"bytes":0,"drops":0,"overlimits":0}]'])
def test_qdisc_counters_missing_are_an_error(text: str) -> None:
    with pytest.raises(ParseError):
        iproute.parse_qdisc_counters(text)


def test_lines_that_are_not_json_lists_are_left_out() -> None:
    text = 'Error: nothing\n[{"dev":"x","kind":"tbf","packets":1,"bytes":2,"drops":0,"overlimits":0,"root":true}]\n'
    [only] = iproute.parse_qdisc_counters(text)
    assert (only.dev, only.where, only.packets) == ("x", "root", 1)


def test_the_round_trip_is_checked_with_the_loss_off_then_the_trial_gets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lost echo is a retransmission's wait (seen here: one echo of 236 ms at 2% loss), not
    the path's delay: the check runs on the path without the loss, packet by packet already."""
    from types import SimpleNamespace

    applied: list[Conditions] = []
    checked: list[Conditions] = []
    path = SimpleNamespace(via=linkpath.BOX, apply=applied.append, read=lambda: Reading())
    session = SimpleNamespace(path=path, path_record={"base_rtt_us": {"p50": 30.0}})

    def round_trip(session: object, conditions: Conditions) -> dict[str, float]:
        checked.append(applied[-1])
        return {"p50": 10_200.0, "min": 10_150.0, "max": 10_400.0, "count": 40}

    monkeypatch.setattr(pathcheck, "round_trip", round_trip)
    asked = Conditions(delay_us=5000, loss_mpct=2000)
    observations: dict[str, object] = {}
    opened = pathcheck.open_trial(session, asked, observations)  # type: ignore[arg-type]
    assert checked == [Conditions(delay_us=5000, segmented=True)]
    assert applied[-1] == asked and opened.conditions == asked
    assert observations["path"]["rtt_window_us"] == [9800.0, 10530.0]  # type: ignore[index]
