"""Where the suite keeps its state on the host; each can be moved by an environment variable
(the set-up script reads the same variables)."""

from __future__ import annotations

import os
from pathlib import Path

#: Virtual environment, host-change log: made by scripts/setup.sh.
STATE_DIR = Path(os.environ.get("NETBENCH_STATE_DIR", "/var/lib/podman-netbench"))
#: Interpreter of the virtual environment; the benchmark user runs client workers with it.
VENV_PYTHON = STATE_DIR / "venv" / "bin" / "python3"
#: Per-run state (lock, stale-state records, worker copies): volatile, under /run.
RUN_DIR = Path(os.environ.get("NETBENCH_RUN_DIR", "/run/podman-netbench"))
#: The unprivileged user that runs Podman, the helpers, the servers and the clients.
BENCH_USER = os.environ.get("NETBENCH_USER", "netbench")
#: The local image built by the set-up (an empty root; /usr is bind-mounted at run time).
IMAGE = "localhost/netbench-base:1"
