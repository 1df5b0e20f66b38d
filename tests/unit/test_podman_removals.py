"""A method a Podman release no longer has is "not applicable" in that release's own words,
read from the release notes its package ships (recorded from Debian's podman 6.1.1+ds1-1+b1
and 5.8.6+ds1-3, from experimental and sid of 2026-10-30)."""

from __future__ import annotations

import gzip
from pathlib import Path

from bench_runner.parsers import releasenotes
from bench_runner.providers.podman import PodmanProvider, read_release_notes
from tests.conftest import read_data

PODMAN6 = read_data("podman-6.1.1-release-notes-6.x.md")
PODMAN58 = read_data("podman-5.8.6-release-notes-5.8.md")
SLIRP_GONE = ("Support for the slirp4netns rootless network stack has been removed. Please use Pasta instead.")


def test_podman_6_says_it_removed_slirp4netns() -> None:
    removal = releasenotes.removal_of(PODMAN6, "slirp4netns")
    assert removal is not None and removal.version == "6.0.0" and removal.words == SLIRP_GONE
    assert releasenotes.removal_of(PODMAN6, "CNI").words == ("Support for CNI networking has been removed. "  # type: ignore[union-attr]
                                                             "Please use Netavark instead.")
    # What it still has is never taken for removed: pasta ("Please use Pasta instead." is not a
    # removal), netavark, nftables ("Please use nftables instead."), rootlesskit.
    for kept in ("pasta", "passt", "netavark", "nft", "nftables", "rootlesskit"):
        assert releasenotes.removal_of(PODMAN6, kept) is None, kept


def test_only_breaking_changes_count() -> None:
    assert releasenotes.removals(PODMAN58) == []
    notes = ("## 7.0.0\n### Bugfixes\n- Support for the pasta thing has been removed from a test.\n"
             "### Breaking Changes\n- Support for rootlessport has been removed. Use Pesto.\n")
    [only] = releasenotes.removals(notes)
    assert only.version == "7.0.0" and only.mentions("rootlessport") and not only.mentions("pasta")
    assert releasenotes.removals("- Support for x has been removed.\n") == []  # no release heading: no release


def _stack(tmp_path: Path, notes: str | None) -> Path:
    for program in ("usr/bin/podman", "usr/bin/pasta", "usr/bin/slirp4netns", "usr/sbin/nft",
                    "usr/libexec/podman/quadlet"):
        (tmp_path / program).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / program).touch()
    if notes is not None:
        doc = tmp_path / "usr/share/doc/podman/RELEASE_NOTES.md.gz"
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_bytes(gzip.compress(notes.encode()))
    return tmp_path


def test_a_stacks_podman_without_slirp4netns_says_so_per_method(tmp_path: Path) -> None:
    provider = PodmanProvider("6.1.1", stack_root=_stack(tmp_path, PODMAN6))
    for method in ("slirp4netns-rootlesskit", "slirp4netns-slirp4netns"):
        found = provider.check(method)
        assert not found.available
        assert found.reason == f'Podman 6.1.1 has no slirp4netns: its release notes say, for 6.0.0, "{SLIRP_GONE}"'
    for method in ("pasta", "bridge", "host", "socket-activation-user", "socket-activation-system"):
        assert provider.check(method).available, method


def test_podman_5_keeps_every_method_and_no_notes_remove_nothing(tmp_path: Path) -> None:
    assert all(PodmanProvider("5.8.6", stack_root=_stack(tmp_path / "a", PODMAN58)).check(m).available
               for m in ("pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns", "bridge"))
    # Without release notes nothing is assumed gone: the trial then shows what Podman says.
    assert PodmanProvider("6.1.1", stack_root=_stack(tmp_path / "b", None)).check("slirp4netns-slirp4netns").available
    assert read_release_notes(tmp_path / "b") == ""
