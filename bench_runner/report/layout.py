"""What a report says and in which order: the stack and the command that reproduces the
run, the ranked tables with plots, the ordering verdicts, the claims matrix beside the
guide's claims, and the warnings in plain words. Figures are formatted by ``tables``, the
same way the terminal shows them."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..results import metrics
from ..run import runoptions
from ..analysis import diagnosis, tables
from ..analysis.ranking import RankTable, trial_carrier, trial_peer
from ..run.matrix import HOST_STACK, stack_label
from ..results.document import CellResult, RunDocument, provider_label
from ..results.stackrecord import archive_note
from ..analysis.verdicts import DOCUMENTED
from .blocks import Block, Bullets, Code, CodeBlock, Details, Heading, Image, Inline, Paragraph, Strong, para, table
from . import pathsection
from .content import Group, ReportContent



@dataclass(frozen=True)
class PlotRef:
    """A plot as the layout needs it; the renderer knows its file or its bytes by name."""

    workload: str
    name: str
    title: str


@dataclass(frozen=True)
class Detail:
    """How much of the run a report shows. A place with a size limit (a GitHub comment) gets
    less, and each part left out is pointed to in ``full_report``, the file that has it all."""

    raw_trials: bool = True  # every trial's figures; else, per cell, its trials and failures
    packages: bool = True  # the distribution's and each stack's package tables
    other_metrics: bool = True  # each table's secondary metrics (retransmits, p99, ...)
    claim_evidence: bool = True  # the evidence behind each observed claim
    capture_rows: bool = True  # a row per capture and perf's text; else a count per kind
    full_report: str = ""

    def left_out(self, captures: bool = True) -> list[str]:
        """What this level leaves out, in words, in the order it is given up (the captures'
        table only where the run has captures)."""
        parts = [("every trial's figures (each cell's trial counts and failures are here)", self.raw_trials),
                 ("the package tables", self.packages), ("the other metrics of each table", self.other_metrics),
                 ("the evidence behind each observed claim", self.claim_evidence),
                 ("the table of captures and the perf reports", self.capture_rows or not captures)]
        return [words for words, kept in parts if not kept]


#: Everything: the default report, and the full report beside a shortened one.
FULL = Detail()
#: What a GitHub comment drops, step by step, until the report fits (see report.fit).
SHORTER = (
    Detail(raw_trials=False, packages=False, capture_rows=False),
    Detail(raw_trials=False, packages=False, capture_rows=False, other_metrics=False),
    Detail(raw_trials=False, packages=False, capture_rows=False, other_metrics=False, claim_evidence=False),
)


@dataclass(frozen=True)
class Attached:
    """The archive a report travels with, as the report describes it to its reader."""

    archive: str  # its file name
    full_report: str | None  # the full Markdown inside it, when the report is a shortened one
    results: str
    plots: tuple[str, ...]
    captures: tuple[str, ...]
    #: Captures the document lists that are not in the archive: (path, why).
    missing: tuple[tuple[str, str], ...] = ()


GUIDE = "podman-networking-docs"
GUIDE_URL = "https://github.com/eriksjolund/podman-networking-docs"
#: Stack entries in the order a bug triager looks for them; any other key follows.
STACK_ORDER = ("kernel", "distribution", "cpu_model", "cpu_count", "virtualization", "podman", "passt",
               "slirp4netns", "libslirp", "rootlesskit", "iperf3", "sockperf", "runc", "conmon", "systemd",
               "python")
STACK_LABELS = {"cpu_model": "CPUs", "cpu_count": "CPUs", "virtualization": "virtualisation",
                "passt": "passt (pasta)"}
#: Options explained for a reader, with how to show their stored value.
LEGEND = ("rank: 1 is best; a range such as 2-3 is every place the data allow after comparing the method with "
          "every other one (the interval of their per-round ratios includes 1 for the ones it is not separated "
          "from). median: over whole trials, each a fresh "
          "server and client, warm-up excluded, with an order-statistic interval that covers it at least 95% of the "
          "time (below 6 trials [min, max], with its lower true level). vs host: the median of per-round ratios to "
          "the host baseline measured in the same run, with its interval. carried by: the process observed "
          "owning the published port. server saw: the address the server saw the client connect from.")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return "-" if value is None else str(value)


def about(content: ReportContent) -> tuple[Inline, ...]:
    """The report's first line: what it is and the command that measures it again."""
    return (Strong(content.about()), ": reproduce with ", Code(content.reproduction.shell))


