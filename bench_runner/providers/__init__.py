"""Providers start servers under a method: ``podman`` (real Podman) or ``bare`` (the same
helpers without Podman); ``unitserver`` runs socket activation through a booted stack's
systemd units. One run uses one provider for every method it ranks.

May import: clienthost, lab, methods, parsers, stacks, workloads.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from .bare import BareProvider
from .base import Availability, Provider, RunningServer, ServerExit, ServerSpec, Session
from .podman import PodmanProvider
from ..methods.pasta import PROGRAM as PASTA

PROVIDER_IDS = ("podman", "bare")
CHOICES = ("auto", *PROVIDER_IDS)


@dataclass(frozen=True)
class Choice:
    provider: Provider
    reason: str


def make(provider_id: str, *, podman_version: str | None, pasta_binary: str = PASTA) -> Provider:
    if provider_id == "podman":
        return PodmanProvider(podman_version)
    if provider_id == "bare":
        return BareProvider({PASTA: pasta_binary})
    raise UsageError(f"unknown provider '{provider_id}'; valid: {', '.join(CHOICES)}")


def choose(requested: str, methods: list[str], *, podman_version: str | None, pasta_binary: str = PASTA) -> Choice:
    """Podman when it can run every method that any provider here can, else bare. What the
    chosen provider cannot run, ``unavailable`` says (the run leaves it out, with why, and
    refuses only if a method the user named can run nowhere)."""
    if requested not in CHOICES:
        raise UsageError(f"unknown provider '{requested}'; valid: {', '.join(CHOICES)}")
    if requested == "auto":
        podman = make("podman", podman_version=podman_version)
        missing = unavailable(podman, methods)
        if not missing:
            return Choice(podman, f"Podman {podman_version} can run every requested method")
        bare = make("bare", podman_version=podman_version, pasta_binary=pasta_binary)
        if set(missing) <= set(unavailable(bare, methods)):
            return Choice(podman, f"Podman {podman_version} runs every method the bare helpers can")
        why = "; ".join(f"{m}: {reason}" for m, reason in missing.items())
        return Choice(bare, f"Podman cannot run every requested method ({why}), so the bare helpers run them")
    return Choice(make(requested, podman_version=podman_version, pasta_binary=pasta_binary),
                  f"--provider {requested} was requested")


def choose_in_stack(stack: str, podman_version: str | None, stack_root) -> Choice:  # type: ignore[no-untyped-def]
    """A booted stack is measured through its own Podman (what it cannot run, such as pasta
    before Podman 4.4, its ``check`` says), socket activation through its own systemd."""
    provider = PodmanProvider(podman_version, stack_root=stack_root)
    return Choice(provider, f"the stack's own Podman {podman_version}, socket activation through its systemd "
                            f"(Quadlet and socket units)")


def unavailable(provider: Provider, methods: list[str]) -> dict[str, str]:
    """The methods a provider cannot run here, with why."""
    found = {m: provider.check(m) for m in methods}
    return {m: a.reason for m, a in found.items() if not a.available}


__all__ = ["Availability", "BareProvider", "Choice", "PodmanProvider", "Provider", "RunningServer",
           "ServerExit", "ServerSpec", "Session", "choose", "choose_in_stack", "make", "unavailable",
           "PROVIDER_IDS", "CHOICES"]
