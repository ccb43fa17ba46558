/*
 * exsandbox.c - the sandbox inside an exercise's program (see sandbox.h).
 *
 * Linked first into every exercise program, so that its entry in
 * .preinit_array runs before any code of the learner's file (their
 * constructors run from .init_array, later; ThreadSanitizer's own
 * preinit entry comes before this one and sets up its shadow unhindered).
 * From then on the seccomp filter holds for the rest of the program's
 * life: a filter can be added to, never removed. A denied call raises
 * SIGSYS; the handler says on the channel what was denied and ends the
 * program, so the grader can name it. The learner's code cannot install
 * a SIGSYS handler of its own (that call is denied too).
 *
 * Without libseccomp at build time (CD_HAVE_SECCOMP unset) the program
 * still reports, says "filter off", and the grader says so.
 */
#define _GNU_SOURCE /* REG_RDI, syscall() */

#include "sandbox.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef CD_HAVE_SECCOMP
#include <sched.h> /* CLONE_THREAD */
#include <seccomp.h>
#include <sys/mman.h> /* MAP_FIXED */
#endif

static int chan = -1; /* the grader's channel, or -1 */

/* Appends s to buf at *n, within size. Async-signal-safe. */
static void put(char *buf, size_t size, size_t *n, const char *s)
{
    while (*s && *n < size)
        buf[(*n)++] = *s++;
}

/* One line to the grader, in one write. Raw syscall: async-signal-safe,
 * and past ThreadSanitizer's interceptors. */
static void say(const char *line)
{
    char buf[256];
    size_t n = 0;
    if (chan < 0)
        return;
    put(buf, sizeof buf - 1, &n, line);
    buf[n++] = '\n';
    long rc = syscall(SYS_write, chan, buf, n);
    (void)rc; /* the grader counts a missing line as what it is */
}

int __wrap_main(int argc, char **argv, char **envp)
{
    say("main");
    return __real_main(argc, argv, envp);
}

#ifdef CD_HAVE_SECCOMP

static void put_num(char *buf, size_t size, size_t *n, long long v)
{
    char digits[24];
    int k = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                                 : (unsigned long long)v;
    if (v < 0)
        put(buf, size, n, "-");
    do
        digits[k++] = (char)('0' + u % 10);
    while ((u /= 10) && k < (int)sizeof digits);
    while (k > 0 && *n < size)
        buf[(*n)++] = digits[--k];
}

/* What is denied, and when. */
enum when {
    ALWAYS,
    NOT_THREAD, /* clone without CLONE_THREAD: a new process */
    NOT_SELF,   /* the first argument (a pid) is not this process */
    SETS_LIMIT, /* prlimit64 with a new limit */
    BIG_MAP,    /* a mapping over the limit, not at a fixed address */
    BIG_REMAP,  /* a mapping grown over the limit */
    ENOSYS_,    /* not denied: says "not here" (clone3: glibc falls back
                   to clone, which the filter can read) */
    SIGSYS_,    /* a handler for SIGSYS: EPERM, ours stays */
};

typedef struct rule {
    const char *name;
    enum when when;
} rule_t;

static const rule_t rules[] = {
    { "fork", ALWAYS }, { "vfork", ALWAYS }, { "clone", NOT_THREAD },
    { "clone3", ENOSYS_ }, { "execve", ALWAYS }, { "execveat", ALWAYS },
    { "kill", NOT_SELF }, { "tgkill", NOT_SELF }, { "tkill", ALWAYS },
    { "rt_sigqueueinfo", NOT_SELF }, { "rt_tgsigqueueinfo", NOT_SELF },
    { "pidfd_send_signal", ALWAYS }, { "pidfd_getfd", ALWAYS },
    { "ptrace", ALWAYS }, { "process_vm_readv", ALWAYS },
    { "process_vm_writev", ALWAYS }, { "setsid", ALWAYS },
    { "setpgid", ALWAYS }, { "setrlimit", ALWAYS },
    { "prlimit64", SETS_LIMIT }, { "mmap", BIG_MAP },
    { "mremap", BIG_REMAP }, { "rt_sigaction", SIGSYS_ },
    /* What root could do to the machine. */
    { "reboot", ALWAYS }, { "kexec_load", ALWAYS },
    { "kexec_file_load", ALWAYS }, { "init_module", ALWAYS },
    { "finit_module", ALWAYS }, { "delete_module", ALWAYS },
    { "mount", ALWAYS }, { "umount2", ALWAYS }, { "pivot_root", ALWAYS },
    { "chroot", ALWAYS }, { "unshare", ALWAYS }, { "setns", ALWAYS },
    { "swapon", ALWAYS }, { "swapoff", ALWAYS },
    { "settimeofday", ALWAYS }, { "clock_settime", ALWAYS },
    { "clock_adjtime", ALWAYS }, { "adjtimex", ALWAYS },
    { "sethostname", ALWAYS }, { "setdomainname", ALWAYS },
    { "acct", ALWAYS }, { "iopl", ALWAYS }, { "ioperm", ALWAYS },
    { "bpf", ALWAYS }, { "perf_event_open", ALWAYS },
    { "io_uring_setup", ALWAYS }, { "keyctl", ALWAYS },
    { "add_key", ALWAYS }, { "request_key", ALWAYS },
    { "quotactl", ALWAYS }, { "syslog", ALWAYS }, { "vhangup", ALWAYS },
    { "mknod", ALWAYS }, { "mknodat", ALWAYS },
    { "open_by_handle_at", ALWAYS }, { "fanotify_init", ALWAYS },
    { "fsopen", ALWAYS }, { "fsmount", ALWAYS }, { "move_mount", ALWAYS },
    { "open_tree", ALWAYS },
};
#define NRULES (sizeof rules / sizeof rules[0])

