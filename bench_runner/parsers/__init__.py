"""Pure parsers: text from a tool in, dataclasses out. Tested on recorded output."""

from __future__ import annotations


class ParseError(ValueError):
    """The text is not what the tool prints (truncated, another format, an error)."""
