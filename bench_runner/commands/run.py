"""``run``: measure the matrix, write the results document, print the ranked tables."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from .. import __version__, defaults, matrix
from ..errors import VIOLATION_EXIT, SetupError, UsageError
from ..matrix import METHODS, PLACEMENTS, WORKLOADS
from ..methods import BASELINE
from ..providers import CHOICES
from .argtypes import add_output_format, non_negative_int, percentage, positive_int

HELP = "measure the methods and print ranked tables"
DESCRIPTION = (
    "Build the two-host lab, run repeated interleaved trials of every method x workload x "
    "placement (each trial a fresh server and client, as the unprivileged benchmark user), "
    "write the results document after every trial, and print per workload and placement a "
    "ranked table of medians with intervals that cover at least 95%%, ratios to host, transitive ranks and "
    "family-wise ordering verdicts."
)
DEFAULT_WORKLOADS = "tcp-stream,tcp-rr"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--methods", action="append", metavar="IDS",
                        help=f"comma-separated method ids, or all (default: all that the workloads apply to): "
                             f"{', '.join(METHODS)}")
    parser.add_argument("--workloads", action="append", metavar="IDS",
                        help=f"comma-separated workload ids, or all (default: {DEFAULT_WORKLOADS}): {', '.join(WORKLOADS)}")
    parser.add_argument("--placements", action="append", metavar="IDS",
                        help=f"comma-separated placement ids (default: all): {', '.join(PLACEMENTS)}")
    parser.add_argument("--stacks", action="append", metavar="NAMES",
                        help="comma-separated stacks whose software runs the server side: 'host' (this machine's "
                             "own) and/or release stacks made with 'stack build NAME', each booted for the run in a "
                             "lab of its own and measured through its own Podman (default: host)")
    parser.add_argument("--provider", default="auto",
                        help=f"for the host stack, one of {', '.join(CHOICES)} (booted stacks always use their Podman)")
    parser.add_argument("--quick", action="store_true",
                        help="CI-sized: 1 s trials, no warm-up, one round (no intervals)")
    parser.add_argument("--duration", type=positive_int, default=3, help="seconds measured per trial")
    parser.add_argument("--omit", type=non_negative_int, default=1,
                        help="seconds of warm-up discarded at the start of each trial")
    parser.add_argument("--rounds", type=positive_int, default=defaults.ROUNDS,
                        help="measured rounds every cell gets (trials per method x workload x placement); a 95%% "
                             "interval needs 6, and the default run's family of verdicts about 9")
    parser.add_argument("--max-rounds", type=positive_int, default=defaults.MAX_ROUNDS,
                        help="keep adding rounds, to every cell of a workload and placement, while one of its "
                             "intervals is wider than --precision, up to this")
    parser.add_argument("--precision", type=percentage, default=defaults.PRECISION * 100, metavar="PCT",
                        help="target relative half-width of each median's 95%% interval, in percent")
    parser.add_argument("--warmup-rounds", type=non_negative_int, default=1,
                        help="rounds run first and left out of the statistics")
    parser.add_argument("--seed", type=int, default=None, help="seed of the trial order (default: random, recorded)")
    parser.add_argument("--mtu", type=positive_int, default=defaults.MTU, help="MTU of the lab's veth link")
    parser.add_argument("--pasta", default=defaults.PASTA, metavar="PATH",
                        help="pasta binary for the bare provider (e.g. a local build)")
    parser.add_argument("--method-file", metavar="FILE",
                        help="TOML file of user-defined methods, each a built-in one with more helper options or "
                             "a binary of its own, e.g. pasta-mtu1500 = { base = \"pasta\", options = "
                             "[\"--mtu\", \"1500\"] }; they can be named in --methods and --expect")
    parser.add_argument("--stack", action="append", default=[], metavar="KEY=VALUE",
                        help="add a fact about the stack to the record, e.g. passt=custom-build")
    parser.add_argument("--output", "-o", metavar="PATH",
                        help="results document to write (default: runs/<UTC time>-<tag>.json); an existing one is "
                             "never replaced without --force")
    parser.add_argument("--force", action="store_true", help="let --output replace an existing results document")
    parser.add_argument("--expect", action="append", metavar="ORDER",
                        help="an ordering to judge, best first, e.g. 'pasta>slirp4netns-rootlesskit' "
                             "(repeatable; default: the documented pasta>slirp4netns-rootlesskit>slirp4netns-slirp4netns)")
    from ..presets import PRESETS
    from ..sweeps import SWEEPS

    parser.add_argument("--preset", metavar="NAME",
                        help="a named set of workloads and sweeps, filling in what the command line leaves out "
                             f"('list --presets' shows them with their duration here): {', '.join(PRESETS)}")
    sweep_help = {
        "mtu": "the MTU inside the container, set the way each method sets it (pasta --mtu, slirp4netns mtu=, "
               "rootlesskit --mtu, a bridge network's mtu option) and checked inside the container; host and "
               "socket activation keep the lab link's (--mtu)",
        "streams": "iperf3's parallel streams (-P) for the iperf3 workloads, aggregate throughput",
        "size": "the message size of the echo round trips (tcp-rr, udp-rr, tcp-crr) and udp-stream's datagram",
        "udp_rate": "udp-stream's offered rate (iperf3 -b) in Mbit/s, instead of its 1 Gbit/s",
        "delay": "milliseconds of one-way delay added with netem on the lab link (client host's end); remote "
                 "placement only; needs a kernel with sch_netem",
        "family": "the IP version the client connects with (remote: the server host's 2001:db8:5100::1, "
                  "loopback: ::1; outbound: the client host's 2001:db8:5100::2); 4 keeps the workload's id "
                  "(tcp-stream), 6 adds +ipv6; a method that cannot carry IPv6 is not applicable, with why",
    }
    for name, sweep in SWEEPS.items():
        values = (" or ".join(map(str, sweep.allowed)) if sweep.allowed
                  else f"{sweep.low}-{sweep.high} {sweep.unit}")
        parser.add_argument(sweep.flag, metavar="LIST",
                            help=f"sweep: comma-separated values, {values}, each a variant "
                                 f"of every workload it applies to (ranked at the same value): {sweep_help[name]}")
    parser.add_argument("--skip-claims", action="store_true",
                        help="do not probe the document's claims (device binding, port floor, host loopback, "
                             "outbound) after the trials")
    parser.add_argument("--capture", action="append", metavar="KINDS",
                        help="after the trials, one extra short trial per cell (not in the statistics) with "
                             "evidence for a bug report, files beside the results document: pcap (pasta's own "
                             "--pcap where the method is pasta, tcpdump in the server host otherwise; each "
                             "packet's first 192 bytes, 4 MiB a file) and/or perf (perf record -g of the process owning the published port, "
                             "with perf report text in the report)")
    parser.add_argument("--tolerance", type=percentage, default=defaults.TOLERANCE * 100, metavar="PCT",
                        help="how close to host counts as native performance, in percent")
    parser.add_argument("--fail-on-violation", action="store_true",
                        help="exit 3 when the data violate an expected ordering, for CI pipelines (1 when a "
                             "trial failed)")
    add_output_format(parser, "the ranked tables, verdicts, claims and warnings as one JSON object on stdout "
                              "(no progress; errors still on stderr)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="show on stderr each command the run starts (helpers, servers, clients, Podman), "
                             "as '+ COMMAND', and the output of one that fails")
    parser.add_argument("--client-host", metavar="ssh://USER@HOST[:PORT]",
                        help="run the client side of every workload on another computer, over OpenSSH (key "
                             "authentication, never a password prompt; HOST an IP address): the placement 'remote' "
                             "is that computer, the server side stays on this machine, in the network namespace "
                             "the run is started in; no lab is built (see README, 'Two computers')")
    parser.add_argument("--server-address", metavar="ADDR",
                        help="with --client-host: the address of this machine the client host connects to")
    parser.add_argument("--client-key", metavar="FILE",
                        help="with --client-host: the private key ssh authenticates with (default: ssh's own, "
                             "~/.ssh/id_*)")
    parser.add_argument("--client-known-hosts", metavar="FILE",
                        help="with --client-host: the known_hosts file that holds the client host's key (default: "
                             "~/.ssh/known_hosts; an unknown or changed key is refused, never accepted)")
    parser.add_argument("--resume", metavar="PATH",
                        help="continue the incomplete run recorded in PATH (its own options and provider, "
                             "a new lab; finished trials are kept, the document is updated in place)")


def parse_stack_facts(items: list[str]) -> dict[str, str]:
    facts = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value or not key.replace("_", "").replace("-", "").replace(".", "").isalnum():
            raise UsageError(f"--stack {item!r}: expected KEY=VALUE with a plain key, e.g. passt=custom-build")
        facts[key] = value
    return facts


def selected_matrix(args: argparse.Namespace) -> matrix.Matrix:
    from .. import presets
    from ..stacks.spec import parse_stack_names

    presets.apply(args)
    stacks = parse_stack_names(args.stacks)
    workloads = matrix.parse_ids(args.workloads or [DEFAULT_WORKLOADS], WORKLOADS, "workload")
    placements = matrix.parse_ids(args.placements, PLACEMENTS, "placement")
    if args.methods:
        methods = matrix.parse_ids(args.methods, METHODS, "method")
        # The baseline is always measured in the same run: ratios to it need it.
        methods = matrix.parse_ids([BASELINE, *methods], METHODS, "method")
    else:
        methods = tuple(m for m in METHODS if any(matrix.applies(m, WORKLOADS[w]) for w in workloads))
    swept = swept_values(args)
    unused_sweeps(swept, workloads)
    built = matrix.build(methods, workloads, placements, stacks, swept)
    if not built.cells:
        # Say why, where the cells say it (a sweep that fits none of the workloads, say).
        reasons = list(dict.fromkeys(why for _, why in built.not_applicable))
        raise UsageError("nothing to measure: no selected method applies to the selected workloads"
                         + (f" ({'; '.join(reasons[:3])}{'; ...' if len(reasons) > 3 else ''})" if reasons else ""))
    return built


def swept_values(args: argparse.Namespace) -> dict[str, tuple[int, ...]]:
    """The sweeps asked for, validated (a bad value is one line and exit 2)."""
    from ..sweeps import SWEEPS

    found = {}
    for name, sweep in SWEEPS.items():
        values = sweep.parse(getattr(args, sweep.flag.lstrip("-").replace("-", "_"), None))
        if values:
            found[name] = values
    return found


def unused_sweeps(swept: dict[str, tuple[int, ...]], workloads: tuple[str, ...]) -> None:
    """A sweep that none of the selected workloads takes would measure nothing it asks for:
    refuse it, with why, rather than run the workloads as if it had not been given."""
    from ..sweeps import SWEEPS, applicable

    for name in swept:
        if not any(name in applicable({name: swept[name]}, WORKLOADS[w]) for w in workloads):
            first = WORKLOADS[workloads[0]]
            why = next((SWEEPS[name].why_not(first, p) for p in first.placements), None) or "it does not apply"
            raise UsageError(f"{SWEEPS[name].flag} applies to none of the selected workloads "
                             f"({', '.join(workloads)}): {why}")


def default_output(tag: str) -> Path:
    directory = Path("runs")
    directory.mkdir(exist_ok=True)
    return directory / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{tag}.json"


def request_from_args(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Everything validated before anything is built or imported heavily."""
    from ..request import RunRequest
    from ..verdicts import DOCUMENTED, parse_expectation
    from ..workloads import TrialSettings

    if args.method_file:
        from .. import methods
        from ..methods import userfile

        methods.define(userfile.load(args.method_file))
    built = selected_matrix(args)
    named = matrix.parse_ids(args.methods, METHODS, "method") if args.methods else ()
    facts = parse_stack_facts(args.stack)
    expectations = tuple(args.expect or [DOCUMENTED])
    for expectation in expectations:
        parse_expectation(expectation)
    if args.provider not in CHOICES:
        raise UsageError(f"unknown provider '{args.provider}'; valid: {', '.join(CHOICES)}")
    if args.quick:
        settings, warmup, rounds, max_rounds = TrialSettings(duration_s=1, omit_s=0), 0, 1, 1
    else:
        settings, warmup, rounds = TrialSettings(args.duration, args.omit), args.warmup_rounds, args.rounds
        max_rounds = max(args.max_rounds, rounds)
    from ..capture import parse_kinds

    captures = parse_kinds(args.capture)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    from ..clienthost import two

    client = two.from_args(args.client_host, args.server_address, args.client_key, args.client_known_hosts)
    return for_client_host(RunRequest(built, settings, warmup, rounds, max_rounds, args.precision / 100, seed,
                                      args.provider, args.mtu, args.pasta, expectations, args.tolerance / 100,
                                      not args.skip_claims, bool(args.quick), facts, named, captures,
                                      swept_values(args), client))


