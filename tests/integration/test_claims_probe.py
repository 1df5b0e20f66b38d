"""The claim probes observe effects on the real helpers (bare provider: every method here), over
IPv4 and, as ``run --family 4,6`` probes them, over IPv6."""

from __future__ import annotations

import pytest

from bench_runner.run.claims_probe import Prober
from bench_runner.run.labsession import open_session
from bench_runner.methods import slirp4netns_slirp4netns
from bench_runner.providers import BareProvider


@pytest.fixture(scope="module")
def observed():  # type: ignore[no-untyped-def]
    """Probe once for the module; the lab is gone again before the first test runs."""
    with open_session() as session:
        found = Prober(session, BareProvider()).all(["host", "pasta", "slirp4netns-slirp4netns",
                                                     "socket-activation-user", "socket-activation-system"])
    return {(o.claim, o.method): o for o in found}


def test_device_binding_keeps_the_other_interface_out(observed) -> None:  # type: ignore[no-untyped-def]
    for method in ("host", "pasta", "socket-activation-user", "socket-activation-system"):
        o = observed[("device_binding", method)]
        assert o.observed is True, o.evidence
        assert o.extra["bound_interface"]["reply"] == "ok"
        assert not o.extra["other_interface"]["connected"]
    slirp = observed[("device_binding", "slirp4netns-slirp4netns")]
    assert slirp.observed is False
    assert slirp.extra["other_interface"]["reply"] == "ok", "without binding the other interface gets in"


def test_ports_below_the_floor_are_refused_to_the_unprivileged_user(observed) -> None:  # type: ignore[no-untyped-def]
    for method in ("host", "pasta", "slirp4netns-slirp4netns", "socket-activation-user"):
        o = observed[("minimum_port", method)]
        assert o.observed == "below-floor refused", o.evidence
        assert o.extra["floor"] > 80


def test_a_system_socket_unit_serves_below_the_floor(observed) -> None:  # type: ignore[no-untyped-def]
    o = observed[("minimum_port", "socket-activation-system")]
    assert o.observed == "below-floor allowed", o.evidence
    assert o.extra["client"]["reply"] == "ok"


def test_socket_activation_is_not_probed_for_outbound(observed) -> None:  # type: ignore[no-untyped-def]
    assert ("outbound_remote", "socket-activation-user") not in observed


def test_host_loopback_is_closed_by_default_and_opens_with_the_option(observed) -> None:  # type: ignore[no-untyped-def]
    assert observed[("host_loopback_default", "host")].observed is True
    for method in ("pasta", "slirp4netns-slirp4netns"):
        o = observed[("host_loopback_default", method)]
        assert o.observed is False, o.evidence
        assert o.extra["reached"]["with host-loopback option"] is True, o.evidence
    assert observed[("host_loopback_default", "pasta")].extra["reached"]["with -T (tcp-ns)"] is True


def test_outbound_to_the_remote_host_works_and_is_seen_from_the_server_host(observed) -> None:  # type: ignore[no-untyped-def]
    for method in ("host", "pasta", "slirp4netns-slirp4netns"):
        o = observed[("outbound_remote", method)]
        assert o.observed is True, o.evidence
        assert o.extra["remote_saw"] == ["198.51.100.1"]


# ------------------------------------------------------------------ over IPv6 (run --family 4,6)
@pytest.fixture(scope="module")
def observed6():  # type: ignore[no-untyped-def]
    with open_session() as session:
        found = Prober(session, BareProvider()).all(["host", "pasta", "slirp4netns-slirp4netns"], (6,))
    assert {o.family for o in found} == {6}
    return {(o.claim, o.method): o for o in found}


def test_over_ipv6_a_device_binding_keeps_the_other_interface_out(observed6) -> None:  # type: ignore[no-untyped-def]
    for method in ("host", "pasta"):
        o = observed6[("device_binding", method)]
        assert o.observed is True, o.evidence
        assert o.extra["bound_interface"]["local"] == "2001:db8:5100::2"  # the client came over IPv6
        assert not o.extra["other_interface"]["connected"]


def test_over_ipv6_slirp4netns_port_handler_is_not_applicable_with_its_reason(observed6) -> None:  # type: ignore[no-untyped-def]
    for claim in ("device_binding", "minimum_port"):
        o = observed6[(claim, "slirp4netns-slirp4netns")]
        assert o.observed is None and o.not_applicable == slirp4netns_slirp4netns.NO_IPV6_FORWARDING


def test_over_ipv6_the_hosts_loopback_is_closed_by_default_and_opens_with_the_option(observed6) -> None:  # type: ignore[no-untyped-def]
    assert observed6[("host_loopback_default", "host")].observed is True
    for method, target in (("pasta", "[2001:db8:5100::2]"), ("slirp4netns-slirp4netns", "[fd00::2]")):
        o = observed6[("host_loopback_default", method)]
        assert o.observed is False, o.evidence
        assert o.extra["reached"]["with host-loopback option"] is True, o.evidence
        assert f"with host-loopback option: to {target}:" in o.evidence and "server host's [::1]:" in o.evidence
    assert observed6[("host_loopback_default", "pasta")].extra["reached"]["with -T (tcp-ns)"] is True


def test_over_ipv6_outbound_to_the_remote_host_leaves_from_the_server_hosts_ipv6_address(observed6) -> None:  # type: ignore[no-untyped-def]
    for method in ("host", "pasta", "slirp4netns-slirp4netns"):
        o = observed6[("outbound_remote", method)]
        assert o.observed is True, o.evidence
        assert o.extra["remote_saw"] == ["2001:db8:5100::1"]
