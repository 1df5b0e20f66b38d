"""One history for many machines: histories recorded on simulated machines (the real record
path, on recorded results documents), pushed to one bare git repository in a temporary
directory (local paths only), pulled and published. Every sample of every machine must be
in the merged history exactly once, whatever order the pushes landed in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench_runner.results import document as results
from bench_runner.errors import UsageError
from bench_runner.history import asvfiles, config, mergeplan, record, resultmerge, shared, sharedgit, sharedtree
from bench_runner.history.snapshots import StackRepo
from tests.unit.history_env import REPO, load_doc, make_config, variant

FULL = "results-bare-full.json"
Samples = Counter[tuple[str, str, str, str, str, float]]


def _doc(data: dict) -> results.RunDocument:  # type: ignore[type-arg]
    results.validate(data)
    return results.RunDocument.from_json(data)


def _history(root: Path, name: str) -> config.AsvConfig:
    """A history of its own (its own results/ and stack history), as on another machine."""
    directory = root / name
    directory.mkdir()
    return config.load(make_config(directory))


def _bare(root: Path) -> Path:
    path = root / "shared.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(path)], check=True, timeout=60)
    return path


def _samples(conf: config.AsvConfig) -> Samples:
    """Every sample of a history, keyed by machine and by stack (not commit: a snapshot two
    machines measured may become another commit when their histories merge)."""
    found: Samples = Counter()
    for item in StackRepo(conf.stack_repo, conf.branch).snapshots():
        for machine in asvfiles.machines(conf):
            for cell in asvfiles.read_samples(conf, machine, item.commit):
                found.update((machine, item.snapshot.key, cell.benchmark, cell.method, cell.placement, value)
                             for value in cell.samples)
    return found


def _record(conf: config.AsvConfig, machine: str, data: dict, run_id: str, started: str, **changes) -> None:  # type: ignore[no-untyped-def, type-arg]
    record.record_document(_doc(variant(data, run_id=run_id, started_at=started, **changes)), run_id, conf,
                           machine_name=machine)


def _two_machines(root: Path) -> tuple[config.AsvConfig, config.AsvConfig]:
    """alpha and beta: one stack both measured (two commits of it, one per machine), and one
    stack each that the other never saw."""
    data = load_doc(FULL)
    alpha, beta = _history(root, "alpha"), _history(root, "beta")
    _record(alpha, "alpha", data, "a1", "2026-11-28T01:00:00Z")
    _record(alpha, "alpha", data, "a2", "2026-11-29T10:00:00Z", stated={"passt": "custom-build"})
    _record(beta, "beta", data, "b1", "2026-11-28T03:00:00Z", scale=lambda k, m, v: v * 1.1)
    _record(beta, "beta", data, "b2", "2026-11-30T10:00:00Z", stated={"passt": "other-build"},
            scale=lambda k, m, v: v * 0.9)
    return alpha, beta


def _cli(conf: config.AsvConfig, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NETBENCH_ASV_CONFIG": str(conf.path), "HOME": str(conf.top)}
    env.pop("NETBENCH_SHARED_HISTORY", None)
    return subprocess.run([sys.executable, "-m", "bench_runner", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600, env=env)


def _popen(conf: config.AsvConfig, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NETBENCH_ASV_CONFIG": str(conf.path), "HOME": str(conf.top)}
    return subprocess.Popen([sys.executable, "-m", "bench_runner", *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


# ---------------------------------------------------------------- the merge rule itself

@pytest.mark.parametrize(("ours", "theirs", "base", "merged"), [
    ([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], [1.0, 2.0], [1.0, 2.0, 3.0, 4.0]),  # each side added one
    ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),  # shared already: once
    ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0], [1.0, 2.0, 3.0, 3.0]),  # one value, measured on each side
    ([1.0, 1.0], [1.0, 1.0], [1.0], [1.0, 1.0, 1.0]),  # equal values are counted, not collapsed
    ([1.0, 1.0, 1.0], [1.0, 1.0], [1.0], [1.0, 1.0, 1.0, 1.0]),  # ... each side's additions kept
    ([2.0], [1.0, 2.0], [1.0, 2.0], [2.0, 1.0]),  # a sample this side lost comes back
    ([5.0], [5.0], None, [5.0, 5.0]),  # no common base: two machines' samples, both kept
    (None, [7.0, 8.0], None, [7.0, 8.0]),
])
def test_samples_merge_as_multisets_against_the_base(ours, theirs, base, merged) -> None:  # type: ignore[no-untyped-def]
    assert list(ours or []) + resultmerge.extra_samples(ours, theirs, base) == merged
    o, t, b = Counter(ours or []), Counter(theirs), Counter(base or [])
    for value in set(o) | set(t):  # the documented rule: max(o, t, o + t - b)
        assert resultmerge.merged_counts(ours, theirs, base)[value] == max(o[value], t[value],
                                                                           o[value] + t[value] - b[value])


def test_ledger_union_refuses_a_run_recorded_on_both_sides() -> None:
    row = {"recorded_at": "2026-12-01T00:00:00Z", "machine": "alpha", "commit": "c" * 40, "run_id": "r1",
           "run_started_at": "2026-11-30T00:00:00Z", "source": "/a/r1.json", "trials": "0-4"}
    theirs = dict(row, recorded_at="2026-12-02T00:00:00Z", run_id="r2")
    assert resultmerge.merge_ledger([row], [theirs], []) == [row, theirs]
    assert resultmerge.merge_ledger([row], [row, theirs], [row]) == [row, theirs]
    assert resultmerge.merge_ledger([row, theirs], [row, theirs], [row, theirs]) == [row, theirs]
    later_trials = dict(row, recorded_at="2026-12-03T00:00:00Z", trials="5-9")  # a resumed run, recorded apart
    assert len(resultmerge.merge_ledger([row], [later_trials], [])) == 2
    with pytest.raises(UsageError, match="recorded both here and in the shared history"):
        resultmerge.merge_ledger([row], [dict(row, recorded_at="2026-12-04T00:00:00Z", source="/b/r1.json")], [])


def test_only_a_historys_own_files_travel(tmp_path: Path) -> None:
    conf = _history(tmp_path, "h")
    carried = ["benchmarks.json", "netbench-recorded.tsv", "alpha/machine.json", "alpha/0123abcd-netbench.json"]
    left_out = ["html/index.html", "html/machine.json", "stack-history.git/HEAD", "netbench-merge.pending/plan",
                "alpha/sub/x.json", "../x.json", "alpha/.hidden.json", "README.md", "alpha/notes.txt", ".git/config"]
    assert [p for p in carried if sharedtree.carried(conf, p)] == carried
    assert [p for p in left_out if sharedtree.carried(conf, p)] == []


# ---------------------------------------------------------------- two machines, one history

def test_two_machines_pushing_at_once_share_every_sample_and_publish_one_site(tmp_path: Path) -> None:
    alpha, beta = _two_machines(tmp_path)
    bare = _bare(tmp_path)
    expected = _samples(alpha) + _samples(beta)
    # Both push at the same time, as two machines would: one wins, the other merges and pushes again.
    pushes = [_popen(conf, "history", "push", "--shared", str(bare), "--format", "json") for conf in (alpha, beta)]
    outputs = [p.communicate(timeout=600) for p in pushes]
    for process, (out, err) in zip(pushes, outputs):
        assert process.returncode == 0, err
    reports = [json.loads(out) for out, _ in outputs]
    assert ["alpha", "beta"] in [r["machines"] for r in reports]  # the later push held both
    for conf in (alpha, beta):
        pulled = _cli(conf, "history", "pull", "--format", "json")  # the shared history it last used
        assert pulled.returncode == 0, pulled.stderr
        assert _samples(conf) == expected  # every sample of both machines, each once
        assert asvfiles.machines(conf) == ["alpha", "beta"]
    shared_tip = subprocess.run(["git", "--git-dir", str(bare), "rev-parse", "refs/heads/netbench-stacks"],
                                capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    lines = [StackRepo(c.stack_repo, c.branch).snapshots() for c in (alpha, beta)]
    assert [s.commit for s in lines[0]] == [s.commit for s in lines[1]] and lines[0][-1].commit == shared_tip
    assert len(lines[0]) == 3  # the stack both measured is one point, not two
    # Each snapshot keeps its tag, and every result file names a commit of the merged line.
    for conf, line in zip((alpha, beta), lines):
        assert all(s.tag for s in line)
        on_line = {s.commit for s in line}
        for machine in ("alpha", "beta"):
            for path in (conf.results_dir / machine).glob("*-netbench.json"):
                assert json.loads(path.read_text())["commit_hash"] in on_line, path
    # The site: one publish shows both machines.
    published = _cli(alpha, "publish", "--shared", str(bare), "--format", "json")
    assert published.returncode == 0, published.stderr
    site = json.loads(published.stdout)
    assert {p["machine"] for p in site["points"]} == {"alpha", "beta"}
    graphs = {p.as_posix() for p in (alpha.html_dir / "graphs").rglob("netbench.track_tcp_stream_throughput.json")}
    assert any("machine-alpha" in p for p in graphs) and any("machine-beta" in p for p in graphs)
    index = json.loads((alpha.html_dir / "index.json").read_text())
    assert sorted(index["params"]["machine"]) == ["alpha", "beta"]
    # compare takes a machine as a side: the stack both measured, alpha against beta.
    common = next(s for s in lines[0] if "passt-2023" in (s.tag or ""))
    compared = _cli(alpha, "compare", f"{common.tag}@alpha", f"{common.tag}@beta", "--format", "json")
    assert compared.returncode == 0, compared.stderr
    sides = json.loads(compared.stdout)
    rows = {(r["placement"], r["method"]): r for r in sides["rows"]}
    assert rows[("remote", "pasta")]["verdict"] == "better"  # beta's samples are alpha's times 1.1
    latest = _cli(alpha, "compare", "@alpha", "@beta", "--format", "json")
    assert latest.returncode == 0, latest.stderr


def test_a_push_that_lost_the_race_merges_and_pushes_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    alpha, beta = _two_machines(tmp_path)
    bare = _bare(tmp_path)
    expected = _samples(alpha) + _samples(beta)
    real_push = sharedgit.push
    raced = []

    def beta_gets_there_first(git_dir, where, updates):  # type: ignore[no-untyped-def]
        if not raced:
            raced.append(True)
            shared.push(beta, where)  # lands between alpha's fetch and alpha's push
        return real_push(git_dir, where, updates)

    monkeypatch.setattr(sharedgit, "push", beta_gets_there_first)
    done = shared.push(alpha, str(bare))
    assert raced and done.attempts == 2 and done.pushed
    assert done.machines == ["alpha", "beta"] and done.files_new == 2
    assert _samples(alpha) == expected
    monkeypatch.setattr(sharedgit, "push", real_push)
    shared.pull(beta, str(bare))
    assert _samples(beta) == expected
    again = shared.push(alpha, str(bare))
    assert again.up_to_date and again.pushed is None


def test_the_same_machine_in_two_places_merges_sample_by_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two checkouts recording as one machine change the same result file: both sides' samples
    are kept, and the samples they already shared are not counted twice."""
    monkeypatch.setenv("HOME", str(tmp_path))
    data = load_doc(FULL)
    one, two = _history(tmp_path, "one"), _history(tmp_path, "two")
    bare = str(_bare(tmp_path))
    _record(one, "ci", data, "r1", "2026-11-28T01:00:00Z")
    _record(two, "ci", data, "r2", "2026-11-28T02:00:00Z", scale=lambda k, m, v: v * 1.01)
    shared.push(one, bare)
    first = shared.push(two, bare)
    assert first.files_merged == 1  # the same (machine, stack) file, from both sides, no base yet
    shared.pull(one, bare)
    assert _samples(one) == _samples(two)
    common = _samples(one)
    # Now both have a base; each records another run of that stack, and pushes.
    _record(one, "ci", data, "r3", "2026-11-29T01:00:00Z", scale=lambda k, m, v: v * 1.02)
    _record(two, "ci", data, "r4", "2026-11-29T02:00:00Z", scale=lambda k, m, v: v * 1.03)
    added_one, added_two = _samples(one) - common, _samples(two) - common
    shared.push(one, bare)
    second = shared.push(two, bare)
    assert second.files_merged == 1 and second.samples_added == sum(added_one.values())
    shared.pull(one, bare)
    assert _samples(one) == _samples(two) == common + added_one + added_two
    ledger = record.ledger_rows(one)
    assert sorted(r["run_id"] for r in ledger) == ["r1", "r2", "r3", "r4"]
    # the same run recorded in both places would count twice: refused, nothing changed
    _record(one, "ci", data, "r5", "2026-11-30T01:00:00Z")
    _record(two, "ci", data, "r5", "2026-11-30T01:00:00Z")
    shared.push(one, bare)
    before = _samples(two)
    with pytest.raises(UsageError, match="run r5 of machine ci was recorded both here and in the shared history"):
        shared.push(two, bare)
    assert _samples(two) == before and not mergeplan.staging(two.results_dir).exists()


