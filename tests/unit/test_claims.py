"""The claims matrix: documented claims beside observations, agreement, evidence."""

from __future__ import annotations

import pytest

from bench_runner.analysis import claims
from tests.unit.synthetic import document, normal


def _doc(**kwargs):  # type: ignore[no-untyped-def]
    return document({
        ("tcp-stream", "remote", "host"): normal(100, 1, 10, 1),
        ("tcp-stream", "remote", "pasta"): normal(99, 1, 10, 2),
        ("tcp-stream", "remote", "slirp4netns-rootlesskit"): normal(50, 1, 10, 3),
    }, **kwargs)


def _cell(cells, claim: str, method: str):  # type: ignore[no-untyped-def]
    return next(c for c in cells if c.claim == claim and c.method == method)


def test_source_address_is_derived_from_what_the_server_saw() -> None:
    cells = claims.matrix(_doc(peers={"slirp4netns-rootlesskit": "10.0.2.100"}))
    kit = _cell(cells, "source_address_preserved", "slirp4netns-rootlesskit")
    assert kit.observed is False and kit.documented is False and kit.agrees is True
    assert "10.0.2.100" in kit.evidence
    pasta = _cell(cells, "source_address_preserved", "pasta")
    assert pasta.observed is True and pasta.agrees is True


def test_a_rewritten_source_where_the_document_claims_preservation_disagrees() -> None:
    cells = claims.matrix(_doc(peers={"pasta": "127.0.0.1"}))
    pasta = _cell(cells, "source_address_preserved", "pasta")
    assert pasta.observed is False and pasta.agrees is False


def test_native_performance_uses_the_interval_and_tolerance() -> None:
    cells = claims.matrix(_doc())
    pasta = _cell(cells, "native_performance", "pasta")  # 99 vs 100: within 10%
    assert pasta.observed is True and pasta.documented is False and pasta.agrees is False
    kit = _cell(cells, "native_performance", "slirp4netns-rootlesskit")  # half of host
    assert kit.observed is False and kit.agrees is True
    host = _cell(cells, "native_performance", "host")
    assert host.observed == "baseline" and host.agrees is None  # the yardstick, not a measured "yes"
    strict = _cell(claims.matrix(_doc(), tolerance=0.001), "native_performance", "pasta")
    assert strict.observed is not True


def test_stored_probe_observations_are_used_with_their_evidence() -> None:
    stored = [{"claim": "device_binding", "method": "pasta", "observed": True, "evidence": "bound to eth0", "extra": {}},
              {"claim": "minimum_port", "method": "pasta", "observed": "below-floor allowed", "evidence": "e", "extra": {}}]
    cells = claims.matrix(_doc(claims=stored))
    binding = _cell(cells, "device_binding", "pasta")
    assert binding.observed is True and binding.agrees is True and binding.evidence == "bound to eth0"
    floor = _cell(cells, "minimum_port", "pasta")
    assert floor.agrees is False  # documented: only above ip_unprivileged_port_start


def test_unobserved_claims_are_unknown_not_false() -> None:
    cells = claims.matrix(_doc())
    cell = _cell(cells, "host_loopback_default", "pasta")
    assert cell.observed is None and cell.agrees is None and "not observed" in cell.evidence


def test_a_method_not_applicable_throughout_gets_no_column() -> None:
    """bridge on a machine whose Podman is older than 5: the run lists it as not applicable,
    and the claims matrix does not give it a column of n/a."""
    from bench_runner.results.document import CellResult

    doc = _doc()
    doc.cells.append(CellResult("tcp-stream", "remote", "bridge", "throughput", "Gbit/s", True,
                                status="not_applicable", reason="not available on this machine"))
    methods = {c.method for c in claims.matrix(doc)}
    assert "bridge" not in methods and {"host", "pasta"} <= methods


def test_a_port_floor_refusal_is_taken_only_from_the_helpers_own_words() -> None:
    from bench_runner.run.claims_probe import says_refused

    assert says_refused("pasta exited with 126: Failed to bind port 80 (Permission denied) for option '-t 80-80'")
    assert says_refused("podman exited with 126: Error: rootlessport cannot expose privileged port 80, you can add")
    assert says_refused("netbench-x-u3.socket did not start: Failed to create listening socket (0.0.0.0:80): "
                        "Permission denied")
    # slirp4netns's own words do not name the cause: the probe then binds the port itself
    assert not says_refused("podman exited with 126: Error: from slirp4netns while setting up port redirection: "
                            "map[desc:bad request: add_hostfwd: slirp_add_hostfwd failed]")
    assert not says_refused("timed out after 8 s waiting for the server to listen")


@pytest.mark.parametrize("primary, other, observed", [
    ({"reply": "ok"}, {"connected": False, "error": "ECONNREFUSED"}, True),
    ({"reply": "ok"}, {"reply": "ok", "connected": True}, False),
    ({"connected": False}, {"reply": "ok", "connected": True}, False),
    ({"connected": False, "error": "ETIMEDOUT"}, {"connected": False}, None),  # nothing shown either way
])
def test_device_binding_is_what_the_two_clients_saw(primary: dict, other: dict, observed: object) -> None:
    from bench_runner.run.claims_probe import binding_outcome

    assert binding_outcome(primary, other) is observed