def _title(content: ReportContent) -> str:
    stack = content.document.stack
    workloads = ", ".join(content.workloads()) or "no workload"
    return (f"Rootless Podman networking: {workloads} on {stack.get('distribution', 'an unknown system')}, "
            f"kernel {stack.get('kernel', '?')}")


def _trial_counts(content: ReportContent) -> tuple[int, int]:
    trials = [t for c in content.document.cells for t in c.trials]
    return len(trials), sum(1 for t in trials if t.status != "ok")


def _overview(content: ReportContent) -> list[Block]:
    document = content.document
    run = document.run
    total, failed = _trial_counts(content)
    blocks: list[Block] = [para(
        "Run ", Code(str(run.get("id") or "?")), f", started {run.get('started_at') or '?'}, finished "
        f"{run.get('finished_at') or 'never'} ({run.get('status', '?')}); provider ",
        Strong(provider_label(document.provider)), f": {document.provider.get('reason') or 'no reason recorded'}. "
        f"{total} trials, {failed} failed.", _duration(run))]
    for name, record in document.stacks.items():
        versions = record.get("versions", {})
        blocks.append(para("Release stack ", Strong(name), f" (Debian {record.get('suite', '?')}: Podman "
                           f"{versions.get('podman', '?')}, passt {versions.get('passt', '?')}, slirp4netns "
                           f"{versions.get('slirp4netns', '?')}, rootlesskit {versions.get('rootlesskit', '?')}) ran the "
                           f"server side of the cells marked ", Code(f"@{name}"), ", through its own Podman.",
                           *((f" Built from: {archive_note(record)}.",) if archive_note(record) != "-" else ())))
    if run.get("status") != "complete":
        blocks.append(para(Strong("This run did not complete"), " (it was interrupted, crashed, or is still "
                           "running): the figures cover only the trials that finished."))
    items: list[tuple[Inline, ...]] = []
    for group in content.groups:
        items.append(_headline(group.table))
    for expectation, verdicts in content.verdicts.items():
        counts: dict[str, int] = {}
        for verdict in verdicts:
            for pair in verdict.pairs:
                counts[pair.verdict] = counts.get(pair.verdict, 0) + 1
        tally = ", ".join(f"{word} {n}" for word, n in sorted(counts.items())) or "nothing could be judged"
        items.append(("Ordering ", Code(expectation.replace(">", " > ")), f": {tally} (pairs of adjacent methods)."))
    disagreements = sum(1 for c in content.claims if c.agrees is False)
    items.append((f"Claims of {GUIDE}: {disagreements} disagreement(s) with what this run observed.",))
    items.append((f"Stability warnings: {len(content.warnings)} cell(s).",))
    blocks.append(Bullets(tuple(items)))
    return blocks


def _duration(run: dict[str, Any]) -> str:
    """ " It took 21m40s (estimated 20m10s, at most 30m05s)." from the phases it recorded."""
    phases = run.get("phases_s") or {}
    if not phases:
        return ""
    from ..run.progress import clock_text

    text = f" It took {clock_text(sum(phases.values()))} ("
    text += ", ".join(f"{name} {clock_text(seconds)}" for name, seconds in phases.items())
    estimate = run.get("estimate_s")
    if estimate:
        text += f"; estimated {clock_text(estimate[0])}, at most {clock_text(estimate[1])}"
    budget = tables.budget_line(run)
    return text + ")." + (f" The {budget[0].lower()}{budget[1:]}." if budget else "")


def _headline(t: RankTable) -> tuple[Inline, ...]:
    """ "host 23.3 > pasta 8.20 (0.352x host) ~ ...": best first, '>' where the data separate
    two methods, '≈' where they do not."""
    text = ""
    for index, row in enumerate(t.rows):
        if index:
            text += " ≈ " if t.rows[index - 1].ties_next else " > "
        vs = "" if row.is_baseline or row.vs_baseline is None else \
            f" ({tables.fmt(row.vs_baseline.value)}× host)"
        text += f"{row.label} {tables.fmt(row.summary.median)}{vs}"
    direction = "higher" if t.higher_is_better else "lower"
    return (Strong(f"{t.workload} / {t.placement}"), f" ({t.metric} in {t.unit}, {direction} is better; best first, "
            "≈ where the data do not separate them): ", text or "nothing ranked")


