#!/usr/bin/env bash
# Start-up cost of the short-lived executables: `berth --version`, `berth ps` (against a private
# berthd) and `berth-runtime state x`, each as bin/ runs it (the esbuild bundle, dist/bundle) and
# as tsc's unbundled output (dist/src/bin, what bin/ ran before the bundle), next to
# `docker --version`, `docker ps` (the same berthd) and `runc state x`, and `node -e 0` (the floor).
# Commands run interleaved, one round at a time, so load from other processes on this shared
# machine hits all of them alike. Prints the median wall time and the median CPU time (user+sys,
# which load inflates less) of each, in ms, and the ratios of both.
# Then berthd's start, bundled (bin/berthd) and unbundled: from spawn until it answers `_ping`
# (DAEMON_RUNS starts each, 5 by default). Run as root, after `npm run build`.
#
#   bench/cli-start.sh            # RUNS=30 by default
#   RUNS=60 bench/cli-start.sh
#   BEFORE=/tmp/old bench/cli-start.sh   # also another built checkout's bin/ (e.g. before a change)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-30}
DAEMON_RUNS=${DAEMON_RUNS:-5}
tmp=$(mktemp -d /tmp/bcs-XXXXXX)
berthd_pid=""
cleanup() {
  [ -n "$berthd_pid" ] && kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null || true
  remove_leftovers "$tmp" "berth-bench-$$"
}
trap cleanup EXIT

node scripts/bundle.mjs --if-stale
sock=$tmp/berth.sock
# shellcheck disable=SC2046
node dist/src/bin/berthd.js -H "unix://$sock" --data-root "$tmp/data" --exec-root "$tmp/run" \
  --cgroup-parent "berth-bench-$$" --log-level warn $(bench_net_args) 2>"$tmp/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do bin/berth -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
mkdir -p "$tmp/rt"

labels=(node berth-version berth-version-unbundled docker-version berth-ps berth-ps-unbundled docker-ps
  runtime-state runtime-state-unbundled)
cmd() {
  case $1 in
    node) node -e 0 ;;
    berth-version) bin/berth --version ;;
    berth-version-unbundled) node dist/src/bin/berth.js --version ;;
    docker-version) docker --version ;;
    berth-ps) bin/berth -H "unix://$sock" ps ;;
    berth-ps-unbundled) node dist/src/bin/berth.js -H "unix://$sock" ps ;;
    docker-ps) docker -H "unix://$sock" ps ;;
    runtime-state) bin/berth-runtime --root "$tmp/rt" state x ;;
    runtime-state-unbundled) node dist/src/bin/berth-runtime.js --root "$tmp/rt" state x ;;
    runc-state) runc --root "$tmp/rt" state x ;;
    berth-version-before) "$BEFORE/bin/berth" --version ;;
    berth-ps-before) "$BEFORE/bin/berth" -H "unix://$sock" ps ;;
    runtime-state-before) "$BEFORE/bin/berth-runtime" --root "$tmp/rt" state x ;;
  esac
}
command -v runc >/dev/null && labels+=(runc-state)
[ -n "${BEFORE:-}" ] && labels+=(berth-version-before berth-ps-before runtime-state-before)

# Warm-up (page cache), then RUNS interleaved rounds; state x exits 1 for both runtimes.
for l in "${labels[@]}"; do cmd "$l" >/dev/null 2>&1 || true; done
TIMEFORMAT='%3R %3U %3S'
for _ in $(seq "$RUNS"); do
  for l in "${labels[@]}"; do
    { time cmd "$l" >/dev/null 2>&1 || true; } 2>&1 | awk -v w="$tmp/$l.ms" -v c="$tmp/$l.cpu" \
      '{ printf "%.1f\n", $1 * 1000 >>w; printf "%.1f\n", ($2 + $3) * 1000 >>c }'
  done
done

declare -A med cpu
printf '%-26s %9s %9s\n' '' 'wall ms' 'cpu ms'
for l in "${labels[@]}"; do
  med[$l]=$(median <"$tmp/$l.ms")
  cpu[$l]=$(median <"$tmp/$l.cpu")
  printf '%-26s %9.1f %9.1f\n' "$l" "${med[$l]}" "${cpu[$l]}"
done
ratio() {
  awk -v a="${med[$2]}" -v b="${med[$3]}" -v c="${cpu[$2]}" -v d="${cpu[$3]}" -v l="$1" \
    'BEGIN { printf "%-40s wall %6.2f   cpu %6.2f\n", l, a / b, (d > 0 ? c / d : 0) }'
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
ratio 'berth --version / docker --version' berth-version docker-version
ratio 'berth ps / docker ps' berth-ps docker-ps
ratio 'berth --version / node -e 0' berth-version node
ratio 'berth ps / node -e 0' berth-ps node
ratio 'berth --version bundled / unbundled' berth-version berth-version-unbundled
ratio 'berth ps bundled / unbundled' berth-ps berth-ps-unbundled
ratio 'berth-runtime state bundled / unbundled' runtime-state runtime-state-unbundled
ratio 'berth-runtime state / node -e 0' runtime-state node
[ -n "${med[runc-state]:-}" ] && ratio 'berth-runtime state / runc state' runtime-state runc-state

# berthd start: each daemon stopped before the next; the bench daemon above first.
kill "$berthd_pid" && wait "$berthd_pid" 2>/dev/null || true
berthd_pid=""
start_daemon() { # start_daemon <label> <command…>: appends ms to ready <label>.start
  local label=$1 t0
  shift
  n=$((n + 1))
  t0=$EPOCHREALTIME
  # shellcheck disable=SC2046
  "$@" -H "unix://$tmp/d.sock" --data-root "$tmp/d$n" --exec-root "$tmp/dr$n" --cgroup-parent "berth-bench-$$" \
    --log-level warn $(bench_net_args) 2>>"$tmp/berthd.log" &
  berthd_pid=$!
  until curl -sf --unix-socket "$tmp/d.sock" http://d/_ping >/dev/null 2>&1; do sleep 0.005; done
  awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f\n", (a - b) * 1000 }' >>"$tmp/$label.start"
  kill "$berthd_pid" && wait "$berthd_pid" 2>/dev/null || true
  berthd_pid=""
}
n=0
for _ in $(seq "$DAEMON_RUNS"); do
  start_daemon berthd bin/berthd
  start_daemon berthd-unbundled node dist/src/bin/berthd.js
done
for l in berthd berthd-unbundled; do printf '%-26s %9.1f ms to _ping\n' "$l start" "$(median <"$tmp/$l.start")"; done
awk -v a="$(median <"$tmp/berthd.start")" -v b="$(median <"$tmp/berthd-unbundled.start")" \
  'BEGIN { printf "%-40s wall %6.2f\n", "berthd start bundled / unbundled", a / b }'

if [ -n "${BEFORE:-}" ]; then
  ratio 'berth --version now / before' berth-version berth-version-before
  ratio 'berth ps now / before' berth-ps berth-ps-before
  ratio 'berth-runtime state now / before' runtime-state runtime-state-before
  [ -n "${med[runc-state]:-}" ] && ratio 'berth-runtime state before / runc state' runtime-state-before runc-state
fi
exit 0
