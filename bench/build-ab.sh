#!/usr/bin/env bash
# Cold builds (--no-cache) of the shared suite's big build context (2000 files / 50 MiB, RUN dd
# 20 MiB) against two berth checkouts in turn, e.g. main and a branch, each with its own private
# berthd, and prints per build the wall time and the bytes berthd itself wrote and read
# (/proc/<pid>/io wchar and rchar: bytes through write(2)/read(2), page cache included). Times
# depend on the machine's load; the byte counts do not, which makes them the figure to compare.
#
#   bench/build-ab.sh <checkout A> <checkout B> [rounds, default 3]
#   bench/build-ab.sh /work/main .
#
# Each checkout needs `npx tsc -p .` and `make -C native` done. Run as root. Everything (daemons,
# interfaces, nftables tables, cgroups, temp dirs) is removed at the end.
set -euo pipefail
A_REPO=$(cd "$1" && pwd)
B_REPO=$(cd "$2" && pwd)
cd "$(dirname "$0")/.."
. bench/lib.sh
ROUNDS=${3:-3}
export DOCKER_BUILDKIT=0 DOCKER_CLI_HINTS=false
tmp=$(mktemp -d /tmp/bb-ab-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  for tag in a b; do
    ip link del "b${tag}$$0" 2>/dev/null || true
    for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^b${tag}$$" || true); do ip link del "$l" 2>/dev/null || true; done
    nft delete table inet "b${tag}$$" 2>/dev/null || true
  done
  remove_leftovers "$tmp" "berth-bench-ab-a-$$" "berth-bench-ab-b-$$"
}
trap cleanup EXIT

# start <checkout> <tag>: a berthd with busybox loaded, at $tmp/<tag>/berth.sock
start() {
  local repo=$1 tag=$2 dir=$tmp/$2 net=10.22$([ "$2" = a ] && echo 1 || echo 2)
  mkdir -p "$dir"
  (
    cd "$repo"
    exec node dist/src/bin/berthd.js -H "unix://$dir/berth.sock" --data-root "$dir/data" --exec-root "$dir/run" \
      --cgroup-parent "berth-bench-ab-$tag-$$" --log-level warn --iface-prefix "b$tag$$" --bridge "b$tag$$"0 \
      --nft-table "b$tag$$" --default-address-pool "base=$net.0.0/16,size=24" 2>"$dir/berthd.log"
  ) >/dev/null &
  pids+=($!)
  echo $! >"$dir/pid"
  for _ in $(seq 100); do "$repo/bin/berth" -H "unix://$dir/berth.sock" version >/dev/null 2>&1 && break; sleep 0.1; done
  (cd "$repo" && PATH="$PWD/bin:$PATH" contrib/mkimage/busybox -H "unix://$dir/berth.sock" >/dev/null 2>&1)
}
start "$A_REPO" a
start "$B_REPO" b

ctx=$tmp/ctx
mkdir -p "$ctx/ctx"
for d in $(seq 0 19); do
  mkdir -p "$ctx/ctx/d$d"
  head -c $((100 * 26214)) /dev/urandom | (cd "$ctx/ctx/d$d" && split -b 26214 -a 4 -d - f)
done
echo v0 >"$ctx/late.txt"
cat >"$ctx/Dockerfile" <<'EOF'
FROM busybox
ENV BENCH_PHASE=build
WORKDIR /app
RUN dd if=/dev/urandom of=/app/big.bin bs=1048576 count=20 2>/dev/null
COPY ctx/ /app/ctx/
RUN ls -R /app/ctx | wc -l > /app/count.txt
COPY late.txt /app/late.txt
CMD ["sh", "-c", "cat /app/late.txt"]
EOF

io() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/io"; }
# one <tag>: a cold build, printed as `<tag> <ms> <MiB written> <MiB read>`
one() {
  local dir=$tmp/$1 pid w0 r0 t0
  pid=$(cat "$dir/pid")
  w0=$(io "$pid" wchar)
  r0=$(io "$pid" rchar)
  t0=$EPOCHREALTIME
  docker -H "unix://$dir/berth.sock" build -q --no-cache -t big "$ctx" >/dev/null 2>&1
  awk -v a="$EPOCHREALTIME" -v b="$t0" -v w="$(($(io "$pid" wchar) - w0))" -v r="$(($(io "$pid" rchar) - r0))" -v t="$1" \
    'BEGIN { printf "%s %.0f %.1f %.1f\n", t, (a - b) * 1000, w / 1048576, r / 1048576 }'
}
results=$tmp/results
for _ in $(seq "$ROUNDS"); do
  one a | tee -a "$results" >&2
  one b | tee -a "$results" >&2
done
echo "cold builds of the big context over $ROUNDS rounds (medians; A=$A_REPO, B=$B_REPO)"
for t in a b; do
  printf '%s  %8.0f ms  written %6.1f MiB  read %6.1f MiB\n' "$(echo $t | tr ab AB)" \
    "$(awk -v t=$t '$1 == t {print $2}' "$results" | median)" \
    "$(awk -v t=$t '$1 == t {print $3}' "$results" | median)" \
    "$(awk -v t=$t '$1 == t {print $4}' "$results" | median)"
done
