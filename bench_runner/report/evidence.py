"""The report's "Evidence" section: what a Podman or passt maintainer asks for in every
rootless-networking performance bug, as the run observed it. Podman's own account of its
set-up, the containers.conf keys it merged, the CPU governors, SMT and load around the
trials, the lab link's offloads and qdiscs, the MTU and queue length inside the server's
namespace, and each helper's command line read from the process. Only what the document
recorded is shown (an older one holds less, or none of it): nothing here is assumed."""

from __future__ import annotations

import shlex
from collections import Counter
from typing import Any

from ..run.matrix import stack_label
from ..results.observed import Links
from ..parsers.ethtool import MAIN_OFFLOADS
from ..results.document import RunDocument
from .blocks import Block, Code, Details, Heading, para, table

#: podman info's summary (parsers.podman_info), in the order a triager reads it.
PODMAN_INFO_ROWS = (("version", "version"), ("network_backend", "network backend"),
                    ("rootless_network_cmd", "default rootless network command"),
                    ("cgroup_manager", "cgroup manager"), ("cgroup_version", "cgroups"))


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    return str(value)


def _helper(found: Any) -> str:
    if not isinstance(found, dict):
        return "not reported"
    return f"{found.get('executable') or '?'} ({found.get('version') or 'no version'})"


