"""One ``--format text|json`` switch for what commands print; ``--json`` still means json."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench_runner import cli

REPO = Path(__file__).resolve().parents[2]
#: Commands whose stdout is text or JSON (report and compare choose a file format instead).
PRINTING = (["run"], ["calibrate"], ["publish"], ["record", "x.json"], ["doctor"], ["list"], ["stack", "list"])


@pytest.mark.parametrize("command", PRINTING, ids=" ".join)
def test_format_defaults_to_text_and_json_is_its_alias(command: list[str]) -> None:
    parser = cli.build_parser()
    assert parser.parse_args(command).format == "text"
    assert parser.parse_args([*command, "--format", "json"]).format == "json"
    assert parser.parse_args([*command, "--json"]).format == "json"
    with pytest.raises(SystemExit) as exited:
        parser.parse_args([*command, "--format", "yaml"])
    assert exited.value.code == 2


@pytest.mark.parametrize("command", PRINTING, ids=" ".join)
def test_help_shows_format_and_hides_the_old_json(command: list[str]) -> None:
    parser = cli.build_parser()
    sub = parser
    for word in command[:2] if command[0] == "stack" else command[:1]:
        action = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction))
        sub = action.choices[word]
    text = sub.format_help()
    assert "--format {text,json}" in text and "--json" not in text


def test_an_old_script_with_json_still_gets_json() -> None:
    old, new = (subprocess.run([sys.executable, "-m", "bench_runner", "list", flag], cwd=REPO, capture_output=True,
                               text=True, timeout=60) for flag in ("--json", "--format=json"))
    assert old.returncode == new.returncode == 0, old.stderr + new.stderr
    assert json.loads(old.stdout) == json.loads(new.stdout) and "methods" in json.loads(old.stdout)


def test_run_report_and_compare_print_one_shape_for_tables_verdicts_claims_and_warnings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A script reading ``run --format json`` reads ``report --format json`` and the summaries
    of ``compare --format json`` with the same code."""
    import shutil

    from bench_runner.results import document as results
    from bench_runner.commands import run as run_command
    from bench_runner.report import jsonout
    from bench_runner.report.content import gather

    path = tmp_path / "full.json"
    shutil.copy(REPO / "tests" / "data" / "results-bare-full.json", path)
    document = results.load(path)
    args = cli.build_parser().parse_args(["run", "--format", "json", "--methods", "pasta"])
    request = run_command.request_from_args(args)
    run_command.show(args, request, document, path, lambda s: None)
    printed = json.loads(capsys.readouterr().out)
    reported = jsonout.render(gather(document, path, expectations=list(request.expectations),
                                     tolerance=request.tolerance), [])
    for key in ("tables", "verdicts", "claims", "warnings"):
        assert printed[key] == reported[key], key
    assert printed["claims"]["cells"] and {"claim", "method", "stack", "agrees"} <= set(printed["claims"]["cells"][0])
    assert {"cell", "kinds", "text", "remedy"} <= set(printed["warnings"][0])

    compared = json.loads(subprocess.run(
        [sys.executable, "-m", "bench_runner", "compare", str(path), str(path), "--format", "json"], cwd=REPO,
        capture_output=True, text=True, timeout=120, check=True).stdout)
    table_row = printed["tables"][0]["rows"][0]
    shape = {k for k in table_row if k in ("n", "median", "ci", "ci_level", "cv", "min", "max", "outliers")}
    assert set(compared["rows"][0]["a"]) == shape
