"""Every method under every provider, once, on the real components: the observed helper is
the one named, the server sees the expected address, nothing remains. Podman cases that
this machine's Podman cannot run (pasta before 4.4) run in the trixie stack's Podman 5."""

from __future__ import annotations

import pytest

from bench_runner.stacks import detect as stack
from bench_runner.run.labsession import open_session
from bench_runner.run.matrix import METHODS, Cell
from bench_runner.providers import make
from bench_runner.results.document import RunDocument
from bench_runner.run.trials import TrialRunner
from bench_runner.workloads import TrialSettings
from tests.integration.conftest import podman_stack, trial_runner

PODMAN_VERSION = stack.detect().podman
QUICK = TrialSettings(duration_s=1, omit_s=0)
#: What the server should see as the client's address, remote placement. rootlesskit hides
#: the client: Podman's rootlessport shows the slirp4netns address, the bare rootlesskit
#: builtin driver connects from the namespace's loopback.
EXPECTED_PEER = {
    ("podman", "slirp4netns-rootlesskit"): "10.0.2.100",
    ("bare", "slirp4netns-rootlesskit"): "127.0.0.1",
}


def cases() -> list[object]:
    found = []
    for method in ("host", "pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns"):
        found.append(pytest.param("podman", method, podman_stack(method), id=f"podman-{method}-{podman_stack(method)}"))
        found.append(pytest.param("bare", method, "host", id=f"bare-{method}"))
    return found


@pytest.mark.parametrize("provider_id, method, where", cases())
def test_method_is_carried_by_its_helper_and_sees_the_client(provider_id: str, method: str, where: str, tmp_path,  # type: ignore[no-untyped-def]
                                                             request: pytest.FixtureRequest) -> None:
    with trial_runner(provider_id, where, tmp_path, request) as (runner, session):
        trial = runner.run_trial(Cell("tcp-stream", "remote", method, where), 0, False, QUICK)
    assert trial.status == "ok", trial.error
    assert trial.samples["throughput"] > 0.05  # Gbit/s: something real went through
    listener = trial.observations["listener"]
    expected = METHODS[method].carrier(provider_id)
    observed = "server" if listener["kind"].startswith("server:") else listener["kind"]
    assert observed == expected, listener
    assert listener["uid"] != 0, "the helper must run as the unprivileged user"
    assert trial.observations["peer_address"] == EXPECTED_PEER.get((provider_id, method), session.lab.client_addr)
    if expected != "server":
        assert trial.observations["helper_cpu_s"] >= 0
        assert trial.samples["helper_cpu_s_per_gb"] >= 0
    assert "teardown_problems" not in trial.observations


def test_loopback_placement_reaches_the_server_through_127_0_0_1(tmp_path) -> None:  # type: ignore[no-untyped-def]
    provider = make("bare", podman_version=PODMAN_VERSION)
    with open_session() as session:
        document = RunDocument(run={}, stack={}, lab={}, provider={"id": "bare", "reason": "test"})
        runner = TrialRunner(document, tmp_path / "unused.json", session, provider)
        trial = runner.run_trial(Cell("tcp-stream", "loopback", "pasta"), 0, False, QUICK)
    assert trial.status == "ok", trial.error
    assert trial.observations["client_address"] == "127.0.0.1"
    assert trial.observations["listener"]["kind"] == "pasta"


def test_a_helper_that_fails_to_start_fails_the_trial_with_its_reason(tmp_path) -> None:  # type: ignore[no-untyped-def]
    provider = make("bare", podman_version=PODMAN_VERSION, pasta_binary="/bin/false")
    with open_session() as session:
        document = RunDocument(run={}, stack={}, lab={}, provider={"id": "bare", "reason": "test"})
        runner = TrialRunner(document, tmp_path / "unused.json", session, provider)
        trial = runner.run_trial(Cell("tcp-stream", "remote", "pasta"), 0, False, QUICK)
    assert trial.status == "failed"
    assert "pasta (/bin/false) exited with 1" in (trial.error or "")
