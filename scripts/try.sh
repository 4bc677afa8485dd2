#!/usr/bin/env bash
# The README's first command: install and build berth, start berthd on /run/berth/berth.sock
# (unless one already answers there), make the busybox image, and run a container.
#
# The locations can be moved (the integration test runs this script in temp dirs):
# BERTH_SOCK, BERTH_DATA_ROOT, BERTH_EXEC_ROOT, BERTH_CGROUP_PARENT, BERTH_LOG;
# BERTH_DAEMON_ARGS adds berthd flags (the test names its bridge and nftables table with them);
# BERTH_SKIP_INSTALL=1 skips scripts/install.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${BERTH_SKIP_INSTALL:-0}" = 1 ] || scripts/install.sh

sock=${BERTH_SOCK:-/run/berth/berth.sock}
data_root=${BERTH_DATA_ROOT:-/var/lib/berth}
exec_root=${BERTH_EXEC_ROOT:-/run/berth}
log=${BERTH_LOG:-/var/log/berthd.log}
host="unix://$sock"
berth() { node "$PWD/dist/src/bin/berth.js" -H "$host" "$@"; }

if ! berth version >/dev/null 2>&1; then
  mkdir -p "$(dirname "$log")"
  echo "starting berthd on $sock (log: $log)"
  setsid node "$PWD/dist/src/bin/berthd.js" -H "$host" --data-root "$data_root" --exec-root "$exec_root" \
    --cgroup-parent "${BERTH_CGROUP_PARENT:-berth}" ${BERTH_DAEMON_ARGS:-} >>"$log" 2>&1 </dev/null &
  for _ in $(seq 1 100); do
    berth version >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

if ! berth image inspect busybox:latest >/dev/null 2>&1; then
  PATH="$PWD/bin:$PATH" contrib/mkimage/busybox -H "$host" >/dev/null
fi

berth run --rm busybox echo 'Hello from a berth container!'
echo
echo "berthd is running on $sock. Try:"
echo "  berth -H $host run -it --rm busybox sh"
echo "  docker -H $host ps -a"
