/* extrt.c: what the shim needs to drive other runtimes and callers.
 *
 * Console sockets: runc's --console-socket protocol. The pty master travels over a Unix stream
 * socket as one SCM_RIGHTS message whose data is the pty's name (runc's utils.SendFd / RecvFd).
 * Runtime commands: `<runtime> <global options> <command...>` run as the shim's children; their
 * errors come from stderr or from the last "error" entry of the runtime's json --log file
 * (runtime.log in the state dir, where the shim runs). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth.h"

int console_connect(const char *path)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(addr.sun_path, path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -1;
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int err = errno;
    close(s);
    errno = err;
    return -1;
  }
  return s;
}

int console_send(const char *path, const char *name, int fd)
{
  int s = console_connect(path);
  return s < 0 ? -1 : console_sendfd(s, name, fd);
}

int console_sendfd(int s, const char *name, int fd)
{
  struct iovec iov = {(void *)name, strlen(name)};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  int r = sendmsg(s, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
  int err = errno;
  close(s);
  errno = err;
  return r;
}

int console_listen(char *path_out, size_t len)
{
  /* The state dir's path may be too long for sun_path: use a short one in /run (or /tmp). */
  const char *dir = access("/run", W_OK) == 0 ? "/run" : "/tmp";
  snprintf(path_out, len, "%s/berth-console-%d.sock", dir, (int)getpid());
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_out);
  unlink(path_out);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0)
    return -1;
  mode_t old = umask(0177);
  int r = bind(s, (struct sockaddr *)&addr, sizeof addr);
  umask(old);
  if (r < 0 || listen(s, 1) < 0) {
    int err = errno;
    close(s);
    errno = err;
    return -1;
  }
  return s;
}

int console_recv(int lfd, int timeout_ms)
{
  struct pollfd pf = {lfd, POLLIN, 0};
  if (poll(&pf, 1, timeout_ms) <= 0)
    return -1;
  int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0)
    return -1;
  pf = (struct pollfd){c, POLLIN, 0};
  int fd = -1;
  if (poll(&pf, 1, timeout_ms) > 0) {
    char name[256];
    union {
      char b[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } u;
    struct iovec iov = {name, sizeof name};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
    if (recvmsg(c, &msg, MSG_CMSG_CLOEXEC) > 0) {
      struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
      if (cm && cm->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    }
  }
  close(c);
  return fd;
}

/* The message of the last error entry of a json log ({"level":"error","msg":"…",…}). */
static void last_log_error(const char *path, char *err, size_t errlen)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  char buf[16384];
  struct stat st;
  off_t from = fstat(fd, &st) == 0 && st.st_size > (off_t)sizeof buf - 1 ? st.st_size - (off_t)sizeof buf + 1 : 0;
  ssize_t n = pread(fd, buf, sizeof buf - 1, from);
  close(fd);
  if (n <= 0)
    return;
  buf[n] = '\0';
  char *hit = NULL, *p = buf;
  while ((p = strstr(p, "\"level\":\"error\",\"msg\":\""))) {
    hit = p;
    p++;
  }
  if (!hit)
    return;
  hit += strlen("\"level\":\"error\",\"msg\":\"");
  size_t o = 0;
  for (char *q = hit; *q && *q != '"' && o + 1 < errlen; q++) {
    if (*q == '\\' && q[1])
      q++;
    err[o++] = *q;
  }
  err[o] = '\0';
}

int runtime_cmd(const struct shim_opts *o, const char *const *argv, int in, int out, int errout, char *err,
                size_t errlen)
{
  const char *args[64];
  int n = 0;
  args[n++] = o->runtime;
  for (int i = 0; i < o->n_runtime_args && n < 40; i++)
    args[n++] = o->runtime_args[i];
  args[n++] = "--log";
  args[n++] = "runtime.log";
  args[n++] = "--log-format";
  args[n++] = "json";
  for (int i = 0; argv[i] && n < 63; i++)
    args[n++] = argv[i];
  args[n] = NULL;
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0)
    return -1;
  int errfd = errout >= 0 ? errout : ep[1];
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(in >= 0 ? in : null, 0);
    dup2(out >= 0 ? out : null, 1);
    /* create: the runtime hands its stdio to the container, so stderr is the container's too. */
    dup2(errfd, 2);
    close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp(args[0], (char *const *)args);
    dprintf(2, "exec %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  close(ep[1]);
  size_t got = 0;
  for (;;) {
    ssize_t r = read(ep[0], err + got, errlen - 1 - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
    if (got == errlen - 1)
      got = 0; /* keep the tail */
  }
  err[got] = '\0';
  close(ep[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  if (code != 0) {
    char logged[2048] = "";
    last_log_error("runtime.log", logged, sizeof logged);
    if (logged[0])
      snprintf(err, errlen, "%s", logged);
    got = strlen(err);
    while (got && err[got - 1] == '\n')
      err[--got] = '\0';
    if (!err[0])
      snprintf(err, errlen, "%s %s exited with code %d", o->runtime, argv[0], code);
  }
  return code;
}

int rtexec_run(const struct shim_opts *o, const char *process, int tty)
{
  if (chdir(o->state_dir) < 0)
    die("chdir %s", o->state_dir);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    die("prctl PR_SET_CHILD_SUBREAPER");
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  signal(SIGPIPE, SIG_IGN);
  char cpath[108] = "", msg[4096];
  int lfd = -1;
  if (tty && (lfd = console_listen(cpath, sizeof cpath)) < 0)
    die("console socket %s", cpath);
  const char *argv[12] = {"exec", "--detach", "--process", process, "--pid-file", "exec.pid"};
  int n = 6;
  if (lfd >= 0) {
    argv[n++] = "--console-socket";
    argv[n++] = cpath;
  }
  argv[n++] = o->id;
  argv[n] = NULL;
  /* Without a tty the runtime hands our stdio to the process (its own errors reach our stderr
   * too); with one, its stdio is /dev/null and its errors are captured. */
  int code = tty ? runtime_cmd(o, argv, -1, -1, -1, msg, sizeof msg)
                 : runtime_cmd(o, argv, 0, 1, 2, msg, sizeof msg);
  if (lfd >= 0 && code != 0) {
    close(lfd);
    unlink(cpath);
  }
  if (code != 0) {
    if (tty)
      dprintf(2, "%s\n", msg);
    /* Docker's codes for a process that could not be executed (127 not found, else 126). */
    if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory"))
      return 127;
    return strstr(msg, "exec") ? 126 : 1;
  }
  char buf[64];
  int fd = open("exec.pid", O_RDONLY | O_CLOEXEC);
  ssize_t r = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0)
    close(fd);
  buf[r > 0 ? r : 0] = '\0';
  pid_t pid = (pid_t)atoi(buf);
  if (pid <= 0)
    die_msg("%s exec wrote no pid file", o->runtime);
  int master = -1;
  if (lfd >= 0) {
    master = console_recv(lfd, 10000);
    close(lfd);
    unlink(cpath);
    if (master < 0) {
      kill(pid, SIGKILL);
      die_msg("%s sent no pty master to the console socket", o->runtime);
    }
    /* Our stdio is pipes: nothing of the container's pty settings to copy. */
  }
  int ctl = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
  if (ctl >= 0)
    dprintf(ctl, "pid %d\n", (int)pid);
  return relay_wait(pid, master, ctl, &chld);
}
