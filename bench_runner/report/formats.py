"""The report formats, as data for the command line (light: no rendering imported): the
name ``report --format`` takes, the report file's suffix, what it is. How each is rendered
is ``render.RENDERERS``; a new format is an entry here and its renderer there. The report
package's own module imports nothing, so that building the command line does not import
the renderers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    name: str
    suffix: str
    help: str
    #: Whether the format shows plots (rendered only where it does).
    plots: bool = True


REPORT_FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("md", ".md", "Markdown plus PNG files"),
    Format("html", ".html", "one file with the plots embedded"),
    Format("json", ".json", "the same figures for scripts, no plots", plots=False),
)}
#: Where a report for an issue goes: GitHub shortens it to fit a comment, GitLab's comments
#: (1,000,000 characters) take the full report.
TARGETS = ("github", "gitlab")
