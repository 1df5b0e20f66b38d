"""Calibration: how much of what the suite measures is the suite itself.

In one lab and one run, on the ``host`` method and the remote placement, the suite's own
figures are compared with references written in C on the same path: the suite's ``tcp-rr``
p50 against ``sockperf ping-pong`` (server and client between the same two namespaces, as
the benchmark user, same message size, round trips), and the suite's ``echo-stream`` against
iperf3's ``tcp-stream``. The suite's side runs through the very drivers and trial machinery
``run`` uses. Repetitions are interleaved in shuffled order; the first rounds are warm-up.
These are measurements with goals, not tests: nothing here asserts a goal.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from ..lab import observe
from .. import procs
from ..analysis import stats
from ..errors import BenchError, MeasurementError
from .matrix import Cell
from ..parsers import ParseError, sockperf
from ..providers import Provider, Session
from ..results.document import RunDocument, Trial
from .executor import TrialExecutor
from ..results.document import now_iso
from ..workloads import TrialSettings
from ..workloads.echo import MESSAGE_SIZE

#: Goals from issue 3: the suite's round trip at most 1.25 x sockperf's, its stream at least
#: 0.9 x iperf3's.
LATENCY_GOAL = 1.25
THROUGHPUT_GOAL = 0.9
METHOD = "host"
PLACEMENT = "remote"
#: sockperf servers listen here (below the trial ports, so they never meet).
SOCKPERF_PORT_BASE = 19000
SOCKPERF_PORT_SPAN = 1000
SOCKPERF_READY_TIMEOUT = 15.0
#: sockperf spends about 0.45 s of its run on its own warm-up: it gets the warm-up too.
SOCKPERF_EXTRA_S = 1

#: Each comparison's two steps (suite, reference) run back to back, in shuffled order.
PAIRS = {"latency": ("tcp-rr", "sockperf"), "throughput": ("echo-stream", "tcp-stream")}
STEPS = tuple(step for pair in PAIRS.values() for step in pair)


@dataclass(frozen=True)
class CalibrationPlan:
    repetitions: int = 5
    warmup_rounds: int = 1
    settings: TrialSettings = TrialSettings()
    seed: int = 0


@dataclass
class Comparison:
    """The suite's figure against a reference on the same path; ratio = suite / reference.

    Two estimates: the ratio of the medians, and the median of
    the per-round ratios of the two steps run back to back. The machine's speed drifts
    between rounds (other load, where the scheduler puts the two ends), which moves both
    steps of a round alike: the paired median cancels that, so the goal is judged on it."""

    id: str
    suite_label: str
    reference_label: str
    unit: str
    #: Per measured round, None where that round's step failed.
    suite_rounds: list[float | None]
    reference_rounds: list[float | None]
    goal: float
    #: True: the ratio should be at most the goal (latency); False: at least (throughput).
    goal_is_max: bool
    #: median(suite) / median(reference), shown beside the judged paired median.
    ratio_of_medians: float | None = None
    paired: stats.Summary | None = None

    @property
    def suite(self) -> list[float]:
        return [v for v in self.suite_rounds if v is not None]

    @property
    def reference(self) -> list[float]:
        return [v for v in self.reference_rounds if v is not None]

    @property
    def paired_ratios(self) -> list[float]:
        return [a / b for a, b in zip(self.suite_rounds, self.reference_rounds)
                if a is not None and b is not None and b > 0]

    def evaluate(self) -> "Comparison":
        if self.suite and self.reference and stats.summarize(self.reference).median:
            self.ratio_of_medians = stats.summarize(self.suite).median / stats.summarize(self.reference).median
        self.paired = stats.summarize(self.paired_ratios) if self.paired_ratios else None
        return self

    @property
    def judged(self) -> float | None:
        """The estimate the goal is judged on: the paired median."""
        return self.paired.median if self.paired is not None else None

    @property
    def met(self) -> bool | None:
        value = self.judged
        if value is None:
            return None
        return value <= self.goal if self.goal_is_max else value >= self.goal

    @property
    def goal_text(self) -> str:
        return f"{'<=' if self.goal_is_max else '>='} {self.goal:g}"

    def to_json(self) -> dict[str, Any]:
        def summary(values: list[float]) -> dict[str, Any] | None:
            if not values:
                return None
            s = stats.summarize(values)
            return {"median": s.median, "ci": [s.ci_low, s.ci_high], "n": s.n, "values": list(values)}

        return {
            "id": self.id, "suite": self.suite_label, "reference": self.reference_label, "unit": self.unit,
            "suite_summary": summary(self.suite), "reference_summary": summary(self.reference),
            "ratio_of_medians": self.ratio_of_medians,
            "paired_ratios": summary(self.paired_ratios),
            "ratio": self.judged, "goal": self.goal_text, "met": self.met,
        }


@dataclass
class CalibrationResult:
    comparisons: list[Comparison]
    #: Every step run, in order: what, round, warm-up, value or error.
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed_steps(self) -> int:
        return sum(1 for s in self.steps if s.get("error"))


def comparisons(rounds: dict[str, list[float | None]]) -> list[Comparison]:
    """Pure: per-step values of the measured rounds (None where a step failed), aligned by
    round, to the two comparisons."""
    def get(step: str) -> list[float | None]:
        return list(rounds.get(step, []))

    return [
        Comparison("latency", "suite tcp-rr p50 (echo service, Python)", "sockperf ping-pong p50 (C)", "us",
                   get("tcp-rr"), get("sockperf"), LATENCY_GOAL, True).evaluate(),
        Comparison("throughput", "suite echo-stream (echo service sink, Python)", "iperf3 tcp-stream (C)",
                   "Gbit/s", get("echo-stream"), get("tcp-stream"), THROUGHPUT_GOAL, False).evaluate(),
    ]


def round_order(round_index: int, seed: int) -> list[str]:
    """The steps of one round: the pairs in shuffled order, each pair's two steps back to
    back in shuffled order."""
    rng = random.Random(f"{seed}:{round_index}")
    pairs = [list(pair) for pair in PAIRS.values()]
    rng.shuffle(pairs)
    for pair in pairs:
        rng.shuffle(pair)
    return [step for pair in pairs for step in pair]


class Calibration:
    def __init__(self, session: Session, provider: Provider, document: RunDocument,
                 log: Callable[[str], None] = lambda s: None) -> None:
        self.session = session
        self.provider = provider
        self.document = document
        self.log = log
        # The same trial executor as ``run`` (the document keeps the steps, not the trials).
        self.runner = TrialExecutor({session.stack_name: (session, provider)})
        self.sockperf_runs = 0

    def run(self, plan: CalibrationPlan) -> CalibrationResult:
        rounds: dict[str, list[float | None]] = {step: [] for step in STEPS}
        result = CalibrationResult([])
        total = plan.warmup_rounds + plan.repetitions
        for round_index in range(total):
            warmup = round_index < plan.warmup_rounds
            for step in round_order(round_index, plan.seed):
                record: dict[str, Any] = {"step": step, "round": round_index, "warmup": warmup}
                value: float | None = None
                try:
                    value, details = self.step(step, round_index, warmup, plan.settings)
                    record.update(value=value, **details)
                except (BenchError, ParseError) as exc:
                    record["error"] = str(exc)
                if not warmup:
                    rounds[step].append(value)
                result.steps.append(record)
                shown = f"{value:.4g}" if value is not None else f"FAILED: {record['error']}"
                self.log(f"[round {round_index + 1}/{total}{' warm-up' if warmup else ''}] {step}: {shown}")
        result.comparisons = comparisons(rounds)
        return result

    def step(self, step: str, round_index: int, warmup: bool, settings: TrialSettings) -> tuple[float, dict[str, Any]]:
        if step == "sockperf":
            parsed, raw = self.sockperf(settings)
            return parsed.percentile(50.0), {"rtt_us": {f"p{k:g}": v for k, v in parsed.rtt_us.items()
                                                        if k in (50.0, 90.0, 99.0)},
                                             "round_trips": parsed.received, "sockperf_output": raw}
        metric = "p50" if step == "tcp-rr" else "throughput"
        trial = self.trial(step, round_index, warmup, settings)
        if trial.status != "ok":
            raise MeasurementError(f"{step} trial failed: {trial.error}")
        return trial.samples[metric], {"trial": trial.index, "samples": dict(trial.samples)}

    def trial(self, workload: str, round_index: int, warmup: bool, settings: TrialSettings) -> Trial:
        trial = self.runner.run_trial(Cell(workload, PLACEMENT, METHOD), round_index, warmup, settings)
        cell = self.document.cell(workload, PLACEMENT, METHOD)
        cell.trials.append(trial)
        cell.status = "measured" if cell.samples(include_warmup=True) else "failed"
        cell.reason = None if cell.status == "measured" else trial.error
        return trial

    def sockperf(self, settings: TrialSettings) -> tuple[sockperf.PingPong, str]:
        """One sockperf server (server host) and ping-pong client (client host), both as the
        benchmark user, on a fresh port; the server is stopped by its pid and checked gone."""
        lab = self.session.lab
        port = SOCKPERF_PORT_BASE + self.sockperf_runs % SOCKPERF_PORT_SPAN
        self.sockperf_runs += 1
        observe.require_free_port(lab.server_ns_path, port)
        server = procs.Spawned(self.session.user.argv(
            ["sockperf", "server", "--tcp", "-i", "0.0.0.0", "-p", str(port)], netns_path=lab.server_ns_path))
        entry = self.session.state.add_process(server.ref, "sockperf server")
        try:
            def listening() -> bool:
                if server.poll() is not None:
                    out, err = server.output()
                    raise MeasurementError(f"sockperf server exited: {(err or out).strip()[-200:]}")
                return observe.is_listening(lab.server_ns_path, "tcp", port)

            procs.wait_until(listening, timeout=SOCKPERF_READY_TIMEOUT, what=f"sockperf server on port {port}")
            seconds = settings.duration_s + settings.omit_s + SOCKPERF_EXTRA_S
            argv = self.session.user.argv(
                ["sockperf", "ping-pong", "--tcp", "-i", lab.server_addr, "-p", str(port), "-t", str(seconds),
                 "-m", str(MESSAGE_SIZE), "--full-rtt"], netns_path=lab.client_ns_path)
            result = procs.run(argv, timeout=seconds + 30, check=False)
            if result.returncode != 0:
                raise MeasurementError(f"sockperf ping-pong exited with {result.returncode}: "
                                       f"{(result.stderr or result.stdout).strip()[-200:]}")
            try:
                return sockperf.parse_ping_pong(result.stdout), result.stdout
            except ParseError as exc:
                raise MeasurementError(str(exc)) from None
        finally:
            server.stop(grace=2.0)
            gone = not server.ref.alive()
            server.close()
            self.session.state.discard(entry)
            procs.reap_orphans()
            if not gone:
                raise MeasurementError(f"sockperf server (pid {server.pid}) did not stop")


def new_document(provider: Provider, provider_reason: str, stack: dict[str, Any], plan: CalibrationPlan,
                 command: list[str]) -> RunDocument:
    """A results document holding the suite's calibration trials (sockperf's go to checks)."""
    from .matrix import build
    from .writer import new_cell_results

    matrix = build((METHOD,), ("tcp-rr", "echo-stream", "tcp-stream"), (PLACEMENT,))
    return RunDocument(
        run={"id": "", "started_at": now_iso(), "finished_at": None, "status": "running", "command": command,
             "options": {"calibration": True, "methods": [METHOD], "placements": [PLACEMENT],
                         "workloads": ["tcp-rr", "echo-stream", "tcp-stream"], "provider": provider.id,
                         "duration_s": plan.settings.duration_s, "omit_s": plan.settings.omit_s,
                         "rounds": plan.repetitions, "warmup_rounds": plan.warmup_rounds,
                         "message_size": MESSAGE_SIZE},
             "seed": plan.seed},
        stack=stack, lab={}, provider={"id": provider.id, "reason": provider_reason},
        cells=new_cell_results(matrix),
    )
