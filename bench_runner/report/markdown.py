"""Blocks to Markdown that renders well on GitHub and GitLab: pipe tables (tabulate's
"github" format, the one the terminal tables share), collapsible ``<details>`` with a blank
line after the summary so the table inside renders, and images linked by relative path.

A report for a size-limited comment is rendered ``compact``: tables without the padding that
aligns them in a text editor, and plots named (they travel in the archive) instead of linked."""

from __future__ import annotations

import html

from tabulate import tabulate

from .blocks import Block, Bullets, Code, CodeBlock, Details, Heading, Image, Inline, Paragraph, Strong, Table


def escape(text: str) -> str:
    """Data from the document is text, never markup: nothing it holds opens an HTML tag.
    ('>' mid-line is literal in GitHub and GitLab Markdown, and stays readable raw.)"""
    return text.replace("<", "&lt;")


def _cell(text: str) -> str:
    return escape(text).replace("|", "\\|").replace("\n", " ")


def _inline(part: Inline) -> str:
    if isinstance(part, Code):
        fence = "``" if "`" in part.text else "`"
        pad = " " if fence == "``" else ""
        return f"{fence}{pad}{part.text}{pad}{fence}"
    if isinstance(part, Strong):
        return f"**{escape(part.text)}**"
    return escape(part)


def inline(parts: tuple[Inline, ...]) -> str:
    return "".join(_inline(p) for p in parts)


def render_table(block: Table, compact: bool = False) -> str:
    rows = [[_cell(c) for c in row] for row in block.rows]
    headers = [_cell(h) or " " for h in block.headers]
    if compact:
        lines = [headers, ["-" * 3] * len(headers), *rows]
        return "\n".join("| " + " | ".join(line) + " |" for line in lines)
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def render_block(block: Block, images: dict[str, str], compact: bool = False) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {escape(block.text)}"
    if isinstance(block, Paragraph):
        return inline(block.parts)
    if isinstance(block, Bullets):
        return "\n".join(f"- {inline(item)}" for item in block.items)
    if isinstance(block, Table):
        return render_table(block, compact)
    if isinstance(block, CodeBlock):
        return f"```{block.language}\n{block.text}\n```"
    if isinstance(block, Image):
        if block.name not in images:
            return ""
        if compact:
            return f"Plot `{images[block.name]}` (in the archive): {escape(block.alt)}"
        return f"![{escape(block.alt)}]({images[block.name]})"
    if isinstance(block, Details):
        inner = render(list(block.blocks), images, compact)
        return f"<details>\n<summary>{html.escape(block.summary)}</summary>\n\n{inner}\n</details>"
    raise TypeError(f"unknown block {block!r}")


def render_blocks(blocks: list[Block], images: dict[str, str], compact: bool = False) -> list[str]:
    """Each block's Markdown, empty ones left out; joined by a blank line they are the report."""
    return [text for text in (render_block(b, images, compact) for b in blocks) if text]


def render(blocks: list[Block], images: dict[str, str], compact: bool = False) -> str:
    """images: plot name -> relative path of its PNG."""
    return join(render_blocks(blocks, images, compact))


def join(parts: list[str]) -> str:
    return "\n\n".join(parts) + "\n"
