/* shim.c: `berth-shim run`, the per-container shim.
 *
 * Lifecycle: the process berthd spawned forks the shim and waits for its one-line report. The
 * shim detaches (setsid, stdio on /dev/null, so it survives berthd), clones the container init
 * into its namespaces and walks it through setup over a SOCK_SEQPACKET socketpair:
 *
 *   child -> shim  "ready"                 namespaces exist (joined ones too)
 *   shim  -> child "cont"                  after joining the cgroups and writing the id maps
 *   child -> shim  "prepared" [+pty fd]    rootfs, identity and the executable are ready; or
 *                  "execerr <code> <msg>"  the executable cannot be run (reported at start); or
 *                  "error <msg>"           a setup step failed (reported at create)
 *   shim  -> child "go"                    on the `start` request
 *   child -> shim  EOF (execve succeeded: the socket is close-on-exec) or "execerr <code> <msg>"
 *
 * Then it serves <state>/shim.sock (one request line per connection: attach, start, wait, resize,
 * kill, state), copies the container's output to the json-file log and to attachers, and when the
 * init exits writes <state>/exit.json, answers waiters, removes shim.sock and exits.
 *
 * Slow attachers: each connection buffers at most CONN_BUF_MAX bytes of pending output; whole
 * frames beyond that are dropped for that attacher only, so the container and the log never wait.
 * Input from attachers is applied with backpressure (we stop reading them while the container's
 * stdin is full). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "berth.h"

#define MAX_CONNS 64
#define CONN_BUF_MAX (1u << 20)
#define STDIN_BUF 65536
#define LOG_LINE_MAX 16384
#define SOCK_NAME "shim.sock"

enum conn_kind { C_REQUEST, C_ATTACH, C_WAIT };

struct conn {
  int fd, dead;
  enum conn_kind kind;
  char line[512];
  size_t linelen;
  int want_in, want_out, want_err, in_eof;
  char *out;
  size_t outlen, outcap;
};

struct linebuf {
  char buf[LOG_LINE_MAX];
  size_t len;
};

static struct {
  const struct plan *p;
  const struct shim_opts *o;
  int inh[3]; /* inherit_stdio: the caller's stdio, handed to the container */
  pid_t init_pid;
  int report_fd, sync_fd, listen_fd, sig_fd, log_fd;
  uint64_t log_size;
  int started, exited, status;
  char execerr[4800];
  int out_fd, err_fd, in_fd; /* tty: out_fd == in_fd == pty master, err_fd == -1 */
  char inbuf[STDIN_BUF];
  size_t inlen;
  int in_close_pending;
  struct conn conns[MAX_CONNS];
  int nconns;
  struct linebuf lb[3];
} S;

/* ---- errors during create go to the process that spawned us ---- */

static void die_to_report(const char *msg)
{
  if (S.report_fd >= 0)
    dprintf(S.report_fd, "error %s\n", msg);
  if (S.init_pid > 0) {
    kill(S.init_pid, SIGKILL);
    waitpid(S.init_pid, NULL, 0);
  }
  unlink(SOCK_NAME);
  _exit(1);
}

static int child_sync = -1;

static void die_to_sync(const char *msg)
{
  char buf[4700];
  int n = snprintf(buf, sizeof buf, "error %s", msg);
  send(child_sync, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, MSG_NOSIGNAL);
  _exit(1);
}

/* Written to a temp file and renamed, so readers see the old state or the new one. Only exit.json
 * is fsynced: pid files mean nothing after a reboot. */
static void write_state_file(const char *name, const char *data, int durable)
{
  char tmp[256];
  snprintf(tmp, sizeof tmp, ".%s.tmp", name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write_all(fd, data, strlen(data)) < 0 || (durable && fsync(fd) < 0) || close(fd) < 0)
    die("write %s", name);
  if (rename(tmp, name) < 0)
    die("rename %s", name);
}

/* ---- the container init, between clone() and execve() ---- */

static int sync_recv(int fd, char *buf, size_t len)
{
  ssize_t n;
  do
    n = recv(fd, buf, len - 1, 0);
  while (n < 0 && errno == EINTR);
  buf[n > 0 ? n : 0] = '\0';
  return (int)n;
}