#: Why an outbound workload does not run with --client-host.
OUTBOUND_TWO_COMPUTERS = ("not measured with --client-host: its server would run on the client host, which the "
                          "suite reaches only to run clients")


def for_client_host(request):  # type: ignore[no-untyped-def]
    """A --client-host request as it can run: this machine's own stack, no lab-link delay, the
    IP family of the two addresses, the outbound workloads not applicable (their server
    would run on the client host), no claims probes (they need the lab's client host and its
    second link), and the tools the client host needs."""
    from dataclasses import replace

    from ..clienthost import two

    client = request.client
    if client is None:
        return request
    booted = [s for s in request.matrix.stacks() if s != matrix.HOST_STACK]
    if booted:
        raise UsageError(f"--client-host measures this machine's own software; --stacks {','.join(booted)} boots a "
                         "stack in a lab of its own, which another computer cannot reach")
    if any(request.swept.get("delay", ())):
        raise UsageError("--delay adds netem on the lab link, and a --client-host run has none: add delay on the "
                         "real path with tc netem yourself")
    family = client.options.target.family
    asked = set(request.swept.get("family", (4,)))
    if asked != {family}:
        raise UsageError(f"--client-host {client.options.target.url} and --server-address {client.server_address} "
                         f"are IPv{family}: " + ("add --family 6" if family == 6 else "--family 6 needs IPv6 addresses"))
    built = request.matrix.set_aside(
        lambda c: OUTBOUND_TWO_COMPUTERS if matrix.workload(c.workload).outbound else None)
    if not built.cells:
        raise UsageError(f"nothing to measure with --client-host: the outbound workloads are {OUTBOUND_TWO_COMPUTERS}")
    needed = two.tools_needed([c.workload for c in built.cells], any(c.placement == "remote" for c in built.cells))
    return replace(request, matrix=built, probe_claims=False, client=replace(client, needed=needed))


