#!/usr/bin/env bash
# Reverse what scripts/setup.sh changed on this host, as recorded in
# /var/lib/podman-netbench/host-changes.log. Run as root.
#
#   * removes anything a killed run left behind (python -m bench_runner doctor --cleanup)
#   * deletes the benchmark user (with its home: Podman configuration, storage, the image)
#     and its /etc/subuid and /etc/subgid lines, if the set-up created them; for a user that
#     existed before, removes only the subordinate ranges the set-up added to it
#   * puts /dev/net/tun back to the mode and group it had (or takes the user out of the
#     group it was added to for it)
#   * removes the virtual environment and the state directory
#   * with --packages, also purges the distribution packages the set-up installed
#     (without it they stay: other software may use them)
#
# Usage: scripts/undo-setup.sh [--packages] [--dry-run]
set -euo pipefail

STATE_DIR=${NETBENCH_STATE_DIR:-/var/lib/podman-netbench}
LOG="$STATE_DIR/host-changes.log"
BENCH_USER=${NETBENCH_USER:-netbench}
PACKAGES=0
DRY=0
for arg in "$@"; do
  case "$arg" in
    --packages) PACKAGES=1 ;;
    --dry-run) DRY=1 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "undo-setup.sh: unknown option '$arg' (valid: --packages, --dry-run, --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "undo-setup.sh: run as root" >&2; exit 2; }
[ -f "$LOG" ] || { echo "undo-setup.sh: no record of set-up changes at $LOG; nothing to undo"; exit 0; }
do_() { echo "undo: $*"; [ "$DRY" = 1 ] || "$@"; }

if [ -x "$STATE_DIR/venv/bin/python" ]; then
  (cd "$(dirname "$0")/.." && do_ "$STATE_DIR/venv/bin/python" -m bench_runner doctor --cleanup >/dev/null) || true
fi

if grep -q "user-created $BENCH_USER" "$LOG" && getent passwd "$BENCH_USER" >/dev/null; then
  uid=$(id -u "$BENCH_USER")
  if ps -o stat= -u "$uid" 2>/dev/null | grep -qv '^Z'; then  # zombies do not count
    echo "undo-setup.sh: user $BENCH_USER still has processes (a run in progress?); stop them first" >&2
    exit 1
  fi
  do_ userdel --remove "$BENCH_USER" 2>/dev/null || do_ userdel "$BENCH_USER"
  for f in /etc/subuid /etc/subgid; do do_ sed -i "/^$BENCH_USER:/d" "$f"; done
  do_ rm -rf "/run/user/$uid"
else
  # The user was there before the set-up: remove exactly the ranges the set-up added.
  while IFS= read -r line; do
    range=${line#*added }; file=${range##* to }; range=${range% to *}
    case "$range" in "$BENCH_USER":[0-9]*:[0-9]*) ;; *) continue ;; esac
    case "$file" in /etc/subuid|/etc/subgid) do_ sed -i "/^${range}\$/d" "$file" ;; esac
  done < <(grep -o "added [^	]* to /etc/sub[ug]id" "$LOG" || true)
fi

mode=$(grep -o 'tun-mode-was [0-7]*' "$LOG" | head -n1 | awk '{print $2}' || true)  # none: tun was already usable
group=$(grep -o 'tun-group-was [^ )]*' "$LOG" | head -n1 | awk '{print $2}' || true)
if [ -n "$mode" ] && [ -c /dev/net/tun ]; then do_ chmod "$mode" /dev/net/tun; fi
if [ -n "$group" ] && [ -c /dev/net/tun ]; then do_ chgrp "$group" /dev/net/tun; fi
joined=$(grep -o 'tun-group-joined [^ )]*' "$LOG" | head -n1 | awk '{print $2}' || true)
if [ -n "$joined" ] && getent passwd "$BENCH_USER" >/dev/null; then do_ gpasswd -d "$BENCH_USER" "$joined"; fi

if [ "$PACKAGES" = 1 ]; then
  pkgs=$(sed -n 's/.*installed packages: //p' "$LOG" | tr '\n' ' ')
  if [ -n "${pkgs// }" ]; then
    if command -v apt-get >/dev/null; then do_ apt-get purge -y $pkgs; do_ apt-get autoremove -y
    else do_ dnf remove -y $pkgs; fi
  fi
fi

do_ rm -rf "$STATE_DIR" "${NETBENCH_RUN_DIR:-/run/podman-netbench}"
echo "undo: done"
