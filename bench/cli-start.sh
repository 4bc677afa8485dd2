#!/usr/bin/env bash
# Start-up cost of the short-lived executables: `berth --version`, `berth ps` (against a private
# berthd) and `berth-runtime state x`, each as bin/ runs it (the esbuild bundle, dist/bundle) and
# as tsc's unbundled output (dist/src/bin, what bin/ ran before the bundle), next to
# `docker --version`, `docker ps` (the same berthd) and `runc state x`, and `node -e 0` (the floor).
# Commands run interleaved, one round at a time, so load from other processes on this shared
# machine hits all of them alike; prints the median wall time of each (ms) and the ratios.
# Run as root, after `npm run build`.
#
#   bench/cli-start.sh            # RUNS=30 by default
#   RUNS=60 bench/cli-start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-30}
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
  esac
}
command -v runc >/dev/null && labels+=(runc-state)

# Warm-up (page cache), then RUNS interleaved rounds; state x exits 1 for both runtimes.
for l in "${labels[@]}"; do cmd "$l" >/dev/null 2>&1 || true; done
for _ in $(seq "$RUNS"); do
  for l in "${labels[@]}"; do
    t0=$EPOCHREALTIME
    cmd "$l" >/dev/null 2>&1 || true
    awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.2f\n", (a - b) * 1000 }' >>"$tmp/$l.ms"
  done
done

declare -A med
for l in "${labels[@]}"; do
  med[$l]=$(median <"$tmp/$l.ms")
  printf '%-26s %8.1f ms\n' "$l" "${med[$l]}"
done
ratio() { awk -v a="${med[$2]}" -v b="${med[$3]}" -v l="$1" 'BEGIN { printf "%-40s %6.2f\n", l, a / b }'; }
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
exit 0
