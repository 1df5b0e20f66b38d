"""Record a results document into history without measuring again.

The document's stack (and provider) picks the snapshot: an unchanged stack adds samples to
its existing point, a changed one appends a point dated by this document's start. A run
with booted release stacks gives each stack its own point (its versions, its name and its
provider), so releases become the history's axis. A ledger
beside asv's files (``netbench-recorded.tsv``, not JSON so asv ignores it) makes recording
idempotent: the same run recorded twice adds its samples once.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..results import atomic
from ..workloads import sweeps
from ..errors import UsageError
from ..run.matrix import HOST_STACK
from ..results.document import RunDocument, provider_label
from . import asvfiles, machine, mergeplan, specs
from .config import AsvConfig
from .snapshots import SnapshotCommit, Snapshot, StackRepo, parse_time

LEDGER = "netbench-recorded.tsv"
#: What a recording is about to do, written before and removed after: a recording that a
#: crash cut short is completed, or found not to have happened, by the next one.
JOURNAL = "netbench-recording.pending"
#: "trials": the trial indices recorded (a resumed run's later trials are recorded later).
_LEDGER_FIELDS = ("recorded_at", "machine", "commit", "run_id", "run_started_at", "source", "trials")


@dataclass
class Recorded:
    source: str
    machine: str
    snapshot: SnapshotCommit | None
    stack: str = HOST_STACK
    new_point: bool = False
    already: bool = False
    cells: int = 0
    samples: int = 0
    total_samples: int = 0  # in this point for this machine, after recording
    notes: list[str] = field(default_factory=list)


def ledger_rows(conf: AsvConfig) -> list[dict[str, str]]:
    """Every run recorded into history: machine, point (commit), run id and the document."""
    return read_ledger(conf.results_dir / LEDGER)


def read_ledger(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def ledger_text(rows: list[dict[str, str]]) -> str:
    """The ledger's text (rows of older ledgers gain the trials column, empty)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_LEDGER_FIELDS, delimiter="\t", lineterminator="\n", restval="",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _append_ledger(conf: AsvConfig, row: dict[str, str]) -> None:
    """The ledger rewritten whole with the new row."""
    atomic.write_text(conf.results_dir / LEDGER, ledger_text([*ledger_rows(conf), row]))


def trial_ranges(indices: set[int]) -> str:
    """{0, 1, 2, 5} -> "0-2,5" (the ledger's trials column)."""
    parts, ordered = [], sorted(indices)
    start = previous = None
    for index in ordered + [None]:  # type: ignore[list-item]
        if start is not None and (index is None or index != previous + 1):  # type: ignore[operator]
            parts.append(str(start) if start == previous else f"{start}-{previous}")
            start = None
        if index is not None and start is None:
            start = index
        previous = index
    return ",".join(parts)


def parse_trial_ranges(text: str | None) -> set[int] | None:
    """The inverse of trial_ranges; None for a row written before the column existed (then
    the whole run was recorded)."""
    if text is None or not text.strip():
        return None
    found: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        found.update(range(int(low), int(high or low) + 1))
    return found