static int open_pty(int *slave_out, unsigned int uid)
{
  /* Opened inside the container's own devpts (after pivot_root), so the slave is /dev/pts/0
   * there, as with runc. The master goes back to the shim with SCM_RIGHTS. */
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    die("open /dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
    die("unlock pty");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    die("open pty slave");
  if (uid != 0 && fchown(slave, uid, (gid_t)-1) < 0)
    die("chown pty slave");
  /* runc binds the container's pty over /dev/console; done when /dev is writable (a tmpfs). */
  char name[64];
  int console = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (console >= 0) {
    close(console);
    if (ptsname_r(master, name, sizeof name) == 0 && mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
      die("bind %s over /dev/console", name);
  }
  *slave_out = slave;
  return master;
}

static void send_prepared(int sync, int master)
{
  char data[] = "prepared";
  struct iovec iov = {data, sizeof data - 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (master >= 0) {
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &master, sizeof(int));
  }
  if (sendmsg(sync, &msg, MSG_NOSIGNAL) < 0)
    die("report prepared");
}

__attribute__((noreturn)) static void child_main(const struct plan *p, int sync, const int stdio[3], const int *nsfds)
{
  char buf[64];
  child_sync = sync;
  die_hook = die_to_sync;
  ns_join(p, nsfds);
  if (send(sync, "ready", 5, MSG_NOSIGNAL) < 0 || sync_recv(sync, buf, sizeof buf) <= 0 || strcmp(buf, "cont"))
    _exit(1);
  /* In a new (or joined) user namespace we still carry the host's ids, which it does not map:
   * become its root now that the maps are written, so files we create have an owner (runc does
   * the same). */
  const struct plan_ns *user = plan_find_ns(p, CLONE_NEWUSER);
  if (user && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
    die("become root of the user namespace");
  /* A new cgroup namespace is made only now, inside the container's cgroup, so that cgroup is its
   * root and /proc/self/cgroup shows "/" (runc unshares it after joining the cgroup too). */
  const struct plan_ns *cgns = plan_find_ns(p, CLONE_NEWCGROUP);
  if (cgns && !cgns->path && unshare(CLONE_NEWCGROUP) < 0)
    die("unshare cgroup namespace");
  const struct plan_ns *net = plan_find_ns(p, CLONE_NEWNET);
  if (net && !net->path)
    loopback_up();
  seccomp_prepare(p);
  rootfs_setup(p);
  rootfs_pivot(p);
  if (setsid() < 0)
    die("setsid");
  int master = -1, slave = -1;
  if (p->terminal) {
    master = open_pty(&slave, p->uid);
    if (ioctl(slave, TIOCSCTTY, 0) < 0)
      die("ioctl TIOCSCTTY");
  }
  for (int i = 0; i < 3; i++)
    if (dup2(p->terminal ? slave : stdio[i], i) < 0)
      die("dup2 stdio %d", i);
  rootfs_finish(p);
  apply_rlimits(p);
  apply_misc(p, 0);
  if (chdir(p->cwd) < 0)
    die("chdir to cwd (\"%s\") set in config.json failed", p->cwd);
  apply_identity(p);

  char msg[2048];
  int code = 0;
  const char *path = exec_lookup(p, msg, sizeof msg, &code);
  if (!path) {
    char out[2200];
    int n = snprintf(out, sizeof out, "execerr %d %s", code, msg);
    send(sync, out, (size_t)n, MSG_NOSIGNAL);
    sync_recv(sync, buf, sizeof buf);
    _exit(code);
  }
  send_prepared(sync, master);
  if (master >= 0)
    close(master);
  if (sync_recv(sync, buf, sizeof buf) <= 0 || strcmp(buf, "go"))
    _exit(1);
  reset_signals();
  if (p->no_new_privs)
    seccomp_apply();
  execve(path, p->argv, p->env);
  char out[2200];
  exec_error(path, errno, msg, sizeof msg, &code);
  int n = snprintf(out, sizeof out, "execerr %d %s", code, msg);
  send(sync, out, (size_t)n, MSG_NOSIGNAL);
  _exit(code);
}

/* ---- output: json-file log and attachers ---- */

static size_t utf8_len(const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  size_t len;
  unsigned int cp, min;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2, cp = c & 0x1f, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF)
    len = 3, cp = c & 0x0f, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4)
    len = 4, cp = c & 0x07, min = 0x10000;
  else
    return 0;
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

/* JSON string body as Docker's json-file writes it (jsonlog's ffjson writer): HTML characters and
 * U+2028/U+2029 escaped, only \n and \r in short form (a tab is \u0009), invalid UTF-8 replaced
 * by U+FFFD. out needs 6 bytes per input byte. */
static size_t json_escape(char *out, const unsigned char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out[o++] = '\\';
        out[o++] = (char)c;
      } else if (c == '\n' || c == '\r') {
        out[o++] = '\\';
        out[o++] = c == '\n' ? 'n' : 'r';
      } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
        memcpy(out + o, "\\u00", 4);
        out[o + 4] = hex[c >> 4];
        out[o + 5] = hex[c & 15];
        o += 6;
      } else {
        out[o++] = (char)c;
      }
      i++;
      continue;
    }
    size_t len = utf8_len(s + i, n - i);
    if (!len) {
      memcpy(out + o, "\\ufffd", 6);
      o += 6;
      i++;
    } else if (len == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
      memcpy(out + o, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
      o += 6;
      i += 3;
    } else {
      memcpy(out + o, s + i, len);
      o += len;
      i += len;
    }
  }
  return o;
}

/* Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped. */
static void rfc3339nano(char *buf, size_t len)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  if (ts.tv_nsec) {
    n += (size_t)snprintf(buf + n, len - n, ".%09ld", ts.tv_nsec);
    while (buf[n - 1] == '0')
      n--;
  }
  snprintf(buf + n, len - n, "Z");
}

/* gzips path into path.gz (through a temp file, so readers see no half-written archive), then
 * removes path. On failure the uncompressed file stays. */
