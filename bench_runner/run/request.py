"""What a run is asked to do, validated before anything is built: from the command line,
or, to resume an incomplete run, from the options its results document recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import defaults
from . import matrix
from ..errors import UsageError
from ..stacks.spec import HOST, parse_stack_names
from ..workloads.sweeps import base_of
from ..analysis.verdicts import DOCUMENTED, parse_expectation
from ..workloads import TrialSettings

if TYPE_CHECKING:
    from ..clienthost.two import TwoComputers


def budget_seconds(minutes: float) -> float | None:
    """--time-budget, in minutes, as the request's seconds; 0 is no budget."""
    return minutes * 60 if minutes else None


@dataclass(frozen=True)
class RunRequest:
    matrix: matrix.Matrix
    settings: TrialSettings
    warmup_rounds: int
    rounds: int
    max_rounds: int
    precision: float  # relative half-width, e.g. 0.05
    seed: int
    provider: str  # "auto", "podman" or "bare"
    mtu: int
    pasta: str
    expectations: tuple[str, ...]
    tolerance: float  # e.g. 0.10
    probe_claims: bool
    quick: bool
    facts: dict[str, str] = field(default_factory=dict)
    #: The methods the user named (--methods): one no stack can run is an error, where a
    #: method chosen by default is left out with why.
    named_methods: tuple[str, ...] = ()
    #: Evidence taken after the trials (--capture): "pcap", "perf".
    captures: tuple[str, ...] = ()
    #: Swept values by sweep name (--container-mtu, --streams, --delay).
    swept: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: The client host as another computer (--client-host), else None: the lab's.
    client: TwoComputers | None = None
    #: Two cells within this relative margin of each other need no more rounds (--margin).
    margin: float = defaults.MARGIN
    #: Seconds the trials may take before no more extra rounds start (--time-budget); None: no limit.
    time_budget_s: float | None = budget_seconds(defaults.TIME_BUDGET_MIN)

    def workloads(self) -> list[str]:
        """The base workloads asked for, measured or not applicable (not their swept variants)."""
        return sorted({base_of(c.workload) for c in self.matrix.cells}
                      | {base_of(c.workload) for c, _ in self.matrix.not_applicable})


def from_options(options: dict[str, Any], seed: int | None, facts: dict[str, str]) -> RunRequest:
    """The request a stored run was made with (for --resume)."""
    try:
        methods = matrix.parse_ids(options["methods"], matrix.METHODS, "method")
        workloads = matrix.parse_ids(options["workloads"], matrix.WORKLOADS, "workload")
        placements = matrix.parse_ids(options["placements"], matrix.PLACEMENTS, "placement")
        swept = {str(k): tuple(int(x) for x in v) for k, v in (options.get("sweeps") or {}).items()}
        stacks = parse_stack_names(list(options.get("stacks") or [HOST]))
        expectations = tuple(options.get("expect") or [DOCUMENTED])
        for expectation in expectations:
            parse_expectation(expectation)
        return RunRequest(
            matrix=matrix.build(methods, workloads, placements, stacks, swept),
            settings=TrialSettings(int(options["duration_s"]), int(options["omit_s"]), by_workload=tuple(
                (str(w), int(d), int(o)) for w, (d, o) in sorted((options.get("trial_by_workload") or {}).items()))),
            warmup_rounds=int(options["warmup_rounds"]), rounds=int(options["rounds"]),
            max_rounds=int(options.get("max_rounds", options["rounds"])),
            precision=float(options.get("precision", defaults.PRECISION)),
            seed=int(seed if seed is not None else 0), provider=str(options["provider"]),
            mtu=int(options.get("mtu", defaults.MTU)), pasta=str(options.get("pasta", defaults.PASTA)),
            expectations=expectations, tolerance=float(options.get("tolerance", defaults.TOLERANCE)),
            probe_claims=bool(options.get("claims_probed", True)), quick=bool(options.get("quick", False)),
            facts=dict(facts),
            named_methods=tuple(options.get("methods_named") or ()),
            captures=tuple(options.get("captures") or ()),
            swept=swept,
            client=client_of(options.get("client_host")),
            margin=float(options.get("margin", defaults.MARGIN)),
            # A run recorded before the budget existed had none.
            time_budget_s=None if options.get("time_budget_s") is None else float(options["time_budget_s"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"the results document's run options cannot be resumed ({exc})") from None


def client_of(recorded: Any) -> "TwoComputers | None":
    """The client host a stored run named (--client-host), checked as on the command line."""
    if not recorded:
        return None
    from ..clienthost import two

    if not isinstance(recorded, dict):
        raise UsageError("the results document's client host is not an object")
    client = two.from_args(recorded.get("url"), recorded.get("server_address"), recorded.get("identity"),
                           recorded.get("known_hosts"))
    return client