def main(args: argparse.Namespace) -> int:
    from .. import verbose

    with verbose.enabled(sys.stderr, args.verbose):
        return resume(args) if args.resume else start(args)


def start(args: argparse.Namespace) -> int:
    """A new run, as the command line asks."""
    request = request_from_args(args)
    # Heavy imports (scipy, jsonschema) only once the arguments are known to be good.
    from .. import netem, results, stack
    from ..labsession import preflight
    from ..results import RunDocument
    from ..trials import new_cell_results, now_iso

    output = results.check_writable(args.output) if args.output else None
    if output is not None and output.exists() and not args.force:
        raise UsageError(f"--output {output}: a results document is already there; name another file, or add "
                         "--force to replace it")
    preflight()
    netem.require_for(request.swept.get("delay", ()))
    if request.client is not None:
        request.client.check()
    detected = stack.detect(request.facts, pasta_binary=request.pasta)
    choices, booted, request = choose_providers(request, detected)
    first = choices[request.matrix.stacks()[0]]
    host = choices.get(matrix.HOST_STACK, first)
    document = RunDocument(
        run={"id": "", "started_at": now_iso(), "finished_at": None, "status": "running",
             "command": ["python", "-m", "bench_runner", *sys.argv[1:]], "options": request.options(),
             "seed": request.seed},
        stack=detected.to_json(), lab={}, provider={"id": host.provider.id, "reason": host.reason},
        tool={"name": "podman-netbench", "version": __version__, "commit": stack.suite_commit()},
        availability={host.provider.id: {m: host.provider.check(m).to_json() for m in METHODS}},
        cells=new_cell_results(request.matrix),
        stacks={name: {**built.describe(), "provider": {"id": choices[name].provider.id, "reason": choices[name].reason},
                       "availability": {m: choices[name].provider.check(m).to_json() for m in METHODS}}
                for name, built in booted.items()},
    )
    return measure_and_show(args, request, document, choices, output)


