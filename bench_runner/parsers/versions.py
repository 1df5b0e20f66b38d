"""Parse the version banners of the stack's tools and the host's descriptive files."""

from __future__ import annotations

import re

_VERSION_PATTERNS = {
    "podman": re.compile(r"podman version (\S+)"),
    "slirp4netns": re.compile(r"slirp4netns version (\S+)"),
    "libslirp": re.compile(r"libslirp: (\S+)"),
    "rootlesskit": re.compile(r"rootlesskit version (\S+)"),
    "iperf3": re.compile(r"iperf (\d\S*)"),
    "sockperf": re.compile(r"sockperf,? version (\d[\w.]*)"),
    "runc": re.compile(r"runc version (\S+)"),
    "conmon": re.compile(r"conmon version (\S+)"),
    "systemd": re.compile(r"systemd (\d+)"),
    "pasta": re.compile(r"pasta (\d{4}_\d{2}_\d{2}\.[0-9a-f]+|\d\S*)"),
}


def tool_version(tool: str, banner: str) -> str | None:
    """The version a tool prints in its ``--version`` banner, or None when it has none
    (Debian 12's pasta prints "pasta unknown version")."""
    pattern = _VERSION_PATTERNS[tool]
    match = pattern.search(banner)
    return match.group(1) if match else None


def passt_version_from_package(package_version: str) -> str | None:
    """Upstream passt versions are dates plus a commit (2023_03_09.7c7625d); distribution
    packages spell them 0.0~git20230309.7c7625d-1 (Debian) or 0^20230309.g7c7625d (Fedora)."""
    match = re.search(r"(\d{4})(\d{2})(\d{2})\.g?([0-9a-f]{7,})", package_version)
    if not match:
        match = re.search(r"(\d{4})_(\d{2})_(\d{2})\.([0-9a-f]{7,})", package_version)
    if not match:
        return None
    year, month, day, commit = match.groups()
    return f"{year}_{month}_{day}.{commit}"


def parse_os_release(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            values[key.strip()] = value.strip().strip('"')
    return values


def parse_cpuinfo(text: str) -> tuple[str | None, bool]:
    """The CPU model name, and whether the CPU says it runs under a hypervisor."""
    model = None
    hypervisor = False
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model is None:
            model = value.strip()
        elif key == "flags" and " hypervisor" in f" {value} ":
            hypervisor = True
    return model, hypervisor


def parse_dpkg_versions(text: str) -> dict[str, str]:
    """``dpkg-query -W -f '${Package}\\t${Version}\\n'`` output."""
    versions = {}
    for line in text.splitlines():
        name, sep, version = line.partition("\t")
        if sep and name and version:
            versions[name.strip()] = version.strip()
    return versions


def parse_rpm_versions(text: str) -> dict[str, str]:
    """``rpm -q --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\n'`` output; not-installed lines skipped."""
    return parse_dpkg_versions("\n".join(line for line in text.splitlines() if "\t" in line))


def parse_dpkg_status(text: str) -> dict[str, str]:
    """Installed packages and their versions from a dpkg database file
    (``/var/lib/dpkg/status``): read from a stack's files, without running anything in it."""
    versions: dict[str, str] = {}
    for paragraph in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in paragraph.splitlines():
            if line[:1] in (" ", "\t"):
                continue  # a continuation line (descriptions, conffiles)
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        name, version = fields.get("Package"), fields.get("Version")
        if name and version and fields.get("Status", "").endswith(" installed"):
            versions[name] = version
    return versions