def _stack(content: ReportContent, detail: Detail) -> list[Block]:
    document = content.document
    stack = dict(document.stack)
    rows: list[list[str]] = []
    keys = [k for k in STACK_ORDER if k in stack] + sorted(
        k for k in stack if k not in STACK_ORDER and not isinstance(stack[k], dict))
    for key in keys:
        value = stack[key]
        if key == "kernel" and stack.get("kernel_build"):
            value = f"{value} ({stack['kernel_build']})"
        if key == "cpu_model" and stack.get("cpu_count"):
            value = f"{stack['cpu_count']} \u00d7 {value}"
        if key in ("kernel_build", "cpu_count") and (key != "cpu_count" or stack.get("cpu_model")):
            continue
        rows.append([STACK_LABELS.get(key, key), _value(value)])
    for key, value in (stack.get("stated") or {}).items():
        rows.append([f"{key} (stated with --stack)", _value(value)])
    lab = document.lab
    if lab.get("kind") == "two computers":
        rows += _two_computers(lab)
    elif lab:
        rows.append(["lab link MTU", _value(lab.get("mtu"))])
        rows.append(["lab subnet", f"{_value(lab.get('subnet'))}: server host {_value(lab.get('server_addr'))}, "
                                   f"client host {_value(lab.get('client_addr'))}"])
        if "server_ip_unprivileged_port_start" in lab:
            rows.append(["ip_unprivileged_port_start in the server host",
                         _value(lab.get("server_ip_unprivileged_port_start"))])
    rows.append(["provider", f"{provider_label(document.provider)}: {document.provider.get('reason') or '-'}"])
    for method, own in (document.provider.get("by_method") or {}).items():
        rows.append([f"provider of {method}", f"{own.get('id', '?')}: {own.get('reason') or '-'}"])
    rows.append(["podman-netbench", _value(document.tool.get("version"))])
    blocks: list[Block] = [Heading(2, "Stack and host"), table(["what", "value"], rows)]
    blocks += _booted_stacks(document, detail)
    options = dict(document.run.get("options") or {})
    option_rows = runoptions.table_rows(options)
    option_rows.append(["seed of the trial order", _value(document.run.get("seed"))])
    blocks.append(Details("Options used", (table(["option", "value"], option_rows),)))
    sysctls = stack.get("sysctls") or {}
    if sysctls:
        blocks.append(Details("Host sysctls", (table(["sysctl", "value"], [[k, str(v)] for k, v in sysctls.items()]),)))
    blocks += _packages("Distribution packages", stack.get("packages") or {}, detail)
    reproduction = content.reproduction
    blocks += [Heading(3, "Reproduce"),
               para("Measure again with the same options, seed and provider (from a clone of the suite, as root):"),
               CodeBlock(reproduction.shell, "sh")]
    if reproduction.stacks:
        builds = "; ".join(f"python -m bench_runner stack build {name}" for name in reproduction.stacks)
        blocks.append(para("Build the release stacks first (", Code(builds), "); a stack built later may hold "
                           "newer packages: compare its versions with the table above."))
    if reproduction.typed:
        blocks.append(para("The run was started as ", Code(reproduction.typed_shell), "."))
    if reproduction.not_carried:
        blocks.append(para("Options the command above does not carry: ", ", ".join(reproduction.not_carried), "."))
    blocks.append(para("Render this report again without measuring: ",
                       Code(f"python -m bench_runner report {content.source}"), "."))
    return blocks


def _two_computers(lab: dict[str, Any]) -> list[list[str]]:
    """A --client-host run: both machines, the interface each reaches the other through, the
    path's MTU and its base round-trip time."""
    rows = [["two computers (--client-host)", f"the client host {_value(lab.get('client_host'))} connects to this "
                                              f"machine at {_value(lab.get('server_addr') or lab.get('server_addr6'))}"]]
    for end, label in (("server", "server host (this machine)"), ("client", "client host")):
        machine = (lab.get("machines") or {}).get(end) or {}
        interface = machine.get("interface") or {}
        speed = interface.get("speed_mbps")
        nic = ", ".join(part for part in (
            interface.get("device"), interface.get("driver") or interface.get("kind"),
            f"{speed} Mbit/s" if speed else None, f"MTU {interface['mtu']}" if interface.get("mtu") else None,
            " ".join(f"{k} {v.split()[0]}" for k, v in (interface.get("offloads") or {}).items()
                     if k in ("tso", "gso", "gro"))) if part)
        rows.append([label, f"{_value(machine.get('hostname'))}, kernel {_value(machine.get('kernel'))}; {nic or '-'}"])
    rows.append(["path MTU", _value((lab.get("path_mtu") or {}).get("mtu"))])
    rtt = lab.get("base_rtt") or {}
    rows.append(["base RTT", f"p50 {rtt['p50']:.1f} us, p99 {rtt['p99']:.1f} us ({rtt.get('how', '')})"
                 if "p50" in rtt else f"not measured: {_value(rtt.get('error'))}"])
    return rows


