"""run --delay and --loss ask the kernel for netem before anything is built: where it has none the
delay box carries them, and where neither can, it is one line and exit 2, not a run whose every
delayed trial fails; --delay 0 and a rate alone need no netem."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from bench_runner.lab import delaybox, netem
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


def _no_box(monkeypatch: pytest.MonkeyPatch, why: str | None = "/usr/bin/linux.uml is missing") -> None:
    monkeypatch.setattr(delaybox, "why_unavailable", lambda: why)
    monkeypatch.setattr(delaybox, "kernel_version", lambda modules=None: None if why else "6.1.176")


def test_a_delay_without_netem_or_a_box_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_tc(monkeypatch, 2, UNKNOWN)
    _no_box(monkeypatch)
    with pytest.raises(SetupError) as info:
        netem.choose({"delay": (0, 20_000, 50_000)})
    assert str(info.value) == ("--delay and --loss need netem, but this kernel has no netem (sch_netem), and the delay "
                               "box cannot run: /usr/bin/linux.uml is missing; run scripts/setup.sh as root (it "
                               "installs the box where the kernel lacks netem)")
    assert info.value.exit_code == 2
    # the probe adds netem in a namespace of its own, which goes away with it
    assert calls == [list(netem.PROBE)] and calls[0][:3] == ["unshare", "--net", "--"]
    assert calls[0][calls[0].index("qdisc"):][:5] == ["qdisc", "add", "dev", "lo", "root"]
    assert "netem" in calls[0]


def test_without_netem_the_box_carries_the_delay_and_the_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_tc(monkeypatch, 2, UNKNOWN)
    _no_box(monkeypatch, None)
    found = netem.choose({"delay": (0,), "loss": (0, 100)})
    assert found is not None and found.kind == netem.BOX and found.per_packet
    # delay 0 trials of such a run cross the box too: the box is the run's path
    found = netem.choose({"delay": (0, 10_000)})
    assert found is not None and (found.kind, found.per_packet) == (netem.BOX, False)


def test_with_netem_the_veth_link_carries_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_tc(monkeypatch, 0, "")
    _no_box(monkeypatch)
    found = netem.choose({"delay": (0, 20_000)})
    assert found is not None and found.kind == netem.KERNEL and len(calls) == 1


@pytest.mark.parametrize("swept", [{"delay": (0,)}, {"delay": (0,), "rate": (1000,)}, {"delay": (0,), "loss": (0,)}])
def test_no_delay_or_loss_above_zero_asks_for_no_netem(monkeypatch: pytest.MonkeyPatch,
                                                       swept: dict[str, tuple[int, ...]]) -> None:
    calls = _fake_tc(monkeypatch, 2, UNKNOWN)
    _no_box(monkeypatch)
    found = netem.choose(swept)
    assert found is not None and found.kind == netem.KERNEL and calls == []


def test_a_run_that_shapes_nothing_has_no_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_tc(monkeypatch, 2, UNKNOWN)
    assert netem.choose({}) is None and netem.choose({"mtu": (1500,)}) is None and calls == []


def test_doctor_says_which_path_but_does_not_call_it_a_set_up_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor.os, "geteuid", lambda: 0)
    _fake_tc(monkeypatch, 2, UNKNOWN)
    _no_box(monkeypatch)
    state = doctor.netem_state()
    assert state["available"] is False and state["path"] is None
    assert doctor.path_line(state) == ("run --delay, --loss (the path): not available: this kernel has no netem "
                                       "(sch_netem), and the delay box cannot run: /usr/bin/linux.uml is missing")
    _no_box(monkeypatch, None)
    state = doctor.netem_state()
    assert state["available"] is True and state["path"] == netem.BOX
    assert doctor.path_line(state) == ("run --delay, --loss (the path): delay box (this kernel has no netem "
                                       "(sch_netem); User-Mode Linux 6.1.176 runs netem between the lab hosts)")
    _fake_tc(monkeypatch, 0, "")
    assert doctor.netem_state()["path"] == netem.KERNEL
    monkeypatch.setattr(doctor.os, "geteuid", lambda: 1000)
    assert doctor.netem_state()["available"] is None


def test_doctors_report_has_the_path(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    state = {"available": True, "path": netem.BOX, "reason": "this kernel has no netem (sch_netem); ...",
             "kernel_netem": netem.MISSING, "delay_box": None}
    monkeypatch.setattr(doctor, "netem_state", lambda: state)
    monkeypatch.setattr(doctor, "host_problems", lambda: [])
    monkeypatch.setattr(doctor, "image_present", lambda: True)
    code = doctor.main(argparse.Namespace(cleanup=False, format="json"))
    report = json.loads(capsys.readouterr().out)
    assert report["netem"] == state
    assert code == 0 and report["ready"] is True
    doctor.main(argparse.Namespace(cleanup=False, format="text"))
    assert "run --delay, --loss (the path): delay box (this kernel has no netem" in capsys.readouterr().out


def test_a_resumed_run_keeps_the_path_its_trials_crossed() -> None:
    from types import SimpleNamespace

    from bench_runner.commands import run as run_command
    from bench_runner.errors import UsageError

    box = netem.PathChoice(netem.BOX, False, "no netem here")
    kernel = netem.PathChoice(netem.KERNEL, False, "sch_netem")
    crossed_box = SimpleNamespace(lab={"path": {"via": netem.BOX}})
    assert run_command.path_choice(crossed_box, box) is box
    assert run_command.path_choice(SimpleNamespace(lab={}), kernel) is kernel  # its trials so far crossed none
    with pytest.raises(UsageError, match="the run's trials crossed a delay box, this machine now gives a kernel netem"):
        run_command.path_choice(crossed_box, kernel)
