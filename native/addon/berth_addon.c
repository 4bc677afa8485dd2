/*
 * berth_addon: the few syscalls berthd itself needs and Node does not offer (mount, umount2,
 * mknod, the l*xattr family). Plain N-API (node_api.h), so no npm package is needed to build it.
 *
 * Every function is synchronous: these calls are fast and do not block on the network.
 * On failure a JS Error is thrown with `code` set to the errno name (ENOENT, EPERM, ...),
 * `errno` set to the number, `syscall` set to the call's name, and the message
 * "<syscall> <path>: <strerror>", like Node's own fs errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_ARGS 6

/* Frees a heap string at scope exit. */
static void free_str(char **p) { free(*p); }
#define AUTO_STR __attribute__((cleanup(free_str))) char *

/* Throws the errno `err` as a Node-style system error. Always returns NULL for convenience. */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  const char *name = strerrorname_np(err);
  char msg[4352];
  snprintf(msg, sizeof msg, "%s %s: %s", syscall, path ? path : "", strerror(err));
  napi_value code, message, error, errnum, sc;
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, error, "syscall", sc);
  if (path) {
    napi_value p;
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &p);
    napi_set_named_property(env, error, "path", p);
  }
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

/* Reads args[i] as a newly allocated UTF-8 string. NULL (with a pending exception) on failure.
 * When `nullable`, JS null/undefined yield NULL with *ok set and no exception. */
static char *get_string(napi_env env, napi_value v, const char *what, int nullable, int *ok) {
  napi_valuetype t;
  *ok = 0;
  napi_typeof(env, v, &t);
  if (nullable && (t == napi_null || t == napi_undefined)) {
    *ok = 1;
    return NULL;
  }
  if (t != napi_string) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a string", what);
    throw_type(env, msg);
    return NULL;
  }
  size_t len;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  char *s = malloc(len + 1);
  if (!s) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) {
    free(s);
    char msg[128];
    snprintf(msg, sizeof msg, "%s must not contain NUL bytes", what);
    throw_type(env, msg);
    return NULL;
  }
  *ok = 1;
  return s;
}

static int get_number(napi_env env, napi_value v, const char *what, double *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a number", what);
    throw_type(env, msg);
    return 0;
  }
  napi_get_value_double(env, v, out);
  return 1;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *args) {
  size_t argc = MAX_ARGS;
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  if (argc < want) {
    char msg[64];
    snprintf(msg, sizeof msg, "expected %zu arguments, got %zu", want, argc);
    throw_type(env, msg);
    return 0;
  }
  return 1;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* mount(source: string|null, target: string, fstype: string|null, flags: number, data: string|null) */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  int ok;
  double flags;
  if (!get_args(env, info, 5, a)) return NULL;
  AUTO_STR source = get_string(env, a[0], "source", 1, &ok);
  if (!ok) return NULL;
  AUTO_STR target = get_string(env, a[1], "target", 0, &ok);
  if (!ok) return NULL;
  AUTO_STR fstype = get_string(env, a[2], "fstype", 1, &ok);
  if (!ok) return NULL;
  if (!get_number(env, a[3], "flags", &flags)) return NULL;
  AUTO_STR data = get_string(env, a[4], "data", 1, &ok);
  if (!ok) return NULL;
  if (mount(source, target, fstype, (unsigned long)flags, data) != 0)
    return throw_errno(env, errno, "mount", target);
  return undefined(env);
}

/* umount2(target: string, flags: number) */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  int ok;
  double flags;
  if (!get_args(env, info, 2, a)) return NULL;
  AUTO_STR target = get_string(env, a[0], "target", 0, &ok);
  if (!ok) return NULL;
  if (!get_number(env, a[1], "flags", &flags)) return NULL;
  if (umount2(target, (int)flags) != 0) return throw_errno(env, errno, "umount2", target);
  return undefined(env);
}

/* chroot(path: string): changes the root of the whole process, then its cwd to the new root.
 * Only for the short-lived archive worker (src/platform/archive-worker), never berthd. */
static napi_value js_chroot(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  int ok;
  if (!get_args(env, info, 1, a)) return NULL;
  AUTO_STR path = get_string(env, a[0], "path", 0, &ok);
  if (!ok) return NULL;
  if (chroot(path) != 0) return throw_errno(env, errno, "chroot", path);
  if (chdir("/") != 0) return throw_errno(env, errno, "chdir", "/");
  return undefined(env);
}

/* mknod(path: string, mode: number (type bits | permissions), major: number, minor: number) */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  int ok;
  double mode, major_, minor_;
  if (!get_args(env, info, 4, a)) return NULL;
  AUTO_STR path = get_string(env, a[0], "path", 0, &ok);
  if (!ok) return NULL;
  if (!get_number(env, a[1], "mode", &mode) || !get_number(env, a[2], "major", &major_) ||
      !get_number(env, a[3], "minor", &minor_))
    return NULL;
  if (mknod(path, (mode_t)mode, makedev((unsigned)major_, (unsigned)minor_)) != 0)
    return throw_errno(env, errno, "mknod", path);
  return undefined(env);
}

