/* berth-shim: carries out a plan written by berthd (plan.h).
 *
 *   berth-shim run --plan <file> --state <dir>
 *       Creates a container (stopped before execve, like `runc create`) under a detached shim
 *       that serves <dir>/shim.sock. Prints "ok <init-pid> <shim-pid>" or "error <message>" on
 *       stdout once the container is created, then exits (0 / 1); the shim lives on.
 *       --stdio inherit: the container gets our stdio (runc create), the report goes to fd 3.
 *       --console-socket P: the pty master is sent to P (runc's protocol), not kept.
 *       --runtime R --bundle B --id ID: R (runc-compatible) creates and starts the container;
 *       the shim holds its stdio, log and exit status as for our own containers.
 *   berth-shim exec --plan <file> [--console-socket P]
 *       Runs a process inside a running container (docker exec), relaying its stdio; exits with
 *       its exit code (128+signal when killed; 127/126 when it could not be executed). With a
 *       terminal and --console-socket, the pty master is sent to P instead of being relayed.
 *   berth-shim rtexec --runtime R [--runtime-arg A]... --id ID --state DIR --process FILE [--tty 1]
 *       The same for a container of another runtime: `R exec --detach --process FILE` run in DIR
 *       (its pid file and log go there), with us as the subreaper of the process.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth.h"

static void die_to_stderr(const char *msg)
{
  dprintf(2, "%s\n", msg);
  _exit(1);
}

void (*die_hook)(const char *msg) = die_to_stderr;

void die(const char *fmt, ...)
{
  int err = errno;
  char msg[4500];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof msg)
    snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(err));
  die_hook(msg);
  _exit(1);
}

void die_msg(const char *fmt, ...)
{
  char msg[4500];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  die_hook(msg);
  _exit(1);
}

int write_all(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int write_file(const char *path, const char *data)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int r = write_all(fd, data, strlen(data));
  int err = errno;
  close(fd);
  errno = err;
  return r;
}

const char *go_strerror(int err, char *buf, size_t len)
{
  snprintf(buf, len, "%s", strerror(err));
  buf[0] = (char)tolower((unsigned char)buf[0]);
  return buf;
}

static int usage(void)
{
  fprintf(stderr, "usage: berth-shim run --plan <file> --state <dir> [--stdio inherit] [--console-socket <path>]\n"
                  "                      [--runtime <path> --bundle <dir> --id <id> [--runtime-arg <arg>]...]\n"
                  "       berth-shim exec --plan <file> [--console-socket <path>]\n"
                  "       berth-shim rtexec --runtime <path> [--runtime-arg <arg>]... --id <id> --state <dir>\n"
                  "                         --process <file> [--tty 1]\n");
  return 2;
}

int main(int argc, char **argv)
{
  const char *plan_path = NULL, *process = NULL;
  int tty = 0;
  struct shim_opts o = {0};
  if (argc < 2)
    return usage();
  for (int i = 2; i + 1 < argc; i += 2) {
    const char *v = argv[i + 1];
    if (!strcmp(argv[i], "--plan"))
      plan_path = v;
    else if (!strcmp(argv[i], "--state"))
      o.state_dir = v;
    else if (!strcmp(argv[i], "--stdio") && !strcmp(v, "inherit"))
      o.inherit_stdio = 1;
    else if (!strcmp(argv[i], "--console-socket"))
      o.console_socket = v;
    else if (!strcmp(argv[i], "--runtime"))
      o.runtime = v;
    else if (!strcmp(argv[i], "--runtime-arg") && o.n_runtime_args < 16)
      o.runtime_args[o.n_runtime_args++] = v;
    else if (!strcmp(argv[i], "--bundle"))
      o.bundle = v;
    else if (!strcmp(argv[i], "--id"))
      o.id = v;
    else if (!strcmp(argv[i], "--process"))
      process = v;
    else if (!strcmp(argv[i], "--tty"))
      tty = !strcmp(v, "1");
    else
      return usage();
  }
  if (!strcmp(argv[1], "rtexec")) {
    if (!o.runtime || !o.id || !o.state_dir || !process)
      return usage();
    close_range(4, ~0U, 0);
    return rtexec_run(&o, process, tty);
  }
  if (!plan_path)
    return usage();
  struct plan p;
  char err[4200];
  int is_run = !strcmp(argv[1], "run");
  if (!is_run && strcmp(argv[1], "exec"))
    return usage();
  if (plan_load(plan_path, &p, err, sizeof err) < 0) {
    if (is_run)
      dprintf(o.inherit_stdio ? 3 : 1, "error %s\n", err);
    else
      fprintf(stderr, "%s\n", err);
    return 1;
  }
  /* Nothing berthd (or its caller) left open may reach the container; exec keeps fd 3, its
   * control channel. */
  close_range(is_run && !o.inherit_stdio ? 3 : 4, ~0U, 0);
  if (is_run) {
    if (!o.state_dir || !p.rootfs || (o.runtime && (!o.bundle || !o.id)))
      return usage();
    return shim_run(&p, &o);
  }
  return nsexec_run(&p, o.console_socket);
}
