"""The outbound workloads end to end, once and CI-sized, under every method that can connect out
and every provider: the container's iperf3 client uploads to (tcp-stream-outbound) and downloads
from (tcp-stream-outbound-reverse, -R) the server on the client host; the connection leaves the
server host through the method's helper, the remote server sees the server host's address, and
a helper's CPU per GB is recorded where one carries the traffic."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench_runner.run.matrix import METHODS, Cell
from bench_runner.methods.base import SERVER
from bench_runner.workloads import TrialSettings
from tests.integration.conftest import podman_stack, trial_runner

QUICK = TrialSettings(duration_s=1, omit_s=0)
OUTBOUND = ("tcp-stream-outbound", "tcp-stream-outbound-reverse")


def cases() -> list[object]:
    """Podman cases this machine's Podman cannot run go to the trixie stack's Podman 5; bridge
    (a rootless network, netavark's) has no bare way."""
    found = []
    for method in ("host", "pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns", "bridge"):
        found.append(pytest.param("podman", method, podman_stack(method), id=f"podman-{method}-{podman_stack(method)}"))
        if METHODS[method].bare is not None:
            found.append(pytest.param("bare", method, "host", id=f"bare-{method}"))
    return found


@pytest.mark.parametrize("provider_id, method, where", cases())
def test_the_container_uploads_and_downloads_through_its_method(provider_id: str, method: str, where: str,
                                                               tmp_path: Path, request: pytest.FixtureRequest) -> None:
    with trial_runner(provider_id, where, tmp_path, request) as (runner, session):
        trials = {w: runner.run_trial(Cell(w, "remote", method, where), 0, False, QUICK) for w in OUTBOUND}
        server_addr = session.lab.server_addr
    assert {w: t.error for w, t in trials.items() if t.status != "ok"} == {}
    expected = METHODS[method].outbound_carrier
    for workload, trial in trials.items():
        carrier = trial.observations["outbound_carrier"]
        assert carrier["carrier"] == expected, (workload, carrier)
        assert carrier["uid"] != 0, (workload, "the client and its helper must run unprivileged")
        assert trial.observations["remote_saw"] == server_addr, workload  # it left through the server host
        assert trial.observations["container_address"], workload
        assert "teardown_problems" not in trial.observations, workload
        samples = trial.samples
        # Something went through. Not a floor: uploads through pasta (and bridge's pasta) have
        # measured from 0.0004 to 1.4 Gbit/s here, trial to trial, with retransmits.
        assert samples["throughput"] > 0, (workload, samples)
        assert samples["retransmits"] >= 0, (workload, samples)
        if expected == SERVER:
            assert "helper_cpu_s_per_gb" not in samples, workload
        else:
            assert samples["helper_cpu_s_per_gb"] > 0, (workload, samples, trial.observations.get("helper_cpu_s"))
