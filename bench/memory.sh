#!/usr/bin/env bash
# Memory of the engine itself: berthd idle, and what each running container adds (berthd's
# growth + one berth-shim), against dockerd + containerd + containerd-shim when Debian's dockerd
# is installed. Container processes themselves (busybox sleep) are not counted. Figures are
# RSS and PSS (shared pages split between processes) in KiB, from /proc/<pid>/smaps_rollup.
# Run as root.
#
#   bench/memory.sh            # N=10 containers by default
#   N=20 bench/memory.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-10}
tmp=$(mktemp -d /tmp/bm-XXXXXX)
echo "{}" > "$tmp/none.json"
berthd_pid=""
dockerd_pid=""
cleanup() {
  [ -n "$berthd_pid" ] && { bin/berth -H "unix://$tmp/berth.sock" rm -f $(bin/berth -H "unix://$tmp/berth.sock" ps -aq 2>/dev/null) >/dev/null 2>&1 || true; kill "$berthd_pid" 2>/dev/null; wait "$berthd_pid" 2>/dev/null || true; }
  [ -n "$dockerd_pid" ] && { docker -H "unix://$tmp/docker.sock" rm -f $(docker -H "unix://$tmp/docker.sock" ps -aq 2>/dev/null) >/dev/null 2>&1 || true; kill "$dockerd_pid" 2>/dev/null; wait "$dockerd_pid" 2>/dev/null || true; }
  remove_leftovers "$tmp" "berth-bench-$$"
}
trap cleanup EXIT

# mem <pid...>: "<rss KiB> <pss KiB>" summed over the pids
mem() {
  local rss=0 pss=0 p
  for p in "$@"; do
    [ -r "/proc/$p/smaps_rollup" ] || continue
    rss=$((rss + $(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup")))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
  done
  echo "$rss $pss"
}

settle() { sleep 2; }

sock=$tmp/berth.sock
node dist/src/bin/berthd.js -H "unix://$sock" --data-root "$tmp/data" --exec-root "$tmp/run" \
  --cgroup-parent "berth-bench-$$" --log-level warn --config-file "$tmp/none.json" $(bench_net_args) 2>"$tmp/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do bin/berth -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
PATH="$PWD/bin:$PATH" contrib/mkimage/busybox -H "unix://$sock" >/dev/null
settle
read -r b_idle_rss b_idle_pss < <(mem "$berthd_pid")
for i in $(seq "$N"); do docker -H "unix://$sock" run -d --network none busybox sleep 100000 >/dev/null; done
settle
shims=$(pgrep -f "berth-shim run --plan $tmp" || true)
read -r b_d_rss b_d_pss < <(mem "$berthd_pid")
read -r s_rss s_pss < <(mem $shims)
echo "berthd idle:                   RSS ${b_idle_rss} KiB  PSS ${b_idle_pss} KiB"
echo "berth per running container:   RSS $(( (b_d_rss - b_idle_rss + s_rss) / N )) KiB  PSS $(( (b_d_pss - b_idle_pss + s_pss) / N )) KiB   (berthd growth $(( (b_d_pss - b_idle_pss) / N )) + shim $(( s_pss / N )) KiB PSS; $(echo $shims | wc -w) shims)"

if command -v dockerd >/dev/null; then
  dsock=$tmp/docker.sock
  dockerd -H "unix://$dsock" --data-root "$tmp/docker-data" --exec-root "$tmp/docker-run" \
    --pidfile "$tmp/docker.pid" --bridge none --iptables=false --config-file "$tmp/none.json" >"$tmp/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 100); do docker -H "unix://$dsock" version >/dev/null 2>&1 && break; sleep 0.2; done
  docker -H "unix://$sock" save busybox:latest 2>/dev/null | docker -H "unix://$dsock" load >/dev/null 2>&1 ||
    (mkdir -p "$tmp/bbroot/bin" && cp /bin/busybox "$tmp/bbroot/bin/" && for a in sh sleep; do ln -s busybox "$tmp/bbroot/bin/$a"; done &&
     tar -C "$tmp/bbroot" -c . | docker -H "unix://$dsock" import -c 'CMD ["sh"]' - busybox:latest >/dev/null)
  settle
  ctrd=$(pgrep -f "containerd --config $tmp/docker-run" || pgrep -P "$dockerd_pid" containerd || true)
  read -r d_idle_rss d_idle_pss < <(mem "$dockerd_pid" $ctrd)
  for i in $(seq "$N"); do docker -H "unix://$dsock" run -d --network none busybox sleep 100000 >/dev/null; done
  settle
  dshims=$(pgrep -f "containerd-shim.*$tmp/docker-run|containerd-shim.*moby" || true)
  read -r d_d_rss d_d_pss < <(mem "$dockerd_pid" $ctrd)
  read -r ds_rss ds_pss < <(mem $dshims)
  echo "dockerd+containerd idle:       RSS ${d_idle_rss} KiB  PSS ${d_idle_pss} KiB"
  echo "docker per running container:  RSS $(( (d_d_rss - d_idle_rss + ds_rss) / N )) KiB  PSS $(( (d_d_pss - d_idle_pss + ds_pss) / N )) KiB   ($(echo $dshims | wc -w) shims)"
else
  echo "dockerd is not installed (apt-get install docker.io): no comparison with Docker."
fi
