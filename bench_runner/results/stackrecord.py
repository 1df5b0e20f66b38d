"""A release stack's record in words, for ``stack list`` and the report alike: the state of
the archive it was built from, and whether apt's check of that archive's date was waived."""

from __future__ import annotations

from typing import Any


def archive_note(record: dict[str, Any]) -> str:
    """The state of the archive a stack was built from, in a few words: "sid of 2026-10-30,
    Release expired 2026-11-06, Valid-Until not checked (--allow-expired)"; "-" where a build recorded none."""
    releases = [r for r in record.get("releases") or [] if isinstance(r, dict)]
    check = record.get("release_check") or {}
    words = []
    main = next((r for r in releases if r.get("codename") == record.get("suite")), releases[0] if releases else None)
    if main is not None and main.get("date"):
        words.append(f"{main.get('codename') or record.get('suite')} of {str(main['date'])[:10]}")
    expired = [r for r in releases if r.get("expired_at_build")]
    if expired:
        words.append(f"Release expired {str(expired[0].get('valid_until'))[:10]}")
    if record.get("snapshot"):
        words.append(f"snapshot {record['snapshot']}")
    if check.get("valid_until_checked") is False:
        words.append(f"Valid-Until not checked ({check.get('why', '?')})"
                     if not record.get("snapshot") else "Valid-Until not checked")
    return ", ".join(words) or "-"