def choose_providers(request, detected):  # type: ignore[no-untyped-def]
    """Per stack, the provider that runs its methods: for this machine's own software as
    --provider says, for a booted stack its own Podman. Also the built stacks, by name, and
    the request with the methods a stack's Podman cannot run marked not applicable there."""
    from dataclasses import replace

    from ..providers import choose, choose_in_stack, unavailable
    from ..stacks import store

    choices = {}
    booted = {}
    reasons: dict[str, list[str]] = {}
    asked = set(request.matrix.methods())
    for name in request.matrix.stacks():
        if name == matrix.HOST_STACK:
            choices[name] = choose(request.provider, request.matrix.methods(), podman_version=detected.podman,
                                   pasta_binary=request.pasta)
            where = "on this machine"
        else:
            built = store.find(name)
            booted[name] = built
            choices[name] = choose_in_stack(name, built.key_versions().get("podman"), built.root)
            where = "in this stack"
        missing = unavailable(choices[name].provider, request.matrix.methods_in(name))
        for method, why in missing.items():
            reasons.setdefault(method, []).append(f"{matrix.stack_label(method, name)}: {why}")
        request = replace(request, matrix=request.matrix.without(
            name, {m: f"not available {where}: {why}" for m, why in missing.items()}))
        if name == matrix.HOST_STACK:
            continue
        if not request.matrix.methods_in(name):
            raise SetupError(f"stack {name} can run none of the requested methods ("
                             + "; ".join(f"{m}: {why}" for m, why in missing.items()) + ")")
    nowhere = [m for m in request.named_methods if m in asked and m not in request.matrix.methods()]
    if nowhere:
        raise SetupError("no stack of this run can run " + ", ".join(nowhere) + " ("
                         + "; ".join(r for m in nowhere for r in reasons.get(m, [])) + ")")
    if not request.matrix.cells:
        raise SetupError("nothing to measure here: " + "; ".join(r for rs in reasons.values() for r in rs))
    return choices, booted, request


