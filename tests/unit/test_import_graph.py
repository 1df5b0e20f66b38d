"""The package's layers, read from its imports: every import counts (at the top, inside a
function, under TYPE_CHECKING), no module imports itself back through others, and no import
runs up the layers each package declares in its docstring ("May import: ...").

The layers, bottom up: the top-level modules (errors, paths, procs, ...); workers, parsers,
results; workloads; methods; analysis; lab; stacks; clienthost; providers; run; report,
history; commands; cli. The issue's rules are asserted on their own as well, so loosening a
docstring cannot loosen them: the pure layers (parsers, analysis, results) reach nothing of
the machine, the definitions (methods, workloads) no run machinery, and only cli imports
the commands."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "bench_runner"
#: Top-level modules above every package (the command line); the others are below them all.
TOP_COMMAND_LINE = {"cli", "__main__"}


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path, modules: set[str]) -> set[str]:
    """The package's modules a module imports anywhere in it."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            submodules = {f"{module}.{a.name}" for a in node.names} & modules
            if len(submodules) < len(node.names) and module in modules:
                found.add(module)
            found |= submodules
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names} & modules
    return found - {name}


def import_graph(root: Path) -> dict[str, set[str]]:
    paths = sorted(root.rglob("*.py"))
    modules = {_module_name(p, root) for p in paths}
    return {_module_name(p, root): _imports(p, root, modules) for p in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> str:
    """A module's package ("lab", "run", ...), "top" for the modules at the top below every
    package, or "cli" for the command line above them all."""
    parts = module.split(".")
    if len(parts) == 1:
        return "top"
    if (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return "cli" if parts[1] in TOP_COMMAND_LINE else "top"


def declared(root: Path) -> dict[str, set[str] | None]:
    """Each package's "May import:" line: the packages it may import (None: every one)."""
    allowed: dict[str, set[str] | None] = {}
    for init in sorted(root.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        line = re.search(r"^May import: (.*?)\.?$", doc, re.MULTILINE)
        assert line, f"{init.parent.name}/__init__.py: its docstring says nothing of what it may import"
        words = line.group(1)
        if words.startswith("every package"):
            allowed[init.parent.name] = None
        elif words.startswith("(") or words.startswith("nothing"):
            allowed[init.parent.name] = set()
        else:
            allowed[init.parent.name] = {w.strip() for w in words.split(",")}
    return allowed


def violations(graph: dict[str, set[str]], allowed: dict[str, set[str] | None]) -> list[tuple[str, str]]:
    """Imports that run up the declared layers: a package importing one it does not declare,
    a top-level module importing any package (only the command line may), a worker
    importing anything of the package."""
    found = []
    for importer, imported in graph.items():
        for target in imported:
            a, b = layer_of(importer), layer_of(target)
            if a == b or a == "cli" or b == "top" and a != "workers":
                continue
            may = allowed.get(a, set())
            if b == "cli" or a == "top" or a == "workers" or (may is not None and b not in may):
                found.append((importer, target))
    return sorted(found)


def reach(graph: dict[str, set[str]], start: set[str]) -> set[str]:
    """Every module the modules of ``start`` import, directly or through others."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        for target in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _in(graph: dict[str, set[str]], *packages: str) -> set[str]:
    return {m for m in graph if layer_of(m) in packages}


GRAPH = import_graph(PACKAGE)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_inside_functions_and_under_type_checking_count() -> None:
    assert "bench_runner.run.trials" in GRAPH["bench_runner.commands.run"], "a function-level import was missed"
    assert GRAPH["bench_runner.commands.run"], "the import graph was not read"


def test_no_module_imports_itself_back_counting_every_import() -> None:
    assert cycles(GRAPH) == []


def test_every_package_says_its_job_and_what_it_may_import() -> None:
    allowed = declared(PACKAGE)
    assert set(allowed) == {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    for package, may in allowed.items():
        assert may is None or may <= set(allowed), f"{package} names a package that does not exist: {may}"


def test_the_declared_layers_are_layers() -> None:
    """What the packages may import has no circle, so the packages stack up."""
    allowed = declared(PACKAGE)
    graph = {p: (set(allowed) - {p} if may is None else may) for p, may in allowed.items()}
    assert cycles(graph) == []


def test_no_import_runs_up_the_declared_layers() -> None:
    assert violations(GRAPH, declared(PACKAGE)) == []


def test_the_pure_layers_reach_nothing_of_the_machine() -> None:
    """parsers, analysis and results import nothing of the lab, the providers, the stacks or
    a command, not even through another module."""
    reached = reach(GRAPH, _in(GRAPH, "parsers", "analysis", "results"))
    assert _in(GRAPH, "lab", "providers", "stacks", "commands", "clienthost", "run") & reached == set()


def test_methods_and_workloads_reach_no_run_machinery() -> None:
    reached = reach(GRAPH, _in(GRAPH, "methods", "workloads"))
    assert _in(GRAPH, "run", "providers", "lab", "stacks", "commands") & reached == set()


def test_only_the_command_line_imports_the_commands() -> None:
    importers = {m for m, imported in GRAPH.items() if _in(GRAPH, "commands") & imported and layer_of(m) != "commands"}
    assert importers == {"bench_runner.cli"}


def test_the_top_of_the_package_is_small() -> None:
    assert len(list(PACKAGE.glob("*.py"))) <= 10


def test_a_planted_upward_import_is_caught(tmp_path: Path) -> None:
    """The checks fail where they should: an import of the lab planted inside a function of
    the statistics, and one of the run's matrix under TYPE_CHECKING in the document's cells."""
    copy = tmp_path / "bench_runner"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    stats = copy / "analysis" / "stats.py"
    stats.write_text(stats.read_text() + "\n\ndef _planted() -> None:\n    from ..lab import hosts  # noqa: F401\n")
    cells = copy / "results" / "cells.py"
    cells.write_text(cells.read_text() + "\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                         "    from ..run.matrix import Matrix  # noqa: F401\n")
    planted = import_graph(copy)
    assert violations(planted, declared(copy)) == [("bench_runner.analysis.stats", "bench_runner.lab.hosts"),
                                                   ("bench_runner.results.cells", "bench_runner.run.matrix")]
    assert any("bench_runner.results.cells" in group and "bench_runner.run.matrix" in group
               for group in cycles(planted))