@pytest.mark.parametrize("when", ["staging", "applying"])
def test_a_merge_cut_short_is_completed_or_dropped_by_the_next_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    """Cut short while staging, the merge never happened; cut short while moving its files into
    place, it is completed: either way the next command leaves every sample there once."""
    monkeypatch.setenv("HOME", str(tmp_path))
    alpha, beta = _two_machines(tmp_path)
    bare = str(_bare(tmp_path))
    expected = _samples(alpha) + _samples(beta)
    shared.push(alpha, bare)

    class Crash(Exception):
        pass

    real_replace, real_apply, state = os.replace, mergeplan._apply, {"armed": when == "staging", "moved": 0}

    def crash_after_one(src, dst):  # type: ignore[no-untyped-def]
        if state["armed"] and state["moved"]:
            raise Crash()
        state["moved"] += state["armed"]
        real_replace(src, dst)

    def arm_then_apply(results_dir, repo):  # type: ignore[no-untyped-def]
        state["armed"] = True
        real_apply(results_dir, repo)

    monkeypatch.setattr(os, "replace", crash_after_one)
    monkeypatch.setattr(mergeplan, "_apply", arm_then_apply)
    with pytest.raises(Crash):
        shared.pull(beta, bare)  # beta's snapshot of the common stack moves, and its files with it
    monkeypatch.undo()
    monkeypatch.setenv("HOME", str(tmp_path))
    decided = (mergeplan.staging(beta.results_dir) / mergeplan.PLAN).is_file()
    assert decided == (when == "applying")
    # The next recording completes (or drops) the merge first, then records a stack of its own.
    _record(beta, "beta", load_doc(FULL), "b3", "2026-12-01T10:00:00Z", stated={"passt": "third"})
    assert not mergeplan.staging(beta.results_dir).exists()
    shared.pull(beta, bare)
    stacks = {key[1] for key in expected}
    merged = _samples(beta)
    assert Counter({k: n for k, n in merged.items() if k[1] in stacks}) == expected
    assert {k[1] for k in merged} - stacks  # and the stack it recorded meanwhile


