#!/usr/bin/env bash
# Installs everything berth needs on a fresh Debian bookworm machine and builds it:
# Debian packages, npm dependencies, the TypeScript build and the native helpers.
# Safe to run again: each step is skipped or cheap when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: runtime needs (iproute2, nftables, libseccomp, libcap, git for git build contexts, busybox-static for the
# base image, tini for --init: its tini-static is the in-container init) and the build toolchain
# for native/. Test oracles come with --test: runc, tmux, docker-registry, skopeo, htpasswd, curl, and docker.io, whose dockerd the interop tests
# run privately (test/helpers/dockerd.ts); its system service is kept from starting (below).
packages=(build-essential pkg-config iproute2 nftables libseccomp-dev libcap-dev zlib1g-dev pigz zstd busybox-static tini
  procps util-linux git)
if [ "${1:-}" = "--test" ]; then packages+=(runc tmux docker-registry skopeo apache2-utils docker.io docker-compose curl); fi
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # docker.io is a test oracle only: a system dockerd would create docker0 and iptables rules, so
  # its service is neither started by the install (policy-rc.d) nor enabled for boot.
  new_docker=""
  if [[ " ${missing[*]} " == *" docker.io "* ]] && [ ! -e /usr/sbin/policy-rc.d ]; then
    new_docker=1
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || { [ -n "$new_docker" ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
  if [ -n "$new_docker" ]; then
    rm -f /usr/sbin/policy-rc.d
    if command -v systemctl >/dev/null; then systemctl disable docker.service docker.socket >/dev/null 2>&1 || true; fi
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # npm install, not npm ci: npm 11 here writes lockfiles without the other platforms' optional
  # packages (biome's per-platform binaries), which npm ci then rejects as out of sync.
  npm install --no-audit --no-fund --loglevel=error
fi

# tsc's output (dist/src) and the quick-starting bundles bin/ runs (dist/bundle, scripts/bundle.mjs).
npx tsc -p tsconfig.json
node scripts/bundle.mjs
make -s -C native

# Put the two executables on PATH.
ln -sf "$PWD/bin/berth" /usr/local/bin/berth
ln -sf "$PWD/bin/berthd" /usr/local/bin/berthd
