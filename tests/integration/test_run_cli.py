"""The run command end to end, as a user calls it: document, tables, observations."""

from __future__ import annotations

import json
from pathlib import Path

from bench_runner.results import document as results
from bench_runner.stacks import detect as stack
from bench_runner.stacks.detect import version_tuple
from tests.integration.conftest import cli

FOUR = ("host", "pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns")


def test_quick_run_over_four_methods_and_both_placements(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    result = cli("run", "--quick", "--output", str(output))
    assert result.returncode == 0, result.stderr
    document = results.load(output)
    assert document.run["status"] == "complete"
    assert document.stack["kernel"] and document.stack["iperf3"]
    # auto: every method through this machine's Podman, pasta through the bare helper only
    # where Podman cannot run it (before 4.4), said per method with why
    assert document.provider["id"] == "podman", document.provider
    podman_has_pasta = version_tuple(stack.detect().podman) >= (4, 4)
    by_method = document.provider.get("by_method") or {}
    if not podman_has_pasta:
        assert by_method["pasta"]["id"] == "bare" and "4.4" in by_method["pasta"]["reason"], by_method
        assert document.cell("tcp-stream", "remote", "pasta").trials[0].observations["provider"] == "bare"
    rootlesskit = document.cell("tcp-stream", "remote", "slirp4netns-rootlesskit").trials[0].observations
    assert rootlesskit["provider"] == "podman" and rootlesskit["listener"]["kind"] == "rootlessport", rootlesskit
    assert rootlesskit["peer_address"] == "10.0.2.100"
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
    # how busy the machine was, as this run's own record of it says
    steal = document.run["load"][0]["steal_percent"]
    assert f"machine while measuring: load average {document.run['load'][0]['before']['loadavg'][0]:g} before" \
        in result.stdout
    assert steal is not None and f"CPU steal {steal:.1f}%" in result.stdout  # this kernel counts steal


def test_json_output_is_machine_readable(tmp_path: Path) -> None:
    output = tmp_path / "run.json"
    result = cli("run", "--quick", "--methods", "host,slirp4netns-slirp4netns", "--placements", "remote",
                 "--workloads", "tcp-stream", "--output", str(output), "--format", "json")
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
    assert "no stack of this run can run pasta (pasta: Podman" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_method_named_that_nothing_here_can_run_is_refused_with_its_own_reason() -> None:
    """The rootless bridge network needs Podman 5 (a stack); named on this machine alone it is
    refused up front, in the method's own words; chosen by default it is left out, with why."""
    if version_tuple(stack.detect().podman) >= (5, 0):
        return  # this Podman runs bridge networks
    result = cli("run", "--quick", "--methods", "bridge", "--placements", "remote", "--workloads", "tcp-stream")
    assert result.returncode == 2, result.stderr
    assert "no stack of this run can run bridge" in result.stderr and "Podman" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_pasta_variant_from_a_method_file_is_ranked_beside_pasta(tmp_path: Path) -> None:
    """A passt developer's question: pasta against pasta with other options, in one
    interleaved run. The variant's pasta is observed running with its options."""
    method_file = tmp_path / "methods.toml"
    method_file.write_text('pasta-mtu1500 = { base = "pasta", options = ["--mtu", "1500"] }\n')
    output = tmp_path / "run.json"
    result = cli("run", "--quick", "--method-file", str(method_file), "--methods", "pasta,pasta-mtu1500",
                 "--placements", "remote", "--workloads", "tcp-stream", "--skip-claims",
                 "--expect", "pasta>pasta-mtu1500", "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert "pasta-mtu1500" in result.stdout and "pasta > pasta-mtu1500" in result.stdout
    document = results.load(output)
    assert document.run["options"]["method_definitions"] == {"pasta-mtu1500": {"base": "pasta",
                                                                               "options": ["--mtu", "1500"],
                                                                               "summary": "pasta with --mtu 1500"}}
    variant = document.cell("tcp-stream", "remote", "pasta-mtu1500").trials[0]
    assert variant.status == "ok", variant.error
    argv = variant.observations["listener"]["argv"]
    assert variant.observations["listener"]["kind"] == "pasta" and argv[argv.index("--mtu") + 1] == "1500"
    plain = document.cell("tcp-stream", "remote", "pasta").trials[0].observations["listener"]["argv"]
    assert "--mtu" not in plain
    # A fresh process renders the stored run: the definition comes back from the document.
    report = cli("report", str(output), "--format", "json", "--output", str(tmp_path / "report.json"))
    assert report.returncode == 0, report.stderr
    assert "pasta-mtu1500" in (tmp_path / "report.json").read_text()


def test_doctor_reports_all_four_methods_available_for_auto() -> None:
    result = cli("doctor", "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 0, report["setup_needed"]
    by_method = report["auto_provider"]["by_method"]
    for method in FOUR:
        auto = by_method[method]
        assert report["availability"][auto][method]["available"], (method, report["availability"][auto][method])
    assert report["stack"]["podman"]
    assert report["image"] is True
