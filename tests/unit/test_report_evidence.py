"""The report's Evidence section, from a real quick run's document and from edited copies:
every observed value shows, a reason shows where a value could not be observed, and a
document that recorded none of it gets no section."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from bench_runner.results import document as results
from bench_runner.report import html_page, markdown
from bench_runner.report.content import gather
from bench_runner.report.evidence import evidence_blocks, governors_text
from bench_runner.report.layout import layout
from tests.conftest import read_data

SOURCE = Path("results-evidence-quick.json")


def _document(edit=None) -> results.RunDocument:  # type: ignore[no-untyped-def]
    data = json.loads(read_data("results-evidence-quick.json"))
    if edit is not None:
        edit(data)
    results.validate(data)
    return results.RunDocument.from_json(data)


def _markdown(document: results.RunDocument) -> str:
    return markdown.render(layout(gather(document, SOURCE), []), {})


def _section(text: str) -> str:
    start = text.index("## Evidence")
    return text[start:text.index("\n## ", start + 1)]


def test_the_section_shows_what_the_run_observed() -> None:
    data = json.loads(read_data("results-evidence-quick.json"))
    text = _markdown(_document())
    assert text.index("## Stack and host") < text.index("## Evidence") < text.index("## Results")
    section = _section(text)
    info = data["stack"]["podman_info"]
    assert f"| version                          | {info['version']}" in section
    assert f"| network backend                  | {info['network_backend']}" in section
    assert info["slirp4netns"]["executable"] in section
    for key, setting in data["stack"]["containers_conf"]["settings"].items():
        assert f"| {key}" in section and setting["file"] in section
    load = data["run"]["load"][0]
    assert f"{load['steal_percent']:g}% of CPU time" in section
    assert " ".join(f"{v:g}" for v in load["before"]["loadavg"]) in section
    server = data["lab"]["link"]["server"]
    row = next(line for line in section.splitlines() if line.startswith("| host: server host"))
    assert [c.strip() for c in row.strip("|").split("|")][1:9] == [server["device"], *server["offloads"].values()]
    assert "tx-checksum-ipv4" in section  # the full feature list, collapsed
    pasta = next(c for c in data["cells"] if c["method"] == "pasta")
    links = pasta["trials"][0]["observations"]["container_links"]
    assert f"MTU {links['interfaces'][0]['mtu']}, txqueuelen {links['interfaces'][0]['txqlen']} (own namespace)" in section
    argv = pasta["trials"][0]["observations"]["listener"]["argv"]
    assert " ".join(argv) in section  # the helper's command line as /proc showed it


def test_what_could_not_be_observed_shows_why() -> None:
    def broken(data: dict) -> None:  # type: ignore[type-arg]
        data["stack"]["podman_info"] = {"error": "podman is not installed"}
        data["stack"]["containers_conf"] = {"error": "not read: needs root to read them as netbench"}
        for end in data["lab"]["link"].values():
            for key in ("offloads", "features"):
                end.pop(key)
            end["ethtool_error"] = "ethtool missing (install the ethtool package: scripts/setup.sh does)"
        data["run"]["load"][0]["steal_percent"] = None
        for cell in data["cells"]:
            for trial in cell["trials"]:
                trial["observations"]["container_links"] = {"error": "no process of the container was left"}

    section = _section(_markdown(_document(broken)))
    assert "podman info could not be had: podman is not installed." in section
    assert "Not read: not read: needs root to read them as netbench." in section
    assert section.count("| ethtool missing (install the ethtool package: scripts/setup.sh does)") == 2
    assert "Every offload feature" not in section
    assert "| CPU steal between them         | not known" in section
    assert "not observed (no process of the container was left)" in section


def test_no_section_for_a_document_that_observed_none_of_it() -> None:
    def older(data: dict) -> None:  # type: ignore[type-arg]
        for key in ("podman_info", "containers_conf", "cpu_state"):
            data["stack"].pop(key)
        data["run"].pop("load")
        data["lab"].pop("link")
        for cell in data["cells"]:
            for trial in cell["trials"]:
                trial["observations"].pop("container_links", None)
                trial["observations"].get("listener", {}).pop("argv", None)

    document = _document(older)
    assert evidence_blocks(document) == []
    assert "## Evidence" not in _markdown(document)


def test_each_helper_command_line_once_per_method() -> None:
    def second_trial(data: dict) -> None:  # type: ignore[type-arg]
        for cell in data["cells"]:
            trial = copy.deepcopy(cell["trials"][0])
            trial["index"] += 100
            trial["round"] += 1
            trial["observations"]["listener"]["argv"] = ["pasta", "--other"]
            cell["trials"].append(trial)

    section = _section(_markdown(_document(second_trial)))
    table = section[section.index("<summary>The helper command line of each method</summary>"):].split("</details>")[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[4:] if line.startswith("|")]
    # The first trial's, once for every workload and placement; the host method has no helper.
    assert [row[:2] for row in rows] == [["pasta", "pasta"]] and rows[0][2].startswith("tcp-stream / ")
    assert rows[0][3].startswith("pasta --config-net") and "--other" not in rows[0][3]


def test_the_html_report_carries_it_too() -> None:
    page = html_page.render(layout(gather(_document(), SOURCE), []), {}, title="t")
    assert "<h2>Evidence</h2>" in page and "<summary>Every offload feature of the host lab link</summary>" in page


def test_governors_are_grouped() -> None:
    assert governors_text({"cpu0": "none", "cpu1": "none"}) == "none (no cpufreq, as in most VMs) on every CPU"
    assert governors_text({"cpu0": "performance", "cpu1": "powersave", "cpu2": "performance"}) == \
        "performance on cpu0, cpu2; powersave on cpu1"
