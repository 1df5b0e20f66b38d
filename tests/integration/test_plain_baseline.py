"""scripts/plain-iperf3-baseline.sh: the suite-free reference for host/remote tcp-stream
measures, reports a median, and leaves no namespace behind, also when stopped."""

from __future__ import annotations

import re
import signal
import subprocess
import time

from tests.integration.conftest import REPO

SCRIPT = REPO / "scripts" / "plain-iperf3-baseline.sh"


def hand_made_namespaces() -> list[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30, check=True)
    return [line.split()[0] for line in listed.stdout.splitlines() if line.startswith("nbhand-")]


def test_one_trial_gives_a_median_and_cleans_up() -> None:
    result = subprocess.run([str(SCRIPT), "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    found = re.search(r"median ([0-9.]+) Gbit/s over 1 trials", result.stdout)
    assert found and float(found.group(1)) > 0, result.stdout
    assert hand_made_namespaces() == []


def test_bad_trial_count_is_one_line_and_exit_2() -> None:
    result = subprocess.run([str(SCRIPT), "many"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_sigterm_mid_trial_removes_the_namespaces() -> None:
    process = subprocess.Popen([str(SCRIPT), "5"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not hand_made_namespaces():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.1)
    time.sleep(1.5)  # inside the first trial
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 143
    assert hand_made_namespaces() == []
    assert subprocess.run(["pgrep", "-f", "iperf3 -s -1 -p 5201"], capture_output=True, timeout=30).returncode == 1
