"""Every method the suite can measure, one module each, and the registry that lists them.

To add a method: write ``methods/NAME.py`` with a ``METHOD = NetworkMethod(...)`` and add it
to ``BUILTIN`` below (the order is the order of tables and listings). User-defined variants
come from ``--method-file`` (``methods/userfile.py``) and are added for one run with
``define``; a stored results document brings its own definitions back the same way
(``userfile.load_document``).

May import: results, workloads.
"""

from __future__ import annotations

from typing import Iterable

from ..errors import UsageError
from . import (bridge, host, pasta, slirp4netns_rootlesskit, slirp4netns_slirp4netns, socket_activation_system,
               socket_activation_user)
from .base import NetworkMethod

BUILTIN: tuple[NetworkMethod, ...] = (
    host.METHOD,
    pasta.METHOD,
    slirp4netns_rootlesskit.METHOD,
    slirp4netns_slirp4netns.METHOD,
    socket_activation_user.METHOD,
    socket_activation_system.METHOD,
    bridge.METHOD,
)

#: Method id -> method: the built-in ones, then any defined for this run.
METHODS: dict[str, NetworkMethod] = {m.id: m for m in BUILTIN}
#: The yardstick (``host``): the one method marked as the baseline.
BASELINE: str = next(m.id for m in BUILTIN if m.baseline)


def get(method_id: str) -> NetworkMethod:
    try:
        return METHODS[method_id]
    except KeyError:
        raise UsageError(f"unknown method '{method_id}'; valid: {', '.join(METHODS)}") from None


def define(defined: Iterable[NetworkMethod]) -> None:
    """Add user-defined methods for this process (the same definition twice is fine; a
    different one under a taken id is refused)."""
    for method in defined:
        known = METHODS.get(method.id)
        if known is not None and known != method:
            if known.base is None:
                raise UsageError(f"method '{method.id}' is built in; name the variant differently")
            if known.definition() != method.definition():
                raise UsageError(f"method '{method.id}' is defined twice, differently")
        METHODS[method.id] = method


def forget_defined() -> None:
    """Back to the built-in methods only (tests; a process that renders several documents)."""
    for method_id in [m for m, method in METHODS.items() if method.base is not None]:
        del METHODS[method_id]


def defined() -> list[NetworkMethod]:
    """The user-defined methods known to this process."""
    return [m for m in METHODS.values() if m.base is not None]


__all__ = ["BASELINE", "BUILTIN", "METHODS", "NetworkMethod", "define", "defined", "forget_defined", "get"]
