#!/usr/bin/env bash
# Times image transfer through a private berthd: push and pull of a ~200 MB, 5-layer image
# through berth's own registry server and Debian's docker-registry on 127.0.0.1, and save/load
# of it; when Debian's dockerd is installed, the same through a private dockerd, and the
# cross-checks that berth's save loads into Docker and Docker's save loads into berth.
# Prints seconds and MB/s per step. Run as root.
#
#   bench/image-transfer.sh           # SIZE_MB=200 (5 layers of SIZE_MB/4 random bytes + busybox)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
SIZE_MB=${SIZE_MB:-200}
tmp=$(mktemp -d /tmp/bb-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  remove_leftovers "$tmp" "berth-bench-$$"
}
trap cleanup EXIT
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
t() { local label=$1; shift; local t0=$EPOCHREALTIME; "$@" >/dev/null 2>"$tmp/err" || { echo "$label failed:" >&2; cat "$tmp/err" >&2; return 1; }
  awk -v a="$EPOCHREALTIME" -v b="$t0" -v l="$label" -v mb="$MB" 'BEGIN { d=a-b; printf "%-34s %7.2fs %8.1f MB/s\n", l, d, mb/d }'; }

sock=$tmp/berth.sock
node dist/src/bin/berthd.js -H "unix://$sock" --data-root "$tmp/data" --exec-root "$tmp/run" \
  --cgroup-parent "berth-bench-$$" --log-level warn $(bench_net_args) 2>"$tmp/berthd.log" &
pids+=($!)
for _ in $(seq 100); do bin/berth -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
PATH="$PWD/bin:$PATH" contrib/mkimage/busybox -H "unix://$sock" >/dev/null
D() { docker -H "unix://$sock" "$@"; }

# The image: busybox + 4 layers of random data, made with run + commit.
per=$((SIZE_MB / 4))
img=bench/big:1
D tag busybox "$img"
for i in 1 2 3 4; do
  D run --name "mk$i" "$img" sh -c "head -c ${per}m /dev/urandom > /data$i" >/dev/null
  D commit "mk$i" "$img" >/dev/null
  D rm "mk$i" >/dev/null
done
MB=$(D image inspect -f '{{.Size}}' "$img" | awk '{printf "%.1f", $1/1e6}')
echo "image: $MB MB in $(D image inspect -f '{{len .RootFS.Layers}}' "$img") layers"

breg=$(free_port)
node bin/berth-registry serve --addr "127.0.0.1:$breg" --root "$tmp/breg" --log-level error >/dev/null &
pids+=($!)
dreg=$(free_port)
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$tmp/dreg" "$dreg" >"$tmp/dreg.yml"
docker-registry serve "$tmp/dreg.yml" >/dev/null 2>&1 &
pids+=($!)
sleep 1

for reg in "berth-registry 127.0.0.1:$breg" "docker-registry 127.0.0.1:$dreg"; do
  set -- $reg
  ref=$2/bench/big:1
  D tag "$img" "$ref"
  t "berthd push -> $1" D push "$ref"
  # The same layers to another repository of that registry: cross-repository mounts, no upload.
  D tag "$img" "$2/bench/copy:1"
  t "berthd push -> $1 (mounted)" sh -c "docker -H unix://$sock push $2/bench/copy:1 >$tmp/copy.out"
  echo "  $(grep -c 'Mounted from bench/big' "$tmp/copy.out") layers mounted from bench/big"
  D rmi "$2/bench/copy:1" >/dev/null
  D rmi "$ref" >/dev/null; D rmi "$img" >/dev/null
  t "berthd pull <- $1" D pull "$ref"
  D tag "$ref" "$img"
  D rmi "$ref" >/dev/null
done
t "berthd save" sh -c "docker -H unix://$sock save -o $tmp/berth-save.tar $img"
D rmi -f "$img" >/dev/null; for r in $(D images --format '{{.Repository}}:{{.Tag}}' | grep bench/big); do D rmi "$r" >/dev/null; done
t "berthd load" sh -c "docker -H unix://$sock load -i $tmp/berth-save.tar"

if command -v dockerd >/dev/null; then
  dsock=$tmp/docker.sock
  dockerd -H "unix://$dsock" --data-root "$tmp/docker-data" --exec-root "$tmp/docker-run" --pidfile "$tmp/docker.pid" \
    --bridge none --iptables=false --insecure-registry "127.0.0.1:$dreg" >"$tmp/dockerd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do docker -H "unix://$dsock" version >/dev/null 2>&1 && break; sleep 0.2; done
  X() { docker -H "unix://$dsock" "$@"; }
  t "dockerd load (berth's save)" sh -c "docker -H unix://$dsock load -i $tmp/berth-save.tar"
  X run --rm "$img" sh -c 'test -s /data4' || { echo "berth's save did not run under docker" >&2; exit 1; }
  t "dockerd save" sh -c "docker -H unix://$dsock save -o $tmp/docker-save.tar $img"
  D rmi -f "$img" >/dev/null
  t "berthd load (docker's save)" sh -c "docker -H unix://$sock load -i $tmp/docker-save.tar"
  ref=127.0.0.1:$dreg/bench/docker:1
  X tag "$img" "$ref"
  t "dockerd push -> docker-registry" X push "$ref"
  X rmi "$ref" >/dev/null; X rmi "$img" >/dev/null
  t "dockerd pull <- docker-registry" X pull "$ref"
else
  echo "dockerd is not installed: no comparison with Docker."
fi