static void gzip_file(const char *path)
{
  char gz[4400], tmp[4400];
  if ((size_t)snprintf(gz, sizeof gz, "%s.gz", path) >= sizeof gz ||
      (size_t)snprintf(tmp, sizeof tmp, "%s.gz.tmp", path) >= sizeof tmp)
    return;
  int in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return;
  gzFile out = gzopen(tmp, "wb");
  int ok = out != NULL;
  static char buf[65536];
  ssize_t n;
  while (ok && (n = read(in, buf, sizeof buf)) > 0)
    ok = gzwrite(out, buf, (unsigned)n) == n;
  close(in);
  if (out && gzclose(out) != Z_OK)
    ok = 0;
  if (ok && rename(tmp, gz) == 0)
    unlink(path);
  else
    unlink(tmp);
}

/* Docker's json-file rotation (moby loggerutils): path.N-1 dropped, path.i -> path.i+1,
 * path -> path.1 (then gzipped when compress is on), a new empty path; with max_files 1 the log
 * is truncated instead. */
static void log_rotate(void)
{
  const char *name = S.p->log_path;
  const char *ext = S.p->log_compress ? ".gz" : "";
  uint64_t max = S.p->log_max_files;
  char from[4200], to[4200];
  if (max >= 2) {
    snprintf(to, sizeof to, "%s.%llu%s", name, (unsigned long long)(max - 1), ext);
    unlink(to);
    for (uint64_t i = max - 1; i > 1; i--) {
      snprintf(to, sizeof to, "%s.%llu%s", name, (unsigned long long)i, ext);
      snprintf(from, sizeof from, "%s.%llu%s", name, (unsigned long long)(i - 1), ext);
      rename(from, to);
    }
    snprintf(to, sizeof to, "%s.1", name);
    rename(name, to);
  }
  int fd = open(name, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0)
    return; /* keep writing to the old file rather than lose output */
  close(S.log_fd);
  S.log_fd = fd;
  S.log_size = 0;
  if (max >= 2 && S.p->log_compress)
    gzip_file(to);
}

/* One entry as moby's JSONLogs.MarshalJSONBuf writes it: log, stream, attrs (when the plan has
 * them), time. */
static void log_entry(int stream, const char *data, size_t n)
{
  static char *line;
  static size_t cap;
  char ts[64];
  if (S.log_fd < 0 || n == 0)
    return;
  const char *attrs = S.p->log_attrs;
  if (!line) {
    cap = LOG_LINE_MAX * 6 + 128 + (attrs ? strlen(attrs) + 16 : 0);
    line = malloc(cap);
    if (!line)
      return;
  }
  rfc3339nano(ts, sizeof ts);
  size_t o = (size_t)snprintf(line, cap, "{\"log\":\"");
  o += json_escape(line + o, (const unsigned char *)data, n);
  o += (size_t)snprintf(line + o, cap - o, "\",\"stream\":\"%s\"", stream == 2 ? "stderr" : "stdout");
  if (attrs)
    o += (size_t)snprintf(line + o, cap - o, ",\"attrs\":%s", attrs);
  o += (size_t)snprintf(line + o, cap - o, ",\"time\":\"%s\"}\n", ts);
  if (S.p->log_max_size && S.log_size >= S.p->log_max_size)
    log_rotate();
  /* A full disk must not stop the container: the entry is lost, the shim goes on. */
  if (write_all(S.log_fd, line, o) < 0)
    return;
  S.log_size += o;
}

/* Docker's json-file writes one entry per line; a partial line waits for its newline or for the
 * buffer to fill (then it is written as is), or for the stream to end. */
static void log_chunk(int stream, const char *data, size_t n)
{
  struct linebuf *lb = &S.lb[stream];
  while (n) {
    const char *nl = memchr(data, '\n', n);
    size_t take = nl ? (size_t)(nl - data) + 1 : n;
    if (take > sizeof lb->buf - lb->len)
      take = sizeof lb->buf - lb->len;
    memcpy(lb->buf + lb->len, data, take);
    lb->len += take;
    data += take;
    n -= take;
    if (lb->buf[lb->len - 1] == '\n' || lb->len == sizeof lb->buf) {
      log_entry(stream, lb->buf, lb->len);
      lb->len = 0;
    }
  }
}

static void log_flush(int stream)
{
  log_entry(stream, S.lb[stream].buf, S.lb[stream].len);
  S.lb[stream].len = 0;
}

static void conn_send(struct conn *c, const void *h, size_t hl, const void *d, size_t dl)
{
  size_t total = hl + dl, done = 0;
  if (c->dead)
    return;
  if (c->outlen == 0) {
    struct iovec iov[2] = {{(void *)h, hl}, {(void *)d, dl}};
    ssize_t w = writev(c->fd, hl ? iov : iov + 1, hl ? 2 : 1);
    if (w < 0 && errno != EAGAIN) {
      c->dead = 1;
      return;
    }
    done = w > 0 ? (size_t)w : 0;
    if (done == total)
      return;
  }
  if (done == 0 && c->outlen + total > CONN_BUF_MAX)
    return; /* drop this frame for this slow attacher */
  if (c->outlen + total - done > c->outcap) {
    c->outcap = (c->outlen + total - done) * 2;
    c->out = realloc(c->out, c->outcap);
  }
  for (size_t i = done; i < total; i++)
    c->out[c->outlen++] = i < hl ? ((const char *)h)[i] : ((const char *)d)[i - hl];
}

