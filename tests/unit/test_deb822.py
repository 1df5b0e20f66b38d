"""The one deb822 reader both archive parsers use: strict for a verified InRelease or Sources,
lenient for a Release head a build kept, which may be cut short."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bench_runner.parsers import ParseError, deb822

SIGNED = """-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

Origin: Debian
Date: Sat, 05 Dec 2026 20:11:02 UTC
SHA256:
 0123 12 main/Contents
- -not a field, dash-escaped
-----BEGIN PGP SIGNATURE-----

iQIz
-----END PGP SIGNATURE-----
"""


def test_a_signed_message_gives_what_it_signs_with_dash_escaping_undone() -> None:
    body = deb822.signed_body(SIGNED)
    assert body.splitlines()[0] == "Origin: Debian"
    assert body.splitlines()[-1] == "-not a field, dash-escaped"
    assert "Hash: SHA512" not in body and "iQIz" not in body


def test_a_signed_message_cut_before_its_signature_is_refused_when_strict_and_read_when_not() -> None:
    cut = SIGNED.split("SHA256:")[0]
    with pytest.raises(ParseError):
        deb822.signed_body(cut)
    assert deb822.paragraphs(deb822.signed_body(cut, strict=False)) == [
        {"Origin": "Debian", "Date": "Sat, 05 Dec 2026 20:11:02 UTC"}]


def test_unsigned_text_is_read_as_it_is() -> None:
    assert deb822.signed_body("Origin: Debian\n") == "Origin: Debian\n"


def test_paragraphs_join_continuations_and_strictness_decides_about_stray_lines() -> None:
    text = "Package: passt\nFiles:\n a 1 x\n b 2 y\n\nPackage: podman\n"
    assert deb822.paragraphs(text) == [{"Package": "passt", "Files": "\na 1 x\nb 2 y"}, {"Package": "podman"}]
    with pytest.raises(ParseError):
        deb822.paragraphs("not a field\nPackage: x\n")
    assert deb822.paragraphs("not a field\nPackage: x\n", strict=False) == [{"Package": "x"}]
    with pytest.raises(ParseError):
        deb822.paragraphs(" continuation first\n")


@pytest.mark.parametrize("text", ["Sat, 05 Dec 2026 20:11:02 UTC", "Sat, 05 Dec 2026 20:11:02 +0000",
                                  "Sat, 05 Dec 2026 20:11:02 GMT", "Sat, 5 Dec 2026 20:11:02 UTC "])
def test_archive_dates_read_as_utc(text: str) -> None:
    assert deb822.date(text) == datetime(2026, 12, 5, 20, 11, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["", "yesterday", "Sat, 05 Dec"])
def test_what_is_not_a_date_gives_none(text: str) -> None:
    assert deb822.date(text) is None
