"""``run --verbose``: every command the suite starts, and a failed one's output, on stderr.

``procs`` logs each command line to the ``bench_runner`` logger at DEBUG ("+ pasta
--config-net ..."), so every helper is covered from the one place commands are started;
nothing shows unless :func:`enabled` installs a handler. While a progress display owns the
terminal, the lines go through it (:func:`through`), so they appear above its live status
line instead of inside it.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

LOGGER = "bench_runner"


class LineHandler(logging.Handler):
    """Each record as one or more plain lines, to the stream or through a display."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(logging.DEBUG)
        self.stream = stream
        self.sink: Callable[[str], None] | None = None
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        sink = self.sink
        try:
            if sink is not None:
                sink(text)
            else:
                self.stream.write(text + "\n")
                self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed terminal must not end the measurement


_active: LineHandler | None = None


@contextmanager
def enabled(stream: TextIO, on: bool) -> Iterator[None]:
    """With ``on``, the suite's DEBUG records go to ``stream`` until the block ends."""
    global _active
    if not on:
        yield
        return
    logger = logging.getLogger(LOGGER)
    handler = LineHandler(stream)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    _active = handler
    try:
        yield
    finally:
        _active = None
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextmanager
def through(sink: Callable[[str], None]) -> Iterator[None]:
    """While the block runs, verbose lines go to ``sink`` (a display's ``note``)."""
    handler = _active
    if handler is None:
        yield
        return
    handler.sink = sink
    try:
        yield
    finally:
        handler.sink = None
