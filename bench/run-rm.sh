#!/usr/bin/env bash
# Times `run --rm --network none busybox true` and `run --rm busybox true` (the default bridge)
# through a private berthd, driven by the docker CLI and by the berth CLI, and — when Debian's
# dockerd is installed — through a private dockerd driven by the docker CLI; prints medians and
# the ratios berth/docker. Run as root. Each daemon gets its own bridge (bbr<pid>, 10.213.0.0/16
# for berth, 10.214.0.1/24 for dockerd, which runs without iptables), removed at the end.
#
#   bench/run-rm.sh            # RUNS=15 by default
#   RUNS=30 bench/run-rm.sh
#
# For the full side-by-side suite use ../shared/bench/engine-bench.sh against the berthd socket
# this script prints when KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-15}
tmp=$(mktemp -d /tmp/bb-XXXXXX)
berthd_pid=""
dockerd_pid=""
cleanup() {
  [ -n "$berthd_pid" ] && kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null || true
  [ -n "$dockerd_pid" ] && kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null || true
  ip link del "bbd$$" 2>/dev/null || true
  for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^bbr$$"); do ip link del "$l" 2>/dev/null; done
  nft delete table inet "bbr$$" 2>/dev/null || true
  remove_leftovers "$tmp" "berth-bench-$$" docker
}
trap cleanup EXIT


# time_runs <label> <command...>: prints "<label> <median seconds>"
time_runs() {
  local label=$1; shift
  "$@" >/dev/null 2>&1 || { echo "$label: warm-up failed: $*" >&2; return 1; }
  for _ in $(seq "$RUNS"); do
    local t0=$EPOCHREALTIME
    "$@" >/dev/null
    awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { print a - b }'
  done | median | xargs printf '%s %.4f\n' "$label"
}

sock=$tmp/berth.sock
node dist/src/bin/berthd.js -H "unix://$sock" --data-root "$tmp/data" --exec-root "$tmp/run" \
  --cgroup-parent "berth-bench-$$" --log-level warn \
  --iface-prefix "bbr$$" --bridge "bbr$$"0 --nft-table "bbr$$" --default-address-pool base=10.213.0.0/16,size=24 \
  2>"$tmp/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do bin/berth -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
PATH="$PWD/bin:$PATH" contrib/mkimage/busybox -H "unix://$sock" >/dev/null

results=$tmp/results
time_runs berth+docker-cli docker -H "unix://$sock" run --rm --network none busybox true | tee -a "$results"
time_runs berth+berth-cli bin/berth -H "unix://$sock" run --rm --network none busybox true | tee -a "$results"
time_runs bridge:berth+docker-cli docker -H "unix://$sock" run --rm busybox true | tee -a "$results"

if command -v dockerd >/dev/null; then
  dsock=$tmp/docker.sock
  ip link add "bbd$$" type bridge && ip addr add 10.214.0.1/24 dev "bbd$$" && ip link set "bbd$$" up
  dockerd -H "unix://$dsock" --data-root "$tmp/docker-data" --exec-root "$tmp/docker-run" \
    --pidfile "$tmp/docker.pid" --bridge "bbd$$" --iptables=false --ip-masq=false >"$tmp/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 100); do docker -H "unix://$dsock" version >/dev/null 2>&1 && break; sleep 0.2; done
  docker -H "unix://$sock" save busybox:latest 2>/dev/null | docker -H "unix://$dsock" load >/dev/null 2>&1 ||
    (mkdir -p "$tmp/bbroot/bin" && cp /bin/busybox "$tmp/bbroot/bin/" && for a in sh true echo; do ln -s busybox "$tmp/bbroot/bin/$a"; done &&
     tar -C "$tmp/bbroot" -c . | docker -H "unix://$dsock" import -c 'CMD ["sh"]' - busybox:latest >/dev/null)
  time_runs dockerd+docker-cli docker -H "unix://$dsock" run --rm --network none busybox true | tee -a "$results"
  time_runs bridge:dockerd+docker-cli docker -H "unix://$dsock" run --rm busybox true | tee -a "$results"
  awk '{m[$1]=$2} END {
    printf "ratio berth/docker (docker CLI): %.2f\n", m["berth+docker-cli"]/m["dockerd+docker-cli"];
    printf "ratio berth/docker (berth CLI):  %.2f\n", m["berth+berth-cli"]/m["dockerd+docker-cli"];
    printf "ratio berth/docker (bridge):     %.2f\n", m["bridge:berth+docker-cli"]/m["bridge:dockerd+docker-cli"] }' "$results"
else
  echo "dockerd is not installed (apt-get install docker.io): no ratio against Docker."
  echo "Docker's recorded baseline for this scenario is in ../shared/bench/README.md (run_rm_none)."
fi
