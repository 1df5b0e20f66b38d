"""Release stacks without booting one: what a stack is asked to be made of, the versions read
from its package database, how the unified cgroup hierarchy is found, what Podman reports."""

from __future__ import annotations

import json
import tarfile
import io

import pytest

from bench_runner.lab import image
from bench_runner.errors import SetupError, UsageError
from bench_runner.parsers import podman_info
from bench_runner.parsers.versions import parse_dpkg_status
from bench_runner.stacks import boot, build, spec, store
from tests.conftest import read_data

HYBRID = """\
23 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
40 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
UNIFIED = """\
23 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
"""


def test_the_unified_hierarchy_is_found_on_hybrid_and_pure_cgroup2_machines() -> None:
    assert str(boot.cgroup2_root(HYBRID)) == "/sys/fs/cgroup/unified"
    assert str(boot.cgroup2_root(UNIFIED)) == "/sys/fs/cgroup"
    with pytest.raises(SetupError, match="no cgroup2"):
        boot.cgroup2_root(HYBRID.replace("cgroup2 cgroup2", "cgroup cgroup"))


def test_dpkg_status_gives_installed_packages_only() -> None:
    found = parse_dpkg_status(read_data("dpkg-status-trixie.txt"))
    assert found["podman"] == "5.4.2+ds1-2+b2"
    assert found["passt"].startswith("0.0~git2025")
    assert "crun" not in found  # removed, only its configuration files remain
    assert "Description" not in found and all(" " not in name for name in found)


def test_key_versions_read_like_the_host_stacks() -> None:
    versions = parse_dpkg_status(read_data("dpkg-status-trixie.txt"))
    stack = store.BuiltStack("trixie", store.stack_dir("trixie"), {"versions": versions, "suite": "trixie"})
    keys = stack.key_versions()
    assert keys["podman"] == "5.4.2"
    assert keys["passt"] == "2025_05_03.587980c"
    assert keys["slirp4netns"] == "1.2.1" and keys["rootlesskit"] == "2.0.2" and keys["iperf3"] == "3.18"
    assert keys["systemd"] == "257.13"


@pytest.mark.parametrize("package, upstream", [
    ("5.4.2+ds1-2+b2", "5.4.2"), ("1:2.0.2-2", "2.0.2"), ("257.13-1~deb13u1", "257.13"), ("3.18", "3.18"),
    (None, None), ("", None),
])
def test_upstream_versions_drop_the_debian_parts(package: str | None, upstream: str | None) -> None:
    assert store.upstream_version(package) == upstream


def test_a_stack_is_named_for_its_suite_unless_told_otherwise() -> None:
    assert spec.make_spec("trixie", None, None, None).suite == "trixie"
    custom = spec.make_spec("mine", "sid", ["strace,gdb", "strace"], "http://deb.debian.org/debian/")
    assert (custom.suite, custom.extra_packages, custom.mirror) == ("sid", ("strace", "gdb"), "http://deb.debian.org/debian")
    assert set(custom.packages) >= {"podman", "passt", "strace", "gdb"}


@pytest.mark.parametrize("name, suite, include, mirror, message", [
    ("host", None, None, None, "this machine's own stack"),
    ("Trixie", None, None, None, "lower-case"),
    ("mine", None, None, None, "unknown suite 'mine'"),
    ("trixie", None, ["podman;rm"], None, "not a Debian package name"),
    ("trixie", None, None, "ftp://x", "http:// or https://"),
])
def test_bad_stack_requests_are_one_line_usage_errors(name: str, suite: str | None, include: list[str] | None,
                                                     mirror: str | None, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        spec.make_spec(name, suite, include, mirror)


def test_the_cache_key_changes_with_what_the_build_asks_for_only() -> None:
    base = spec.make_spec("trixie", None, None, None)
    assert base.key("amd64") == spec.make_spec("trixie", None, None, None).key("amd64")
    assert base.key("amd64") != spec.make_spec("trixie", None, ["strace"], None).key("amd64")
    assert base.key("amd64") != base.key("arm64")
    assert base.key("amd64") != spec.make_spec("trixie", None, None, "http://mirror.example/debian").key("amd64")


def test_stable_suites_get_updates_and_security_sources() -> None:
    assert len(spec.make_spec("trixie", None, None, None).sources()) == 3
    assert spec.make_spec("sid", None, None, None).sources() == ["deb http://deb.debian.org/debian sid main"]


def test_stack_names_for_a_run() -> None:
    assert spec.parse_stack_names(None) == ("host",)
    assert spec.parse_stack_names(["host,trixie", "trixie"]) == ("host", "trixie")
    with pytest.raises(UsageError, match="--stacks"):
        spec.parse_stack_names(["host,Bad!"])


def test_a_stack_that_is_not_built_says_how_to_build_it(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(store, "STACKS_DIR", tmp_path)
    with pytest.raises(SetupError, match="stack build nosuch"):
        store.find("nosuch")
    (tmp_path / "half" / "root").mkdir(parents=True)
    (tmp_path / "half" / "stack.json").write_text('{"complete": false}')
    with pytest.raises(SetupError, match="is not built"):
        store.find("half")  # an interrupted build never passes for a stack
    assert store.all_stacks() == []


def test_a_built_stack_missing_a_required_package_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "root" / "var" / "lib" / "dpkg"
    root.mkdir(parents=True)
    (root / "status").write_text(read_data("dpkg-status-trixie.txt").replace("Package: podman\n", "Package: podmanx\n"))
    with pytest.raises(SetupError, match="lacks podman:"):
        build.check(store.BuiltStack("t", tmp_path, {}))


def test_a_stack_without_mount_is_refused_since_the_boot_runs_its_umount(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """After pivot_root the boot script runs the stack's own umount and mount; systemd 262 (sid)
    only recommends the mount package, so a stack built before it was asked for lacks them and
    its systemd never started ('umount: not found'): such a stack is refused with the way out."""
    script = boot.boot_script(store.stack_dir("t") / "root", boot.Path("/run/podman-netbench/abc")).splitlines()
    after_pivot = script[script.index("pivot_root . .netbench-oldroot") + 1:]
    assert {line.split()[0] for line in after_pivot} >= {"umount", "mount"}
    assert "mount" in spec.BASE_PACKAGES and set(build.REQUIRED) <= set(spec.BASE_PACKAGES)
    root = tmp_path / "root" / "var" / "lib" / "dpkg"
    root.mkdir(parents=True)
    status = read_data("dpkg-status-trixie.txt")
    (root / "status").write_text(status)
    build.check(store.BuiltStack("t", tmp_path, {}))  # trixie's systemd depends on mount: it is there
    (root / "status").write_text(status.replace("Package: mount\n", "Package: mountx\n"))
    with pytest.raises(SetupError, match=r"lacks mount: rebuild it with 'stack build t --rebuild'"):
        build.check(store.BuiltStack("t", tmp_path, {}))


def test_masked_units_are_links_to_dev_null(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "etc").mkdir()
    build.prepare(tmp_path, "trixie")
    build.prepare(tmp_path, "trixie")  # again: idempotent
    system = tmp_path / "etc" / "systemd" / "system"
    for unit in ("systemd-sysctl.service", "systemd-timesyncd.service", "getty.target"):
        assert str((system / unit).readlink()) == "/dev/null"
    assert (tmp_path / "etc" / "hostname").read_text() == "netbench-trixie\n"


def test_the_pids_limit_is_turned_off_only_without_the_pids_controller() -> None:
    assert boot.containers_conf("cpu memory pids") is None
    text = boot.containers_conf("")
    assert text is not None and "pids_limit = 0" in text and "[containers]" in text


def test_podman_info_summary_from_a_recorded_stack() -> None:
    summary = podman_info.summary(json.loads(read_data("podman-info-5.4.2-stack.json")))
    assert summary["version"] == "5.4.2"
    assert summary["rootless_network_cmd"] == "pasta"
    assert summary["network_backend"] == "netavark"
    assert summary["cgroup_version"] == "v2"
    assert summary["oci_runtime"]["name"] == "runc"
    assert summary["slirp4netns"]["version"] == "slirp4netns version 1.2.1"
    assert podman_info.summary({})["version"] is None  # nothing known: no crash


def test_the_boot_script_pivots_into_the_stack_and_becomes_systemd() -> None:
    script = boot.boot_script(store.stack_dir("t") / "root", boot.Path("/run/podman-netbench/abc"))
    lines = script.splitlines()
    assert lines[-1].startswith("exec env -i container=") and lines[-1].endswith("/lib/systemd/systemd")
    assert lines.index("pivot_root . .netbench-oldroot") < lines.index("mount --make-rshared /")
    assert 'mount -t sysfs -o ro' in script and "rbind" not in script  # its own /dev, never this machine's


def test_the_image_skeleton_is_the_same_every_time() -> None:
    first = image.skeleton_tar()
    assert first == image.skeleton_tar()
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["./bin"].issym() and members["./bin"].linkname == "usr/bin"
    assert members["./tmp"].mode == 0o1777 and members["./etc/passwd"].isfile()
    assert all(m.uid == 0 and m.gid == 0 for m in members.values())


def test_a_stack_with_a_mount_under_it_is_never_deleted(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A killed build or boot could leave this machine's /dev bound into a stack: deleting
    the tree then would delete the machine's device nodes. Refuse and say so instead."""
    victim = tmp_path / "stack" / "root" / "dev"
    victim.mkdir(parents=True)
    (victim / "null").write_text("pretend device")
    mountinfo = f"23 1 254:0 / / rw - ext4 /dev/vda rw\n88 23 0:5 / {victim} rw - devtmpfs udev rw\n"
    assert store.mounts_under(tmp_path / "stack", mountinfo) == [str(victim)]
    assert store.mounts_under(tmp_path / "stac", mountinfo) == []  # a prefix of the name is not under it
    monkeypatch.setattr(store, "mounts_under", lambda path: [str(victim)])
    with pytest.raises(SetupError, match="has mounts under it"):
        store.remove_tree(tmp_path / "stack")
    assert (victim / "null").exists()


def test_a_stacks_podman_offers_what_its_files_and_version_allow(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bench_runner.providers.podman import PodmanProvider

    for program in ("usr/bin/podman", "usr/bin/pasta", "usr/bin/slirp4netns"):
        (tmp_path / program).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / program).touch()
    old = PodmanProvider("4.3.1", stack_root=tmp_path)  # Debian 12's: no pasta mode, no Quadlet
    assert "no pasta network mode" in old.check("pasta").reason
    assert "no Quadlet" in old.check("socket-activation-user").reason
    assert old.check("socket-activation-system").available  # a plain system unit needs no Quadlet
    (tmp_path / "usr/libexec/podman").mkdir(parents=True)
    (tmp_path / "usr/libexec/podman/quadlet").touch()
    new = PodmanProvider("5.4.2", stack_root=tmp_path)
    assert all(new.check(m).available for m in ("pasta", "slirp4netns-rootlesskit", "socket-activation-user"))
    (tmp_path / "usr/bin/slirp4netns").unlink()
    assert "slirp4netns (package slirp4netns) is not installed" in new.check("slirp4netns-slirp4netns").reason
