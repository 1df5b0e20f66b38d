"""The seed document's claims, and the claims matrix: each claim beside what was observed.

Observations come from the results document only: probes (``claims_probe``) store theirs in
``checks["claims"]`` with their evidence and IP family; source address, outbound to a remote
host (beside its probe) and native performance are derived here from the trials themselves,
per IP family. So a stored run renders its matrix again unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from .. import defaults
from . import stats
from ..workloads import sweeps
from ..results.cells import HOST_STACK
from ..workloads import WORKLOADS
from ..methods import BASELINE as BASELINE_METHOD
from ..methods import METHODS
from ..methods.base import (DEVICE_BINDING, FLOOR, HOST_LOOPBACK_DEFAULT, MINIMUM_PORT,  # noqa: F401 (FLOOR re-exported)
                           NATIVE_PERFORMANCE, OUTBOUND_REMOTE, SOURCE_ADDRESS)
from ..results.document import CellResult, RunDocument

#: What ``host`` shows for native performance: the yardstick, not a measured "yes".
BASELINE = "baseline"


@dataclass(frozen=True)
class Claim:
    id: str
    title: str

    @property
    def documented(self) -> dict[str, Any]:
        """Method -> what podman-networking-docs states (True/False, or the port floor
        text); each method module says it for itself."""
        return {m.id: m.documented[self.id] for m in METHODS.values() if self.id in m.documented}


#: From the guide's tables (see ../shared/seed/podman-networking-docs.txt): listening
#: sockets, performance, device binding, outbound to the host's localhost.
CLAIMS: dict[str, Claim] = {c.id: c for c in (
    Claim(SOURCE_ADDRESS, "source address preserved"),
    Claim(NATIVE_PERFORMANCE, "native performance"),
    Claim(DEVICE_BINDING, "binding to a specific network device"),
    Claim(MINIMUM_PORT, "minimum port number"),
    Claim(HOST_LOOPBACK_DEFAULT, "outbound to the host's localhost allowed by default"),
    Claim(OUTBOUND_REMOTE, "outbound connections to a remote host"),
)}


@dataclass(frozen=True)
class Observation:
    claim: str
    method: str
    #: True/False for yes-no claims; for minimum_port the lowest port that worked, as text.
    observed: Any
    evidence: str
    #: Any further observations, e.g. with the option that enables a feature.
    extra: dict[str, Any]
    #: The stack the method ran in.
    stack: str = HOST_STACK
    #: The IP family it was observed over.
    family: int = 4
    #: Why the method cannot be probed for the claim over this family (then nothing is
    #: observed); "" where it was probed.
    not_applicable: str = ""

    def to_json(self) -> dict[str, Any]:
        data = {"claim": self.claim, "method": self.method, "observed": self.observed,
                "evidence": self.evidence, "extra": self.extra}
        if self.stack != HOST_STACK:
            data["stack"] = self.stack
        if self.family != 4:
            data["family"] = self.family
        if self.not_applicable:
            data["not_applicable"] = self.not_applicable
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Observation":
        return cls(data["claim"], data["method"], data.get("observed"), data.get("evidence", ""),
                   data.get("extra", {}), data.get("stack", HOST_STACK), data.get("family", 4),
                   data.get("not_applicable", ""))


@dataclass(frozen=True)
class MatrixCell:
    claim: str
    method: str
    documented: Any  # None: the guide says nothing for this method
    observed: Any  # None: not observed in this run
    agrees: bool | None
    evidence: str
    stack: str = HOST_STACK
    family: int = 4
    #: Why the method cannot be observed for the claim over this family ("": it can).
    not_applicable: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"claim": self.claim, "method": self.method, "stack": self.stack, "family": self.family,
                "documented": self.documented, "observed": self.observed, "agrees": self.agrees,
                "evidence": self.evidence, **({"not_applicable": self.not_applicable} if self.not_applicable else {})}


def _is_outbound(workload_id: str) -> bool:
    workload = WORKLOADS.get(sweeps.base_of(workload_id))
    return workload is not None and workload.outbound


def source_address(document: RunDocument) -> list[Observation]:
    """Preserved when every inbound remote trial's server saw the client host's own address,
    per IP family (each stack's lab gives the client host the same addresses). The guide's
    claim is about clients coming in: an outbound trial's far end sees the server host's
    address by design (the helper connects out for the container), so it does not count."""
    clients = {4: document.lab.get("client_addr"), 6: document.lab.get("client_addr6")}
    found = []
    inbound = [c for c in document.cells if c.placement == "remote" and not _is_outbound(c.workload)]
    for stack, method, family in sorted({(c.stack, c.method, sweeps.family_of(c.workload)) for c in inbound}):
        client = clients[family]
        peers: dict[str, int] = {}
        workloads = set()
        preserved = True
        for cell in inbound:
            if (cell.stack, cell.method, sweeps.family_of(cell.workload)) != (stack, method, family):
                continue
            for trial in cell.trials:
                peer = trial.observations.get("peer_address")
                if trial.status == "ok" and isinstance(peer, str) and client is not None:
                    peers[peer] = peers.get(peer, 0) + 1
                    workloads.add(cell.workload)
                    preserved = preserved and peer == client
        if not peers:
            continue
        seen = ", ".join(f"{p} ({n} trials)" for p, n in sorted(peers.items()))
        found.append(Observation(SOURCE_ADDRESS, method, preserved,
                                 f"client {client}; server saw {seen} ({', '.join(sorted(workloads))})", {}, stack,
                                 family))
    return found


def outbound_remote(document: RunDocument) -> list[Observation]:
    """Outbound to a remote host as the outbound workloads showed it, per IP family: the
    container connected out to the client host's server and moved data, uploading
    (``tcp-stream-outbound``) or downloading (its ``-reverse``). A failed trial alone proves
    nothing either way (the suite's own checks fail trials too), so without an ok trial
    nothing is observed."""
    groups: dict[tuple[str, str, int], list[CellResult]] = {}
    for cell in document.cells:
        if _is_outbound(cell.workload) and cell.trials:
            groups.setdefault((cell.stack, cell.method, sweeps.family_of(cell.workload)), []).append(cell)
    found = []
    for (stack, method, family), cells in sorted(groups.items()):
        ok = [t for c in cells for t in c.trials if t.status == "ok"]
        total = sum(len(c.trials) for c in cells)
        saw = sorted({t.observations["remote_saw"] for t in ok if isinstance(t.observations.get("remote_saw"), str)})
        workloads = sorted({c.workload for c in cells})
        found.append(Observation(
            OUTBOUND_REMOTE, method, True if ok else None,
            f"{len(ok)} of {total} trials of {', '.join(workloads)} connected out to the client host"
            + (f", which saw {', '.join(saw)}" if saw else ""),
            {"workloads": workloads, "trials_ok": len(ok), "trials": total}, stack, family))
    return found


def native_performance(document: RunDocument, tolerance: float = defaults.TOLERANCE) -> list[Observation]:
    """Native when every measured workload's ratio to host is within the tolerance by its
    95% interval (each workload must show it, so no adjustment is needed); not native when a
    workload's one-sided sign test over the rounds shows it beyond the tolerance after Holm's
    adjustment over every method and workload of the run (so one false "no" among them all
    stays below 5%); else inconclusive (None). Per IP family: IPv6 workloads decide it over
    IPv6. ``host`` itself is the baseline, not a measurement of the claim."""
    from .ranking import rank_tables

    tests: list[tuple[tuple[str, str, int], str, stats.Ratio, bool, float | None]] = []
    for table in rank_tables(document):
        family = sweeps.family_of(table.workload)
        host_cells = {c.stack: c for c in document.cells
                      if (c.workload, c.placement, c.method) == (table.workload, table.placement, BASELINE_METHOD)}
        for row in table.rows:
            if row.is_baseline or row.vs_baseline is None or row.stack not in host_cells:
                continue
            cell = document.cell(table.workload, table.placement, row.method, row.stack)
            ratios = stats.per_round_ratios(cell.samples_by_round(), host_cells[row.stack].samples_by_round())
            p_beyond = None
            if ratios is not None:
                p_beyond = (stats.sign_test(ratios, 1 - tolerance, "less") if table.higher_is_better
                            else stats.sign_test(ratios, 1 + tolerance, "greater"))
            tests.append(((row.stack, row.method, family), f"{table.workload}/{table.placement}", row.vs_baseline,
                          table.higher_is_better, p_beyond))
    adjusted = stats.holm([p for *_, p in tests])
    per_method: dict[tuple[str, str, int], list[tuple[str, stats.Ratio, bool, float | None]]] = {}
    for (key, where, ratio, higher, _), p_adj in zip(tests, adjusted):
        per_method.setdefault(key, []).append((where, ratio, higher, p_adj))
    found = []
    baselines = dict.fromkeys((c.stack, sweeps.family_of(c.workload)) for c in document.cells
                              if c.method == BASELINE_METHOD and c.samples())
    for stack, family in baselines:
        found.append(Observation(NATIVE_PERFORMANCE, BASELINE_METHOD, BASELINE,
                                 f"{BASELINE_METHOD} is the baseline the others are divided by, not a measurement "
                                 "of the claim",
                                 {"tolerance": tolerance}, stack, family))
    for (stack, method, family), ratios in sorted(per_method.items()):
        outcomes = []
        parts = []
        for where, ratio, higher, p_adj in ratios:
            low, high = ratio.ci_low, ratio.ci_high
            beyond = p_adj is not None and p_adj < 1 - stats.CONFIDENCE
            if beyond:
                outcomes.append(False)
            elif not ratio.nominal or low is None or high is None:
                outcomes.append(None)
            elif higher:
                outcomes.append(True if low >= 1 - tolerance else None)
            else:
                outcomes.append(True if high <= 1 + tolerance else None)
            interval = f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""
            adjusted_p = f", p beyond it {p_adj:.2g} (Holm)" if p_adj is not None else ""
            parts.append(f"{where} {ratio.value:.2f}{interval}{adjusted_p}")
        observed = False if False in outcomes else (True if outcomes and all(outcomes) else None)
        found.append(Observation(NATIVE_PERFORMANCE, method, observed,
                                 f"ratio to {BASELINE_METHOD} (tolerance {tolerance:.0%}): " + "; ".join(parts),
                                 {"tolerance": tolerance}, stack, family))
    return found


def _with_workloads(probed: Observation, shown: Observation) -> Observation:
    """The outbound probe's observation with what the outbound workloads showed: a connection
    that moved data is a "yes" whatever the probe's own connection did; both are the evidence."""
    observed = True if shown.observed is True else probed.observed
    return replace(probed, observed=observed, evidence=f"{probed.evidence}; the outbound workloads: {shown.evidence}",
                   extra={**probed.extra, "workloads": shown.extra})


def observations(document: RunDocument, tolerance: float = defaults.TOLERANCE) -> list[Observation]:
    """The probes' stored observations, with what the trials show: source address, outbound
    to a remote host (joined to the probe's where both exist), native performance."""
    found = [Observation.from_json(o) for o in document.checks.get("claims", [])]
    stored = {(o.claim, o.stack, o.family) for o in found}
    found += [o for o in source_address(document) if (o.claim, o.stack, o.family) not in stored]
    index = {(o.claim, o.method, o.stack, o.family): i for i, o in enumerate(found)}
    for shown in outbound_remote(document):
        at = index.get((shown.claim, shown.method, shown.stack, shown.family))
        if at is None:
            found.append(shown)
        elif not found[at].not_applicable:
            found[at] = _with_workloads(found[at], shown)
    found += native_performance(document, tolerance)
    return found


def agrees(claim: str, documented: Any, observed: Any) -> bool | None:
    if documented is None or observed is None or observed == BASELINE:
        return None
    if claim == "minimum_port":
        # observed: "below-floor allowed" or "below-floor refused"
        return (documented == 0) == (observed == "below-floor allowed")
    return bool(documented) == bool(observed)


#: The cells each claim derived from trials is read from (the other claims come from probes).
_FROM_CELLS: dict[str, Callable[[CellResult], bool]] = {
    SOURCE_ADDRESS: lambda c: c.placement == "remote" and not _is_outbound(c.workload),
    NATIVE_PERFORMANCE: lambda c: True,
    OUTBOUND_REMOTE: lambda c: _is_outbound(c.workload),
}


def _cells_not_applicable(document: RunDocument, claim: str, stack: str, method: str, family: int) -> str:
    """The reason where every cell a claim is read from was not applicable to the method in a
    stack and family (slirp4netns's port handler over IPv6): nothing can be derived there."""
    wanted = _FROM_CELLS.get(claim)
    cells = [c for c in document.cells if wanted is not None and wanted(c)
             and (c.stack, c.method) == (stack, method) and sweeps.family_of(c.workload) == family]
    if not cells or any(c.status != "not_applicable" for c in cells):
        return ""
    # The method's own reason where it has one for the family (as the probes give it), else the cells'.
    known = METHODS.get(method)
    why = known.why_not_family(family, outbound=all(_is_outbound(c.workload) for c in cells)) if known else None
    return why or cells[0].reason or "not applicable"


def matrix(document: RunDocument, tolerance: float = defaults.TOLERANCE) -> list[MatrixCell]:
    """Claims x methods, per stack (in the run's order of stacks) and per IP family (IPv4,
    then IPv6 where the run measured or probed it)."""
    found = observations(document, tolerance)
    seen = {(o.claim, o.method, o.stack, o.family): o for o in found}
    families = sorted({sweeps.family_of(c.workload) for c in document.cells} | {o.family for o in found})
    cells = []
    for stack in document.stack_names():
        # A method not applicable throughout (a Podman 5 method on an older machine) has no column.
        methods = list(dict.fromkeys(c.method for c in document.cells
                                     if c.stack == stack and c.status != "not_applicable"))
        for family in families:
            for claim in CLAIMS.values():
                for method in methods:
                    documented = claim.documented.get(method)
                    observation = seen.get((claim.id, method, stack, family))
                    if observation is not None:
                        observed, evidence, why = observation.observed, observation.evidence, observation.not_applicable
                    else:
                        why = _cells_not_applicable(document, claim.id, stack, method, family)
                        observed, evidence = None, (f"not applicable over IPv{family}: {why}" if why
                                                    else "not observed in this run")
                    cells.append(MatrixCell(claim.id, method, documented, observed,
                                            agrees(claim.id, documented, observed), evidence, stack, family, why))
    return cells


def record(document: RunDocument, tolerance: float = defaults.TOLERANCE) -> list[dict[str, Any]]:
    """The claims matrix as the results document keeps it, each claim per stack and family
    beside what the guide says; ``report`` computes the same again from the document."""
    return [cell.to_json() for cell in matrix(document, tolerance)]
