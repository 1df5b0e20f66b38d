#!/usr/bin/env bash
# README command 1: set the host up (idempotent, quick when already done), then measure.
# Any arguments go to `python -m bench_runner run` (see --help); without any it measures
# TCP throughput (tcp-stream) and round-trip latency (tcp-rr) of every method in both
# placements, checks the seed document's claims, and prints rankings, verdicts and claims.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/setup.sh" --quiet
cd "$here/.."
exec "${NETBENCH_STATE_DIR:-/var/lib/podman-netbench}/venv/bin/python" -m bench_runner run "$@"
