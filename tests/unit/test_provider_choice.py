"""--provider auto: each method through this machine's Podman where it runs it, the bare
helpers only where it does not; the document says which ran each method and why, and every
reader of it (tables, report, history, reproduce command) takes the mix into account."""

from __future__ import annotations

import shutil

import pytest

from bench_runner import providers
from bench_runner.providers import activation
from bench_runner.providers.base import Availability
from bench_runner.results.document import provider_label
from bench_runner.run import runoptions
from tests.unit.synthetic import document, normal

METHODS = ["host", "pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns", "socket-activation-user"]


@pytest.fixture
def everything_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda program: f"/usr/bin/{program}")
    monkeypatch.setattr(activation, "availability", lambda: Availability(True))


def test_podman_43_runs_what_it_can_and_the_bare_helpers_only_pasta(everything_installed: None) -> None:
    choice = providers.choose("auto", METHODS, podman_version="4.3.1")
    provider = choice.provider
    assert isinstance(provider, providers.ByMethod) and provider.id == "podman"
    assert {m: provider.for_method(m).id for m in METHODS} == {
        "host": "podman", "pasta": "bare", "slirp4netns-rootlesskit": "podman", "slirp4netns-slirp4netns": "podman",
        "socket-activation-user": "podman"}
    assert "pasta" in choice.reason and "4.4" in choice.reason
    record = providers.provider_record(choice, METHODS)
    assert record["by_method"]["pasta"] == {"id": "bare", "reason": "Podman 4.3.1 has no pasta network mode (needs 4.4 or later)"}
    assert record["by_method"]["slirp4netns-rootlesskit"] == {"id": "podman", "reason": "Podman 4.3.1 runs it"}
    assert provider_label(record) == "podman+bare:pasta"
    assert set(providers.availability_record(choice)) == {"podman", "bare"}


def test_a_podman_that_runs_every_method_runs_them_all(everything_installed: None) -> None:
    choice = providers.choose("auto", METHODS, podman_version="5.4.2")
    assert isinstance(choice.provider, providers.PodmanProvider)
    record = providers.provider_record(choice, METHODS)
    assert "by_method" not in record and provider_label(record) == "podman"


def test_a_forced_provider_runs_every_method(everything_installed: None) -> None:
    for forced in ("podman", "bare"):
        choice = providers.choose(forced, METHODS, podman_version="4.3.1")
        assert choice.provider.id == forced and not isinstance(choice.provider, providers.ByMethod)
    assert providers.unavailable(providers.choose("podman", METHODS, podman_version="4.3.1").provider,
                                 METHODS) == {"pasta": "Podman 4.3.1 has no pasta network mode (needs 4.4 or later)"}


def test_without_podman_the_bare_helpers_run_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda program: None if program == "podman" else f"/usr/bin/{program}")
    monkeypatch.setattr(activation, "availability", lambda: Availability(True))
    choice = providers.choose("auto", ["host", "pasta"], podman_version=None)
    assert isinstance(choice.provider, providers.BareProvider)


def _mixed_document():  # type: ignore[no-untyped-def]
    doc = document({("tcp-stream", "remote", m): normal(10 + i, 0.1, 6, i) for i, m in enumerate(METHODS[:4])})
    doc.provider = {"id": "podman", "reason": "Podman 4.3.1 runs every method it can",
                    "by_method": {m: {"id": "bare" if m == "pasta" else "podman",
                                      "reason": "Podman 4.3.1 has no pasta network mode (needs 4.4 or later)" if m == "pasta"
                                      else "Podman 4.3.1 runs it"} for m in METHODS[:4]}}
    return doc


def test_the_tables_mark_the_cells_of_another_provider_and_say_why() -> None:
    from bench_runner.analysis import ranking, tables

    [table] = ranking.rank_tables(_mixed_document())
    rows = {row.method: row for row in table.rows}
    assert rows["pasta"].provider == "bare" and rows["pasta"].provider_differs
    assert rows["host"].provider == "podman" and not rows["host"].provider_differs
    text = tables.render(table)
    assert "pasta: through the bare helpers, as Podman 4.3.1 has no pasta network mode (needs 4.4 or later)" in text
    carried = {row[1]: row[7] for row in tables.rank_rows(table)}
    assert carried["pasta"].endswith("(bare)") and not carried["host"].endswith(")")


def test_history_and_the_reproduce_command_keep_the_mix() -> None:
    from bench_runner.history.record import snapshot_of
    from tests.unit.history_env import load_doc

    doc = _mixed_document()
    doc.stack = load_doc("results-bare-full.json")["stack"]
    assert snapshot_of(doc).as_dict()["provider"] == "podman+bare:pasta"
    assert "--provider" not in runoptions.reproduce_words({"provider": "auto", "stacks": ["host"]}, doc)
    doc.provider = {"id": "bare", "reason": "--provider bare was requested"}
    assert runoptions.reproduce_words({"provider": "bare", "stacks": ["host"]}, doc) == ["--provider", "bare"]
    assert snapshot_of(doc).as_dict()["provider"] == "bare"
