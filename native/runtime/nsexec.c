/* nsexec.c: `berth-shim exec`, a process inside a running container (docker exec).
 *
 * Order: parse the plan and open every host path (namespace files, cgroup.procs) first, then
 * setns (user first, mnt last; pid applies to children), then fork so the pid namespace applies.
 * The child joins the cgroups, takes its identity and execs; errors come back on a close-on-exec
 * pipe (EOF = execve succeeded). We stay the parent: without a tty the child uses our stdio
 * directly; with one we relay between our stdio and the pty master. fd 3, if open, receives
 * control lines ("resize <rows> <cols>") and gets "pid <pid>" once the process runs. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "berth.h"

static int err_pipe = -1;

static void die_to_pipe(const char *msg)
{
  dprintf(err_pipe, "1 %s", msg);
  _exit(1);
}

static int copy(int from, int to)
{
  char buf[65536];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return 1;
  if (n <= 0)
    return 0;
  write_all(to, buf, (size_t)n);
  return 1;
}

static void control_line(int fd, int master)
{
  static char line[256];
  static size_t len;
  ssize_t n = read(fd, line + len, sizeof line - 1 - len);
  if (n <= 0)
    return;
  len += (size_t)n;
  char *nl;
  while ((nl = memchr(line, '\n', len))) {
    *nl = '\0';
    unsigned int rows, cols;
    if (master >= 0 && sscanf(line, "resize %u %u", &rows, &cols) == 2) {
      struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
      ioctl(master, TIOCSWINSZ, &ws);
    }
    len -= (size_t)(nl + 1 - line);
    memmove(line, nl + 1, len);
  }
  if (len == sizeof line - 1)
    len = 0;
}

/* Reaps every exited child; 1 once pid is among them (its wait status in *status). */
static int reap(pid_t pid, int *status)
{
  int st, found = 0;
  pid_t r;
  while ((r = waitpid(-1, &st, WNOHANG)) > 0 || (r < 0 && errno == EINTR)) {
    if (r == pid) {
      *status = st;
      found = 1;
    }
  }
  return found;
}

int nsexec_run(const struct plan *p, const char *console_socket)
{
  int *cg = calloc(p->n_cgroups + 1, sizeof(int));
  for (size_t i = 0; i < p->n_cgroups; i++)
    if ((cg[i] = open(p->cgroups[i], O_WRONLY | O_CLOEXEC)) < 0)
      die("open %s", p->cgroups[i]);
  /* The console socket is a host path: connect before setns(mnt) changes how paths resolve. */
  int console = -1;
  if (console_socket && p->terminal && (console = console_connect(console_socket)) < 0)
    die("connect to console socket %s", console_socket);
  int *nsfds = calloc(p->n_ns + 1, sizeof(int));
  ns_open(p, nsfds, 0);
  seccomp_prepare(p);
  ns_join(p, nsfds);

  int master = -1;
  char slave_path[64];
  if (p->terminal) {
    /* /dev/ptmx now resolves in the container's devpts: the process gets /dev/pts/N there. */
    master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || unlockpt(master) < 0 || ptsname_r(master, slave_path, sizeof slave_path))
      die("open pty");
  }
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0)
    die("pipe");
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  signal(SIGPIPE, SIG_IGN);

  pid_t pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    close(ep[0]);
    err_pipe = ep[1];
    die_hook = die_to_pipe;
    for (size_t i = 0; i < p->n_cgroups; i++)
      if (write_all(cg[i], "0", 1) < 0)
        die("join cgroup %s", p->cgroups[i]);
    if (setsid() < 0)
      die("setsid");
    if (p->terminal) {
      int slave = open(slave_path, O_RDWR | O_CLOEXEC);
      if (slave < 0)
        die("open %s", slave_path);
      if (p->uid != 0 && fchown(slave, p->uid, (gid_t)-1) < 0)
        die("chown %s", slave_path);
      if (ioctl(slave, TIOCSCTTY, 0) < 0)
        die("ioctl TIOCSCTTY");
      for (int i = 0; i < 3; i++)
        if (dup2(slave, i) < 0)
          die("dup2");
    }
    if (fcntl(3, F_GETFD) >= 0)
      close(3); /* the control channel is ours, not the process's */
    apply_rlimits(p);
    apply_misc(p, 1);
    if (chdir(p->cwd) < 0)
      die("chdir to cwd (\"%s\") set in config.json failed", p->cwd);
    apply_identity(p);
    char msg[2048];
    int code;
    const char *path = exec_lookup(p, msg, sizeof msg, &code);
    if (path) {
      reset_signals();
      if (p->no_new_privs)
        seccomp_apply();
      execve(path, p->argv, p->env);
      exec_error(path, errno, msg, sizeof msg, &code);
    }
    dprintf(ep[1], "%d %s", code, msg);
    _exit(code);
  }

  close(ep[1]);
  char buf[2200];
  size_t n = 0;
  ssize_t r;
  while ((r = read(ep[0], buf + n, sizeof buf - 1 - n)) > 0 || (r < 0 && errno == EINTR))
    n += r > 0 ? (size_t)r : 0;
  buf[n] = '\0';
  close(ep[0]);
  int status;
  if (n > 0) {
    char *msg = strchr(buf, ' ');
    dprintf(2, "%s\n", msg ? msg + 1 : buf);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  /* runc's --console-socket: the pty master goes to the caller's socket; we only wait. */
  if (console >= 0 && master >= 0) {
    if (console_sendfd(console, "/dev/ptmx", master) < 0) { /* the name runc sends */
      char e[128];
      dprintf(2, "send the pty master to console socket %s: %s\n", console_socket, go_strerror(errno, e, sizeof e));
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return 1;
    }
    close(master);
    master = -1;
  }
  int ctl = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
  if (ctl >= 0)
    dprintf(ctl, "pid %d\n", (int)pid);
  return relay_wait(pid, master, ctl, &chld);
}

int relay_wait(pid_t pid, int master, int ctl, const sigset_t *chld)
{
  int status = 0;
  int sfd = signalfd(-1, chld, SFD_CLOEXEC | SFD_NONBLOCK);
  int in = master >= 0 ? 0 : -1;
  /* We may be a subreaper (rtexec): other orphans are reaped too; only pid ends the wait. It may
   * have exited already (its SIGCHLD then waits in the signalfd, and this finds it at once). */
  int done = reap(pid, &status);
  while (!done) {
    struct pollfd pf[4] = {{sfd, POLLIN, 0}, {master, POLLIN, 0}, {in, POLLIN, 0}, {ctl, POLLIN, 0}};
    if (poll(pf, 4, -1) < 0 && errno != EINTR)
      break;
    if (pf[1].revents && !copy(master, 1))
      master = master >= 0 ? (close(master), -1) : -1;
    if (pf[2].revents && !copy(in, master))
      in = -1; /* our stdin ended; the tty stays (docker exec -t keeps it until the process exits) */
    if (pf[3].revents & POLLIN)
      control_line(ctl, master);
    else if (pf[3].revents)
      ctl = -1;
    if (pf[0].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {
      }
      done = reap(pid, &status);
    }
  }
  /* What the process wrote just before exiting may still be on its way to the master (the
   * kernel pushes tty input from a worker). Read until the slave side is closed everywhere (EIO,
   * after the kernel flushes that work) or nothing comes for a moment (a background process may
   * still hold the slave). */
  while (master >= 0) {
    struct pollfd pm = {master, POLLIN, 0};
    if (poll(&pm, 1, 200) <= 0 || !copy(master, 1))
      break;
  }
  if (!done)
    waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