def _booted_stacks(document: RunDocument, detail: Detail) -> list[Block]:
    """Each booted release stack: what it was built from, its versions, how its Podman is
    set up by its own account, and how it booted."""
    if not document.stacks:
        return []
    names = list(document.stacks)
    keys = list(dict.fromkeys(k for record in document.stacks.values() for k in record.get("versions", {})))
    rows = []
    for key in keys:
        rows.append([key, *(_value(document.stacks[n].get("versions", {}).get(key)) for n in names)])
    rows.append(["suite", *(_value(document.stacks[n].get("suite")) for n in names)])
    rows.append(["built", *(_value(document.stacks[n].get("built_at")) for n in names)])
    rows.append(["archive", *(archive_note(document.stacks[n]) for n in names)])
    info_keys = (("rootless_network_cmd", "default rootless network"), ("network_backend", "network backend"),
                 ("cgroup_manager", "cgroup manager"), ("cgroup_version", "cgroups"))
    for key, label in info_keys:
        rows.append([f"{label} (podman info)", *(_value(document.stacks[n].get("podman_info", {}).get(key))
                                                 for n in names)])
    rows.append(["OCI runtime (podman info)", *(_value((document.stacks[n].get("podman_info", {}).get("oci_runtime")
                                                       or {}).get("version")) for n in names)])
    rows.append(["boot", *(f"{_value(document.stacks[n].get('boot', {}).get('state'))} in "
                           f"{_value(document.stacks[n].get('boot', {}).get('seconds'))} s" for n in names)])
    rows.append(["provider", *(f"{document.stacks[n].get('provider', {}).get('id', '?')}" for n in names)])
    blocks: list[Block] = [
        Heading(3, "Booted release stacks"),
        para("Each stack below ran the server side of its cells (", Code("METHOD@STACK"), " in the tables): a "
             "Debian release booted with systemd as PID 1 in a lab of its own, on this machine's kernel, measured "
             "through its own Podman; the clients are this machine's, the same for every stack."),
        table(["what", *names], rows)]
    for name in names:
        adjustments = document.stacks[name].get("boot", {}).get("adjustments") or []
        failed = document.stacks[name].get("boot", {}).get("failed_units") or []
        notes = [f"set at boot: {a}" for a in adjustments] + [f"failed unit at boot: {u}" for u in failed]
        if notes:
            blocks.append(para(f"Stack {name}: " + "; ".join(notes) + "."))
        blocks += _packages(f"Packages of stack {name}", document.stacks[name].get("packages") or {}, detail)
    return blocks


def _packages(title: str, packages: dict[str, Any], detail: Detail) -> list[Block]:
    if not packages:
        return []
    if not detail.packages:
        return [para(f"{title}: {len(packages)}, listed in ", Code(detail.full_report), ".")]
    return [Details(title, (table(["package", "version"], [[k, str(v)] for k, v in packages.items()]),))]


def _raw(value: float | None) -> str:
    """Raw figures keep their digits (six significant), and counts stay whole."""
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _raw_rows(cells: tuple[CellResult, ...]) -> tuple[list[str], list[list[str]]]:
    metrics: list[str] = []
    for cell in cells:
        for metric in [cell.metric, *(m.id for m in cell.extra_metrics)]:
            if metric not in metrics:
                metrics.append(metric)
    headers = ["method", "trial", "round", "status", *metrics, "carried by", "server saw", "seconds"]
    rows = []
    for cell in cells:
        for trial in cell.trials:
            status = "warm-up" if trial.warmup and trial.status == "ok" else trial.status
            if trial.status != "ok":
                status += f": {trial.error or 'no reason recorded'}"
            rows.append([cell.label, str(trial.index), str(trial.round), status,
                         *(_raw(trial.samples.get(m)) for m in metrics),
                         _value(trial_carrier(trial)), _value(trial_peer(trial)), f"{trial.seconds:g}"])
    return headers, rows


