"""Pure parsers: text from a tool in, dataclasses out. Tested on recorded output.

May import: (the top-level modules only).
"""

from __future__ import annotations

from ..errors import MeasurementError


class ParseError(MeasurementError, ValueError):
    """The text is not what the tool prints (truncated, another format, an error). One of the
    suite's errors (a failed measurement), and still a ValueError for callers that parse."""
