"""``report``: render a stored run for a bug tracker, from its results document alone.

content (what the analysis modules say) -> layout (blocks, in order) -> Markdown, HTML or
JSON; plots are PNGs beside a Markdown report and embedded in an HTML one. Files appear
whole or not at all: each is written to a temporary name and renamed at the end.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import results
from ..errors import UsageError
from . import html_page, jsonout, markdown
from .content import ReportContent, gather
from .layout import PlotRef, layout

FORMATS = ("md", "html", "json")
SUFFIXES = {"md": ".md", "html": ".html", "json": ".json"}


@dataclass(frozen=True)
class Written:
    report: Path
    plots: tuple[Path, ...]


def default_output(source: Path, fmt: str, directory: Path | None = None) -> Path:
    """``runs/X.json`` -> ``runs/X-report.md`` (or .html, .json)."""
    return (directory or source.parent) / f"{source.stem}-report{SUFFIXES[fmt]}"


def output_path(source: Path, fmt: str, output: str | None) -> Path:
    """Where the report goes; an existing directory gets the default name inside it."""
    if output is None:
        target = default_output(source, fmt)
    elif Path(output).is_dir():
        target = default_output(source, fmt, Path(output))
    elif output.endswith("/"):
        raise UsageError(f"--output {output}: directory does not exist")
    else:
        target = Path(output)
    try:
        return results.check_writable(target)
    except UsageError as exc:
        if output is None:
            raise UsageError(str(exc).replace("--output ", "report ", 1) + " (choose another place with --output)") \
                from None
        raise


def plot_file(report: Path, name: str) -> Path:
    return report.with_name(f"{report.stem}-{name}.png")


def render(content: ReportContent, fmt: str, report: Path, *, with_plots: bool = True) -> dict[Path, bytes]:
    """Every file of the report (the report itself first), as bytes, nothing written yet."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format '{fmt}'; valid: {', '.join(FORMATS)}")
    figures = []
    if with_plots and fmt != "json":
        from ..plots import plots_for  # matplotlib only when plots are wanted

        figures = plots_for([g.table for g in content.groups], content.document.cells)
    refs = [PlotRef(p.workload, p.name, p.title) for p in figures]
    files: dict[Path, bytes] = {}
    if fmt == "json":
        files[report] = (json.dumps(jsonout.render(content, []), indent=1) + "\n").encode()
    elif fmt == "html":
        text = html_page.render(layout(content, refs), {p.name: p.png for p in figures}, title=content.source.name)
        files[report] = text.encode()
    else:
        text = markdown.render(layout(content, refs), {p.name: plot_file(report, p.name).name for p in figures})
        files[report] = text.encode()
        for plot in figures:
            files[plot_file(report, plot.name)] = plot.png
    return files


def _write_all(files: dict[Path, bytes]) -> None:
    """Write each file under a temporary name, then rename them all; on any failure or
    interruption remove the temporary files, so nothing half-written is left."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)
        for tmp, path in staged:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise


def write(source: Path, fmt: str = "md", output: str | None = None, *, with_plots: bool = True,
          expectations: list[str] | None = None, tolerance: float | None = None) -> Written:
    document = results.load(source)
    report = output_path(source, fmt, output)
    content = gather(document, source, expectations=expectations, tolerance=tolerance)
    files = render(content, fmt, report, with_plots=with_plots)
    _write_all(files)
    return Written(report, tuple(p for p in files if p != report))