def _loss(value: Any) -> str:
    return f"{value:.3g}%" if isinstance(value, (int, float)) else "?"


def _search_rows(cells: tuple[CellResult, ...]) -> list[list[str]]:
    """Per ``--udp-rate max`` trial, its probes in order (offered Mbit/s, loss; ✓ carried),
    the rate found and how the search ended."""
    rows = []
    for cell in cells:
        for trial in cell.trials:
            search = trial.observations.get("udp_max")
            if not isinstance(search, dict) or not isinstance(search.get("probes"), list):
                continue
            probes = ", ".join(f"{p.get('offered_mbps')} {'✓' if p.get('carried') else '✗'}{_loss(p.get('lost_percent'))}"
                               + (f" (sent {p['sent_mbps']:.4g})" if p.get("sent_short")
                                  and isinstance(p.get("sent_mbps"), (int, float)) else "")
                               for p in search["probes"] if isinstance(p, dict))
            found = search.get("max_offered_mbps")
            rows.append([cell.label, str(trial.index), probes or "-", "-" if found is None else str(found),
                         str(search.get("ended", "-"))])
    return rows


def _trial_counts_rows(cells: tuple[CellResult, ...]) -> list[list[str]]:
    """Per cell with trials: how many, how many were warm-up, how many failed and why."""
    rows = []
    for cell in cells:
        if not cell.trials:
            continue
        failed = [t for t in cell.trials if t.status != "ok"]
        reasons = Counter(_short(t.error or "no reason recorded") for t in failed)
        why = "; ".join(f"{n}× {reason}" if n > 1 else reason for reason, n in reasons.most_common(3))
        if len(reasons) > 3:
            why += f"; {len(reasons) - 3} other reason(s)"
        rows.append([cell.label, str(len(cell.trials)), str(sum(1 for t in cell.trials if t.warmup)),
                     str(len(failed)), why or "-"])
    return rows


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _group(group: Group, detail: Detail) -> list[Block]:
    t: RankTable = group.table
    blocks: list[Block] = [Heading(4, tables.title(t))]
    if t.rows:
        blocks.append(table(tables.RANK_HEADERS, tables.rank_rows(t)))
    others = tables.provider_notes(t)
    if others:
        blocks.append(para("Marked in carried by, another provider than the rest:"))
        blocks.append(Bullets(tuple((line,) for line in others)))
    if t.unranked:
        blocks.append(para("Not ranked:"))
        blocks.append(Bullets(tuple((Code(m), f": {why}") for m, why in t.unranked)))
    limited = tables.limited_notes(t)
    if limited:
        blocks.append(para("Within 10% of the path's own limit (the figure is the path's, not the method's):"))
        blocks.append(Bullets(tuple((note,) for note in limited)))
    headers, rows = tables.extra_rows(t, group.units())
    if rows and detail.other_metrics:
        blocks.append(Details(f"Other metrics of {t.workload} / {t.placement} (median [95% interval])",
                              (table(headers, rows),)))
    elif rows:
        blocks.append(para(f"Other metrics of {t.workload} / {t.placement} (", ", ".join(headers[1:]), "): in ",
                           Code(detail.full_report), "."))
    if detail.raw_trials:
        headers, rows = _raw_rows(group.cells)
        if rows:
            blocks.append(Details(f"Raw figures of {t.workload} / {t.placement}: every trial, in run order per "
                                  "method", (table(headers, rows),)))
        rows = _search_rows(group.cells)
        if rows:
            blocks.append(Details(f"Probes of the --udp-rate max searches of {t.workload} / {t.placement}: offered "
                                  "Mbit/s, ✓ at most 1% lost (carried) or ✗, and the loss (and what was sent, "
                                  "where the client fell short of the offered rate)",
                                  (table(["method", "trial", "probes, in order", "max (Mbit/s)", "ended"], rows),)))
    else:
        rows = _trial_counts_rows(group.cells)
        if rows:
            blocks.append(Details(f"Trials of {t.workload} / {t.placement} (every trial's figures: "
                                  f"{detail.full_report})",
                                  (table(["method", "trials", "warm-up", "failed", "why they failed"], rows),)))
    return blocks


