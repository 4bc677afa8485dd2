# shellcheck shell=bash
# Helpers shared by the bench scripts (sourced from the repository root, not run).

# median: the median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Private network names for a bench berthd (it must never create the host's berth0 or
# table inet berth): interfaces and the nftables table are named b<pid>.
BENCH_NET=b$$
bench_net_args() {
  echo "--iface-prefix $BENCH_NET --bridge ${BENCH_NET}0 --nft-table $BENCH_NET --default-address-pool base=10.219.0.0/16,size=24"
}

# remove_bench_network: the links and nftables table bench_net_args named.
remove_bench_network() {
  local l
  for l in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$BENCH_NET"); do
    ip link del "$l" 2>/dev/null || true
  done
  nft delete table inet "$BENCH_NET" 2>/dev/null || true
}

# remove_leftovers <tmp> <cgroup name>...: unmounts everything under <tmp>, removes the named
# cgroups (in every hierarchy) and <tmp>. Processes may still be exiting: it retries for a few
# seconds before giving up.
remove_leftovers() {
  local tmp=$1 name cg
  shift
  remove_bench_network
  for _ in $(seq 50); do
    grep -o "$tmp[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    for name in "$@"; do
      for cg in /sys/fs/cgroup/*/"$name"; do
        [ -d "$cg" ] && find "$cg" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
        [ -d "$cg" ] && rmdir "$cg" 2>/dev/null
      done
    done
    if rm -rf "$tmp" 2>/dev/null; then
      local left=0
      for name in "$@"; do ls -d /sys/fs/cgroup/*/"$name" >/dev/null 2>&1 && left=1; done
      [ "$left" = 0 ] && return 0
    fi
    sleep 0.1
  done
}
