"""Version banners and host descriptions, on output recorded on Debian 12."""

from __future__ import annotations

import pytest

from bench_runner.parsers import versions
from bench_runner.stacks.detect import version_tuple
from tests.conftest import read_data


@pytest.mark.parametrize("tool, name, expected", [
    ("podman", "podman-4.3.1.txt", "4.3.1"),
    ("slirp4netns", "slirp4netns-1.2.0.txt", "1.2.0"),
    ("libslirp", "slirp4netns-1.2.0.txt", "4.7.0"),
    ("rootlesskit", "rootlesskit-1.1.0.txt", "1.1.0"),
    ("iperf3", "iperf3-3.12.txt", "3.12"),
    ("sockperf", "sockperf-3.7.txt", "3.7"),
    ("runc", "runc.txt", "1.1.5+ds1"),
    ("conmon", "conmon.txt", "2.1.6"),
    ("systemd", "systemd-252.txt", "252"),
])
def test_tool_versions(tool: str, name: str, expected: str) -> None:
    assert versions.tool_version(tool, read_data(f"versions/{name}")) == expected


def test_debian12_pasta_has_no_version_so_the_package_gives_it() -> None:
    assert versions.tool_version("pasta", read_data("versions/pasta-debian12.txt")) is None
    packages = versions.parse_dpkg_versions(read_data("versions/dpkg.txt"))
    assert versions.passt_version_from_package(packages["passt"]) == "2023_03_09.7c7625d"


@pytest.mark.parametrize("package, expected", [
    ("0.0~git20250512.8ec1341-1", "2025_05_12.8ec1341"),
    ("0^20250512.g8ec1341-1.fc42", "2025_05_12.8ec1341"),
    ("2025_05_12.8ec1341", "2025_05_12.8ec1341"),
    ("1.0", None),
])
def test_passt_package_versions(package: str, expected: str | None) -> None:
    assert versions.passt_version_from_package(package) == expected


def test_os_release_and_cpuinfo() -> None:
    release = versions.parse_os_release(read_data("versions/os-release-debian12.txt"))
    assert release["ID"] == "debian" and release["VERSION_ID"] == "12"
    model, hypervisor = versions.parse_cpuinfo(read_data("versions/cpuinfo.txt"))
    assert model and "Xeon" in model
    assert hypervisor


@pytest.mark.parametrize("text, expected", [
    ("4.3.1", (4, 3, 1)), ("5.4.2", (5, 4, 2)), ("1.1.5+ds1", (1, 1, 5)), ("", ()), (None, ()), ("v1", ()),
])
def test_version_tuple(text: str | None, expected: tuple[int, ...]) -> None:
    assert version_tuple(text) == expected