def _podman(info: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = [Heading(3, "Podman, by its own account")]
    if info.get("error"):
        return [*blocks, para("podman info could not be had: ", info["error"], ".")]
    runtime = info.get("oci_runtime") or {}
    rows = [[label, _text(info.get(key))] for key, label in PODMAN_INFO_ROWS]
    rows.append(["OCI runtime", f"{runtime.get('name') or '?'} ({runtime.get('version') or 'no version'})"])
    rows += [["pasta", _helper(info.get("pasta"))], ["slirp4netns", _helper(info.get("slirp4netns"))]]
    rows += [["problem", p] for p in info.get("problems") or []]
    return [*blocks, para(Code("podman info --format json"), ", run as the benchmark user, summarised:"),
            table(["what", "value"], rows)]


def _containers_conf(conf: dict[str, Any]) -> list[Block]:
    blocks: list[Block] = [Heading(3, "containers.conf")]
    if conf.get("error"):
        return [*blocks, para("Not read: ", conf["error"], ".")]
    files = conf.get("files") or []
    blocks.append(para("Files the benchmark user's Podman reads, read as that user: ",
                       ", ".join(files) if files else "none exists", "."))
    settings = conf.get("settings") or {}
    if settings:
        blocks.append(table(["key", "value", "file"],
                            [[key, _text(s.get("value")), _text(s.get("file"))] for key, s in settings.items()]))
    else:
        blocks.append(para("None of them sets a network key: Podman's built-in defaults apply."))
    for problem in conf.get("problems") or []:
        blocks.append(para("Not used: ", problem, "."))
    if conf.get("order"):
        blocks.append(Details("The order the files were merged in", (para(conf["order"], "."),)))
    return blocks


def governors_text(governors: dict[str, str]) -> str:
    """``performance on cpu0-3`` style: each governor with the CPUs that use it."""
    by_governor: dict[str, list[str]] = {}
    for cpu, governor in governors.items():
        by_governor.setdefault(governor, []).append(cpu)
    parts = []
    for governor, cpus in by_governor.items():
        where = "every CPU" if len(by_governor) == 1 else ", ".join(cpus)
        label = "none (no cpufreq, as in most VMs)" if governor == "none" else governor
        parts.append(f"{label} on {where}")
    return "; ".join(parts) or "-"


def _load_text(sample: dict[str, Any]) -> str:
    if sample.get("error"):
        return f"not read ({sample['error']})"
    load = sample.get("loadavg") or []
    return f"{' '.join(f'{v:g}' for v in load)} (1, 5, 15 min) at {sample.get('at', '?')}"


def _cpu(document: RunDocument) -> list[Block]:
    state = document.stack.get("cpu_state") or {}
    loads = document.run.get("load") or []
    if not state and not loads:
        return []
    rows = []
    if state:
        rows.append(["CPU frequency governor", governors_text(state.get("governors") or {})])
        smt = state.get("smt") or {}
        rows.append(["SMT", f"active {smt.get('active', '?')}, control {smt.get('control', '?')}"])
    for number, record in enumerate(loads, 1):
        which = f" (session {number})" if len(loads) > 1 else ""
        rows.append([f"load average before the trials{which}", _load_text(record.get("before") or {})])
        rows.append([f"load average after the trials{which}", _load_text(record.get("after") or {})])
        steal = record.get("steal_percent")
        rows.append([f"CPU steal between them{which}", "not known" if steal is None else f"{steal:g}% of CPU time"])
    return [Heading(3, "CPU and load"), table(["what", "value"], rows)]


def _qdisc_text(end: dict[str, Any]) -> str:
    if end.get("qdisc_error"):
        return f"not read ({end['qdisc_error']})"
    return "; ".join(f"{q.get('kind')} {q.get('where')}" + (f" ({_text(q['options'])})" if q.get("options") else "")
                     for q in end.get("qdiscs") or []) or "none"


def _links(document: RunDocument) -> list[tuple[str, dict[str, Any]]]:
    """Each lab's link record, by the stack whose server host it connects."""
    found = []
    if (document.lab or {}).get("link"):
        found.append(("host", document.lab["link"]))
    for name, record in document.stacks.items():
        link = (record.get("lab") or {}).get("link")
        if link:
            found.append((name, link))
    return found


def _lab_link(document: RunDocument) -> list[Block]:
    links = _links(document)
    if not links:
        return []
    shorts = [short for short, _ in MAIN_OFFLOADS]
    rows = []
    for stack, link in links:
        for end in ("server", "client"):
            record = link.get(end) or {}
            offloads = record.get("offloads") or {}
            if record.get("ethtool_error"):
                states = [record["ethtool_error"], *([""] * (len(shorts) - 1))]
            else:
                states = [offloads.get(s, "-") for s in shorts]
            rows.append([f"{stack}: {end} host", _text(record.get("device")), *states, _qdisc_text(record)])
    blocks: list[Block] = [
        Heading(3, "Lab link"),
        para("The veth link between the server and client hosts, observed when the lab was built (",
             Code("ethtool -k"), " and ", Code("tc -j qdisc show"), " in each host's namespace):"),
        table(["end", "device", *shorts, "qdisc"], rows)]
    for stack, link in links:
        server, client = link.get("server") or {}, link.get("client") or {}
        names = list(dict.fromkeys([*(server.get("features") or {}), *(client.get("features") or {})]))
        if names:
            blocks.append(Details(f"Every offload feature of the {stack} lab link", (table(
                ["feature", f"server ({_text(server.get('device'))})", f"client ({_text(client.get('device'))})"],
                [[n, (server.get("features") or {}).get(n, "-"), (client.get("features") or {}).get(n, "-")]
                 for n in names]),)))
    return blocks


def _interfaces_text(links: Links) -> str:
    if links.error:
        return f"not observed ({links.error})"
    text = "; ".join(f"{i.name}: MTU {_text(i.mtu)}, txqueuelen {_text(i.txqueuelen)}" for i in links.interfaces)
    text = text or "only lo"
    return f"{text} ({links.namespace} namespace)" if links.namespace else text


def _container_links(document: RunDocument) -> list[Block]:
    """Per method, each set of interfaces seen, with how many trials in how many cells saw it
    (the MTU and queue length are the method's, not the workload's: one row, not one a cell)."""
    seen: dict[tuple[str, str], list[int]] = {}
    cells_of: dict[tuple[str, str], set[str]] = {}
    looked: dict[str, int] = Counter()
    for cell in document.cells:
        label = stack_label(cell.method, cell.stack)
        for trial in cell.trials:
            links = trial.observed.links
            if links is not None:
                key = (label, _interfaces_text(links))
                seen.setdefault(key, [0])[0] += 1
                cells_of.setdefault(key, set()).add(f"{cell.workload} / {cell.placement}")
                looked[label] += 1
    rows = [[label, text, f"{count[0]} of {looked[label]} trials, in {len(cells_of[(label, text)])} cell(s)"]
            for (label, text), count in seen.items()]
    if not rows:
        return []
    return [Heading(3, "Inside the server's namespace"),
            para("The interfaces besides lo in the network namespace the server (for outbound workloads the "
                 "container's client) ran in, read with ", Code("ip -j link"), " from inside it; the host method and "
                 "socket activation serve from the server host's own namespace:"),
            table(["method", "interfaces", "seen in"], rows)]


def _helper_lines(document: RunDocument) -> list[Block]:
    """Each method's helper once (the first trial that had one): between workloads only the
    ports and names differ."""
    rows = []
    shown: set[str] = set()
    for cell in document.cells:
        label = stack_label(cell.method, cell.stack)
        for trial in cell.trials if label not in shown else ():
            process = trial.observed.carrier
            if process is not None and process.is_helper:
                rows.append([label, process.kind, f"{cell.workload} / {cell.placement}", shlex.join(process.argv)])
                shown.add(label)
                break
    if not rows:
        return []
    return [Heading(3, "Helper command lines"),
            para("Each method's helper as the process table showed it (", Code("/proc/PID/cmdline"), " of the process "
                 "that owned the published port, or the outbound connection), from its first trial; other "
                 "workloads differ in ports and names only. Every trial's is in the results document."),
            Details("The helper command line of each method", (table(["method", "process", "from", "command line"],
                                                                    rows),))]


def evidence_blocks(document: RunDocument) -> list[Block]:
    """The Evidence section, or nothing for a document that recorded none of it."""
    body: list[Block] = []
    info = document.stack.get("podman_info")
    if info:
        body += _podman(info)
    conf = document.stack.get("containers_conf")
    if conf:
        body += _containers_conf(conf)
    body += _cpu(document) + _lab_link(document) + _container_links(document) + _helper_lines(document)
    if not body:
        return []
    return [Heading(2, "Evidence"),
            para("What a Podman or passt maintainer asks for first, as this run observed it on this machine "
                 "(booted release stacks report their own Podman above)."), *body]
