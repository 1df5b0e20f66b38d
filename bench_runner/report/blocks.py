"""The report as a few kinds of blocks (headings, paragraphs, tables, lists, code,
collapsible details, images), laid out once and rendered to Markdown or HTML, so both
formats always carry the same content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Code:
    """Inline code: an id, a value, a command."""

    text: str


@dataclass(frozen=True)
class Strong:
    text: str


#: Plain text (escaped by the renderer), inline code, or emphasis.
Inline = Union[str, Code, Strong]
Text = tuple[Inline, ...]


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    parts: Text


@dataclass(frozen=True)
class Bullets:
    items: tuple[Text, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class CodeBlock:
    text: str
    language: str = ""


@dataclass(frozen=True)
class Image:
    name: str  # the plot's name; the renderer knows its file or its bytes
    alt: str


@dataclass(frozen=True)
class Details:
    """Collapsed by default: raw figures, long lists."""

    summary: str
    blocks: tuple["Block", ...]


Block = Union[Heading, Paragraph, Bullets, Table, CodeBlock, Image, Details]


def para(*parts: Inline) -> Paragraph:
    return Paragraph(tuple(parts))


def table(headers: list[str], rows: list[list[str]]) -> Table:
    return Table(tuple(headers), tuple(tuple(r) for r in rows))
