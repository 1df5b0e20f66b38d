"""Which state of Debian's archive a stack is built from: apt's refusal of an expired Release
file read from mmdebstrap's real output, said in one line with its date and built only when
asked (--allow-expired); Debian's snapshot archive of a moment (--snapshot); and what the
stack records about both."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench_runner.errors import SetupError, UsageError
from bench_runner.parsers import apt
from bench_runner.results.stackrecord import archive_note
from bench_runner.stacks import build, spec
from tests.conftest import read_data

#: When tests/data/mmdebstrap-1.3.5-sid-expired.txt was captured (`date -u` right after it).
EXPIRED_SEEN_AT = datetime(2026, 12, 6, 7, 49, 59, tzinfo=timezone.utc)
EXPIRED = read_data("mmdebstrap-1.3.5-sid-expired.txt")
UNREACHABLE = read_data("mmdebstrap-1.3.5-snapshot-unreachable.txt")


def test_the_expired_release_is_read_from_mmdebstraps_output() -> None:
    found = apt.expired_releases(EXPIRED)
    assert [r.url for r in found] == ["http://deb.debian.org/debian/dists/sid/InRelease"]
    assert found[0].said == "29d 23h 41min 58s"
    assert found[0].invalid_since == timedelta(days=29, hours=23, minutes=41, seconds=58)
    # The date it gives back is the Release file's own Valid-Until (the head recorded the same day).
    head = apt.release_head(read_data("inrelease-sid-head.txt"))
    assert abs(found[0].valid_until(EXPIRED_SEEN_AT) - head.valid_until) <= timedelta(seconds=2)  # type: ignore[operator]
    assert apt.expired_releases(UNREACHABLE) == [] and apt.fetch_failures(EXPIRED) == []


@pytest.mark.parametrize("text, seconds", [
    ("29d 23h 41min 58s", 29 * 86400 + 23 * 3600 + 41 * 60 + 58), ("3h 2min 1s", 10921), ("12min 4s", 724),
    ("58s", 58), ("1d", 86400)])
def test_apt_durations(text: str, seconds: int) -> None:
    assert apt.parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "3 days", "29d and 3h", "5x"])
def test_what_is_not_an_apt_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        apt.parse_duration(text)


def test_a_fetch_failure_keeps_apts_reason_and_host() -> None:
    failed = apt.fetch_failures(UNREACHABLE)
    assert len(failed) == 1
    assert failed[0].url == "http://snapshot.debian.org/archive/debian/20261002T000000Z/dists/sid/InRelease"
    assert failed[0].reason == "Could not resolve 'snapshot.debian.org'" and failed[0].host == "snapshot.debian.org"


def test_the_head_of_a_release_file_dates_the_archive() -> None:
    head = apt.release_head(read_data("inrelease-sid-head.txt"))
    assert (head.origin, head.suite, head.codename) == ("Debian", "unstable", "sid")
    assert head.date == datetime(2026, 10, 30, 8, 8, 1, tzinfo=timezone.utc)
    assert head.valid_until == datetime(2026, 11, 6, 8, 8, 1, tzinfo=timezone.utc)
    assert apt.release_head("Origin: x\n").date is None  # no date: none invented


def test_an_expired_archive_is_one_line_naming_the_option_with_the_date() -> None:
    sid = spec.make_spec("sid", None, None, None)
    problem = build.archive_problem(sid, EXPIRED, EXPIRED_SEEN_AT)
    assert isinstance(problem, UsageError) and problem.exit_code == 2
    text = str(problem)
    assert "\n" not in text and "--allow-expired" in text and "expired on 2026-11-06 08:08 UTC" in text
    assert "http://deb.debian.org/debian/dists/sid/InRelease" in text
    # Asked to accept it, the same words are not a refusal (nor taken for anything else).
    assert build.archive_problem(spec.make_spec("sid", None, None, None, allow_expired=True), EXPIRED,
                                 EXPIRED_SEEN_AT) is None


def test_an_unreachable_snapshot_archive_is_one_line_saying_what_it_needs() -> None:
    snap = spec.make_spec("old", "sid", None, None, snapshot="20261002T000000Z")
    problem = build.archive_problem(snap, UNREACHABLE, EXPIRED_SEEN_AT)
    assert isinstance(problem, SetupError) and problem.exit_code == 2 and "\n" not in str(problem)
    assert "--snapshot needs snapshot.debian.org" in str(problem)
    assert "Could not resolve 'snapshot.debian.org'" in str(problem)
    assert build.archive_problem(snap, "E: something else\n", EXPIRED_SEEN_AT) is None


def test_a_snapshot_stands_for_the_archive_of_that_moment() -> None:
    snap = spec.make_spec("sid-oct", "sid", None, None, snapshot="20261002T000000Z")
    assert snap.archive == "http://snapshot.debian.org/archive/debian/20261002T000000Z"
    assert snap.sources() == ["deb http://snapshot.debian.org/archive/debian/20261002T000000Z sid main"]
    stable = spec.make_spec("t", "trixie", None, None, snapshot="20250901T120000Z")
    assert stable.sources() == [
        "deb http://snapshot.debian.org/archive/debian/20250901T120000Z trixie main",
        "deb http://snapshot.debian.org/archive/debian/20250901T120000Z trixie-updates main",
        "deb http://snapshot.debian.org/archive/debian-security/20250901T120000Z trixie-security main"]
    assert spec.ACCEPT_EXPIRED_OPTION in snap.apt_options()
    assert snap.release_check()["valid_until_checked"] is False and "20261002T000000Z" in snap.release_check()["why"]
    assert snap.key("amd64") != spec.make_spec("sid-oct", "sid", None, None).key("amd64")
    assert snap.key("amd64") != spec.make_spec("sid-oct", "sid", None, None, snapshot="20261003T000000Z").key("amd64")


def test_apts_date_check_is_off_only_when_asked() -> None:
    plain = spec.make_spec("sid", None, None, None)
    assert plain.apt_options() == [spec.RETRIES_OPTION] and plain.release_check() == {"valid_until_checked": True}
    allowed = spec.make_spec("sid", None, None, None, allow_expired=True)
    assert allowed.apt_options() == [spec.RETRIES_OPTION, 'Acquire::Check-Valid-Until "false"']
    assert allowed.release_check() == {"valid_until_checked": False, "why": "--allow-expired",
                                       "apt_option": 'Acquire::Check-Valid-Until "false"'}
    assert allowed.sources() == plain.sources()


@pytest.mark.parametrize("value, message", [
    ("2026-10-02", "expected YYYYMMDDTHHMMSSZ"), ("20261002T000000", "expected YYYYMMDDTHHMMSSZ"),
    ("20261302T000000Z", "not a date and time"), ("20260230T000000Z", "not a date and time"),
    ("20040101T000000Z", "begins at 20050312T000000Z"), ("29990101T000000Z", "in the future")])
def test_bad_snapshot_moments_are_usage_errors(value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        spec.make_spec("s", "sid", None, None, snapshot=value)


def test_a_snapshot_and_a_mirror_are_not_both_taken() -> None:
    with pytest.raises(UsageError, match="give one"):
        spec.make_spec("s", "sid", None, "http://mirror.example/debian", snapshot="20261002T000000Z")


def test_the_release_files_are_recorded_and_the_lists_removed(tmp_path: Path) -> None:
    lists = tmp_path / "var" / "lib" / "apt" / "lists"
    (lists / "partial").mkdir(parents=True)
    (lists / "deb.debian.org_debian_dists_sid_InRelease").write_text(read_data("inrelease-sid-head.txt"))
    (lists / "deb.debian.org_debian_dists_sid_main_binary-amd64_Packages").write_text("Package: x\n")
    (lists / "lock").touch()
    heads = build.take_release_heads(tmp_path, EXPIRED_SEEN_AT)
    assert heads == [{"file": "deb.debian.org_debian_dists_sid_InRelease", "origin": "Debian", "suite": "unstable",
                      "codename": "sid", "date": "2026-10-30T08:08:01Z", "valid_until": "2026-11-06T08:08:01Z",
                      "expired_at_build": True}]
    assert sorted(p.name for p in lists.iterdir()) == ["lock", "partial"]
    assert build.take_release_heads(tmp_path / "nothing", EXPIRED_SEEN_AT) == []


def test_what_list_and_the_report_say_about_the_archive() -> None:
    allowed = spec.make_spec("sid", None, None, None, allow_expired=True)
    record = {"suite": "sid", "release_check": allowed.release_check(), "snapshot": None, "releases": [
        {"codename": "sid", "date": "2026-10-30T08:08:01Z", "valid_until": "2026-11-06T08:08:01Z",
         "expired_at_build": True}]}
    assert archive_note(record) == ("sid of 2026-10-30, Release expired 2026-11-06, Valid-Until not checked "
                                    "(--allow-expired)")
    snap = spec.make_spec("s", "sid", None, None, snapshot="20261002T000000Z")
    assert archive_note({"suite": "sid", "release_check": snap.release_check(), "snapshot": snap.snapshot}) == \
        "snapshot 20261002T000000Z, Valid-Until not checked"
    fresh = {"suite": "trixie", "release_check": {"valid_until_checked": True}, "releases": [
        {"codename": "trixie", "date": "2026-11-21T09:15:44Z", "expired_at_build": False}]}
    assert archive_note(fresh) == "trixie of 2026-11-21"
    assert archive_note({"suite": "trixie"}) == "-"  # built before stacks recorded it: nothing invented


def test_a_package_from_experimental_replaces_the_suites_own() -> None:
    podman6 = spec.make_spec("podman6", "sid", ["podman/experimental,netavark/experimental"], None, allow_expired=True)
    assert "podman/experimental" in podman6.packages and "podman" not in podman6.packages
    assert "netavark/experimental" in podman6.packages and "passt" in podman6.packages
    assert podman6.from_experimental == ("podman", "netavark")
    assert podman6.sources() == ["deb http://deb.debian.org/debian sid main",
                                 "deb http://deb.debian.org/debian experimental main"]
    assert podman6.key("amd64") != spec.make_spec("podman6", "sid", None, None).key("amd64")
    assert spec.make_spec("sid", None, None, None).from_experimental == ()
    with pytest.raises(UsageError, match="experimental builds on sid, not trixie"):
        spec.make_spec("t", "trixie", ["podman/experimental"], None)
    with pytest.raises(UsageError, match="not a Debian package name"):
        spec.make_spec("s", "sid", ["podman/trixie"], None)
