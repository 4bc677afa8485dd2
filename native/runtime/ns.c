/* ns.c: joining namespaces, cgroups, user-namespace id maps, loopback. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "berth.h"

void ns_open(const struct plan *p, int *fds, int skip_pid)
{
  for (size_t i = 0; i < p->n_ns; i++) {
    fds[i] = -1;
    int for_children = p->ns[i].flag == CLONE_NEWPID || p->ns[i].flag == CLONE_NEWTIME;
    if (!p->ns[i].path || (skip_pid && for_children))
      continue;
    fds[i] = open(p->ns[i].path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0)
      die("open namespace %s", p->ns[i].path);
  }
}

void ns_join(const struct plan *p, const int *fds)
{
  /* Order: user (gives the rights for the others), then the rest, mnt last. */
  static const int order[] = {CLONE_NEWUSER, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET,
                              CLONE_NEWPID,  CLONE_NEWTIME, CLONE_NEWCGROUP, CLONE_NEWNS};
  for (size_t o = 0; o < sizeof order / sizeof order[0]; o++)
    for (size_t i = 0; i < p->n_ns; i++)
      if (fds[i] >= 0 && p->ns[i].flag == order[o]) {
        if (setns(fds[i], order[o]) < 0)
          die("setns %s", p->ns[i].path);
        close(fds[i]);
      }
}

int ns_clone_flags(const struct plan *p)
{
  int flags = 0;
  for (size_t i = 0; i < p->n_ns; i++)
    /* time: unshare() only; cgroup: unshared by the child once it is in its cgroup. */
    if (!p->ns[i].path && p->ns[i].flag != CLONE_NEWTIME && p->ns[i].flag != CLONE_NEWCGROUP)
      flags |= p->ns[i].flag;
  return flags;
}

int cgroup_join(const struct plan *p, pid_t pid, const char **failed)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%d", (int)pid);
  for (size_t i = 0; i < p->n_cgroups; i++)
    if (write_file(p->cgroups[i], buf) < 0) {
      *failed = p->cgroups[i];
      return -1;
    }
  return 0;
}

static int write_map(pid_t pid, const char *name, const struct plan_idmap *m, size_t n, const char **failed)
{
  static char path[64];
  char buf[4096];
  size_t len = 0;
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n && len < sizeof buf; i++)
    len += (size_t)snprintf(buf + len, sizeof buf - len, "%llu %llu %llu\n", m[i].inner, m[i].outer, m[i].count);
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  if (write_file(path, buf) < 0) {
    *failed = path;
    return -1;
  }
  return 0;
}

int idmap_write(const struct plan *p, pid_t pid, const char **failed)
{
  if (write_map(pid, "uid_map", p->uidmap, p->n_uidmap, failed) < 0)
    return -1;
  return write_map(pid, "gid_map", p->gidmap, p->n_gidmap, failed);
}

void loopback_up(void)
{
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    die("socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
    die("ioctl SIOCGIFFLAGS lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
    die("ioctl SIOCSIFFLAGS lo up");
  close(s);
}
