"""doctor never calls a host ready when it could not find out: a set-up check that itself
fails, or a Podman that gives no answer about the image, is reported as a problem."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bench_runner.commands import doctor
from bench_runner.errors import CommandFailed


def test_a_failing_set_up_check_is_a_problem_with_its_last_words(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "setup.sh"
    script.write_text("echo 'setup: unsupported distribution: plan9' >&2\nexit 3\n")
    monkeypatch.setattr(doctor, "SETUP_SCRIPT", script)
    problems = doctor.host_problems()
    assert "scripts/setup.sh --check failed (exit 3): setup: unsupported distribution: plan9" in problems


def test_listed_set_up_items_are_taken_as_they_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "setup.sh"
    script.write_text("echo 'setup:   - install iperf3' >&2\nexit 1\n")
    monkeypatch.setattr(doctor, "SETUP_SCRIPT", script)
    problems = doctor.host_problems()
    assert "install iperf3" in problems
    assert not any("--check failed" in p for p in problems)


def test_no_answer_about_the_image_is_reported_not_taken_for_missing(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    def broken() -> bool:
        raise CommandFailed(["podman", "image", "exists", "x"], 125, "Error: cannot set up namespace")

    monkeypatch.setattr(doctor, "image_present", broken)
    code = doctor.main(argparse.Namespace(cleanup=False, format="json"))
    report = json.loads(capsys.readouterr().out)
    assert code == 2 and report["ready"] is False and report["image"] is None
    assert any("cannot tell whether container image" in p and "cannot set up namespace" in p
               for p in report["setup_needed"])
    assert not any(p.endswith("is missing") and "image" in p for p in report["setup_needed"])


class _FreeLock:
    def acquire(self, wait: float = 0) -> None:
        pass

    def release(self) -> None:
        pass


@pytest.mark.parametrize("left, code", [([], 0), (["podman exited with 125: container not running"], 1)])
def test_a_cleanup_that_left_something_is_not_a_success(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str],
                                                        left: list[str], code: int) -> None:
    from bench_runner.lab import runstate
    from bench_runner.run import cleanup

    monkeypatch.setattr(runstate, "RunLock", _FreeLock)
    monkeypatch.setattr(cleanup, "cleanup_stale", lambda log: (log("removing orphaned container c1"), left)[1])
    monkeypatch.setattr(doctor, "host_problems", lambda: [])
    monkeypatch.setattr(doctor, "image_present", lambda: True)
    assert doctor.main(argparse.Namespace(cleanup=True, format="text")) == code
    out, err = capsys.readouterr()
    assert "cleanup: removing orphaned container c1" in out
    assert ("cleanup: problem: podman exited with 125" in out) == bool(left)
    assert ("the cleanup left the problems above" in err) == bool(left)
