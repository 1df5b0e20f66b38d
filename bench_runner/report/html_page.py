"""Blocks to one self-contained HTML file: plots embedded as base64 PNG, a small inline
style sheet, nothing fetched from anywhere, so the file can be attached and opened alone."""

from __future__ import annotations

import base64
import html

from tabulate import tabulate

from .blocks import Block, Bullets, Code, CodeBlock, Details, Heading, Image, Inline, Paragraph, Strong, Table

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; color: #1f2328; line-height: 1.5; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.6rem; text-align: left; font-variant-numeric: tabular-nums; }
th { background: #f6f8fa; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; background: #f6f8fa; }
pre { padding: 0.75rem; white-space: pre-wrap; overflow-wrap: anywhere; }
details { margin: 0.5rem 0; } summary { cursor: pointer; color: #0969da; }
img { max-width: 100%; height: auto; display: block; margin: 0.5rem 0 1rem; }
"""


def _inline(part: Inline) -> str:
    if isinstance(part, Code):
        return f"<code>{html.escape(part.text)}</code>"
    if isinstance(part, Strong):
        return f"<strong>{html.escape(part.text)}</strong>"
    return html.escape(part)


def inline(parts: tuple[Inline, ...]) -> str:
    return "".join(_inline(p) for p in parts)


def render_block(block: Block, images: dict[str, bytes]) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{html.escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{inline(block.parts)}</p>"
    if isinstance(block, Bullets):
        return "<ul>\n" + "\n".join(f"<li>{inline(item)}</li>" for item in block.items) + "\n</ul>"
    if isinstance(block, Table):
        # tabulate's "html" format escapes every cell.
        return tabulate([list(r) for r in block.rows], headers=list(block.headers), tablefmt="html",
                        disable_numparse=True)
    if isinstance(block, CodeBlock):
        return f"<pre><code>{html.escape(block.text)}</code></pre>"
    if isinstance(block, Image):
        if block.name not in images:
            return ""
        data = base64.b64encode(images[block.name]).decode("ascii")
        alt = html.escape(block.alt, quote=True)
        return f'<figure><img alt="{alt}" title="{alt}" src="data:image/png;base64,{data}"></figure>'
    if isinstance(block, Details):
        inner = "\n".join(render_block(b, images) for b in block.blocks)
        return f"<details>\n<summary>{html.escape(block.summary)}</summary>\n{inner}\n</details>"
    raise TypeError(f"unknown block {block!r}")


def render(blocks: list[Block], images: dict[str, bytes], *, title: str) -> str:
    """images: plot name -> PNG bytes."""
    body = "\n".join(text for text in (render_block(b, images) for b in blocks) if text)
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