def resume(args: argparse.Namespace) -> int:
    """Continue an incomplete run in its own document: the same options and provider, a new
    lab; trials already there are kept and not run again."""
    from .. import netem, results, stack
    from ..labsession import preflight
    from ..request import from_options

    given = options_given_with_resume(args)
    if given:
        raise UsageError(f"--resume continues the run with its own options; these were given too: {', '.join(given)} "
                         "(start a new run to change them)")
    path = results.check_writable(args.resume)
    document = results.load(path)
    if document.run.get("status") == "complete":
        raise UsageError(f"{path}: the run is complete; nothing to resume")
    request = for_client_host(from_options(document.run.get("options", {}), document.run.get("seed"),
                                           document.stack.get("stated", {})))
    preflight()
    netem.require_for(request.swept.get("delay", ()))
    if request.client is not None:
        request.client.check()
    detected = stack.detect(request.facts, pasta_binary=request.pasta)
    problems = resume_problems(document, detected, stack.suite_commit())
    if problems:
        raise UsageError(f"{path}: cannot be resumed here: {'; '.join(problems)}; start a new run instead")
    if matrix.HOST_STACK in request.matrix.stacks():
        request = _with_provider(request, document.provider["id"])
    choices, booted, request = choose_providers(request, detected)
    for name, built in booted.items():
        before = document.stacks.get(name, {})
        if (before.get("key"), before.get("content")) != (built.manifest.get("key"), built.manifest.get("content")):
            raise UsageError(f"{path}: stack {name} was rebuilt since the run started; start a new run instead")
    document.run.setdefault("resumed_at", []).append(_now())
    document.run["status"] = "running"
    return measure_and_show(args, request, document, choices, path)


def _with_provider(request, provider: str):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(request, provider=provider)


def _now() -> str:
    from ..trials import now_iso

    return now_iso()


def resume_problems(document, detected, commit: str | None) -> list[str]:  # type: ignore[no-untyped-def]
    """Why a stored run cannot be continued here: another machine, other software (key
    versions, a rebuilt --pasta binary), other kernel settings, or another version of the
    suite would mix two different measurements in one document."""
    before = document.stack
    problems = []
    if before.get("machine") and before.get("machine") != detected.machine:
        problems.append("it was started on another machine")
    stated = before.get("stated", {})
    old = {k: before.get(k, stated.get(k)) for k in detected.key_versions()}
    changed = [f"{k} {old[k]} -> {v}" for k, v in detected.key_versions().items() if old[k] != v]
    if changed:
        problems.append("the stack changed (" + ", ".join(changed) + ")")
    sysctls = [k for k in set(before.get("sysctls", {})) | set(detected.sysctls)
               if before.get("sysctls", {}).get(k) != detected.sysctls.get(k)]
    if sysctls:
        problems.append("kernel settings changed (" + ", ".join(sorted(sysctls)) + ")")
    recorded = document.tool.get("commit")
    if recorded and commit and recorded != commit:
        problems.append(f"the suite is at another commit ({recorded[:10]} -> {commit[:10]})")
    return problems


