"""The options of a run, each declared once: the flag and its help (the CLI), the key and value
the results document keeps (``run.options``), its label in the report's "Options used" table,
and the words that give it back in the command that reproduces the run.

A new option is one entry here plus the line of ``request_from_args`` that validates it; the
parser, the document, the report and the reproduce command follow from the entry. Options
that only change how a run shows or where it writes (``--output``, ``--format``) are not run
options: they are the ``run`` command's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .. import defaults

if TYPE_CHECKING:
    from .request import RunRequest
    from ..results.document import RunDocument

#: The document's run options, by key (what ``words`` reads besides its own value).
Options = Mapping[str, Any]


@dataclass(frozen=True)
class Flag:
    """One command-line flag: its name and ``argparse.add_argument`` keywords."""

    name: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOption:
    key: str  # in the results document's ``run.options``
    label: str  # row of the report's "Options used" table
    record: Callable[["RunRequest"], Any]  # the value the document keeps
    #: The words of the reproduce command that give the stored value back ([]: the default).
    words: Callable[[Any, Options, "RunDocument"], list[str]]
    flags: tuple[Flag, ...] = ()  # none: derived from other options, recorded only
    show: Callable[[Any], str] = str
    #: Shown in the table of options (methods, workloads, placements have sections of their own).
    in_table: bool = True
    #: Recorded only when it says something (an empty sweep list is not written).
    optional: bool = False


def _joined(flag: str) -> Callable[[Any, Options, "RunDocument"], list[str]]:
    return lambda value, options, document: [flag, ",".join(map(str, value))] if value else []


def _plain(flag: str, convert: Callable[[Any], str] = str) -> Callable[[Any, Options, "RunDocument"], list[str]]:
    """A timing flag: carried only when the run was not --quick (which sets them all)."""
    return lambda value, options, document: ([] if options.get("quick") or value is None
                                             else [flag, convert(value)])


def _length(flag: str) -> Callable[[Any, Options, "RunDocument"], list[str]]:
    """--duration and --omit: carried unless the run was --quick, or took each workload's own
    length (the run again without them does the same)."""
    plain = _plain(flag)
    return lambda value, options, document: [] if options.get("trial_by_workload") else plain(value, options, document)


def _lengths_text() -> str:
    return ", ".join(f"{w} {d} s + {o} s" for w, (d, o) in sorted(defaults.TRIAL_BY_WORKLOAD.items()))


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return _yes(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return "-" if value is None else str(value)


def _yes(value: Any) -> str:
    return "yes" if value else "no"


def _budget(value: Any, options: Options, document: "RunDocument") -> list[str]:
    """--time-budget, where the run had one (a --quick run adds no rounds to stop)."""
    if options.get("quick") or value is None:
        return []
    return ["--time-budget", f"{float(value) / 60:g}"]


def _nothing(value: Any, options: Options, document: "RunDocument") -> list[str]:
    return []


def _methods(value: Any, options: Options, document: "RunDocument") -> list[str]:
    """The methods as the user named them (the baseline joins by itself), so the run again
    treats them as named; where none were, every method the run measured."""
    chosen = options.get("methods_named") or value
    return ["--methods", ",".join(chosen)] if chosen else []


def _stacks(value: Any, options: Options, document: "RunDocument") -> list[str]:
    from .matrix import HOST_STACK

    return ["--stacks", ",".join(value)] if any(s != HOST_STACK for s in value or []) else []


def _placements(value: Any, options: Options, document: "RunDocument") -> list[str]:
    from .matrix import PLACEMENTS

    order = list(PLACEMENTS)
    return ["--placements", ",".join(sorted(value, key=lambda p: order.index(p) if p in order else len(order)))] \
        if value else []


def _provider(value: Any, options: Options, document: "RunDocument") -> list[str]:
    """The provider that actually carried the host stack, not the one asked for (auto); where
    auto mixed them (``provider.by_method``), auto again, which mixes them alike here."""
    from .matrix import HOST_STACK

    if document.provider.get("by_method"):
        return []
    carried = document.provider.get("id") if HOST_STACK in (options.get("stacks") or [HOST_STACK]) else None
    chosen = carried or value
    return ["--provider", str(chosen)] if chosen else []


def _pasta(value: Any, options: Options, document: "RunDocument") -> list[str]:
    return ["--pasta", str(value)] if value not in (None, defaults.PASTA) else []


def _expect(value: Any, options: Options, document: "RunDocument") -> list[str]:
    from ..analysis.verdicts import DOCUMENTED

    return [] if list(value or []) in ([], [DOCUMENTED]) else [w for e in value for w in ("--expect", e)]


def _tolerance(value: Any, options: Options, document: "RunDocument") -> list[str]:
    return ["--tolerance", _percent(value)] if value is not None and abs(value - defaults.TOLERANCE) > 1e-12 else []


def _sweeps(value: Any, options: Options, document: "RunDocument") -> list[str]:
    from ..workloads.sweeps import SWEEPS

    return [w for name, values in (value or {}).items() if name in SWEEPS
            for w in (SWEEPS[name].flag, ",".join(SWEEPS[name].text(v) for v in values))]


def _show_sweeps(value: Any) -> str:
    from ..workloads.sweeps import SWEEPS

    def text(name: str, x: int) -> str:
        return SWEEPS[name].text(x) if name in SWEEPS else str(x)

    return "; ".join(f"{name}: {', '.join(text(name, x) for x in values)}" for name, values in value.items())


def _client_host(value: Any, options: Options, document: "RunDocument") -> list[str]:
    client = value or {}
    return [w for flag, key in (("--client-host", "url"), ("--server-address", "server_address"),
                                ("--client-key", "identity"), ("--client-known-hosts", "known_hosts"))
            if client.get(key) for w in (flag, str(client[key]))]


def _show_client_host(value: Any) -> str:
    client = value or {}
    return f"{client.get('url')}, connecting to {client.get('server_address')}"


def _method_definitions(request: "RunRequest") -> Any:
    from .. import methods
    from ..methods import userfile

    return userfile.definitions(methods.defined()) or None


def _sweep_flags() -> tuple[Flag, ...]:
    from ..workloads.sweeps import SWEEPS, decimal_text

    flags = []
    for sweep in SWEEPS.values():
        values = (" or ".join(map(str, sweep.allowed)) if sweep.allowed else
                  f"{decimal_text(sweep.low, sweep.scale)}-{decimal_text(sweep.high, sweep.scale)} {sweep.unit}")
        values = values.replace("%", "%%")
        values += "".join(f" or {word}" for word, _ in sweep.words)
        flags.append(Flag(sweep.flag, {"metavar": "LIST", "help": (
            f"sweep: comma-separated values, {values}, each a variant of every workload it applies to "
            f"(ranked at the same value): {sweep.help}")}))
    return tuple(flags)


def _method_ids() -> str:
    from .matrix import METHODS

    return ", ".join(METHODS)


def _workload_ids() -> str:
    from .matrix import WORKLOADS

    return ", ".join(WORKLOADS)


def _placement_ids() -> str:
    from .matrix import PLACEMENTS

    return ", ".join(PLACEMENTS)


def _provider_ids() -> str:
    from ..providers import CHOICES

    return ", ".join(CHOICES)


def declared() -> tuple[RunOption, ...]:
    """Every run option, in the order of ``--help``, the document and the reproduce command.
    A function, not a constant: the help texts name the methods a ``--method-file`` adds."""
    from ..argtypes import minutes, non_negative_int, percentage, positive_int

    return (
        RunOption("methods", "methods", lambda r: r.matrix.methods(), _methods, (Flag("--methods", {
            "action": "append", "metavar": "IDS",
            "help": f"comma-separated method ids, or all (default: all that the workloads apply to): {_method_ids()}"}),),
            in_table=False),
        RunOption("methods_named", "methods named on the command line", lambda r: list(r.named_methods), _nothing,
                  show=lambda v: ", ".join(v) or "none (all that apply)"),
        RunOption("workloads", "workloads", lambda r: r.workloads(), _joined("--workloads"), (Flag("--workloads", {
            "action": "append", "metavar": "IDS",
            "help": f"comma-separated workload ids, or all (default: {defaults.WORKLOADS}): {_workload_ids()}"}),),
            in_table=False),
        RunOption("stacks", "stacks measured", lambda r: r.matrix.stacks(), _stacks, (Flag("--stacks", {
            "action": "append", "metavar": "NAMES",
            "help": "comma-separated stacks whose software runs the server side: 'host' (this machine's own) "
                    "and/or release stacks made with 'stack build NAME', each booted for the run in a lab of its "
                    "own and measured through its own Podman (default: host)"}),),
            show=lambda v: ", ".join(v)),
        RunOption("placements", "placements", lambda r: sorted({c.placement for c in r.matrix.cells}), _placements,
                  (Flag("--placements", {"action": "append", "metavar": "IDS",
                                         "help": f"comma-separated placement ids (default: all): {_placement_ids()}"}),),
                  in_table=False),
        RunOption("provider", "provider asked for", lambda r: r.provider, _provider, (Flag("--provider", {
            "default": "auto",
            "help": f"for the host stack, one of {_provider_ids()} (booted stacks always use their Podman)"}),)),
        RunOption("quick", "quick (CI-sized) run", lambda r: r.quick,
                  lambda v, o, d: ["--quick"] if v else [], (Flag("--quick", {
                      "action": "store_true", "help": "CI-sized: 1 s trials, no warm-up, one round (no intervals)"}),),
                  show=_yes),
        RunOption("duration_s", "seconds measured per trial", lambda r: r.settings.duration_s,
                  _length("--duration"), (Flag("--duration", {
                      "type": positive_int,
                      "help": f"seconds measured per trial, for every workload (default: each workload's own, "
                              f"{_lengths_text()}; {defaults.DURATION_S} s + {defaults.OMIT_S} s for the others: "
                              "README 'Trial length')"}),)),
        RunOption("omit_s", "seconds discarded at the start of each trial", lambda r: r.settings.omit_s,
                  _length("--omit"), (Flag("--omit", {
                      "type": non_negative_int,
                      "help": "seconds of warm-up discarded at the start of each trial, for every workload "
                              "(default: each workload's own, as for --duration)"}),)),
        RunOption("trial_by_workload", "workloads with a trial length of their own (seconds measured + omitted)",
                  lambda r: {w: list(v) for w, v in r.settings.lengths(
                      w for w, _, _ in r.settings.by_workload).items()} or None,
                  _nothing, show=lambda v: ", ".join(f"{w} {d} s + {o} s" for w, (d, o) in sorted(v.items())),
                  optional=True),
        RunOption("rounds", "measured rounds per cell", lambda r: r.rounds, _plain("--rounds"), (Flag("--rounds", {
            "type": positive_int, "default": defaults.ROUNDS,
            "help": "measured rounds every cell gets (trials per method x workload x placement); a 95%% interval "
                    "needs 6, and the default run's family of verdicts about 9"}),)),
        RunOption("warmup_rounds", "warm-up rounds (not in the statistics)", lambda r: r.warmup_rounds,
                  _plain("--warmup-rounds"), (Flag("--warmup-rounds", {
                      "type": non_negative_int, "default": defaults.WARMUP_ROUNDS,
                      "help": "rounds run first and left out of the statistics (default: %(default)s: a run's "
                              "first round is its noisiest, README 'Warm-up')"}),)),
        RunOption("max_rounds", "rounds at most, while a pair is undecided", lambda r: r.max_rounds,
                  _plain("--max-rounds"), (Flag("--max-rounds", {
                      "type": positive_int, "default": defaults.MAX_ROUNDS,
                      "help": "keep adding rounds to the two methods of a pair (of one workload and placement) "
                              "while the pair is undecided (neither separated nor within --margin), up to this; "
                              "each look at the data spends only its share of the 5%% error rate"}),)),
        RunOption("look_step", "rounds a pair adds between two looks", lambda r: defaults.LOOK_STEP, _nothing),
        RunOption("time_budget_s", "seconds the trials may take before extra rounds stop", lambda r: r.time_budget_s,
                  _budget, (Flag("--time-budget", {
                      "type": minutes, "default": defaults.TIME_BUDGET_MIN, "metavar": "MIN",
                      "help": "minutes the trials may take (their own seconds, warm-up included) before no more "
                              "extra rounds start: a bound on the run's time, paid in pairs left undecided (said "
                              "so); the fixed rounds always run (default: 0, no limit but --max-rounds; 9 keeps "
                              "the default run within ten minutes on a 2-core machine)"}),),
                  show=lambda v: "none" if v is None else f"{v / 60:g} min"),
        RunOption("precision", "target half-width of each interval", lambda r: r.precision,
                  _plain("--precision", _percent), (Flag("--precision", {
                      "type": percentage, "default": defaults.PRECISION * 100, "metavar": "PCT",
                      "help": "target relative half-width of each median's 95%% interval, in percent: cells "
                              "wider than this are reported (it adds no rounds)"}),),
                  show=lambda v: f"{v * 100:g}%"),
        RunOption("margin", "pairs within this of each other are decided", lambda r: r.margin,
                  _plain("--margin", _percent), (Flag("--margin", {
                      "type": percentage, "default": defaults.MARGIN * 100, "metavar": "PCT",
                      "help": "two methods shown within this many percent of each other (both one-sided t tests "
                              "on their per-round ratios) need no more rounds, like two shown apart"}),),
                  show=lambda v: f"+/-{v * 100:g}%"),
        RunOption("mtu", "MTU asked for the lab link", lambda r: r.mtu,
                  lambda v, o, d: [] if v is None else ["--mtu", str(v)], (Flag("--mtu", {
                      "type": positive_int, "default": defaults.MTU, "help": "MTU of the lab's veth link"}),)),
        RunOption("pasta", "pasta binary", lambda r: r.pasta, _pasta, (Flag("--pasta", {
            "default": defaults.PASTA, "metavar": "PATH",
            "help": "pasta binary for the bare provider (e.g. a local build)"}),)),
        RunOption("expect", "orderings judged", lambda r: list(r.expectations), _expect, (Flag("--expect", {
            "action": "append", "metavar": "ORDER",
            "help": "an ordering to judge, best first, e.g. 'pasta>slirp4netns-rootlesskit' (repeatable; default: "
                    "the documented pasta>slirp4netns-rootlesskit>slirp4netns-slirp4netns)"}),),
            show=lambda v: "; ".join(v)),
        RunOption("tolerance", "how close to host counts as native", lambda r: r.tolerance, _tolerance,
                  (Flag("--tolerance", {"type": percentage, "default": defaults.TOLERANCE * 100, "metavar": "PCT",
                                        "help": "how close to host counts as native performance, in percent"}),),
                  show=lambda v: f"{v * 100:g}%"),
        RunOption("claims_probed", "claims probed", lambda r: r.probe_claims,
                  lambda v, o, d: ["--skip-claims"] if v is False else [], (Flag("--skip-claims", {
                      "action": "store_true",
                      "help": "do not probe the document's claims (device binding, port floor, host loopback, "
                              "outbound) after the trials"}),),
                  show=_yes),
        RunOption("sweeps", "swept values (each a workload variant)",
                  lambda r: {k: list(v) for k, v in r.swept.items()} or None, _sweeps, _sweep_flags(),
                  show=_show_sweeps,
                  optional=True),
        RunOption("captures", "evidence captured after the trials (--capture)",
                  lambda r: list(r.captures) or None, _joined("--capture"), (Flag("--capture", {
                      "action": "append", "metavar": "KINDS",
                      "help": "after the trials, one extra short trial per cell (not in the statistics) with "
                              "evidence for a bug report, files beside the results document: pcap (pasta's own "
                              "--pcap where the method is pasta, tcpdump in the server host otherwise; each "
                              "packet's first 192 bytes, 4 MiB a file) and/or perf (perf record -g of the process "
                              "owning the published port, with perf report text in the report)"}),),
                  show=lambda v: ", ".join(v), optional=True),
        RunOption("method_definitions", "user-defined methods (--method-file)", _method_definitions,
                  # The definitions are in the document, not in a file the command could name.
                  lambda v, o, d: [], (Flag("--method-file", {
                      "metavar": "FILE",
                      "help": "TOML file of user-defined methods, each a built-in one with more helper options or "
                              "a binary of its own, e.g. pasta-mtu1500 = { base = \"pasta\", options = "
                              "[\"--mtu\", \"1500\"] }; they can be named in --methods and --expect"}),),
                  show=lambda v: "; ".join(f"{k} = {json.dumps(d, sort_keys=True)}" for k, d in v.items()),
                  optional=True),
        RunOption("client_host", "client host, another computer over SSH (--client-host)",
                  lambda r: r.client.to_options() if r.client is not None else None, _client_host, (
                      Flag("--client-host", {
                          "metavar": "ssh://USER@HOST[:PORT]",
                          "help": "run the client side of every workload on another computer, over OpenSSH (key "
                                  "authentication, never a password prompt; HOST an IP address): the placement "
                                  "'remote' is that computer, the server side stays on this machine, in the network "
                                  "namespace the run is started in; no lab is built (see README, 'Two computers')"}),
                      Flag("--server-address", {
                          "metavar": "ADDR",
                          "help": "with --client-host: the address of this machine the client host connects to"}),
                      Flag("--client-key", {
                          "metavar": "FILE",
                          "help": "with --client-host: the private key ssh authenticates with (default: ssh's own, "
                                  "~/.ssh/id_*)"}),
                      Flag("--client-known-hosts", {
                          "metavar": "FILE",
                          "help": "with --client-host: the known_hosts file that holds the client host's key "
                                  "(default: ~/.ssh/known_hosts; an unknown or changed key is refused, never "
                                  "accepted)"})),
                  show=_show_client_host, optional=True),
    )


def by_key() -> dict[str, RunOption]:
    return {option.key: option for option in declared()}


#: Options the reproduce command cannot give back: they are named under it instead.
NOT_CARRIED = frozenset({"method_definitions"})


def add_flags(parser: Any) -> None:
    """Every run option's flags on an ``argparse`` parser."""
    for option in declared():
        for flag in option.flags:
            parser.add_argument(flag.name, **dict(flag.kwargs))


def record(request: "RunRequest") -> dict[str, Any]:
    """``run.options`` of the results document: enough to resume or reproduce the run."""
    found: dict[str, Any] = {}
    for option in declared():
        value = option.record(request)
        if option.optional and not value:
            continue
        found[option.key] = value
    return found


def table_rows(options: Options) -> list[list[str]]:
    """The report's "Options used" rows: each known option with its label, then any option a
    newer suite recorded that this one does not know, by its key."""
    known = by_key()
    rows = [[known[k].label, known[k].show(v)] for k, v in options.items() if k in known and known[k].in_table]
    rows += [[k, _value(v)] for k, v in options.items() if k not in known]
    return rows


def reproduce_words(options: Options, document: "RunDocument") -> list[str]:
    """The reproduce command's options, in declaration order."""
    return [w for option in declared() if option.key in options
            for w in option.words(options[option.key], options, document)]


def not_carried(options: Options) -> tuple[str, ...]:
    known = by_key()
    return tuple(sorted(k for k in options if k not in known or k in NOT_CARRIED))
