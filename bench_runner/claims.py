"""The seed document's claims, and the claims matrix: each claim beside what was observed.

Observations come from the results document only: probes (``claims_probe``) store theirs in
``checks["claims"]`` with their evidence; source address and native performance are derived
here from the trials themselves. So a stored run renders its matrix again unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import defaults, stats, sweeps
from .matrix import HOST_STACK
from .methods import BASELINE as BASELINE_METHOD
from .methods import METHODS
from .methods.base import (DEVICE_BINDING, FLOOR, HOST_LOOPBACK_DEFAULT, MINIMUM_PORT,  # noqa: F401 (FLOOR re-exported)
                           NATIVE_PERFORMANCE, OUTBOUND_REMOTE, SOURCE_ADDRESS)
from .results import RunDocument

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

    def to_json(self) -> dict[str, Any]:
        data = {"claim": self.claim, "method": self.method, "observed": self.observed,
                "evidence": self.evidence, "extra": self.extra}
        if self.stack != HOST_STACK:
            data["stack"] = self.stack
        return data


@dataclass(frozen=True)
class MatrixCell:
    claim: str
    method: str
    documented: Any  # None: the guide says nothing for this method
    observed: Any  # None: not observed in this run
    agrees: bool | None
    evidence: str
    stack: str = HOST_STACK


def source_address(document: RunDocument) -> list[Observation]:
    """Preserved when every remote trial's server saw the client host's own address in the
    trial's IP family (each stack's lab gives the client host the same addresses)."""
    clients = {4: document.lab.get("client_addr"), 6: document.lab.get("client_addr6")}
    found = []
    for stack, method in sorted({(c.stack, c.method) for c in document.cells}):
        peers: dict[str, int] = {}
        expected: set[str] = set()
        workloads = set()
        preserved = True
        for cell in document.cells:
            if cell.method != method or cell.stack != stack or cell.placement != "remote":
                continue
            client = clients[sweeps.split(cell.workload)[1].get("family", 4)]
            for trial in cell.trials:
                peer = trial.observations.get("peer_address")
                if trial.status == "ok" and isinstance(peer, str) and client is not None:
                    peers[peer] = peers.get(peer, 0) + 1
                    workloads.add(cell.workload)
                    expected.add(client)
                    preserved = preserved and peer == client
        if not peers:
            continue
        seen = ", ".join(f"{p} ({n} trials)" for p, n in sorted(peers.items()))
        found.append(Observation("source_address_preserved", method, preserved,
                                 f"client {' / '.join(sorted(expected))}; server saw {seen} "
                                 f"({', '.join(sorted(workloads))})", {}, stack))
    return found


def native_performance(document: RunDocument, tolerance: float = defaults.TOLERANCE) -> list[Observation]:
    """Native when every measured workload's ratio to host is within the tolerance by its
    95% interval (each workload must show it, so no adjustment is needed); not native when a
    workload's one-sided sign test over the rounds shows it beyond the tolerance after Holm's
    adjustment over every method and workload of the run (so one false "no" among them all
    stays below 5%); else inconclusive (None). ``host`` itself is the baseline, not a
    measurement of the claim."""
    from .analysis import rank_tables

    tests: list[tuple[tuple[str, str], str, stats.Ratio, bool, float | None]] = []
    for table in rank_tables(document):
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
            tests.append(((row.stack, row.method), f"{table.workload}/{table.placement}", row.vs_baseline,
                          table.higher_is_better, p_beyond))
    adjusted = stats.holm([p for *_, p in tests])
    per_method: dict[tuple[str, str], list[tuple[str, stats.Ratio, bool, float | None]]] = {}
    for (key, where, ratio, higher, _), p_adj in zip(tests, adjusted):
        per_method.setdefault(key, []).append((where, ratio, higher, p_adj))
    found = []
    for stack in dict.fromkeys(c.stack for c in document.cells if c.method == BASELINE_METHOD and c.samples()):
        found.append(Observation(NATIVE_PERFORMANCE, BASELINE_METHOD, BASELINE,
                                 f"{BASELINE_METHOD} is the baseline the others are divided by, not a measurement "
                                 "of the claim",
                                 {"tolerance": tolerance}, stack))
    for (stack, method), ratios in sorted(per_method.items()):
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
        found.append(Observation("native_performance", method, observed,
                                 f"ratio to {BASELINE_METHOD} (tolerance {tolerance:.0%}): " + "; ".join(parts),
                                 {"tolerance": tolerance}, stack))
    return found


def observations(document: RunDocument, tolerance: float = defaults.TOLERANCE) -> list[Observation]:
    stored = [Observation(o["claim"], o["method"], o.get("observed"), o.get("evidence", ""), o.get("extra", {}),
                          o.get("stack", HOST_STACK))
              for o in document.checks.get("claims", [])]
    derived = {(o.claim, o.stack) for o in stored}
    found = list(stored)
    found += [o for o in source_address(document) if (o.claim, o.stack) not in derived]
    found += native_performance(document, tolerance)
    return found


def agrees(claim: str, documented: Any, observed: Any) -> bool | None:
    if documented is None or observed is None or observed == BASELINE:
        return None
    if claim == "minimum_port":
        # observed: "below-floor allowed" or "below-floor refused"
        return (documented == 0) == (observed == "below-floor allowed")
    return bool(documented) == bool(observed)


def matrix(document: RunDocument, tolerance: float = defaults.TOLERANCE) -> list[MatrixCell]:
    """Claims x methods, per stack (in the run's order of stacks)."""
    seen = {(o.claim, o.method, o.stack): o for o in observations(document, tolerance)}
    cells = []
    for stack in document.stack_names():
        # A method not applicable throughout (a Podman 5 method on an older machine) has no column.
        methods = list(dict.fromkeys(c.method for c in document.cells
                                     if c.stack == stack and c.status != "not_applicable"))
        for claim in CLAIMS.values():
            for method in methods:
                documented = claim.documented.get(method)
                observation = seen.get((claim.id, method, stack))
                observed = observation.observed if observation else None
                cells.append(MatrixCell(claim.id, method, documented, observed,
                                        agrees(claim.id, documented, observed),
                                        observation.evidence if observation else "not observed in this run", stack))
    return cells
