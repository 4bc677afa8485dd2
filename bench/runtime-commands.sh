#!/usr/bin/env bash
# docker exec / pause+unpause / update latency for a container of berth's own runtime and for
# one of runc (--runtime runc), on one private berthd. With runc these go through runc's own
# commands (`runc exec --detach` under berth-shim rtexec, `runc pause|resume`, `runc update`),
# so the ratios are the cost of the runtime's CLI against berth's direct paths. Prints medians in
# seconds and the ratios runc/berth. Run as root, with runc on PATH.
#
#   bench/runtime-commands.sh          # RUNS=15 by default
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-15}
tmp=$(mktemp -d /tmp/brc-XXXXXX)
chmod 711 "$tmp"
berthd_pid=""
cleanup() {
  [ -n "$berthd_pid" ] && kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null || true
  remove_leftovers "$tmp" "berth-bench-$$"
}
trap cleanup EXIT

sock=$tmp/berth.sock
node dist/src/bin/berthd.js -H "unix://$sock" --data-root "$tmp/data" --exec-root "$tmp/run" \
  --cgroup-parent "berth-bench-$$" --log-level warn $(bench_net_args) 2>"$tmp/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do bin/berth -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
D() { docker -H "unix://$sock" "$@"; }
PATH="$PWD/bin:$PATH" contrib/mkimage/busybox -H "unix://$sock" >/dev/null

# time_op <label> <command...>: the median wall time of RUNS runs (after one warm-up).
time_op() {
  local label=$1; shift
  "$@" >/dev/null
  for _ in $(seq "$RUNS"); do
    local t0=$EPOCHREALTIME
    "$@" >/dev/null
    awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { print a - b }'
  done | median | xargs printf '%s %.4f\n' "$label"
}
pause_unpause() { D pause "$1" && D unpause "$1"; }

{
  for rt in berth runc; do
    c=$(D run -d --network none --runtime "$rt" busybox sleep 600)
    time_op "exec-$rt" D exec "$c" true
    time_op "pause-unpause-$rt" pause_unpause "$c"
    time_op "update-$rt" D update --pids-limit 100 "$c"
    D rm -f "$c" >/dev/null
  done
} | tee "$tmp/results"
awk '{m[$1] = $2} END {
  for (op in m) if (op ~ /-berth$/) {
    base = substr(op, 1, length(op) - 6)
    if (m[op] > 0) printf "ratio %s runc/berth: %.2f\n", base, m[base "-runc"] / m[op]
  }
}' "$tmp/results" | sort