def _metric_legend(content: ReportContent) -> list[Block]:
    """Every metric the run records, in the words of the metrics registry."""
    found: dict[str, tuple[str, bool]] = {}
    for cell in content.document.cells:
        found.setdefault(cell.metric, (cell.unit, cell.higher_is_better))
        for info in cell.extra_metrics:
            found.setdefault(info.id, (info.unit, info.higher_is_better))
    if not found:
        return []
    order = list(metrics.METRICS)
    rows = [[metric, unit, "higher" if higher else "lower", metrics.meaning(metric)]
            for metric, (unit, higher) in sorted(found.items(),
                                                 key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))]
    return [para("Metrics of this run (", Code("python -m bench_runner list --metrics"), " lists every one):"),
            table(["metric", "unit", "better", "what it means"], rows)]


def _results(content: ReportContent, plots: list[PlotRef], detail: Detail) -> list[Block]:
    blocks: list[Block] = [Heading(2, "Results"), para(LEGEND), *_metric_legend(content)]
    for workload in content.workloads():
        blocks.append(Heading(3, workload))
        blocks += [Image(p.name, p.title) for p in plots if p.workload == workload]
        for group in content.groups_of(workload):
            blocks += _group(group, detail)
    return blocks


def _directions(content: ReportContent) -> list[Block]:
    """Both halves of a throughput workload side by side, where the run measured both."""
    if not content.directions:
        return []
    blocks: list[Block] = [
        Heading(2, "Both directions"),
        para("A method may carry one direction well and the other badly: each throughput workload measured both "
             "ways (the client sending into the container, and the container sending to the client) is shown "
             "here with both halves beside each other."),
    ]
    for found in content.directions:
        headers, rows = tables.direction_rows(found)
        blocks += [Heading(3, tables.direction_title(found)), table(headers, rows)]
    blocks.append(para(tables.DIRECTION_NOTE + "."))
    return blocks


#: Trials of one cell written out in full in the report (the rest are counted).
FINDINGS_SHOWN = 3


def _findings(content: ReportContent) -> list[Block]:
    """Slow throughput trials: where their data stopped, with each hop's numbers."""
    if not content.findings:
        return []
    blocks: list[Block] = [
        Heading(2, "Slow trials, diagnosed"),
        para("Trials that moved less than a tenth of ", Code("host"), "'s median in the same workload and placement. "
             "Around each client run the suite read the container's interface counters before and after, and "
             "halfway through, the kernel's TCP information (", Code("ss -tin"), ") of the sending socket, the "
             "helper's socket on the server host and the receiving socket. The first hop in the data's direction "
             "that lost or held back data is named."),
    ]
    for summary in diagnosis.by_cell(content.document, list(content.findings)):
        blocks.append(Heading(3, summary.cell))
        blocks.append(para(summary.line() + "."))
        shown = [f for f in content.findings if f.cell == summary.cell][:FINDINGS_SHOWN]
        blocks.append(CodeBlock("\n".join(f.text() for f in shown), "text"))
    return blocks


def _verdicts(content: ReportContent) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, "Ordering verdicts"),
        para("For each pair of adjacent methods in an expected ordering (best first), per workload, placement and "
             "stack, the two are compared round by round (the paired t test on the per-round log ratios, at the "
             "share of the 5% the pair's own last look may spend). All pairs of the run are one family: ", Strong("holds"), " or ",
             Strong("violated"), " (the first method better or worse) only where the test stays below 5% after "
             "Holm's adjustment over the family, so all the verdicts are wrong together at most 5% of the time; ",
             Strong("inconclusive"), " otherwise (more rounds may settle it). Where a pair's own interval alone "
             "would have decided otherwise, the table says so ('unadjusted')."),
    ]
    for expectation, verdicts in content.verdicts.items():
        source = f" (stated by {GUIDE})" if expectation == DOCUMENTED else ""
        blocks.append(Heading(3, expectation.replace(">", " > ") + source))
        if verdicts:
            blocks.append(table(tables.VERDICT_HEADERS, tables.verdict_rows(verdicts)))
            blocks.append(para(tables.VERDICT_NOTE + "."))
        else:
            blocks.append(para("No pair could be judged: the methods it names were not measured."))
    return blocks


