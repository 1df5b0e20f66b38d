"""The exact command that measures a stored run again: the README's command with the run's
own options, its seed and the provider that actually carried it.

Built from ``run.options`` (what the run used after defaults were applied), not from the
argv as typed, which may lack the seed or rely on defaults that have changed since.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from .. import defaults
from ..matrix import HOST_STACK, PLACEMENTS
from ..results import RunDocument
from ..sweeps import SWEEPS
from ..verdicts import DOCUMENTED

SCRIPT = "./scripts/run-benchmarks.sh"
#: Options the command below carries; any other option in a document is listed as not carried.
CARRIED = frozenset({"methods", "workloads", "placements", "provider", "duration_s", "omit_s", "rounds",
                     "warmup_rounds", "max_rounds", "precision", "quick", "mtu", "pasta", "expect",
                     "tolerance", "claims_probed", "stacks", "methods_named", "captures", "sweeps",
                     "client_host"})


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


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}"


def command(document: RunDocument) -> Reproduction:
    options: dict[str, Any] = dict(document.run.get("options") or {})
    argv: list[str] = [SCRIPT]

    def add(flag: str, key: str, convert=str) -> None:  # type: ignore[no-untyped-def]
        if options.get(key) is not None:
            argv.extend([flag, convert(options[key])])

    if options.get("methods"):
        argv.extend(["--methods", ",".join(options["methods"])])
    if options.get("workloads"):
        argv.extend(["--workloads", ",".join(options["workloads"])])
    stacks = [s for s in options.get("stacks") or [] if s != HOST_STACK]
    if stacks:
        argv.extend(["--stacks", ",".join(options["stacks"])])
    if options.get("placements"):
        order = list(PLACEMENTS)
        placements = sorted(options["placements"], key=lambda p: order.index(p) if p in order else len(order))
        argv.extend(["--placements", ",".join(placements)])
    provider = document.provider.get("id") if HOST_STACK in (options.get("stacks") or [HOST_STACK]) else None
    provider = provider or options.get("provider")
    if provider:
        argv.extend(["--provider", str(provider)])
    if options.get("quick"):
        argv.append("--quick")
    else:
        add("--duration", "duration_s")
        add("--omit", "omit_s")
        add("--rounds", "rounds")
        add("--warmup-rounds", "warmup_rounds")
        add("--max-rounds", "max_rounds")
        add("--precision", "precision", _percent)
    if document.run.get("seed") is not None:
        argv.extend(["--seed", str(document.run["seed"])])
    add("--mtu", "mtu")
    if options.get("pasta") not in (None, defaults.PASTA):
        argv.extend(["--pasta", str(options["pasta"])])
    for key, value in (document.stack.get("stated") or {}).items():
        argv.extend(["--stack", f"{key}={value}"])
    expect = options.get("expect") or []
    if list(expect) != [DOCUMENTED]:
        for expectation in expect:
            argv.extend(["--expect", expectation])
    if options.get("tolerance") is not None and abs(options["tolerance"] - defaults.TOLERANCE) > 1e-12:
        argv.extend(["--tolerance", _percent(options["tolerance"])])
    if options.get("claims_probed") is False:
        argv.append("--skip-claims")
    for name, values in (options.get("sweeps") or {}).items():
        if name in SWEEPS:
            argv.extend([SWEEPS[name].flag, ",".join(str(v) for v in values)])
    if options.get("captures"):
        argv.extend(["--capture", ",".join(options["captures"])])
    client = options.get("client_host") or {}
    for flag, key in (("--client-host", "url"), ("--server-address", "server_address"),
                      ("--client-key", "identity"), ("--client-known-hosts", "known_hosts")):
        if client.get(key):
            argv.extend([flag, str(client[key])])
    not_carried = tuple(sorted(k for k in options if k not in CARRIED))
    return Reproduction(tuple(argv), tuple(str(a) for a in document.run.get("command") or ()), not_carried,
                        tuple(stacks))
