"""``run``: measure the matrix, write the results document, print the ranked tables."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from .. import __version__, defaults
from ..run import matrix
from ..workloads import sweeps
from ..errors import VIOLATION_EXIT, SetupError, UsageError
from ..run.matrix import METHODS, PLACEMENTS, WORKLOADS
from ..methods import BASELINE
from ..providers import CHOICES
from ..argtypes import add_output_format

HELP = "measure the methods and print ranked tables"
DESCRIPTION = (
    "Build the two-host lab, run repeated interleaved trials of every method x workload x "
    "placement (each trial a fresh server and client, as the unprivileged benchmark user), "
    "write the results document after every trial, and print per workload and placement a "
    "ranked table of medians with intervals that cover at least 95%%, ratios to host, transitive ranks and "
    "family-wise ordering verdicts."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..run import runoptions
    from ..run.presets import PRESETS

    runoptions.add_flags(parser)  # what the run measures: recorded, reported and reproduced
    # What the run is given besides (recorded elsewhere in the document), and how it shows.
    parser.add_argument("--seed", type=int, default=None, help="seed of the trial order (default: random, recorded)")
    parser.add_argument("--stack", action="append", default=[], metavar="KEY=VALUE",
                        help="add a fact about the stack to the record, e.g. passt=custom-build")
    parser.add_argument("--preset", metavar="NAME",
                        help="a named set of workloads and sweeps, filling in what the command line leaves out "
                             f"('list --presets' shows them with their duration here): {', '.join(PRESETS)}")
    parser.add_argument("--output", "-o", metavar="PATH",
                        help="results document to write (default: runs/<UTC time>-<tag>.json); an existing one is "
                             "never replaced without --force")
    parser.add_argument("--force", action="store_true", help="let --output replace an existing results document")
    parser.add_argument("--fail-on-violation", action="store_true",
                        help="exit 3 when the data violate an expected ordering, for CI pipelines (1 when a "
                             "trial failed)")
    add_output_format(parser, "the ranked tables, verdicts, claims and warnings as one JSON object on stdout "
                              "(no progress; errors still on stderr)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="show on stderr each command the run starts (helpers, servers, clients, Podman), "
                             "as '+ COMMAND', and the output of one that fails")
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
    from ..run import presets
    from ..stacks.spec import parse_stack_names

    presets.apply(args)
    stacks = parse_stack_names(args.stacks)
    workloads = matrix.parse_ids(args.workloads or [defaults.WORKLOADS], WORKLOADS, "workload")
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
    from ..workloads.sweeps import SWEEPS

    found = {}
    for name, sweep in SWEEPS.items():
        values = sweep.parse(getattr(args, sweep.flag.lstrip("-").replace("-", "_"), None))
        if values:
            found[name] = values
    link_mtu_alone(found)
    return with_implied_delay(found)


def link_mtu_alone(swept: dict[str, tuple[int, ...]]) -> None:
    """--link-mtu sets the plain lab link; a shaped path (a non-zero delay, loss or rate) runs
    through devices that keep the run's --mtu, so the two together would not measure what
    the MTU sweep names: refuse them together."""
    from ..workloads.sweeps import PATH_SWEEPS, SWEEPS

    shaped_path = [SWEEPS[name].flag for name in PATH_SWEEPS if any(swept.get(name, ()))]
    if swept.get("link_mtu") and shaped_path:
        raise UsageError(f"--link-mtu with {', '.join(shaped_path)}: the link's MTU is swept on the plain lab link "
                         "only (a shaped path's devices keep the run's --mtu); run them separately")


def with_implied_delay(swept: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """A loss or a rate without --delay is --delay 0: every cell of a run that shapes the
    path names its round trip (``+rtt0ms``), so none takes the id of a plain-link cell
    (``tcp-stream``) while it crossed the run's path (a delay box, where netem is missing)."""
    from ..workloads.sweeps import PATH_SWEEPS, SWEEPS

    if "delay" in swept or not any(name in swept for name in PATH_SWEEPS):
        return swept
    return {name: swept.get(name, (0,)) for name in SWEEPS if name in swept or name == "delay"}


def unused_sweeps(swept: dict[str, tuple[int, ...]], workloads: tuple[str, ...]) -> None:
    """A sweep that none of the selected workloads takes would measure nothing it asks for:
    refuse it, with why, rather than run the workloads as if it had not been given."""
    from ..workloads.sweeps import SWEEPS, applicable

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
    from ..run.request import RunRequest, budget_seconds
    from ..analysis.verdicts import DOCUMENTED, parse_expectation
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
        settings, warmup, rounds = trial_settings(args.duration, args.omit), args.warmup_rounds, args.rounds
        max_rounds = max(args.max_rounds, rounds)
    from ..run.capture import parse_kinds

    captures = parse_kinds(args.capture)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    from ..clienthost import two

    client = two.from_args(args.client_host, args.server_address, args.client_key, args.client_known_hosts)
    return for_client_host(RunRequest(built, settings, warmup, rounds, max_rounds, args.precision / 100, seed,
                                      args.provider, args.mtu, args.pasta, expectations, args.tolerance / 100,
                                      not args.skip_claims, bool(args.quick), facts, named, captures,
                                      swept_values(args), client, args.margin / 100,
                                      budget_seconds(args.time_budget)))


