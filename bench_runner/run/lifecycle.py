"""The life of a measurement, shared by ``run`` and ``calibrate``: open the labs (one per
stack), record them and the host's state in the document, save it before the first trial,
time each phase, and whatever happens, record the end (status, finish time, load before
and after, phase times) and save again, then tear the labs down.

Written once, so a fact a run records about its labs or its end is recorded by every
command that measures.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Iterator

from ..lab import hostinfo
from ..results import document as results
from ..providers import Session
from ..results.document import RunDocument, now_iso


@dataclass
class Measuring:
    document: RunDocument
    sessions: dict[str, Session]
    #: Where the document is saved; None: nowhere (``calibrate`` without ``--output``).
    output: Path | None
    status: str = "incomplete"
    phases: dict[str, float] = field(default_factory=dict)
    _since: float = field(default_factory=time.monotonic)

    @property
    def first(self) -> Session:
        """The session of the first stack: the host's, where the host stack is measured."""
        return next(iter(self.sessions.values()))

    def phase_done(self, name: str) -> None:
        """The phase that just ended took the time since the previous one ended."""
        now = time.monotonic()
        self.phases[name] = self.phases.get(name, 0.0) + now - self._since
        self._since = now

    def save(self) -> None:
        if self.output is not None:
            results.save(self.document, self.output)

    def complete(self) -> None:
        self.status = "complete"


@contextlib.contextmanager
def measuring(document: RunDocument, opened: ContextManager[dict[str, Session]], *, log: Callable[[str], None],
              output: Callable[[str], Path | None]) -> Iterator[Measuring]:
    """``opened`` gives the sessions, one per stack (``labsession.open_sessions``, or
    ``open_two_computers`` for a client host over SSH), and tears them down. ``output``
    names the document's path from the first lab's tag (a run's default name carries it).
    The caller marks the measurement complete; anything else ends incomplete."""
    started = time.monotonic()
    with opened as sessions:
        first = next(iter(sessions.values()))
        document.run["id"] = document.run.get("id") or first.lab.tag
        document.lab = first.lab_record()
        for name, session in sessions.items():
            if session.stack is not None:
                document.stacks[name].update(lab=session.lab_record(), boot=session.stack.record()["boot"],
                                             podman_info=session.stack.podman_info)
        if not document.stack.get("podman_info"):
            # The session made the user's runtime directory and holds the run lock.
            document.stack["podman_info"] = hostinfo.podman_info(first.user)
        current = Measuring(document, sessions, output(first.lab.tag), _since=started)
        current.save()
        load_before = hostinfo.load_sample()
        try:
            yield current
        finally:
            # Per measuring session: a resumed run adds one.
            document.run.setdefault("load", []).append(hostinfo.load_record(load_before, hostinfo.load_sample()))
            document.run["status"] = current.status
            document.run["finished_at"] = now_iso()
            document.run["phases_s"] = {**document.run.get("phases_s", {}),
                                        **{k: round(v, 1) for k, v in current.phases.items()}}
            current.save()
