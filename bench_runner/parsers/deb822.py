"""Debian's control-file format (deb822) as its archive indices use it: paragraphs of
``Field: value`` lines, continuation lines indented, and an InRelease file's clear-signed
wrapper. One reader for both of its users: ``debarchive`` (a suite's whole InRelease and
Sources, strict: a line that is not a field is an error) and ``apt`` (the head of a Release
file a stack build kept, which may be cut short: lenient)."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from . import ParseError

BEGIN_SIGNED = "-----BEGIN PGP SIGNED MESSAGE-----"
BEGIN_SIGNATURE = "-----BEGIN PGP SIGNATURE-----"


def paragraphs(text: str, *, strict: bool = True) -> list[dict[str, str]]:
    """The paragraphs' fields, continuation lines joined by newlines. ``strict``: a line that
    is neither a field nor a continuation is a ParseError; otherwise it is skipped."""
    found: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                found.append(current)
            current, key = {}, None
        elif line[0] in " \t":
            if key is not None:
                current[key] += "\n" + line.strip()
            elif strict:
                raise ParseError("Debian index: a continuation line before any field")
        else:
            name, sep, value = line.partition(":")
            if not sep or not name or " " in name:
                if strict:
                    raise ParseError(f"Debian index: not a field: {line[:60]!r}")
                continue
            key = name
            current[key] = value.strip()
    if current:
        found.append(current)
    return found


def signed_body(text: str, *, strict: bool = True) -> str:
    """The text a clear-signed message signs (its armour headers dropped, dash-escaping
    undone); text that is not one is returned as it is. ``strict``: a message without its
    signature block is a ParseError; otherwise what there is of its body is returned."""
    lines = text.splitlines()
    if BEGIN_SIGNED not in lines:
        if strict and text.lstrip().startswith(BEGIN_SIGNED):
            raise ParseError("InRelease: not a clear-signed message")
        return text
    start = lines.index(BEGIN_SIGNED)
    if BEGIN_SIGNATURE in lines:
        end = lines.index(BEGIN_SIGNATURE)
    elif strict:
        raise ParseError("InRelease: not a clear-signed message")
    else:
        end = len(lines)
    body = lines[start + 1:end]
    while body and body[0].strip():  # the armour headers ("Hash: SHA512") up to a blank line
        body = body[1:]
    return "\n".join(line[2:] if line.startswith("- ") else line for line in body[1:])


def date(text: str) -> datetime | None:
    """An RFC 2822 date as the archive writes it ("Fri, 30 Oct 2026 08:08:01 UTC"), aware;
    None when it is not one."""
    try:
        value = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
