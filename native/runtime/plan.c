/* plan.c: parse the NUL-separated plan file described in plan.h. */
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *read_all(const char *path, size_t *len)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (n == cap) {
      cap *= 2;
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        close(fd);
        errno = ENOMEM;
        return NULL;
      }
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      close(fd);
      errno = e;
      return NULL;
    }
    if (r == 0)
      break;
    n += (size_t)r;
  }
  close(fd);
  *len = n;
  return buf;
}

static int parse_u64(const char *s, unsigned long long *out)
{
  if (*s < '0' || *s > '9')
    return -1;
  char *end;
  errno = 0;
  *out = strtoull(s, &end, 10);
  return (errno || *end) ? -1 : 0;
}

static int parse_i32(const char *s, int *out)
{
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || !*s || v < -2147483647L || v > 2147483647L)
    return -1;
  *out = (int)v;
  return 0;
}

static const struct {
  const char *name;
  int flag;
} ns_names[] = {
  {"user", CLONE_NEWUSER}, {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},   {"net", CLONE_NEWNET},
  {"ipc", CLONE_NEWIPC},   {"uts", CLONE_NEWUTS}, {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

static const struct {
  const char *key;
  int arity;
} keys[] = {
  {"rootfs", 2}, {"ns", 2},      {"cgroup", 1},   {"uidmap", 3},  {"gidmap", 3},        {"mount", 6},
  {"device", 7}, {"symlink", 2}, {"hostname", 1}, {"rlimit", 3},  {"sysctl", 2},        {"masked", 1},
  {"readonly", 1}, {"user", 3},  {"group", 1},    {"cwd", 1},     {"oom_score_adj", 1}, {"env", 1},
  {"arg", 1},    {"caps", 5},    {"no_new_privs", 1}, {"seccomp", 2}, {"seccomp_arch", 1}, {"seccomp_rule", 3}, {"seccomp_arg", 4}, {"terminal", 1}, {"stdin", 2},
  {"log", 1}, {"log_rotate", 3}, {"log_attrs", 1},
};

const struct plan_ns *plan_find_ns(const struct plan *p, int flag)
{
  for (size_t i = 0; i < p->n_ns; i++)
    if (p->ns[i].flag == flag)
      return &p->ns[i];
  return NULL;
}

#define FAIL(...)                                                                                  \
  do {                                                                                             \
    snprintf(err, errlen, __VA_ARGS__);                                                            \
    return -1;                                                                                     \
  } while (0)
#define NUM(i, out)                                                                                \
  do {                                                                                             \
    if (parse_u64(f[i], &(out)))                                                                   \
      FAIL("plan: %s: field %d is not a number: \"%s\"", key, (i) + 1, f[i]);                     \
  } while (0)

int plan_load(const char *path, struct plan *p, char *err, size_t errlen)
{
  memset(p, 0, sizeof *p);
  p->umask = -1;
  p->cwd = "/";
  size_t len;
  char *buf = read_all(path, &len);
  if (!buf)
    FAIL("read plan %s: %s", path, strerror(errno));
  if (len == 0 || buf[len - 1] != '\0')
    FAIL("plan %s: does not end with NUL", path);
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += buf[i] == '\0';
  char **tok = calloc(n + 1, sizeof *tok);
  for (size_t i = 0, t = 0, start = 0; i < len; i++)
    if (buf[i] == '\0') {
      tok[t++] = buf + start;
      start = i + 1;
    }
  if (strcmp(tok[0], PLAN_MAGIC) != 0)
    FAIL("plan %s: bad magic \"%s\", want \"%s\"", path, tok[0], PLAN_MAGIC);

  /* Every repeated record gets an array sized by the token count: an upper bound, never resized. */
  p->ns = calloc(n, sizeof *p->ns);
  p->cgroups = calloc(n, sizeof *p->cgroups);
  p->uidmap = calloc(n, sizeof *p->uidmap);
  p->gidmap = calloc(n, sizeof *p->gidmap);
  p->mounts = calloc(n, sizeof *p->mounts);
  p->devices = calloc(n, sizeof *p->devices);
  p->links = calloc(n, sizeof *p->links);
  p->rlimits = calloc(n, sizeof *p->rlimits);
  p->sysctls = calloc(n, sizeof *p->sysctls);
  p->masked = calloc(n, sizeof *p->masked);
  p->readonly = calloc(n, sizeof *p->readonly);
  p->groups = calloc(n, sizeof *p->groups);
  p->seccomp_archs = calloc(n, sizeof *p->seccomp_archs);
  p->seccomp_rules = calloc(n, sizeof *p->seccomp_rules);
  p->seccomp_args = calloc(n, sizeof *p->seccomp_args);
  p->env = calloc(n + 1, sizeof *p->env);
  p->argv = calloc(n + 1, sizeof *p->argv);

  for (size_t i = 1; i < n;) {
    const char *key = tok[i];
    int arity = -1;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
      if (strcmp(keys[k].key, key) == 0)
        arity = keys[k].arity;
    if (arity < 0)
      FAIL("plan: unknown key \"%s\"", key);
    if (i + 1 + (size_t)arity > n)
      FAIL("plan: %s: needs %d fields", key, arity);
    char **f = &tok[i + 1];
    i += 1 + (size_t)arity;
    unsigned long long a, b, c, d, e;

    if (!strcmp(key, "rootfs")) {
      NUM(1, a);
      p->rootfs = f[0];
      p->rootfs_readonly = a != 0;
    } else if (!strcmp(key, "ns")) {
      int flag = 0;
      for (size_t k = 0; k < sizeof ns_names / sizeof ns_names[0]; k++)
        if (!strcmp(ns_names[k].name, f[0]))
          flag = ns_names[k].flag;
      if (!flag)
        FAIL("plan: unknown namespace type \"%s\"", f[0]);
      if (plan_find_ns(p, flag))
        FAIL("plan: namespace %s listed twice", f[0]);
      p->ns[p->n_ns].flag = flag;
      p->ns[p->n_ns++].path = *f[1] ? f[1] : NULL;
    } else if (!strcmp(key, "cgroup")) {
      p->cgroups[p->n_cgroups++] = f[0];
    } else if (!strcmp(key, "uidmap") || !strcmp(key, "gidmap")) {
      NUM(0, a);
      NUM(1, b);
      NUM(2, c);
      struct plan_idmap m = {a, b, c};
      if (key[0] == 'u')
        p->uidmap[p->n_uidmap++] = m;
      else
        p->gidmap[p->n_gidmap++] = m;
    } else if (!strcmp(key, "mount")) {
      NUM(3, a);
      NUM(4, b);
      p->mounts[p->n_mounts++] = (struct plan_mount){f[0], f[1], f[2], f[5], (unsigned long)a, (unsigned long)b};
    } else if (!strcmp(key, "device")) {
      if (strlen(f[1]) != 1 || !strchr("cbp", f[1][0]))
        FAIL("plan: device %s: type must be c, b or p", f[0]);
      NUM(2, a);
      NUM(3, b);
      NUM(4, c);
      NUM(5, d);
      NUM(6, e);
      p->devices[p->n_devices++] = (struct plan_device){f[0], f[1][0], a, b, c, d, e};
    } else if (!strcmp(key, "symlink")) {
      p->links[p->n_links++] = (struct plan_link){f[0], f[1]};
    } else if (!strcmp(key, "hostname")) {
      p->hostname = f[0];
    } else if (!strcmp(key, "rlimit")) {
      NUM(0, a);
      NUM(1, b);
      NUM(2, c);
      p->rlimits[p->n_rlimits++] = (struct plan_rlimit){(int)a, b, c};
    } else if (!strcmp(key, "sysctl")) {
      p->sysctls[p->n_sysctls++] = (struct plan_sysctl){f[0], f[1]};
    } else if (!strcmp(key, "masked")) {
      p->masked[p->n_masked++] = f[0];
    } else if (!strcmp(key, "readonly")) {
      p->readonly[p->n_readonly++] = f[0];
    } else if (!strcmp(key, "user")) {
      NUM(0, a);
      NUM(1, b);
      p->uid = (unsigned int)a;
      p->gid = (unsigned int)b;
      if (*f[2]) {
        NUM(2, c);
        p->umask = (int)(c & 07777);
      }
    } else if (!strcmp(key, "group")) {
      NUM(0, a);
      p->groups[p->n_groups++] = (unsigned int)a;
    } else if (!strcmp(key, "oom_score_adj")) {
      if (parse_i32(f[0], &p->oom_score_adj))
        FAIL("plan: oom_score_adj: not a number: \"%s\"", f[0]);
      p->has_oom_score_adj = 1;
    } else if (!strcmp(key, "cwd")) {
      p->cwd = f[0];
    } else if (!strcmp(key, "env")) {
      p->env[p->n_env++] = f[0];
    } else if (!strcmp(key, "arg")) {
      p->argv[p->n_argv++] = f[0];
    } else if (!strcmp(key, "caps")) {
      for (int k = 0; k < 5; k++) {
        NUM(k, a);
        p->caps[k] = a;
      }
      p->has_caps = 1;
    } else if (!strcmp(key, "no_new_privs")) {
      NUM(0, a);
      p->no_new_privs = a != 0;
    } else if (!strcmp(key, "seccomp")) {
      NUM(1, a);
      p->seccomp_default = f[0];
      p->seccomp_errno = (unsigned int)a;
    } else if (!strcmp(key, "seccomp_arch")) {
      p->seccomp_archs[p->n_seccomp_archs++] = f[0];
    } else if (!strcmp(key, "seccomp_rule")) {
      NUM(1, a);
      p->seccomp_rules[p->n_seccomp_rules++] =
          (struct plan_seccomp_rule){f[0], f[2], (unsigned int)a, p->n_seccomp_args, 0};
    } else if (!strcmp(key, "seccomp_arg")) {
      if (p->n_seccomp_rules == 0)
        FAIL("plan: seccomp_arg before any seccomp_rule");
      NUM(0, a);
      NUM(2, b);
      NUM(3, c);
      p->seccomp_args[p->n_seccomp_args++] = (struct plan_seccomp_arg){(unsigned int)a, f[1], b, c};
      p->seccomp_rules[p->n_seccomp_rules - 1].n_args++;
    } else if (!strcmp(key, "terminal")) {
      NUM(0, a);
      p->terminal = a != 0;
    } else if (!strcmp(key, "stdin")) {
      NUM(0, a);
      NUM(1, b);
      p->open_stdin = a != 0;
      p->stdin_once = b != 0;
    } else if (!strcmp(key, "log")) {
      p->log_path = *f[0] ? f[0] : NULL;
    } else if (!strcmp(key, "log_rotate")) {
      NUM(0, a);
      NUM(1, b);
      NUM(2, c);
      p->log_max_size = a;
      p->log_max_files = b;
      p->log_compress = c != 0;
    } else if (!strcmp(key, "log_attrs")) {
      p->log_attrs = *f[0] ? f[0] : NULL;
    }
  }
  if (p->n_argv == 0)
    FAIL("plan: no arg records: nothing to run");
  free(tok);
  return 0;
}