static void output(int stream, const char *data, size_t n)
{
  log_chunk(stream, data, n);
  unsigned char hdr[8] = {(unsigned char)stream, 0, 0, 0, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
  for (int i = 0; i < S.nconns; i++) {
    struct conn *c = &S.conns[i];
    if (c->kind != C_ATTACH || !(stream == 1 ? c->want_out : c->want_err))
      continue;
    if (S.p->terminal)
      conn_send(c, NULL, 0, data, n);
    else
      conn_send(c, hdr, 8, data, n);
  }
}

/* Reads what the stream has now. Returns 0 at its end (EOF, or EIO on a pty without slaves). */
static int read_stream(int *fd, int stream)
{
  static char buf[65536];
  for (;;) {
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n > 0) {
      output(stream, buf, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return 1;
    log_flush(stream);
    if (*fd == S.in_fd)
      S.in_fd = -1;
    close(*fd);
    *fd = -1;
    return 0;
  }
}

/* ---- requests on shim.sock ---- */

static void reply_close(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_close(struct conn *c, const char *fmt, ...)
{
  char buf[2300];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  conn_send(c, NULL, 0, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
  c->dead = 1; /* closed after its buffer is flushed */
}

static void do_start(struct conn *c)
{
  char buf[2300];
  if (S.started)
    return reply_close(c, "error container already started\n");
  S.started = 1;
  if (S.o->runtime) {
    const char *argv[] = {"start", S.o->id, NULL};
    if (runtime_cmd(S.o, argv, -1, -1, -1, buf, sizeof buf) != 0)
      return reply_close(c, "error %s\n", buf);
    return reply_close(c, "ok %d\n", (int)S.init_pid);
  }
  if (send(S.sync_fd, "go", 2, MSG_NOSIGNAL) < 0 && !S.execerr[0])
    return reply_close(c, "error start: container init is gone\n");
  int n = S.execerr[0] ? 0 : sync_recv(S.sync_fd, buf, sizeof buf);
  close(S.sync_fd);
  S.sync_fd = -1;
  if (S.execerr[0])
    return reply_close(c, "error %s\n", S.execerr);
  if (n == 0)
    return reply_close(c, "ok %d\n", (int)S.init_pid);
  const char *msg = strncmp(buf, "execerr ", 8) ? buf : strchr(buf + 8, ' ');
  reply_close(c, "error %s\n", msg ? msg + (msg != buf) : buf);
}

static void handle_request(struct conn *c, char *line)
{
  int a, b, d;
  unsigned int rows, cols;
  if (sscanf(line, "attach %d %d %d", &a, &b, &d) == 3) {
    c->kind = C_ATTACH;
    c->want_in = a && S.p->open_stdin;
    c->want_out = b;
    c->want_err = d;
  } else if (!strcmp(line, "start")) {
    do_start(c);
  } else if (!strcmp(line, "wait")) {
    c->kind = C_WAIT;
  } else if (!strcmp(line, "state")) {
    reply_close(c, "%s %d\n", S.started ? "running" : "created", (int)S.init_pid);
  } else if (sscanf(line, "resize %u %u", &rows, &cols) == 2) {
    struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
    if (!S.p->terminal || S.out_fd < 0)
      reply_close(c, "error the container has no tty\n");
    else if (ioctl(S.out_fd, TIOCSWINSZ, &ws) < 0)
      reply_close(c, "error resize: %s\n", strerror(errno));
    else
      reply_close(c, "ok\n");
  } else if (sscanf(line, "kill %d", &a) == 1) {
    if (kill(S.init_pid, a) < 0)
      reply_close(c, "error kill %d: %s\n", a, strerror(errno));
    else
      reply_close(c, "ok\n");
  } else {
    reply_close(c, "error unknown request \"%.100s\"\n", line);
  }
}

static void stdin_input(struct conn *c, const char *data, size_t n)
{
  if (!c->want_in || S.in_fd < 0)
    return;
  if (n > sizeof S.inbuf - S.inlen)
    n = sizeof S.inbuf - S.inlen;
  memcpy(S.inbuf + S.inlen, data, n);
  S.inlen += n;
}

static void conn_readable(struct conn *c)
{
  char buf[STDIN_BUF];
  size_t room = sizeof buf;
  if (c->kind == C_REQUEST)
    room = sizeof c->line - c->linelen;
  else if (c->want_in)
    room = sizeof S.inbuf - S.inlen;
  if (room == 0)
    return;
  ssize_t n = read(c->fd, buf, room);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    if (c->kind != C_ATTACH) {
      c->dead = 1;
      c->outlen = 0;
      return;
    }
    c->in_eof = 1;
    if (c->want_in && S.p->stdin_once && !S.p->terminal)
      S.in_close_pending = 1;
    return;
  }
  if (c->kind != C_REQUEST)
    return stdin_input(c, buf, (size_t)n);
  memcpy(c->line + c->linelen, buf, (size_t)n);
  c->linelen += (size_t)n;
  char *nl = memchr(c->line, '\n', c->linelen);
  if (!nl) {
    if (c->linelen == sizeof c->line)
      reply_close(c, "error request line too long\n");
    return;
  }
  *nl = '\0';
  size_t rest = c->linelen - (size_t)(nl + 1 - c->line);
  handle_request(c, c->line);
  if (c->kind == C_ATTACH && rest)
    stdin_input(c, nl + 1, rest);
}

static void conn_writable(struct conn *c)
{
  ssize_t w = write(c->fd, c->out, c->outlen);
  if (w < 0 && errno != EAGAIN) {
    c->dead = 1;
    c->outlen = 0;
  } else if (w > 0) {
    memmove(c->out, c->out + w, c->outlen - (size_t)w);
    c->outlen -= (size_t)w;
  }
}

static void conns_reap(void)
{
  for (int i = 0; i < S.nconns;) {
    struct conn *c = &S.conns[i];
    if (c->dead && c->outlen == 0) {
      close(c->fd);
      free(c->out);
      S.conns[i] = S.conns[--S.nconns];
    } else {
      i++;
    }
  }
}

static void accept_conn(void)
{
  int fd = accept4(S.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return;
  if (S.nconns == MAX_CONNS) {
    close(fd);
    return;
  }
  S.conns[S.nconns++] = (struct conn){.fd = fd, .kind = C_REQUEST};
}

/* ---- exit ---- */

__attribute__((noreturn)) static void finish(void)
{
  if (S.out_fd >= 0)
    read_stream(&S.out_fd, 1);
  if (S.err_fd >= 0)
    read_stream(&S.err_fd, 2);
  log_flush(1);
  log_flush(2);
  int code = 0, sig = 0;
  if (WIFEXITED(S.status))
    code = WEXITSTATUS(S.status);
  else if (WIFSIGNALED(S.status))
    sig = WTERMSIG(S.status), code = 128 + sig;
  char ts[64], json[256], reply[64];
  rfc3339nano(ts, sizeof ts);
  snprintf(json, sizeof json, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\",\"oomKilled\":false}\n", code,
           sig, ts);
  die_hook = die_to_report;
  S.report_fd = -1;
  S.init_pid = 0;
  write_state_file("exit.json", json, 1);
  snprintf(reply, sizeof reply, "exit %d %d 0\n", code, sig);
  /* Waiters first, so a slow attacher cannot delay them. */
  for (int i = 0; i < S.nconns; i++)
    if (S.conns[i].kind == C_WAIT)
      conn_send(&S.conns[i], NULL, 0, reply, strlen(reply));
  /* Then flush pending output, within 2 s for all attachers together. */
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < S.nconns; i++) {
      struct conn *c = &S.conns[i];
      if ((pass == 0) != (c->kind == C_WAIT) || !c->outlen || c->dead)
        continue;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long left_ms = 2000 - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
      if (left_ms <= 0)
        break;
      struct timeval tv = {left_ms / 1000, (left_ms % 1000) * 1000};
      fcntl(c->fd, F_SETFL, 0);
      setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      write_all(c->fd, c->out, c->outlen);
    }
  for (int i = 0; i < S.nconns; i++)
    close(S.conns[i].fd);
  unlink(SOCK_NAME);
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  _exit(0);
}

static void reap(void)
{
  struct signalfd_siginfo si;
  while (read(S.sig_fd, &si, sizeof si) > 0) {
  }
  int st;
  pid_t pid;
  /* We are a child subreaper: orphans of the container end up here too. */
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
    if (pid == S.init_pid) {
      S.exited = 1;
      S.status = st;
    }
}

__attribute__((noreturn)) static void serve(void)
{
  struct pollfd pf[MAX_CONNS + 8];
  for (;;) {
    conns_reap();
    if (S.in_close_pending && S.inlen == 0 && S.in_fd >= 0) {
      close(S.in_fd);
      S.in_fd = -1;
      S.in_close_pending = 0;
    }
    int n = 0, i_out = -1, i_err = -1, i_in = -1;
    pf[n++] = (struct pollfd){S.listen_fd, POLLIN, 0};
    pf[n++] = (struct pollfd){S.sig_fd, POLLIN, 0};
    if (S.out_fd >= 0) {
      i_out = n;
      pf[n++] = (struct pollfd){S.out_fd, POLLIN, 0};
    }
    if (S.err_fd >= 0) {
      i_err = n;
      pf[n++] = (struct pollfd){S.err_fd, POLLIN, 0};
    }
    if (S.in_fd >= 0 && S.inlen) {
      if (S.in_fd == S.out_fd) {
        pf[i_out].events |= POLLOUT;
        i_in = i_out;
      } else {
        i_in = n;
        pf[n++] = (struct pollfd){S.in_fd, POLLOUT, 0};
      }
    }
    int first_conn = n;
    for (int i = 0; i < S.nconns; i++) {
      struct conn *c = &S.conns[i];
      short ev = 0;
      if (!c->dead && !c->in_eof && (!c->want_in || S.inlen < sizeof S.inbuf))
        ev |= POLLIN;
      if (c->outlen)
        ev |= POLLOUT;
      /* Not polled at all when nothing is wanted: POLLHUP would otherwise wake us forever. */
      pf[n++] = (struct pollfd){ev ? c->fd : -1, ev, 0};
    }
    if (poll(pf, (nfds_t)n, -1) < 0) {
      if (errno == EINTR)
        continue;
      die("poll");
    }
    if (pf[1].revents)
      reap();
    if (i_in >= 0 && (pf[i_in].revents & (POLLOUT | POLLERR))) {
      ssize_t w = write(S.in_fd, S.inbuf, S.inlen);
      if (w > 0) {
        memmove(S.inbuf, S.inbuf + w, S.inlen - (size_t)w);
        S.inlen -= (size_t)w;
      } else if (w < 0 && errno != EAGAIN) {
        S.inlen = 0; /* the container closed its stdin */
        if (S.in_fd != S.out_fd) {
          close(S.in_fd);
          S.in_fd = -1;
        }
      }
    }
    if (i_out >= 0 && (pf[i_out].revents & (POLLIN | POLLHUP | POLLERR)) && S.out_fd >= 0)
      read_stream(&S.out_fd, 1);
    if (i_err >= 0 && (pf[i_err].revents & (POLLIN | POLLHUP | POLLERR)))
      read_stream(&S.err_fd, 2);
    int nc = S.nconns;
    for (int i = 0; i < nc; i++) {
      struct conn *c = &S.conns[i];
      short re = pf[first_conn + i].revents;
      if (re & POLLOUT)
        conn_writable(c);
      if (re & (POLLIN | POLLHUP | POLLERR))
        conn_readable(c);
      if ((re & (POLLHUP | POLLERR)) && c->in_eof) {
        c->dead = 1; /* the peer is gone in both directions */
        c->outlen = 0;
      }
    }
    if (pf[0].revents & POLLIN)
      accept_conn();
    if (S.exited)
      finish();
  }
}

/* ---- setup ---- */

static void listen_sock(void)
{
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, SOCK_NAME); /* relative: we run in the state dir, whose path may be long */
  unlink(SOCK_NAME);
  S.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (S.listen_fd < 0)
    die("socket");
  mode_t old = umask(0177);
  int r = bind(S.listen_fd, (struct sockaddr *)&addr, sizeof addr);
  umask(old);
  if (r < 0 || listen(S.listen_fd, 64) < 0)
    die("listen %s", SOCK_NAME);
}

/* The shim must not keep the caller's stdio open once the container has it: the caller waits
 * for EOF on it. */
static void close_inherited(void)
{
  for (int i = 0; i < 3; i++)
    if (S.inh[i] >= 0) {
      close(S.inh[i]);
      S.inh[i] = -1;
    }
}

/* pid and time namespaces are entered by the cloning process itself: they apply to its
 * children. A new time namespace cannot be made by clone() (CLONE_NEWTIME overlaps CSIGNAL), only
 * unshare(). */
static void enter_for_children(const struct plan *p)
{
  static const int for_children[] = {CLONE_NEWPID, CLONE_NEWTIME};
  for (int k = 0; k < 2; k++) {
    const struct plan_ns *ns = plan_find_ns(p, for_children[k]);
    if (!ns)
      continue;
    if (!ns->path) {
      if (for_children[k] == CLONE_NEWTIME && unshare(CLONE_NEWTIME) < 0)
        die("unshare time namespace");
      continue;
    }
    int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, for_children[k]) < 0)
      die("setns %s", ns->path);
    close(fd);
  }
}

