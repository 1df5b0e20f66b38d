"""History that a crash or a second command cannot damage: atomic writes, a recording cut
short between the samples and the ledger, a resumed run's later trials, and a publish that
would delete the history it publishes."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bench_runner.results import document as results
from bench_runner.errors import UsageError
from bench_runner.history import asvfiles, config, publish, record
from tests.unit.history_env import MACHINE, load_doc, use_history, variant

FULL = "results-bare-full.json"


def _doc(data: dict) -> results.RunDocument:  # type: ignore[type-arg]
    results.validate(data)
    return results.RunDocument.from_json(data)


def _count(conf, outcome) -> int:  # type: ignore[no-untyped-def]
    return asvfiles.count_samples(conf, MACHINE, outcome.snapshot.commit)


class Crash(Exception):
    pass


def _crashes_once(monkeypatch: pytest.MonkeyPatch, module: object, name: str, record_it) -> None:  # type: ignore[no-untyped-def]
    """Record with ``module.name`` crashing, then put it back."""
    original = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        record_it()
    monkeypatch.setattr(module, name, original)


def test_a_crash_between_samples_and_ledger_records_them_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 7: the samples were written, then the process died before the ledger row;
    the retry used to add them a second time."""
    conf = config.load(use_history(tmp_path, monkeypatch))
    data = load_doc(FULL)
    _crashes_once(monkeypatch, record, "_append_ledger", lambda: record.record_document(_doc(data), "a", conf))
    assert (conf.results_dir / record.JOURNAL).is_file()
    again = record.record_document(_doc(data), "a", conf)
    assert again.already and any("completed the recording" in n for n in again.notes)
    expected = sum(len(c.samples(m.id)) for c in _doc(data).cells for m in [c.metric_info(c.metric), *c.extra_metrics])
    assert _count(conf, again) <= expected  # each sample once (non-finite ones are never stored)
    (tmp_path / "fresh").mkdir()
    fresh_conf = config.load(use_history(tmp_path / "fresh", monkeypatch))
    once = record.record_document(_doc(data), "a", fresh_conf)
    assert _count(conf, again) == asvfiles.count_samples(fresh_conf, MACHINE, once.snapshot.commit)


def test_a_crash_before_the_samples_leaves_the_run_unrecorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = config.load(use_history(tmp_path, monkeypatch))
    data = load_doc(FULL)
    _crashes_once(monkeypatch, asvfiles, "add_samples", lambda: record.record_document(_doc(data), "a", conf))
    again = record.record_document(_doc(data), "a", conf)
    assert not again.already and again.samples > 0
    assert any("cut short before its samples" in n for n in again.notes)
    assert not (conf.results_dir / record.JOURNAL).exists()


def test_a_resumed_runs_later_trials_are_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = config.load(use_history(tmp_path, monkeypatch))
    full = load_doc(FULL)
    first = copy.deepcopy(full)
    for cell in first["cells"]:
        cell["trials"] = [t for t in cell["trials"] if t["round"] <= 3]  # interrupted after round 3
    first["run"]["status"] = "incomplete"
    partial = record.record_document(_doc(first), "r", conf)
    resumed = record.record_document(_doc(full), "r", conf)  # the same run, finished by --resume
    assert not resumed.already and resumed.samples > 0
    assert any("resumed" in n for n in resumed.notes)
    (tmp_path / "fresh").mkdir()
    fresh_conf = config.load(use_history(tmp_path / "fresh", monkeypatch))
    whole = record.record_document(_doc(full), "r", fresh_conf)
    assert _count(conf, resumed) == asvfiles.count_samples(fresh_conf, MACHINE, whole.snapshot.commit) > \
        partial.samples
    assert record.record_document(_doc(full), "r", conf).already


def test_a_results_file_is_never_left_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """asv truncates in place; a crash mid-write (here: in the JSON encoder) must leave the
    point's earlier samples as they were."""
    conf = config.load(use_history(tmp_path, monkeypatch))
    data = load_doc(FULL)
    first = record.record_document(_doc(data), "a", conf)
    path = asvfiles.result_path(conf, MACHINE, first.snapshot.commit)
    before = path.read_text()
    real_dump = json.dump

    def dying_dump(obj, fh, *args, **kwargs):  # type: ignore[no-untyped-def]
        fh.write('{"partial')
        raise Crash()

    monkeypatch.setattr(json, "dump", dying_dump)
    with pytest.raises(Crash):
        record.record_document(_doc(variant(data, run_id="b", started_at="2026-11-29T00:00:00Z")), "b", conf)
    monkeypatch.setattr(json, "dump", real_dump)
    assert path.read_text() == before
    assert not list(path.parent.glob("*.tmp"))


def test_publish_refuses_an_html_dir_that_holds_the_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf_path = use_history(tmp_path, monkeypatch)
    original = conf_path.read_text()
    for html_dir in ("results", "."):
        conf_path.write_text(original.replace('"html_dir": "results/html"', f'"html_dir": "{html_dir}"'))
        conf = config.load(conf_path)
        assert conf.html_dir.resolve() == (conf_path.parent / html_dir).resolve()
        with pytest.raises(UsageError, match="which asv publish deletes first"):
            publish.publish(conf)


def test_trial_ranges_round_trip() -> None:
    assert record.trial_ranges({0, 1, 2, 5, 7, 8}) == "0-2,5,7-8"
    assert record.parse_trial_ranges("0-2,5,7-8") == {0, 1, 2, 5, 7, 8}
    assert record.parse_trial_ranges(None) is None and record.trial_ranges(set()) == ""