/* lsetxattr(path: string, name: string, value: Buffer|Uint8Array, flags: number) */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  int ok;
  double flags;
  bool is_typed;
  if (!get_args(env, info, 4, a)) return NULL;
  AUTO_STR path = get_string(env, a[0], "path", 0, &ok);
  if (!ok) return NULL;
  AUTO_STR name = get_string(env, a[1], "name", 0, &ok);
  if (!ok) return NULL;
  napi_is_typedarray(env, a[2], &is_typed);
  if (!is_typed) return throw_type(env, "value must be a Buffer or Uint8Array");
  napi_typedarray_type tt;
  size_t len;
  void *data;
  napi_get_typedarray_info(env, a[2], &tt, &len, &data, NULL, NULL);
  if (tt != napi_uint8_array) return throw_type(env, "value must be a Buffer or Uint8Array");
  if (!get_number(env, a[3], "flags", &flags)) return NULL;
  if (lsetxattr(path, name, len ? data : "", len, (int)flags) != 0)
    return throw_errno(env, errno, "lsetxattr", path);
  return undefined(env);
}

/* lgetxattr(path: string, name: string): Buffer | null (null when the attribute is absent) */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  int ok;
  if (!get_args(env, info, 2, a)) return NULL;
  AUTO_STR path = get_string(env, a[0], "path", 0, &ok);
  if (!ok) return NULL;
  AUTO_STR name = get_string(env, a[1], "name", 0, &ok);
  if (!ok) return NULL;
  for (;;) {
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) {
      if (errno == ENODATA) {
        napi_value n;
        napi_get_null(env, &n);
        return n;
      }
      return throw_errno(env, errno, "lgetxattr", path);
    }
    void *buf;
    napi_value result;
    napi_create_buffer(env, (size_t)size, &buf, &result);
    ssize_t got = size ? lgetxattr(path, name, buf, (size_t)size) : 0;
    if (got < 0) {
      if (errno == ERANGE) continue; /* grew between the two calls: retry */
      if (errno == ENODATA) {
        napi_value n;
        napi_get_null(env, &n);
        return n;
      }
      return throw_errno(env, errno, "lgetxattr", path);
    }
    if (got == size) return result;
    napi_value shorter;
    napi_create_buffer_copy(env, (size_t)got, buf, NULL, &shorter);
    return shorter;
  }
}

/* llistxattr(path: string): string[] */
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  int ok;
  if (!get_args(env, info, 1, a)) return NULL;
  AUTO_STR path = get_string(env, a[0], "path", 0, &ok);
  if (!ok) return NULL;
  for (;;) {
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) return throw_errno(env, errno, "llistxattr", path);
    AUTO_STR buf = malloc((size_t)size + 1);
    if (!buf) return throw_errno(env, ENOMEM, "llistxattr", path);
    ssize_t got = size ? llistxattr(path, buf, (size_t)size) : 0;
    if (got < 0) {
      if (errno == ERANGE) continue;
      return throw_errno(env, errno, "llistxattr", path);
    }
    napi_value arr;
    napi_create_array(env, &arr);
    uint32_t i = 0;
    for (ssize_t off = 0; off < got;) {
      size_t n = strnlen(buf + off, (size_t)(got - off));
      napi_value s;
      napi_create_string_utf8(env, buf + off, n, &s);
      napi_set_element(env, arr, i++, s);
      off += (ssize_t)n + 1;
    }
    return arr;
  }
}

/* lremovexattr(path: string, name: string) */
static napi_value js_lremovexattr(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  int ok;
  if (!get_args(env, info, 2, a)) return NULL;
  AUTO_STR path = get_string(env, a[0], "path", 0, &ok);
  if (!ok) return NULL;
  AUTO_STR name = get_string(env, a[1], "name", 0, &ok);
  if (!ok) return NULL;
  if (lremovexattr(path, name) != 0) return throw_errno(env, errno, "lremovexattr", path);
  return undefined(env);
}

/* Writes `text` to /proc/<pid>/<name>. 0 or -errno. */
static int write_proc(pid_t pid, const char *name, const char *text) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t len = strlen(text);
  ssize_t n = write(fd, text, len);
  int err = n < 0 ? errno : (size_t)n != len ? EIO : 0;
  close(fd);
  return -err;
}

/* A user namespace with these maps ("inner outer count\n" lines, as in /proc/<pid>/uid_map), held
 * by an fd: a child is cloned into a new user namespace, its maps written, its ns file opened, and
 * the child ends. Returns the fd, or -errno with *step naming what failed. */
