#!/usr/bin/env bash
# The suite's host/remote tcp-stream cell without the suite: plain `iperf3 -c` between two
# network namespaces made here by hand (veth, 198.51.100.1 and .2), with the run's defaults
# (3 s measured after 1 s omitted). Compare its median with the suite's host remote median
# from a run just before: the suite should add no overhead of its own (ratio >= 0.95).
#
#   scripts/plain-iperf3-baseline.sh [TRIALS]      (as root; default 10 trials)
#
# Everything it makes is named nbhand-<pid>-* and removed on exit, Ctrl-C or an error.
set -euo pipefail
trials=${1:-10}
[[ $trials =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [TRIALS] (a positive integer)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: needs root (it makes network namespaces)" >&2; exit 2; }
command -v iperf3 >/dev/null || { echo "$0: iperf3 is not installed (scripts/setup.sh installs it)" >&2; exit 2; }
srv=nbhand-$$-srv cli=nbhand-$$-cli
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  ip netns del "$srv" 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip netns add "$srv"
ip netns add "$cli"
ip link add "nbh$$s" type veth peer name "nbh$$c"
ip link set "nbh$$s" netns "$srv"
ip link set "nbh$$c" netns "$cli"
ip -n "$srv" addr add 198.51.100.1/24 dev "nbh$$s"
ip -n "$cli" addr add 198.51.100.2/24 dev "nbh$$c"
for ns in "$srv" "$cli"; do ip -n "$ns" link set lo up; done
ip -n "$srv" link set "nbh$$s" up
ip -n "$cli" link set "nbh$$c" up
values=()
for i in $(seq "$trials"); do
  timeout 30 ip netns exec "$srv" iperf3 -s -1 -p 5201 >/dev/null & server_pid=$!
  for _ in $(seq 50); do  # until the server listens
    ip netns exec "$srv" ss -Htln 'sport = :5201' | grep -q . && break
    sleep 0.1
  done
  json=$(timeout 30 ip netns exec "$cli" iperf3 -c 198.51.100.1 -p 5201 -t 3 -O 1 -J)
  wait "$server_pid"; server_pid=
  value=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9)' <<<"$json")
  values+=("$value")
  printf 'trial %d: %.2f Gbit/s\n' "$i" "$value"
done
printf '%s\n' "${values[@]}" | python3 -c '
import statistics, sys
values = [float(line) for line in sys.stdin]
print(f"plain iperf3 tcp-stream remote: median {statistics.median(values):.2f} Gbit/s over {len(values)} trials")'