def trial_settings(duration: int | None, omit: int | None):  # type: ignore[no-untyped-def]
    """Neither --duration nor --omit given: each workload its own checked length
    (defaults.TRIAL_BY_WORKLOAD), 3 s + 1 s for the others; either given: that, for every workload."""
    from ..workloads import TrialSettings

    if duration is None and omit is None:
        return TrialSettings(defaults.DURATION_S, defaults.OMIT_S, by_workload=tuple(
            (name, d, o) for name, (d, o) in sorted(defaults.TRIAL_BY_WORKLOAD.items())))
    return TrialSettings(defaults.DURATION_S if duration is None else duration,
                         defaults.OMIT_S if omit is None else omit)


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
    shaped = [sweeps.SWEEPS[name].flag for name in sweeps.PATH_SWEEPS if name in request.swept]
    if shaped:
        raise UsageError(f"{', '.join(shaped)}: a --client-host run has no lab path to shape; add delay, loss or a "
                         "rate limit on the real path with tc yourself")
    if request.swept.get("link_mtu"):
        raise UsageError("--link-mtu sets the lab link's MTU, and a --client-host run has none: set the MTU of the "
                         "real path's interfaces yourself")
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
    from ..lab import netem
    from ..results import document as results
    from ..stacks import detect as stack
    from ..run.labsession import preflight
    from ..results.document import RunDocument
    from ..run import runoptions
    from ..run.trials import new_cell_results, now_iso

    output = results.check_writable(args.output) if args.output else None
    if output is not None and output.exists() and not args.force:
        raise UsageError(f"--output {output}: a results document is already there; name another file, or add "
                         "--force to replace it")
    preflight()
    path = netem.choose(request.swept)
    if request.client is not None:
        request.client.check()
    detected = stack.detect(request.facts, pasta_binary=request.pasta)
    choices, booted, request = choose_providers(request, detected)
    from ..providers import availability_record, provider_record

    first = choices[request.matrix.stacks()[0]]
    host = choices.get(matrix.HOST_STACK, first)
    document = RunDocument(
        run={"id": "", "started_at": now_iso(), "finished_at": None, "status": "running",
             "command": ["python", "-m", "bench_runner", *sys.argv[1:]], "options": runoptions.record(request),
             "seed": request.seed},
        stack=detected.to_json(), lab={}, provider=provider_record(host, request.matrix.methods_in(matrix.HOST_STACK)),
        tool={"name": "podman-netbench", "version": __version__, "commit": stack.suite_commit()},
        availability=availability_record(host),
        cells=new_cell_results(request.matrix),
        stacks={name: {**built.describe(), "provider": {"id": choices[name].provider.id, "reason": choices[name].reason},
                       "availability": {m: choices[name].provider.check(m).to_json() for m in METHODS}}
                for name, built in booted.items()},
    )
    return measure_and_show(args, request, document, choices, output, path)


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
    from ..lab import netem
    from ..methods import userfile
    from ..results import document as results
    from ..stacks import detect as stack
    from ..run.labsession import preflight
    from ..run.request import from_options

    given = options_given_with_resume(args)
    if given:
        raise UsageError(f"--resume continues the run with its own options; these were given too: {', '.join(given)} "
                         "(start a new run to change them)")
    path = results.check_writable(args.resume)
    document = userfile.load_document(path)
    if document.run.get("status") == "complete":
        raise UsageError(f"{path}: the run is complete; nothing to resume")
    request = for_client_host(from_options(document.run.get("options", {}), document.run.get("seed"),
                                           document.stack.get("stated", {})))
    preflight()
    shaped = path_choice(document, netem.choose(request.swept))
    if request.client is not None:
        request.client.check()
    detected = stack.detect(request.facts, pasta_binary=request.pasta)
    problems = resume_problems(document, detected, stack.suite_commit())
    if problems:
        raise UsageError(f"{path}: cannot be resumed here: {'; '.join(problems)}; start a new run instead")
    mixed = bool(document.provider.get("by_method"))
    if matrix.HOST_STACK in request.matrix.stacks() and not mixed:
        request = _with_provider(request, document.provider["id"])
    choices, booted, request = choose_providers(request, detected)
    if mixed:
        from ..providers import provider_record

        again = provider_record(choices[matrix.HOST_STACK], request.matrix.methods_in(matrix.HOST_STACK))
        if again.get("by_method") != document.provider.get("by_method"):
            raise UsageError(f"{path}: cannot be resumed here: its methods ran through other providers "
                             f"({document.provider.get('reason')}); start a new run instead")
    for name, built in booted.items():
        before = document.stacks.get(name, {})
        if (before.get("key"), before.get("content")) != (built.manifest.get("key"), built.manifest.get("content")):
            raise UsageError(f"{path}: stack {name} was rebuilt since the run started; start a new run instead")
    document.run.setdefault("resumed_at", []).append(_now())
    document.run["status"] = "running"
    return measure_and_show(args, request, document, choices, path, shaped)