def recover(conf: AsvConfig) -> str | None:
    """Complete or drop a recording a crash cut short, from its journal. Samples are written
    atomically, so the point holds either the samples before or the samples after: in the
    first case nothing was recorded, in the second the ledger row is added now. Returns
    what was done, if anything. Call with the results directory locked."""
    path = conf.results_dir / JOURNAL
    if not path.is_file():
        return None
    try:
        pending = json.loads(path.read_text())
        now = asvfiles.count_samples(conf, pending["row"]["machine"], pending["row"]["commit"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        path.unlink(missing_ok=True)
        return f"an unreadable recording journal was removed ({exc})"
    done = now == pending["before"] + pending["added"]
    if done:
        _append_ledger(conf, pending["row"])
    path.unlink(missing_ok=True)
    run = pending["row"]["run_id"]
    return (f"completed the recording of run {run} that was cut short" if done
            else f"the recording of run {run} was cut short before its samples were written; record it again")


def collect(document: RunDocument, stack: str = HOST_STACK,
            skip_trials: set[int] | frozenset[int] = frozenset()) -> tuple[list[asvfiles.NewSamples], list[str]]:
    """Samples per benchmark spec from a document's cells of one stack (leaving out trials
    already recorded), and notes on what was left out and why."""
    notes: list[str] = []
    started = parse_time(document.run["started_at"])
    known = {(s.workload, s.metric): s for s in specs.all_specs()}
    workloads = {s.workload for s in known.values()}
    samples: dict[str, dict[tuple[str, str], list[float]]] = {}
    seconds: dict[str, float] = {}
    variants: dict[str, int] = {}
    for cell in document.cells:
        if cell.stack != stack:
            continue
        if cell.workload not in workloads and is_variant(cell.workload, workloads):
            if cell.status != "not_applicable":
                variants[cell.workload] = variants.get(cell.workload, 0) + 1
            continue
        if cell.workload not in workloads:
            notes.append(f"{cell.cell.label}: workload {cell.workload} is not in this suite's benchmarks; not recorded")
            continue
        if cell.status != "measured":
            continue
        for info in [cell.metric_info(cell.metric), *cell.extra_metrics]:
            spec = known.get((cell.workload, info.id))
            if spec is None:
                notes.append(f"{cell.cell.label}: metric {info.id} is not in this suite's benchmarks; not recorded")
                continue
            if (info.unit, info.higher_is_better) != (spec.unit, spec.higher_is_better):
                notes.append(f"{cell.cell.label}: {info.id} is in {info.unit} here but {spec.unit} in history; "
                             "not recorded")
                continue
            if (cell.method, cell.placement) not in spec.combinations():
                notes.append(f"{cell.cell.label}: not a parameter of {spec.name}; not recorded")
                continue
            values = [t.samples[info.id] for t in cell.trials
                      if t.status == "ok" and not t.warmup and t.index not in skip_trials and info.id in t.samples
                      and math.isfinite(t.samples[info.id])]
            if values:
                samples.setdefault(spec.name, {})[(cell.method, cell.placement)] = values
                seconds[spec.name] = seconds.get(spec.name, 0.0) + sum(t.seconds for t in cell.trials)
    if variants:
        notes.append(f"{sum(variants.values())} cell(s) of swept workload variants ({', '.join(sorted(variants))}) "
                     "are not recorded: history's benchmarks are the workloads run without --container-mtu, "
                     "--streams or --delay (and the path variants of the lan and wan presets); compare sweep runs "
                     "with 'python -m bench_runner compare'")
    by_name = {s.name: s for s in known.values()}
    additions = [asvfiles.NewSamples(by_name[name], found, started, seconds[name]) for name, found in samples.items()]
    return additions, notes


def is_variant(workload_id: str, workloads: set[str]) -> bool:
    """A sweep's variant of a benchmarked workload (``tcp-stream+mtu1500``)? Its values are
    whatever a run asked for, so it has no fixed asv benchmark of its own (asv discovers those
    from benchmarks/netbench.py, one per workload metric), and its samples, measured under
    other conditions, must not join the workload's own."""
    try:
        base, values = sweeps.split(workload_id)
    except KeyError:
        return False
    return bool(values) and base in workloads


def snapshot_of(document: RunDocument, stack: str = HOST_STACK) -> Snapshot:
    """The history point a stack's cells belong to. This machine's own stack keeps the
    snapshot it always had (its provider "podman+bare:pasta" where a run mixed providers, so
    pasta through the bare helpers never pools with pasta through Podman); a booted stack is
    its versions on this machine's kernel, its name, and the provider that ran it (its Podman)."""
    if stack == HOST_STACK:
        return Snapshot.of(document.stack, provider_label(document.provider))
    versions = document.stack_versions(stack)
    keys = ("kernel", "podman", "passt", "slirp4netns", "rootlesskit", "iperf3")
    items = [(key, "none" if versions.get(key) is None else str(versions[key])) for key in keys]
    items += [("stack", stack), ("provider", str(document.provider_of(stack).get("id", "unknown")))]
    return Snapshot(tuple(items))


def record_stacks(document: RunDocument, source: str, conf: AsvConfig, *,
                  machine_name: str | None = None) -> list[Recorded]:
    """Every stack of a document, each into its own point."""
    return [record_document(document, source, conf, machine_name=machine_name, stack=stack)
            for stack in document.stack_names()]


def record_document(document: RunDocument, source: str, conf: AsvConfig, *,
                    machine_name: str | None = None, stack: str = HOST_STACK) -> Recorded:
    """Add one document's samples of one stack to history (idempotent per machine, run and stack)."""
    name = machine.checked_name(machine_name or machine.this_host())
    if document.run.get("status") == "running":
        raise UsageError(f"{source}: the run is still going (status running) or was killed; "
                         "record it once it has finished")
    # The ledger names a booted stack's share of a run as RUN@STACK; host rows stay as they were.
    run_id = str(document.run.get("id", "")) + ("" if stack == HOST_STACK else f"@{stack}")
    run_started = str(document.run["started_at"])
    snapshot = snapshot_of(document, stack)
    outcome = Recorded(source=source, machine=name, snapshot=None, stack=stack)
    additions, outcome.notes = collect(document, stack)
    if document.run.get("status") == "incomplete":
        outcome.notes.append("the run was incomplete: only the cells it measured are recorded")
    repo = StackRepo(conf.stack_repo, conf.branch)
    measured = {t.index for c in document.cells if c.stack == stack for t in c.trials if t.status == "ok" and not t.warmup}
    info = machine.machine_info(name, document.stack)
    with asvfiles.locked(conf.results_dir), asvfiles.atomic_json_writes():
        for recovered in (mergeplan.recover(conf.results_dir, repo), recover(conf)):
            if recovered:
                outcome.notes.append(recovered)
        earlier = [row for row in ledger_rows(conf)
                   if (row["machine"], row["run_id"], row["run_started_at"]) == (name, run_id, run_started)]
        recorded: set[int] = set()
        for row in earlier:
            indices = parse_trial_ranges(row.get("trials"))
            recorded |= measured if indices is None else indices
        if earlier and measured <= recorded:
            outcome.already = True
            outcome.snapshot = repo.resolve(earlier[-1]["commit"])
            outcome.total_samples = asvfiles.count_samples(conf, name, earlier[-1]["commit"])
            return outcome
        if earlier:
            additions, outcome.notes = collect(document, stack, recorded)
            outcome.notes.append(f"{len(measured - recorded)} trial(s) measured since this run was last recorded "
                                 "(it was resumed) are added")
        if not additions:
            outcome.notes.append("no measured samples in this document; nothing recorded")
            return outcome
        discovered = asvfiles.discover(conf)
        entries = {a.spec.name: asvfiles.checked_entry(discovered, a.spec) for a in additions}
        point, outcome.new_point = repo.find_or_add(snapshot, parse_time(run_started))
        outcome.snapshot = point
        asvfiles.write_benchmarks_json(conf, discovered)
        asvfiles.write_machine_json(conf, info)
        row = {"recorded_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "machine": name,
               "commit": point.commit, "run_id": run_id, "run_started_at": run_started, "source": source,
               "trials": trial_ranges(measured - recorded)}
        outcome.samples = sum(len(v) for a in additions for v in a.samples.values())
        # The journal first: samples and ledger row then count as one step (see recover).
        atomic.write_text(conf.results_dir / JOURNAL, json.dumps({
            "row": row, "before": asvfiles.count_samples(conf, name, point.commit), "added": outcome.samples}))
        asvfiles.add_samples(conf, machine_params=machine.params(name, document.stack), commit=point.commit,
                             date=point.date, entries=entries, additions=additions)
        _append_ledger(conf, row)
        (conf.results_dir / JOURNAL).unlink()
        outcome.cells = len({(a.spec.workload, *combo) for a in additions for combo in a.samples})
        outcome.total_samples = asvfiles.count_samples(conf, name, point.commit)
        changed = machine.ensure_asv_machine_entry(info)
    if changed is not None:
        outcome.notes.append(f"added machine {name} to {changed} (kernel-independent), so a plain asv run "
                             "finds it")
    return outcome


def ordered(documents: list[tuple[str, RunDocument]]) -> list[tuple[str, RunDocument]]:
    """Oldest run first, so history rebuilt from archives keeps the measurement order."""
    return sorted(documents, key=lambda item: parse_time(item[1].run["started_at"]))
