"""A trial's observations read as types: every recorded document's trials give a carrier
and a peer where they recorded one, and missing or malformed values read as unknown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench_runner.results import document as results
from bench_runner.results.observed import CarrierProcess, Links, Observed

DATA = Path(__file__).resolve().parents[1] / "data"
RECORDED = ("results-bare-full.json", "results-bare-quick.json", "results-family-quick.json",
            "results-evidence-quick.json", "results-sweep-mtu-quick.json", "results-bare-tcp-rr.json")


@pytest.mark.parametrize("name", RECORDED)
def test_every_recorded_trial_reads_with_its_carrier_and_peer(name: str) -> None:
    document = results.load(DATA / name)
    ok = [(c, t) for c in document.cells for t in c.trials if t.status == "ok"]
    assert ok
    for cell, trial in ok:
        seen = trial.observed
        assert seen.carrier is not None and seen.carrier.kind == trial.observations["listener"]["kind"]
        assert seen.peer == trial.observations["peer_address"]
        if cell.method == "host":
            assert seen.carrier.kind.startswith("server:") and not seen.carrier.is_helper


def test_a_helper_is_a_helper_and_an_inherited_socket_is_named_by_its_server() -> None:
    pasta = CarrierProcess.from_json({"pid": 7, "comm": "pasta.avx2", "kind": "pasta", "carrier": "pasta",
                                      "argv": ["pasta", "--config-net"]})
    assert pasta is not None and pasta.is_helper and pasta.label == "pasta"
    inherited = CarrierProcess.from_json({"pid": 8, "comm": "echo_server", "kind": "server:python3",
                                          "carrier": "inherited", "argv": ["python3"]})
    assert inherited is not None and not inherited.is_helper and inherited.label == "echo_server (inherited socket)"


def test_outbound_trials_read_from_their_own_keys() -> None:
    seen = Observed.from_json({"outbound_carrier": {"pid": 3, "comm": "pasta", "kind": "pasta", "argv": ["pasta"]},
                               "remote_saw": "198.51.100.1"})
    assert seen.carrier is not None and seen.carrier.kind == "pasta" and seen.peer == "198.51.100.1"


@pytest.mark.parametrize("observations", [{}, {"listener": "garbled", "peer_address": 5, "container_links": []},
                                          {"listener": None, "remote_saw": None}])
def test_missing_or_malformed_observations_read_as_unknown(observations: dict) -> None:
    assert Observed.from_json(observations) == Observed(None, None, None)


def test_links_keep_the_error_or_the_interfaces() -> None:
    links = Links.from_json({"interfaces": [{"ifname": "eth0", "mtu": 65520, "txqlen": 1000}], "namespace": "own"})
    assert links is not None and links.interfaces[0].mtu == 65520 and links.namespace == "own"
    failed = Links.from_json({"error": "no process of the container was left to look into"})
    assert failed is not None and failed.error and failed.interfaces == ()
