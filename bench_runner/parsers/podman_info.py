"""``podman info --format json``: the parts that shape rootless networking (the default
network command, the backend, the runtime, cgroups, the helpers' versions). Pure."""

from __future__ import annotations

from typing import Any


def summary(info: dict[str, Any]) -> dict[str, Any]:
    """The parts of ``podman info --format json`` that shape rootless networking."""
    host = info.get("host") or {}

    def first_line(value: Any) -> str | None:
        lines = str(value or "").strip().splitlines()
        return lines[0] if lines else None

    def helper(name: str) -> dict[str, Any] | None:
        found = host.get(name)
        if not isinstance(found, dict):
            return None
        return {"executable": found.get("executable"), "package": found.get("package"),
                "version": first_line(found.get("version"))}

    runtime = host.get("ociRuntime") or {}
    return {
        "version": (info.get("version") or {}).get("Version"),
        "rootless_network_cmd": host.get("rootlessNetworkCmd"),
        "network_backend": host.get("networkBackend"),
        "oci_runtime": {"name": runtime.get("name"), "version": first_line(runtime.get("version"))},
        "cgroup_manager": host.get("cgroupManager"),
        "cgroup_version": host.get("cgroupVersion"),
        "pasta": helper("pasta"),
        "slirp4netns": helper("slirp4netns"),
    }