/* clone() with a NULL stack behaves like fork() into the new namespaces. */
static pid_t clone_into(const struct plan *p, const int sp[2], const int stdio[3], const int *nsfds)
{
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)ns_clone_flags(p) | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0) {
    close(sp[0]);
    child_main(p, sp[1], stdio, nsfds);
  }
  return pid;
}

/* The container init. A user namespace given by path (another container's) is joined first, so
 * the namespaces made next belong to it (runc's nsexec order): an intermediate process joins it,
 * enters the pid and time namespaces for its children (still in the shim's pid namespace, so the
 * pid it reports is the shim's view) and clones the init, which the shim, a child subreaper,
 * inherits when the intermediate exits. */
static pid_t clone_init(const struct plan *p, const int sp[2], const int stdio[3], int *nsfds)
{
  size_t u = p->n_ns;
  for (size_t i = 0; i < p->n_ns; i++)
    if (p->ns[i].flag == CLONE_NEWUSER && nsfds[i] >= 0)
      u = i;
  if (u == p->n_ns) {
    pid_t pid = clone_into(p, sp, stdio, nsfds);
    if (pid < 0)
      die("clone");
    return pid;
  }
  int pp[2];
  if (pipe2(pp, O_CLOEXEC) < 0)
    die("pipe");
  pid_t mid = fork();
  if (mid < 0)
    die("fork");
  if (mid == 0) {
    close(pp[0]);
    pid_t pid = -1;
    if (setns(nsfds[u], CLONE_NEWUSER) == 0) {
      close(nsfds[u]);
      nsfds[u] = -1;
      enter_for_children(p);
      pid = clone_into(p, sp, stdio, nsfds);
    }
    int err = errno;
    if (write(pp[1], &pid, sizeof pid) < 0 || write(pp[1], &err, sizeof err) < 0)
      _exit(1);
    _exit(0);
  }
  close(pp[1]);
  pid_t pid = -1;
  int err = 0;
  ssize_t n = read(pp[0], &pid, sizeof pid);
  if (n == (ssize_t)sizeof pid && read(pp[0], &err, sizeof err) < 0)
    err = errno;
  close(pp[0]);
  while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {
  }
  if (n != (ssize_t)sizeof pid || pid < 0) {
    errno = err;
    die("join user namespace %s and clone", p->ns[u].path);
  }
  return pid;
}

