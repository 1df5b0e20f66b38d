"""Golden files for the tables a report shows: the ranked tables, other metrics, verdicts
and the claims matrix, in Markdown (GitHub/GitLab) and on the terminal, from recorded
documents. Regenerate after an intended change with UPDATE_GOLDEN=1 and read the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench_runner.results import document as results
from bench_runner.analysis import tables
from bench_runner.report import markdown
from bench_runner.report.blocks import table
from bench_runner.report.content import ReportContent, gather
from tests.unit import latency_document

DATA = Path(__file__).resolve().parents[1] / "data"
GOLDEN = DATA / "golden"


def _content(name: str) -> ReportContent:
    if name == "latency-synthetic":
        return gather(latency_document.document(), Path("latency.json"))
    return gather(results.load(DATA / f"{name}.json"), Path(f"{name}.json"))


def markdown_tables(content: ReportContent) -> str:
    """Every table of the report, as the report renders it."""
    parts = []
    for group in content.groups:
        t = group.table
        if not t.rows:
            continue  # the report lists why instead of an empty table
        parts.append(f"{tables.title(t)}\n\n{markdown.render_table(table(tables.RANK_HEADERS, tables.rank_rows(t)))}")
        headers, rows = tables.extra_rows(t, group.units())
        if rows:
            parts.append(markdown.render_table(table(headers, rows)))
    for verdicts in content.verdicts.values():
        parts.append(markdown.render_table(table(tables.VERDICT_HEADERS, tables.verdict_rows(verdicts))))
    headers, rows = tables.claims_rows(list(content.claims))
    parts.append(markdown.render_table(table(headers, rows)))
    return "\n\n".join(parts) + "\n"


def terminal_tables(content: ReportContent) -> str:
    found = [tables.render_all([g.table for g in content.groups])]
    found += [tables.render_verdicts(v) for v in content.verdicts.values()]
    found.append(tables.render_claims(list(content.claims)))
    return "\n\n".join(found) + "\n"


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual)
    expected = path.read_text()
    assert actual == expected, f"{name} differs from the golden file (UPDATE_GOLDEN=1 rewrites it)"


@pytest.mark.parametrize("name", ["results-bare-full", "results-bare-quick", "latency-synthetic"])
def test_markdown_tables_match_golden(name: str) -> None:
    check_golden(f"{name}.tables.md", markdown_tables(_content(name)))


@pytest.mark.parametrize("name", ["results-bare-full", "latency-synthetic"])
def test_terminal_tables_match_golden(name: str) -> None:
    check_golden(f"{name}.tables.txt", terminal_tables(_content(name)))


def _table_lines(text: str) -> list[list[str]]:
    """Markdown pipe tables: runs of lines that start with '|'."""
    found: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    if current:
        found.append(current)
    return found


def _columns(line: str) -> int:
    return line.replace("\\|", "").count("|") - 1


@pytest.mark.parametrize("name", ["results-bare-full", "results-bare-quick", "latency-synthetic"])
def test_every_markdown_table_is_well_formed(name: str) -> None:
    """GitHub drops a row with a different number of cells than its header."""
    text = markdown_tables(_content(name))
    blocks = _table_lines(text)
    assert blocks
    for lines in blocks:
        assert set(lines[1].replace("|", "")) <= {"-", ":"}, lines[1]
        assert {_columns(line) for line in lines} == {_columns(lines[0])}, lines


def test_a_pipe_in_a_cell_does_not_split_it() -> None:
    rendered = markdown.render_table(table(["a", "b"], [["x|y", "<script>"]]))
    assert "x\\|y" in rendered and "&lt;script>" in rendered
    assert {_columns(line) for line in rendered.splitlines()} == {2}


def test_lower_is_better_tables_rank_the_smallest_first() -> None:
    content = _content("latency-synthetic")
    for group in content.groups:
        if group.table.workload != "tcp-rr":
            continue
        medians = [row.summary.median for row in group.table.rows]
        assert medians == sorted(medians)
        assert group.table.rows[0].method == "host"
        assert "lower is better" in tables.title(group.table)


def test_the_machine_line_names_steal_and_load_as_recorded() -> None:
    from bench_runner.analysis.tables import machine_line

    record = {"before": {"loadavg": [1.08, 1.0, 1.0]}, "after": {"loadavg": [1.45, 1.44, 1.28]},
              "steal_percent": 8.875}
    line = machine_line([record])
    assert line is not None
    assert "load average 1.08 before the trials, 1.45 after" in line
    assert "CPU steal 8.9% of CPU time" in line
    # two sessions (stacks): the worse steal is the one that slowed the run
    assert "CPU steal 12.0%" in (machine_line([record, {**record, "steal_percent": 12.0}]) or "")


def test_no_machine_line_without_a_record_and_no_steal_claim_where_unknown() -> None:
    from bench_runner.analysis.tables import machine_line

    assert machine_line([]) is None
    line = machine_line([{"before": {"loadavg": [0.5, 0.4, 0.3]}, "after": {"loadavg": [0.7, 0.5, 0.4]},
                          "steal_percent": None}])
    assert line is not None and "steal" not in line and "0.5 before" in line
