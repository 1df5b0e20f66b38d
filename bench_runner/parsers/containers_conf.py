"""containers.conf(5) as rootless Podman merges it: which files it reads, in which order,
and per network-related key the value that wins and the file it came from. A pasta or
slirp4netns option set in a file nobody remembers changes every figure. Pure."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from typing import Any

#: Every key of these tables is recorded.
WHOLE_TABLES = ("network",)
#: And these keys of other tables (how containers get their network, which helper binaries and
#: runtime Podman uses).
KEYS = ("containers.netns", "engine.network_cmd_path", "engine.network_cmd_options", "engine.helper_binaries_dir",
        "engine.runtime", "engine.cgroup_manager")
#: What :func:`search_paths` follows, for the record.
ORDER = ("Podman 4 and 5: /usr/share/containers/containers.conf, /etc/containers/containers.conf, "
         "/etc/containers/containers.conf.d/*.conf, then for a rootless user /etc/containers/containers.rootless.conf "
         "and containers.rootless.conf.d/*.conf and .../UID/*.conf (Podman 5), then the user's "
         "~/.config/containers/containers.conf and containers.conf.d/*.conf; a key set in a later file wins")


@dataclass(frozen=True)
class Candidate:
    """A file Podman reads if it exists, or a directory whose ``*.conf`` files it reads in
    name order."""

    path: str
    directory: bool = False


@dataclass(frozen=True)
class ConfFile:
    """One file as it was read: its text, or why it could not be read."""

    path: str
    text: str | None = None
    error: str | None = None


def search_paths(uid: int, home: str) -> list[Candidate]:
    """Where rootless Podman 4 and 5 look, lowest precedence first (containers/common's
    systemConfigs; CONTAINERS_CONF is not set in the benchmark user's environment). Podman 4
    does not read the containers.rootless files; they exist only where an admin made them."""
    found = [Candidate("/usr/share/containers/containers.conf"), Candidate("/etc/containers/containers.conf"),
             Candidate("/etc/containers/containers.conf.d", True)]
    if uid > 0:
        found += [Candidate("/etc/containers/containers.rootless.conf"),
                  Candidate("/etc/containers/containers.rootless.conf.d", True),
                  Candidate(f"/etc/containers/containers.rootless.conf.d/{uid}", True)]
    user = f"{home.rstrip('/')}/.config/containers/containers.conf"
    return [*found, Candidate(user), Candidate(f"{user}.d", True)]


def _plain(value: Any) -> Any:
    """TOML values as JSON can hold them (dates become text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def _relevant(data: dict[str, Any]) -> list[tuple[str, Any]]:
    found = []
    for table, values in data.items():
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            name = f"{table}.{key}"
            if table in WHOLE_TABLES or name in KEYS:
                found.append((name, value))
    return found


def _appends(value: Any) -> bool:
    """containers.conf's ``["opt", {append=true}]``: add to the value so far (Podman 5)."""
    return isinstance(value, list) and bool(value) and isinstance(value[-1], dict) and value[-1].get("append") is True


def merge(files: list[ConfFile]) -> dict[str, Any]:
    """The files read (in order), per key the winning value and its file, and the files
    that could not be used, each with why."""
    settings: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    read: list[str] = []
    for conf in files:
        if conf.error is not None or conf.text is None:
            problems.append(f"{conf.path}: {conf.error or 'not read'}")
            continue
        try:
            data = tomllib.loads(conf.text)
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{conf.path}: not valid TOML ({exc})")
            continue
        read.append(conf.path)
        for key, value in _relevant(data):
            source = conf.path
            if _appends(value):
                before = settings.get(key)
                previous = before["value"] if before and isinstance(before["value"], list) else []
                value = [*previous, *value[:-1]]
                if before:
                    source = f"{before['file']} + {conf.path}"
            settings[key] = {"value": _plain(value), "file": source}
    return {"order": ORDER, "files": read, "settings": dict(sorted(settings.items())), "problems": problems}
