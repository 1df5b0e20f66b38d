"""Stale-state cleanup removes only containers named by the suite for a run tag."""

from __future__ import annotations

import pytest

from bench_runner.lab.hosts import new_tag, resource_name, tag_of_resource


@pytest.mark.parametrize("name, tag", [
    ("netbench-47ebe451-c3", "47ebe451"),
    ("netbench-0badc0de-rootlesskit12", "0badc0de"),
    ("netbench-47ebe451", None),           # no kind and counter
    ("netbench-47ebe451-c", None),         # no counter
    ("netbench-XYZ12345-c1", None),        # not a hex tag
    ("netbench-47ebe451-c3-extra", None),
    ("someone-47ebe451-c3", None),
    ("netbench-base", None),
])
def test_only_the_suites_own_names_carry_a_tag(name: str, tag: str | None) -> None:
    assert tag_of_resource(name) == tag


def test_every_name_the_suite_makes_gives_back_its_tag() -> None:
    tag = new_tag()
    for what in ("c", "rootlesskit"):
        assert tag_of_resource(resource_name(tag, what, 7)) == tag