static pid_t spawn_init(const struct plan *p, int *sync_out, int *master_out)
{
  int sp[2], out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    die("socketpair");
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0)
    die("open /dev/null");
  if (!p->terminal && !S.o->inherit_stdio) {
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || (p->open_stdin && pipe2(in, O_CLOEXEC) < 0))
      die("pipe");
  }
  int stdio[3] = {p->open_stdin ? in[0] : devnull, out[1], err[1]};
  if (S.o->inherit_stdio)
    memcpy(stdio, S.inh, sizeof stdio);

  /* With a joined user namespace, clone_init's intermediate process enters these instead. */
  const struct plan_ns *user = plan_find_ns(p, CLONE_NEWUSER);
  if (!user || !user->path)
    enter_for_children(p);
  int *nsfds = calloc(p->n_ns + 1, sizeof(int));
  ns_open(p, nsfds, 1);

  pid_t pid = clone_init(p, sp, stdio, nsfds);
  S.init_pid = pid;
  close(sp[1]);
  close(devnull);
  close_inherited();
  for (size_t i = 0; i < p->n_ns; i++)
    if (nsfds[i] >= 0)
      close(nsfds[i]);
  if (!p->terminal && !S.o->inherit_stdio) {
    close(out[1]);
    close(err[1]);
    S.out_fd = out[0];
    S.err_fd = err[0];
    if (p->open_stdin) {
      close(in[0]);
      S.in_fd = in[1];
    }
  }
  *sync_out = sp[0];
  *master_out = -1;
  return pid;
}