def path_choice(document, path):  # type: ignore[no-untyped-def]
    """A resumed run crosses the path its trials so far crossed, or none at all."""
    before = (document.lab.get("path") or {}).get("via")
    now = None if path is None else path.kind
    if before and now and before != now:
        raise UsageError(f"the run's trials crossed a {before}, this machine now gives a {now}: start a new run")
    return path


def _with_provider(request, provider: str):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(request, provider=provider)


def _now() -> str:
    from ..run.trials import now_iso

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


def measure_and_show(args: argparse.Namespace, request, document, choices, output, path=None) -> int:  # type: ignore[no-untyped-def]
    from ..analysis import claims
    from ..run import eta, progress
    from .. import verbose
    from ..run.labsession import open_sessions
    from ..run.lifecycle import measuring
    from ..run.schedule import budget_left
    from ..run.trials import TrialRunner

    log = (lambda s: None) if args.format == "json" else (lambda s: print(s, file=sys.stderr, flush=True))
    from ..providers import provider_record
    from ..results.document import provider_label

    for name, choice in choices.items():
        prefix = f"stack {name}: " if len(choices) > 1 or name != matrix.HOST_STACK else ""
        label = provider_label(provider_record(choice, request.matrix.methods_in(name)))
        log(f"{prefix}provider: {label} ({choice.reason})")
    plan = plan_of(request)
    if request.client is not None:
        from ..run.labsession import open_two_computers

        log(f"client host: {request.client.options.target.url}, connecting to {request.client.server_address}; "
            "claims probes not run (they need the lab's client host and its second link)")
        opened = open_two_computers(request.client, log=log)
    else:
        if path is not None:
            log(f"path: {path.kind} ({path.why})")
        opened = open_sessions(request.matrix.stacks(), mtu=request.mtu, log=log, path=path)
    with measuring(document, opened, log=log, output=lambda tag: output or default_output(tag)) as current:
        output = current.output
        work = planned_work(plan, request)
        document.run.setdefault("estimate_s", [round(v) for v in work.seconds()])
        extra = f" + up to {work.extra_trials} in extra rounds" if work.extra_trials else ""
        log(f"results: {output}  ({plan.total_trials} trials{extra}; "
            f"{eta.describe(work.seconds(), progress.clock_text, work.upper_why())})")
        targets = {name: (session, choices[name].provider) for name, session in current.sessions.items()}
        current.phase_done("setup")
        with progress.for_run(sys.stderr, quiet=args.format == "json", may_grow=plan.max_rounds > plan.rounds,
                              max_total=work.trials + work.extra_trials,
                              after_s=work.after_trials_s(work.prior_trial_s()),
                              budget_left_s=budget_left(plan.time_budget_s, document)) as shown, \
                verbose.through(shown.note):
            first = current.first
            runner = TrialRunner(document, output, first, targets[first.stack_name][1], shown.finished,
                                 shown.started, stacks=targets)
            runner.run(plan)
        current.phase_done("trials")
        if request.captures and not document.captures:
            from ..run.capture import capture_all

            directory = output.with_name(f"{output.stem}-captures")
            document.captures = capture_all(runner, plan.matrix.cells, request.captures, directory,
                                            output.parent, log)
            current.save()
            current.phase_done("captures")
        if request.probe_claims and not document.checks.get("claims"):
            from ..run.claims_probe import Prober

            found = []
            families = sweeps.probe_families(c.workload for c in request.matrix.cells)
            for name, (session, provider) in targets.items():
                prober = Prober(session, provider, log)
                found += [o.to_json() for o in prober.all(request.matrix.methods_in(name), families)]
            document.checks["claims"] = found
            current.phase_done("claims")
            current.save()
        document.checks["verdicts"] = judged_record(document, request.expectations)
        document.checks["rounds"] = rounds_record(document, request)
        document.checks["claims_matrix"] = claims.record(document, request.tolerance)
        current.complete()
    return show(args, request, document, output, log)


