/* mount.c: the container's filesystem view, built inside its new mount namespace.
 *
 * Mount targets are opened with openat2(RESOLVE_IN_ROOT) under the rootfs and mounted through
 * /proc/self/fd/N (as runc does), so a symlink inside an image cannot send a mount, a device node or
 * a symlink outside the rootfs. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth.h"

static int rootfd = -1;

static int openat2_in_root(const char *path, int flags)
{
  struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/')
    path++;
  return (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof how);
}

/* Opens (O_PATH) the container path under the rootfs, creating missing parent directories, and the
 * last component as a directory, or as an empty file when as_file. */
static int open_in_root(const char *path, int create, int as_file)
{
  int fd = openat2_in_root(path, O_PATH);
  if (fd >= 0 || errno != ENOENT || !create)
    return fd;
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int parent = openat2_in_root("/", O_PATH);
  char *p = buf;
  while (*p == '/')
    p++;
  while (*p) {
    char *slash = strchr(p, '/');
    int last = !slash || !slash[strspn(slash, "/")];
    if (slash)
      *slash = '\0';
    int next = openat2_in_root(buf, O_PATH);
    if (next < 0 && errno == ENOENT) {
      int r;
      if (last && as_file) {
        r = openat(parent, p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (r >= 0)
          close(r);
      } else {
        r = mkdirat(parent, p, 0755);
      }
      if (r < 0 && errno != EEXIST) {
        close(parent);
        return -1;
      }
      next = openat2_in_root(buf, O_PATH);
    }
    close(parent);
    if (next < 0)
      return -1;
    parent = next;
    if (!slash)
      break;
    *slash = '/';
    p = slash + strspn(slash, "/");
  }
  return parent;
}

/* The directory of a container path opened under the rootfs (created), and its last component. */
static int open_parent(const char *path, const char **name)
{
  const char *slash = strrchr(path, '/');
  char dir[4096];
  size_t n = slash ? (size_t)(slash - path) : 0;
  if (n >= sizeof dir)
    n = sizeof dir - 1;
  memcpy(dir, path, n);
  dir[n] = '\0';
  *name = slash ? slash + 1 : path;
  return open_in_root(dir, 1, 0);
}

static const char *fdpath(int fd)
{
  static char buf[2][40];
  static int which;
  which ^= 1;
  snprintf(buf[which], sizeof buf[which], "/proc/self/fd/%d", fd);
  return buf[which];
}

static void do_mount(const struct plan_mount *m)
{
  int as_file = 0;
  if (m->flags & MS_BIND) {
    struct stat st;
    if (stat(m->src, &st) < 0)
      die("mount %s: stat %s", m->dst, m->src);
    as_file = !S_ISDIR(st.st_mode);
  }
  int fd = open_in_root(m->dst, 1, as_file);
  if (fd < 0)
    die("mount %s: mountpoint", m->dst);
  if (m->flags & MS_BIND) {
    if (mount(m->src, fdpath(fd), NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
      die("mount %s", m->dst);
    unsigned long rest = m->flags & ~(unsigned long)(MS_BIND | MS_REC);
    if (rest) {
      /* The fd still names the covered directory: reopen to reach the new mount. */
      close(fd);
      fd = open_in_root(m->dst, 0, 0);
      if (fd < 0 || mount(NULL, fdpath(fd), NULL, MS_BIND | MS_REMOUNT | rest, NULL) < 0)
        die("remount %s", m->dst);
    }
  } else if (mount(m->src, fdpath(fd), m->type, m->flags, *m->data ? m->data : NULL) < 0) {
    die("mount %s", m->dst);
  }
  if (m->pflags) {
    close(fd);
    fd = open_in_root(m->dst, 0, 0);
    if (fd < 0 || mount(NULL, fdpath(fd), NULL, m->pflags, NULL) < 0)
      die("mount propagation %s", m->dst);
  }
  close(fd);
}

static void make_device(const struct plan_device *d)
{
  const char *name;
  int dir = open_parent(d->path, &name);
  if (dir < 0)
    die("mknod %s: parent directory", d->path);
  mode_t type = d->kind == 'c' ? S_IFCHR : d->kind == 'b' ? S_IFBLK : S_IFIFO;
  unlinkat(dir, name, 0);
  if (mknodat(dir, name, type | (d->mode & 07777), makedev(d->major, d->minor)) == 0) {
    if (fchownat(dir, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
      die("chown %s", d->path);
  } else if (errno == EPERM) {
    /* No CAP_MKNOD (e.g. in a user namespace): bind the host's node over an empty file. */
    int f = openat(dir, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (f < 0)
      die("create %s", d->path);
    close(f);
    int fd = open_in_root(d->path, 0, 0);
    if (fd < 0 || mount(d->path, fdpath(fd), NULL, MS_BIND, NULL) < 0)
      die("bind device %s", d->path);
    close(fd);
  } else {
    die("mknod %s", d->path);
  }
  close(dir);
}

static void make_link(const struct plan_link *l)
{
  const char *name;
  int dir = open_parent(l->path, &name);
  if (dir < 0)
    die("symlink %s: parent directory", l->path);
  if (symlinkat(l->target, dir, name) < 0 && errno != EEXIST)
    die("symlink %s -> %s", l->path, l->target);
  close(dir);
}

void rootfs_setup(const struct plan *p)
{
  /* Device nodes and mountpoints get exactly the modes the plan gives; the process umask is set
   * later (apply_misc). */
  umask(0);
  /* Our mounts must not propagate back to the host (mount_namespaces(7)). */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    die("make / private");
  /* pivot_root needs the new root to be a mount point. */
  if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    die("bind rootfs %s", p->rootfs);
  rootfd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    die("open rootfs %s", p->rootfs);
  for (size_t i = 0; i < p->n_mounts; i++)
    do_mount(&p->mounts[i]);
  for (size_t i = 0; i < p->n_devices; i++)
    make_device(&p->devices[i]);
  for (size_t i = 0; i < p->n_links; i++)
    make_link(&p->links[i]);
}

void rootfs_pivot(const struct plan *p)
{
  /* pivot_root rather than chroot: the old root is unmounted, so no path leads back to the host.
   * pivot_root(".", ".") stacks the old root on top of the new one; the lazy unmount of "." then
   * drops it (pivot_root(2), "NOTES"), without needing a directory for it in the image. */
  if (chdir(p->rootfs) < 0)
    die("chdir %s", p->rootfs);
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    die("pivot_root %s", p->rootfs);
  if (umount2(".", MNT_DETACH) < 0)
    die("unmount old root");
  if (chdir("/") < 0)
    die("chdir /");
  close(rootfd);
  rootfd = -1;
}

/* The flags a bind remount must keep: the kernel refuses to clear locked ones. */
static unsigned long mount_flags_of(const char *path)
{
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(path, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  return f;
}

void rootfs_finish(const struct plan *p)
{
  char path[4200];
  for (size_t i = 0; i < p->n_sysctls; i++) {
    snprintf(path, sizeof path, "/proc/sys/%s", p->sysctls[i].path);
    if (write_file(path, p->sysctls[i].value) < 0)
      die("sysctl %s", p->sysctls[i].path);
  }
  /* Read-only paths (OCI linux.readonlyPaths): bind onto itself, then remount read-only. */
  for (size_t i = 0; i < p->n_readonly; i++) {
    const char *ro = p->readonly[i];
    if (mount(ro, ro, NULL, MS_BIND | MS_REC, NULL) < 0) {
      if (errno == ENOENT)
        continue;
      die("bind read-only path %s", ro);
    }
    if (mount(NULL, ro, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | mount_flags_of(ro), NULL) < 0)
      die("remount read-only %s", ro);
  }
  /* Masked paths (OCI linux.maskedPaths): /dev/null over files, an empty read-only tmpfs over dirs. */
  for (size_t i = 0; i < p->n_masked; i++) {
    const char *m = p->masked[i];
    struct stat st;
    if (stat(m, &st) < 0) {
      if (errno == ENOENT)
        continue;
      die("stat masked path %s", m);
    }
    if (S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", m, "tmpfs", MS_RDONLY, NULL) < 0)
        die("mask %s", m);
    } else if (mount("/dev/null", m, NULL, MS_BIND, NULL) < 0) {
      die("mask %s", m);
    }
  }
  if (p->rootfs_readonly &&
      mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | mount_flags_of("/"), NULL) < 0)
    die("remount / read-only");
}
