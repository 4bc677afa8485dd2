/* exec.c: turning the prepared child into the container process: rlimits, identity,
 * capabilities, seccomp, finding the executable and execve. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth.h"

void apply_rlimits(const struct plan *p)
{
  for (size_t i = 0; i < p->n_rlimits; i++) {
    struct rlimit rl = {(rlim_t)p->rlimits[i].soft, (rlim_t)p->rlimits[i].hard};
    if (setrlimit((__rlimit_resource_t)p->rlimits[i].resource, &rl) < 0)
      die("setrlimit %d", p->rlimits[i].resource);
  }
}

int oom_score_write(const struct plan *p, pid_t pid)
{
  if (!p->has_oom_score_adj)
    return 0;
  char buf[16], path[48];
  snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
  snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
  return write_file(path, buf);
}

void apply_misc(const struct plan *p, int write_oom)
{
  /* runc writes it before entering a user namespace: inside one, lowering it is refused. */
  if (write_oom && oom_score_write(p, getpid()) < 0)
    die("write oom_score_adj %d", p->oom_score_adj);
  umask(p->umask >= 0 ? (mode_t)p->umask : 022);
  if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
    die("sethostname %s", p->hostname);
}

static void capset_all(const struct plan *p)
{
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)(p->caps[CAP_SET_EFFECTIVE] >> (32 * i));
    data[i].permitted = (uint32_t)(p->caps[CAP_SET_PERMITTED] >> (32 * i));
    data[i].inheritable = (uint32_t)(p->caps[CAP_SET_INHERITABLE] >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0)
    die("capset");
}

void apply_identity(const struct plan *p)
{
  /* Without no_new_privs a seccomp filter needs CAP_SYS_ADMIN, so it goes in before the
   * capabilities are dropped (as runc does); with it, just before execve. */
  if (!p->no_new_privs)
    seccomp_apply();
  if (p->has_caps) {
    for (int c = 0; c < 64; c++)
      if (!(p->caps[CAP_SET_BOUNDING] & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
        if (errno == EINVAL)
          break; /* past the kernel's last capability */
        die("drop bounding capability %d", c);
      }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
      die("prctl PR_SET_KEEPCAPS");
  }
  if (setgroups(p->n_groups, p->groups) < 0)
    die("setgroups");
  if (setresgid(p->gid, p->gid, p->gid) < 0)
    die("setgid %u", p->gid);
  if (setresuid(p->uid, p->uid, p->uid) < 0)
    die("setuid %u", p->uid);
  if (p->has_caps) {
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
      die("prctl PR_SET_KEEPCAPS");
    capset_all(p);
    for (int c = 0; c < 64; c++)
      if ((p->caps[CAP_SET_AMBIENT] & (1ULL << c)) &&
          prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
        die("raise ambient capability %d", c);
  }
  if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    die("prctl PR_SET_NO_NEW_PRIVS");
}

/* Go's findExecutable: a regular file with any execute bit. */
static int find_executable(const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0)
    return -errno;
  if (!S_ISDIR(st.st_mode) && (st.st_mode & 0111))
    return 0;
  return -EACCES;
}

const char *exec_lookup(const struct plan *p, char *msg, size_t msglen, int *code)
{
  static char found[4096];
  const char *file = p->argv[0];
  char eb[128];
  /* The texts are Go's exec.LookPath errors as runc reports them; Docker maps "not found"/"no such
   * file" to exit code 127 and "permission denied" to 126. */
  if (strchr(file, '/')) {
    int r = find_executable(file);
    if (r == 0)
      return file;
    if (r == -ENOENT || r == -ENOTDIR) {
      snprintf(msg, msglen, "exec: \"%s\": stat %s: %s", file, file, go_strerror(-r, eb, sizeof eb));
      *code = 127;
    } else {
      snprintf(msg, msglen, "exec: \"%s\": %s", file, go_strerror(-r, eb, sizeof eb));
      *code = 126;
    }
    return NULL;
  }
  const char *path = NULL;
  for (size_t i = 0; i < p->n_env; i++)
    if (!strncmp(p->env[i], "PATH=", 5))
      path = p->env[i] + 5;
  if (path) {
    const char *s = path;
    for (;;) {
      const char *colon = strchr(s, ':');
      size_t n = colon ? (size_t)(colon - s) : strlen(s);
      /* An empty element means the current directory (Go: "."). */
      if (n == 0)
        snprintf(found, sizeof found, "./%s", file);
      else
        snprintf(found, sizeof found, "%.*s/%s", (int)n, s, file);
      if (find_executable(found) == 0)
        return found;
      if (!colon)
        break;
      s = colon + 1;
    }
  }
  snprintf(msg, msglen, "exec: \"%s\": executable file not found in $PATH", file);
  *code = 127;
  return NULL;
}

void exec_error(const char *path, int err, char *msg, size_t msglen, int *code)
{
  char eb[128];
  snprintf(msg, msglen, "exec %s: %s", path, go_strerror(err, eb, sizeof eb));
  *code = err == ENOENT ? 127 : 126;
}

void reset_signals(void)
{
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal(s, SIG_DFL);
}
