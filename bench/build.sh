#!/usr/bin/env bash
# Cold, cached and one-file-changed builds of the same contexts through a private berthd and a
# private dockerd (Debian's 20.10), all driven by a docker CLI, and prints the medians and ratios:
#
#   builders  berth       berthd, classic builder (DOCKER_BUILDKIT=0, /usr/local/bin/docker)
#             docker      dockerd, classic builder (same CLI)
#             buildkit    dockerd, BuildKit (DOCKER_BUILDKIT=1 with Debian's docker 20.10 CLI,
#                         /usr/bin/docker, which speaks BuildKit natively without buildx)
#   contexts  ten         the 10-step Dockerfile of test/integration/build-cache.test.ts
#                         (ENV, WORKDIR, COPY of 20 small files, RUN, LABEL, EXPOSE, COPY late.txt,
#                         USER, CMD); "changed" edits late.txt (step 8 of 10)
#             big         ../shared/bench/engine-bench.sh's build scenario: 2000 files / 50 MiB
#                         of random data, RUN dd 20 MiB; "changed" edits late.txt (step 7 of 8)
#
# Per context and builder: one warm-up build, then RUNS × (cold = --no-cache, cached = unchanged
# rebuild, changed = rebuild after editing late.txt). Then, unless ENGINE_BENCH=0, the shared
# suite's own build scenario (`SCENARIOS=build ../shared/bench/engine-bench.sh`) runs against both
# daemons and ../shared/bench/compare.sh prints docker → berth ratios. Run as root.
#
#   bench/build.sh                 # RUNS=5
#   RUNS=3 ENGINE_BENCH=0 bench/build.sh
#
# Each daemon has its own data root under a temp dir, its own bridge (bkb<pid>0 in
# 10.215.0.0/16 for berth, bkd<pid> 10.216.0.1/24 for dockerd, which runs without iptables);
# everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-5}
ENGINE_BENCH=${ENGINE_BENCH:-1}
OWN=${OWN:-1}   # OWN=0: only the shared suite's build scenario
# ../shared/bench beside the main checkout (/work/main → /work/shared), or from a worktree
# (/work/wt/<branch> → /work/shared).
if [ -z "${SHARED_BENCH:-}" ]; then
  for c in ../shared/bench ../../shared/bench; do [ -x "$c/engine-bench.sh" ] && SHARED_BENCH=$(cd "$c" && pwd) && break; done
fi
SHARED_BENCH=${SHARED_BENCH:-../shared/bench}
CLI=${CLI:-/usr/local/bin/docker}
CLI_BUILDKIT=${CLI_BUILDKIT:-/usr/bin/docker}
export DOCKER_CLI_HINTS=false
tmp=$(mktemp -d /tmp/bb-build-XXXXXX)
berthd_pid=""
dockerd_pid=""
cleanup() {
  [ -n "$berthd_pid" ] && kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null || true
  [ -n "$dockerd_pid" ] && kill "$dockerd_pid" 2>/dev/null && wait "$dockerd_pid" 2>/dev/null || true
  ip link del "bkd$$" 2>/dev/null || true
  for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^bkb$$"); do ip link del "$l" 2>/dev/null; done
  nft delete table inet "bkb$$" 2>/dev/null || true
  # containerd and shims dockerd started carry the temp dir in their command lines.
  for p in $(pgrep -f "$tmp" || true); do kill -9 "$p" 2>/dev/null || true; done
  remove_leftovers "$tmp" "berth-bench-build-$$"
}
trap cleanup EXIT

ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", (a - b) * 1000 }'; }

# ---- daemons
sock=$tmp/berth.sock
node dist/src/bin/berthd.js -H "unix://$sock" --data-root "$tmp/berth-data" --exec-root "$tmp/berth-run" \
  --cgroup-parent "berth-bench-build-$$" --log-level warn \
  --iface-prefix "bkb$$" --bridge "bkb$$"0 --nft-table "bkb$$" --default-address-pool base=10.215.0.0/16,size=24 \
  2>"$tmp/berthd.log" &