#: Options --resume may be given with: they change how it shows, not what it measures.
RESUME_COMPATIBLE = {"resume", "format", "verbose", "fail_on_violation", "handler", "command"}


def options_given_with_resume(args: argparse.Namespace) -> list[str]:
    """The options on the command line besides --resume that would change the measurement:
    a resumed run takes its own, so they would be ignored silently."""
    defaults_ = vars(build_defaults())
    return sorted(f"--{k.replace('_', '-')}" for k, v in vars(args).items()
                  if k not in RESUME_COMPATIBLE and k in defaults_ and v != defaults_[k])


def build_defaults() -> argparse.Namespace:
    parser = argparse.ArgumentParser(add_help=False)
    add_arguments(parser)
    return parser.parse_args([])


def measure_and_show(args: argparse.Namespace, request, document, choices, output) -> int:  # type: ignore[no-untyped-def]
    from .. import eta, hostinfo, progress, results, verbose
    from ..labsession import open_sessions
    from ..trials import Plan, TrialRunner, now_iso

    log = (lambda s: None) if args.format == "json" else (lambda s: print(s, file=sys.stderr, flush=True))
    for name, choice in choices.items():
        prefix = f"stack {name}: " if len(choices) > 1 or name != matrix.HOST_STACK else ""
        log(f"{prefix}provider: {choice.provider.id} ({choice.reason})")
    plan = Plan(request.matrix, request.settings, request.warmup_rounds, request.rounds, request.seed,
                max_rounds=request.max_rounds, precision=request.precision)
    status = "incomplete"
    phases: dict[str, float] = {}
    clock = time.monotonic()
    if request.client is not None:
        from ..labsession import open_two_computers

        log(f"client host: {request.client.options.target.url}, connecting to {request.client.server_address}; "
            "claims probes not run (they need the lab's client host and its second link)")
        opened = open_two_computers(request.client, log=log)
    else:
        opened = open_sessions(request.matrix.stacks(), mtu=request.mtu, log=log)
    with opened as sessions:
        first = next(iter(sessions.values()))
        document.run["id"] = document.run.get("id") or first.lab.tag
        document.lab = first.lab_record()
        for name, session in sessions.items():
            if session.stack is not None:
                document.stacks[name].update(lab=session.lab_record(), boot=session.stack.record()["boot"],
                                             podman_info=session.stack.podman_info)
        if not document.stack.get("podman_info"):
            # The session made the user's runtime directory and holds the run lock.
            document.stack["podman_info"] = hostinfo.podman_info(first.user)
        output = output or default_output(first.lab.tag)
        work = planned_work(plan, request)
        document.run.setdefault("estimate_s", [round(v) for v in work.seconds()])
        extra = f" + up to {work.extra_trials} in extra rounds" if work.extra_trials else ""
        log(f"results: {output}  ({plan.total_trials} trials{extra}; "
            f"{eta.describe(work.seconds(), progress.clock_text)})")
        results.save(document, output)
        load_before = hostinfo.load_sample()
        targets = {name: (session, choices[name].provider) for name, session in sessions.items()}
        try:
            phases["setup"] = time.monotonic() - clock
            clock = time.monotonic()
            with progress.for_run(sys.stderr, quiet=args.format == "json", may_grow=plan.max_rounds > plan.rounds,
                                  max_total=work.trials + work.extra_trials,
                                  after_s=work.after_trials_s(work.prior_trial_s())) as shown, \
                    verbose.through(shown.note):
                runner = TrialRunner(document, output, first, targets[first.stack_name][1], shown.finished,
                                     shown.started, stacks=targets)
                runner.run(plan)
            phases["trials"] = time.monotonic() - clock
            clock = time.monotonic()
            if request.captures and not document.captures:
                from ..capture import capture_all

                directory = output.with_name(f"{output.stem}-captures")
                document.captures = capture_all(runner, plan.matrix.cells, request.captures, directory,
                                                output.parent, log)
                results.save(document, output)
                phases["captures"] = time.monotonic() - clock
                clock = time.monotonic()
            if request.probe_claims and not document.checks.get("claims"):
                from ..claims_probe import Prober

                found = []
                for name, (session, provider) in targets.items():
                    prober = Prober(session, provider, log)
                    found += [o.to_json() for o in prober.all(request.matrix.methods_in(name))]
                document.checks["claims"] = found
                phases["claims"] = time.monotonic() - clock
                results.save(document, output)
            document.checks["verdicts"] = judged_record(document, request.expectations)
            status = "complete"
        finally:
            # Per measuring session: a resumed run adds one.
            document.run.setdefault("load", []).append(hostinfo.load_record(load_before, hostinfo.load_sample()))
            document.run["status"] = status
            document.run["finished_at"] = now_iso()
            document.run["phases_s"] = {**document.run.get("phases_s", {}),
                                        **{k: round(v, 1) for k, v in phases.items()}}
            results.save(document, output)
    return show(args, request, document, output, log)


