"""The evidence parsers (/proc/stat, /proc/loadavg, ethtool -k, ip -j link, tc -j qdisc,
containers.conf), on output recorded on this suite's Debian 12 host."""

from __future__ import annotations

import pytest

from bench_runner.parsers import ParseError, containers_conf, ethtool, iproute, procstat
from tests.conftest import read_data

# ------------------------------------------------------------------ /proc/stat, /proc/loadavg


def test_cpu_times_sum_the_first_eight_fields_of_the_cpu_line() -> None:
    times = procstat.parse_cpu_times(read_data("proc-stat-2cpu.txt"))
    first = read_data("proc-stat-2cpu.txt").splitlines()[0].split()
    assert first[0] == "cpu"
    assert times.total == sum(int(v) for v in first[1:9])  # guest time is inside user already
    assert times.steal == int(first[8])
    assert times.steal > 0


def test_steal_between_two_recorded_readings() -> None:
    before = procstat.parse_cpu_times(read_data("proc-stat-2cpu.txt"))
    after = procstat.parse_cpu_times(read_data("proc-stat-2cpu-later.txt"))
    assert after.total > before.total
    assert procstat.steal_percent(before, after) == pytest.approx(
        100.0 * (after.steal - before.steal) / (after.total - before.total))


def test_steal_percent_of_made_up_counters() -> None:
    before = procstat.CpuTimes(total=1000, steal=10)
    assert procstat.steal_percent(before, procstat.CpuTimes(total=1200, steal=60)) == pytest.approx(25.0)
    assert procstat.steal_percent(before, before) is None  # no time passed
    assert procstat.steal_percent(before, procstat.CpuTimes(total=1200, steal=5)) is None  # counters reset


def test_a_kernel_without_a_steal_field_counts_none() -> None:
    times = procstat.parse_cpu_times("cpu  10 0 5 100\ncpu0 10 0 5 100\n")
    assert times == procstat.CpuTimes(total=115, steal=0)


@pytest.mark.parametrize("text", ["", "cpu0 1 2 3 4\n", "cpu  1 2 x 4 5\n", "cpu  1 2\n"])
def test_proc_stat_without_a_usable_cpu_line(text: str) -> None:
    with pytest.raises(ParseError):
        procstat.parse_cpu_times(text)


def test_loadavg_recorded() -> None:
    text = read_data("proc-loadavg.txt")
    load = procstat.parse_loadavg(text)
    fields = text.split()
    assert (load.one, load.five, load.fifteen) == tuple(float(v) for v in fields[:3])
    assert load.tasks == fields[3]


@pytest.mark.parametrize("text", ["", "0.1 0.2\n", "a b c 1/2 3\n", "0.1 0.2 0.3 12 3\n"])
def test_loadavg_garbage(text: str) -> None:
    with pytest.raises(ParseError):
        procstat.parse_loadavg(text)

# ------------------------------------------------------------------ ethtool -k


def test_ethtool_features_of_a_veth() -> None:
    text = read_data("ethtool-k-veth.txt")
    features = ethtool.parse_features(text)
    assert len(features) == len(text.splitlines()) - 1  # one per line after "Features for evA:"
    assert features["tx-checksum-ipv4"] == "off [fixed]"  # an indented sub-feature keeps its own name
    assert features["hsr-dup-offload"] == "off [fixed]"  # the last line has no newline
    assert ethtool.main_offloads(features) == {
        "tso": "on", "gso": "on", "gro": "off", "lro": "off [fixed]", "tx-checksum": "on", "rx-checksum": "on",
        "sg": "on"}


def test_main_offloads_leave_out_what_the_device_does_not_list() -> None:
    assert ethtool.main_offloads({"generic-receive-offload": "on"}) == {"gro": "on"}


@pytest.mark.parametrize("text", ["", "netlink error: no device matches name (offset 24)\n", "Features for x:\n"])
def test_ethtool_error_output_is_not_features(text: str) -> None:
    with pytest.raises(ParseError):
        ethtool.parse_features(text)

# ------------------------------------------------------------------ ip -j link, tc -j qdisc


def test_links_of_a_namespace() -> None:
    links = iproute.parse_links(read_data("ip-link-veth-netns.json"))
    assert [(link.ifname, link.mtu, link.txqlen, link.link_type) for link in links] == [
        ("lo", 65536, 1000, "loopback"), ("evA", 65520, 1000, "ether")]
    assert links[1].operstate == "UP"


def test_qdiscs_recorded() -> None:
    assert iproute.parse_qdiscs(read_data("tc-qdisc-noqueue.json")) == [
        {"kind": "noqueue", "handle": "0:", "where": "root", "options": {}}]


