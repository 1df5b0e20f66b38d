"""Every method under every provider that can run it, once, on the real components: the
observed helper is the one named, the server sees the expected address, nothing remains."""

from __future__ import annotations

import pytest

from bench_runner import stack
from bench_runner.labsession import open_session
from bench_runner.matrix import METHODS, Cell
from bench_runner.providers import make
from bench_runner.results import RunDocument
from bench_runner.trials import TrialRunner
from bench_runner.workloads import TrialSettings

PODMAN_VERSION = stack.detect().podman
QUICK = TrialSettings(duration_s=1, omit_s=0)
#: What the server should see as the client's address, remote placement. rootlesskit hides
#: the client: Podman's rootlessport shows the slirp4netns address, the bare rootlesskit
#: builtin driver connects from the namespace's loopback.
EXPECTED_PEER = {
    ("podman", "slirp4netns-rootlesskit"): "10.0.2.100",
    ("bare", "slirp4netns-rootlesskit"): "127.0.0.1",
}


def cases() -> list[tuple[str, str]]:
    found = []
    for provider_id in ("podman", "bare"):
        provider = make(provider_id, podman_version=PODMAN_VERSION)
        for method in ("host", "pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns"):
            marks = []
            availability = provider.check(method)
            if not availability.available:
                marks.append(pytest.mark.skip(reason=availability.reason))
            found.append(pytest.param(provider_id, method, id=f"{provider_id}-{method}", marks=marks))
    return found


@pytest.mark.parametrize("provider_id, method", cases())
def test_method_is_carried_by_its_helper_and_sees_the_client(provider_id: str, method: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    provider = make(provider_id, podman_version=PODMAN_VERSION)
    with open_session() as session:
        document = RunDocument(run={}, stack={}, lab={}, provider={"id": provider_id, "reason": "test"})
        runner = TrialRunner(document, tmp_path / "unused.json", session, provider)
        trial = runner.run_trial(Cell("tcp-stream", "remote", method), 0, False, QUICK)
    assert trial.status == "ok", trial.error
    assert trial.samples["throughput"] > 0.05  # Gbit/s: something real went through
    listener = trial.observations["listener"]
    expected = METHODS[method].expected_listener[provider_id]
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
    assert "pasta exited with 1" in (trial.error or "")