/* Receives one sync message, with an fd (the pty master) if one is attached. */
static int sync_recv_fd(int fd, char *buf, size_t len, int *passed)
{
  union {
    char b[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = {buf, len - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b};
  ssize_t n;
  do
    n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  buf[n > 0 ? n : 0] = '\0';
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (n > 0 && c && c->cmsg_type == SCM_RIGHTS)
    memcpy(passed, CMSG_DATA(c), sizeof(int));
  return (int)n;
}

static void create(const struct plan *p)
{
  char buf[4700], pidbuf[32];
  int master = -1;
  spawn_init(p, &S.sync_fd, &master);
  snprintf(pidbuf, sizeof pidbuf, "%d\n", (int)S.init_pid);
  write_state_file("init.pid", pidbuf, 0);

  if (sync_recv(S.sync_fd, buf, sizeof buf) <= 0)
    die_msg("container init exited during setup");
  if (!strncmp(buf, "error ", 6))
    die_msg("%s", buf + 6);
  const char *failed = NULL;
  if (cgroup_join(p, S.init_pid, &failed) < 0)
    die("join cgroup %s", failed);
  if (idmap_write(p, S.init_pid, &failed) < 0)
    die("write %s", failed);
  if (oom_score_write(p, S.init_pid) < 0)
    die("write oom_score_adj %d", p->oom_score_adj);
  if (send(S.sync_fd, "cont", 4, MSG_NOSIGNAL) < 0)
    die("container init exited during setup");

  int n = sync_recv_fd(S.sync_fd, buf, sizeof buf, &master);
  if (n <= 0)
    die_msg("container init exited during setup");
  if (!strncmp(buf, "error ", 6))
    die_msg("%s", buf + 6);
  if (!strncmp(buf, "execerr ", 8)) {
    const char *msg = strchr(buf + 8, ' ');
    snprintf(S.execerr, sizeof S.execerr, "%s", msg ? msg + 1 : buf);
  } else if (strcmp(buf, "prepared")) {
    die_msg("unexpected message from container init: %.100s", buf);
  }
  if (p->terminal) {
    if (master < 0 && !S.execerr[0])
      die_msg("container init sent no pty");
    if (master >= 0 && S.o->console_socket) {
      /* The name runc sends with the fd: its master's, /dev/ptmx. */
      if (console_send(S.o->console_socket, "/dev/ptmx", master) < 0)
        die("send the pty master to console socket %s", S.o->console_socket);
      close(master);
      master = -1;
    }
    S.out_fd = S.in_fd = master;
  }
}

/* With another runtime: `<runtime> create` with the container's stdio (or a console socket for
 * its pty), then its init is ours to reap (we are a child subreaper and the runtime exits). */
static void create_external(const struct plan *p)
{
  int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1}, lfd = -1;
  char cpath[108] = "", msg[4096], buf[64];
  if (p->terminal) {
    lfd = console_listen(cpath, sizeof cpath);
    if (lfd < 0)
      die("console socket %s", cpath);
  } else if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
             (p->open_stdin && pipe2(in, O_CLOEXEC) < 0)) {
    die("pipe");
  }
  const char *argv[12] = {"create", "--bundle", S.o->bundle, "--pid-file", "init.pid"};
  int n = 5;
  if (lfd >= 0) {
    argv[n++] = "--console-socket";
    argv[n++] = cpath;
  }
  argv[n++] = S.o->id;
  argv[n] = NULL;
  unlink("init.pid");
  int code = runtime_cmd(S.o, argv, in[0], out[1], lfd >= 0 ? -1 : err[1], msg, sizeof msg);
  for (int i = 0; i < 2; i++) {
    if (i == 0 && in[0] >= 0)
      close(in[0]);
    if (i == 1) {
      if (out[1] >= 0)
        close(out[1]);
      if (err[1] >= 0)
        close(err[1]);
    }
  }
  if (code != 0) {
    if (lfd >= 0)
      unlink(cpath);
    die_msg("%s", msg);
  }
  int fd = open("init.pid", O_RDONLY | O_CLOEXEC);
  ssize_t r = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0)
    close(fd);
  buf[r > 0 ? r : 0] = '\0';
  S.init_pid = (pid_t)atoi(buf);
  if (S.init_pid <= 0)
    die_msg("%s create wrote no pid file", S.o->runtime);
  /* Like runc, the runtime must leave the init orphaned (re-parented to us, a subreaper): only
   * then can we reap its exit status. */
  siginfo_t si;
  if (waitid(P_PID, (id_t)S.init_pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD) {
    const char *argv[] = {"delete", "--force", S.o->id, NULL};
    runtime_cmd(S.o, argv, -1, -1, -1, msg, sizeof msg);
    S.init_pid = 0;
    die_msg("%s keeps the container's process as its own child; berth needs runc's model, where the "
            "process is re-parented to the caller",
            S.o->runtime);
  }
  if (lfd >= 0) {
    int master = console_recv(lfd, 10000);
    close(lfd);
    unlink(cpath);
    if (master < 0)
      die_msg("%s sent no pty master to the console socket", S.o->runtime);
    S.out_fd = S.in_fd = master;
  } else {
    S.out_fd = out[0];
    S.err_fd = err[0];
    S.in_fd = in[1];
  }
}

