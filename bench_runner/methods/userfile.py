"""User-defined methods (``run --method-file FILE``): a built-in method with more helper
options, or a helper binary of one's own, measured and ranked beside the built-in ones.

The file is TOML, one method per key::

    pasta-mtu1500 = { base = "pasta", options = ["--mtu", "1500"] }
    pasta-mine = { base = "pasta", binary = "/home/me/passt/pasta", summary = "my branch" }

A results document records each definition, so a stored run renders (and resumes) with the
methods it was measured with.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping

from ..errors import UsageError
from ..results import document as results
from . import define
from .base import NetworkMethod

_ID_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_KEYS = {"base", "options", "binary", "summary"}


def load(path: str | os.PathLike[str]) -> list[NetworkMethod]:
    """The methods a file defines, each checked; any problem is a one-line UsageError."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"--method-file {path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"--method-file {path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--method-file {path}: not valid TOML: {exc}") from None
    if not data:
        raise UsageError(f"--method-file {path}: defines no method")
    return [from_definition(method_id, entry, where=f"--method-file {path}") for method_id, entry in data.items()]


def from_definition(method_id: str, entry: Any, *, where: str = "method definition",
                    check_binary: bool = True) -> NetworkMethod:
    """One method from its definition (as in the file, or as a results document recorded it:
    then its binary need not be on this machine)."""
    from . import BUILTIN

    builtin = {m.id: m for m in BUILTIN}
    if not _ID_RE.match(method_id):
        raise UsageError(f"{where}: method id {method_id!r}: use lower-case letters, digits and '-', starting with "
                         "a letter (at most 40 characters)")
    if method_id in builtin:
        raise UsageError(f"{where}: '{method_id}' is a built-in method; name the variant differently")
    if not isinstance(entry, Mapping):
        raise UsageError(f"{where}: {method_id}: expected a table like {{ base = \"pasta\", options = [...] }}")
    unknown = set(entry) - _KEYS
    if unknown:
        raise UsageError(f"{where}: {method_id}: unknown key(s) {', '.join(sorted(unknown))}; "
                         f"valid: {', '.join(sorted(_KEYS))}")
    base = builtin.get(str(entry.get("base", "")))
    if base is None:
        raise UsageError(f"{where}: {method_id}: base must be one of {', '.join(builtin)}")
    options = entry.get("options", [])
    if not isinstance(options, list) or not all(isinstance(o, str) and o and "," not in o for o in options):
        raise UsageError(f"{where}: {method_id}: options must be a list of non-empty strings without commas "
                         "(Podman joins them with commas)")
    if options and not base.takes_options:
        raise UsageError(f"{where}: {method_id}: {base.id} takes no extra options (methods that do: "
                         + ", ".join(m.id for m in BUILTIN if m.takes_options) + ")")
    binary = entry.get("binary")
    if binary is not None:
        if base.bare is None or base.bare.helper is None:
            raise UsageError(f"{where}: {method_id}: {base.id} has no helper binary to replace")
        if not isinstance(binary, str) or not os.path.isabs(binary):
            raise UsageError(f"{where}: {method_id}: binary must be an absolute path")
        if check_binary and not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise UsageError(f"{where}: {method_id}: binary {binary} is not an executable file")
    summary = entry.get("summary")
    if summary is not None and not isinstance(summary, str):
        raise UsageError(f"{where}: {method_id}: summary must be text")
    described = summary or (f"{base.id}" + (f" with {' '.join(options)}" if options else "")
                            + (f", helper {binary}" if binary else ""))
    return base.derive(method_id, described, tuple(options), binary)


def definitions(defined: list[NetworkMethod]) -> dict[str, dict[str, Any]]:
    """What a results document records: id -> definition, as ``from_definition`` reads it."""
    found = {}
    for method in defined:
        definition = method.definition()
        if definition is not None:
            found[method.id] = {k: v for k, v in definition.items() if v not in (None, [])}
    return found


def load_document(path: str | os.PathLike[str]) -> results.RunDocument:
    """A stored results document, with the user-defined methods it was measured with known
    again, so the stored run renders, compares and resumes with them."""
    document = results.load(path)
    adopt(document, str(path))
    return document


def adopt(document: results.RunDocument, where: str) -> None:
    """Make a document's recorded method definitions (--method-file) known to this process."""
    recorded = (document.run.get("options") or {}).get("method_definitions") or {}
    if not isinstance(recorded, dict):
        raise UsageError(f"{where}: run.options.method_definitions is not a table of methods")
    define([from_definition(method_id, entry, where=f"{where}: method definition", check_binary=False)
            for method_id, entry in recorded.items()])
