"""run --delay asks the kernel for netem before anything is built: a kernel without it is one
line and exit 2, not a run whose every delayed trial fails; --delay 0 needs no netem."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from bench_runner.lab import netem
from bench_runner import procs
from bench_runner.commands import doctor
from bench_runner.errors import SetupError
from tests.conftest import read_data

#: What tc said on a kernel without sch_netem (this machine's 6.18, iproute2 6.1).
UNKNOWN = read_data("tc-qdisc-add-netem-unknown.txt")


def test_recorded_unknown_kind_means_no_netem() -> None:
    assert netem.why_not(2, UNKNOWN) == "this kernel has no netem (sch_netem)"
    # an older tc gives only the kernel's errno
    assert netem.why_not(2, "RTNETLINK answers: No such file or directory\n") == netem.MISSING


def test_a_probe_that_worked_means_netem() -> None:
    assert netem.why_not(0, "") is None


def test_another_failure_is_said_as_it_is() -> None:
    assert netem.why_not(1, "unshare: unshare failed: Operation not permitted\n") == (
        "adding a netem qdisc failed (exit 1: unshare: unshare failed: Operation not permitted)")
    assert netem.why_not(1, "") == "adding a netem qdisc failed (exit 1: no error output)"


def _fake_tc(monkeypatch: pytest.MonkeyPatch, returncode: int, stderr: str) -> list[list[str]]:
    calls: list[list[str]] = []

    def run(argv: Any, **kwargs: Any) -> procs.ProcessResult:
        calls.append(list(argv))
        assert kwargs.get("check") is False and kwargs.get("timeout")
        return procs.ProcessResult(list(argv), returncode, "", stderr, 0.01)

    monkeypatch.setattr(netem.procs, "run", run)
    return calls


def test_a_delay_without_netem_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_tc(monkeypatch, 2, UNKNOWN)
    with pytest.raises(SetupError) as info:
        netem.require_for((0, 20, 50))
    assert str(info.value) == ("--delay 20,50 needs netem, but this kernel has no netem (sch_netem): leave out "
                               "the delays above 0, or run on a kernel with sch_netem")
    assert info.value.exit_code == 2
    # the probe adds netem in a namespace of its own, which goes away with it
    assert calls == [list(netem.PROBE)] and calls[0][:3] == ["unshare", "--net", "--"]
    assert calls[0][calls[0].index("qdisc"):][:5] == ["qdisc", "add", "dev", "lo", "root"]
    assert "netem" in calls[0]


def test_a_delay_with_netem_goes_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_tc(monkeypatch, 0, "")
    netem.require_for((0, 20))
    assert len(calls) == 1


@pytest.mark.parametrize("delays", [(), (0,)])
def test_no_delay_above_zero_asks_nothing(monkeypatch: pytest.MonkeyPatch, delays: tuple[int, ...]) -> None:
    calls = _fake_tc(monkeypatch, 2, UNKNOWN)
    netem.require_for(delays)
    assert calls == []


def test_doctor_says_whether_delay_can_run_but_does_not_call_it_a_set_up_problem(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(doctor.os, "geteuid", lambda: 0)
    _fake_tc(monkeypatch, 2, UNKNOWN)
    assert doctor.netem_state() == {"available": False, "reason": netem.MISSING}
    _fake_tc(monkeypatch, 0, "")
    assert doctor.netem_state() == {"available": True, "reason": None}
    monkeypatch.setattr(doctor.os, "geteuid", lambda: 1000)
    assert doctor.netem_state()["available"] is None


def test_doctors_report_has_netem(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(doctor, "netem_state", lambda: {"available": False, "reason": netem.MISSING})
    monkeypatch.setattr(doctor, "host_problems", lambda: [])
    monkeypatch.setattr(doctor, "image_present", lambda: True)
    code = doctor.main(argparse.Namespace(cleanup=False, format="json"))
    report = json.loads(capsys.readouterr().out)
    assert report["netem"] == {"available": False, "reason": netem.MISSING}
    assert code == 0 and report["ready"] is True
    doctor.main(argparse.Namespace(cleanup=False, format="text"))
    assert "run --delay (netem): not available: this kernel has no netem (sch_netem)" in capsys.readouterr().out
