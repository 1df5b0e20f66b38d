"""Claims per IP family: the probes run over IPv4 and IPv6 when the run measures IPv6 (not
applicable, with the method's own reason, where it cannot carry IPv6); each claim's verdict
is per family; outbound to a remote host counts the uploads and the downloads."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from bench_runner.analysis import claims, tables
from bench_runner.run import claims_probe
from bench_runner import methods
from bench_runner.workloads import sweeps
from bench_runner.analysis.claims import Observation
from bench_runner.lab.hosts import Lab
from bench_runner.methods import bridge, host, pasta, slirp4netns_rootlesskit, slirp4netns_slirp4netns
from bench_runner.methods.base import (DEVICE_BINDING, HOST_LOOPBACK_DEFAULT, MINIMUM_PORT, OUTBOUND_REMOTE,
                                       SOURCE_ADDRESS, BareArgs)
from bench_runner.workloads.serverspec import BIND_DEVICE, IP_FAMILY, ServerSpec
from tests.unit.synthetic import document, normal

LAB = Lab("t", "s", "c", "nbts", "nbtc", 1500)
SLIRP = slirp4netns_slirp4netns.METHOD.id
PROBED = ("host", "pasta", SLIRP, "socket-activation-user")


# ------------------------------------------------------------------ the prober, with fake probes
@pytest.fixture
def prober(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A Prober whose probes only record what they were asked (no lab, no helper)."""
    monkeypatch.setattr(claims_probe.procs, "reap_orphans", lambda: 0)
    session = SimpleNamespace(port_floor=1024, stack_name="host", lab=LAB)
    found = claims_probe.Prober(session, provider=None)  # type: ignore[arg-type]
    found.asked = []  # type: ignore[attr-defined]

    def fake(claim: str):  # type: ignore[no-untyped-def]
        def probe(method: str, family: int = 4) -> Observation:
            found.asked.append((claim, method, family))  # type: ignore[attr-defined]
            return Observation(claim, method, True, f"{claim} over IPv{family}", {})
        probe.__name__ = claim
        return probe

    for name, claim in (("device_binding", DEVICE_BINDING), ("minimum_port", MINIMUM_PORT),
                        ("host_loopback", HOST_LOOPBACK_DEFAULT), ("outbound_remote", OUTBOUND_REMOTE)):
        setattr(found, name, fake(claim))
    return found


def test_without_ipv6_every_probe_runs_once_over_ipv4(prober) -> None:  # type: ignore[no-untyped-def]
    found = prober.all(list(PROBED))
    assert {o.family for o in found} == {4}
    assert {f for *_, f in prober.asked} == {4}
    assert ("outbound_remote", "socket-activation-user", 4) not in prober.asked  # no network of its own


def test_with_ipv6_every_probe_runs_over_both_families(prober) -> None:  # type: ignore[no-untyped-def]
    found = prober.all(list(PROBED), (4, 6))
    for method in ("host", "pasta"):
        for claim in (DEVICE_BINDING, MINIMUM_PORT, HOST_LOOPBACK_DEFAULT, OUTBOUND_REMOTE):
            assert {f for c, m, f in prober.asked if (c, m) == (claim, method)} == {4, 6}, (claim, method)
    by_key = {(o.claim, o.method, o.family): o for o in found}
    assert by_key[(DEVICE_BINDING, "pasta", 6)].evidence == f"{DEVICE_BINDING} over IPv6"
    assert all(o.stack == "host" for o in found)
    assert len(by_key) == len(found)  # one observation per claim, method and family


def test_a_method_that_takes_no_ipv6_client_is_not_applicable_with_its_own_reason(prober) -> None:  # type: ignore[no-untyped-def]
    found = {(o.claim, o.method, o.family): o for o in prober.all([SLIRP], (4, 6))}
    for claim in (DEVICE_BINDING, MINIMUM_PORT):  # clients come in through its port handler: IPv4 only
        o = found[(claim, SLIRP, 6)]
        assert o.observed is None and o.not_applicable == slirp4netns_slirp4netns.NO_IPV6_FORWARDING
        assert (claim, SLIRP, 6) not in prober.asked
        assert o.to_json()["not_applicable"] == o.not_applicable and o.to_json()["family"] == 6
    for claim in (HOST_LOOPBACK_DEFAULT, OUTBOUND_REMOTE):  # the container connects out over IPv6
        assert (claim, SLIRP, 6) in prober.asked and not found[(claim, SLIRP, 6)].not_applicable
    assert all(not o.not_applicable for (_, _, family), o in found.items() if family == 4)