static int userns_fd(const char *uid_map, const char *gid_map, const char **step) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return *step = "pipe", -errno;
  /* Raw clone: the child only blocks on read() and _exit()s, which is safe in a threaded process. */
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, NULL);
  if (pid < 0) {
    int err = errno;
    close(p[0]);
    close(p[1]);
    return *step = "clone", -err;
  }
  if (pid == 0) {
    char c;
    close(p[1]);
    while (read(p[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(p[0]);
  int r = write_proc(pid, "uid_map", uid_map);
  if (r < 0) *step = "write uid_map";
  if (r == 0 && (r = write_proc(pid, "gid_map", gid_map)) < 0) *step = "write gid_map";
  int fd = -1;
  if (r == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) r = -errno, *step = "open user namespace";
  }
  close(p[1]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  return r < 0 ? r : fd;
}

/* idmapMounts(pairs: string[] [source, target, source, target, ...], uidMap: string, gidMap: string):
 * mounts each source directory at its target (which must exist) as an idmapped mount
 * (MOUNT_ATTR_IDMAP, non-recursive) with a user namespace of those maps: a file owned by id I on
 * disk appears owned by the host id that I maps to, so a layer unpacked with the container's ids
 * is seen by a container in a user namespace with the same maps as owned by its own ids. */
static napi_value js_idmap_mounts(napi_env env, napi_callback_info info) {
  napi_value a[MAX_ARGS];
  int ok;
  if (!get_args(env, info, 3, a)) return NULL;
  bool is_array;
  napi_is_array(env, a[0], &is_array);
  if (!is_array) return throw_type(env, "pairs must be an array of strings");
  uint32_t n;
  napi_get_array_length(env, a[0], &n);
  if (n % 2) return throw_type(env, "pairs must hold source, target pairs");
  AUTO_STR uid_map = get_string(env, a[1], "uidMap", 0, &ok);
  if (!ok) return NULL;
  AUTO_STR gid_map = get_string(env, a[2], "gidMap", 0, &ok);
  if (!ok) return NULL;
  const char *step = "";
  int ns = userns_fd(uid_map, gid_map, &step);
  if (ns < 0) return throw_errno(env, -ns, step, NULL);
  /* On a failure the mounts made so far are detached again: all or nothing. */
  char **made = calloc(n / 2 + 1, sizeof *made);
  uint32_t nmade = 0;
  int err = 0;
  const char *failed = NULL;
  char *where = NULL;
  for (uint32_t i = 0; i < n && !failed; i += 2) {
    napi_value sv, tv;
    napi_get_element(env, a[0], i, &sv);
    napi_get_element(env, a[0], i + 1, &tv);
    char *source = get_string(env, sv, "source", 0, &ok);
    if (!ok) {
      failed = "";
      break;
    }
    char *target = get_string(env, tv, "target", 0, &ok);
    if (!ok) {
      free(source);
      failed = "";
      break;
    }
    int tree = open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)ns};
    if (tree < 0) failed = "open_tree";
    else if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) failed = "mount_setattr";
    else if (move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) failed = "move_mount";
    err = errno;
    if (tree >= 0) close(tree);
    if (failed) {
      where = strcmp(failed, "move_mount") ? source : target;
      free(where == source ? target : source);
    } else {
      made[nmade++] = target;
      free(source);
    }
  }
  close(ns);
  for (uint32_t i = 0; i < nmade; i++) {
    if (failed) umount2(made[i], MNT_DETACH);
    free(made[i]);
  }
  free(made);
  if (failed && *failed) {
    napi_value r = throw_errno(env, err, failed, where);
    free(where);
    return r;
  }
  if (failed) return NULL; /* a pending argument exception */
  return undefined(env);
}

static void set_const(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static void set_fn(napi_env env, napi_value obj, const char *name, napi_callback cb) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &f);
  napi_set_named_property(env, obj, name, f);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  set_fn(env, exports, "mount", js_mount);
  set_fn(env, exports, "umount2", js_umount2);
  set_fn(env, exports, "mknod", js_mknod);
  set_fn(env, exports, "chroot", js_chroot);
  set_fn(env, exports, "lsetxattr", js_lsetxattr);
  set_fn(env, exports, "lgetxattr", js_lgetxattr);
  set_fn(env, exports, "llistxattr", js_llistxattr);
  set_fn(env, exports, "lremovexattr", js_lremovexattr);
  set_fn(env, exports, "idmapMounts", js_idmap_mounts);

  napi_value c;
  napi_create_object(env, &c);
#define C(x) set_const(env, c, #x, (double)(x))
  C(MS_RDONLY); C(MS_NOSUID); C(MS_NODEV); C(MS_NOEXEC); C(MS_SYNCHRONOUS); C(MS_REMOUNT);
  C(MS_MANDLOCK); C(MS_DIRSYNC); C(MS_NOSYMFOLLOW); C(MS_NOATIME); C(MS_NODIRATIME); C(MS_BIND);
  C(MS_MOVE); C(MS_REC); C(MS_SILENT); C(MS_POSIXACL); C(MS_UNBINDABLE); C(MS_PRIVATE);
  C(MS_SLAVE); C(MS_SHARED); C(MS_RELATIME); C(MS_STRICTATIME); C(MS_LAZYTIME);
  C(MNT_FORCE); C(MNT_DETACH); C(MNT_EXPIRE); C(UMOUNT_NOFOLLOW);
  C(S_IFMT); C(S_IFSOCK); C(S_IFLNK); C(S_IFREG); C(S_IFBLK); C(S_IFDIR); C(S_IFCHR); C(S_IFIFO);
  C(XATTR_CREATE); C(XATTR_REPLACE);
#undef C
  napi_set_named_property(env, exports, "constants", c);
  return exports;
}
