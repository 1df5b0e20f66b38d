"""A release walk: the first build where a figure changed, judged round by round with Holm
over every step; and passt builds verified as apt verifies them."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bench_runner.analysis import walk
from bench_runner.errors import SetupError, UsageError
from bench_runner.methods import userfile
from bench_runner.parsers import ParseError, debarchive
from bench_runner.report import walk as walk_output
from bench_runner.stacks import passtbuild
from tests.unit.synthetic import document, normal

DATA = Path(__file__).resolve().parents[1] / "data"
BUILDS = ["pasta-20230309", "pasta-20250503", "pasta-20260728"]


def _run(rounds: int = 10):  # type: ignore[no-untyped-def]
    # tcp-stream-reverse collapses at the second build and stays; tcp-stream is the same throughout
    return document({("tcp-stream-reverse", "remote", BUILDS[0]): normal(8.0, 0.2, rounds, 1),
                     ("tcp-stream-reverse", "remote", BUILDS[1]): normal(0.1, 0.01, rounds, 2),
                     ("tcp-stream-reverse", "remote", BUILDS[2]): normal(0.1, 0.01, rounds, 3),
                     ("tcp-stream", "remote", BUILDS[0]): normal(9.0, 0.05, rounds, 4),
                     ("tcp-stream", "remote", BUILDS[1]): normal(9.0, 0.05, rounds, 5),
                     ("tcp-stream", "remote", BUILDS[2]): normal(9.0, 0.05, rounds, 6)})


def test_the_first_build_where_a_figure_changed_is_named() -> None:
    reverse, forward = walk.walks(_run(), BUILDS)
    assert reverse.workload == "tcp-stream-reverse"
    assert reverse.first_change is not None and reverse.first_change.after == "pasta-20250503"
    assert reverse.first_change.verdict == "worse" and reverse.first_change.ratio.value < 0.05
    assert [s.verdict for s in reverse.steps][0] == "worse" and reverse.steps[1].verdict != "worse"
    assert "first changed at pasta-20250503 (from pasta-20230309)" in reverse.sentence()
    assert forward.first_change is None and "no build changed it" in forward.sentence()


def test_steps_are_adjusted_together_and_few_rounds_decide_nothing() -> None:
    found = walk.walks(_run(), BUILDS)
    raw = [s.ratio.p_value for w in found for s in w.steps]
    adjusted = [s.p_adjusted for w in found for s in w.steps]
    assert all(a >= r for a, r in zip(adjusted, raw))  # Holm never makes a p smaller
    assert max(adjusted) <= 1.0
    # Two rounds: too few to pair (stats.MIN_PAIRED_ROUNDS), so no step can be a change.
    assert all(w.first_change is None for w in walk.walks(_run(rounds=2), BUILDS))


def test_a_walk_names_methods_of_the_run() -> None:
    with pytest.raises(UsageError, match="pasta-2099 not in the run"):
        walk.walks(_run(), ["pasta-20230309", "pasta-2099"])
    with pytest.raises(UsageError, match="at least two builds"):
        walk.walks(_run(), ["pasta-20230309"])


def test_the_walk_renders_for_an_issue() -> None:
    found = walk.walks(_run(), BUILDS)
    text = walk_output.render_markdown(found, BUILDS)
    assert "### First change" in text and "pasta-20230309 -> pasta-20250503" in text
    assert "Holm-adjusted p (over all 4 steps)" in text
    [reverse, _] = walk_output.to_json(found)
    assert reverse["first_change"] == "pasta-20250503" and reverse["steps"][0]["verdict"] == "worse"


def test_inrelease_and_sources_as_debian_serves_them() -> None:
    release = debarchive.parse_release((DATA / "debian-trixie-backports-InRelease").read_text())
    assert release.suite == "trixie-backports"
    assert release.date == datetime(2026, 12, 4, 2, 9, 32, tzinfo=timezone.utc)
    assert release.valid_until == datetime(2026, 12, 11, 2, 9, 32, tzinfo=timezone.utc)
    assert release.files["main/source/Sources.xz"].sha256.startswith("cdc2663c3ab92a71")
    assert release.expired(datetime(2026, 12, 12, tzinfo=timezone.utc))
    assert not release.expired(datetime(2026, 12, 6, tzinfo=timezone.utc))
    source = debarchive.parse_sources((DATA / "debian-trixie-backports-Sources-passt.txt").read_text(), "passt")
    assert source is not None and source.version == "0.0~git20260728.f8df3f1-1~bpo13+1"
    assert source.upstream_version == "0.0~git20260728.f8df3f1" and source.directory == "pool/main/p/passt"
    orig = source.file(".orig.tar.xz")
    assert orig is not None and orig.size == 295056 and orig.sha256.startswith("fcfeb5fb")
    assert debarchive.parse_sources("Package: other\nVersion: 1\n", "passt") is None


@pytest.mark.parametrize("text", ["Package: passt\nVersion 1\n", " continued\n",
                                  "Package: passt\nVersion: 1\nDirectory: d\nChecksums-Sha256:\n abc 1 f\n"])
def test_other_index_text_is_refused(text: str) -> None:
    with pytest.raises(ParseError):
        debarchive.parse_sources(text, "passt")


@pytest.mark.skipif(not passtbuild.KEYRING.is_file() or shutil.which("gpgv") is None, reason="needs Debian's keyring")
def test_a_tampered_index_is_refused(tmp_path: Path) -> None:
    """A mirror (or a proxy) that changes one checksum in InRelease: gpgv refuses it before
    anything of it is read, so no tarball it names is ever built."""
    good = tmp_path / "InRelease"
    good.write_bytes((DATA / "debian-trixie-backports-InRelease").read_bytes())
    passtbuild.check_signature(good, "trixie-backports")
    tampered = tmp_path / "tampered"
    tampered.write_text(good.read_text().replace("cdc2663c3ab92a71", "0000000000000000", 1))
    with pytest.raises(SetupError, match="no valid signature by Debian's archive keyring"):
        passtbuild.check_signature(tampered, "trixie-backports")
    with pytest.raises(SetupError, match="SHA-256 is not what the signed index says"):
        passtbuild._checked(b"x" * 10, "0" * 64, 10, "passt.orig.tar.xz")


def test_builds_become_a_method_file_in_release_order(tmp_path: Path) -> None:
    made = []
    for version, suite in (("0.0~git20250503.587980c", "trixie"), ("0.0~git20230309.7c7625d", "bookworm")):
        directory = tmp_path / version
        directory.mkdir()
        (directory / "passt").write_text("#!/bin/sh\n")
        (directory / "passt").chmod(0o755)
        (directory / "pasta").symlink_to("passt")
        made.append(passtbuild.PasstBuild(version, suite, f"{version}-1", "2026-12-01", "0" * 64, "now", "cc",
                                          str(directory)))
    text = passtbuild.method_file(sorted(made, key=lambda b: b.method_id))
    path = tmp_path / "walk.toml"
    path.write_text(text)
    methods = userfile.load(path)
    assert [m.id for m in methods] == ["pasta-20230309", "pasta-20250503"]
    assert methods[0].binary == str(tmp_path / "0.0~git20230309.7c7625d" / "pasta")
    assert "0.0~git20230309.7c7625d" in methods[0].summary and "bookworm" in methods[0].summary
    assert passtbuild.method_id_for("1.2.3") == "pasta-1-2-3"


def test_a_step_shown_within_the_margin_is_the_same() -> None:
    """Two builds within 1% of each other, round after round: the equivalence test (TOST) the
    run's own rounds use says "same", not merely "no change found"."""
    doc = document({("tcp-stream", "remote", BUILDS[0]): normal(9.0, 0.05, 10, 7),
                    ("tcp-stream", "remote", BUILDS[1]): normal(9.0, 0.05, 10, 8)})
    [found] = walk.walks(doc, BUILDS[:2])
    assert found.steps[0].verdict == "same" and found.first_change is None