berthd_pid=$!
for _ in $(seq 100); do bin/berth -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
PATH="$PWD/bin:$PATH" contrib/mkimage/busybox -H "unix://$sock" >/dev/null

dsock=$tmp/docker.sock
have_docker=0
if command -v dockerd >/dev/null; then
  ip link add "bkd$$" type bridge && ip addr add 10.216.0.1/24 dev "bkd$$" && ip link set "bkd$$" up
  dockerd -H "unix://$dsock" --data-root "$tmp/docker-data" --exec-root "$tmp/docker-run" \
    --pidfile "$tmp/docker.pid" --bridge "bkd$$" --iptables=false --ip6tables=false --ip-masq=false \
    --cgroup-parent "berth-bench-build-$$" >"$tmp/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 150); do "$CLI" -H "unix://$dsock" version >/dev/null 2>&1 && break; sleep 0.2; done
  "$CLI" -H "unix://$sock" save busybox:latest | "$CLI" -H "unix://$dsock" load >/dev/null
  have_docker=1
else
  echo "dockerd is not installed (apt-get install docker.io): berth only." >&2
fi

# ---- contexts
ten=$tmp/ctx-ten
mkdir -p "$ten/src"
for i in $(seq 0 19); do printf '%s%s\n' "$(head -c 2000 /dev/zero | tr '\0' x)" "$i" >"$ten/src/f$i.txt"; done
echo v0 >"$ten/late.txt"
cat >"$ten/Dockerfile" <<'EOF'
FROM busybox
ENV A=1
WORKDIR /app
COPY src/ /app/src/
RUN echo built > /app/run.txt
LABEL x=y
EXPOSE 80
COPY late.txt /app/
USER 1000
CMD ["cat", "/app/late.txt"]
EOF
big=$tmp/ctx-big
mkdir -p "$big/ctx"
for d in $(seq 0 19); do
  mkdir -p "$big/ctx/d$d"
  head -c $((100 * 26214)) /dev/urandom | (cd "$big/ctx/d$d" && split -b 26214 -a 4 -d - f)
done
echo v0 >"$big/late.txt"
cat >"$big/Dockerfile" <<'EOF'
FROM busybox
ENV BENCH_PHASE=build
WORKDIR /app
RUN dd if=/dev/urandom of=/app/big.bin bs=1048576 count=20 2>/dev/null
COPY ctx/ /app/ctx/
RUN ls -R /app/ctx | wc -l > /app/count.txt
COPY late.txt /app/late.txt
CMD ["sh", "-c", "cat /app/late.txt"]
EOF

# ---- timing
results=$tmp/results
# one <builder> <context-name> <dir>: RUNS × cold/cached/changed, medians appended to $results
one() {
  local builder=$1 name=$2 dir=$3 host cli bk
  case $builder in
    berth) host=unix://$sock; cli=$CLI; bk=0 ;;
    docker) host=unix://$dsock; cli=$CLI; bk=0 ;;
    buildkit) host=unix://$dsock; cli=$CLI_BUILDKIT; bk=1 ;;
  esac
  local b=("$cli" -H "$host" build -q -t "bench-build-$name")
  DOCKER_BUILDKIT=$bk "${b[@]}" "$dir" >/dev/null 2>"$tmp/err" || { echo "$builder/$name: warm-up build failed: $(cat "$tmp/err")" >&2; return 1; }
  local cold=() cached=() changed=() t0
  for i in $(seq "$RUNS"); do
    t0=$EPOCHREALTIME; DOCKER_BUILDKIT=$bk "${b[@]}" --no-cache "$dir" >/dev/null 2>&1; cold+=("$(ms "$EPOCHREALTIME" "$t0")")
    t0=$EPOCHREALTIME; DOCKER_BUILDKIT=$bk "${b[@]}" "$dir" >/dev/null 2>&1; cached+=("$(ms "$EPOCHREALTIME" "$t0")")
    echo "v$i-$RANDOM" >"$dir/late.txt"
    t0=$EPOCHREALTIME; DOCKER_BUILDKIT=$bk "${b[@]}" "$dir" >/dev/null 2>&1; changed+=("$(ms "$EPOCHREALTIME" "$t0")")
  done
  printf '%s %s %s %s %s\n' "$builder" "$name" \
    "$(printf '%s\n' "${cold[@]}" | median)" "$(printf '%s\n' "${cached[@]}" | median)" \
    "$(printf '%s\n' "${changed[@]}" | median)" | tee -a "$results" >&2
}