def test_a_method_that_cannot_connect_out_over_ipv6_is_not_applicable_outbound(prober) -> None:  # type: ignore[no-untyped-def]
    lame = replace(pasta.METHOD, id="pasta-no6", no_ipv6_outbound="this helper copies no IPv6 route")
    methods.define([replace(lame, base="pasta")])
    try:
        found = {(o.claim, o.family): o for o in prober.all(["pasta-no6"], (4, 6))}
    finally:
        methods.forget_defined()
    assert found[(OUTBOUND_REMOTE, 6)].not_applicable == "this helper copies no IPv6 route"
    assert found[(HOST_LOOPBACK_DEFAULT, 6)].not_applicable == "this helper copies no IPv6 route"
    assert not found[(DEVICE_BINDING, 6)].not_applicable and not found[(OUTBOUND_REMOTE, 4)].not_applicable


def test_the_probes_run_over_ipv6_only_when_the_run_measures_it() -> None:
    assert sweeps.probe_families(["tcp-rr", "tcp-stream+mtu1500"]) == (4,)
    assert sweeps.probe_families(["tcp-rr", "tcp-rr+ipv6"]) == (4, 6)
    assert sweeps.probe_families(["tcp-rr+ipv6"]) == (4, 6)
    assert [sweeps.family_of(w) for w in ("tcp-stream", "tcp-stream+mtu1500+ipv6")] == [4, 6]


def test_an_observation_keeps_its_family_through_the_results_document() -> None:
    six = Observation(DEVICE_BINDING, "pasta", True, "e", {}, family=6)
    assert Observation.from_json(six.to_json()) == six
    four = Observation(DEVICE_BINDING, "pasta", True, "e", {})
    assert "family" not in four.to_json() and "not_applicable" not in four.to_json()  # as before IPv6
    assert Observation.from_json(four.to_json()) == four


# ------------------------------------------------------------------ addresses per family
def test_each_method_names_the_hosts_loopback_in_each_family() -> None:
    def at(method, family: int) -> str:  # type: ignore[no-untyped-def]
        return method.host_address(LAB.client_address(family), family)

    assert at(host.METHOD, 4) == "127.0.0.1" and at(host.METHOD, 6) == "::1"
    for method in (pasta.METHOD, bridge.METHOD):  # the gateway, mapped with --map-gw
        assert at(method, 4) == LAB.client_addr and at(method, 6) == LAB.client_addr6
    for method in (slirp4netns_slirp4netns.METHOD, slirp4netns_rootlesskit.METHOD):
        assert at(method, 4) == "10.0.2.2" and at(method, 6) == "fd00::2"
    assert LAB.second_server_address(6) == LAB.second_server_addr6 and LAB.second_server_address() == "198.51.100.129"


def test_pasta_binds_a_device_in_the_trials_family() -> None:
    v4 = ServerSpec(("x",), 8080, host_port=8080, options=(f"{BIND_DEVICE}:eth1",))
    v6 = replace(v4, options=(*v4.options, f"{IP_FAMILY}:6"))
    assert pasta.METHOD.podman_network(v4) == "pasta:-t,0.0.0.0%eth1/8080:8080"
    assert pasta.METHOD.podman_network(v6) == "pasta:-t,::%eth1/8080:8080"
    argv = pasta.METHOD.bare_argv(BareArgs(v6, "pasta", netns_pid=1, pid_file="/p"))
    assert argv[argv.index("-t") + 1] == "::%eth1/8080:8080"


# ------------------------------------------------------------------ the matrix per family
def _family_doc(stored: list[dict]):  # type: ignore[no-untyped-def]
    return document({
        ("tcp-rr", "remote", "host"): normal(100, 1, 10, 1),
        ("tcp-rr", "remote", "pasta"): normal(99, 1, 10, 2),
        ("tcp-rr+ipv6", "remote", "host"): normal(100, 1, 10, 3),
        ("tcp-rr+ipv6", "remote", "pasta"): normal(99, 1, 10, 4),
    }, claims=stored)


def test_each_claim_has_a_verdict_per_family() -> None:
    stored = [Observation(DEVICE_BINDING, "pasta", True, "bound over IPv4", {}).to_json(),
              Observation(DEVICE_BINDING, "pasta", False, "not bound over IPv6", {}, family=6).to_json()]
    doc = _family_doc(stored)
    doc.lab["client_addr6"] = "2001:db8:5100::2"
    for cell in doc.cells:
        if cell.workload.endswith("+ipv6"):
            for trial in cell.trials:
                trial.observations["peer_address"] = "2001:db8:5100::2"
    cells = {(c.claim, c.method, c.family): c for c in claims.matrix(doc)}
    assert cells[(DEVICE_BINDING, "pasta", 4)].agrees is True
    six = cells[(DEVICE_BINDING, "pasta", 6)]
    assert six.observed is False and six.agrees is False and six.evidence == "not bound over IPv6"
    assert cells[(SOURCE_ADDRESS, "pasta", 6)].observed is True
    assert "2001:db8:5100::2" in cells[(SOURCE_ADDRESS, "pasta", 6)].evidence
    rendered = tables.render_claims(list(cells.values()))
    assert "binding to a specific network device (IPv6)" in rendered
    assert "pasta, binding to a specific network device (IPv6): not bound over IPv6" in rendered
    assert {c["family"] for c in claims.record(doc)} == {4, 6}


