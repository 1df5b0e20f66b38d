"""The two computers of a ``--client-host`` run, as observed: each one's host name, kernel
and Python, the interface the other is reached through (driver, kind, speed, MTU, offloads,
queueing disciplines), and the MTU of the path between them.

One small standalone script gathers the raw facts, run with the venv's Python here and the
client host's own ``python3`` there (where it also checks the tools and unpacks the workers:
one SSH round trip); the parsing is pure and the same for both ends. A fact that cannot be
read is recorded with why, never guessed.
"""

from __future__ import annotations

from typing import Any

from ..parsers import ParseError, ethtool, iproute

#: Oldest Python the workers run under (``from __future__ import annotations``).
MIN_PYTHON = (3, 7)

#: Run as ``python3 -I -c SCRIPT facts|check|prepare TOWARD [TOOLS]``; standard library only,
#: and it reports even under a Python too old for the workers. ``check`` also checks the tools
#: (comma-separated); ``prepare`` then, when none is missing, unpacks the files given as JSON on
#: stdin into a new directory it prints (with a tool missing it creates nothing).
SCRIPT = r'''
import hashlib, json, os, platform, shutil, socket, subprocess, sys, tempfile

def run(argv):
    if shutil.which(argv[0]) is None:
        return {"error": argv[0] + ": command not found"}
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=10, universal_newlines=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": str(exc)}
    return {"rc": done.returncode, "out": done.stdout[-65536:], "err": done.stderr[-400:]}

mode, toward = sys.argv[1], sys.argv[2]
facts = {"hostname": socket.gethostname(), "kernel": platform.release(), "python": platform.python_version(),
         "python_path": sys.executable}
facts["route"] = route = run(["ip", "-j", "route", "get", toward])
device = None
try:
    device = json.loads(route.get("out") or "[]")[0]["dev"]
except (ValueError, LookupError, TypeError):
    pass
if device:
    facts["device"] = device
    facts["link"] = run(["ip", "-j", "-d", "link", "show", "dev", device])
    facts["driver"] = run(["ethtool", "-i", device])
    facts["settings"] = run(["ethtool", device])
    facts["features"] = run(["ethtool", "-k", device])
    facts["qdiscs"] = run(["tc", "-j", "qdisc", "show", "dev", device])
report = {"facts": facts}
if mode in ("check", "prepare"):
    tools = [t for t in sys.argv[3].split(",") if t]
    report["missing"] = [t for t in tools if shutil.which(t) is None]
    report["too_old"] = sys.version_info < (3, 7)
    versions = {}
    for tool in tools:
        if tool not in report["missing"] and tool in ("iperf3",):
            versions[tool] = run([tool, "--version"])
    report["versions"] = versions
    if mode == "prepare" and not report["missing"] and not report["too_old"]:
        files = json.loads(sys.stdin.read())
        directory = tempfile.mkdtemp(prefix="podman-netbench-")
        digests = {}
        for name, text in sorted(files.items()):
            if "/" in name or name.startswith("."):
                continue
            data = text.encode("utf-8")
            with open(os.path.join(directory, name), "wb") as handle:
                handle.write(data)
            with open(os.path.join(directory, name), "rb") as handle:
                digests[name] = hashlib.sha256(handle.read()).hexdigest()
        report["directory"] = directory
        report["sha256"] = digests
print(json.dumps(report))
'''


def _output(raw: Any, what: str) -> str:
    """The output of one command the script ran, or a ParseError saying why there is none."""
    if not isinstance(raw, dict):
        raise ParseError(f"{what}: not run")
    if "error" in raw:
        raise ParseError(f"{what}: {raw['error']}")
    if raw.get("rc") != 0:
        said = str(raw.get("err") or "").strip().splitlines()
        raise ParseError(f"{what} exited with {raw.get('rc')}: {said[-1] if said else '(no error output)'}")
    return str(raw.get("out") or "")


def interface_record(facts: dict[str, Any]) -> dict[str, Any]:
    """The interface toward the other computer, from the script's raw facts (pure): every
    reading that failed is named under ``errors``."""
    record: dict[str, Any] = {}
    errors: dict[str, str] = {}
    readings = (
        ("route", "ip route get", lambda out: {"route": iproute.parse_route_get(out).to_json()}),
        ("link", "ip -d link", lambda out: _link(out)),
        ("driver", "ethtool -i", lambda out: ethtool.parse_driver(out)),
        ("settings", "ethtool", lambda out: ethtool.parse_settings(out)),
        ("features", "ethtool -k", lambda out: _features(out)),
        ("qdiscs", "tc qdisc", lambda out: {"qdiscs": iproute.parse_qdiscs(out)}),
    )
    for key, what, parse in readings:
        try:
            record.update(parse(_output(facts.get(key), what)))
        except ParseError as exc:
            errors[key] = str(exc)
    if facts.get("device"):
        record["device"] = facts["device"]
    if errors:
        record["errors"] = errors
    return record


def _link(text: str) -> dict[str, Any]:
    links = iproute.parse_links(text)
    if not links:
        raise ParseError("ip -d link: no interface listed")
    return {"mtu": links[0].mtu, "kind": iproute.link_kind(text) or "physical"}


def _features(text: str) -> dict[str, Any]:
    features = ethtool.parse_features(text)
    return {"offloads": ethtool.main_offloads(features), "features": features}


def machine_record(facts: dict[str, Any], interface: dict[str, Any]) -> dict[str, Any]:
    """One computer: who it is and its interface toward the other (pure); the interface's
    every feature and its qdiscs are in the link record (``link_evidence``), not repeated."""
    summary = {k: v for k, v in interface.items() if k not in ("features", "qdiscs")}
    return {"hostname": facts.get("hostname"), "kernel": facts.get("kernel"), "python": facts.get("python"),
            "interface": summary}


def path_mtu(server: dict[str, Any], client: dict[str, Any]) -> dict[str, Any]:
    """The largest packet the path takes without fragmenting, as far as both ends' settings
    say: the smallest of their interfaces' and routes' MTUs (not probed: a router between
    them may take less)."""
    found = []
    for machine in (server, client):
        interface = machine.get("interface", {})
        found += [v for v in (interface.get("mtu"), (interface.get("route") or {}).get("mtu")) if isinstance(v, int)]
    return {"mtu": min(found) if found else None,
            "basis": "the smallest MTU of both ends' interfaces and routes toward each other (not probed)"}


def link_evidence(interface: dict[str, Any]) -> dict[str, Any]:
    """One end (an ``interface_record``) in the shape the lab records its link
    (``lab.link``): device, offloads, features, qdiscs, or why each could not be read."""
    errors = interface.get("errors", {})
    found: dict[str, Any] = {"device": interface.get("device") or "?"}
    for key in ("offloads", "features", "qdiscs"):
        if key in interface:
            found[key] = interface[key]
    if "features" in errors:
        found["ethtool_error"] = errors["features"]
    if "qdiscs" in errors:
        found["qdisc_error"] = errors["qdiscs"]
    return found