builders=(berth)
(( have_docker )) && builders+=(docker buildkit)
contexts=(ten big)
[ "$OWN" = 1 ] || contexts=()
for ctx in "${contexts[@]}"; do
  for builder in "${builders[@]}"; do
    dir=$ten; [ "$ctx" = big ] && dir=$big
    one "$builder" "$ctx" "$dir" || true
  done
done

[ "$OWN" = 1 ] && echo && echo "build medians (ms) over RUNS=$RUNS, docker CLI included; cached% and changed% are of the same builder's cold build"
awk '
  { cold[$1" "$2]=$3; cached[$1" "$2]=$4; changed[$1" "$2]=$5; ctxs[$2]=1; b[$1]=1 }
  END {
    printf "%-6s %-9s %9s %9s %9s %8s %9s %12s %12s\n", "ctx", "builder", "cold", "cached", "changed", "cached%", "changed%", "cold/docker", "cached/docker"
    split("ten big", order, " ")
    for (i = 1; i <= 2; i++) { c = order[i]; if (!(c in ctxs)) continue
      split("berth docker buildkit", bl, " ")
      for (j = 1; j <= 3; j++) { k = bl[j]" "c; if (!(k in cold)) continue
        d = "docker "c
        printf "%-6s %-9s %9.1f %9.1f %9.1f %7.1f%% %8.1f%% %12s %12s\n", c, bl[j], cold[k], cached[k], changed[k],
          100*cached[k]/cold[k], 100*changed[k]/cold[k],
          (d in cold) ? sprintf("%.2f", cold[k]/cold[d]) : "-", (d in cold) ? sprintf("%.2f", cached[k]/cached[d]) : "-"
      }
    }
  }' "$results" 2>/dev/null || true

if [ "$ENGINE_BENCH" = 1 ] && [ ! -x "$SHARED_BENCH/engine-bench.sh" ]; then
  echo "no $SHARED_BENCH/engine-bench.sh (set SHARED_BENCH): skipping the shared suite's build scenario" >&2
elif [ "$ENGINE_BENCH" = 1 ]; then
  echo
  echo "../shared/bench/engine-bench.sh SCENARIOS=build (RUNS=$RUNS), docker → berth:"
  DOCKER_HOST=unix://$sock RUNS=$RUNS SCENARIOS=build OUT=$tmp/eb-berth.json "$SHARED_BENCH/engine-bench.sh" >/dev/null 2>"$tmp/eb-berth.log" ||
    echo "engine-bench against berthd failed: $(tail -3 "$tmp/eb-berth.log")" >&2
  if (( have_docker )); then
    DOCKER_HOST=unix://$dsock RUNS=$RUNS SCENARIOS=build OUT=$tmp/eb-docker.json "$SHARED_BENCH/engine-bench.sh" >/dev/null 2>"$tmp/eb-docker.log" ||
      echo "engine-bench against dockerd failed: $(tail -3 "$tmp/eb-docker.log")" >&2
    "$SHARED_BENCH/compare.sh" "$tmp/eb-docker.json" "$tmp/eb-berth.json" | column -t -s $'\t'
  fi
fi
