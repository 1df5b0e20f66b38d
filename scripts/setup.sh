#!/usr/bin/env bash
# Prepare this host for the rootless Podman networking benchmark suite.
#
# Idempotent: every step first checks whether it is already done, so a second run only
# checks. It prints each change it makes to the host, and records it in
# /var/lib/podman-netbench/host-changes.log so that scripts/undo-setup.sh can reverse it.
#
# What it may change (only when missing):
#   * where the kernel has no netem (run --delay, --loss): user-mode-linux and kmod (Debian),
#     for the delay box that carries netem between the lab hosts
#   * distribution packages: podman, passt (pasta), slirp4netns, rootlesskit, iperf3,
#     uidmap, runc, systemd (systemd-socket-activate), sockperf, python3-venv, iproute2,
#     ethtool (to record the lab link's offloads), git, mmdebstrap (to build release
#     stacks), tcpdump and perf (run --capture), the OpenSSH client (run --client-host)
#     and the JavaScript libraries of the published history pages (libjs-*); with
#     --test-tools also the OpenSSH server, whose sshd the tests start in a lab namespace
#     (on a systemd machine the package also enables its own ssh service)
#   * /dev/net/tun made usable by the benchmark user (its group, mode 0660, where the
#     device was root's alone; a device open to everyone is left as it is)
#   * an unprivileged user "netbench" (NETBENCH_USER) with subordinate uid/gid ranges
#   * that user's rootless Podman configuration (runc + cgroupfs when cgroups are not
#     unified v2; the file events logger when systemd is not PID 1)
#   * a Python virtual environment in /var/lib/podman-netbench/venv with requirements.txt
#   * a local container image localhost/netbench-base built without any registry
#
# Usage: scripts/setup.sh [--check] [--quiet] [--test-tools]
#   --check       change nothing; exit 0 when the host is ready, else 2 and list what is missing
#   --quiet       print only the changes made and errors
#   --test-tools  also install what only the tests use (chromium, to load the published pages;
#                 openssh-server, whose sshd stands in for a second computer)
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${NETBENCH_STATE_DIR:-/var/lib/podman-netbench}
VENV_DIR="$STATE_DIR/venv"
CHANGES_LOG="$STATE_DIR/host-changes.log"
BENCH_USER=${NETBENCH_USER:-netbench}
IMAGE=localhost/netbench-base:1
CHECK_ONLY=0
QUIET=0
TEST_TOOLS=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK_ONLY=1 ;;
    --quiet) QUIET=1 ;;
    --test-tools) TEST_TOOLS=1 ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (valid: --check, --quiet, --test-tools, --help)" >&2; exit 2 ;;
  esac
done

RUN_DIR=${NETBENCH_RUN_DIR:-/run/podman-netbench}
MISSING=()
say() { [ "$QUIET" = 1 ] || echo "setup: $*"; }
change() {
  # A change to the host: always printed, and logged for undo-setup.sh.
  echo "setup: CHANGE: $*"
  mkdir -p "$STATE_DIR"
  printf '%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >> "$CHANGES_LOG"
}
need() { MISSING+=("$*"); }
die() { echo "setup: error: $*" >&2; exit 2; }
# fd 9 holds the run lock: nothing started from here (a daemon a package starts, Podman's
# pause process) may inherit it and keep it held after the set-up ends.
with_timeout() { timeout --kill-after=10 "$@" 9>&-; }

# ---------------------------------------------------------------- distribution
. /etc/os-release
case " ${ID:-} ${ID_LIKE:-} " in
  *" debian "*|*" ubuntu "*) FAMILY=debian ;;
  *" fedora "*|*" rhel "*|*" centos "*) FAMILY=fedora ;;
  *) die "unsupported distribution '${ID:-unknown}': supported are Debian 12/13 (apt) and Fedora (dnf)" ;;
esac