def test_a_child_qdisc_says_its_parent() -> None:
    text = '[{"kind":"fq_codel","handle":"0:","parent":"1:2","options":{"limit":10240,"flows":1024}}]'
    assert iproute.parse_qdiscs(text)[0]["where"] == "1:2"
    assert iproute.parse_qdiscs(text)[0]["options"]["limit"] == 10240


@pytest.mark.parametrize("text", ["", "Cannot find device \"x\"\n", '{"ifname": "lo"}', '[{"mtu": 1500}]'])
def test_iproute_output_that_is_not_a_list_of_links(text: str) -> None:
    with pytest.raises(ParseError):
        iproute.parse_links(text)


def test_qdisc_without_kind() -> None:
    with pytest.raises(ParseError):
        iproute.parse_qdiscs('[{"handle": "0:"}]')

# ------------------------------------------------------------------ containers.conf

USR = "/usr/share/containers/containers.conf"
USER = "/home/netbench/.config/containers/containers.conf"


def test_search_order_of_a_rootless_user() -> None:
    found = containers_conf.search_paths(1001, "/home/netbench/")
    assert [(c.path, c.directory) for c in found] == [
        (USR, False), ("/etc/containers/containers.conf", False), ("/etc/containers/containers.conf.d", True),
        ("/etc/containers/containers.rootless.conf", False), ("/etc/containers/containers.rootless.conf.d", True),
        ("/etc/containers/containers.rootless.conf.d/1001", True), (USER, False), (USER + ".d", True)]


def test_debian_defaults_and_the_setup_users_file() -> None:
    merged = containers_conf.merge([
        containers_conf.ConfFile(USR, read_data("containers-conf-debian12-usr-share.conf")),
        containers_conf.ConfFile(USER, read_data("containers-conf-setup-user.conf"))])
    assert merged["files"] == [USR, USER]
    # Debian's file sets no network key; events_logger is not one of the recorded keys.
    assert merged["settings"] == {"engine.cgroup_manager": {"value": "cgroupfs", "file": USER},
                                  "engine.runtime": {"value": "runc", "file": USER}}
    assert merged["problems"] == []


def test_the_last_file_wins_and_arrays_append_only_when_asked() -> None:
    merged = containers_conf.merge([
        containers_conf.ConfFile("/etc/containers/containers.conf",
                                 '[network]\ndefault_rootless_network_cmd = "slirp4netns"\n'
                                 'pasta_options = ["--mtu", "1500"]\n[containers]\nnetns = "private"\n'),
        containers_conf.ConfFile("/etc/containers/containers.conf.d/10-a.conf",
                                 '[network]\npasta_options = ["-T", "none", {append=true}]\n'),
        containers_conf.ConfFile(USER, '[network]\ndefault_rootless_network_cmd = "pasta"\n'
                                       '[engine]\nnetwork_cmd_options = ["mtu=9000"]\n')])
    settings = merged["settings"]
    assert settings["network.default_rootless_network_cmd"] == {"value": "pasta", "file": USER}
    assert settings["network.pasta_options"] == {
        "value": ["--mtu", "1500", "-T", "none"],
        "file": "/etc/containers/containers.conf + /etc/containers/containers.conf.d/10-a.conf"}
    assert settings["containers.netns"]["file"] == "/etc/containers/containers.conf"
    assert settings["engine.network_cmd_options"]["value"] == ["mtu=9000"]


def test_a_broken_or_unreadable_file_is_named_and_the_rest_still_count() -> None:
    merged = containers_conf.merge([
        containers_conf.ConfFile("/etc/containers/containers.conf", '[network\nnetwork_backend = "cni"\n'),
        containers_conf.ConfFile("/etc/containers/containers.conf.d/x.conf", error="Permission denied"),
        containers_conf.ConfFile(USER, '[network]\nnetwork_backend = "netavark"\ndefault_subnet_pools = '
                                       '[{base = "10.89.0.0/16", size = 24}]\n')])
    assert merged["files"] == [USER]
    assert merged["settings"]["network.network_backend"] == {"value": "netavark", "file": USER}
    assert merged["settings"]["network.default_subnet_pools"]["value"] == [{"base": "10.89.0.0/16", "size": 24}]
    assert len(merged["problems"]) == 2
    assert merged["problems"][0].startswith("/etc/containers/containers.conf: not valid TOML")
    assert merged["problems"][1] == "/etc/containers/containers.conf.d/x.conf: Permission denied"


def test_toml_dates_are_kept_as_text() -> None:
    merged = containers_conf.merge([containers_conf.ConfFile(USER, "[network]\nwhen = 2024-01-02\n")])
    assert merged["settings"]["network.when"]["value"] == "2024-01-02"