static int numbers[NRULES]; /* each rule's syscall number here, or < 0 */

/* SIGSYS from the filter: say what was denied, end the program. */
static void on_denied(int sig, siginfo_t *si, void *ctx)
{
    char line[160];
    size_t n = 0;
    long long arg[3] = { 0, 0, 0 };
    const char *name = "unknown";
    (void)sig;
    for (size_t i = 0; i < NRULES; i++)
        if (numbers[i] >= 0 && numbers[i] == si->si_syscall)
            name = rules[i].name;
#if defined(__x86_64__)
    const ucontext_t *uc = ctx;
    arg[0] = uc->uc_mcontext.gregs[REG_RDI];
    arg[1] = uc->uc_mcontext.gregs[REG_RSI];
    arg[2] = uc->uc_mcontext.gregs[REG_RDX];
#else
    (void)ctx;
#endif
    put(line, sizeof line, &n, "denied ");
    put(line, sizeof line, &n, name);
    for (int i = 0; i < 3; i++) {
        put(line, sizeof line, &n, " ");
        put_num(line, sizeof line, &n, arg[i]);
    }
    line[n < sizeof line ? n : sizeof line - 1] = '\0';
    say(line);
    syscall(SYS_exit_group, CD_SANDBOX_EXIT);
}

/* Adds rule i to ctx. Returns 0, or -errno (-EDOM: no such call here,
 * nothing to deny). */
static int add_rule(scmp_filter_ctx ctx, size_t i, long self,
                    unsigned long long map_limit)
{
    const uint32_t trap = SCMP_ACT_TRAP;
    int nr = seccomp_syscall_resolve_name(rules[i].name);
    numbers[i] = nr;
    if (nr == __NR_SCMP_ERROR || nr < 0)
        return -EDOM;
    switch (rules[i].when) {
    case ALWAYS:
        return seccomp_rule_add(ctx, trap, nr, 0);
    case NOT_THREAD:
        return seccomp_rule_add(ctx, trap, nr, 1,
                                SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
    case NOT_SELF:
        return seccomp_rule_add(ctx, trap, nr, 1,
                                SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)self));
    case SETS_LIMIT:
        return seccomp_rule_add(ctx, trap, nr, 1, SCMP_A2(SCMP_CMP_NE, 0));
    case BIG_MAP:
        return seccomp_rule_add(ctx, trap, nr, 2,
                                SCMP_A1(SCMP_CMP_GT, map_limit),
                                SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_FIXED, 0));
    case BIG_REMAP:
        return seccomp_rule_add(ctx, trap, nr, 1,
                                SCMP_A2(SCMP_CMP_GT, map_limit));
    case ENOSYS_:
        return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    case SIGSYS_:
        return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                                SCMP_A0(SCMP_CMP_EQ, SIGSYS));
    }
    return -EINVAL;
}

/* Installs the filter on every thread there is (ThreadSanitizer may have
 * started one). Returns NULL, or why not. */
static const char *install_filter(unsigned long long map_limit)
{
    struct sigaction sa = { .sa_sigaction = on_denied,
                            .sa_flags = SA_SIGINFO };
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) != 0)
        return "cannot catch SIGSYS";
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return "seccomp_init failed";
    const char *why = NULL;
    long self = (long)getpid();
    for (size_t i = 0; i < NRULES && !why; i++) {
        int rc = add_rule(ctx, i, self, map_limit);
        if (rc != 0 && rc != -EDOM)
            why = "a rule was refused";
    }
    if (!why && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
        why = "cannot apply it to every thread";
    if (!why && seccomp_load(ctx) != 0)
        why = "the kernel refused it (seccomp_load)";
    seccomp_release(ctx);
    return why;
}

#else

static const char *install_filter(unsigned long long map_limit)
{
    (void)map_limit;
    return "concdemo was built without libseccomp (apt-get install "
           "libseccomp-dev, then make clean all)";
}

#endif

/* Before any code of the learner's file: the filter and the
 * first report. Run by hand (no $CONCDEMO_SANDBOX), the program is left
 * as it is. */
static void sandbox_start(int argc, char **argv, char **envp)
{
    const size_t len = strlen(CD_SANDBOX_ENV);
    const char *cfg = NULL;
    char *end;
    (void)argc;
    (void)argv;
    /* envp, not getenv(): the dynamic linker runs .preinit_array before
     * libc has set up environ. */
    for (char **e = envp; e && *e && !cfg; e++)
        if (strncmp(*e, CD_SANDBOX_ENV, len) == 0 && (*e)[len] == '=')
            cfg = *e + len + 1;
    if (!cfg)
        return;
    long fd = strtol(cfg, &end, 10);
    unsigned long long limit = strtoull(end, &end, 10);
    int off = strcmp(end, " off") == 0;
    if (fd < 3 || (*end && !off) || limit == 0)
        return;
    chan = (int)fd;
    const char *why = off ? "turned off (CONCDEMO_SANDBOX_FILTER=off)"
                          : install_filter(limit);
    if (why) {
        char line[200];
        size_t n = 0;
        put(line, sizeof line - 1, &n, "filter off ");
        put(line, sizeof line - 1, &n, why);
        line[n] = '\0';
        say(line);
    } else {
        say("filter on");
    }
}

__attribute__((used, section(".preinit_array")))
static void (*const sandbox_entry)(int, char **, char **) = sandbox_start;
