"""Property-based tests: parsers and option handling never crash on arbitrary input; they
either return data or raise the one error type the CLI turns into a clear line."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bench_runner.run import matrix
from bench_runner.commands.run import parse_stack_facts
from bench_runner.errors import UsageError
from bench_runner.parsers import ParseError, iperf3, ss, versions
from bench_runner.analysis.verdicts import parse_expectation
from tests.conftest import read_data

TEXT = st.text(max_size=400)
IDS = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@given(TEXT)
def test_iperf3_parsers_return_or_raise_parse_error(text: str) -> None:
    for parse in (iperf3.parse_client, iperf3.parse_server):
        try:
            parse(text)
        except ParseError:
            pass


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children,
                                                                                       max_size=4),
                    max_leaves=20))
def test_iperf3_parsers_survive_any_json_shape(value: object) -> None:
    text = json.dumps(value)
    for parse in (iperf3.parse_client, iperf3.parse_server):
        try:
            parse(text)
        except ParseError:
            pass


@settings(max_examples=60)
@given(st.integers(min_value=0, max_value=3000))
def test_iperf3_truncated_anywhere_never_crashes(cut: int) -> None:
    text = read_data("iperf3-client-tcp.json")
    try:
        iperf3.parse_client(text[:cut])
    except ParseError:
        pass


@given(TEXT)
def test_ss_parser_returns_or_raises_parse_error(text: str) -> None:
    try:
        ss.parse_sockets(text)
    except ParseError:
        pass


@given(TEXT)
def test_version_parsers_never_crash(text: str) -> None:
    for tool in ("podman", "slirp4netns", "rootlesskit", "iperf3", "pasta", "sockperf"):
        versions.tool_version(tool, text)
    versions.passt_version_from_package(text)
    versions.parse_os_release(text)
    versions.parse_cpuinfo(text)
    versions.parse_dpkg_versions(text)


@given(IDS)
def test_id_lists_are_valid_or_a_usage_error_naming_the_choices(text: str) -> None:
    try:
        chosen = matrix.parse_ids(text, matrix.METHODS, "method")
    except UsageError as exc:
        assert "valid:" in str(exc) and "\n" not in str(exc)
    else:
        assert chosen and set(chosen) <= set(matrix.METHODS)


@given(IDS)
def test_expectations_are_valid_or_a_usage_error(text: str) -> None:
    try:
        methods = parse_expectation(text)
    except UsageError as exc:
        assert "\n" not in str(exc)
    else:
        assert len(methods) >= 2 and set(methods) <= set(matrix.METHODS)


@given(st.lists(IDS, max_size=4))
def test_stack_facts_are_valid_or_a_usage_error(items: list[str]) -> None:
    try:
        facts = parse_stack_facts(items)
    except UsageError as exc:
        assert "KEY=VALUE" in str(exc)
    else:
        assert all(key and value for key, value in facts.items())


OPTION_WORDS = st.sampled_from(["--methods", "--workloads", "--placements", "--provider", "--duration", "--rounds",
                                "--precision", "--expect", "--stack", "--quick", "--mtu", "--omit", "-o", "--bogus",
                                "pasta", "host,pasta", "0", "-3", "abc", "12", "50%", "tcp-stream", "remote", ""])


@settings(max_examples=150, deadline=None)
@given(st.lists(OPTION_WORDS | IDS, max_size=6))
def test_run_options_parse_or_fail_with_one_line_and_exit_2(argv: list[str]) -> None:
    import contextlib
    import io

    from bench_runner.cli import build_parser
    from bench_runner.commands import run as run_command

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            args = build_parser().parse_args(["run", *argv])
    except SystemExit as exc:
        assert exc.code == 2
        assert len(stderr.getvalue().strip().splitlines()) == 1, stderr.getvalue()
        return
    # What argparse lets through, the command validates before measuring.
    try:
        run_command.selected_matrix(args)
        run_command.parse_stack_facts(args.stack)
        for expectation in args.expect or []:
            parse_expectation(expectation)
    except UsageError as exc:
        assert "\n" not in str(exc)
