# shellcheck shell=bash
# Helpers shared by the bench scripts (sourced from the repository root, not run).

# median: the median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# remove_leftovers <tmp> <cgroup name>...: unmounts everything under <tmp>, removes the named
# cgroups (in every hierarchy) and <tmp>. Processes may still be exiting: it retries for a few
# seconds before giving up.
remove_leftovers() {
  local tmp=$1 name cg
  shift
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