def judged_record(document, expectations) -> dict:  # type: ignore[no-untyped-def]
    """What the run concluded, both ways (each pair's own decision and the family-wise one),
    kept in the document; ``report`` computes the same again from the samples."""
    from ..report.jsonout import verdict_json
    from ..analysis.verdicts import FAMILY_RULE, judge_all

    judged = judge_all(document, expectations)
    return {"rule": FAMILY_RULE, "by_expectation": {e: [verdict_json(v) for v in vs] for e, vs in judged.items()}}


def rounds_record(document, request) -> dict:  # type: ignore[no-untyped-def]
    """Why each family stopped where it did: its rounds (its busiest cell's), and its pairs by
    state (separated, within the margin, undecided, out of reach of the cap)."""
    from ..analysis import sequential

    states = sequential.family_states(document, margin=request.margin, expectations=request.expectations)
    return {"rule": sequential.RULE, "margin": request.margin, "rounds": request.rounds,
            "max_rounds": request.max_rounds, "families": [s.to_json() for s in states]}


def show(args: argparse.Namespace, request, document, output, log) -> int:  # type: ignore[no-untyped-def]
    """The ranked tables, verdicts, claims and warnings; the exit code says what failed."""
    from ..analysis import ranking as analysis, claims, sequential, stability, tables
    from ..analysis import diagnosis
    from ..analysis.directions import direction_tables
    from ..report.jsonout import claims_json, direction_json, table_json, verdict_json, warning_json
    from ..analysis.verdicts import judge_all

    rendered = analysis.rank_tables(document)
    verdicts = judge_all(document, request.expectations)
    warnings = stability.warnings_for(document)
    claim_cells = claims.matrix(document, request.tolerance)
    both_ways = direction_tables(rendered, document)
    if args.format == "json":
        print(json.dumps({"results": str(output), "tables": [table_json(t) for t in rendered],
                          "directions": [direction_json(d) for d in both_ways],
                          "verdicts": {e: [verdict_json(v) for v in vs] for e, vs in verdicts.items()},
                          "claims": claims_json(claim_cells, request.tolerance),
                          "warnings": [warning_json(w) for w in warnings]}, indent=1))
    else:
        print(tables.render_all(rendered))
        if both_ways:
            print("\n" + tables.render_directions(both_ways))
        slow = diagnosis.by_cell(document)
        if slow:
            print("\nslow trials (less than a tenth of host's), where the data stopped (details: report):")
            print("\n".join(f"  {s.line()}" for s in slow))
        for found in verdicts.values():
            print("\n" + tables.render_verdicts(found))
        print("\n" + tables.render_claims(claim_cells))
        undecided = sequential.undecided_by_family(document, expectations=request.expectations)
        lines = stability.family_lines(document, warnings, undecided)
        print("\n" + tables.render_family_warnings(lines, f"python -m bench_runner report {output}"))
        for line in (tables.budget_line(document.run), tables.machine_line(document.run.get("load") or [])):
            if line:
                print(line)
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


def plan_of(request):  # type: ignore[no-untyped-def]
    """The scheduler's plan for a request: its rounds, and what decides the extra ones."""
    from ..run.trials import Plan

    return Plan(request.matrix, request.settings, request.warmup_rounds, request.rounds, request.seed,
                max_rounds=request.max_rounds, precision=request.precision, margin=request.margin,
                expectations=tuple(request.expectations), time_budget_s=request.time_budget_s)


def planned_work(plan, request):  # type: ignore[no-untyped-def]
    """What the run will do, for its time estimate: trials (and extra rounds at most), the
    claims probes, the capture trials, the stacks to boot; which trials are --udp-rate max
    searches."""
    from ..run import eta, udpmax

    cells = plan.matrix.cells
    lengths = plan.settings.lengths(c.workload for c in cells)
    extra_rounds = max(plan.max_rounds - plan.rounds, 0)
    extra = len(cells) * extra_rounds  # every pair undecided to --max-rounds
    searching = sum(1 for c in cells if sweeps.split(c.workload)[1].get("udp_rate") == sweeps.UDP_MAX)
    probes = 0
    if request.probe_claims:
        families = len(sweeps.probe_families(c.workload for c in cells))
        for stack in plan.matrix.stacks():
            own = [m for m in plan.matrix.methods_in(stack) if METHODS[m].own_network]
            probes += families * eta.probes_for(len(own), len(plan.matrix.methods_in(stack)) - len(own))
    return eta.Work(trials=plan.total_trials, extra_trials=extra, probes=probes,
                    capture_trials=len(cells) * len(request.captures),
                    stack_boots=sum(1 for s in plan.matrix.stacks() if s != matrix.HOST_STACK),
                    trial_s=(sum(sum(lengths[c.workload]) for c in cells) / len(cells)) if cells else 0.0,
                    search_trials=searching * (plan.warmup_rounds + plan.rounds),
                    search_extra_trials=searching * extra_rounds,
                    probe_s=udpmax.probe_seconds(plan.settings.duration_s), time_budget_s=plan.time_budget_s)
