"""``report``: render a stored run for a bug tracker, from its results document alone.

content (what the analysis modules say) -> layout (blocks, in order) -> Markdown, HTML or
JSON; plots are PNGs beside a Markdown report and embedded in an HTML one. For an issue
(``--for github|gitlab``), Markdown that fits the tracker's comment plus one archive with
everything (``archive``, ``fit``). Files appear whole or not at all: each is written to a
temporary name and renamed at the end.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Union

from ..methods import userfile
from ..results import document as results
from ..errors import UsageError
from . import archive, fit, html_page, jsonout, markdown
from .content import ReportContent, gather
from .formats import REPORT_FORMATS, TARGETS
from .layout import FULL, Attached, PlotRef, layout

if TYPE_CHECKING:
    from .plots import Plot


def _json(content: ReportContent, figures: list["Plot"], report: Path) -> dict[Path, bytes]:
    return {report: (json.dumps(jsonout.render(content, []), indent=1) + "\n").encode()}


def _html(content: ReportContent, figures: list["Plot"], report: Path) -> dict[Path, bytes]:
    refs = [PlotRef(p.workload, p.name, p.title) for p in figures]
    text = html_page.render(layout(content, refs), {p.name: p.png for p in figures}, title=content.source.name)
    return {report: text.encode()}


def _markdown(content: ReportContent, figures: list["Plot"], report: Path) -> dict[Path, bytes]:
    refs = [PlotRef(p.workload, p.name, p.title) for p in figures]
    text = markdown.render(layout(content, refs), {p.name: plot_file(report, p.name).name for p in figures})
    return {report: text.encode(), **{plot_file(report, p.name): p.png for p in figures}}


Renderer = Callable[[ReportContent, list["Plot"], Path], dict[Path, bytes]]
#: How each format of ``reportformats.REPORT_FORMATS`` becomes its files, the report itself first.
RENDERERS: dict[str, Renderer] = {"md": _markdown, "html": _html, "json": _json}
FORMATS = tuple(REPORT_FORMATS)
SUFFIXES = {name: f.suffix for name, f in REPORT_FORMATS.items()}

#: A file's content: bytes, or what writes it (an archive streams its captures from disk).
Content = Union[bytes, Callable[[BinaryIO], None]]


@dataclass(frozen=True)
class Written:
    report: Path
    plots: tuple[Path, ...]
    archive: Path | None = None


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


def archive_file(report: Path) -> Path:
    """``RUN-report.md`` -> ``RUN-report.zip``."""
    return report.with_suffix(".zip")


def full_report_name(report: Path) -> str:
    return f"{report.stem}-full.md"


def _figures(content: ReportContent, with_plots: bool) -> list:  # list[plots.Plot]
    if not with_plots:
        return []
    from .plots import plots_for  # matplotlib only when plots are wanted

    return plots_for([g.table for g in content.groups], content.document.cells)


def render(content: ReportContent, fmt: str, report: Path, *, with_plots: bool = True) -> dict[Path, bytes]:
    """Every file of the report (the report itself first), as bytes, nothing written yet."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format '{fmt}'; valid: {', '.join(FORMATS)}")
    return RENDERERS[fmt](content, _figures(content, with_plots and REPORT_FORMATS[fmt].plots), report)


def render_for(content: ReportContent, target: str, report: Path, document: bytes, *,
               with_plots: bool = True) -> tuple[dict[Path, Content], archive.Captures]:
    """A report for an issue on ``target``: its Markdown, its plots and its archive, nothing
    written yet; the captures the archive will copy are open until the caller closes them."""
    if target not in TARGETS:
        raise UsageError(f"unknown place for a report '{target}'; valid: {', '.join(TARGETS)}")
    figures = _figures(content, with_plots)
    refs = [PlotRef(p.workload, p.name, p.title) for p in figures]
    images = {p.name: plot_file(report, p.name).name for p in figures}
    plots = {plot_file(report, p.name): p.png for p in figures}
    full_name = full_report_name(report) if target == "github" else None
    zip_path = archive_file(report)
    taken = {report.name, content.source.name, *(p.name for p in plots), *([full_name] if full_name else [])}
    captures = archive.find_captures(json.loads(document), content.source.parent, taken,
                                     archive.CAPTURE_BUDGET.get(target))
    try:
        attached = Attached(zip_path.name, full_name, content.source.name, tuple(p.name for p in plots),
                            tuple(name for name, _ in captures.found), tuple(captures.missing))
        # The full report describes the archive it sits in, and leaves nothing out.
        full_text = markdown.render(layout(content, refs, FULL, replace(attached, full_report=None)), images)
        text = fit.fit(content, refs, images, attached, full_name).text if full_name else full_text
    except BaseException:
        captures.close()
        raise
    members = [(report.name, text.encode()), *([(full_name, full_text.encode())] if full_name else []),
               *((path.name, png) for path, png in plots.items()), (content.source.name, document)]
    when = archive.timestamp(content.document.run)
    return ({report: text.encode(), **plots,
             zip_path: lambda out: archive.write(out, members, captures, when)}, captures)


def _write_all(files: dict[Path, Content]) -> None:
    """Write each file under a temporary name, then rename them all; on any failure or
    interruption remove the temporary files, so nothing half-written is left."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                if callable(data):
                    data(fh)
                else:
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
          expectations: list[str] | None = None, tolerance: float | None = None,
          target: str | None = None) -> Written:
    """``target`` (github, gitlab): Markdown for that tracker and its archive; ``fmt`` is md."""
    if target is not None and fmt != "md":
        raise UsageError(f"--for {target} writes Markdown and an archive; it cannot go with --format {fmt}")
    document = userfile.load_document(source)
    report = output_path(source, fmt, output)
    content = gather(document, source, expectations=expectations, tolerance=tolerance)
    if target is None:
        files = render(content, fmt, report, with_plots=with_plots)
        _write_all(files)
        return Written(report, tuple(p for p in files if p != report))
    zip_path = results.check_writable(archive_file(report))
    files, captures = render_for(content, target, report, source.read_bytes(), with_plots=with_plots)
    try:
        _write_all(files)
    finally:
        captures.close()
    return Written(report, tuple(p for p in files if p not in (report, zip_path)), zip_path)
