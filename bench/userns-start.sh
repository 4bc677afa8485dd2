#!/usr/bin/env bash
# Container start latency in a user namespace: one private berthd with --userns-remap (a
# temporary user berth-bench-<pid> with subordinate ranges, added to /etc/passwd, /etc/group,
# /etc/subuid and /etc/subgid and taken out again on exit) times `docker start` of pre-created
# `busybox true` containers, remapped (new user namespace, idmapped lower layers) and with
# --userns=host on the same daemon. Prints medians in seconds and the ratio. Run as root.
#
#   bench/userns-start.sh          # RUNS=15 by default
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-15}
user=berth-bench-$$
tmp=$(mktemp -d /tmp/bu-XXXXXX)
chmod 711 "$tmp"
berthd_pid=""
cleanup() {
  [ -n "$berthd_pid" ] && kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null || true
  for f in /etc/passwd /etc/group /etc/subuid /etc/subgid; do
    grep -v "^$user:" "$f" >"$tmp/etc" || true
    cat "$tmp/etc" >"$f"
  done
  remove_leftovers "$tmp" "berth-bench-$$"
}
trap cleanup EXIT

id=59500
while getent passwd "$id" >/dev/null || getent group "$id" >/dev/null; do id=$((id + 1)); done
echo "$user:x:$id:$id::/nonexistent:/bin/false" >>/etc/passwd
echo "$user:x:$id:" >>/etc/group
echo "$user:2000000:65536" >>/etc/subuid
echo "$user:2000000:65536" >>/etc/subgid


time_starts() { # <label> <create options...>
  local label=$1; shift
  local ids=()
  for _ in $(seq "$RUNS"); do ids+=("$(D create --network none "$@" busybox true)"); done
  D start "${ids[0]}" >/dev/null # warm-up (not counted)
  D wait "${ids[0]}" >/dev/null
  for c in "${ids[@]:1}"; do
    local t0=$EPOCHREALTIME
    D start "$c" >/dev/null
    awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { print a - b }'
    D wait "$c" >/dev/null
  done | median | xargs printf '%s %.4f\n' "$label"
  D rm -f "${ids[@]}" >/dev/null
}

sock=$tmp/berth.sock
node dist/src/bin/berthd.js -H "unix://$sock" --data-root "$tmp/data" --exec-root "$tmp/run" \
  --cgroup-parent "berth-bench-$$" --log-level warn --userns-remap "$user" $(bench_net_args) 2>"$tmp/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do bin/berth -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
D() { docker -H "unix://$sock" "$@"; }
PATH="$PWD/bin:$PATH" contrib/mkimage/busybox -H "unix://$sock" >/dev/null

{
  time_starts remapped
  time_starts userns-host --userns=host
} | tee "$tmp/results"
awk '{m[$1] = $2} END { if (m["userns-host"] > 0) printf "ratio remapped/userns-host: %.2f\n", m["remapped"] / m["userns-host"] }' "$tmp/results"
