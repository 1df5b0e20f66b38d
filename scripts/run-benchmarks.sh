#!/usr/bin/env bash
# README command 1: set the host up (idempotent, quick when already done), then measure.
# Any arguments go to `python -m bench_runner run` (see --help); without any it measures
# TCP throughput of host, pasta, slirp4netns-rootlesskit and slirp4netns-slirp4netns in
# both placements and prints the ranked tables.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/setup.sh" --quiet
cd "$here/.."
exec /var/lib/podman-netbench/venv/bin/python -m bench_runner run "$@"