static void set_nonblock(int fd)
{
  if (fd >= 0)
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int shim_run(const struct plan *p, const struct shim_opts *o)
{
  int rep[2];
  int report_out = o->inherit_stdio ? 3 : 1;
  if (pipe2(rep, O_CLOEXEC) < 0) {
    dprintf(report_out, "error pipe: %s\n", strerror(errno));
    return 1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    dprintf(report_out, "error fork: %s\n", strerror(errno));
    return 1;
  }
  if (pid > 0) {
    /* The process berthd spawned: relay the shim's one-line report and exit. */
    char buf[4800];
    size_t n = 0;
    close(rep[1]);
    while (n < sizeof buf - 1) {
      ssize_t r = read(rep[0], buf + n, sizeof buf - 1 - n);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      n += (size_t)r;
      if (memchr(buf, '\n', n))
        break;
    }
    if (n == 0) {
      dprintf(report_out, "error shim exited during create\n");
      return 1;
    }
    write_all(report_out, buf, n);
    return strncmp(buf, "ok ", 3) ? 1 : 0;
  }

  close(rep[0]);
  memset(&S, 0, sizeof S);
  S.p = p;
  S.o = o;
  S.report_fd = rep[1];
  S.sync_fd = S.listen_fd = S.log_fd = S.out_fd = S.err_fd = S.in_fd = -1;
  S.inh[0] = S.inh[1] = S.inh[2] = -1;
  die_hook = die_to_report;
  if (o->inherit_stdio) {
    for (int i = 0; i < 3; i++)
      S.inh[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
    close(3); /* the caller's report pipe: ours is rep[1] */
  }
  /* Detach from berthd: own session, no stdio of its own, so it outlives berthd and berthd's
   * pipes see EOF when the spawned process exits. */
  setsid();
  int devnull = open("/dev/null", O_RDWR);
  if (devnull < 0)
    die("open /dev/null");
  for (int i = 0; i < 3; i++)
    dup2(devnull, i);
  if (devnull > 2)
    close(devnull);
  if (chdir(o->state_dir) < 0)
    die("chdir %s", o->state_dir);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    die("prctl PR_SET_CHILD_SUBREAPER");
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  S.sig_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (S.sig_fd < 0)
    die("signalfd");
  char pidbuf[32];
  snprintf(pidbuf, sizeof pidbuf, "%d\n", (int)getpid());
  write_state_file("shim.pid", pidbuf, 0);
  unlink("exit.json");
  if (p->log_path) {
    S.log_fd = open(p->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (S.log_fd < 0)
      die("open log %s", p->log_path);
    struct stat st;
    if (fstat(S.log_fd, &st) == 0)
      S.log_size = (uint64_t)st.st_size;
  }

  if (o->runtime)
    create_external(p);
  else
    create(p);
  close_inherited();
  set_nonblock(S.out_fd);
  set_nonblock(S.err_fd);
  set_nonblock(S.in_fd);
  listen_sock();

  dprintf(S.report_fd, "ok %d %d\n", (int)S.init_pid, (int)getpid());
  close(S.report_fd);
  S.report_fd = -1;
  serve();
}