def _claims(content: ReportContent, detail: Detail) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, f"Claims of {GUIDE}"),
        para(f"Each cell: what the guide ({GUIDE_URL}) documents / what this run observed. Native performance "
             f"means within {content.tolerance * 100:g}% of host by the interval of the ratio, on every workload "
             "measured. ", tables.claims_legend(list(content.claims)) + "."),
    ]
    by_stack = tables.claims_by_stack(list(content.claims))
    for stack, cells in by_stack.items():
        if len(by_stack) > 1 or stack != HOST_STACK:
            blocks.append(Heading(3, f"Under stack {stack}"))
        headers, rows = tables.claims_rows(cells)
        blocks.append(table(headers, rows))
    not_applicable = tables.not_applicable_lines(list(content.claims))
    if not_applicable:
        blocks.append(para(Strong("Not applicable:")))
        blocks.append(Bullets(tuple((line,) for line in not_applicable)))
    disagreements = tables.disagreement_lines(list(content.claims))
    if disagreements:
        blocks.append(para(Strong("Where this run disagrees with the guide:")))
        blocks.append(Bullets(tuple((line,) for line in disagreements)))
    observed = [c for c in content.claims if c.observed is not None]
    families = {c.family for c in content.claims}
    if observed and not detail.claim_evidence:
        blocks.append(para(f"Evidence for every observation ({len(observed)}): in ", Code(detail.full_report), "."))
    elif observed:
        blocks.append(Details("Evidence for every observation", (table(
            ["claim", "method", "documented", "observed", "evidence"],
            [[tables.claim_title(c.claim, c.family, families), stack_label(c.method, c.stack),
              tables.claim_value(c.documented),
              tables.claim_value(c.observed), c.evidence] for c in observed]),)))
    return blocks


def _warnings(content: ReportContent) -> list[Block]:
    from ..analysis import sequential, stability

    blocks: list[Block] = [Heading(2, "Warnings")]
    undecided = sequential.undecided_by_family(content.document)
    if undecided:
        blocks.append(para("Pairs the run stopped without deciding, neither separated nor within the margin (",
                           stability.REMEDIES["undecided"].rstrip("."), "):"))
        blocks.append(Bullets(tuple((f"{w} / {p}: {', '.join(pairs)}",) for (w, p), pairs in undecided.items())))
    if content.warnings:
        blocks.append(para("Cells whose results are less trustworthy than they look, and what to do about it:"))
        blocks.append(Bullets(tuple((line,) for line in tables.warning_lines(list(content.warnings)))))
    else:
        blocks.append(para("No stability warnings: every measured cell met the run's precision target, "
                           "without failures or outliers."))
    if content.document.warnings:
        blocks.append(para("Recorded during the run:"))
        blocks.append(Bullets(tuple((w,) for w in content.document.warnings)))
    return blocks


def _size(count: int | None) -> str:
    if count is None:
        return "-"
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"


def _capture_trial(trial: dict[str, Any]) -> str:
    """"ok: throughput 4.86" (the capture's own cost shows) or "failed: why"."""
    if trial.get("error"):
        return f"{trial.get('status', 'failed')}: {trial['error']}"
    figures = ", ".join(f"{k} {_raw(round(v, 3) if isinstance(v, float) else v)}"
                        for k, v in list((trial.get("samples") or {}).items())[:1])
    return trial.get("status", "-") + (f" ({figures})" if figures else "")


def _captures_counted(captures: list[dict[str, Any]]) -> list[Block]:
    """The captures in a few lines: how many of each kind were kept, and the ones that failed."""
    lines: list[tuple[Inline, ...]] = []
    for kind in dict.fromkeys(c["kind"] for c in captures):
        of_kind = [c for c in captures if c["kind"] == kind]
        kept = [c for c in of_kind if c.get("path")]
        lines.append((f"{kind}: {len(kept)} of {len(of_kind)} kept, {_size(sum(c.get('bytes') or 0 for c in kept))} "
                      f"in all",))
        lines += [(f"not kept: {stack_label(c['method'], c['stack'])}, {c['workload']} / {c['placement']}: "
                   f"{c.get('error') or (c.get('trial') or {}).get('error') or 'no reason recorded'}",)
                  for c in of_kind if not c.get("path")]
    return [Heading(2, "Captures"),
            para("One extra 1 s trial per cell and kind, after the measured ones and not in the statistics; the files "
                 "are beside the results document, and the archive holds those that fit (see the top):"),
            Bullets(tuple(lines))]


