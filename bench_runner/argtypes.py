"""Argument types shared by the commands and the run options: each turns bad text into
argparse's one-line error."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def minutes(text: str) -> float:
    """Minutes, 0 or more (fractions allowed)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not 0 <= value < 10_000:
        raise argparse.ArgumentTypeError(f"{value:g} is not between 0 and 10000 minutes")
    return value


def port(text: str) -> int:
    """A TCP port number to listen on."""
    value = _int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value


def percentage(text: str) -> float:
    """A percentage strictly between 0 and 100; "5" and "5%" both mean five percent."""
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"{value:g} is not between 0 and 100")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


#: What a command can print on stdout ('report' and 'compare' choose a file format instead).
OUTPUT_FORMATS = ("text", "json")


def add_output_format(parser: argparse.ArgumentParser, json_help: str) -> None:
    """The one ``--format text|json`` switch of every command that prints results, stored as
    ``args.format``; ``--json``, the older spelling, stays as a hidden alias of ``--format json``
    so that scripts written for it keep working."""
    parser.add_argument("--format", choices=OUTPUT_FORMATS, default="text", help=f"text, or json: {json_help}")
    parser.add_argument("--json", dest="format", action="store_const", const="json", default=argparse.SUPPRESS,
                        help=argparse.SUPPRESS)