if [ "$FAMILY" = debian ]; then
  PACKAGES=(podman passt slirp4netns rootlesskit iperf3 libiperf0 uidmap runc conmon catatonit
            systemd sockperf python3 python3-venv iproute2 ethtool util-linux procps git mmdebstrap tcpdump linux-perf
            openssh-client libjs-jquery libjs-jquery-flot libjs-bootstrap libjs-jquery-stupidtable node-blueimp-md5)
  TEST_PACKAGES=(chromium openssh-server)
  installed() { dpkg-query -W -f '${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
  install_packages() {
    with_timeout 600 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive with_timeout 1800 apt-get install -y -qq "$@" >/dev/null
  }
else
  # Fedora: the same components; pasta is in the passt package, newuidmap in shadow-utils.
  PACKAGES=(podman passt slirp4netns rootlesskit iperf3 shadow-utils runc conmon catatonit
            systemd sockperf python3 iproute ethtool util-linux procps-ng git mmdebstrap tcpdump perf openssh-clients)
  TEST_PACKAGES=(chromium openssh-server)
  installed() { rpm -q "$1" >/dev/null 2>&1; }
  install_packages() { with_timeout 1800 dnf install -y -q "$@" >/dev/null; }
fi

IS_ROOT=0; [ "$(id -u)" = 0 ] && IS_ROOT=1

# ---------------------------------------------------------------- 0. the run lock
# One lock for everything that changes the host or the lab: a run, a clean-up, this set-up.
# --check changes nothing and takes no lock.
if [ "$CHECK_ONLY" = 0 ] && [ "$IS_ROOT" = 1 ]; then
  mkdir -p "$RUN_DIR"
  exec 9>>"$RUN_DIR/lock"
  if ! flock -n 9; then
    holder=$(head -c 200 "$RUN_DIR/lock" 2>/dev/null | head -n 1)
    echo "setup: a benchmark run is in progress (${holder:-unknown}); waiting for it to finish (up to 15 minutes)" >&2
    flock -w 900 9 || die "a benchmark run still holds $RUN_DIR/lock after 15 minutes; run the set-up when it has finished"
  fi
fi

# ---------------------------------------------------------------- 1. packages
to_install=()
if [ "$TEST_TOOLS" = 1 ]; then PACKAGES+=("${TEST_PACKAGES[@]}"); fi
for p in "${PACKAGES[@]}"; do installed "$p" || to_install+=("$p"); done
if [ ${#to_install[@]} -gt 0 ]; then
  if [ "$CHECK_ONLY" = 1 ] || [ "$IS_ROOT" = 0 ]; then
    need "packages not installed: ${to_install[*]}"
  else
    say "installing ${to_install[*]}"
    install_packages "${to_install[@]}" || die "package installation failed: ${to_install[*]}"
    change "installed packages: ${to_install[*]}"
    # The tests start sshd themselves, in a lab namespace. The package, installed here for
    # them only, would also serve the machine on port 22: stop and disable its service. An
    # OpenSSH server that was installed before is the machine's own and is left alone.
    if printf '%s\n' "${to_install[@]}" | grep -qx openssh-server && [ -d /run/systemd/system ]; then
      for unit in ssh.socket ssh.service sshd.service; do
        if systemctl list-unit-files "$unit" 2>/dev/null | grep -q "^$unit"; then
          timeout 60 systemctl disable --now "$unit" >/dev/null 2>&1 \
            || echo "setup: warning: could not stop $unit, which installing openssh-server started" >&2
        fi
      done
      change "stopped and disabled the ssh service of openssh-server (installed for the tests only)"
    fi
  fi
else
  say "packages present"
fi

# ---------------------------------------------------------------- 2. the delay box, where the kernel has no netem
# run --delay and --loss need netem. Where the kernel has no sch_netem, a User-Mode Linux guest
# (Debian's user-mode-linux: a Linux kernel run as a process) carries it between the lab hosts
# (bench_runner/lab/delaybox.py); kmod's modprobe loads netem inside it. Asked of the kernel
# itself: netem added to the loopback of a namespace that goes away with the probe.
if [ "$IS_ROOT" = 1 ] && ! with_timeout 15 unshare --net -- tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
  if [ "$FAMILY" = debian ]; then
    box=()
    for p in user-mode-linux kmod; do installed "$p" || box+=("$p"); done
    if [ ${#box[@]} -gt 0 ]; then
      if [ "$CHECK_ONLY" = 1 ]; then
        need "packages not installed: ${box[*]} (the delay box for run --delay: this kernel has no netem)"
      else
        say "this kernel has no netem: installing ${box[*]} for the delay box"
        install_packages "${box[@]}" || die "package installation failed: ${box[*]}"
        change "installed packages: ${box[*]}"
      fi
    fi
  else
    say "this kernel has no netem, and the delay box (Debian's user-mode-linux) is not packaged here: run --delay and --loss will be refused"
  fi
fi

# ---------------------------------------------------------------- 3. benchmark user
if ! getent passwd "$BENCH_USER" >/dev/null; then
  if [ "$CHECK_ONLY" = 1 ] || [ "$IS_ROOT" = 0 ]; then need "user $BENCH_USER does not exist"; else
    useradd --create-home --shell /usr/sbin/nologin --comment "podman-netbench benchmark user" "$BENCH_USER"
    change "created user $BENCH_USER (user-created $BENCH_USER)"
  fi
fi
if getent passwd "$BENCH_USER" >/dev/null; then
  for f in subuid subgid; do
    if ! grep -q "^$BENCH_USER:" "/etc/$f" 2>/dev/null; then
      if [ "$CHECK_ONLY" = 1 ] || [ "$IS_ROOT" = 0 ]; then need "no /etc/$f range for $BENCH_USER"; else
        # The first 65536-id block above every existing range.
        start=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' /etc/subuid /etc/subgid 2>/dev/null)
        echo "$BENCH_USER:$start:65536" >> "/etc/$f"
        change "added $BENCH_USER:$start:65536 to /etc/$f"
      fi
    fi
  done
fi

# ---------------------------------------------------------------- 3b. /dev/net/tun for the benchmark user
# pasta and slirp4netns open /dev/net/tun as the benchmark user. Opened to that user only:
# through its own group (0660) where the device is root's alone, or by joining the group that
# already has it; a device already open to everyone (0666) is left as it is.
tun_usable() {
  local mode group; mode=$(stat -c '%a' /dev/net/tun); group=$(stat -c '%G' /dev/net/tun)
  [ "${mode: -1}" -ge 6 ] && return 0
  [ "${mode: -2:1}" -ge 6 ] && id -nG "$BENCH_USER" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"
}
if [ ! -c /dev/net/tun ]; then
  if [ "$CHECK_ONLY" = 1 ] || [ "$IS_ROOT" = 0 ]; then need "/dev/net/tun is missing"; else
    mkdir -p /dev/net && mknod -m 0600 /dev/net/tun c 10 200
    change "created /dev/net/tun (mode 0600)"
  fi
fi
if [ -c /dev/net/tun ] && getent passwd "$BENCH_USER" >/dev/null && ! tun_usable; then
  mode=$(stat -c '%a' /dev/net/tun); group=$(stat -c '%G' /dev/net/tun)
  if [ "$CHECK_ONLY" = 1 ] || [ "$IS_ROOT" = 0 ]; then need "/dev/net/tun (mode $mode, group $group) is not usable by $BENCH_USER"
  elif [ "${mode: -2:1}" -ge 6 ] && [ "$group" != root ]; then
    usermod -a -G "$group" "$BENCH_USER"
    change "added $BENCH_USER to group $group, which may use /dev/net/tun (tun-group-joined $group)"
  else
    chgrp "$(id -gn "$BENCH_USER")" /dev/net/tun && chmod 0660 /dev/net/tun
    change "gave /dev/net/tun to group $(id -gn "$BENCH_USER") with mode 660 (tun-mode-was $mode tun-group-was $group)"
  fi
fi

# ---------------------------------------------------------------- 4. rootless Podman configuration
# The file lives in the benchmark user's home: root never reads or writes it by path (a link
# there must not let the user steer root to another file); the user writes it, through a
# temporary file and a rename that replaces whatever was there.
as_bench_user() {
  local uid; uid=$(id -u "$BENCH_USER")
  local rt=/run/user/$uid
  (cd / && setpriv --reuid "$uid" --regid "$(id -g "$BENCH_USER")" --init-groups -- \
    env -i HOME="$(getent passwd "$BENCH_USER" | cut -d: -f6)" USER="$BENCH_USER" LOGNAME="$BENCH_USER" \
    XDG_RUNTIME_DIR="$rt" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@" 9>&-)
}
if getent passwd "$BENCH_USER" >/dev/null; then
  engine=()
  if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ]; then
    # Hybrid or v1 cgroups: crun refuses them ("cgroups in hybrid mode not supported").
    engine+=('runtime = "runc"' 'cgroup_manager = "cgroupfs"')
  fi
  if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]; then
    # No systemd: no journald for events, no systemd cgroup manager.
    engine+=('events_logger = "file"')
    [[ " ${engine[*]} " == *cgroup_manager* ]] || engine+=('cgroup_manager = "cgroupfs"')
  fi
  want="# Written by podman-netbench scripts/setup.sh for this host's cgroup layout."$'\n'"[engine]"
  for line in "${engine[@]}"; do want+=$'\n'"$line"; done
  conf='$HOME/.config/containers/containers.conf'
  have=""
  [ "$IS_ROOT" = 1 ] && have=$(as_bench_user sh -c "cat \"$conf\" 2>/dev/null" || true)
  if [ ${#engine[@]} -gt 0 ] && [ "$have" != "$want" ]; then
    if [ "$CHECK_ONLY" = 1 ] || [ "$IS_ROOT" = 0 ]; then need "rootless Podman configuration ~$BENCH_USER/.config/containers/containers.conf is not written"; else
      printf '%s\n' "$want" | as_bench_user sh -c 'set -e; umask 022; d="$HOME/.config/containers"; mkdir -p "$d"
        tmp=$(mktemp "$d/.containers.conf.XXXXXX"); cat > "$tmp"; mv -f "$tmp" "$d/containers.conf"' \
        || die "the benchmark user could not write its containers.conf"
      change "wrote ~$BENCH_USER/.config/containers/containers.conf as $BENCH_USER (${engine[*]})"
    fi
  fi
fi

# ---------------------------------------------------------------- 5. Python virtual environment
req_hash=$(sha256sum "$REPO_DIR/requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$VENV_DIR/.requirements-sha256" 2>/dev/null)" != "$req_hash" ] || [ ! -x "$VENV_DIR/bin/python" ]; then
  if [ "$CHECK_ONLY" = 1 ] || [ "$IS_ROOT" = 0 ]; then need "virtual environment $VENV_DIR is missing or out of date"; else
    say "creating the virtual environment $VENV_DIR (a minute the first time)"
    rm -rf "$VENV_DIR"
    mkdir -p "$STATE_DIR"
    chmod 0755 "$STATE_DIR"
    # The distribution's interpreter, not one under /root: the benchmark user runs it too.
    with_timeout 300 /usr/bin/python3 -m venv "$VENV_DIR"
    # pip's own chatter goes to a log; on failure its last lines are shown.
    if ! with_timeout 1200 "$VENV_DIR/bin/pip" install --disable-pip-version-check \
        -r "$REPO_DIR/requirements.txt" > "$STATE_DIR/pip-install.log" 2>&1; then
      tail -n 15 "$STATE_DIR/pip-install.log" >&2
      die "pip install of requirements.txt failed (full log: $STATE_DIR/pip-install.log)"
    fi
    echo "$req_hash" > "$VENV_DIR/.requirements-sha256"
    chmod -R a+rX "$VENV_DIR"
    change "created virtual environment $VENV_DIR"
  fi
fi

# ---------------------------------------------------------------- 6. local container image
# An empty root skeleton; the host's /usr and /etc/ld.so.cache are bind-mounted read-only at
# run time, so containers run exactly the host's iperf3 and Python. No registry involved.
# The archive (bench_runner/lab/image.py) is written in a fresh directory only root can write to.
stop_pause_process() {
  # Rootless Podman leaves a pause process per user, started by our Podman call; end it by
  # its pid, but only if that is a catatonit of the benchmark user (the file is the user's).
  local rt=$1 uid=$2 pid
  pid=$(as_bench_user sh -c "head -c 20 \"$rt/libpod/tmp/pause.pid\" 2>/dev/null" || true)
  case "$pid" in ''|*[!0-9]*) return 0 ;; esac
  if [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = catatonit ] && [ "$(stat -c %u /proc/"$pid" 2>/dev/null)" = "$uid" ]; then
    kill "$pid" 2>/dev/null || true
  fi
}
image_listed() {
  # Read-only: the user's own image store, read as the user (no Podman call, no pause process).
  as_bench_user sh -c 'grep -qs "\"localhost/netbench-base:1\"" "$HOME/.local/share/containers/storage/overlay-images/images.json" \
    "$HOME/.local/share/containers/storage/vfs-images/images.json"'
}
image_exists() {
  # Podman's answer, as the user. A run killed with every process of the user (pause process,
  # conmon, container) leaves a state that names them, and then every Podman call fails with
  # "invalid internal status ... podman system migrate": reset it as Podman advises and ask again.
  local err
  err=$(as_bench_user timeout 60 podman image exists "$IMAGE" 2>&1 >/dev/null) && return 0
  case "$err" in
    *"system migrate"*)
      echo "setup: Podman's state names processes that are gone (a killed run): podman system migrate as $BENCH_USER"
      # Its exit status is no verdict (it can stop the container and still exit 125, as no
      # conmon writes the exit file it waits for); whether Podman answers again is.
      as_bench_user timeout 60 podman system migrate >/dev/null 2>&1 || true
      err=$(as_bench_user timeout 60 podman image exists "$IMAGE" 2>&1 >/dev/null) && return 0
      case "$err" in
        *"system migrate"*) die "Podman's state is still stale after podman system migrate as $BENCH_USER: ${err##*$'\n'}" ;;
      esac
      return 1 ;;
    *) return 1 ;;
  esac
}
if getent passwd "$BENCH_USER" >/dev/null && command -v podman >/dev/null && [ "$IS_ROOT" = 1 ]; then
  if [ "$CHECK_ONLY" = 1 ]; then
    image_listed || need "container image $IMAGE is not built"
  else
    uid=$(id -u "$BENCH_USER"); rt=/run/user/$uid; made_rt=0
    if [ ! -d "$rt" ]; then install -d -o "$BENCH_USER" -g "$BENCH_USER" -m 0700 "$rt"; made_rt=1; fi
    if ! image_exists; then
      tmp=$(mktemp -d)
      chmod 0755 "$tmp"
      (cd "$REPO_DIR" && "$VENV_DIR/bin/python" -m bench_runner.lab.image "$tmp/skeleton.tar") \
        || { rm -rf "$tmp"; die "writing the image skeleton failed"; }
      chmod 0644 "$tmp/skeleton.tar"
      as_bench_user timeout 120 podman import --quiet --change 'CMD ["/bin/sh"]' "$tmp/skeleton.tar" "$IMAGE" >/dev/null \
        || { rm -rf "$tmp"; die "podman import of $IMAGE failed"; }
      rm -rf "$tmp"
      change "built container image $IMAGE for user $BENCH_USER"
    fi
    stop_pause_process "$rt" "$uid"
    [ "$made_rt" = 1 ] && rm -rf "$rt"
  fi
fi

# ---------------------------------------------------------------- summary
if [ ${#MISSING[@]} -gt 0 ]; then
  echo "setup: the host is not ready:" >&2
  for m in "${MISSING[@]}"; do echo "setup:   - $m" >&2; done
  [ "$IS_ROOT" = 0 ] && echo "setup: run scripts/setup.sh as root to fix this" >&2
  exit 2
fi
say "host ready (changes so far are listed in $CHANGES_LOG; scripts/undo-setup.sh reverses them)"