# ---------------------------------------------------------------- bad input: one line, exit 2

def test_bad_shared_histories_are_one_line_and_exit_2(tmp_path: Path) -> None:
    conf = _history(tmp_path, "h")
    not_a_repo = tmp_path / "plain"
    not_a_repo.mkdir()
    for args, message in (
            (["history", "pull", "--shared", str(not_a_repo)], "not a git repository that can be read"),
            (["history", "push", "--shared", str(tmp_path / "missing")], "no such directory"),
            (["history", "pull", "--shared", "http://127.0.0.1:9/history.git"], "not a git repository that can be read"),
            (["history", "pull"], "no shared history named"),
            (["publish", "--shared", str(not_a_repo)], "not a git repository that can be read"),
            (["history", "push", "--shared", str(_bare(tmp_path))], "nothing recorded"),
            (["compare", "@nobody", "@other"], "machine nobody has nothing recorded")):
        result = _cli(conf, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    # A recording is kept when its push fails, and the error says so.
    document = str(REPO / "tests" / "data" / FULL)
    result = _cli(conf, "record", document, "--machine", "alpha", "--shared", str(not_a_repo))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "recorded here, but not pushed" in result.stderr and "not a git repository" in result.stderr
    assert "-> new point" in result.stdout and [r["machine"] for r in record.ledger_rows(conf)] == ["alpha"]


def test_a_repository_with_half_a_history_is_refused(tmp_path: Path) -> None:
    conf = _history(tmp_path, "h")
    bare = _bare(tmp_path)
    repo = StackRepo(conf.stack_repo, conf.branch)
    repo.ensure()
    tree = repo.git("mktree", input_text="").stdout.strip()
    commit = repo.git("commit-tree", tree, "-m", "x", env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                                                           "GIT_COMMITTER_NAME": "t",
                                                           "GIT_COMMITTER_EMAIL": "t@t"}).stdout.strip()
    repo.git("push", "--quiet", str(bare), f"{commit}:refs/heads/netbench-results")
    with pytest.raises(UsageError, match="without its other half"):
        shared.pull(conf, str(bare))
