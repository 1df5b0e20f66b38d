#!/bin/bash
# PID 1 of the delay box (lab/delaybox.py): a User-Mode Linux guest whose vec0 and vec1 hold
# the taps that are the lab hosts' link, joined by tc mirred (a wire: no learning, no TTL
# change), with netem added on each vec's egress by the host's commands.
#
# The root is the host's (hostfs, read with the uid UML runs as), so the host's ip, tc,
# ethtool and modprobe run here. Every process started inside UML is slow, and a guest that
# starts processes all the time stalls its network now and then (UML 6.1), so this script
# batches its work and, between commands, waits on a blocking read of its console: no polling.
#
# Console protocol (the console is a pair of pipes held by the host's Python process):
#   box -> host   "@@ ready" once forwarding is set up, or "@@ failed: WHY"
#   host -> box   "@@ ID tc N" and N lines for `tc -s -j -batch -`
#                 "@@ ID ethtool ARG..." for `ethtool ARG...`
#   box -> host   what the command printed, then "@@ ID rc=CODE"
# End of input (the host closed its end, or died): the box powers off.
# Environment (unknown NAME=value words of the UML command line): BOX_MODDIR, BOX_MTU.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
# The console is a tty: no echo of what the host writes, no CR added to what we write.
stty -echo -onlcr 2>/dev/null

fail() {
    echo "@@ failed: $*"
    echo o > /proc/sysrq-trigger
    exec sleep 3600
}

modprobe -a -d "$BOX_MODDIR" sch_netem sch_ingress cls_matchall act_mirred || fail "modprobe"
printf '%s\n' "link set lo up" "link set vec0 mtu $BOX_MTU up" "link set vec1 mtu $BOX_MTU up" \
    | ip -batch - || fail "ip link"
# The vector driver offers TSO (vnet headers) but starts with it off.
ethtool -K vec0 tso on >/dev/null || fail "ethtool vec0"
ethtool -K vec1 tso on >/dev/null || fail "ethtool vec1"
printf '%s\n' "qdisc add dev vec0 handle ffff: ingress" "qdisc add dev vec1 handle ffff: ingress" \
    "filter add dev vec0 parent ffff: matchall action mirred egress redirect dev vec1" \
    "filter add dev vec1 parent ffff: matchall action mirred egress redirect dev vec0" \
    | tc -batch - || fail "tc mirred"
echo "@@ ready"

while IFS=' ' read -r mark id verb rest; do
    [ "$mark" = "@@" ] || continue
    case "$verb" in
        tc)
            batch=""
            for ((i = 0; i < rest; i++)); do IFS= read -r line; batch+="$line"$'\n'; done
            tc -s -j -batch - <<<"$batch" 2>&1
            echo "@@ $id rc=$?" ;;
        ethtool)
            # shellcheck disable=SC2086 # the arguments are words
            ethtool $rest 2>&1
            echo "@@ $id rc=$?" ;;
        *)
            echo "@@ $id rc=127" ;;
    esac
done
echo o > /proc/sysrq-trigger
exec sleep 3600
