"""The results document: schema, round trip, atomic writes, and refusing bad files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench_runner.results import document as results
from bench_runner.errors import UsageError
from tests.conftest import DATA, read_data

RECORDED = DATA / "results-bare-quick.json"


def test_recorded_document_loads_and_round_trips(tmp_path: Path) -> None:
    document = results.load(RECORDED)
    assert document.schema_version == results.SCHEMA_VERSION
    assert document.provider["id"] == "bare"
    cell = document.cell("tcp-stream", "remote", "pasta")
    assert cell.higher_is_better and cell.unit == "Gbit/s"
    assert cell.samples() and all(v > 0 for v in cell.samples())
    target = tmp_path / "copy.json"
    results.save(document, target)
    assert json.loads(target.read_text()) == json.loads(RECORDED.read_text())


def test_every_cell_records_stack_and_observations() -> None:
    document = results.load(RECORDED)
    for key in ("kernel", "podman", "passt", "slirp4netns", "rootlesskit", "iperf3", "distribution", "cpu_model"):
        assert key in document.stack
    for cell in document.cells:
        for trial in cell.trials:
            if trial.status == "ok":
                assert "listener" in trial.observations and "peer_address" in trial.observations


def test_save_replaces_atomically_and_leaves_no_temporary(tmp_path: Path) -> None:
    document = results.load(RECORDED)
    target = tmp_path / "run.json"
    target.write_text("old")
    results.save(document, target)
    assert results.load(target).run["id"] == document.run["id"]
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(schema_version=99), "schema_version 99"),
    (lambda d: d.pop("cells"), "'cells' is a required property"),
    (lambda d: d["cells"][0].update(higher_is_better="yes"), "cells/0/higher_is_better"),
    (lambda d: d["cells"][0]["trials"][0]["samples"].update(throughput="fast"), "samples/throughput"),
    (lambda d: d["cells"][0].update(status="great"), "cells/0/status"),
    (lambda d: d["run"].update(status="paused"), "run/status"),
    (lambda d: d["provider"].update(id="docker"), "provider/id"),
])
def test_hand_edited_nonsense_is_refused_with_the_place(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(RECORDED.read_text())
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError, match=message.replace("/", ".")) as info:
        results.load(path)
    assert "\n" not in str(info.value)


def test_truncated_document_is_refused(tmp_path: Path) -> None:
    text = RECORDED.read_text()
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 3])
    with pytest.raises(UsageError, match="not valid JSON"):
        results.load(path)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such results document"):
        results.load(tmp_path / "absent.json")
    with pytest.raises(UsageError, match="not a results document|schema_version"):
        path = tmp_path / "list.json"
        path.write_text("[]")
        results.load(path)


def test_check_writable(tmp_path: Path) -> None:
    assert results.check_writable(tmp_path / "new.json") == tmp_path / "new.json"
    with pytest.raises(UsageError, match="is a directory"):
        results.check_writable(tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        results.check_writable(tmp_path / "nope" / "x.json")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(UsageError, match="not writable"):
            results.check_writable(locked / "x.json")


def test_a_run_resumes_only_on_the_machine_stack_and_suite_it_started_with() -> None:
    """Finding 8: resume used to check only the key versions; another machine, other kernel
    settings, another suite commit or a rebuilt --pasta binary would mix two measurements."""
    import copy

    from bench_runner.commands.run import resume_problems
    from bench_runner.stacks.detect import Stack

    document = results.RunDocument.from_json(json.loads(read_data("results-bare-quick.json")))
    document.stack["machine"] = "aaaa"
    document.stack["stated"] = {"pasta_binary": "2025_05_03.587980c sha256:111111111111"}
    document.tool["commit"] = "1" * 40
    known = {f for f in Stack.__dataclass_fields__}
    same = Stack(**{k: v for k, v in copy.deepcopy(document.stack).items() if k in known})
    assert resume_problems(document, same, "1" * 40) == []
    other = copy.deepcopy(same)
    other.machine = "bbbb"
    other.stated = {"pasta_binary": "2025_05_03.587980c sha256:222222222222"}
    other.sysctls = {**other.sysctls, "net.core.rmem_max": "1"}
    problems = resume_problems(document, other, "2" * 40)
    assert any("another machine" in p for p in problems)
    assert any("pasta_binary" in p for p in problems)
    assert any("net.core.rmem_max" in p for p in problems)
    assert any("another commit" in p for p in problems)


def test_a_document_from_the_first_version_still_loads_and_one_from_a_newer_schema_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    from pathlib import Path

    import pytest

    from bench_runner.results import document as results
    from bench_runner.errors import UsageError

    first = Path(__file__).resolve().parents[1] / "data" / "results-bare-quick.json"  # recorded by the first commit
    document = results.load(first)
    assert document.cells and document.captures == [] and document.stacks == {}
    newer = json.loads(first.read_text())
    newer["schema_version"] = results.SCHEMA_VERSION + 1
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(newer))
    with pytest.raises(UsageError, match="newer than this suite reads .*update podman-netbench"):
        results.load(path)
