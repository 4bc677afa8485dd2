#!/usr/bin/env bash
# Parallel stages and skipped stages of the classic builder, through a private berthd and the
# docker CLI (DOCKER_BUILDKIT=0), uncached (--no-cache):
# - serial:   one stage running `RUN sleep 1` twice;
# - parallel: two independent stages running `RUN sleep 1` each, a third copying from both
#             (the same sleeping, done at the same time);
# - unused:   the parallel file plus a stage nothing uses running `RUN sleep 2` (skipped).
# Prints the medians and the ratios parallel/serial and unused/parallel. Docker's classic builder
# runs stages one after another (its parallel/serial is about 1.0); BuildKit's is about 0.5.
# Run as root.
#
#   bench/build-stages.sh        # RUNS=5 by default
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
tmp=$(mktemp -d /tmp/bbs-XXXXXX)
berthd_pid=""
cleanup() {
  [ -n "$berthd_pid" ] && kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null || true
  for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^bbs$$"); do ip link del "$l" 2>/dev/null; done
  nft delete table inet "bbs$$" 2>/dev/null || true
  remove_leftovers "$tmp" "berth-bench-$$"
}
trap cleanup EXIT


sock=$tmp/berth.sock
node dist/src/bin/berthd.js -H "unix://$sock" --data-root "$tmp/data" --exec-root "$tmp/run" \
  --cgroup-parent "berth-bench-$$" --log-level warn \
  --iface-prefix "bbs$$" --bridge "bbs$$"0 --nft-table "bbs$$" --default-address-pool base=10.215.0.0/16,size=24 \
  2>"$tmp/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do bin/berth -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
PATH="$PWD/bin:$PATH" contrib/mkimage/busybox -H "unix://$sock" >/dev/null

mkdir -p "$tmp/serial" "$tmp/parallel" "$tmp/unused"
printf 'FROM busybox\nRUN sleep 1\nRUN sleep 1\n' >"$tmp/serial/Dockerfile"
parallel='FROM busybox AS a\nRUN sleep 1\nFROM busybox AS b\nRUN sleep 1\nFROM busybox\nCOPY --from=a /etc/hostname /a\nCOPY --from=b /etc/hostname /b\n'
printf "$parallel" >"$tmp/parallel/Dockerfile"
printf "FROM busybox AS unused\nRUN sleep 2\n$parallel" >"$tmp/unused/Dockerfile"

results=$tmp/results
for kind in serial parallel unused; do
  for _ in $(seq "$RUNS"); do
    t0=$EPOCHREALTIME
    DOCKER_BUILDKIT=0 docker -H "unix://$sock" build -q --no-cache "$tmp/$kind" >/dev/null 2>&1
    awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { print a - b }'
  done | median | xargs printf '%s %.3f\n' "$kind" | tee -a "$results"
done
awk '{m[$1]=$2} END {
  printf "ratio parallel/serial: %.2f\n", m["parallel"]/m["serial"];
  printf "ratio unused/parallel: %.2f\n", m["unused"]/m["parallel"] }' "$results"