def judged_record(document, expectations) -> dict:  # type: ignore[no-untyped-def]
    """What the run concluded, both ways (each pair's own decision and the family-wise one),
    kept in the document; ``report`` computes the same again from the samples."""
    from ..report.jsonout import verdict_json
    from ..verdicts import FAMILY_RULE, judge_all

    judged = judge_all(document, expectations)
    return {"rule": FAMILY_RULE, "by_expectation": {e: [verdict_json(v) for v in vs] for e, vs in judged.items()}}


def show(args: argparse.Namespace, request, document, output, log) -> int:  # type: ignore[no-untyped-def]
    """The ranked tables, verdicts, claims and warnings; the exit code says what failed."""
    from .. import analysis, claims, stability, tables
    from ..report.jsonout import table_json, verdict_json
    from ..verdicts import judge_all

    rendered = analysis.rank_tables(document)
    verdicts = judge_all(document, request.expectations)
    warnings = stability.warnings_for(document)
    claim_cells = claims.matrix(document, request.tolerance)
    if args.format == "json":
        print(json.dumps({"results": str(output), "tables": [table_json(t) for t in rendered],
                          "verdicts": {e: [verdict_json(v) for v in vs] for e, vs in verdicts.items()},
                          "claims": [vars(c) for c in claim_cells],
                          "warnings": [w.text() for w in warnings]}, indent=1))
    else:
        print(tables.render_all(rendered))
        for found in verdicts.values():
            print("\n" + tables.render_verdicts(found))
        print("\n" + tables.render_claims(claim_cells))
        print("\n" + tables.render_warnings(warnings))
        print(f"\nresults document: {output}")
    code = 0
    failed = sum(1 for c in document.cells for t in c.trials if t.status != "ok")
    if failed:
        log(f"{failed} trial(s) failed; their reasons are in the results document")
        code = 1
    violated = [v.where for vs in verdicts.values() for v in vs if v.violated]
    if args.fail_on_violation and violated:
        log(f"expected ordering violated in: {', '.join(violated)}")
        code = code or VIOLATION_EXIT  # a failed trial (1) is the first thing to fix
    return code


def planned_work(plan, request):  # type: ignore[no-untyped-def]
    """What the run will do, for its time estimate: trials (and extra rounds at most), the
    claims probes, the capture trials, the stacks to boot."""
    from .. import eta

    cells = plan.matrix.cells
    extra = len(cells) * max(plan.max_rounds - plan.rounds, 0)  # every family to --max-rounds
    probes = 0
    if request.probe_claims:
        for stack in plan.matrix.stacks():
            own = [m for m in plan.matrix.methods_in(stack) if METHODS[m].own_network]
            probes += eta.probes_for(len(own), len(plan.matrix.methods_in(stack)) - len(own))
    return eta.Work(trials=plan.total_trials, extra_trials=extra, probes=probes,
                    capture_trials=len(cells) * len(request.captures),
                    stack_boots=sum(1 for s in plan.matrix.stacks() if s != matrix.HOST_STACK),
                    trial_s=plan.settings.duration_s + plan.settings.omit_s)
