"""Standalone programs run as the benchmark user (clients) or inside containers (servers).

They import nothing from ``bench_runner``: each run copies them into a directory the
benchmark user can read, since the repository itself may not be readable to that user.

May import: nothing of the package.
"""

from __future__ import annotations

from pathlib import Path

WORKER_DIR = Path(__file__).resolve().parent
#: Every program in this directory is copied (``__init__`` excepted).
WORKER_FILES = tuple(sorted(p.name for p in WORKER_DIR.glob("*.py") if p.name != "__init__.py"))
