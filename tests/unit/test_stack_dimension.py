"""Stacks as a dimension of a run: cells name their stack, tables rank every stack's methods
together against the host method of their own stack, verdicts and claims are per stack, and a
host-only document reads exactly as before stacks existed."""

from __future__ import annotations

import math

import json

import pytest

from bench_runner.analysis import ranking as analysis, claims, tables
from bench_runner.run import matrix
from bench_runner.results import document as results
from bench_runner.results.document import CellResult, RunDocument
from bench_runner.analysis.verdicts import ordering_verdicts
from tests.unit.synthetic import document, normal


def _two_stacks() -> RunDocument:
    doc = document({
        ("tcp-stream", "remote", "host"): normal(30, 0.5, 10, 1),
        ("tcp-stream", "remote", "pasta"): normal(10, 0.3, 10, 2),
        ("tcp-stream", "remote", "slirp4netns-rootlesskit"): normal(16, 0.3, 10, 3),
    }, peers={"slirp4netns-rootlesskit": "127.0.0.1"})
    booted = document({
        ("tcp-stream", "remote", "host"): normal(40, 0.5, 10, 4),
        ("tcp-stream", "remote", "pasta"): normal(20, 0.3, 10, 5),
        ("tcp-stream", "remote", "slirp4netns-rootlesskit"): normal(16, 0.3, 10, 6),
    }, peers={"slirp4netns-rootlesskit": "10.0.2.100"})
    for cell in booted.cells:
        cell.stack = "trixie"
    doc.cells += booted.cells
    doc.stacks = {"trixie": {"name": "trixie", "versions": {"podman": "5.4.2"},
                             "provider": {"id": "podman", "reason": "test"}}}
    return doc


def test_the_matrix_repeats_every_cell_per_stack() -> None:
    built = matrix.build(["host", "pasta"], ["tcp-stream"], ["remote"], ["host", "trixie"])
    assert [c.label for c in built.cells] == ["tcp-stream/remote/host", "tcp-stream/remote/pasta",
                                              "tcp-stream/remote/host@trixie", "tcp-stream/remote/pasta@trixie"]
    assert built.stacks() == ["host", "trixie"]


def test_a_host_only_document_has_no_stack_fields() -> None:
    data = document({("tcp-stream", "remote", "host"): [1.0, 2.0]}).to_json()
    assert "stacks" not in data and all("stack" not in c for c in data["cells"])


def test_a_stack_document_round_trips_through_the_schema() -> None:
    doc = _two_stacks()
    data = json.loads(json.dumps(doc.to_json()))
    results.validate(data)
    again = RunDocument.from_json(data)
    assert [c.stack for c in again.cells] == [c.stack for c in doc.cells]
    assert again.cell("tcp-stream", "remote", "pasta", "trixie").samples() == \
        doc.cell("tcp-stream", "remote", "pasta", "trixie").samples()
    assert again.stack_versions("trixie")["podman"] == "5.4.2"
    assert again.provider_of("trixie")["id"] == "podman"


def test_one_table_ranks_both_stacks_each_against_its_own_host() -> None:
    [table] = analysis.rank_tables(_two_stacks())
    labels = [row.label for row in table.rows]
    assert labels[0] == "host@trixie" and set(labels) == {"host", "pasta", "slirp4netns-rootlesskit", "host@trixie",
                                                          "pasta@trixie", "slirp4netns-rootlesskit@trixie"}
    rows = {row.label: row for row in table.rows}
    doc = _two_stacks()
    pasta, host = (doc.cell("tcp-stream", "remote", m, "trixie").samples_by_round() for m in ("pasta", "host"))
    per_round = [pasta[r] / host[r] for r in pasta]
    assert rows["pasta@trixie"].vs_baseline.value == pytest.approx(math.exp(sum(map(math.log, per_round)) / 10))
    assert rows["pasta@trixie"].vs_baseline.paired  # the same rounds of the same stack
    assert 0.3 < rows["pasta"].vs_baseline.value < 0.36  # 10 / 30, not 10 / 40
    text = tables.render(table)
    assert "pasta@trixie" in text and "10.0.2.100" in text


def test_orderings_are_judged_within_each_stack() -> None:
    verdicts = ordering_verdicts(_two_stacks(), "pasta>slirp4netns-rootlesskit")
    by_stack = {v.stack: v.pairs[0].verdict for v in verdicts}
    assert by_stack == {"host": "violated", "trixie": "holds"}
    rendered = tables.render_verdicts(verdicts)
    assert "tcp-stream (client sends) / remote @trixie" in rendered


def test_claims_are_given_per_stack() -> None:
    cells = claims.matrix(_two_stacks())
    source = {(c.stack, c.method): c.observed for c in cells if c.claim == "source_address_preserved"}
    assert source[("host", "slirp4netns-rootlesskit")] is False
    assert source[("trixie", "slirp4netns-rootlesskit")] is False and source[("trixie", "pasta")] is True
    rendered = tables.render_claims(cells)
    assert "claims under stack host" in rendered and "claims under stack trixie" in rendered


def test_a_cell_result_knows_its_label() -> None:
    cell = CellResult("tcp-rr", "remote", "pasta", "p50", "us", False, stack="trixie")
    assert cell.label == "pasta@trixie" and cell.cell.label == "tcp-rr/remote/pasta@trixie"


def test_a_method_a_stacks_podman_cannot_run_is_not_applicable_there_only() -> None:
    built = matrix.build(["host", "pasta"], ["tcp-stream"], ["remote"], ["host", "bookworm"])
    reduced = built.without("bookworm", {"pasta": "not available in this stack: Podman 4.3.1 has no pasta"})
    assert [c.label for c in reduced.cells] == ["tcp-stream/remote/host", "tcp-stream/remote/pasta",
                                                "tcp-stream/remote/host@bookworm"]
    assert reduced.not_applicable[-1] == (matrix.Cell("tcp-stream", "remote", "pasta", "bookworm"),
                                          "not available in this stack: Podman 4.3.1 has no pasta")
    assert reduced.methods_in("bookworm") == ["host"] and reduced.methods_in("host") == ["host", "pasta"]
