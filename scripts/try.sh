#!/usr/bin/env bash
# The README's first command: install and build berth, start berthd on /run/berth/berth.sock
# (unless one already answers there), make the busybox image, and run a container.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh

sock=/run/berth/berth.sock
if ! berth -H "unix://$sock" version >/dev/null 2>&1; then
  mkdir -p /var/log
  echo "starting berthd (log: /var/log/berthd.log)"
  setsid berthd -H "unix://$sock" >>/var/log/berthd.log 2>&1 < /dev/null &
  for _ in $(seq 1 100); do
    berth -H "unix://$sock" version >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

if ! berth -H "unix://$sock" image inspect busybox:latest >/dev/null 2>&1; then
  contrib/mkimage/busybox -H "unix://$sock"
fi

berth -H "unix://$sock" run --rm busybox echo 'Hello from a berth container!'
echo
echo "berthd is running on $sock. Try:"
echo "  berth -H unix://$sock run -it --rm busybox sh"
echo "  docker -H unix://$sock ps -a"
