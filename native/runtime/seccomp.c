/* seccomp.c: the container's seccomp filter. TypeScript resolved which rules apply (profile,
 * capabilities, architecture); libseccomp turns syscall names into numbers per architecture and
 * encodes the BPF. Rules repeating an argument index are split into one rule per condition, as
 * runc does (libseccomp refuses two conditions on one argument). */
#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "berth.h"

static scmp_filter_ctx ctx;

static uint32_t action(const char *name, unsigned int errno_ret)
{
  if (!strcmp(name, "allow"))
    return SCMP_ACT_ALLOW;
  if (!strcmp(name, "errno"))
    return SCMP_ACT_ERRNO(errno_ret);
  if (!strcmp(name, "kill"))
    return SCMP_ACT_KILL_THREAD;
  if (!strcmp(name, "kill_process"))
    return SCMP_ACT_KILL_PROCESS;
  if (!strcmp(name, "trap"))
    return SCMP_ACT_TRAP;
  if (!strcmp(name, "trace"))
    return SCMP_ACT_TRACE(errno_ret);
  if (!strcmp(name, "log"))
    return SCMP_ACT_LOG;
  die_msg("seccomp: unknown action \"%s\"", name);
}

static enum scmp_compare op(const char *name)
{
  static const struct {
    const char *name;
    enum scmp_compare op;
  } ops[] = {{"ne", SCMP_CMP_NE}, {"lt", SCMP_CMP_LT}, {"le", SCMP_CMP_LE},       {"eq", SCMP_CMP_EQ},
             {"ge", SCMP_CMP_GE}, {"gt", SCMP_CMP_GT}, {"masked_eq", SCMP_CMP_MASKED_EQ}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (!strcmp(ops[i].name, name))
      return ops[i].op;
  die_msg("seccomp: unknown operator \"%s\"", name);
}

static void add(uint32_t act, int nr, const struct plan_seccomp_rule *r, const struct scmp_arg_cmp *args, unsigned int n)
{
  int rc = seccomp_rule_add_array(ctx, act, nr, n, args);
  /* -EACCES/-EEXIST: the rule equals the default action, or libseccomp merged it. */
  if (rc < 0 && rc != -EACCES && rc != -EEXIST) {
    errno = -rc;
    die("seccomp: add rule for %s", r->syscall);
  }
}

void seccomp_prepare(const struct plan *p)
{
  if (!p->seccomp_default)
    return;
  ctx = seccomp_init(action(p->seccomp_default, p->seccomp_errno));
  if (!ctx)
    die_msg("seccomp: init failed");
  /* no_new_privs is the plan's decision, not libseccomp's default. */
  if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
    die_msg("seccomp: cannot clear the no_new_privs attribute");
  for (size_t i = 0; i < p->n_seccomp_archs; i++) {
    uint32_t arch = seccomp_arch_resolve_name(p->seccomp_archs[i]);
    if (!arch)
      die_msg("seccomp: unknown architecture \"%s\"", p->seccomp_archs[i]);
    int rc = seccomp_arch_add(ctx, arch);
    if (rc < 0 && rc != -EEXIST) {
      errno = -rc;
      die("seccomp: add architecture %s", p->seccomp_archs[i]);
    }
  }
  for (size_t i = 0; i < p->n_seccomp_rules; i++) {
    const struct plan_seccomp_rule *r = &p->seccomp_rules[i];
    int nr = seccomp_syscall_resolve_name(r->syscall);
    if (nr == __NR_SCMP_ERROR)
      continue; /* not a syscall on this kernel/architecture: runc skips it too */
    uint32_t act = action(r->action, r->errno_ret);
    struct scmp_arg_cmp args[6];
    unsigned int n = 0, repeats = 0;
    for (size_t k = 0; k < r->n_args && n < 6; k++) {
      const struct plan_seccomp_arg *a = &p->seccomp_args[r->first_arg + k];
      for (unsigned int j = 0; j < n; j++)
        repeats |= args[j].arg == a->index;
      args[n++] = (struct scmp_arg_cmp){a->index, op(a->op), a->value, a->value2};
    }
    if (!repeats)
      add(act, nr, r, args, n);
    else
      for (unsigned int j = 0; j < n; j++)
        add(act, nr, r, &args[j], 1);
  }
}

void seccomp_apply(void)
{
  if (!ctx)
    return;
  int rc = seccomp_load(ctx);
  if (rc < 0) {
    errno = -rc;
    die("seccomp: load filter");
  }
}
