"""Ordering verdicts from known distributions, in both metric directions."""

from __future__ import annotations

import pytest

from bench_runner.analysis import verdicts
from bench_runner.errors import UsageError
from tests.unit.synthetic import document, normal

ORDER = "pasta>slirp4netns-rootlesskit>slirp4netns-slirp4netns"


def _three(pasta: float, kit: float, slirp: float, *, higher: bool = True, sd: float = 1.0):  # type: ignore[no-untyped-def]
    return document({
        ("w", "remote", "host"): normal(100, sd, 10, 1),
        ("w", "remote", "pasta"): normal(pasta, sd, 10, 2),
        ("w", "remote", "slirp4netns-rootlesskit"): normal(kit, sd, 10, 3),
        ("w", "remote", "slirp4netns-slirp4netns"): normal(slirp, sd, 10, 4),
    }, higher_is_better=higher)


def _verdicts(doc, order: str = ORDER) -> list[str]:  # type: ignore[no-untyped-def]
    (found,) = verdicts.ordering_verdicts(doc, order)
    return [p.verdict for p in found.pairs]


def test_ten_percent_apart_in_the_stated_order_holds() -> None:
    assert _verdicts(_three(60, 50, 40)) == ["holds", "holds"]


def test_the_opposite_order_is_violated() -> None:
    doc = _three(40, 50, 60)
    assert _verdicts(doc) == ["violated", "violated"]
    assert verdicts.ordering_verdicts(doc, ORDER)[0].violated


def test_identical_methods_are_inconclusive() -> None:
    same = normal(50, 1, 10, 7)
    doc = document({("w", "remote", "pasta"): same, ("w", "remote", "slirp4netns-rootlesskit"): list(same),
                    ("w", "remote", "slirp4netns-slirp4netns"): normal(40, 1, 10, 8)})
    assert _verdicts(doc) == ["inconclusive", "holds"]


def test_lower_is_better_flips_what_holds_means() -> None:
    # latency: pasta 40 us < rootlesskit 50 us < slirp4netns 60 us means pasta is best
    assert _verdicts(_three(40, 50, 60, higher=False)) == ["holds", "holds"]
    assert _verdicts(_three(60, 50, 40, higher=False)) == ["violated", "violated"]


def test_any_user_ordering_is_accepted() -> None:
    found = verdicts.ordering_verdicts(_three(60, 50, 40), "host>pasta")
    assert [p.verdict for p in found[0].pairs] == ["holds"]


def test_unmeasured_methods_are_said_so() -> None:
    doc = document({("w", "remote", "pasta"): normal(60, 1, 10, 1),
                    ("w", "remote", "slirp4netns-rootlesskit"): normal(50, 1, 10, 2)})
    pairs = verdicts.ordering_verdicts(doc, ORDER)[0].pairs
    assert pairs[1].verdict == "not measured" and "slirp4netns-slirp4netns" in pairs[1].why


@pytest.mark.parametrize("text, message", [
    ("pasta", "write an ordering like"),
    ("pasta>>host", "write an ordering like"),
    ("pasta>nosuch", "unknown method 'nosuch'"),
    ("pasta>host>pasta", "appears twice"),
    ("", "write an ordering like"),
])
def test_malformed_expectations_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        verdicts.parse_expectation(text)
