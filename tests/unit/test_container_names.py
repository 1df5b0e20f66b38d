"""Stale-state cleanup removes only containers named by the suite for a run tag."""

from __future__ import annotations

import pytest

from bench_runner.providers.podman import container_tag


@pytest.mark.parametrize("name, tag", [
    ("netbench-47ebe451-c3", "47ebe451"),
    ("netbench-0badc0de-a12", "0badc0de"),
    ("netbench-47ebe451", None),           # no kind and counter
    ("netbench-XYZ12345-c1", None),        # not a hex tag
    ("netbench-47ebe451-c3-extra", None),
    ("someone-47ebe451-c3", None),
    ("netbench-base", None),
])
def test_only_the_suites_own_names_carry_a_tag(name: str, tag: str | None) -> None:
    assert container_tag(name) == tag
