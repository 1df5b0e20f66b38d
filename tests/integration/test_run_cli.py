"""The run command end to end, as a user calls it: document, tables, observations."""

from __future__ import annotations

import json
from pathlib import Path

from bench_runner import results, stack
from bench_runner.stack import version_tuple
from tests.integration.conftest import cli

FOUR = ("host", "pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns")


def test_quick_run_over_four_methods_and_both_placements(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    result = cli("run", "--quick", "--output", str(output))
    assert result.returncode == 0, result.stderr
    document = results.load(output)
    assert document.run["status"] == "complete"
    assert document.stack["kernel"] and document.stack["iperf3"]
    provider = document.provider["id"]
    podman_has_pasta = version_tuple(stack.detect().podman) >= (4, 4)
    assert provider == ("podman" if podman_has_pasta else "bare"), document.provider
    for placement in ("remote", "loopback"):
        for method in FOUR:
            cell = document.cell("tcp-stream", placement, method)
            assert cell.status == "measured", (cell.method, cell.reason)
            trial = cell.trials[0]
            assert trial.observations["listener_expected"] in (trial.observations["listener"]["kind"], "server")
            if placement == "remote":
                peer = trial.observations["peer_address"]
                if method == "slirp4netns-rootlesskit":
                    assert peer != document.lab["client_addr"]
                else:
                    assert peer == document.lab["client_addr"]
    # the ranked tables name every method, per placement
    assert result.stdout.count("tcp-stream / remote: throughput") == 1
    assert result.stdout.count("tcp-stream / loopback: throughput") == 1
    for method in FOUR:
        assert result.stdout.count(method) >= 2
    assert "results document:" in result.stdout


def test_json_output_is_machine_readable(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    result = cli("run", "--quick", "--methods", "host,slirp4netns-slirp4netns", "--placements", "remote",
                 "--workloads", "tcp-stream", "--output", str(output), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["results"] == str(output)
    (table,) = data["tables"]
    assert {row["method"] for row in table["rows"]} == {"host", "slirp4netns-slirp4netns"}


def test_explicit_provider_that_cannot_run_a_method_says_why() -> None:
    if version_tuple(stack.detect().podman) >= (4, 4):
        return  # this Podman can run pasta: nothing to refuse
    result = cli("run", "--quick", "--provider", "podman", "--methods", "pasta")
    assert result.returncode == 2
    assert "provider podman cannot run pasta: Podman" in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_reports_all_four_methods_available_for_auto() -> None:
    result = cli("doctor", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0, report["setup_needed"]
    auto = report["auto_provider"]["provider"]
    for method in FOUR:
        assert report["availability"][auto][method]["available"], (method, report["availability"][auto][method])
    assert report["stack"]["podman"]
    assert report["image"] is True
