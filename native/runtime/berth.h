/* Declarations shared by the shim's files. Each file holds one concern:
 *   main.c   command line, error reporting
 *   plan.c   the plan file (plan.h)
 *   ns.c     namespaces, cgroup join, id maps
 *   mount.c  rootfs, mounts, devices, pivot_root, masked/read-only paths
 *   exec.c   the container process: identity, capabilities, rlimits, lookup, execve
 *   seccomp.c the seccomp filter, encoded by libseccomp from the plan's resolved rules
 *   shim.c   `run`: the per-container shim (stdio, json-file log, attach/control socket)
 *   nsexec.c `exec`: a process inside a running container (docker exec)
 *   extrt.c  the shim's helpers for other runtimes and callers: runc-compatible runtimes run as
 *            children, console sockets (pty masters passed with SCM_RIGHTS)
 */
#ifndef BERTH_H
#define BERTH_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "plan.h"

/* Reports a failed step and never returns. die() appends ": <strerror(errno)>". The active
 * reporter (die_hook) decides where the message goes: the shim's creator, the sync socket or
 * stderr. */
extern void (*die_hook)(const char *msg);
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void die_msg(const char *fmt, ...);

/* ns.c */
/* Opens every namespace the plan joins (path given), except pid and time when skip_pid (the shim
 * enters those itself before clone: they apply to its children). fds[i] matches
 * p->ns[i] (-1 when not joined). Call before setns(mnt) so host paths still resolve. */
void ns_open(const struct plan *p, int *fds, int skip_pid);
/* setns() into the opened namespaces: user first, mnt last (setns(mnt) changes how later paths
 * resolve; user first gives the rights for the rest). */
void ns_join(const struct plan *p, const int *fds);
/* CLONE_NEW* flags of the namespaces the plan creates with clone() (time is made by unshare). */
int ns_clone_flags(const struct plan *p);
/* Writes pid into every cgroup.procs file of the plan. Returns -1 with errno and the path. */
int cgroup_join(const struct plan *p, pid_t pid, const char **failed);
/* Writes /proc/<pid>/{uid,gid}_map. Returns -1 with errno and the file. */
int idmap_write(const struct plan *p, pid_t pid, const char **failed);
/* ioctl SIOCSIFFLAGS IFF_UP on "lo". */
void loopback_up(void);

/* mount.c */
void rootfs_setup(const struct plan *p);  /* private /, bind rootfs, plan mounts, devices, links */
void rootfs_pivot(const struct plan *p);  /* pivot_root into it, detach the old root */
void rootfs_finish(const struct plan *p); /* sysctls, masked and read-only paths, ro root */

/* exec.c */
void apply_rlimits(const struct plan *p);
void apply_misc(const struct plan *p, int write_oom);
/* Writes the plan's oom_score_adj for pid (0 when the plan has none); -1 with errno. */
int oom_score_write(const struct plan *p, pid_t pid); /* oom_score_adj, umask, hostname */
void apply_identity(const struct plan *p); /* groups, uid/gid, capabilities, no_new_privs */
/* seccomp.c */
void seccomp_prepare(const struct plan *p); /* builds the filter from the plan (libseccomp) */
void seccomp_apply(void);                /* installs it: the last step before execve */
/* Finds argv[0] in the container PATH like Go's exec.LookPath. Returns the path, or NULL with a
 * runc-worded message in msg and the exit code Docker uses (127 not found, 126 not executable). */
const char *exec_lookup(const struct plan *p, char *msg, size_t msglen, int *code);
/* Resets the signal mask and dispositions inherited from the shim. */
void reset_signals(void);
/* "exec <path>: <error>" for an execve failure; code 127 for ENOENT, else 126. */
void exec_error(const char *path, int err, char *msg, size_t msglen, int *code);

/* Small helpers (main.c). */
int write_all(int fd, const void *buf, size_t len);
int write_file(const char *path, const char *data);
/* Go's strings for errno (lowercase first letter), as runc prints them. */
const char *go_strerror(int err, char *buf, size_t len);

/* shim.c, nsexec.c */
struct shim_opts {
  const char *state_dir;
  /* The container's stdio is the shim's own fds 0-2 as given (runc create/run); no log, no
   * attach. The one-line report then goes to fd 3. */
  int inherit_stdio;
  /* With a terminal: the pty master is sent here (runc's --console-socket) instead of being kept. */
  const char *console_socket;
  /* Run the container with this runc-compatible runtime (create/start as children of the shim)
   * instead of setting it up ourselves. */
  const char *runtime;
  const char *runtime_args[16]; /* global options before the command, e.g. --root DIR */
  int n_runtime_args;
  const char *bundle;
  const char *id;
};
int shim_run(const struct plan *p, const struct shim_opts *o);
/* With console_socket and a terminal, the pty master is sent there (runc exec --console-socket)
 * instead of being relayed. */
int nsexec_run(const struct plan *p, const char *console_socket);
/* Relays between our stdio and the pty master (if >= 0) and applies control lines from ctl
 * (if >= 0) until pid exits, reaping every child; returns its exit code (128+signal when
 * killed). chld holds SIGCHLD, blocked before pid was started. */
int relay_wait(pid_t pid, int master, int ctl, const sigset_t *chld);
/* `berth-shim rtexec`: `<runtime> exec --detach --process <file>` in the container o->id, as
 * containerd's runc shim does it: we are the subreaper its process is re-parented to, relay its
 * pty (from --console-socket) when tty, report "pid <pid>" on fd 3 and exit with its code. */
int rtexec_run(const struct shim_opts *o, const char *process, int tty);

/* extrt.c */
/* Sends fd over the Unix socket at path with SCM_RIGHTS, name as the data (runc's utils.SendFd). */
int console_send(const char *path, const char *name, int fd);
/* The same in two steps: connect (while the path still resolves, before setns), then send over
 * the connected socket s and close it. */
int console_connect(const char *path);
int console_sendfd(int s, const char *name, int fd);
/* A listening socket for a runtime's --console-socket, at a short path written to path_out. */
int console_listen(char *path_out, size_t len);
/* Accepts one connection on lfd (waiting at most timeout_ms) and receives a passed fd; -1 when none. */
int console_recv(int lfd, int timeout_ms);
/* Runs `<runtime> <runtime args> --log runtime.log --log-format json <argv...>` with stdio as
 * given (-1: /dev/null; stderr -1: captured) and waits. Returns its exit code; on failure err
 * holds the runtime's message (its log's last error, else its stderr). */
int runtime_cmd(const struct shim_opts *o, const char *const *argv, int in, int out, int errout, char *err,
                size_t errlen);

#endif