def test_a_not_applicable_probe_is_shown_with_its_reason() -> None:
    stored = [Observation(MINIMUM_PORT, "pasta", None, "not applicable over IPv6: no IPv6 forwarding", {},
                          family=6, not_applicable="no IPv6 forwarding").to_json()]
    cells = claims.matrix(_family_doc(stored))
    cell = next(c for c in cells if (c.claim, c.method, c.family) == (MINIMUM_PORT, "pasta", 6))
    assert cell.not_applicable == "no IPv6 forwarding" and cell.agrees is None
    headers, rows = tables.claims_rows(cells)
    row = next(r for r in rows if r[0] == "minimum port number (IPv6)")
    assert row[headers.index("pasta")] == "floor / not applicable"
    assert "pasta over IPv6 (minimum port number): no IPv6 forwarding" in tables.render_claims(cells)


def test_a_run_without_ipv6_keeps_one_row_per_claim() -> None:
    cells = claims.matrix(document({("tcp-rr", "remote", "host"): normal(100, 1, 10, 1),
                                    ("tcp-rr", "remote", "pasta"): normal(99, 1, 10, 2)}))
    headers, rows = tables.claims_rows(cells)
    assert [r[0] for r in rows] == [c.title for c in claims.CLAIMS.values()]
    assert "not applicable" not in tables.render_claims(cells)


# ------------------------------------------------------------------ outbound: uploads and downloads
def _outbound_doc(workloads: dict[str, str], stored: list[dict] | None = None):  # type: ignore[no-untyped-def]
    """Outbound cells (workload -> the trials' status) for pasta; the far end saw the server host."""
    doc = document({(w, "remote", "pasta"): normal(5, 0.1, 3, i) for i, w in enumerate(workloads)},
                   claims=stored)
    for cell in doc.cells:
        for trial in cell.trials:
            del trial.observations["peer_address"]  # outbound trials record what the far end saw
            trial.observations["remote_saw"] = "2001:db8:5100::1" if cell.workload.endswith("+ipv6") else "198.51.100.1"
            trial.status = workloads[cell.workload]
    return doc


def test_a_download_into_the_container_shows_outbound_to_a_remote_host() -> None:
    found = {o.family: o for o in claims.outbound_remote(_outbound_doc({"tcp-stream-outbound-reverse": "ok"}))}
    assert found[4].observed is True and found[4].claim == OUTBOUND_REMOTE
    assert "3 of 3 trials of tcp-stream-outbound-reverse connected out" in found[4].evidence
    assert "198.51.100.1" in found[4].evidence


def test_outbound_counts_uploads_and_downloads_per_family() -> None:
    doc = _outbound_doc({"tcp-stream-outbound": "ok", "tcp-stream-outbound-reverse": "ok",
                         "tcp-stream-outbound+ipv6": "failed", "tcp-stream-outbound-reverse+ipv6": "ok"})
    found = {o.family: o for o in claims.outbound_remote(doc)}
    assert found[4].extra["workloads"] == ["tcp-stream-outbound", "tcp-stream-outbound-reverse"]
    assert found[4].extra["trials_ok"] == 6
    assert found[6].observed is True and found[6].extra["trials_ok"] == 3 and found[6].extra["trials"] == 6
    assert "2001:db8:5100::1" in found[6].evidence
    failed = _outbound_doc({"tcp-stream-outbound-reverse": "failed"})
    assert claims.outbound_remote(failed)[0].observed is None  # a failed trial alone proves nothing


def test_the_outbound_workloads_join_the_probes_observation() -> None:
    probed = Observation(OUTBOUND_REMOTE, "pasta", None, "probe failed: timeout", {"client": {}}).to_json()
    cells = claims.matrix(_outbound_doc({"tcp-stream-outbound-reverse": "ok"}, [probed]))
    cell = next(c for c in cells if (c.claim, c.method, c.family) == (OUTBOUND_REMOTE, "pasta", 4))
    assert cell.observed is True and cell.agrees is True
    assert cell.evidence.startswith("probe failed: timeout; the outbound workloads: 3 of 3 trials")
    # without a probe (--skip-claims) the workloads alone give the observation
    alone = claims.matrix(_outbound_doc({"tcp-stream-outbound-reverse": "ok"}))
    assert next(c for c in alone if (c.claim, c.method) == (OUTBOUND_REMOTE, "pasta")).observed is True


def test_outbound_trials_do_not_count_for_the_source_address() -> None:
    """The guide's claim is about clients coming in: an outbound connection's far end sees the
    server host by design."""
    doc = _outbound_doc({"tcp-stream-outbound": "ok", "tcp-stream-outbound-reverse": "ok"})
    for cell in doc.cells:
        for trial in cell.trials:
            trial.observations["peer_address"] = "198.51.100.1"  # even were it recorded so
    assert claims.source_address(doc) == []
