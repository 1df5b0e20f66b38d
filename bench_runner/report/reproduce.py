"""The exact command that measures a stored run again: the README's command with the run's
own options, its seed and the provider that actually carried it.

Built from ``run.options`` (what the run used after defaults were applied), not from the
argv as typed, which may lack the seed or rely on defaults that have changed since.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from ..run import runoptions
from ..run.matrix import HOST_STACK
from ..results.document import RunDocument

SCRIPT = "./scripts/run-benchmarks.sh"
@dataclass(frozen=True)
class Reproduction:
    argv: tuple[str, ...]  # the README's command with this run's options
    typed: tuple[str, ...]  # the command as it was typed, from the document
    not_carried: tuple[str, ...]  # options in the document the command cannot express
    #: Release stacks the command boots, which must be built first (``stack build NAME``).
    stacks: tuple[str, ...] = ()

    @property
    def shell(self) -> str:
        return shlex.join(self.argv)

    @property
    def typed_shell(self) -> str:
        return shlex.join(self.typed)


def command(document: RunDocument) -> Reproduction:
    options: dict[str, Any] = dict(document.run.get("options") or {})
    argv: list[str] = [SCRIPT, *runoptions.reproduce_words(options, document)]
    if document.run.get("seed") is not None:
        argv.extend(["--seed", str(document.run["seed"])])
    for key, value in (document.stack.get("stated") or {}).items():
        argv.extend(["--stack", f"{key}={value}"])
    stacks = tuple(s for s in options.get("stacks") or [] if s != HOST_STACK)
    return Reproduction(tuple(argv), tuple(str(a) for a in document.run.get("command") or ()),
                        runoptions.not_carried(options), stacks)
