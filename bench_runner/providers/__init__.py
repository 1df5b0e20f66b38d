"""Providers start servers under a method: ``podman`` (real Podman) or ``bare`` (the same
helpers without Podman); ``unitserver`` runs socket activation through a booted stack's
systemd units. ``--provider auto`` runs each method through this machine's Podman where that
Podman runs it, and through the bare helpers only where it does not (``ByMethod``: pasta
under a Podman older than 4.4); ``--provider podman`` or ``bare`` runs every method alike.

May import: clienthost, lab, methods, parsers, stacks, workloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

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


class ByMethod(Provider):
    """Each method through the provider that runs it here: ``main`` (this machine's Podman)
    unless ``others`` names another for it, with ``why``. Its id is the main provider's."""

    def __init__(self, main: Provider, others: Mapping[str, Provider], why: Mapping[str, str], main_why: str) -> None:
        self.main = main
        self.others = dict(others)
        self.why = dict(why)
        self.main_why = main_why
        self.id = main.id

    def for_method(self, method: str) -> Provider:
        return self.others.get(method, self.main)

    def check(self, method: str) -> Availability:
        return self.for_method(method).check(method)

    def start(self, session: Session, method: str, spec: ServerSpec) -> RunningServer:
        return self.for_method(method).start(session, method, spec)

    def providers(self) -> list[Provider]:
        return [self.main, *dict.fromkeys(self.others.values())]


def choose(requested: str, methods: list[str], *, podman_version: str | None, pasta_binary: str = PASTA) -> Choice:
    """``auto``: each method through Podman where this machine's Podman runs it, through the
    bare helpers only where it does not and they do (``ByMethod``); Podman alone when the bare
    helpers run nothing it cannot, the bare helpers alone when Podman runs none of the methods.
    What the chosen provider cannot run, ``unavailable`` says (the run leaves it out, with why,
    and refuses only if a method the user named can run nowhere)."""
    if requested not in CHOICES:
        raise UsageError(f"unknown provider '{requested}'; valid: {', '.join(CHOICES)}")
    if requested != "auto":
        return Choice(make(requested, podman_version=podman_version, pasta_binary=pasta_binary),
                      f"--provider {requested} was requested")
    podman = make("podman", podman_version=podman_version)
    missing = unavailable(podman, methods)
    if not missing:
        return Choice(podman, f"Podman {podman_version} can run every requested method")
    bare = make("bare", podman_version=podman_version, pasta_binary=pasta_binary)
    handed = {m: why for m, why in missing.items() if bare.check(m).available}
    if not handed:
        return Choice(podman, f"Podman {podman_version} runs every method the bare helpers can")
    if len(missing) == len(methods):
        why = next(iter(missing.values()))
        return Choice(bare, f"Podman runs none of the requested methods ({why}), so the bare helpers run them")
    listed = "; ".join(f"{m}, as {why}" for m, why in handed.items())
    return Choice(ByMethod(podman, {m: bare for m in handed}, handed, f"Podman {podman_version} runs it"),
                  f"Podman {podman_version} runs every method it can; the bare helpers run {listed}")


def provider_record(choice: Choice, methods: list[str]) -> dict[str, object]:
    """The results document's ``provider``: the main provider with why, and, where the run
    mixes them, the provider of every method with why (``by_method``)."""
    record: dict[str, object] = {"id": choice.provider.id, "reason": choice.reason}
    provider = choice.provider
    if isinstance(provider, ByMethod):
        record["by_method"] = {
            m: {"id": provider.for_method(m).id, "reason": provider.why.get(m) or provider.main_why}
            for m in methods}
    return record


def availability_record(choice: Choice) -> dict[str, dict[str, object]]:
    """Every method under each provider the choice uses, or why not (``availability``)."""
    from ..methods import METHODS

    providers = choice.provider.providers() if isinstance(choice.provider, ByMethod) else [choice.provider]
    return {p.id: {m: p.check(m).to_json() for m in METHODS} for p in providers}


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


__all__ = ["Availability", "BareProvider", "ByMethod", "Choice", "PodmanProvider", "Provider", "RunningServer",
           "ServerExit", "ServerSpec", "Session", "availability_record", "choose", "choose_in_stack", "make",
           "provider_record", "unavailable", "PROVIDER_IDS", "CHOICES"]
