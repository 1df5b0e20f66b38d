#!/usr/bin/env bash
# README command 2: set the host up (idempotent), then run the whole test suite: unit
# tests on recorded tool output, and integration tests that build the lab and run every
# method on the real components (as root, like CI). Arguments go to pytest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/setup.sh" --quiet --test-tools
cd "$here/.."
exec "${NETBENCH_STATE_DIR:-/var/lib/podman-netbench}/venv/bin/python" -m pytest "$@"