def _captures(content: ReportContent, detail: Detail = FULL) -> list[Block]:
    """The packet captures and CPU profiles taken after the trials (run --capture), with
    where each file is and what it holds; perf's top symbols inline."""
    captures = content.document.captures
    if not captures:
        return []
    if not detail.capture_rows:
        return _captures_counted(captures)
    rows = []
    for c in captures:
        trial = c.get("trial") or {}
        held = (f"{c['packets']} packets over {c.get('span_s', 0):g} s" if c.get("packets") is not None
                else (f"profile of {c['profiled'].get('comm')} (pid {c['profiled'].get('pid')})" if c.get("profiled")
                      else "-"))
        if c.get("truncated"):
            held += f", cut from {_size(c.get('original_bytes'))}"
        rows.append([c["kind"], stack_label(c["method"], c["stack"]), f"{c['workload']} / {c['placement']}",
                     c["tool"], c.get("path") or f"none: {c.get('error') or 'not kept'}", _size(c.get("bytes")), held,
                     _capture_trial(trial)])
    blocks: list[Block] = [
        Heading(2, "Captures"),
        para("One extra 1 s trial per cell and kind, after the measured ones and not in the statistics (its figure "
             "shows what capturing cost). Files are relative to the results document; pcap files open in Wireshark "
             "or ", Code("tcpdump -r"), ". pasta splices TCP connections from the host's own loopback into the "
             "container, so its capture of a loopback cell shows no data frames."),
        table(["kind", "method", "workload / placement", "taken by", "file", "size", "holds", "capture trial"], rows)]
    for c in captures:
        if c.get("report_text"):
            blocks.append(Details(f"perf report of {stack_label(c['method'], c['stack'])}, {c['workload']} / "
                                  f"{c['placement']}", (CodeBlock(c["report_text"], "text"),)))
    return blocks


def _evidence(content: ReportContent) -> list[Block]:
    """What a maintainer asks for first (podman info, containers.conf, CPU and load, the lab
    link, MTUs, helper command lines): built in report/evidence.py."""
    from .evidence import evidence_blocks

    return evidence_blocks(content.document)


def _attached(attached: Attached, detail: Detail) -> list[Block]:
    """What the archive holds, and what this report leaves out that the archive has."""
    held: list[Inline] = ["Attached as ", Code(attached.archive), ": "]
    if attached.full_report:
        held += ["the full report ", Code(attached.full_report), ", "]
    held += ["the results document ", Code(attached.results)]
    if attached.captures:
        held += [f", {len(attached.captures)} capture file(s)"]
    if attached.plots:
        held += [f" and {len(attached.plots)} plot(s) as PNG files: drag them into the comment to show them inline"]
    blocks: list[Block] = [para(*held, ".")]
    left_out = detail.left_out(captures=bool(attached.captures or attached.missing))
    if left_out and attached.full_report:
        blocks.append(para("To fit GitHub's comment limit, this report leaves out " + "; ".join(left_out) + ". ",
                           Code(attached.full_report), " has everything."))
    if attached.missing:
        blocks.append(para("Listed by the document but not in the archive:"))
        blocks.append(Bullets(_missing_lines(attached.missing)))
    return blocks


def _missing_lines(missing: tuple[tuple[str, str], ...], each: int = 3) -> tuple[tuple[Inline, ...], ...]:
    """One line per file, unless many share a reason (the captures past the attachment
    budget): then one line that counts them, so the list does not eat the comment."""
    by_reason: dict[str, list[str]] = {}
    for path, why in missing:
        by_reason.setdefault(why, []).append(path)
    lines: list[tuple[Inline, ...]] = []
    for why, paths in by_reason.items():
        if len(paths) <= each:
            lines += [(Code(path), f": {why}") for path in paths]
        else:
            lines.append((f"{len(paths)} files, ", Code(paths[0]), " to ", Code(paths[-1]), f": {why}"))
    return tuple(lines)


def layout(content: ReportContent, plots: list[PlotRef], detail: Detail = FULL,
           attached: Attached | None = None) -> list[Block]:
    """The whole report; ``plots`` in display order (each shown under its workload)."""
    if not detail.full_report and detail != FULL:
        raise ValueError("a shortened report must name the full report")
    return [Paragraph(about(content)), Heading(1, _title(content)),
            *(_attached(attached, detail) if attached else []), *_overview(content), *_stack(content, detail),
            *pathsection.blocks(content.document), *_evidence(content), *_results(content, plots, detail),
            *_directions(content), *_findings(content), *_verdicts(content),
            *_claims(content, detail),
            *_warnings(content), *_captures(content, detail),
            para(f"Generated by podman-netbench {content.document.tool.get('version', '?')} from ",
                 Code(content.source.name), " alone.")]
