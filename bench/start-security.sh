#!/usr/bin/env bash
# Container start latency with the full security set-up (Docker's default capabilities, seccomp
# profile, masked/read-only paths, devices cgroup, pid/ipc/uts/mount namespaces) against the same
# start with seccomp off and --privileged, through a private berthd and — when Debian's dockerd is
# installed — a private dockerd, both driven by the docker CLI. Times `docker start` of a
# pre-created `busybox true` container (create and the exit are not timed); prints medians in
# seconds and the ratios berth/docker. Run as root.
#
#   bench/start-security.sh          # RUNS=15 by default
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-15}
tmp=$(mktemp -d /tmp/bs-XXXXXX)
berthd_pid=""
dockerd_pid=""
cleanup() {
  [ -n "$berthd_pid" ] && kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null || true
  [ -n "$dockerd_pid" ] && kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null || true
  remove_leftovers "$tmp" "berth-bench-$$" "docker-bench-$$"
}
trap cleanup EXIT


# time_starts <label> <socket> <create options...>: "<label> <median seconds of docker start>"
time_starts() {
  local label=$1 sock=$2; shift 2
  local ids=() probe err
  # An engine that cannot run the configuration here (e.g. runc's --privileged asking for
  # capabilities outside this host's bounding set) is reported, not timed.
  probe=$(docker -H "unix://$sock" create --network none "$@" busybox true)
  if ! err=$(docker -H "unix://$sock" start "$probe" 2>&1 >/dev/null); then
    docker -H "unix://$sock" rm -f "$probe" >/dev/null
    echo "$label n/a: $(echo "$err" | head -1 | sed 's/.*runc create failed: //')"
    return 0
  fi
  docker -H "unix://$sock" wait "$probe" >/dev/null
  docker -H "unix://$sock" rm -f "$probe" >/dev/null
  for _ in $(seq "$RUNS"); do
    ids+=("$(docker -H "unix://$sock" create --network none "$@" busybox true)")
  done
  docker -H "unix://$sock" start "${ids[0]}" >/dev/null # warm-up (not counted)
  docker -H "unix://$sock" wait "${ids[0]}" >/dev/null
  for id in "${ids[@]:1}"; do
    local t0=$EPOCHREALTIME
    docker -H "unix://$sock" start "$id" >/dev/null
    awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { print a - b }'
    docker -H "unix://$sock" wait "$id" >/dev/null
  done | median | xargs printf '%s %.4f\n' "$label"
  docker -H "unix://$sock" rm -f "${ids[@]}" >/dev/null
}

scenarios() { # <engine> <socket>
  time_starts "$1:default-security" "$2"
  time_starts "$1:seccomp-unconfined" "$2" --security-opt seccomp=unconfined
  time_starts "$1:privileged" "$2" --privileged
}

sock=$tmp/berth.sock
node dist/src/bin/berthd.js -H "unix://$sock" --data-root "$tmp/data" --exec-root "$tmp/run" \
  --cgroup-parent "berth-bench-$$" --log-level warn $(bench_net_args) 2>"$tmp/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do bin/berth -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
PATH="$PWD/bin:$PATH" contrib/mkimage/busybox -H "unix://$sock" >/dev/null

results=$tmp/results
scenarios berth "$sock" | tee -a "$results"

if command -v dockerd >/dev/null; then
  dsock=$tmp/docker.sock
  dockerd -H "unix://$dsock" --data-root "$tmp/docker-data" --exec-root "$tmp/docker-run" \
    --pidfile "$tmp/docker.pid" --bridge none --iptables=false --cgroup-parent "docker-bench-$$" \
    >"$tmp/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 100); do docker -H "unix://$dsock" version >/dev/null 2>&1 && break; sleep 0.2; done
  docker -H "unix://$sock" save busybox:latest | docker -H "unix://$dsock" load >/dev/null
  scenarios docker "$dsock" | tee -a "$results"
  awk '$2 ~ /^[0-9.]+$/ {split($1, k, ":"); m[k[1], k[2]] = $2; s[k[2]] = 1} END {
    for (x in s) if (m["docker", x] > 0 && m["berth", x] > 0) printf "ratio berth/docker %s: %.2f\n", x, m["berth", x] / m["docker", x] }' "$results"
else
  echo "dockerd is not installed (apt-get install docker.io): no ratio against Docker."
fi
