"""A Markdown report that fits a GitHub comment (at most 65,536 characters).

The full report goes in the archive; the comment gives up detail in a fixed order until it
fits: first every trial's figures (summarised per cell) and the package tables, then the
other metrics of each table, then the evidence behind each claim (``layout.SHORTER``). If it
is still too long, it is cut after the last whole block that fits, with a visible line
saying how much was cut, from which sections, and where the whole report is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import markdown
from .blocks import Block, Code, Heading, Strong, para
from .content import ReportContent
from .layout import SHORTER, Attached, Detail, PlotRef, layout

#: GitHub's limit on an issue or pull-request comment, in characters.
GITHUB_LIMIT = 65_536
#: Left for the reporter's own words above the report.
HEADROOM = 1_536
BUDGET = GITHUB_LIMIT - HEADROOM


@dataclass(frozen=True)
class Fitted:
    text: str
    detail: Detail
    #: Characters cut at the end (0 when the report fit without cutting).
    cut: int = 0


def fit(content: ReportContent, plots: list[PlotRef], images: dict[str, str], attached: Attached,
        full_report: str, budget: int = BUDGET) -> Fitted:
    """The most detailed compact report within ``budget`` characters."""
    blocks: list[Block] = []
    detail = SHORTER[-1]
    for step in SHORTER:
        detail = replace(step, full_report=full_report)
        blocks = layout(content, plots, detail, attached)
        text = markdown.render(blocks, images, compact=True)
        if len(text) <= budget:
            return Fitted(text, detail)
    return _cut(blocks, images, detail, attached, budget)


def _cut_line(left_out: int, sections: list[str], within: str | None, attached: Attached) -> Block:
    where = ([f"the rest of {within}"] if within else []) + sections
    return para(Strong("Cut here"), f" to fit GitHub's comment limit: {left_out:,} more characters of this report "
                f"({'; '.join(where) or 'its end'}) are left out. The whole report is ",
                Code(attached.full_report or "?"), " in ", Code(attached.archive), ".")


def _is_section(block: Block) -> bool:
    return isinstance(block, Heading) and block.level == 2


def _cut(blocks: list[Block], images: dict[str, str], detail: Detail, attached: Attached, budget: int) -> Fitted:
    """Keep the longest run of whole blocks from the start that fits with the cut line (and
    does not end in a heading)."""
    parts = [markdown.render_block(b, images, compact=True) for b in blocks]
    kept = [(b, p) for b, p in zip(blocks, parts) if p]
    # len(join(first k parts)) without joining each time: the parts, a blank line between, a final newline.
    prefix = [0]
    for _, text in kept:
        prefix.append(prefix[-1] + len(text) + 2)
    total = prefix[-1] - 1
    for k in range(len(kept), -1, -1):
        if k and isinstance(kept[k - 1][0], Heading):
            continue  # no heading left without what it heads
        sections = [b.text for b, _ in kept[k:] if _is_section(b)]
        within = None if k == len(kept) or _is_section(kept[k][0]) else \
            next((b.text for b, _ in reversed(kept[:k]) if _is_section(b)), None)
        left_out = total - prefix[k]
        line = markdown.render_block(_cut_line(left_out, sections, within, attached), images, compact=True)
        if prefix[k] + len(line) + 1 <= budget:
            return Fitted(markdown.join([p for _, p in kept[:k]] + [line]), detail, left_out)
    raise AssertionError("the cut line alone is longer than the budget")  # budget is in the tens of thousands
