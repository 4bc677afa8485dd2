/*
 * The helper plan: everything the shim needs to create one container process, fully decided by
 * TypeScript (src/platform/helper-plan.ts writes it; keep both in step, golden bytes are tested
 * there). The shim carries it out verbatim and makes no policy decisions.
 *
 * Wire format, version 1: a file made only of NUL-terminated strings.
 *   - The first string is the magic "berth-plan/1".
 *   - Then records: a key string followed by exactly as many field strings as the key's arity
 *     (table below). Unknown keys are an error. Records marked [*] may repeat; their order is kept
 *     and is meaningful (mounts run in the order given).
 *   - Numbers are unsigned decimal (no sign, no prefix) unless noted; 64-bit masks and rlimits too.
 *   - Container paths are absolute paths inside the container; host paths are absolute on the host.
 *
 *   key            fields                                   meaning
 *   rootfs         path readonly                            host path of the root filesystem (run only);
 *                                                           readonly 1 = remount "/" read-only last
 *   ns             type path                            [*] type: user|pid|mnt|net|ipc|uts|cgroup|time;
 *                                                           path "" = create it, else setns() into that
 *                                                           file (e.g. /proc/123/ns/net)
 *   cgroup         procs-file                           [*] host path of a cgroup.procs file to put the
 *                                                           container process into (cgroup made by TS)
 *   uidmap         container-id host-id size            [*] user namespace uid mapping
 *   gidmap         container-id host-id size            [*] user namespace gid mapping
 *   mount          source target fstype flags pflags data [*] target is a container path; flags are
 *                                                           MS_* bits; pflags is a propagation change
 *                                                           (MS_PRIVATE, ...) applied after, or 0;
 *                                                           with MS_BIND the other flags are applied by
 *                                                           a bind remount
 *   device         path type major minor mode uid gid   [*] type c|b|p; mode = permission bits; made by
 *                                                           mknod, or a bind of the host node on failure
 *   symlink        target path                          [*] symlink(target, path) in the container
 *   hostname       name                                     sethostname
 *   rlimit         resource soft hard                   [*] resource = RLIMIT_* number
 *   sysctl         path value                           [*] write value to /proc/sys/<path>
 *   masked         path                                 [*] hide: /dev/null over files, ro tmpfs over dirs
 *   readonly       path                                 [*] bind remount read-only
 *   user           uid gid umask                            umask in decimal, or "" to keep 0022
 *   group          gid                                  [*] supplementary group
 *   oom_score_adj  n                                        signed decimal, written to /proc/self
 *   cwd            path                                     working directory
 *   env            NAME=value                           [*] environment (PATH here is used to find argv[0])
 *   arg            string                               [*] argv, argv[0] first
 *   caps           bounding effective inheritable permitted ambient
 *                                                           capability masks (bit n = capability n);
 *                                                           without this record capabilities are kept
 *   no_new_privs   0|1                                      PR_SET_NO_NEW_PRIVS
 *   seccomp        action errno                             start a seccomp filter with this default action
 *                                                           (allow|errno|kill|kill_process|trap|trace|log;
 *                                                           errno: the errno/trace value for errno|trace)
 *   seccomp_arch   name                                 [*] extra architecture (libseccomp name: x86, x32, ...)
 *   seccomp_rule   action errno syscall                 [*] a rule; syscalls unknown to libseccomp are skipped
 *   seccomp_arg    index op value value2                [*] condition (AND) on the preceding rule; op:
 *                                                           ne|lt|le|eq|ge|gt|masked_eq (value2 for masked_eq)
 *   terminal       0|1                                      a pty on 0/1/2 (created in the container's devpts)
 *   stdin          open once                                open: keep a stdin pipe for attachers;
 *                                                           once: close it when the first attacher's input ends
 *   log            path                                     json-file log to append to, run only
 *   log_rotate     max_size max_files compress              rotate the log before it passes max_size bytes,
 *                                                           keeping max_files files (path.1 … path.N-1,
 *                                                           gzipped when compress is 1); run only
 *   log_attrs      json                                     a JSON object written as the "attrs" field of
 *                                                           every log line (json-file's labels/env
 *                                                           options); run only
 */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define PLAN_MAGIC "berth-plan/1"

struct plan_ns {
  int flag;          /* CLONE_NEW* */
  const char *path;  /* NULL: create a new one */
};

struct plan_idmap {
  unsigned long long inner, outer, count;
};

struct plan_mount {
  const char *src, *dst, *type, *data;
  unsigned long flags, pflags;
};

struct plan_device {
  const char *path;
  char kind;
  unsigned int major, minor, mode, uid, gid;
};

struct plan_link {
  const char *target, *path;
};

struct plan_rlimit {
  int resource;
  unsigned long long soft, hard;
};

struct plan_seccomp_rule {
  const char *action, *syscall;
  unsigned int errno_ret;
  size_t first_arg, n_args; /* into plan.seccomp_args */
};

struct plan_seccomp_arg {
  unsigned int index;
  const char *op;
  unsigned long long value, value2;
};

struct plan_sysctl {
  const char *path, *value;
};

struct plan {
  const char *rootfs;
  int rootfs_readonly;
  struct plan_ns *ns;
  size_t n_ns;
  const char **cgroups;
  size_t n_cgroups;
  struct plan_idmap *uidmap, *gidmap;
  size_t n_uidmap, n_gidmap;
  struct plan_mount *mounts;
  size_t n_mounts;
  struct plan_device *devices;
  size_t n_devices;
  struct plan_link *links;
  size_t n_links;
  const char *hostname;
  struct plan_rlimit *rlimits;
  size_t n_rlimits;
  struct plan_sysctl *sysctls;
  size_t n_sysctls;
  const char **masked;
  size_t n_masked;
  const char **readonly;
  size_t n_readonly;
  unsigned int uid, gid;
  int umask; /* -1: keep */
  unsigned int *groups;
  size_t n_groups;
  int has_oom_score_adj, oom_score_adj;
  const char *cwd;
  char **env; /* NULL-terminated */
  size_t n_env;
  char **argv; /* NULL-terminated */
  size_t n_argv;
  int has_caps;
  uint64_t caps[5]; /* bounding, effective, inheritable, permitted, ambient */
  int no_new_privs;
  const char *seccomp_default; /* NULL: no filter */
  unsigned int seccomp_errno;
  const char **seccomp_archs;
  size_t n_seccomp_archs;
  struct plan_seccomp_rule *seccomp_rules;
  size_t n_seccomp_rules;
  struct plan_seccomp_arg *seccomp_args;
  size_t n_seccomp_args;
  int terminal, open_stdin, stdin_once;
  const char *log_path;
  uint64_t log_max_size; /* 0: never rotate */
  uint64_t log_max_files;
  int log_compress;
  const char *log_attrs; /* NULL: no attrs field */
};

enum { CAP_SET_BOUNDING, CAP_SET_EFFECTIVE, CAP_SET_INHERITABLE, CAP_SET_PERMITTED, CAP_SET_AMBIENT };

/* Reads and checks the plan at path. On failure returns -1 with a message in err. */
int plan_load(const char *path, struct plan *p, char *err, size_t errlen);

/* The plan's namespace entry of this CLONE_NEW* type, or NULL. */
const struct plan_ns *plan_find_ns(const struct plan *p, int flag);

#endif
